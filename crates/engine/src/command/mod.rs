//! Commands: Redis 7's declared facts about each (`facts`, generated), their shape
//! (`spec`), and the table that joins them with keel's implementations (`table`).

#[rustfmt::skip]
#[allow(clippy::all)]
pub mod facts;
pub mod facts_extra;
pub mod spec;
pub mod table;
