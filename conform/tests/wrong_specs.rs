//! Deliberately wrong copies of instruction specs are caught by the
//! conformance run (200 vectors per variant, as in `cargo test`): each
//! replaces one shipped spec with a plausible mistake, and exactly the
//! variants it makes wrong disagree, for the reason given.

mod common;

use loweq_conform::{Isa, Options};
use loweq_semantics::span::SourceFile;

/// A wrong spec: the term, the variants that must disagree (all others
/// agree; [`EVERY`] for every variant that runs), the whole
/// replacement `(spec ...)` form, and what the note of each disagreement
/// must say, if anything.
struct Wrong {
    isa: Isa,
    term: &'static str,
    variants: &'static [&'static str],
    spec: &'static str,
    note: Option<&'static str>,
}

/// Every variant that runs vectors must disagree.
const EVERY: &[&str] = &["*"];

const WRONG: &[Wrong] = &[
    // A W-form that keeps the upper 32 bits of its first source instead of
    // zeroing them.
    Wrong {
        isa: Isa::Aarch64,
        term: "a64_add",
        variants: &["Size32"],
        spec: "(spec (a64_add size a b)
            (provide (= result (match size
                ((Size32) (concat (extract 63 32 a) (bvadd (w! a) (w! b))))
                ((Size64) (bvadd a b))))))",
        note: None,
    },
    // An 8-bit shift whose count is masked to 3 bits (the hardware masks
    // CL to 5 bits, so `shl al, cl` with cl = 9 shifts by 9).
    Wrong {
        isa: Isa::X64,
        term: "x64_shl",
        variants: &["Size8"],
        spec: "(spec (x64_shl size a c)
            (provide (= result (match size
                ((Size8) (write8! a (bvshl (b! a) (bvand (extract 7 0 c) #x07))))
                ((Size16) (write16! a (bvshl (h! a) (zero_ext 16 (count5! c)))))
                ((Size32) (write32! (bvshl (d! a) (zero_ext 32 (count5! c)))))
                ((Size64) (bvshl a (zero_ext 64 (count6! c)))))))
            (modifies x64_flags))",
        note: None,
    },
    // CMOVcc on the inverted condition: `e` when the condition holds, else
    // `t`. Every variant runs every flag combination, so each disagrees.
    Wrong {
        isa: Isa::X64,
        term: "x64_cmov",
        variants: EVERY,
        spec: "(spec (x64_cmov size cc f t e)
            (provide (= result (match size
                ((Size16) (write16! e (if (not (cc_holds! cc f)) (h! t) (h! e))))
                ((Size32) (write32! (if (not (cc_holds! cc f)) (d! t) (d! e))))
                ((Size64) (if (not (cc_holds! cc f)) t e))
                ((Size8) (write32! (if (not (cc_holds! cc f)) (d! t) (d! e)))))))
            (require (not (Size8? size))))",
        note: None,
    },
    // A sign-extending load modelled as zero-extending.
    Wrong {
        isa: Isa::X64,
        term: "x64_movsx_load",
        variants: EVERY,
        spec: "(spec (x64_movsx_load from to a)
            (provide
                (access_effect! isa_load (amode_addr! a) (size_bits! from))
                (= result (zext_low! from (:value isa_load))))
            (require
                (or (and (or (Size8? from) (Size16? from)) (or (Size32? to) (Size64? to)))
                    (and (Size32? from) (Size64? to)))
                (amode_ok! a))
            (modifies isa_load))",
        note: None,
    },
    // An address whose displacement is zero-extended: the machine then
    // accesses 4 GiB away from where the spec says (a fault).
    Wrong {
        isa: Isa::X64,
        term: "x64_mov_load",
        variants: &[
            "Size32 ImmReg",
            "Size32 ImmRegRegShift",
            "Size64 ImmReg",
            "Size64 ImmRegRegShift",
        ],
        spec: "(spec (x64_mov_load size a)
            (provide
                (access_effect! isa_load
                    (match a
                        ((ImmReg d base) (bvadd base (zero_ext 64 d)))
                        ((ImmRegRegShift d base index s)
                            (bvadd base (bvshl index (zero_ext 64 s)) (zero_ext 64 d))))
                    (size_bits! size))
                (= result (zext_low! size (:value isa_load))))
            (require (or (Size32? size) (Size64? size)) (amode_ok! a))
            (modifies isa_load))",
        note: None,
    },
    // A byte load said to read two bytes (its result still the low byte):
    // an access of the wrong size, which a rule could then match with a
    // 16-bit IR load. The machine does not fault where the spec's second
    // byte would.
    Wrong {
        isa: Isa::X64,
        term: "x64_movzx_load",
        variants: &["Size8 ImmReg", "Size8 ImmRegRegShift"],
        spec: "(spec (x64_movzx_load from a)
            (provide
                (access_effect! isa_load (amode_addr! a)
                    (match from ((Size8) #x10) ((Size16) #x10) ((Size32) #x20) ((Size64) #x40)))
                (= result (zext_low! from (:value isa_load))))
            (require (or (Size8? from) (Size16? from)) (amode_ok! a))
            (modifies isa_load))",
        note: None,
    },
    // A 16-bit store said to write 32 bits.
    Wrong {
        isa: Isa::X64,
        term: "x64_mov_store",
        variants: &["Size16 ImmReg", "Size16 ImmRegRegShift"],
        spec: "(spec (x64_mov_store size src a)
            (provide
                (access_effect! isa_store (amode_addr! a)
                    (match size ((Size8) #x08) ((Size16) #x20) ((Size32) #x20) ((Size64) #x40)))
                (= (:value isa_store)
                    (match size
                        ((Size8) (zero_ext 64 (b! src)))
                        ((Size16) (zero_ext 64 (d! src)))
                        ((Size32) (zero_ext 64 (d! src)))
                        ((Size64) src))))
            (require (amode_ok! a))
            (modifies isa_store))",
        note: None,
    },
    // ADD without `(modifies x64_flags)`: its result is right, but the
    // spec then says ADD leaves the flags as they were, which would let a
    // rule read a CMP's flags across it. The machine sets them from the
    // sum, so every variant disagrees on the flags.
    Wrong {
        isa: Isa::X64,
        term: "x64_add",
        variants: EVERY,
        spec: "(spec (x64_add size a c)
            (provide (= result (sized_binary! size (macro (x y) (bvadd x y)) a c))))",
        note: Some("lacks `(modifies x64_flags)`"),
    },
    // CMN (ADDS ZR, Rn, #imm) without `(modifies a64_nzcv)`: the flags
    // value it returns is right, but NZCV is said to keep its old value.
    Wrong {
        isa: Isa::Aarch64,
        term: "a64_cmn_imm",
        variants: EVERY,
        spec: "(spec (a64_cmn_imm size a k)
            (provide (= result (match size
                ((Size32) (add_flags! (w! a) (w! (imm12_value! k))))
                ((Size64) (add_flags! a (imm12_value! k)))))))",
        note: Some("lacks `(modifies a64_nzcv)`"),
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
        assert!(
            report.results.iter().all(|r| r.error.is_none()),
            "{}: {:#?}",
            w.term,
            common::failures(&report)
        );
        let caught: Vec<&str> = report
            .results
            .iter()
            .filter(|r| r.first.is_some())
            .map(|r| r.variant.as_str())
            .collect();
        // Exactly the variants that were made wrong disagree.
        if w.variants == EVERY {
            let ran: Vec<&str> = report
                .results
                .iter()
                .filter(|r| r.vectors > 0)
                .map(|r| r.variant.as_str())
                .collect();
            assert!(!ran.is_empty(), "{}", w.term);
            assert_eq!(caught, ran, "{}", w.term);
        } else {
            assert_eq!(caught, w.variants, "{}", w.term);
        }
        if let Some(says) = w.note {
            for d in report.results.iter().filter_map(|r| r.first.as_ref()) {
                let note = d.note.as_deref().unwrap_or_default();
                assert!(note.contains(says), "{}: {note}", w.term);
            }
        }
    }
}
