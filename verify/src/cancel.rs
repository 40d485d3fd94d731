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
//!
//! The same interruption is the watchdog behind every query's timeout:
//! z3 4.8's own timer can miss its deadline (its timer thread may never
//! start waiting on a loaded machine), and a query then runs on past
//! `--timeout`. [`Cancel::run`] is given the query's time limit and
//! registers the context with the [`watchdog`], which interrupts it when
//! the limit and a grace period are over; the query then ends as a
//! timeout, as z3's own timer would have ended it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// [`Cancel::cancel`] can interrupt it, and so that the watchdog
    /// interrupts it once `limit` (the query's timeout) is over by a grace
    /// period; `None` if the token was already cancelled, without running
    /// `f`.
    pub(crate) fn run<T>(&self, limit: Option<Duration>, f: impl FnOnce() -> T) -> Option<T> {
        let ctx = z3::Context::thread_local().get_z3_context();
        let _watched = limit.map(|l| watchdog::watch(ctx, watchdog::deadline(l)));
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
        assert_eq!(c.run(None, || 1), Some(1));
        c.cancel();
        assert!(c.is_cancelled());
        assert_eq!(c.run(None, || 1), None);
        c.reset();
        assert_eq!(c.run(None, || 2), Some(2));
    }

    #[test]
    fn cancel_interrupts_a_running_check() {
        let c = Cancel::new();
        let worker = {
            let c = c.clone();
            std::thread::spawn(move || c.run(None, || hard_query().check()))
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

    /// A query with no timeout of its own is stopped by the watchdog at its
    /// limit, and the next query on the same context runs normally.
    #[test]
    fn the_watchdog_stops_a_query_at_its_limit() {
        let limit = Duration::from_millis(200);
        let start = std::time::Instant::now();
        let r = Cancel::new().run(Some(limit), || hard_query().check());
        let elapsed = start.elapsed();
        assert_eq!(r, Some(SatResult::Unknown));
        assert!(
            elapsed < Duration::from_secs(30),
            "stopped after {elapsed:?}"
        );
        let s = Solver::new();
        s.assert(BV::new_const("z", 8).eq(BV::from_u64(3, 8)));
        assert_eq!(
            Cancel::new().run(Some(limit), || s.check()),
            Some(SatResult::Sat)
        );
    }
}

/// One thread for the whole process that interrupts the z3 context of a
/// query whose deadline has passed, and keeps interrupting it every
/// [`watchdog::AGAIN`] until the query ends (an interrupt that arrives
/// before z3 starts listening is lost).
pub(crate) mod watchdog {
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use super::Running;

    /// How long past its timeout a query may run before it is interrupted:
    /// z3's own timer normally stops it first.
    const GRACE: Duration = Duration::from_millis(250);
    /// How often an overdue query is interrupted again.
    pub(crate) const AGAIN: Duration = Duration::from_millis(50);

    /// When a query with time limit `limit`, starting now, is overdue.
    pub(crate) fn deadline(limit: Duration) -> Instant {
        let now = Instant::now();
        now.checked_add(limit + limit / 4 + GRACE)
            .unwrap_or(now + Duration::from_secs(365 * 24 * 3600))
    }

    struct Watched {
        id: u64,
        ctx: Running,
        deadline: Instant,
    }

    #[derive(Default)]
    struct State {
        next_id: u64,
        watched: Vec<Watched>,
        started: bool,
    }

    #[derive(Default)]
    struct Watchdog {
        state: Mutex<State>,
        wake: Condvar,
    }

    fn dog() -> &'static Watchdog {
        static DOG: OnceLock<Watchdog> = OnceLock::new();
        DOG.get_or_init(Watchdog::default)
    }

    /// A registration: the context is watched until this is dropped.
    pub(crate) struct Guard(u64);

    impl Drop for Guard {
        fn drop(&mut self) {
            let mut st = dog().state.lock().unwrap_or_else(|e| e.into_inner());
            st.watched.retain(|w| w.id != self.0);
        }
    }

    /// Watches `ctx` until the guard is dropped: past `deadline` it is
    /// interrupted. The guard must be dropped before the context can go
    /// away (it is unregistered under the lock the interrupts take).
    pub(crate) fn watch(ctx: z3_sys::Z3_context, deadline: Instant) -> Guard {
        let dog = dog();
        let mut st = dog.state.lock().unwrap_or_else(|e| e.into_inner());
        st.next_id += 1;
        let id = st.next_id;
        st.watched.push(Watched {
            id,
            ctx: Running(ctx),
            deadline,
        });
        if !st.started {
            // Without the thread, queries run on with z3's timer alone.
            st.started = std::thread::Builder::new()
                .name("loweq-watchdog".into())
                .spawn(run)
                .is_ok();
        }
        drop(st);
        dog.wake.notify_one();
        Guard(id)
    }

    fn run() {
        let dog = dog();
        let mut st = dog.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            for w in st.watched.iter_mut().filter(|w| w.deadline <= now) {
                // SAFETY: a watched context is alive while it is registered,
                // and it is unregistered under this lock (see `Guard`).
                unsafe { z3_sys::Z3_interrupt(w.ctx.0) };
                w.deadline = now + AGAIN;
            }
            st = match st.watched.iter().map(|w| w.deadline).min() {
                None => dog.wake.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(next) => {
                    let wait = next.saturating_duration_since(Instant::now());
                    dog.wake
                        .wait_timeout(st, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}
