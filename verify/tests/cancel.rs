//! Cancelling a verification run: a slow proof stops when its token is
//! cancelled from another thread, and the verdict says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loweq_semantics::span::{SourceFile, SourceMap};
use loweq_verify::solve::CANCELLED;
use loweq_verify::{verify, Cancel, Options, Verdict};

/// A mixed boolean-arithmetic identity at 64 bits: true, and slow for a
/// solver, in its SAT search (which honours interrupts, unlike some of
/// z3 4.8's preprocessing of wide dividers).
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

fn program() -> loweq_dsl::Program {
    let mut sources = SourceMap::new();
    sources.add(SourceFile::new("hard.isle", HARD));
    loweq_dsl::load(sources).unwrap_or_else(|d| panic!("{d:?}"))
}

fn options(cancel: &Cancel) -> Options {
    Options {
        timeout: Duration::from_secs(600),
        jobs: Some(1),
        cancel: cancel.clone(),
        ..Options::default()
    }
}

#[test]
fn a_cancelled_token_stops_a_slow_proof() {
    let program = program();
    let cancel = Cancel::new();
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let canceller = {
        let (cancel, done) = (cancel.clone(), done.clone());
        std::thread::spawn(move || {
            // Keep interrupting: the first call may come before the
            // query has started.
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                cancel.cancel();
            }
        })
    };
    let report = verify(&program, &options(&cancel), &|_| {}).expect("verifies");
    let elapsed = start.elapsed();
    done.store(true, Ordering::SeqCst);
    let inst = &report.rules[0].instances[0];
    assert_eq!(inst.verdict, Verdict::Unknown, "{inst:?}");
    assert_eq!(inst.reason.as_deref(), Some(CANCELLED));
    assert!(
        elapsed < Duration::from_secs(60),
        "stopped after {elapsed:?}"
    );
    canceller.join().expect("the canceller does not panic");
}

#[test]
fn a_reset_token_verifies_again() {
    let program = program();
    let cancel = Cancel::new();
    cancel.cancel();
    let report = verify(&program, &options(&cancel), &|_| {}).expect("verifies");
    assert_eq!(report.count(Verdict::Unknown), 1);
    cancel.reset();
    let mut opts = options(&cancel);
    // A tiny timeout: the verdict is a timeout now, not a cancellation.
    opts.timeout = Duration::from_millis(10);
    let report = verify(&program, &opts, &|_| {}).expect("verifies");
    let inst = &report.rules[0].instances[0];
    assert_ne!(inst.reason.as_deref(), Some(CANCELLED), "{inst:?}");
}
