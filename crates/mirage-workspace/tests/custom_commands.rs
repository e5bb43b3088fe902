#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `Workspace::register_command`: a command added at run time, for every
//! mount, one resource type or one file type, wins at its level of seed
//! 001's resolution order, and the shell's `type`/`command -v` know it.

use std::sync::Arc;

use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_workspace::{CustomCommand, Workspace};

static GREET: CommandSpec = CommandSpec::new("greet", &[], PathOperands::None);
static CAT_LIKE: CommandSpec = CommandSpec::new("cat", &[], PathOperands::All);

mirage_types::command_handler!(fn greet = greet_body);
async fn greet_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let who = ctx.args.join(" ");
    ctx.stdout.write_str(&format!("hi {who}\n")).await?;
    Ok(3)
}

mirage_types::command_handler!(fn csv_cat = csv_body);
async fn csv_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let args = ctx.args.join(",");
    ctx.stdout.write_str(&format!("csv-cat {args}\n")).await?;
    Ok(0)
}

mirage_types::command_handler!(fn ram_cat = ram_body);
async fn ram_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    ctx.stdout.write_str("ram-cat\n").await?;
    Ok(0)
}

mirage_types::command_handler!(fn ram_cat2 = ram_body2);
async fn ram_body2(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    ctx.stdout.write_str("ram-cat v2\n").await?;
    Ok(0)
}

fn ws() -> Workspace {
    Workspace::builder()
        .mount("/data", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/data")
        .build()
        .unwrap()
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
async fn a_new_command_runs_everywhere_and_the_shell_knows_it() {
    let ws = ws();
    let (_, err, code) = run(&ws, "greet you").await;
    assert_eq!(code, 127, "{err}");
    ws.register_command(CustomCommand::new("greet", &GREET, greet));
    assert_eq!(run(&ws, "greet you | cat").await.0, "hi you\n");
    assert_eq!(run(&ws, "greet you").await.2, 3);
    let (out, _, code) = run(&ws, "command -v greet; type -t greet").await;
    assert_eq!((out.as_str(), code), ("/usr/bin/greet\nfile\n", 0));
    // --help comes from its spec, as for every command
    let (out, _, code) = run(&ws, "greet --help").await;
    assert_eq!(code, 0);
    assert!(out.starts_with("Usage: greet"), "{out}");
}

#[tokio::test]
async fn filetype_and_resource_overrides_win_at_their_level() {
    let ws = ws();
    run(&ws, "echo a,b > /data/t.csv; echo plain > /data/t.txt").await;
    ws.register_command(CustomCommand::new("cat", &CAT_LIKE, csv_cat).for_filetype("csv"));
    // a .csv file takes the filetype override; other files keep GNU cat
    assert_eq!(run(&ws, "cat t.csv").await.0, "csv-cat t.csv\n");
    assert_eq!(run(&ws, "cat t.txt").await.0, "plain\n");
    // (name, resource) beats (name, filetype) for any resource
    ws.register_command(CustomCommand::new("cat", &CAT_LIKE, ram_cat).for_resource("ram"));
    assert_eq!(run(&ws, "cat t.csv").await.0, "ram-cat\n");
    assert_eq!(run(&ws, "cat t.txt").await.0, "ram-cat\n");
    // the same name and scope again replaces it
    ws.register_command(CustomCommand::new("cat", &CAT_LIKE, ram_cat2).for_resource("ram"));
    assert_eq!(run(&ws, "cat t.txt").await.0, "ram-cat v2\n");
    // a command for a resource the workspace does not mount changes nothing
    let other = self::ws();
    other.register_command(CustomCommand::new("cat", &CAT_LIKE, ram_cat).for_resource("s3"));
    run(&other, "echo x > /data/f").await;
    assert_eq!(run(&other, "cat /data/f").await.0, "x\n");
}
