//! Active expiry: the periodic cycle that removes keys whose TTL has passed even if
//! nobody reads them, modelled on Redis's `activeExpireCycle` (expire.c).
//!
//! The work is split into (shard, database) slots. For each slot, under that
//! shard's lock only (never several at once), up to [`KEYS_PER_LOOP`] keys are
//! sampled at random from the database's TTL index and the expired ones deleted;
//! sampling repeats while more than [`ACCEPTABLE_STALE_PERC`] percent of the
//! sample was expired and the time budget lasts. Each deletion is emitted as
//! `DEL key` in its database while the shard lock is still held (so, per key,
//! effects keep execution order) and counted in the shard's `expired_keys`. A
//! rotating start slot spreads the work over successive cycles; a cycle that runs
//! out of time resumes where it stopped.

use crate::engine::{Effect, Engine, Locks};
use bytes::Bytes;
use rand::Rng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Keys sampled per round in one database of one shard (Redis's
/// `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
pub const KEYS_PER_LOOP: usize = 20;
/// Sampling in a slot repeats while more than this percentage was expired
/// (Redis's `ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE`).
pub const ACCEPTABLE_STALE_PERC: u64 = 10;

/// What one cycle did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpireCycleStats {
    /// Shards locked (a shard is counted once per cycle even if it holds several
    /// visited databases).
    pub shards_visited: usize,
    /// (shard, database) slots that had keys with a TTL and were sampled.
    pub slots_sampled: usize,
    /// Sampling rounds run.
    pub rounds: u64,
    /// Keys examined.
    pub sampled: u64,
    /// Keys deleted.
    pub expired: u64,
    /// True when the budget ran out before every slot was visited.
    pub timed_out: bool,
    /// Fraction (0..=1) of the examined keys that were expired in this cycle.
    pub stale_perc: f64,
}

/// The rotating state of the active expiry cycle. One per engine is ideal; the
/// free function [`active_expire_cycle`] uses a process-wide one.
#[derive(Debug, Default)]
pub struct ActiveExpire {
    /// The next (shard, database) slot to start at: `shard * databases + db`.
    next: AtomicUsize,
}

impl ActiveExpire {
    pub const fn new() -> Self {
        ActiveExpire {
            next: AtomicUsize::new(0),
        }
    }

    /// Runs one cycle; see [`active_expire_cycle`].
    pub fn cycle(&self, engine: &Engine, budget: Duration) -> ExpireCycleStats {
        let mut out = ExpireCycleStats::default();
        if engine.is_loading() || !engine.active_expire_enabled() {
            return out;
        }
        let started = Instant::now();
        let shards = engine.shard_count().max(1);
        let dbs = engine.databases().max(1);
        let slots = shards * dbs;
        let first = self.next.load(Ordering::Relaxed) % slots;
        let mut rng = rand::thread_rng();
        let mut resume: Option<usize> = None;
        // The shard currently locked, with what this visit sampled and expired.
        let mut held: Option<(usize, Locks<'_>, u64, u64)> = None;

        for step in 0..slots {
            let slot = (first + step) % slots;
            let (shard_idx, db) = (slot / dbs, slot % dbs);
            if held.as_ref().is_some_and(|(i, ..)| *i != shard_idx) {
                if let Some(h) = held.take() {
                    finish_shard(h);
                }
            }
            if out.rounds > 0 && started.elapsed() >= budget {
                out.timed_out = true;
                resume = Some(slot);
                break;
            }
            let (_, locks, sh_sampled, sh_expired) = held.get_or_insert_with(|| {
                out.shards_visited += 1;
                (shard_idx, engine.lock_unsnapshotted(vec![shard_idx]), 0, 0)
            });
            let Some((_, shard)) = locks.shards_mut().next() else {
                continue;
            };
            let Some(d) = shard.dbs.get_mut(db) else {
                continue;
            };
            if d.expires.is_empty() {
                continue;
            }
            out.slots_sampled += 1;
            let now = engine.now_ms();
            loop {
                let len = d.expires.len();
                if len == 0 {
                    break;
                }
                if out.rounds > 0 && started.elapsed() >= budget {
                    out.timed_out = true;
                    resume = Some(slot);
                    break;
                }
                out.rounds += 1;
                // Few keys: check them all; otherwise sample positions at random.
                let mut sampled = 0u64;
                let mut stale: Vec<crate::keyspace::Key> = Vec::new();
                for i in 0..len.min(KEYS_PER_LOOP) {
                    let pos = if len <= KEYS_PER_LOOP {
                        i
                    } else {
                        rng.gen_range(0..len)
                    };
                    let Some(k) = d.expires.get_index(pos) else {
                        continue;
                    };
                    sampled += 1;
                    if d.map.get(k).is_some_and(|e| e.is_expired(now)) {
                        stale.push(k.clone());
                    }
                }
                let mut expired = 0u64;
                for k in stale {
                    // A key drawn twice is removed once.
                    if d.remove(&k).is_some() {
                        expired += 1;
                        shard.stats.expired_keys += 1;
                        engine.notify_one(crate::notify::EXPIRED, "expired", db, &k);
                        engine.emit(&[Effect::new(
                            db,
                            vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(&k)],
                        )]);
                    }
                }
                out.sampled += sampled;
                out.expired += expired;
                *sh_sampled += sampled;
                *sh_expired += expired;
                if sampled == 0 || expired * 100 / sampled <= ACCEPTABLE_STALE_PERC {
                    break;
                }
            }
            if resume.is_some() {
                break;
            }
        }
        if let Some(h) = held.take() {
            finish_shard(h);
        }
        // Done: next cycle starts one shard further on. Out of time: resume here.
        let next = resume.unwrap_or((first / dbs + 1) % shards * dbs);
        self.next.store(next, Ordering::Relaxed);
        if out.sampled > 0 {
            out.stale_perc = out.expired as f64 / out.sampled as f64;
        }
        out
    }
}

