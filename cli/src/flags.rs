//! Checking the values of command-line flags that clap's types do not:
//! ranges, the worker count, output directories. Each check returns the
//! value to use or the message to print (exit status 2).

use std::path::Path;
use std::time::Duration;

/// `--timeout SECS`: above 0 and at most a day.
pub fn timeout(secs: f64) -> Result<Duration, String> {
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if secs > 0.0 && d <= Duration::from_secs(86_400) => Ok(d),
        _ => Err(format!(
            "--timeout must be a number of seconds above 0 and at most a day, got {}",
            // 1e300 is not shown with its 301 digits.
            match secs.abs() >= 1e9 {
                true => format!("{secs:e}"),
                false => format!("{secs}"),
            }
        )),
    }
}

/// `--jobs N`: at least 1. More workers than [`loweq_verify::max_jobs`]
/// only cost memory (each holds a z3 context), so a larger count is
/// lowered to that, with a warning to print.
pub fn jobs(requested: Option<usize>) -> Result<(Option<usize>, Option<String>), String> {
    let Some(n) = requested else {
        return Ok((None, None));
    };
    if n == 0 {
        return Err("--jobs must be at least 1".into());
    }
    let max = loweq_verify::max_jobs();
    if n > max {
        let cores = max / loweq_verify::JOBS_PER_CORE;
        let warning = format!(
            "--jobs {n} is more than {} workers per core ({cores} core{}); using {max}",
            loweq_verify::JOBS_PER_CORE,
            if cores == 1 { "" } else { "s" }
        );
        return Ok((Some(max), Some(warning)));
    }
    Ok((Some(n), None))
}

/// A count flag's text (`--jobs N`, `--runs N`, `--max-expansions N`),
/// for clap: a whole number, said in words when it is not (Rust's own
/// message for `-1` is "invalid digit found in string").
pub fn count(text: &str) -> Result<usize, String> {
    let t = text.trim();
    match t.parse::<usize>() {
        Ok(n) => Ok(n),
        Err(_) if t.starts_with('-') && t[1..].parse::<u128>().is_ok() => {
            Err("a count cannot be negative".into())
        }
        Err(_) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            Err("the number is too large".into())
        }
        Err(_) => Err("expected a whole number, as in `4`".into()),
    }
}

/// `--max-expansions N`: at least 1 (0 would make every rule that calls
/// a chained term an error).
pub fn max_expansions(n: usize) -> Result<usize, String> {
    if n == 0 {
        return Err("--max-expansions must be at least 1".into());
    }
    Ok(n)
}

/// `bench --runs N`: at least 1.
pub fn runs(n: usize) -> Result<usize, String> {
    if n == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(n)
}

/// `--smt-dir DIR`: created if missing, but only DIR itself: a missing
/// parent is more likely a typo than a wish for a new directory tree.
pub fn smt_dir(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(format!(
            "--smt-dir `{}` exists and is not a directory",
            dir.display()
        ));
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(format!(
                "--smt-dir `{}`: the directory `{}` does not exist; create it first",
                dir.display(),
                parent.display()
            ));
        }
    }
    std::fs::create_dir(dir).map_err(|e| {
        format!(
            "cannot create `{}`: {}",
            dir.display(),
            crate::run::io_reason(&e)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(timeout(-1.0).is_err());
        assert!(timeout(0.0).is_err());
        assert!(timeout(f64::NAN).is_err());
        assert!(timeout(86_401.0).is_err());
        assert_eq!(timeout(0.5), Ok(Duration::from_millis(500)));
        assert!(runs(0).is_err());
        assert_eq!(runs(2), Ok(2));
        assert!(jobs(Some(0)).is_err());
        assert_eq!(jobs(None), Ok((None, None)));
        assert_eq!(jobs(Some(1)), Ok((Some(1), None)));
        let (n, warning) = jobs(Some(100_000)).expect("lowered, not rejected");
        assert_eq!(n, Some(loweq_verify::max_jobs()));
        assert!(warning.is_some_and(|w| w.contains("--jobs 100000")));
        assert!(max_expansions(0).is_err());
        assert_eq!(max_expansions(5), Ok(5));
    }

    #[test]
    fn huge_timeouts_are_not_printed_digit_by_digit() {
        let e = timeout(1e300).expect_err("past a day");
        assert!(e.ends_with("got 1e300"), "{e}");
        let e = timeout(90_000.0).expect_err("past a day");
        assert!(e.ends_with("got 90000"), "{e}");
    }

    #[test]
    fn counts_are_read_in_words() {
        assert_eq!(count("4"), Ok(4));
        assert_eq!(count("-1"), Err("a count cannot be negative".into()));
        assert_eq!(
            count("99999999999999999999999"),
            Err("the number is too large".into())
        );
        assert_eq!(
            count("four"),
            Err("expected a whole number, as in `4`".into())
        );
    }
}
