//! String commands (GET, SET and family).

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[("get", Scope::Keys, get), ("set", Scope::Keys, set)];

fn get(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match ctx.lookup_read(&argv[1]) {
        None => Frame::Null,
        Some(e) => match &e.value {
            Value::Str { data, .. } => Frame::Bulk(data.clone()),
        },
    }
}

fn set(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    if argv.len() != 3 {
        return err(ERR_SYNTAX);
    }
    let key = argv[1].clone();
    let now = ctx.now;
    ctx.insert(key.clone(), Entry::new(Value::string(argv[2].clone()), 0, now));
    ctx.emit(vec![s("SET"), key, argv[2].clone()]);
    Frame::ok()
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::{engine, fx, run};
    use crate::engine::Session;
    use keel_protocol::Frame;

    #[test]
    fn set_get() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (r, fxs) = run(&e, &mut s, "SET k v");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&fxs), vec!["0 SET k v"]);
        assert_eq!(run(&e, &mut s, "GET k").0, Frame::bulk("v"));
        assert!(run(&e, &mut s, "GET k").1.is_empty());
    }
}
