//! The examples each command's `--help` ends with (`after_long_help`).
//! Each is a command as a person would type it; the tests below check
//! that every `loweq` line among them parses (its command and flags
//! exist, its values are accepted).

/// `loweq verify --help`.
pub const VERIFY: &str = "\
Examples:
  loweq verify                                  # the shipped rules of both backends
  loweq verify --arch aarch64 --rule iadd       # one shipped rule
  loweq verify --arch aarch64 my_rules.isle     # your rules against AArch64's shipped semantics
  loweq verify my_test.isle                     # a self-contained file (its own types, terms and specs)
  loweq verify --format json > report.json      # a report for tools (`--output sarif=r.sarif` for more)
  loweq verify --changed-since origin/main      # only the rules a change may affect";

/// `loweq merge --help`.
pub const MERGE: &str = "\
Examples:
  loweq verify --shard 1/2 --output json=shard1.json
  loweq verify --shard 2/2 --output json=shard2.json
  loweq merge shard1.json shard2.json           # the whole run's report and exit status
  loweq merge --format markdown report.json     # one report in another format";

/// `loweq bench --help`.
pub const BENCH: &str = "\
Examples:
  loweq bench                                   # both backends, best of 3 runs
  loweq bench --arch x64 --runs 5
  loweq bench --cache                           # cold run into an empty cache, then warm runs";

/// `loweq coverage --help`.
pub const COVERAGE: &str = "\
Examples:
  loweq coverage --arch x64                     # the shipped x86-64 rules
  loweq coverage --arch aarch64 my_rules.isle   # your rules, in place of the shipped ones
  loweq coverage --format json                  # both backends, one JSON document";

/// `loweq runtest --help`.
pub const RUNTEST: &str = "\
Examples:
  loweq runtest arith.clif                      # a line per run command, then the totals
  loweq runtest -q ../shared/clif-runtests/*.clif   # failures and totals only";

/// `loweq conform --help`.
pub const CONFORM: &str = "\
Examples:
  loweq conform                                 # both architectures, 10,000 vectors each
  loweq conform --arch x64 --inst x64_shl --vectors 100000
  loweq conform --list                          # the instruction terms each mapping runs
  loweq conform --bench                         # vectors per second";

/// `loweq repl --help`.
pub const REPL: &str = "\
Examples:
  loweq repl                                    # AArch64's shipped semantics
  loweq repl --arch x64 my_rules.isle           # x86-64's, then your file
  loweq repl < session.txt                      # a script: exits like `loweq verify`
Then, at the prompt:
  (rule my_iadd (lower (has_type (fits_in_64 ty) (iadd x y))) (a64_add (operand_size ty) x y))
  :eval i8 (ushr x y) x=0x80 y=1
  :help";

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// Every `loweq ...` line of the examples, without its comment and
    /// redirection, split at spaces.
    fn commands() -> Vec<Vec<String>> {
        [
            super::VERIFY,
            super::MERGE,
            super::BENCH,
            super::COVERAGE,
            super::RUNTEST,
            super::CONFORM,
            super::REPL,
        ]
        .iter()
        .flat_map(|e| e.lines())
        .filter_map(|l| l.trim().strip_prefix("loweq "))
        .map(|l| {
            let l = l.split('#').next().unwrap_or_default();
            let l = l.split(['<', '>']).next().unwrap_or_default();
            std::iter::once("loweq".to_string())
                .chain(l.split_whitespace().map(str::to_string))
                .collect()
        })
        .collect()
    }

    #[test]
    fn every_example_parses() {
        let all = commands();
        assert!(all.len() >= 20, "{all:?}");
        for args in all {
            if let Err(e) = crate::Cli::try_parse_from(&args) {
                panic!("{args:?}: {e}");
            }
        }
    }

    #[test]
    fn every_command_help_has_exit_statuses_and_examples() {
        use clap::CommandFactory;
        let mut cli = crate::Cli::command();
        for sub in cli.get_subcommands_mut() {
            if sub.get_name() == "help" {
                continue;
            }
            let help = sub.render_long_help().to_string();
            assert!(help.contains("Exit status"), "{}: {help}", sub.get_name());
            let examples = help.split_once("\nExamples:\n").map(|(_, e)| e);
            assert!(
                examples.is_some_and(|e| e.contains(&format!("  loweq {} ", sub.get_name()))),
                "{}: {help}",
                sub.get_name()
            );
        }
    }
}
