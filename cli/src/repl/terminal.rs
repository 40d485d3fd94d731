//! The front ends of a session: a line editor at a terminal (rustyline:
//! editing, history kept in a file, completion, multi-line entries, Ctrl-C
//! to cancel a proof), or entries read from a pipe, without prompts or
//! colours, for scripts and tests.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use rustyline::config::{CompletionType, Config as EditorConfig};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;

use super::complete::{Names, ReplHelper};
use super::session::{Config, Session};
use super::sexp::{self, Balance};

/// The prompt.
pub const PROMPT: &str = "loweq> ";

/// Where history is kept when `--history` is not given:
/// `$XDG_STATE_HOME/loweq/repl_history`, else
/// `$HOME/.local/state/loweq/repl_history`.
pub fn default_history() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|s| !s.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("loweq").join("repl_history"))
}

/// Runs a session: interactive when standard input is a terminal, else
/// reading entries from it.
pub fn run(config: Config, files: &[PathBuf], history: Option<PathBuf>) -> ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let config = Config {
        interactive,
        ..config
    };
    let started = Instant::now();
    let (session, reply) = match Session::start(config, files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if interactive {
        let what = session.config.arch.map_or("no backend".to_string(), |a| {
            format!("{} semantics", a.name())
        });
        println!(
            "loweq repl: {what} loaded in {:.2} s. `:help` lists the commands; Ctrl-D quits.",
            started.elapsed().as_secs_f64()
        );
        print!("{}", paint(&reply.text));
        interactive_loop(session, history.as_deref())
    } else {
        print!("{}", reply.text);
        piped(session)
    }
}

/// Reads entries from standard input until it ends.
fn piped(mut session: Session) -> ExitCode {
    let mut pending = String::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    let mut lines = stdin.lock().lines();
    loop {
        let line = match lines.next() {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                eprintln!("error: cannot read standard input: {e}");
                return ExitCode::from(2);
            }
            None => None,
        };
        let done = line.is_none();
        if let Some(l) = line {
            pending.push_str(&l);
            pending.push('\n');
            if sexp::balance(&pending) == Balance::Open && !super::session::is_command(&l) {
                continue;
            }
        }
        if !pending.trim().is_empty() {
            let reply = session.submit(&pending);
            let _ = out.write_all(reply.text.as_bytes());
            let _ = out.flush();
            if reply.quit {
                break;
            }
        }
        pending.clear();
        if done {
            break;
        }
    }
    ExitCode::from(session.status().exit_code())
}

fn interactive_loop(mut session: Session, history: Option<&Path>) -> ExitCode {
    let editor_config = EditorConfig::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(5000)
        .map(|b| b.build());
    let editor = editor_config
        .map_err(|e| e.to_string())
        .and_then(|c| Editor::<ReplHelper, FileHistory>::with_config(c).map_err(|e| e.to_string()));
    let mut editor = match editor {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return ExitCode::from(2);
        }
    };
    editor.set_helper(Some(ReplHelper::new(Names::of(&session))));
    if let Some(h) = history {
        if h.exists() {
            if let Err(e) = editor.load_history(h) {
                eprintln!("warning: cannot read the history in {}: {e}", h.display());
            }
        }
    }
    let token = session.cancel_token();
    if let Err(e) = ctrlc::set_handler(move || token.cancel()) {
        eprintln!("warning: Ctrl-C will not cancel proofs: {e}");
    }
    loop {
        match editor.readline(PROMPT) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                if let Some(h) = history {
                    save_history(&mut editor, h);
                }
                let reply = session.submit(&line);
                print!("{}", paint(&reply.text));
                let _ = std::io::stdout().flush();
                if reply.quit {
                    break;
                }
                if let Some(helper) = editor.helper_mut() {
                    helper.names = Names::of(&session);
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

/// Appends the new history entries to the file, creating its directory.
fn save_history(editor: &mut Editor<ReplHelper, FileHistory>, path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = editor.append_history(path) {
        eprintln!(
            "warning: cannot save the history to {}: {e}",
            path.display()
        );
    }
}

const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Colours a reply for a terminal: error headings, and verdicts in rule
/// lines.
fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if body.starts_with("error") {
            out.push_str(&format!("{RED}{body}{RESET}{nl}"));
        } else if let Some(i) = body.find("): ") {
            let (head, verdicts) = body.split_at(i + 3);
            let mut v = verdicts.to_string();
            for (word, colour) in [
                ("verified", GREEN),
                ("counterexample", RED),
                ("inapplicable", YELLOW),
                ("unknown", YELLOW),
                ("shadowed", YELLOW),
                ("error", RED),
            ] {
                v = v.replace(&format!("{word} at"), &format!("{colour}{word}{RESET} at"));
            }
            out.push_str(&format!("{head}{v}{nl}"));
        } else {
            out.push_str(line);
        }
    }
    out
}
