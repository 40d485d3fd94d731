//! Deliberately wrong copies of instruction specs are caught by the
//! conformance run (200 vectors per variant, as in `cargo test`): each
//! replaces one shipped spec with a plausible mistake.

mod common;

use loweq_conform::{Isa, Options};
use loweq_semantics::span::SourceFile;

/// A wrong spec: the term, the variant that must disagree, and the whole
/// replacement `(spec ...)` form.
struct Wrong {
    isa: Isa,
    term: &'static str,
    variant: &'static str,
    spec: &'static str,
}

const WRONG: &[Wrong] = &[
    // A W-form that keeps the upper 32 bits of its first source instead of
    // zeroing them.
    Wrong {
        isa: Isa::Aarch64,
        term: "a64_add",
        variant: "Size32",
        spec: "(spec (a64_add size a b)
            (provide (= result (match size
                ((Size32) (concat (extract 63 32 a) (bvadd (w! a) (w! b))))
                ((Size64) (bvadd a b))))))",
    },
    // An 8-bit shift whose count is masked to 3 bits (the hardware masks
    // CL to 5 bits, so `shl al, cl` with cl = 9 shifts by 9).
    Wrong {
        isa: Isa::X64,
        term: "x64_shl",
        variant: "Size8",
        spec: "(spec (x64_shl size a c)
            (provide (= result (match size
                ((Size8) (write8! a (bvshl (b! a) (bvand (extract 7 0 c) #x07))))
                ((Size16) (write16! a (bvshl (h! a) (zero_ext 16 (count5! c)))))
                ((Size32) (write32! (bvshl (d! a) (zero_ext 32 (count5! c)))))
                ((Size64) (bvshl a (zero_ext 64 (count6! c))))))))",
    },
];

/// The byte range of the `(spec (term ...) ...)` form in `text`.
fn spec_form(text: &str, term: &str) -> Option<(usize, usize)> {
    let start = text.find(&format!("(spec ({term} "))?;
    let mut depth = 0;
    for (i, c) in text[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((start, start + i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// The shipped files with `w`'s spec replaced.
fn mutated(w: &Wrong) -> Vec<SourceFile> {
    let mut files = common::files(w.isa);
    let dir = format!("semantics/spec/{}/", w.isa.name());
    let mut replaced = false;
    for f in files.iter_mut().filter(|f| f.name.starts_with(&dir)) {
        if let Some((s, e)) = spec_form(&f.text, w.term) {
            let text = format!("{}{}{}", &f.text[..s], w.spec, &f.text[e..]);
            *f = SourceFile::new(f.name.clone(), text);
            replaced = true;
        }
    }
    assert!(replaced, "no spec of `{}` in {dir}", w.term);
    files
}

#[test]
fn wrong_specs_are_caught() {
    for w in WRONG {
        if common::machine_or_skip(w.isa).is_none() {
            continue;
        }
        let program = common::load(mutated(w));
        let options = Options {
            vectors: 200,
            insts: vec![w.term.to_string()],
            ..Options::default()
        };
        let report = common::run(&program, w.isa, &options);
        let caught: Vec<&str> = report
            .results
            .iter()
            .filter(|r| r.first.is_some())
            .map(|r| r.variant.as_str())
            .collect();
        assert!(
            caught.contains(&w.variant),
            "the wrong spec of `{}` was not caught at {} (caught at {caught:?})",
            w.term,
            w.variant
        );
        // Only the variant that was made wrong disagrees.
        assert_eq!(caught, vec![w.variant], "{}", w.term);
    }
}
