//! The JSON report of `loweq verify` (schema in README.md): the report
//! model ([`crate::doc::Doc`]) as JSON.

use serde_json::Value as Json;

use crate::doc::Doc;
use crate::run::Run;

/// The whole JSON report of a run.
pub fn report(run: &Run) -> Json {
    render(&Doc::of(run))
}

/// A report as JSON.
pub fn render(doc: &Doc) -> Json {
    serde_json::to_value(doc).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}
