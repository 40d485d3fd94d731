//! Rendering diagnostics as text: `file:line:col`, the source lines and a
//! caret, through codespan-reporting.

use codespan_reporting::diagnostic::{Diagnostic as Cs, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use loweq_dsl::Diagnostic;
use loweq_semantics::span::SourceMap;

/// The source files of a run, in the form codespan-reporting reads.
pub struct Files {
    files: SimpleFiles<String, String>,
}

impl Files {
    /// Mirrors a source map (file ids stay the same).
    pub fn new(sources: &SourceMap) -> Files {
        let mut files = SimpleFiles::new();
        for (_, f) in sources.files() {
            files.add(f.name.clone(), f.text.clone());
        }
        Files { files }
    }

    /// Renders one diagnostic as an error.
    pub fn error(&self, d: &Diagnostic) -> String {
        self.render(Cs::error(), d)
    }

    /// Renders a codespan diagnostic built by the caller.
    pub fn render_raw(&self, d: &Cs<usize>) -> String {
        term::emit_into_string(&config(), &self.files, d)
            .unwrap_or_else(|_| format!("error: {}\n", d.message))
    }

    /// Renders one diagnostic with the given severity.
    pub fn render(&self, base: Cs<usize>, d: &Diagnostic) -> String {
        let mut labels = Vec::new();
        if let Some(s) = d.span {
            labels.push(Label::primary(s.file.0, s.start..s.end).with_message(d.label.clone()));
        }
        for (s, msg) in &d.secondary {
            labels.push(Label::secondary(s.file.0, s.start..s.end).with_message(msg.clone()));
        }
        let cs = base
            .with_message(d.message.clone())
            .with_labels(labels)
            .with_notes(d.notes.clone());
        self.render_raw(&cs)
    }
}

/// ASCII rendering (`-->`, `|`, `^`), the same in every terminal and log.
fn config() -> Config {
    Config {
        chars: term::Chars::ascii(),
        ..Config::default()
    }
}
