//! The verifier's side of the result cache, with a store in memory: a
//! second run answers every check from it and reports exactly what the
//! first did; unknowns, cancelled runs and timeouts are never kept; a kept
//! counterexample that does not fit the query is ignored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loweq_semantics::span::{SourceFile, SourceMap};
use loweq_verify::cache::{Kept, Key, Leaf, Store};
use loweq_verify::{verify, Cancel, Options, Report, Verdict};

/// One rule that verifies, one that is wrong at 8 bits.
const RULES: &str = "
(type Value (primitive Value))
(model Value (type (bv 8)))
(decl plus (Value Value) Value)
(spec (plus a b) (provide (= result (bvadd a b))))
(decl minus (Value Value) Value)
(spec (minus a b) (provide (= result (bvsub a b))))
(decl add (Value Value) Value)
(extern constructor add add)
(spec (add a b) (provide (= result (bvadd b a))))
(decl or (Value Value) Value)
(extern constructor or or)
(spec (or a b) (provide (= result (bvor a b))))
(rule plus_is_add (plus a b) (add a b))
(rule minus_is_or (minus a b) (or a b))
";

/// A mixed boolean-arithmetic identity at 64 bits, slow in the SAT search
/// (which honours the timeout): with a short timeout, unknown.
const HARD: &str = "
(type Value (primitive Value))
(model Value (type (bv 64)))
(decl test (Value Value) Value)
(spec (test a b) (provide (= result (bvmul a b))))
(decl mba (Value Value) Value)
(extern constructor mba mba)
(spec (mba a b) (provide (= result (bvadd (bvmul (bvor a b) (bvand a b)) (bvmul (bvand a (bvnot b)) (bvand (bvnot a) b))))))
(rule mba_identity (test a b) (mba a b))
";

fn program(text: &str) -> loweq_dsl::Program {
    let mut sources = SourceMap::new();
    sources.add(SourceFile::new("rules.isle", text));
    loweq_dsl::load(sources).unwrap_or_else(|d| panic!("{d:?}"))
}

#[derive(Default)]
struct Memory {
    kept: Mutex<HashMap<Key, Kept>>,
    puts: Mutex<usize>,
}

impl Store for Memory {
    fn get(&self, key: &Key) -> Option<Kept> {
        self.kept.lock().expect("lock").get(key).cloned()
    }

    fn put(&self, key: &Key, kept: &Kept) {
        *self.puts.lock().expect("lock") += 1;
        self.kept.lock().expect("lock").insert(*key, kept.clone());
    }
}

fn options(store: &Arc<Memory>) -> Options {
    Options {
        jobs: Some(1),
        cache: Some(store.clone() as Arc<dyn Store>),
        ..Options::default()
    }
}

/// What a report says, timings aside.
fn shown(r: &Report) -> String {
    let mut r = r.clone();
    for rule in &mut r.rules {
        for i in &mut rule.instances {
            i.millis = 0;
        }
    }
    format!("{:?}", (&r.rules, &r.excluded))
}

#[test]
fn a_second_run_answers_from_the_cache_and_reports_the_same() {
    let program = program(RULES);
    let store = Arc::new(Memory::default());
    let cold = verify(&program, &options(&store), &|_| {}).expect("verifies");
    assert_eq!(cold.count(Verdict::Verified), 1);
    assert_eq!(cold.count(Verdict::Counterexample), 1);
    assert_eq!(cold.from_cache, 0);
    assert_eq!(*store.puts.lock().expect("lock"), 2);
    let warm = verify(&program, &options(&store), &|_| {}).expect("verifies");
    assert_eq!((warm.checked, warm.from_cache), (2, 2));
    assert_eq!(shown(&warm), shown(&cold));
    // Nothing new was kept.
    assert_eq!(*store.puts.lock().expect("lock"), 2);
}

#[test]
fn unknowns_and_cancelled_runs_are_never_kept() {
    let store = Arc::new(Memory::default());
    let mut opts = options(&store);
    // Not shorter: z3 may miss a timer that fires while it sets a query
    // up, and then run on.
    opts.timeout = Duration::from_millis(300);
    let report = verify(&program(HARD), &opts, &|_| {}).expect("verifies");
    assert_eq!(report.count(Verdict::Unknown), 1);
    let cancel = Cancel::new();
    cancel.cancel();
    let opts = Options {
        cancel,
        ..options(&store)
    };
    let report = verify(&program(RULES), &opts, &|_| {}).expect("verifies");
    assert_eq!(report.count(Verdict::Unknown), 2);
    assert_eq!(*store.puts.lock().expect("lock"), 0);
}

#[test]
fn a_kept_counterexample_that_does_not_fit_is_solved_again() {
    let program = program(RULES);
    let store = Arc::new(Memory::default());
    let cold = verify(&program, &options(&store), &|_| {}).expect("verifies");
    for kept in store.kept.lock().expect("lock").values_mut() {
        if kept.verdict == Verdict::Counterexample {
            kept.model.push(Leaf::Bool(true));
        }
    }
    let again = verify(&program, &options(&store), &|_| {}).expect("verifies");
    assert_eq!(again.from_cache, 1, "only the verified rule");
    assert_eq!(shown(&again), shown(&cold));
}
