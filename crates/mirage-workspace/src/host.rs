//! Command dispatch for the shell: finds the handler in seed 001's order
//! (`(name, resource, filetype)` → `(name, resource)` → `(name)`) from the
//! first path operand's mount and extension, enforces `exec` mode for
//! side-effecting commands, and runs it.
//!
//! - The path operands are found with the command's own spec
//!   ([`PathOperands::select`](mirage_types::args::PathOperands::select)):
//!   the general handler's spec, or, for a command registered only for
//!   resources, each resource handler's spec in turn. A path after
//!   `grep -e PATTERN` is a path.
//! - A command registered only for resources (no general handler) runs when
//!   its first path operand (with none, the working directory) is on a mount
//!   of one of those resources; anywhere else it is `command not found`
//!   (127), and [`CommandHost::has_command`] says so only when the workspace
//!   mounts such a resource.
//! - A command registered with [`Effect::Exec`] runs only when every path
//!   operand (with none, the working directory) is on an `exec` mount;
//!   otherwise `NAME: PATH: Permission denied (mount is not exec)`, status 1.

use std::sync::Arc;

use async_trait::async_trait;
use mirage_types::args::parse;
use mirage_types::command::{CommandCtx, CommandHost, CommandRegistration, Effect};
use mirage_types::{Input, MountInfo, MountMode, PathSpec, Vfs};

use crate::dev::{DevStreams, StdStream, std_stream};

/// The [`CommandHost`] of a workspace.
pub struct WorkspaceHost {
    vfs: Arc<dyn Vfs>,
    caches: Vec<(String, Arc<mirage_recall::MountCache>)>,
}

impl WorkspaceHost {
    /// A host over the router `vfs`, with Recall's handles of the cached
    /// mounts (for the `cache` command).
    pub fn new(vfs: Arc<dyn Vfs>, caches: Vec<(String, Arc<mirage_recall::MountCache>)>) -> Self {
        WorkspaceHost { vfs, caches }
    }
}

/// The name of the workspace's own command over Recall: `cache stats
/// [--json]`, `cache forget PATH...`, `cache refresh PATH...` (rclone's
/// `vfs/stats`, `vfs/forget`, `vfs/refresh`).
pub const CACHE_COMMAND: &str = "cache";

/// Drops every cached entry of the virtual `path` and below it. Errors:
/// `InvalidInput` when no cached mount holds `path`.
pub(crate) async fn cache_forget(
    caches: &[(String, Arc<mirage_recall::MountCache>)],
    path: &str,
) -> mirage_types::Result<()> {
    let p = mirage_types::normalize_path(path);
    let mut hit = false;
    for (prefix, mc) in caches {
        if prefix == "/" || p == *prefix || p.starts_with(&format!("{prefix}/")) {
            mc.forget(&mirage_types::strip_mount_prefix(&p, prefix))
                .await;
            hit = true;
        } else if prefix.starts_with(&format!("{}/", p.trim_end_matches('/'))) {
            // a parent of the mount: forget the whole mount
            mc.forget("/").await;
            hit = true;
        }
    }
    if hit {
        Ok(())
    } else {
        Err(mirage_types::Error::msg(
            mirage_types::ErrorKind::InvalidInput,
            "not on a cached mount",
        ))
    }
}

impl WorkspaceHost {
    async fn run_cache(&self, ctx: &mut CommandCtx) -> i32 {
        let args = ctx.args.clone();
        let usage = "usage: cache stats [--json] | cache forget PATH... | cache refresh PATH...";
        match args.first().map(String::as_str) {
            Some("stats") => {
                let json = args.get(1).is_some_and(|a| a == "--json");
                let mut out = String::new();
                if json {
                    let v: serde_json::Map<String, serde_json::Value> = self
                        .caches
                        .iter()
                        .map(|(p, c)| {
                            (
                                p.clone(),
                                serde_json::to_value(c.stats()).unwrap_or_default(),
                            )
                        })
                        .collect();
                    out = serde_json::Value::Object(v).to_string();
                    out.push('\n');
                } else {
                    out.push_str("MOUNT\tHITS\tMISSES\tBYTES_SERVED\tBACKEND_REQUESTS\tREVALIDATED\tCONFLICTS\n");
                    for (p, c) in &self.caches {
                        let s = c.stats();
                        out.push_str(&format!(
                            "{p}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                            s.hits,
                            s.misses,
                            s.bytes_served,
                            s.backend_requests,
                            s.revalidated,
                            s.conflicts
                        ));
                    }
                }
                let _ = ctx.stdout.write_str(&out).await;
                let _ = ctx.stdout.flush().await;
                0
            }
            Some(op @ ("forget" | "refresh")) if args.len() > 1 => {
                let mut status = 0;
                for a in &args[1..] {
                    let p = if a.starts_with('/') {
                        a.clone()
                    } else {
                        format!("{}/{a}", ctx.cwd.trim_end_matches('/'))
                    };
                    let mut r = cache_forget(&self.caches, &p).await;
                    if r.is_ok() && op == "refresh" {
                        r = match self.vfs.stat(&p).await {
                            Ok(st) if st.is_dir() => self.vfs.readdir(&p).await.map(|_| ()),
                            Ok(_) => Ok(()),
                            Err(e) => Err(e),
                        };
                    }
                    if let Err(e) = r {
                        ctx.error(format!("{a}: {}", e.message())).await;
                        status = 1;
                    }
                }
                status
            }
            _ => {
                ctx.error(usage).await;
                2
            }
        }
    }
}

