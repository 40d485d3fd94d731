//! Rendering diagnostics as text: `file:line:col`, the source lines and a
//! caret, through codespan-reporting. A source line too long to read (a
//! generated or hostile file) is cut to a window around the place shown.

use codespan_reporting::diagnostic::{Diagnostic as Cs, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use loweq_dsl::Diagnostic;
use loweq_semantics::span::SourceMap;

/// Source lines longer than this many bytes are cut around the place shown.
const MAX_LINE: usize = 160;
/// How much of a cut line is kept before the place shown.
const BEFORE: usize = 60;

/// The source files of a run, in the form codespan-reporting reads.
pub struct Files {
    names: Vec<String>,
    texts: Vec<String>,
    files: SimpleFiles<String, String>,
}

impl Files {
    /// Mirrors a source map (file ids stay the same).
    pub fn new(sources: &SourceMap) -> Files {
        let mut files = SimpleFiles::new();
        let mut names = Vec::new();
        let mut texts = Vec::new();
        for (_, f) in sources.files() {
            files.add(f.name.clone(), f.text.clone());
            names.push(f.name.clone());
            texts.push(f.text.clone());
        }
        Files {
            names,
            texts,
            files,
        }
    }

    /// Renders one diagnostic as an error.
    pub fn error(&self, d: &Diagnostic) -> String {
        self.render(Cs::error(), d)
    }

    /// Renders a codespan diagnostic built by the caller.
    pub fn render_raw(&self, d: &Cs<usize>) -> String {
        let long: Vec<usize> = {
            let mut ids: Vec<usize> = d.labels.iter().map(|l| l.file_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter()
                .filter(|&id| {
                    d.labels
                        .iter()
                        .filter(|l| l.file_id == id)
                        .any(|l| self.touches_long_line(id, l.range.start, l.range.end))
                })
                .collect()
        };
        if long.is_empty() {
            return emit(&self.files, d);
        }
        // Render against copies of the files whose shown lines are cut.
        let mut files = SimpleFiles::new();
        let mut cuts = Vec::new();
        for (id, (name, text)) in self.names.iter().zip(&self.texts).enumerate() {
            if long.contains(&id) {
                let places: Vec<usize> = d
                    .labels
                    .iter()
                    .filter(|l| l.file_id == id)
                    .flat_map(|l| [l.range.start, l.range.end])
                    .collect();
                let cut = Cut::new(text, &places);
                files.add(name.clone(), cut.text.clone());
                cuts.push(Some(cut));
            } else {
                files.add(name.clone(), text.clone());
                cuts.push(None);
            }
        }
        let mut d = d.clone();
        // The `--> file:line:col` lines must still give the column in the
        // original line.
        let mut places = Vec::new();
        for l in &mut d.labels {
            if let Some(Some(cut)) = cuts.get(l.file_id) {
                let name = &self.names[l.file_id];
                let old = column(&self.texts[l.file_id], l.range.start);
                l.range = cut.map(l.range.start)..cut.map(l.range.end);
                let new = column(&cut.text, l.range.start);
                places.push((
                    format!("{name}:{}:{}", new.0, new.1),
                    format!("{name}:{}:{}", old.0, old.1),
                ));
            }
        }
        emit(&files, &d)
            .lines()
            .map(|line| {
                let t = line.trim_start();
                if !(t.starts_with("-->") || t.starts_with(":::")) {
                    return line.to_string();
                }
                match places.iter().find(|(new, _)| t.ends_with(new.as_str())) {
                    Some((new, old)) => format!("{}{old}", &line[..line.len() - new.len()]),
                    None => line.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
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

    /// Whether the line at `start` or at `end` of file `id` is long.
    fn touches_long_line(&self, id: usize, start: usize, end: usize) -> bool {
        let Some(text) = self.texts.get(id) else {
            return false;
        };
        [start, end].iter().any(|&at| {
            let at = at.min(text.len());
            let line_start = text[..floor(text, at)].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[floor(text, at)..]
                .find('\n')
                .map_or(text.len(), |i| at + i);
            line_end - line_start > MAX_LINE
        })
    }
}

fn emit(files: &SimpleFiles<String, String>, d: &Cs<usize>) -> String {
    term::emit_into_string(&config(), files, d)
        .unwrap_or_else(|_| format!("error: {}\n", d.message))
}

/// One-based line and column (in characters) of a byte offset.
fn column(text: &str, at: usize) -> (usize, usize) {
    let at = floor(text, at);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The largest char boundary at or below `i`.
fn floor(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A copy of a file whose long lines are cut to a window around the
/// places shown, with the map from old offsets to new ones.
struct Cut {
    text: String,
    lines: Vec<CutLine>,
}

/// One line of a [`Cut`]: its old start and end (without the newline), its
/// new start, and for a cut line the old window kept and the length of the
/// `...` put before it.
type CutLine = (usize, usize, usize, Option<(usize, usize, usize)>);

impl Cut {
    fn new(text: &str, places: &[usize]) -> Cut {
        let mut out = String::with_capacity(text.len().min(1 << 20));
        let mut lines = Vec::new();
        let mut start = 0;
        while start <= text.len() {
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let new_start = out.len();
            let line = &text[start..end];
            if line.len() > MAX_LINE {
                let at = places
                    .iter()
                    .copied()
                    .find(|&p| p >= start && p <= end)
                    .unwrap_or(start);
                let ws = floor(text, at.saturating_sub(BEFORE).max(start));
                let we = floor(text, (ws + MAX_LINE).min(end));
                let prefix = if ws > start { "..." } else { "" };
                out.push_str(prefix);
                out.push_str(&text[ws..we]);
                if we < end {
                    out.push_str("...");
                }
                lines.push((start, end, new_start, Some((ws, we, prefix.len()))));
            } else {
                out.push_str(line);
                lines.push((start, end, new_start, None));
            }
            if end == text.len() {
                break;
            }
            out.push('\n');
            start = end + 1;
        }
        Cut { text: out, lines }
    }

    fn map(&self, offset: usize) -> usize {
        let i = self
            .lines
            .partition_point(|l| l.0 <= offset)
            .saturating_sub(1);
        let Some(&(start, end, new_start, cut)) = self.lines.get(i) else {
            return self.text.len();
        };
        match cut {
            None => new_start + offset.min(end + 1) - start,
            Some((ws, we, prefix)) => new_start + prefix + offset.clamp(ws, we) - ws,
        }
        .min(self.text.len())
    }
}

/// ASCII rendering (`-->`, `|`, `^`), the same in every terminal and log.
fn config() -> Config {
    Config {
        chars: term::Chars::ascii(),
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loweq_semantics::span::{FileId, SourceFile, Span};

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let long = format!("{}x{}", "(".repeat(5000), ")".repeat(5000));
        let text = format!("first line\n{long}\nlast line\n");
        let mut sources = SourceMap::new();
        sources.add(SourceFile::new("deep.clif", text.clone()));
        let files = Files::new(&sources);
        let at = text.find('x').expect("the x");
        let d = Diagnostic::new("here", Span::new(FileId(0), at, at + 1)).with_label("this x");
        let out = files.error(&d);
        assert!(out.len() < 1000, "{out}");
        assert!(out.contains("deep.clif:2:5001"), "{out}");
        assert!(out.contains("...(((") && out.contains("x)))"), "{out}");
        assert!(out.contains("^ this x"), "{out}");
        // Short lines are untouched.
        let d = Diagnostic::new("there", Span::new(FileId(0), 0, 5));
        assert!(files.error(&d).contains("first line"));
    }
}
