//! SLOWLOG and LATENCY: commands slower than the configured thresholds.

use bytes::Bytes;
use keel_protocol::Frame;
use std::collections::{BTreeMap, VecDeque};

pub struct SlowEntry {
    pub id: u64,
    pub time: u64,
    pub duration_us: u64,
    pub argv: Vec<Bytes>,
    pub addr: String,
    pub name: String,
}

#[derive(Default)]
pub struct SlowLog {
    pub entries: VecDeque<SlowEntry>,
    pub next_id: u64,
}

impl SlowLog {
    /// Adds an entry, keeping at most `max_len`. Arguments are trimmed as Redis
    /// trims them: at most 32, each at most 128 bytes.
    pub fn push(&mut self, mut e: SlowEntry, max_len: usize) {
        e.id = self.next_id;
        self.next_id += 1;
        let argc = e.argv.len();
        if argc > 32 {
            e.argv.truncate(31);
            e.argv
                .push(Bytes::from(format!("... ({} more arguments)", argc - 31)));
        }
        for a in e.argv.iter_mut() {
            if a.len() > 128 {
                let more = a.len() - 128;
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
                *a = Bytes::from(v);
            } else {
                // A copy: a slice would keep the client's whole read buffer
                // alive for as long as the entry stays in the log.
                *a = Bytes::copy_from_slice(a);
            }
        }
        self.entries.push_front(e);
        while self.entries.len() > max_len {
            self.entries.pop_back();
        }
    }

    pub fn get(&self, count: Option<usize>) -> Frame {
        let n = count.unwrap_or(10).min(self.entries.len());
        Frame::Array(
            self.entries
                .iter()
                .take(n)
                .map(|e| {
                    Frame::Array(vec![
                        Frame::Integer(e.id as i64),
                        Frame::Integer(e.time as i64),
                        Frame::Integer(e.duration_us as i64),
                        Frame::Array(e.argv.iter().cloned().map(Frame::Bulk).collect()),
                        Frame::bulk(e.addr.clone()),
                        Frame::bulk(e.name.clone()),
                    ])
                })
                .collect(),
        )
    }
}

/// Latency events: the last 160 samples of each, as Redis keeps.
#[derive(Default)]
pub struct Latency {
    pub events: BTreeMap<String, (VecDeque<(u64, u64)>, u64)>, // samples (ts, ms), max
}

impl Latency {
    pub fn add(&mut self, event: &str, ts: u64, ms: u64) {
        let e = self.events.entry(event.to_string()).or_default();
        if let Some(last) = e.0.back_mut() {
            if last.0 == ts {
                last.1 = last.1.max(ms);
                e.1 = e.1.max(ms);
                return;
            }
        }
        e.0.push_back((ts, ms));
        if e.0.len() > 160 {
            e.0.pop_front();
        }
        e.1 = e.1.max(ms);
    }
}
