//! `id`: print user and group ids, as GNU coreutils 9.1 `id`, for the
//! session user (Mirage has one user per session: `USER`, else `LOGNAME`,
//! else `root`; uid and gid 0 for `root`, 1000 otherwise, as `ls -l`
//! shows owners; the user's only group has the user's name). `-u`, `-g`,
//! `-G` print numbers (names with `-n`; `-r` changes nothing, real and
//! effective ids being equal); `id NAME` answers for the session user and
//! says `‘NAME’: no such user` (status 1) for any other.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("user", Some('u'), Some("user")),
    OptSpec::flag("group", Some('g'), Some("group")),
    OptSpec::flag("groups", Some('G'), Some("groups")),
    OptSpec::flag("name", Some('n'), Some("name")),
    OptSpec::flag("real", Some('r'), Some("real")),
    OptSpec::flag("zero", Some('z'), Some("zero")),
    OptSpec::flag("context", Some('Z'), Some("context")),
    OptSpec::flag("ignored", Some('a'), None),
];

/// The spec of `id`.
pub static SPEC: CommandSpec = CommandSpec::new("id", OPTS, PathOperands::None);

crate::register_command!("id", SPEC, run);

/// The session user and its uid (the same rule as `ls -l`'s owners).
pub(crate) fn session_user(ctx: &CommandCtx) -> (String, u32) {
    let user = ctx
        .var("USER")
        .or_else(|| ctx.var("LOGNAME"))
        .filter(|u| !u.is_empty())
        .unwrap_or("root")
        .to_string();
    let uid = if user == "root" { 0 } else { 1000 };
    (user, uid)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let (user, uid) = session_user(ctx);
    if p.operands.len() > 1 {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(&p.operands[1])
        )));
    }
    if let Some(name) = p.operands.first()
        && *name != user
        && *name != uid.to_string()
    {
        return Err(CmdError::new(
            1,
            format!("{}: no such user", gnu_quote(name)),
        ));
    }
    let picks = ["user", "group", "groups"]
        .iter()
        .filter(|k| p.has(k))
        .count();
    if picks > 1 {
        return Err(CmdError::usage(
            "cannot print \"only\" of more than one choice",
        ));
    }
    if picks == 0 && (p.has("name") || p.has("real")) {
        return Err(CmdError::usage(
            "cannot print only names or real IDs in default format",
        ));
    }
    if p.has("context") {
        return Err(CmdError::new(
            1,
            "--context (-Z) works only on an SELinux-enabled kernel",
        ));
    }
    let end = if p.has("zero") { "\0" } else { "\n" };
    let text = if picks == 1 {
        if p.has("name") {
            format!("{user}{end}")
        } else {
            format!("{uid}{end}")
        }
    } else {
        format!("uid={uid}({user}) gid={uid}({user}) groups={uid}({user})\n")
    };
    ctx.stdout.write_str(&text).await?;
    Ok(0)
}
