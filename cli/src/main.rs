//! `loweq`: verify instruction-lowering rules.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use loweq::cache::{self, DirStore};
use loweq::changed::Rev;
use loweq::doc::Doc;
use loweq::format::{self, Format, Output};
use loweq::run::{self, Target};
use loweq::shipped::Arch;
use loweq::{flags, progress, shard, text};
use loweq_verify::cache::Store;
use loweq_verify::{Options, Progress};

/// Proves instruction-lowering rules correct with z3.
///
/// loweq reads ISLE rules that lower a Cranelift-like IR to x86-64 or AArch64
/// instructions, with a `spec` for every term, and proves each rule correct at
/// every type it applies to (i8 to i64). A rule that is wrong gets a
/// counterexample: the inputs (with the junk upper bits of their registers),
/// the value of every term on both sides, and the condition that fails.
#[derive(Parser, Debug)]
#[command(name = "loweq", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Verify rules.
    ///
    /// Without FILE arguments: the shipped rules of both backends (or of the
    /// one given by --arch). With --arch and FILEs: the rules in FILE, checked
    /// against that architecture's shipped semantics, in place of its shipped
    /// rules. With FILEs and no --arch: exactly those files, which declare
    /// their own types, terms and specs.
    ///
    /// Exit status: 0 when everything verified, 1 when a rule is wrong, 2 on
    /// bad input (parse, type or spec errors, bad flags) or when nothing was
    /// checked (no rules, or all left out), 3 when the only problems are
    /// unknowns (timeouts).
    Verify(VerifyArgs),
    /// Combine the JSON reports of the shards of one run.
    ///
    /// Reads the reports of `loweq verify --shard I/N --format json` for
    /// every I, checks that they are the shards of one run (the same plan,
    /// each shard once), and prints the report of the whole run, as the
    /// unsharded run would have, in any format. One report of a whole run
    /// is printed as it is (to turn it into another format).
    ///
    /// Exit status: as `loweq verify` for the merged report; 2 when the
    /// reports cannot be read or are not the shards of one run.
    Merge(MergeArgs),
    /// Time the full verification of the shipped rules and print rules,
    /// instantiations, queries, seconds and the slowest instantiation of
    /// each run, then the five slowest of the best run.
    Bench(BenchArgs),
    /// Show which rules lower each IR operation at each type, and whether
    /// they verified.
    ///
    /// Verifies the rules (like `loweq verify`), then prints a table: a row
    /// per IR operation of semantics/spec/clif, a column per type, and in
    /// each cell how many rules lower it and its status: `ok` (every
    /// instantiation there has a verified rule that matches every
    /// instruction, and every rule that applies verified), `FAIL` (a rule
    /// that applies did not verify), `part` (some instantiation is lowered
    /// only by rules that match some instructions, such as an immediate
    /// operand), `none` (no rule). Then the cells that are not `ok`, with
    /// the reason, and a summary.
    ///
    /// Without FILEs: the shipped rules of both backends (or of --arch).
    /// With FILEs (and --arch): the rules in FILE, in place of the shipped
    /// rules of that architecture.
    ///
    /// Exit status: 0 when every cell is `ok`, 1 when a cell is uncovered or
    /// not verified, 2 on bad input.
    Coverage(CoverageArgs),
    /// Run Cranelift runtest files (`.clif`) against the IR specs.
    ///
    /// Every `; run: %f(args) == expected` command calls its function in an
    /// interpreter that evaluates each instruction through its IR spec (the
    /// same specs the verifier proves rules against), so a failure points
    /// at a spec. Prints a line per run command (pass, FAIL with the
    /// expected and actual values, or skip with the reason), the failures
    /// in full, the skipped commands grouped by reason, and a final line
    /// `N passed, N failed, N skipped`.
    ///
    /// Supported: functions with integer signatures (i8 to i128), blocks
    /// with parameters, jump/brif/return, and the integer instructions that
    /// have IR specs. A function using anything else (floats, vectors,
    /// memory, calls) is skipped with the reason. See docs/runtest.md.
    ///
    /// A call that executes more than --max-steps instructions (a long or
    /// endless loop) is stopped and reported `timeout`: that says nothing
    /// about the specs, so it is counted apart.
    ///
    /// Exit status: 0 when no run command failed or timed out and every
    /// file was read and parsed, 1 when a run command failed, 2 when a file
    /// could not be read or is malformed (and nothing failed), 3 when the
    /// only problems are timeouts.
    Runtest(RuntestArgs),
    /// Check the instruction specs against the machines themselves.
    ///
    /// For every instruction spec term of each architecture, at every
    /// operand size and variant, generates vectors (edge values, shift
    /// counts at and past the width, every flag combination, random values,
    /// junk in the upper bits of every source and of the destination's old
    /// value), evaluates the spec on each, runs the instruction (x86-64
    /// natively, AArch64 under qemu-aarch64) and compares the whole 64-bit
    /// destination and whether it trapped; where the spec does not declare
    /// `(modifies x64_flags)` (`a64_nzcv`), also that the condition flags
    /// are as they were. Prints a line per (instruction,
    /// variant), each first disagreement in full, the instruction terms that
    /// cannot run with the reason, and a summary. The mapping from spec terms
    /// to machine code is data: conform/map/<arch>.toml.
    ///
    /// AArch64 needs `qemu-aarch64` and the AArch64 binutils and gcc
    /// (Debian: apt-get install qemu-user binutils-aarch64-linux-gnu
    /// gcc-aarch64-linux-gnu).
    ///
    /// Exit status: 0 when spec and machine agree everywhere, 1 on any
    /// disagreement, 2 when a machine is unavailable (with how to install
    /// it), a check could not be done, or on bad input.
    Conform(ConformArgs),
    /// Write rules and see them proved or broken at once.
    ///
    /// Loads the shipped semantics of a backend (--arch, default aarch64;
    /// with FILEs and no --arch, the FILEs are self-contained), then the
    /// FILEs, then reads entries: ISLE declarations (type, decl, spec,
    /// rule, macro, ...) are added to the session, replacing earlier ones of
    /// the same name, and every rule entered is verified at once, with the
    /// counterexample printed as `loweq verify` prints it. An entry ends
    /// when its parentheses balance. Commands start with `:` (`:help` lists
    /// them): `:eval`, `:spec`, `:type`, `:rules`, `:why`, `:smt`, `:load`,
    /// `:reload`, `:arch`, `:timeout`, `:quit`.
    ///
    /// At a terminal: line editing, history kept across sessions, Tab
    /// completion, Ctrl-C cancels a running proof, Ctrl-D quits. With
    /// standard input from a pipe or file, entries are read from it and the
    /// results printed without prompts or colours; the exit status is then
    /// 1 if a rule had a counterexample, else 2 on any error, else 3 on an
    /// unknown verdict, else 0. See docs/repl.md.
    Repl(ReplArgs),
}

