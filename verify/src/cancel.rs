//! Cancelling a running verification from another thread (the REPL's
//! Ctrl-C): a shared flag that every query checks before it starts, and the
//! z3 contexts of the queries under way, which are interrupted.
//!
//! Each worker thread solves in its own thread-local z3 context. A query
//! registers that context for the duration of its `check`; [`Cancel::cancel`]
//! sets the flag and interrupts every registered context (z3's
//! `Z3_interrupt` is meant to be called from another thread). A query that
//! starts after the flag is set does not run. A cancelled query's verdict is
//! `unknown` with the reason "cancelled".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A cancellation token: cheap to clone, all clones share one flag. The
/// default token is never cancelled unless someone calls [`Cancel::cancel`].
#[derive(Clone, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// The raw z3 contexts of the queries running now, with a count per
    /// context (a thread runs one query at a time, but be safe).
    running: Mutex<Vec<Running>>,
}

/// A registered context. The pointer is only dereferenced by z3, and only
/// while the query that registered it is inside `check` (it unregisters
/// under the same lock before its context can go away).
struct Running(z3_sys::Z3_context);

// SAFETY: `Z3_interrupt` is documented as callable from any thread; the
// pointer is never used for anything else.
unsafe impl Send for Running {}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Cancel").field(&self.is_cancelled()).finish()
    }
}

impl Cancel {
    /// A fresh token.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: queries not yet started will not run, and those running are
    /// interrupted. Safe to call from any thread, including a signal
    /// handler's thread; calling it again is harmless.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        let running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        for r in running.iter() {
            // SAFETY: registered contexts are alive while registered (see
            // `Running`).
            unsafe { z3_sys::Z3_interrupt(r.0) };
        }
    }

    /// Whether [`Cancel::cancel`] was called (since the last
    /// [`Cancel::reset`]).
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Clears the flag, so the token can serve the next run.
    pub fn reset(&self) {
        self.0.cancelled.store(false, Ordering::SeqCst);
    }

    /// Runs `f` (a solver check on this thread's z3 context) so that
    /// [`Cancel::cancel`] can interrupt it; `None` if the token was already
    /// cancelled, without running `f`.
    pub(crate) fn run<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        let ctx = z3::Context::thread_local().get_z3_context();
        {
            let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
            // Checked under the lock: a `cancel` either sees this context
            // registered or has set the flag before we look.
            if self.is_cancelled() {
                return None;
            }
            running.push(Running(ctx));
        }
        let out = f();
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = running.iter().position(|r| r.0 == ctx) {
            running.swap_remove(i);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use z3::ast::{Bool, BV};
    use z3::{SatResult, Solver};

    /// The 64-bit division identity: true, and slow to prove by bit-blasting.
    fn hard_query() -> Solver {
        let s = Solver::new();
        let x = BV::new_const("x", 64);
        let y = BV::new_const("y", 64);
        let q = x.bvudiv(&y).bvmul(&y).bvadd(x.bvurem(&y));
        s.assert(Bool::and(&[
            y.eq(BV::from_u64(0, 64)).not(),
            q.eq(&x).not(),
        ]));
        s
    }

    #[test]
    fn a_cancelled_token_runs_nothing_and_reset_clears_it() {
        let c = Cancel::new();
        assert_eq!(c.run(|| 1), Some(1));
        c.cancel();
        assert!(c.is_cancelled());
        assert_eq!(c.run(|| 1), None);
        c.reset();
        assert_eq!(c.run(|| 2), Some(2));
    }

    #[test]
    fn cancel_interrupts_a_running_check() {
        let c = Cancel::new();
        let worker = {
            let c = c.clone();
            std::thread::spawn(move || c.run(|| hard_query().check()))
        };
        // Interrupt until the worker gives up: the first call may come
        // before its check has started.
        while !worker.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(20));
            c.cancel();
        }
        let r = worker.join().expect("the worker does not panic");
        assert!(
            matches!(r, None | Some(SatResult::Unknown)),
            "a check interrupted, or never started: {r:?}"
        );
    }
}
