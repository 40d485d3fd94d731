//! `loweq`: verify instruction-lowering rules.
//!
//! This file holds the command line's definition (clap) and the dispatch to
//! each command's body in `command/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use loweq::format::{self, Format, Output};
use loweq::shipped::Arch;
use loweq::{flags, shard};

mod command;
mod examples;

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
    #[command(after_long_help = examples::VERIFY)]
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
    #[command(after_long_help = examples::MERGE)]
    Merge(MergeArgs),
    /// Time the full verification of the shipped rules.
    ///
    /// Verifies the shipped rules RUNS times (without the result cache)
    /// and prints, for each run, the rules, instantiations, queries,
    /// seconds and the slowest instantiation, then the best time and the
    /// five slowest instantiations of the best run. With --cache: a cold
    /// run into an empty cache, then RUNS warm runs answered from it.
    ///
    /// Exit status: 0 when the runs were timed (a run where not everything
    /// verified is timed too, with a warning), 2 on bad flags or when the
    /// shipped rules do not load.
    #[command(after_long_help = examples::BENCH)]
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
    #[command(after_long_help = examples::COVERAGE)]
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
    #[command(after_long_help = examples::RUNTEST)]
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
    #[command(after_long_help = examples::CONFORM)]
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
    /// results printed without prompts or colours. See docs/repl.md.
    ///
    /// Exit status: at a terminal 0 (2 when the files given do not load);
    /// from a pipe or file, 1 if a rule had a counterexample, else 2 on any
    /// error, else 3 on an unknown verdict, else 0.
    #[command(after_long_help = examples::REPL)]
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
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Worker threads (default: all cores; at most 4 per core).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = flags::count)]
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
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = flags::count)]
    jobs: Option<usize>,
    /// How many expansions through chained terms one rule may have (a rule
    /// with more is an error that names this limit).
    #[arg(long, value_name = "N", default_value_t = loweq_verify::expand::DEFAULT_MAX_EXPANSIONS, allow_negative_numbers = true, value_parser = flags::count)]
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
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = flags::count)]
    jobs: Option<usize>,
    /// How many expansions through chained terms one rule may have.
    #[arg(long, value_name = "N", default_value_t = loweq_verify::expand::DEFAULT_MAX_EXPANSIONS, allow_negative_numbers = true, value_parser = flags::count)]
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
    #[arg(long, value_name = "N", default_value_t = 3, allow_negative_numbers = true, value_parser = flags::count)]
    runs: usize,
    /// Worker threads (default: all cores; at most 4 per core).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = flags::count)]
    jobs: Option<usize>,
    /// How many expansions through chained terms one rule may have (a rule
    /// with more is an error that names this limit).
    #[arg(long, value_name = "N", default_value_t = loweq_verify::expand::DEFAULT_MAX_EXPANSIONS, allow_negative_numbers = true, value_parser = flags::count)]
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
    /// For a person to read.
    Text,
    /// One JSON document (its fields are in README.md).
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(a) => command::verify::execute(a),
        Command::Merge(a) => command::merge::execute(a),
        Command::Bench(a) => command::bench::execute(a),
        Command::Coverage(a) => command::coverage::execute(a),
        Command::Runtest(a) => command::runtest::execute(a),
        Command::Conform(a) => command::conform::execute(a),
        Command::Repl(a) => command::repl::execute(a),
    }
}