#[derive(clap::Args, Debug)]
struct ReplArgs {
    /// Files of rules and declarations to load.
    files: Vec<PathBuf>,
    /// The backend whose shipped semantics are loaded (default: aarch64,
    /// unless FILEs are given).
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// Per-query solver timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Keep the history in FILE (default: $XDG_STATE_HOME/loweq/repl_history
    /// or ~/.local/state/loweq/repl_history).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Keep no history.
    #[arg(long, conflicts_with = "history")]
    no_history: bool,
}

#[derive(clap::Args, Debug)]
struct ConformArgs {
    /// Restrict to one architecture.
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// Only this instruction term (repeatable).
    #[arg(long = "inst", value_name = "NAME")]
    insts: Vec<String>,
    /// Vectors run per (instruction, variant); where the spec's require excludes some, more are drawn (at most four times as many).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    vectors: usize,
    /// Seed of the random vectors.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    format: TextOrJson,
    /// Print vectors per second (end to end, spec evaluation included)
    /// and the time of the run instead of the report.
    #[arg(long)]
    bench: bool,
    /// List the instruction terms each mapping runs, and those it cannot.
    #[arg(long)]
    list: bool,
}

#[derive(clap::Args, Debug)]
struct RuntestArgs {
    /// The `.clif` files to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only print failures, errors, timeouts and the totals.
    #[arg(long, short)]
    quiet: bool,
    /// Stop a call after N instructions: it is reported `timeout`, counted
    /// apart from failures.
    #[arg(long, value_name = "N", default_value_t = loweq_runtest::interp::STEP_LIMIT)]
    max_steps: usize,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// Rule files to check (see above).
    files: Vec<PathBuf>,
    /// Restrict to one architecture; with FILEs, the semantics to check them against.
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// Only verify the rule with this name (repeatable). A rule of a
    /// `(veri chain)` term is verified through the rules that call its term:
    /// naming it selects those.
    #[arg(long = "rule", value_name = "NAME")]
    rules: Vec<String>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write the report in FORMAT to FILE (repeatable), so one run
    /// gives several: `--output sarif=r.sarif --output junit=r.xml`.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = format::parse_output)]
    outputs: Vec<Output>,
    /// Per-query solver timeout in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Worker threads (default: all cores; at most 4 per core).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// How many expansions through chained terms one rule may have (a rule
    /// with more is an error that names this limit).
    #[arg(long, value_name = "N", default_value_t = loweq_verify::expand::DEFAULT_MAX_EXPANSIONS)]
    max_expansions: usize,
    /// Show progress on stderr (default: when stderr is a terminal): a bar on
    /// a terminal, a line every few seconds otherwise.
    #[arg(long, value_enum, default_value_t = When::Auto)]
    progress: When,
    /// Write every verification query to DIR in SMT-LIB, for debugging specs
    /// (DIR is created if missing; its parent must exist). Queries are then
    /// solved, not taken from the cache.
    #[arg(long, value_name = "DIR")]
    smt_dir: Option<PathBuf>,
    /// Keep verdicts between runs in DIR (default: $XDG_CACHE_HOME/loweq,
    /// else ~/.cache/loweq): a query already answered is not solved again.
    /// A directory that cannot be used gives a warning and a run without
    /// the cache.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the result cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Verify share I of N of the rules (a CI matrix job); `loweq merge`
    /// combines the shards' JSON reports. Shares are balanced by the
    /// estimated work of each rule and the same on every machine.
    #[arg(long, value_name = "I/N", value_parser = shard::parse)]
    shard: Option<shard::Shard>,
    /// Verify only the rules whose meaning may have changed since git
    /// revision REV (their text, or anything they use: terms, specs,
    /// macros, models, forms, instantiations, conversions, chained and
    /// higher-priority rules, states); the others are listed as skipped,
    /// with the reason.
    #[arg(long, value_name = "REV")]
    changed_since: Option<String>,
}

