//! keel-server: everything that touches sockets, configuration and the process.
//! Connections (`conn`) turn bytes into argument vectors with `keel_protocol`, run
//! them through the engine's command table (engine commands) or `commands` (server
//! commands), and write the encoded replies back (`output`: with one worker
//! thread, all of a worker's replies at once, at the end of its turn). `config`
//! parses redis.conf-style files and options; `info` renders INFO; `server` owns
//! the listeners, the shared state, the cron thread and shutdown.

pub mod aof;
pub mod blocking;
pub mod clients;
pub mod commands;
pub mod config;
pub mod conn;
pub mod info;
pub mod log;
pub mod multi;
pub mod output;
pub mod pubsub;
pub mod server;
pub mod signal;
pub mod slowlog;
pub mod summaries;
pub mod touched;
