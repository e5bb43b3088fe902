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

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use mirage_types::args::{CommandSpec, parse};
use mirage_types::command::{CommandCtx, CommandFn, CommandHost, CommandRegistration, Effect};
use mirage_types::{Input, MountInfo, MountMode, PathSpec, Vfs};

use crate::dev::{DevStreams, StdStream, std_stream};

/// The [`CommandHost`] of a workspace.
pub struct WorkspaceHost {
    vfs: Arc<dyn Vfs>,
    caches: Vec<(String, Arc<mirage_recall::MountCache>)>,
    /// Commands added at run time ([`crate::Workspace::register_command`]),
    /// newest first: at each level of the resolution order they are tried
    /// before the link-time registrations.
    custom: RwLock<Vec<Arc<CustomCommand>>>,
    /// The network its commands get ([`CommandCtx::net`]); `None`: none.
    net: Option<Arc<dyn mirage_types::net::Network>>,
}

impl WorkspaceHost {
    /// A host over the router `vfs`, with Recall's handles of the cached
    /// mounts (for the `cache` command).
    pub fn new(vfs: Arc<dyn Vfs>, caches: Vec<(String, Arc<mirage_recall::MountCache>)>) -> Self {
        WorkspaceHost {
            vfs,
            caches,
            custom: RwLock::new(Vec::new()),
            net: None,
        }
    }

    /// Sets the network every command run here gets (`None`: no network).
    pub fn set_network(&mut self, net: Option<Arc<dyn mirage_types::net::Network>>) {
        self.net = net;
    }

    /// Adds (or, for the same name and scope, replaces) a command of this
    /// workspace (see [`crate::Workspace::register_command`]).
    pub fn register(&self, cmd: CustomCommand) {
        let mut v = match self.custom.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        v.retain(|c| {
            !(c.name == cmd.name && c.resource == cmd.resource && c.filetype == cmd.filetype)
        });
        v.insert(0, Arc::new(cmd));
    }

