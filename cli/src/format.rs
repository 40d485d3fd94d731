//! The output formats of `loweq verify` and `loweq merge`, and the
//! `--output FORMAT=FILE` flag that writes several from one run.

use std::path::{Path, PathBuf};

use crate::doc::Doc;
use crate::{github, json, junit, markdown, sarif, text};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A line per rule, counterexamples in full, a summary line.
    Text,
    /// One JSON document (schema in README.md); `loweq merge` reads it.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// JUnit XML: a test case per (rule, instantiation).
    Junit,
    /// GitHub Actions workflow commands: an annotation per problem.
    Github,
    /// Markdown for a pull-request comment.
    Markdown,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 6] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Markdown,
    ];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
            Format::Markdown => "markdown",
        }
    }

    /// The report in this format.
    pub fn render(self, doc: &Doc) -> String {
        match self {
            Format::Text => text::render(doc),
            Format::Json => pretty(&json::render(doc)),
            Format::Sarif => pretty(&sarif::render(doc)),
            Format::Junit => junit::render(doc),
            Format::Github => github::render(doc),
            Format::Markdown => markdown::render(doc),
        }
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
        + "\n"
}

/// One `--output FORMAT=FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// Where to write it.
    pub path: PathBuf,
}

/// Parses `FORMAT=FILE`.
pub fn parse_output(s: &str) -> Result<Output, String> {
    let names = || {
        Format::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((format, path)) = s.split_once('=') else {
        return Err(format!(
            "expected FORMAT=FILE (FORMAT one of {}), as in `sarif=report.sarif`",
            names()
        ));
    };
    let Some(format) = Format::ALL.into_iter().find(|f| f.name() == format) else {
        return Err(format!(
            "unknown format `{format}`; the formats are {}",
            names()
        ));
    };
    if path.is_empty() {
        return Err(format!("no file after `{}=`", format.name()));
    }
    Ok(Output {
        format,
        path: PathBuf::from(path),
    })
}

/// Checks, before a run, that each output can be written: its directory
/// exists, and it is not a directory itself.
pub fn check_outputs(outputs: &[Output]) -> Result<(), String> {
    for o in outputs {
        if o.path.is_dir() {
            return Err(format!(
                "--output {}={}: that is a directory",
                o.format.name(),
                o.path.display()
            ));
        }
        if let Some(dir) = o.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(format!(
                    "--output {}={}: the directory `{}` does not exist",
                    o.format.name(),
                    o.path.display(),
                    dir.display()
                ));
            }
        }
    }
    Ok(())
}

/// Writes each output; the error says which could not be written.
pub fn write_outputs(doc: &Doc, outputs: &[Output]) -> Result<(), String> {
    for o in outputs {
        write(&o.path, &o.format.render(doc)).map_err(|e| {
            format!(
                "cannot write `{}`: {}",
                o.path.display(),
                crate::run::io_reason(&e)
            )
        })?;
    }
    Ok(())
}

/// Writes a file whole: to a temporary file beside it, then renamed, so a
/// reader never sees half a report.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_parse_and_bad_ones_say_why() {
        assert_eq!(
            parse_output("sarif=r.sarif"),
            Ok(Output {
                format: Format::Sarif,
                path: "r.sarif".into()
            })
        );
        assert_eq!(
            parse_output("junit=out/a=b.xml").map(|o| o.path),
            Ok(PathBuf::from("out/a=b.xml"))
        );
        let e = parse_output("xml=r.xml").unwrap_err();
        assert!(
            e.contains("unknown format `xml`") && e.contains("sarif"),
            "{e}"
        );
        assert!(parse_output("r.sarif").unwrap_err().contains("FORMAT=FILE"));
        assert!(parse_output("json=").unwrap_err().contains("no file"));
    }
}
