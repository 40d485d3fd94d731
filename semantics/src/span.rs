//! Source files and spans: where every spec expression, rule and diagnostic
//! comes from.

use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub usize);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span covering `start..end` of `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start, end }
    }
}

/// One loaded source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The name shown to users (a path relative to the repository for shipped
    /// files, the path as given on the command line for user files).
    pub name: String,
    /// The file's text.
    pub text: String,
    /// Whether the file is part of the shipped semantics, the only files
    /// that may say what an instruction means (its fields, its operands,
    /// which instruction an extractor matches). [`SourceFile::new`] takes
    /// a file under `semantics/spec/` for one; a file a user gave is made
    /// with [`SourceFile::user`], which never is, whatever its path.
    pub semantics: bool,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A file with the given display name and text; part of the shipped
    /// semantics if its name has a `semantics/spec/` component (the
    /// shipped files are named by their path in the repository).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let name = name.into();
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            semantics: name.replace('\\', "/").contains("semantics/spec/"),
            name,
            text,
            line_starts,
        }
    }

    /// A file a user gave (a path on the command line): never part of the
    /// shipped semantics, whatever its path says (review 6: a rule file
    /// saved under a directory `semantics/spec/` was trusted to say what
    /// an instruction's operands are).
    pub fn user(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            semantics: false,
            ..SourceFile::new(name, text)
        }
    }

    /// Zero-based line index of a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).max(1) - 1
    }

    /// One-based `(line, column)` of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let offset = offset.min(self.text.len());
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The text of the (zero-based) line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// The start of the form whose head keyword is at or just before
    /// `offset` (`(rule name ...)` for the offset of `name`): the nearest `(`
    /// before `offset` that only whitespace and one symbol separate from it.
    pub fn form_start(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = offset.min(bytes.len());
        let skip_ws = |mut i: usize| {
            while i > 0 && bytes[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            i
        };
        i = skip_ws(i);
        if i > 0 && bytes[i - 1] == b'(' {
            return i - 1;
        }
        while i > 0
            && !bytes[i - 1].is_ascii_whitespace()
            && bytes[i - 1] != b'('
            && bytes[i - 1] != b')'
        {
            i -= 1;
        }
        i = skip_ws(i);
        if i > 0 && bytes[i - 1] == b'(' {
            i - 1
        } else {
            offset
        }
    }

    /// The end of the s-expression or atom that starts at `offset`: the
    /// matching close parenthesis for `(`, otherwise the end of the atom.
    /// Comments (`;` to end of line) are skipped. Used to widen the one-byte
    /// positions of the ISLE parser into spans that cover a whole form.
    pub fn form_end(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        if offset >= bytes.len() {
            return bytes.len();
        }
        if bytes[offset] != b'(' {
            let mut i = offset;
            while i < bytes.len()
                && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b';')
            {
                i += 1;
            }
            return i.max(offset + 1).min(bytes.len());
        }
        let mut depth = 0usize;
        let mut i = offset;
        while i < bytes.len() {
            match bytes[i] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b';' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        // Unbalanced: cover the rest of the line.
        let line = self.line_index(offset);
        self.line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(bytes.len())
    }
}

/// All source files of one run, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(Arc::new(file));
        FileId(self.files.len() - 1)
    }

    /// The file with the given id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    /// All files in order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i), &**f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The source text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.file(span.file).text;
        text.get(span.start..span.end.min(text.len())).unwrap_or("")
    }

    /// `file:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let f = self.file(span.file);
        let (line, col) = f.line_col(span.start);
        format!("{}:{}:{}", f.name, line, col)
    }

    /// A span covering the whole form that starts at `offset` in `file`.
    pub fn form_span(&self, file: FileId, offset: usize) -> Span {
        let end = self.file(file).form_end(offset);
        Span::new(file, offset, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_forms() {
        let f = SourceFile::new("a.isle", "(a b)\n  (c (d ; x)\n e))\nz");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(8), (2, 3));
        assert_eq!(f.form_end(0), 5);
        assert_eq!(&f.text[8..f.form_end(8)], "(c (d ; x)\n e))");
        assert_eq!(f.form_end(1), 2);
        assert_eq!(f.line_text(1), "  (c (d ; x)");
    }
}