    fn customs(&self) -> Vec<Arc<CustomCommand>> {
        match self.custom.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// A command added to one workspace at run time, as seed 001's `@command`
/// decorator adds one: for every resource (`resource: None`), for one
/// resource type (`Some("s3")`), or for one file type on it or on all
/// (`filetype: Some("parquet")`, the extension without its dot).
#[derive(Clone)]
pub struct CustomCommand {
    /// The command name.
    pub name: String,
    /// The resource type it is for (`"s3"`), or `None` for every mount.
    pub resource: Option<String>,
    /// The file extension it is for (`"parquet"`), or `None`.
    pub filetype: Option<String>,
    /// Its options and operands (for finding the path operands, and for
    /// `--help`).
    pub spec: &'static CommandSpec,
    /// Its side effects ([`Effect::Exec`] runs only on `exec` mounts).
    pub effect: Effect,
    /// The handler (write it with [`mirage_types::command_handler!`]).
    pub handler: CommandFn,
}

impl CustomCommand {
    /// A command for every mount, reading only.
    pub fn new(name: impl Into<String>, spec: &'static CommandSpec, handler: CommandFn) -> Self {
        CustomCommand {
            name: name.into(),
            resource: None,
            filetype: None,
            spec,
            effect: Effect::Read,
            handler,
        }
    }

    /// Limits it to mounts of resource type `resource` (`"s3"`).
    pub fn for_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Limits it to files with extension `filetype` (`"parquet"`).
    pub fn for_filetype(mut self, filetype: impl Into<String>) -> Self {
        self.filetype = Some(filetype.into().trim_start_matches('.').to_string());
        self
    }

    /// Declares its side effects.
    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.effect = effect;
        self
    }
}

/// A handler found by dispatch: one registered at link time or one added
/// to this workspace.
#[derive(Clone)]
enum Handler {
    Static(&'static CommandRegistration),
    Custom(Arc<CustomCommand>),
}

impl Handler {
    fn spec(&self) -> &'static CommandSpec {
        match self {
            Handler::Static(r) => r.spec,
            Handler::Custom(c) => c.spec,
        }
    }
    fn effect(&self) -> Effect {
        match self {
            Handler::Static(r) => r.effect,
            Handler::Custom(c) => c.effect,
        }
    }
    fn func(&self) -> CommandFn {
        match self {
            Handler::Static(r) => r.handler,
            Handler::Custom(c) => c.handler,
        }
    }
    fn resource(&self) -> Option<&str> {
        match self {
            Handler::Static(r) => r.resource,
            Handler::Custom(c) => c.resource.as_deref(),
        }
    }
    fn filetype(&self) -> Option<&str> {
        match self {
            Handler::Static(r) => r.filetype,
            Handler::Custom(c) => c.filetype.as_deref(),
        }
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
    handler: Handler,
    /// The mount of the first path operand (for a resource-only command
    /// without one, the working directory's mount).
    mount: Option<MountInfo>,
    /// The path operands as given (`-` left out).
    paths: Vec<String>,
}

/// The path operands of `args` by `reg`'s spec (`-` left out); none when
/// the arguments do not parse (the handler reports that).
fn path_operands(spec: &'static CommandSpec, args: &[String]) -> Vec<String> {
    parse(spec, args)
        .map(|p| {
            spec.paths
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
        let customs: Vec<Arc<CustomCommand>> = self
            .customs()
            .into_iter()
            .filter(|c| c.name == ctx.name)
            .collect();
        let general = self.resolve(&customs, &ctx.name, None, None);
        // The registrations whose spec finds the path operands: the general
        // one, else each resource handler (the first that matches its mount wins).
        let specs: Vec<Handler> = match &general {
            Some(g) => vec![g.clone()],
            None => customs
                .iter()
                .filter(|c| c.resource.is_some())
                .map(|c| Handler::Custom(c.clone()))
                .chain(
                    mirage_commands::registry::registrations(&ctx.name)
                        .filter(|r| r.resource.is_some())
                        .map(Handler::Static),
                )
                .collect(),
        };
        for reg in specs {
            let paths = path_operands(reg.spec(), &ctx.args);
            let (mount, filetype) = match paths.first() {
                Some(op) => {
                    let spec = PathSpec::new(ctx.resolve(op));
                    (self.vfs.mount_of(&spec.original), spec.filetype())
                }
                None if general.is_none() => (self.vfs.mount_of(&ctx.cwd), None),
                None => (None, None),
            };
            let specific = self.resolve(
                &customs,
                &ctx.name,
                mount.as_ref().map(|m| m.resource.as_str()),
                filetype.as_deref(),
            );
            if let Some(handler) = specific.or_else(|| general.clone()) {
                return Some(Choice {
                    handler,
                    mount,
                    paths,
                });
            }
        }
        None
    }

    /// Seed 001's order over this workspace's commands and the link-time
    /// ones: `(name, resource, filetype)`, `(name, resource)`,
    /// `(name, filetype)`, `(name)`; at each level a command added to the
    /// workspace wins.
    fn resolve(
        &self,
        customs: &[Arc<CustomCommand>],
        name: &str,
        resource: Option<&str>,
        filetype: Option<&str>,
    ) -> Option<Handler> {
        let levels = [
            (resource, filetype),
            (resource, None),
            (None, filetype),
            (None, None),
        ];
        for (k, (res, ft)) in levels.iter().copied().enumerate() {
            // a level whose resource or filetype is absent repeats a later one
            if (k < 2 && res.is_none()) || (k % 2 == 0 && ft.is_none()) {
                continue;
            }
            if let Some(c) = customs
                .iter()
                .find(|c| c.resource.as_deref() == res && c.filetype.as_deref() == ft)
            {
                return Some(Handler::Custom(c.clone()));
            }
            if let Some(r) = mirage_commands::registry::registrations(name)
                .find(|r| r.resource == res && r.filetype == ft)
            {
                return Some(Handler::Static(r));
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
            || self.customs().iter().any(|c| {
                c.name == name
                    && c.resource
                        .as_ref()
                        .is_none_or(|r| self.vfs.mounts().iter().any(|m| &m.resource == r))
            })
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
            .map(String::from)
            .chain(self.customs().iter().map(|c| c.name.clone()))
            .filter(|n| self.has_command(n))
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
        if let Some(which) = mirage_types::args::standard_request(handler.spec(), &ctx.args) {
            let text = if which == mirage_types::args::HELP_KEY {
                mirage_types::args::help_text(handler.spec())
            } else {
                mirage_types::args::version_text(handler.spec())
            };
            let status = match ctx.stdout.write_str(&text).await {
                Ok(()) => 0,
                Err(e) if e.kind == mirage_types::ErrorKind::BrokenPipe => 141,
                Err(_) => 1,
            };
            let _ = ctx.stdout.flush().await;
            return status;
        }
        if handler.effect() == Effect::Exec
            && let Some(p) = self.not_exec(ctx, &choice.paths)
        {
            ctx.error(format!("{p}: Permission denied (mount is not exec)"))
                .await;
            return 1;
        }
        if choice.mount.is_some() {
            ctx.mount = choice.mount;
        }
        ctx.net = self.net.clone();
        bind_std_streams(ctx);
        let span = tracing::debug_span!(
            "command",
            name = %ctx.name,
            resource = ?handler.resource(),
            filetype = ?handler.filetype(),
            status = tracing::field::Empty,
        );
        let status = tracing::Instrument::instrument((handler.func())(ctx), span.clone()).await;
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
