//! Command dispatch for the shell: finds the handler in seed 001's order
//! (`(name, resource, filetype)` → `(name, resource)` → `(name)`) from the
//! first path operand's mount and extension, and runs it.

use std::sync::Arc;

use async_trait::async_trait;
use mirage_types::args::{PathOperands, parse};
use mirage_types::command::{CommandCtx, CommandHost};
use mirage_types::{PathSpec, Vfs};

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
                if let Some(h) = mirage_commands::resolve(&ctx.name, Some(&m.resource), ft.as_deref()) {
                    handler = h;
                }
                ctx.mount = Some(m);
            }
        }
        tracing::debug!(command = %ctx.name, resource = ?handler.resource, filetype = ?handler.filetype, "dispatch");
        let status = (handler.handler)(ctx).await;
        let _ = ctx.stdout.flush().await;
        let _ = ctx.stderr.flush().await;
        status
    }
}