/// Folds a shard visit into the shard's running estimate of the share of keys
/// with a TTL that are already expired (Redis's `stat_expired_stale_perc`: a
/// moving average, 5% weight per measurement).
fn finish_shard((_, mut locks, sampled, expired): (usize, Locks<'_>, u64, u64)) {
    if sampled == 0 {
        return;
    }
    let current = expired as f64 / sampled as f64;
    for (_, shard) in locks.shards_mut() {
        let s = &mut shard.stats;
        s.expired_stale_perc = current * 0.05 + s.expired_stale_perc * 0.95;
    }
}

static GLOBAL: ActiveExpire = ActiveExpire::new();

/// One active expiry cycle over the engine, spending about `budget` of wall-clock
/// time (at least one sampling round always runs). Locks one shard at a time.
/// Does nothing while loading or when active expiry is disabled. Successive calls
/// rotate their starting point (process-wide state; use [`ActiveExpire`] for
/// per-engine state).
pub fn active_expire_cycle(engine: &Engine, budget: Duration) -> ExpireCycleStats {
    GLOBAL.cycle(engine, budget)
}

/// The estimated fraction (0..=1) of keys with a TTL that are already expired but
/// still stored, averaged over shards (INFO's `expired_stale_perc` is this times
/// 100). Locks each shard in turn.
pub fn expired_stale_perc(engine: &Engine) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    engine.for_each_shard(|_, s| {
        sum += s.stats.expired_stale_perc;
        n += 1;
    });
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::engine::testing::{engine, fx, run};
    use crate::engine::{EffectSink, EngineConfig, Session};
    use parking_lot::Mutex;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Effect>>);

    impl EffectSink for Recorder {
        fn emit(&self, effects: &[Effect]) -> u64 {
            self.0.lock().extend_from_slice(effects);
            0
        }
    }

    fn recording_engine() -> (Engine, ManualClock, Arc<Recorder>) {
        let clock = ManualClock::new(1_000_000_000_000);
        let rec = Arc::new(Recorder::default());
        let e = Engine::new(
            EngineConfig::default(),
            Arc::new(clock.clone()),
            rec.clone(),
        );
        (e, clock, rec)
    }

    fn sess(db: usize) -> Session {
        Session {
            db,
            resp: 2,
            ticket: 0,
            ..Default::default()
        }
    }

    const BIG: Duration = Duration::from_secs(3600);

    #[test]
    fn expires_only_expired_keys_and_emits_del() {
        let (e, clock, rec) = recording_engine();
        let ae = ActiveExpire::new();
        for db in [0usize, 3] {
            let mut s = sess(db);
            for i in 0..500 {
                run(&e, &mut s, &format!("SET short{i} v"));
                run(&e, &mut s, &format!("PEXPIRE short{i} 10"));
                run(&e, &mut s, &format!("SET long{i} v"));
                run(&e, &mut s, &format!("PEXPIRE long{i} 100000"));
                run(&e, &mut s, &format!("SET plain{i} v"));
            }
        }
        // Nothing is expired yet.
        let st = ae.cycle(&e, BIG);
        assert_eq!(st.expired, 0);
        assert!(st.sampled > 0);
        assert_eq!(e.dbsize(0), 1500);
        rec.0.lock().clear();

        clock.advance_ms(10);
        let mut total = 0;
        for _ in 0..100 {
            let st = ae.cycle(&e, BIG);
            assert!(!st.timed_out);
            total += st.expired;
            if e.dbsize(0) + e.dbsize(3) == 2000 {
                break;
            }
        }
        assert_eq!(total, 1000);
        assert_eq!(e.dbsize(0), 1000);
        assert_eq!(e.dbsize(3), 1000);
        assert_eq!(e.keyspace_info()[0], (1000, 500));
        assert_eq!(e.keyspace_info()[3], (1000, 500));
        assert_eq!(e.stats().expired_keys, 1000);
        let effects = rec.0.lock().clone();
        assert_eq!(effects.len(), 1000);
        let mut per_db: HashSet<(usize, String)> = HashSet::new();
        for line in fx(&effects) {
            let (db, rest) = line.split_once(' ').unwrap_or_default();
            let key = rest.strip_prefix("DEL ").unwrap_or_default();
            assert!(key.starts_with("short"), "{line}");
            per_db.insert((db.parse().unwrap_or(99), key.to_string()));
        }
        assert_eq!(per_db.len(), 1000);
        assert!(per_db.iter().all(|(db, _)| *db == 0 || *db == 3));
        // The surviving keys are intact.
        let mut s = sess(3);
        assert_eq!(
            run(&e, &mut s, "TTL long7").0,
            keel_protocol::Frame::Integer(100)
        );
        assert_eq!(
            run(&e, &mut s, "GET plain7").0,
            keel_protocol::Frame::bulk("v")
        );
        assert_eq!(
            run(&e, &mut s, "EXISTS short7").0,
            keel_protocol::Frame::Integer(0)
        );
    }

    #[test]
    fn one_full_cycle_cleans_a_mostly_expired_keyspace() {
        let (e, clock) = engine();
        let ae = ActiveExpire::new();
        let mut s = sess(0);
        for i in 0..2000 {
            run(&e, &mut s, &format!("SET k{i} v"));
            run(&e, &mut s, &format!("PEXPIRE k{i} 5"));
        }
        clock.advance_ms(5);
        let st = ae.cycle(&e, BIG);
        // Sampling repeats while more than 10% is stale, down to the last few.
        assert_eq!(st.expired, 2000);
        assert_eq!(e.dbsize(0), 0);
        assert_eq!(st.shards_visited, e.shard_count());
        // Random sampling may draw a key twice; it is removed (and counted) once.
        assert!(
            st.stale_perc > 0.5 && st.stale_perc <= 1.0,
            "{}",
            st.stale_perc
        );
        assert!(expired_stale_perc(&e) > 0.0);
    }

    #[test]
    fn skipped_while_loading_or_disabled() {
        let (e, clock) = engine();
        let ae = ActiveExpire::new();
        let mut s = sess(0);
        run(&e, &mut s, "SET k v");
        run(&e, &mut s, "PEXPIRE k 1");
        clock.advance_ms(1);
        e.set_active_expire(false);
        assert_eq!(ae.cycle(&e, BIG), ExpireCycleStats::default());
        e.set_active_expire(true);
        e.set_loading(true);
        assert_eq!(ae.cycle(&e, BIG), ExpireCycleStats::default());
        assert_eq!(active_expire_cycle(&e, BIG), ExpireCycleStats::default());
        e.set_loading(false);
        assert_eq!(e.dbsize(0), 1);
        assert_eq!(ae.cycle(&e, BIG).expired, 1);
        assert_eq!(e.dbsize(0), 0);
        assert_eq!(e.stats().expired_keys, 1);
    }

    #[test]
    fn zero_budget_makes_progress_and_rotates() {
        let (e, clock) = engine();
        let ae = ActiveExpire::new();
        for db in 0..4 {
            let mut s = sess(db);
            for i in 0..200 {
                run(&e, &mut s, &format!("SET k{i} v"));
                run(&e, &mut s, &format!("PEXPIRE k{i} 5"));
            }
        }
        clock.advance_ms(5);
        let st = ae.cycle(&e, Duration::ZERO);
        assert!(st.timed_out);
        assert_eq!(st.rounds, 1);
        assert!(st.shards_visited >= 1);
        assert!(st.expired > 0);
        let mut cycles = 1;
        while (0..4).map(|db| e.dbsize(db)).sum::<usize>() > 0 {
            let st = ae.cycle(&e, Duration::ZERO);
            assert!(st.rounds <= 1);
            cycles += 1;
            assert!(cycles < 100_000, "no progress");
        }
        assert_eq!(e.stats().expired_keys, 800);
    }

    #[test]
    fn rotation_after_complete_cycle() {
        let (e, _) = engine();
        let ae = ActiveExpire::new();
        let dbs = e.databases();
        ae.cycle(&e, BIG);
        assert_eq!(ae.next.load(Ordering::Relaxed), dbs);
        ae.cycle(&e, BIG);
        assert_eq!(ae.next.load(Ordering::Relaxed), 2 * dbs);
        ae.next
            .store((e.shard_count() - 1) * dbs + 5, Ordering::Relaxed);
        ae.cycle(&e, BIG);
        assert_eq!(ae.next.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn concurrent_commands_and_cycles_agree() {
        let (e, clock) = engine();
        let e = Arc::new(e);
        let mut s = sess(0);
        for i in 0..3000 {
            run(&e, &mut s, &format!("SET k{i} v"));
            run(&e, &mut s, &format!("PEXPIRE k{i} 3"));
        }
        clock.advance_ms(3);
        let worker = {
            let e = e.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    active_expire_cycle(&e, Duration::from_millis(1));
                }
            })
        };
        let mut s2 = sess(0);
        for i in 0..3000 {
            run(&e, &mut s2, &format!("GET k{i}"));
        }
        let _ = worker.join();
        assert_eq!(e.dbsize(0), 0);
        assert_eq!(e.stats().expired_keys, 3000);
    }
}
