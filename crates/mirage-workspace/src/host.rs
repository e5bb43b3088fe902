//! Command dispatch for the shell: finds the handler in seed 001's order
//! (`(name, resource, filetype)` → `(name, resource)` → `(name)`) from the
//! first path operand's mount and extension, and runs it.

use std::sync::Arc;

use async_trait::async_trait;
use mirage_types::args::{PathOperands, parse};
use mirage_types::command::{CommandCtx, CommandHost};
use mirage_types::{Input, PathSpec, Vfs};

use crate::dev::{DevStreams, StdStream, std_stream};

/// The [`CommandHost`] of a workspace.
pub struct WorkspaceHost {
    vfs: Arc<dyn Vfs>,
}

impl WorkspaceHost {
    /// A host over the router `vfs`.
    pub fn new(vfs: Arc<dyn Vfs>) -> Self {
        WorkspaceHost { vfs }
    }
}

#[async_trait]
impl CommandHost for WorkspaceHost {
    fn vfs(&self) -> Arc<dyn Vfs> {
        self.vfs.clone()
    }

    fn has_command(&self, name: &str) -> bool {
        mirage_commands::resolve(name, None, None).is_some()
    }

    async fn run(&self, ctx: &mut CommandCtx) -> i32 {
        let Some(general) = mirage_commands::resolve(&ctx.name, None, None) else {
            let msg = format!("mirage: {}: command not found\n", ctx.name);
            let _ = ctx.stderr.write(msg.as_bytes()).await;
            let _ = ctx.stderr.flush().await;
            return 127;
        };
        // PathSpec of the first path operand picks resource and filetype.
        let first_path = match general.spec.paths {
            PathOperands::None => None,
            kind => parse(general.spec, &ctx.args).ok().and_then(|p| {
                let skip = usize::from(kind == PathOperands::SkipFirst);
                p.operands.into_iter().skip(skip).find(|o| o != "-")
            }),
        };
        let mut handler = general;
        if let Some(op) = first_path {
            let spec = PathSpec::new(ctx.resolve(&op));
            if let Some(m) = self.vfs.mount_of(&spec.original) {
                let ft = spec.filetype();
                if let Some(h) =
                    mirage_commands::resolve(&ctx.name, Some(&m.resource), ft.as_deref())
                {
                    handler = h;
                }
                ctx.mount = Some(m);
            }
        }
        bind_std_streams(ctx);
        tracing::debug!(command = %ctx.name, resource = ?handler.resource, filetype = ?handler.filetype, "dispatch");
        let status = (handler.handler)(ctx).await;
        let _ = ctx.stdout.flush().await;
        let _ = ctx.stderr.flush().await;
        status
    }
}

/// When an operand names `/dev/stdin`, `/dev/stdout`, `/dev/stderr` or
/// `/dev/fd/0`–`2` (also as `--opt=PATH`), puts a [`DevStreams`] overlay in
/// front of the command's VFS so those paths are the command's own streams.
/// An operand naming stdin moves `ctx.stdin` into the overlay: the command
/// reads it through the path (its `-` then reads nothing).
fn bind_std_streams(ctx: &mut CommandCtx) {
    let mut any = false;
    let mut reads_stdin = false;
    for a in &ctx.args {
        if !a.contains("dev/") && !ctx.cwd.starts_with("/dev") {
            continue;
        }
        let p = a.rsplit_once('=').map_or(a.as_str(), |(_, v)| v);
        match std_stream(&ctx.resolve(p)) {
            Some(StdStream::Stdin) => {
                any = true;
                reads_stdin = true;
            }
            Some(_) => any = true,
            None => {}
        }
    }
    if !any {
        return;
    }
    let stdin = if reads_stdin {
        std::mem::replace(&mut ctx.stdin, Input::empty())
    } else {
        Input::empty()
    };
    let overlay = DevStreams::new(
        ctx.vfs.clone(),
        stdin,
        ctx.stdout.sink().clone(),
        ctx.stderr.sink().clone(),
    );
    ctx.vfs = Arc::new(overlay);
}