#[derive(clap::Args, Debug)]
struct MergeArgs {
    /// The JSON reports of every shard of one run (`loweq verify --shard
    /// I/N --format json`, or `--output json=FILE`).
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write the report in FORMAT to FILE (repeatable).
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = format::parse_output)]
    outputs: Vec<Output>,
}

#[derive(clap::Args, Debug)]
struct CoverageArgs {
    /// Rule files to use in place of the architecture's shipped rules
    /// (needs --arch).
    files: Vec<PathBuf>,
    /// Restrict to one architecture.
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    format: TextOrJson,
    /// Per-query solver timeout in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Worker threads (default: all cores; at most 4 per core).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// How many expansions through chained terms one rule may have.
    #[arg(long, value_name = "N", default_value_t = loweq_verify::expand::DEFAULT_MAX_EXPANSIONS)]
    max_expansions: usize,
    /// Show progress on stderr (default: when stderr is a terminal).
    #[arg(long, value_enum, default_value_t = When::Auto)]
    progress: When,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Restrict to one architecture.
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// How many times to run (at least 1).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    runs: usize,
    /// Worker threads (default: all cores; at most 4 per core).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// How many expansions through chained terms one rule may have (a rule
    /// with more is an error that names this limit).
    #[arg(long, value_name = "N", default_value_t = loweq_verify::expand::DEFAULT_MAX_EXPANSIONS)]
    max_expansions: usize,
    /// Per-query solver timeout in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Time the result cache: a cold run into an empty cache, then RUNS
    /// warm runs that answer from it, and the warm time as a share of the
    /// cold.
    #[arg(long)]
    cache: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TextOrJson {
    /// A line per rule, counterexamples in full, a summary line.
    Text,
    /// One JSON document (schema in README.md).
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum When {
    /// When stderr is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

fn target(files: Vec<PathBuf>, arch: Option<Arch>) -> Target {
    match (files.is_empty(), arch) {
        (true, Some(a)) => Target::Shipped(vec![a]),
        (true, None) => Target::Shipped(Arch::ALL.to_vec()),
        (false, Some(a)) => Target::ArchFiles(a, files),
        (false, None) => Target::Files(files),
    }
}

/// Writes to stdout; a reader that went away (`loweq verify | head`) is not
/// an error.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The worker count to use, after printing any warning about it.
fn jobs(requested: Option<usize>) -> Result<Option<usize>, String> {
    let (jobs, warning) = flags::jobs(requested)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    Ok(jobs)
}

fn verify(args: VerifyArgs) -> ExitCode {
    let checked = flags::timeout(args.timeout).and_then(|t| Ok((t, jobs(args.jobs)?)));
    let (timeout, jobs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    if let Some(dir) = &args.smt_dir {
        if let Err(e) = flags::smt_dir(dir) {
            return fail(&e);
        }
    }
    if let Err(e) = format::check_outputs(&args.outputs) {
        return fail(&e);
    }
    let store = match (args.no_cache, &args.smt_dir) {
        (true, _) | (false, Some(_)) => None,
        (false, None) => open_cache(args.cache_dir.as_deref()),
    };
    let options = Options {
        timeout,
        jobs,
        rules: args.rules,
        max_expansions: args.max_expansions,
        cache: store.clone().map(|s| s as Arc<dyn Store>),
        ..Options::default()
    };
    let show_progress = match args.progress {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    };
    let bar = progress::Reporter::new(show_progress, std::io::stderr().is_terminal());
    let progress = |p: Progress| bar.update(p);
    let target = target(args.files, args.arch);
    let changed_since = match args.changed_since.as_deref().map(Rev::open) {
        Some(Err(e)) => return fail(&e),
        Some(Ok(rev)) => Some(rev),
        None => None,
    };
    let how = run::How {
        shard: args.shard,
        changed_since,
    };
    let verified = run::verify_with(&target, &options, args.smt_dir.as_deref(), &progress, &how);
    let run = match verified {
        Ok(r) => r,
        Err(d) => {
            bar.finish();
            // The reports say it too, for the tools that read them.
            let mut doc = Doc::default();
            doc.add_problems(std::slice::from_ref(&d));
            doc.summary = doc.count(0.0);
            if args.format != Format::Text {
                emit(&args.format.render(&doc));
            }
            if let Err(e) = format::write_outputs(&doc, &args.outputs) {
                eprintln!("error: {e}");
            }
            let mut msg = d.message;
            for n in d.notes {
                msg.push_str(&format!("\n  = {n}"));
            }
            return fail(&msg);
        }
    };
    bar.finish();
    if let Some(store) = &store {
        cache_notes(store, &run);
    }
    for n in &run.notes {
        eprintln!("note: {n}");
    }
    if let Some(rev) = &how.changed_since {
        let skipped: usize = run.skipped.iter().map(Vec::len).sum();
        let checked: usize = run
            .groups
            .iter()
            .filter_map(|g| match &g.outcome {
                run::GroupOutcome::Verified(_, r) => Some(r.rules.len()),
                run::GroupOutcome::Rejected(_) => None,
            })
            .sum();
        eprintln!(
            "note: changed since `{}`: {checked} rules verified, {skipped} unchanged and skipped",
            rev.name
        );
    }
    if let Some(plan) = &run.shard {
        let (rules, work) = plan.share();
        eprintln!(
            "note: shard {}/{}: {rules} of {} rules, {:.0}% of the estimated work",
            plan.index,
            plan.count,
            plan.rules.len(),
            100.0 * work
        );
    }
    let doc = Doc::of(&run);
    emit(&args.format.render(&doc));
    if let Err(e) = format::write_outputs(&doc, &args.outputs) {
        return fail(&e);
    }
    ExitCode::from(doc.exit_code() as u8)
}

fn merge(args: MergeArgs) -> ExitCode {
    if let Err(e) = format::check_outputs(&args.outputs) {
        return fail(&e);
    }
    let mut reports = Vec::new();
    for path in &args.reports {
        let name = path.display().to_string();
        let text = match run::read_text(path) {
            Ok(t) => t,
            Err(e) => return fail(&format!("cannot read `{name}`: {e}")),
        };
        match serde_json::from_str::<Doc>(&text) {
            Ok(d) => reports.push((name, d)),
            Err(e) => {
                return fail(&format!(
                    "`{name}` is not a JSON report of `loweq verify`: {e}"
                ))
            }
        }
    }
    let doc = match shard::merge(reports) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    emit(&args.format.render(&doc));
    if let Err(e) = format::write_outputs(&doc, &args.outputs) {
        return fail(&e);
    }
    ExitCode::from(doc.exit_code() as u8)
}

/// The cache directory to use, if it can be: a warning says why not.
fn open_cache(dir: Option<&Path>) -> Option<Arc<DirStore>> {
    let Some(dir) = dir.map(Path::to_path_buf).or_else(cache::default_dir) else {
        eprintln!("warning: no cache directory ($XDG_CACHE_HOME and $HOME are unset); verifying without the result cache (--cache-dir DIR names one)");
        return None;
    };
    match DirStore::open(&dir) {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            eprintln!(
                "warning: cannot use the cache directory: {e}; verifying without the result cache"
            );
            None
        }
    }
}

/// What the cache did, on stderr: answers taken from it, files refused.
fn cache_notes(store: &DirStore, run: &run::Run) {
    let mut hits = 0;
    let mut all = 0;
    for g in &run.groups {
        if let run::GroupOutcome::Verified(_, r) = &g.outcome {
            hits += r.from_cache;
            all += r.checked;
        }
    }
    if hits > 0 {
        eprintln!(
            "note: {hits} of {all} checks answered from the cache in `{}`",
            store.dir().display()
        );
    }
    if store.rejected() > 0 {
        eprintln!(
            "warning: {} cache files were damaged or not loweq's: ignored, and written again",
            store.rejected()
        );
    }
    if store.unwritten() > 0 {
        eprintln!(
            "warning: {} results could not be written to the cache in `{}`",
            store.unwritten(),
            store.dir().display()
        );
    }
}

/// `bench --cache`: a cold run into an empty cache, then warm runs.
fn bench_cache(target: &Target, options: &Options, runs: usize) -> ExitCode {
    let dir = std::env::temp_dir().join(format!("loweq-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = match DirStore::open(&dir) {
        Ok(s) => Arc::new(s),
        Err(e) => return fail(&e),
    };
    let options = Options {
        cache: Some(store.clone() as Arc<dyn Store>),
        ..options.clone()
    };
    let timed = |what: &str| -> Result<f64, ExitCode> {
        let run = run::verify(target, &options, None, &|_| {}).map_err(|d| fail(&d.message))?;
        let totals = text::Totals::of(&run);
        let (mut checks, mut hits) = (0, 0);
        for g in &run.groups {
            if let run::GroupOutcome::Verified(_, r) = &g.outcome {
                checks += r.checked;
                hits += r.from_cache;
            }
        }
        println!(
            "{what}: {} rules, {} instantiations, {checks} checks ({hits} from the cache), {:.2} s",
            totals.rules, totals.instantiations, run.seconds
        );
        if run::exit_code(&run) != 0 {
            eprintln!("warning: not everything verified; run `loweq verify` for details");
        }
        Ok(run.seconds)
    };
    let cold = match timed("cold") {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut warm = f64::INFINITY;
    for i in 0..runs {
        match timed(&format!("warm {}", i + 1)) {
            Ok(s) => warm = warm.min(s),
            Err(c) => return c,
        }
    }
    println!(
        "cold {cold:.2} s, warm {warm:.2} s (best of {runs}): warm is {:.1}% of cold",
        100.0 * warm / cold
    );
    let _ = std::fs::remove_dir_all(&dir);
    ExitCode::SUCCESS
}

fn coverage(args: CoverageArgs) -> ExitCode {
    use loweq::coverage::{self, report};
    if !args.files.is_empty() && args.arch.is_none() {
        return fail("coverage of rule files needs --arch: the IR operations and instruction specs are those of an architecture");
    }
    let checked = flags::timeout(args.timeout).and_then(|t| Ok((t, jobs(args.jobs)?)));
    let (timeout, jobs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let options = Options {
        timeout,
        jobs,
        max_expansions: args.max_expansions,
        ..Options::default()
    };
    let show_progress = match args.progress {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    };
    let bar = progress::Reporter::new(show_progress, std::io::stderr().is_terminal());
    let progress = |p: Progress| bar.update(p);
    let target = target(args.files, args.arch);
    let run = match run::verify(&target, &options, None, &progress) {
        Ok(r) => r,
        Err(d) => {
            bar.finish();
            return fail(&d.message);
        }
    };
    bar.finish();
    let mut arches = Vec::new();
    for g in &run.groups {
        match (&g.outcome, g.arch) {
            (run::GroupOutcome::Verified(program, r), Some(arch)) => {
                arches.push(report::ArchCoverage {
                    arch,
                    sources: g.sources.clone(),
                    coverage: coverage::coverage(program, r),
                })
            }
            _ => {
                // Input that did not load: the verifier's report says why.
                emit(&text::report(&run));
                return ExitCode::from(2);
            }
        }
    }
    match args.format {
        TextOrJson::Text => emit(&report::text(&arches)),
        TextOrJson::Json => match serde_json::to_string_pretty(&report::json(&arches)) {
            Ok(s) => emit(&(s + "\n")),
            Err(e) => return fail(&format!("cannot write JSON: {e}")),
        },
    }
    match arches.iter().all(|a| a.coverage.complete()) {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}

fn bench(args: BenchArgs) -> ExitCode {
    let checked = flags::timeout(args.timeout)
        .and_then(|t| Ok((t, jobs(args.jobs)?, flags::runs(args.runs)?)));
    let (timeout, jobs, runs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let options = Options {
        timeout,
        jobs,
        max_expansions: args.max_expansions,
        ..Options::default()
    };
    let target = target(Vec::new(), args.arch);
    if args.cache {
        return bench_cache(&target, &options, runs);
    }
    let mut best = f64::INFINITY;
    // The slowest instantiations of the best run: (millis, arch, rule, label).
    let mut slowest_of_best: Vec<(u64, String, String, String)> = Vec::new();
    for i in 0..runs {
        let run = match run::verify(&target, &options, None, &|_| {}) {
            Ok(r) => r,
            Err(d) => return fail(&d.message),
        };
        let totals = text::Totals::of(&run);
        let mut queries = 0;
        let mut slowest: Option<(String, String, u64)> = None;
        for g in &run.groups {
            if let run::GroupOutcome::Verified(_, r) = &g.outcome {
                queries += r.queries();
                if let Some((rule, inst)) = r.slowest() {
                    if slowest.as_ref().is_none_or(|s| inst.millis > s.2) {
                        let arch = g.arch.map(|a| a.name()).unwrap_or("-");
                        slowest = Some((
                            format!("{arch} {}", rule.name),
                            inst.label.clone(),
                            inst.millis,
                        ));
                    }
                }
            }
        }
        if run.seconds < best {
            slowest_of_best = run
                .groups
                .iter()
                .filter_map(|g| match &g.outcome {
                    run::GroupOutcome::Verified(_, r) => Some((g.arch, r)),
                    run::GroupOutcome::Rejected(_) => None,
                })
                .flat_map(|(arch, r)| {
                    let arch = arch.map(|a| a.name()).unwrap_or("-");
                    r.instances().map(move |(rule, inst)| {
                        (
                            inst.millis,
                            arch.to_string(),
                            rule.name.clone(),
                            inst.label.clone(),
                        )
                    })
                })
                .collect();
            slowest_of_best.sort_by_key(|s| std::cmp::Reverse(s.0));
            slowest_of_best.truncate(5);
        }
        best = best.min(run.seconds);
        let slow = slowest
            .map(|(r, l, ms)| format!("{r} at {l}, {ms} ms"))
            .unwrap_or_else(|| "-".into());
        println!(
            "run {}: {} rules, {} instantiations, {} queries, {:.2} s (slowest: {slow})",
            i + 1,
            totals.rules,
            totals.instantiations,
            queries,
            run.seconds
        );
        if run::exit_code(&run) != 0 {
            eprintln!("warning: not everything verified; run `loweq verify` for details");
        }
    }
    println!("best: {best:.2} s");
    println!("slowest instantiations of the best run:");
    for (ms, arch, rule, label) in slowest_of_best {
        println!("  {ms:>6} ms  {arch} {rule} at {label}");
    }
    ExitCode::SUCCESS
}

fn runtest(args: RuntestArgs) -> ExitCode {
    let program = match loweq::runtest::ir_program() {
        Ok(p) => p,
        Err(diags) => {
            let msgs: Vec<String> = diags.into_iter().map(|d| d.message).collect();
            return fail(&format!(
                "the shipped IR specs do not load (a bug in loweq):\n  {}",
                msgs.join("\n  ")
            ));
        }
    };
    if args.max_steps == 0 {
        return fail("--max-steps must be at least 1");
    }
    let run = loweq::runtest::run(&program, &args.files, args.max_steps);
    emit(&loweq::runtest::report(&run, args.quiet));
    ExitCode::from(run.exit_code())
}

fn conform(args: ConformArgs) -> ExitCode {
    use loweq::conform;
    let arches = match args.arch {
        Some(a) => vec![a],
        None => Arch::ALL.to_vec(),
    };
    if args.list {
        return match conform::list(&arches) {
            Ok(s) => {
                emit(&s);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    if args.vectors == 0 {
        return fail("--vectors must be at least 1");
    }
    let options = loweq_conform::Options {
        vectors: args.vectors,
        seed: args.seed,
        insts: args.insts,
    };
    let run = match conform::run(&arches, &options) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if args.bench {
        emit(&conform::bench(&run));
    } else {
        match args.format {
            TextOrJson::Text => emit(&conform::text(&run)),
            TextOrJson::Json => match serde_json::to_string_pretty(&conform::json(&run)) {
                Ok(s) => emit(&(s + "\n")),
                Err(e) => return fail(&format!("cannot write JSON: {e}")),
            },
        }
    }
    ExitCode::from(run.exit_code())
}

fn repl(args: ReplArgs) -> ExitCode {
    let checked = flags::timeout(args.timeout).and_then(|t| Ok((t, jobs(args.jobs)?)));
    let (timeout, jobs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let arch = match (args.arch, args.files.is_empty()) {
        (Some(a), _) => Some(a),
        (None, true) => Some(Arch::Aarch64),
        (None, false) => None,
    };
    let config = loweq::repl::Config {
        arch,
        timeout,
        jobs,
        interactive: false,
    };
    let history = match args.no_history {
        true => None,
        false => args.history.or_else(loweq::repl::terminal::default_history),
    };
    loweq::repl::terminal::run(config, &args.files, history)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(a) => verify(a),
        Command::Merge(a) => merge(a),
        Command::Bench(a) => bench(a),
        Command::Coverage(a) => coverage(a),
        Command::Runtest(a) => runtest(a),
        Command::Conform(a) => conform(a),
        Command::Repl(a) => repl(a),
    }
}
