//! `touch`: create empty files, as GNU coreutils 9.1 `touch` (`-c`; `-a`,
//! `-m`, `-d`, `-t`, `-r` are accepted, times are kept by the resource).
//! An existing file keeps its contents. Errors read `touch: cannot touch
//! 'x': No such file or directory` or `… Read-only file system`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ByteSource, ErrorKind};

use crate::util::parse_args;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("no-create", Some('c'), Some("no-create")),
    OptSpec::flag("access", Some('a'), None),
    OptSpec::flag("modify", Some('m'), None),
    OptSpec::value("date", Some('d'), Some("date")),
    OptSpec::value("stamp", Some('t'), None),
    OptSpec::value("reference", Some('r'), Some("reference")),
    OptSpec::value("time", None, Some("time")),
    OptSpec::flag("no-dereference", Some('h'), Some("no-dereference")),
    OptSpec::flag("f", Some('f'), None),
];

/// The spec of `touch`.
pub static SPEC: CommandSpec = CommandSpec::new("touch", OPTS, PathOperands::All);

crate::register_command!("touch", SPEC, run, true);

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        if p.operands.is_empty() {
            ctx.error("missing file operand\nTry 'touch --help' for more information.").await;
            return 1;
        }
        if let Some(r) = p.value("reference") {
            let abs = ctx.resolve(r);
            if let Err(e) = ctx.vfs.stat(&abs).await {
                ctx.error(format!("failed to get attributes of '{r}': {}", e.message())).await;
                return 1;
            }
        }
        let no_create = p.has("no-create");
        let mut status = 0;
        for op in &p.operands {
            let abs = ctx.resolve(op);
            match ctx.vfs.stat(&abs).await {
                Ok(_) => {
                    // the file exists: its contents stay; a read-only mount still refuses
                    if let Some(m) = ctx.vfs.mount_of(&abs) {
                        if !m.mode.allows_write() {
                            ctx.error(format!("cannot touch '{op}': {}", ErrorKind::ReadOnly.gnu_message())).await;
                            status = 1;
                        }
                    }
                }
                Err(e) if e.kind == ErrorKind::NotFound => {
                    if no_create {
                        continue;
                    }
                    if op.ends_with('/') {
                        ctx.error(format!("setting times of '{op}': No such file or directory")).await;
                        status = 1;
                        continue;
                    }
                    match ctx.vfs.write(&abs, ByteSource::empty()).await {
                        Ok(()) => ctx.io.wrote(&abs),
                        Err(e) => {
                            ctx.error(format!("cannot touch '{op}': {}", e.message())).await;
                            status = 1;
                        }
                    }
                }
                Err(e) => {
                    ctx.error(format!("cannot touch '{op}': {}", e.message())).await;
                    status = 1;
                }
            }
        }
        status
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn creates_keeps_and_reports() {
        let v = MemVfs::with(&[("/d/keep", "keep me\n")]);
        assert_eq!(run_cmd(&v, run, "touch", &["/d/new", "keep"], "/d", "").2, 0);
        let t = v.tree.lock().unwrap();
        assert_eq!(t.get("/d/new").cloned().flatten().map(|b| b.len()), Some(0));
        assert_eq!(t.get("/d/keep").cloned().flatten().map(|b| b.to_vec()), Some(b"keep me\n".to_vec()));
        drop(t);
        assert_eq!(run_cmd(&v, run, "touch", &["-c", "/d/nope"], "/", "").2, 0);
        assert!(!v.tree.lock().unwrap().contains_key("/d/nope"));
        let (_, e, s) = run_cmd(&v, run, "touch", &["/x/y"], "/", "");
        assert_eq!((e.as_str(), s), ("touch: cannot touch '/x/y': No such file or directory\n", 1));
        let (_, e, s) = run_cmd(&v, run, "touch", &["/ro/y"], "/", "");
        assert_eq!((e.as_str(), s), ("touch: cannot touch '/ro/y': Read-only file system\n", 1));
    }
}