/// The handler dispatch picked for one command line.
struct Choice {
    handler: &'static CommandRegistration,
    /// The mount of the first path operand (for a resource-only command
    /// without one, the working directory's mount).
    mount: Option<MountInfo>,
    /// The path operands as given (`-` left out).
    paths: Vec<String>,
}

/// The path operands of `args` by `reg`'s spec (`-` left out); none when
/// the arguments do not parse (the handler reports that).
fn path_operands(reg: &CommandRegistration, args: &[String]) -> Vec<String> {
    parse(reg.spec, args)
        .map(|p| {
            reg.spec
                .paths
                .select(&p)
                .iter()
                .filter(|o| *o != "-")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

impl WorkspaceHost {
    /// Seed 001's resolution for `ctx`; `None` when no handler can run
    /// here (no command of that name, or only handlers for resources that
    /// do not hold the path).
    fn choose(&self, ctx: &CommandCtx) -> Option<Choice> {
        let general = mirage_commands::resolve(&ctx.name, None, None);
        // The registrations whose spec finds the path operands: the general
        // one, else each resource handler (the first that matches its mount wins).
        let specs: Vec<&'static CommandRegistration> = match general {
            Some(g) => vec![g],
            None => mirage_commands::registry::registrations(&ctx.name)
                .filter(|r| r.resource.is_some())
                .collect(),
        };
        for reg in specs {
            let paths = path_operands(reg, &ctx.args);
            let (mount, filetype) = match paths.first() {
                Some(op) => {
                    let spec = PathSpec::new(ctx.resolve(op));
                    (self.vfs.mount_of(&spec.original), spec.filetype())
                }
                None if general.is_none() => (self.vfs.mount_of(&ctx.cwd), None),
                None => (None, None),
            };
            let specific = mount.as_ref().and_then(|m| {
                mirage_commands::resolve(&ctx.name, Some(&m.resource), filetype.as_deref())
            });
            match (specific, general) {
                (Some(handler), _) | (None, Some(handler)) => {
                    return Some(Choice {
                        handler,
                        mount,
                        paths,
                    });
                }
                (None, None) => {}
            }
        }
        None
    }

    /// For an [`Effect::Exec`] command: the first path (as given; the cwd
    /// when there is none) that is not on an `exec` mount.
    fn not_exec(&self, ctx: &CommandCtx, paths: &[String]) -> Option<String> {
        let on_exec = |p: &str| {
            self.vfs
                .mount_of(&ctx.resolve(p))
                .is_some_and(|m| m.mode == MountMode::Exec)
        };
        if paths.is_empty() {
            return (!on_exec(&ctx.cwd)).then(|| ctx.cwd.clone());
        }
        paths.iter().find(|p| !on_exec(p)).cloned()
    }
}

#[async_trait]
impl CommandHost for WorkspaceHost {
    fn vfs(&self) -> Arc<dyn Vfs> {
        self.vfs.clone()
    }

    /// A general command, or one registered for a resource this workspace
    /// mounts (it runs on that mount).
    fn has_command(&self, name: &str) -> bool {
        name == CACHE_COMMAND
            || mirage_commands::resolve(name, None, None).is_some()
            || self
                .vfs
                .mounts()
                .iter()
                .any(|m| mirage_commands::registry::runs_on(name, &m.resource))
    }

    fn resolves(&self, ctx: &CommandCtx) -> bool {
        ctx.name == CACHE_COMMAND || self.choose(ctx).is_some()
    }

    /// Every registered command [`CommandHost::has_command`] finds here
    /// (the general ones and those of the mounted resources), sorted.
    fn command_names(&self) -> Vec<String> {
        let mut v: Vec<String> = mirage_commands::registry::command_names()
            .into_iter()
            .filter(|n| self.has_command(n))
            .map(String::from)
            .chain(std::iter::once(CACHE_COMMAND.to_string()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    async fn run(&self, ctx: &mut CommandCtx) -> i32 {
        if ctx.name == CACHE_COMMAND
            && mirage_commands::resolve(CACHE_COMMAND, None, None).is_none()
        {
            return self.run_cache(ctx).await;
        }
        let Some(choice) = self.choose(ctx) else {
            let msg = format!("mirage: {}: command not found\n", ctx.name);
            let _ = ctx.stderr.write_str(&msg).await;
            let _ = ctx.stderr.flush().await;
            return 127;
        };
        let handler = choice.handler;
        // GNU's standard `--help` / `--version`, answered from the spec for
        // every command (as getopt meets them: an earlier bad option is the
        // command's own usage error).
        if let Some(which) = mirage_types::args::standard_request(handler.spec, &ctx.args) {
            let text = if which == mirage_types::args::HELP_KEY {
                mirage_types::args::help_text(handler.spec)
            } else {
                mirage_types::args::version_text(handler.spec)
            };
            let status = match ctx.stdout.write_str(&text).await {
                Ok(()) => 0,
                Err(e) if e.kind == mirage_types::ErrorKind::BrokenPipe => 141,
                Err(_) => 1,
            };
            let _ = ctx.stdout.flush().await;
            return status;
        }
        if handler.effect == Effect::Exec
            && let Some(p) = self.not_exec(ctx, &choice.paths)
        {
            ctx.error(format!("{p}: Permission denied (mount is not exec)"))
                .await;
            return 1;
        }
        if choice.mount.is_some() {
            ctx.mount = choice.mount;
        }
        bind_std_streams(ctx);
        let span = tracing::debug_span!(
            "command",
            name = %ctx.name,
            resource = ?handler.resource,
            filetype = ?handler.filetype,
            status = tracing::field::Empty,
        );
        let status = tracing::Instrument::instrument((handler.handler)(ctx), span.clone()).await;
        span.record("status", status);
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
