//! `Signal`: a flag that any thread raises and one connection's task waits on.
//!
//! A connection's loop waits on two of these on every turn, beside its socket:
//! CLIENT KILL (`ClientHandle::kill`) and a worker that could not write all of
//! the connection's deferred replies (`Output::stuck`). They used to be
//! `tokio::sync::Notify`s, whose wait joins a mutex-guarded waiter list when it
//! is first polled and leaves it when dropped. The loop's `select!` builds and
//! drops both waits on every turn: at pipeline 1, where a turn is one request,
//! `Signal`s take 430-500 instructions off a GET's 5,200 in user space
//! (callgrind; BENCHMARKS.md).
//!
//! A `Signal` is an atomic flag plus the waiting task's waker. Waiting checks
//! the flag; only a wait that must sleep takes the small lock around the waker,
//! and stores a clone only if the task's waker changed (it is kept, not taken,
//! when the signal is raised, so the next wait of the same task finds it). The
//! waker is the connection task's own: one task waits on a given signal.

use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct Signal {
    raised: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    /// Raises the flag and wakes the task waiting on it, if any. The flag stays
    /// raised until [`Signal::take`].
    pub fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        // Whoever registers after this lock sees the flag on its second check
        // (see `poll_raised`); whoever registered before is woken here.
        if let Some(w) = &*self.waker.lock() {
            w.wake_by_ref();
        }
    }

    pub fn is_raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }

    /// Lowers the flag, answering whether it was raised (a one-shot event
    /// consumed).
    pub fn take(&self) -> bool {
        self.raised.swap(false, Ordering::SeqCst)
    }

    /// Completes once the flag is raised (at once if it already is). Does not
    /// lower it.
    pub fn raised(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| self.poll_raised(cx))
    }

    fn poll_raised(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_raised() {
            return Poll::Ready(());
        }
        {
            let mut w = self.waker.lock();
            if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *w = Some(cx.waker().clone());
            }
        }
        // Checked again after registering: a `raise` whose store this misses
        // comes after it in the flag's order, so its lock comes after this
        // unlock and it finds the waker stored above.
        if self.is_raised() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_raise_wakes_the_waiting_task_and_stays_until_taken() {
        let s = Arc::new(Signal::default());
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.raised().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        s.raise();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter was not woken")
            .unwrap();
        // Still raised: a later wait completes at once, until it is taken.
        s.raised().await;
        assert!(s.take());
        assert!(!s.take());
        assert!(!s.is_raised());
    }

    /// A waker that records being woken.
    struct Flag(std::sync::atomic::AtomicBool);
    impl std::task::Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn no_raise_is_lost_between_the_check_and_the_sleep() {
        // A raiser on another thread fires just as the waiter polls, many
        // times. Every poll that answered Pending must have been woken once
        // the raiser is done: a raise landing between the poll's first check
        // of the flag and its storing the waker would otherwise be lost.
        let mut pending = 0;
        for _ in 0..20_000 {
            let s = Arc::new(Signal::default());
            let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let raiser = {
                let (s, go) = (s.clone(), go.clone());
                std::thread::spawn(move || {
                    while !go.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                    s.raise();
                })
            };
            let woken = Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
            let waker = Waker::from(woken.clone());
            let mut cx = Context::from_waker(&waker);
            go.store(true, Ordering::Release);
            let polled = s.poll_raised(&mut cx);
            raiser.join().unwrap();
            if polled.is_pending() {
                pending += 1;
                assert!(woken.0.load(Ordering::SeqCst), "a raise was lost");
            }
        }
        // The race was run: some polls came before their raise.
        assert!(pending > 0);
    }
}
