#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Dispatch: commands registered only for a resource, path operands after
//! `grep -e`/`-f`, `has_command`, and `exec` mode for side-effecting
//! commands. The commands and the `fakes3` resource are registered by this
//! test binary only.

use std::sync::Arc;

use async_trait::async_trait;
use mirage_ops::{Capability, Resource};
use mirage_resource_ram::RamResource;
use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture, CommandRegistration, Effect};
use mirage_types::{ByteSource, FileStat, MountMode, Result};
use mirage_workspace::Workspace;

/// A RAM resource under another name, so handlers can be registered for it.
struct FakeS3(RamResource);

#[async_trait]
impl Resource for FakeS3 {
    fn name(&self) -> &'static str {
        "fakes3"
    }
    fn capability(&self) -> Capability {
        self.0.capability()
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.0.stat(path).await
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        self.0.readdir(path).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        self.0.read(path).await
    }
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        self.0.write(path, data).await
    }
    async fn mkdir(&self, path: &str) -> Result<()> {
        self.0.mkdir(path).await
    }
}

static ALL: CommandSpec = CommandSpec::new("t-only", &[], PathOperands::All);

/// Prints `TAG MOUNT ARGS…`: which handler ran, on which mount.
async fn report(ctx: &mut CommandCtx, tag: &str) -> i32 {
    let mount = ctx.mount.as_ref().map_or("-", |m| m.prefix.as_str());
    let line = format!("{tag} {mount} {}\n", ctx.args.join(" "));
    let _ = ctx.stdout.write_str(&line).await;
    0
}

fn only_s3(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(report(ctx, "only-s3"))
}
fn grep_s3(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(report(ctx, "grep-s3"))
}
fn launch(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(report(ctx, "launched"))
}

inventory::submit! {
    CommandRegistration {
        name: "t-only",
        resource: Some("fakes3"),
        filetype: None,
        spec: &ALL,
        effect: Effect::Read,
        handler: only_s3,
    }
}

inventory::submit! {
    CommandRegistration {
        name: "grep",
        resource: Some("fakes3"),
        filetype: None,
        spec: &mirage_commands::builtin::grep::SPEC,
        effect: Effect::Read,
        handler: grep_s3,
    }
}

inventory::submit! {
    CommandRegistration {
        name: "t-launch",
        resource: None,
        filetype: None,
        spec: &ALL,
        effect: Effect::Exec,
        handler: launch,
    }
}

/// `/s3` (fakes3, write), `/tmp` (ram, write), `/x` (ram, exec), `/r`
/// (ram, read); a file `/s3/f` = "a\n" and `/tmp/f` = "a\n".
async fn ws() -> Workspace {
    let ws = Workspace::builder()
        .mount(
            "/s3",
            Arc::new(FakeS3(RamResource::new())),
            MountMode::Write,
        )
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .mount("/x", Arc::new(RamResource::new()), MountMode::Exec)
        .mount("/r", Arc::new(RamResource::new()), MountMode::Read)
        .cwd("/tmp")
        .build()
        .unwrap();
    let out = ws
        .execute("default", "echo a > /s3/f; echo a > /tmp/f", None)
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    ws
}

async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let out = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.exit_code,
    )
}

#[tokio::test]
async fn resource_only_command_runs_on_its_resource() {
    let ws = ws().await;
    assert_eq!(
        run(&ws, "t-only /s3/f").await,
        ("only-s3 /s3 /s3/f\n".into(), String::new(), 0)
    );
    // relative to a cwd on the mount, and with no path operand at all
    assert_eq!(
        run(&ws, "cd /s3 && t-only f; t-only").await.0,
        "only-s3 /s3 f\nonly-s3 /s3 \n"
    );
}

#[tokio::test]
async fn resource_only_command_elsewhere_is_not_found() {
    let ws = ws().await;
    assert_eq!(
        run(&ws, "t-only /tmp/f").await,
        (
            String::new(),
            "bash: line 1: t-only: command not found\n".into(),
            127
        )
    );
    // no path operand, cwd on a RAM mount
    assert_eq!(run(&ws, "t-only").await.2, 127);
}

#[tokio::test]
async fn has_command_follows_the_mounted_resources() {
    let ws = ws().await;
    assert_eq!(
        run(&ws, "type -t t-only; command -v t-only").await,
        ("file\n/usr/bin/t-only\n".into(), String::new(), 0)
    );
    let bare = Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .build()
        .unwrap();
    let (out, _, code) = run(&bare, "type -t t-only; command -v t-only").await;
    assert_eq!((out.as_str(), code), ("", 1));
    assert_eq!(run(&bare, "t-only /tmp/x").await.2, 127);
}

#[tokio::test]
async fn grep_path_after_pattern_option_picks_the_mount_handler() {
    let ws = ws().await;
    for (line, want) in [
        ("grep a /s3/f", "grep-s3 /s3 a /s3/f\n"),
        ("grep -e a /s3/f", "grep-s3 /s3 -e a /s3/f\n"),
        ("grep --regexp=a /s3/f", "grep-s3 /s3 --regexp=a /s3/f\n"),
        ("grep -f /tmp/f /s3/f", "grep-s3 /s3 -f /tmp/f /s3/f\n"),
        // the pattern operand is not a path
        ("grep /s3/f /tmp/f", ""),
        ("grep -e a /tmp/f", "a\n"),
        ("grep -n -e a /tmp/f /s3/f", "/tmp/f:1:a\n/s3/f:1:a\n"),
    ] {
        assert_eq!(run(&ws, line).await.0, want, "{line}");
    }
}

#[tokio::test]
async fn exec_command_runs_only_on_exec_mounts() {
    let ws = ws().await;
    assert_eq!(
        run(&ws, "t-launch /x/job").await,
        ("launched /x /x/job\n".into(), String::new(), 0)
    );
    for (line, path) in [
        ("t-launch /tmp/job", "/tmp/job"),
        ("t-launch /r/job", "/r/job"),
        ("t-launch /x/a /tmp/b", "/tmp/b"),
        ("t-launch /nowhere", "/nowhere"),
        // no path operand: the cwd's mount decides
        ("t-launch", "/tmp"),
    ] {
        assert_eq!(
            run(&ws, line).await,
            (
                String::new(),
                format!("t-launch: {path}: Permission denied (mount is not exec)\n"),
                1
            ),
            "{line}"
        );
    }
    assert_eq!(
        run(&ws, "cd /x && t-launch").await,
        ("launched - \n".into(), String::new(), 0)
    );
    // ordinary writes still work on write mounts, and are refused on read ones
    assert_eq!(run(&ws, "touch /tmp/t").await.2, 0);
    assert_eq!(run(&ws, "touch /r/t").await.2, 1);
}
