//! keel's wire protocol: RESP2 and RESP3, with no I/O.
//!
//! This crate owns the bytes. [`RequestParser`] turns what a client sent (multibulk
//! requests as client libraries send them, or inline commands as telnet and redis-cli
//! send them) into argument vectors, enforcing Redis's protocol limits with Redis's
//! error texts. [`Frame`] is a reply, and [`Frame::encode`] writes it in RESP2 or RESP3.
//! Nothing here touches a socket, so the server, the AOF loader and tests share it.

mod frame;
mod parse;

pub use frame::{format_double, BulkArray, Frame};
pub use parse::{split_inline_args, Limits, ProtocolError, RequestParser};
