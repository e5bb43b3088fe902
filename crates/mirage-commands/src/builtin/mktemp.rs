//! `mktemp`: create a temporary file or directory, as GNU coreutils 9.1
//! `mktemp` (`-d`, `-u`, `-q`, `-p DIR`/`--tmpdir[=DIR]`, `-t`,
//! `--suffix=SUFF`; templates whose last run of at least three `X`s is
//! replaced, anything after the last `X` being the suffix). Without a
//! template it is `tmp.XXXXXXXXXX` in `$TMPDIR`, else `/tmp`. The entry is
//! made through the VFS (a file empty, a directory with `mkdir`), only
//! where nothing exists yet; the name is printed as formed.
//!
//! Errors as GNU words them: `too few X's in template ‘foo’`, `failed to
//! create file via template ‘nodir/XXX’: No such file or directory`,
//! `too many templates` (usage).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind, bytestr};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("directory", Some('d'), Some("directory")),
    OptSpec::flag("dry-run", Some('u'), Some("dry-run")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::value("p", Some('p'), None),
    OptSpec::optional("tmpdir", None, Some("tmpdir")),
    OptSpec::flag("t", Some('t'), None),
    OptSpec::value("suffix", None, Some("suffix")),
];

/// The spec of `mktemp`.
pub static SPEC: CommandSpec = CommandSpec::new("mktemp", OPTS, PathOperands::All);

crate::register_command!("mktemp", SPEC, run, true);

/// The characters a replaced `X` may become.
const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `n` random name characters.
fn random_chars(n: usize) -> String {
    let state = RandomState::new();
    let mut out = String::with_capacity(n);
    let mut counter = 0u64;
    while out.len() < n {
        let mut h = state.build_hasher();
        h.write_u64(counter);
        counter += 1;
        let mut v = h.finish();
        for _ in 0..8 {
            if out.len() == n {
                break;
            }
            out.push(char::from(CHARS[(v % CHARS.len() as u64) as usize]));
            v /= CHARS.len() as u64;
        }
    }
    out
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.len() > 1 {
        return Err(CmdError::usage("too many templates"));
    }
    let quiet = p.has("quiet");
    let env_tmp = ctx
        .var("TMPDIR")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    // -p DIR / --tmpdir[=DIR]: an empty DIR means $TMPDIR or /tmp
    let dir_opt = match p.last_of(&["p", "tmpdir"]) {
        Some("p") => Some(p.value("p").unwrap_or("").to_string()),
        Some(_) => Some(p.value("tmpdir").unwrap_or("").to_string()),
        None => None,
    };
    let default_dir = || env_tmp.clone().unwrap_or_else(|| "/tmp".to_string());
    let (template, in_dir) = match p.operands.first() {
        None => (
            "tmp.XXXXXXXXXX".to_string(),
            Some(
                dir_opt
                    .clone()
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(default_dir),
            ),
        ),
        Some(t) => {
            let dir = if p.has("t") {
                Some(
                    env_tmp
                        .clone()
                        .or_else(|| dir_opt.clone().filter(|d| !d.is_empty()))
                        .unwrap_or_else(|| "/tmp".to_string()),
                )
            } else {
                dir_opt
                    .clone()
                    .map(|d| if d.is_empty() { default_dir() } else { d })
            };
            if p.has("t") && t.contains('/') {
                return Err(CmdError::new(
                    1,
                    format!(
                        "invalid template, {}, contains directory separator",
                        gnu_quote(t)
                    ),
                ));
            }
            (t.clone(), dir)
        }
    };
    // split off the suffix: --suffix, else what follows the last X
    let (stem, suffix) = match p.value("suffix") {
        Some(s) => {
            if s.contains('/') {
                return Err(CmdError::new(
                    1,
                    format!(
                        "invalid suffix {}, contains directory separator",
                        gnu_quote(s)
                    ),
                ));
            }
            if !template.ends_with('X') && !s.is_empty() {
                return Err(CmdError::new(
                    1,
                    format!(
                        "with --suffix, template {} must end in X",
                        gnu_quote(&template)
                    ),
                ));
            }
            (template.clone(), s.to_string())
        }
        None => match template.rfind('X') {
            Some(i) => (template[..=i].to_string(), template[i + 1..].to_string()),
            None => (template.clone(), String::new()),
        },
    };
    let xs = stem.len() - stem.trim_end_matches('X').len();
    let full_template = match &in_dir {
        Some(d) => crate::util::child_path(d, &template),
        None => template.clone(),
    };
    if xs < 3 {
        let shown = format!("{stem}{suffix}");
        if quiet {
            return Ok(1);
        }
        return Err(CmdError::new(
            1,
            format!("too few X's in template {}", gnu_quote(&shown)),
        ));
    }
    let base = &stem[..stem.len() - xs];
    let what = if p.has("directory") {
        "directory"
    } else {
        "file"
    };
    let mut last_err = ErrorKind::AlreadyExists;
    for _ in 0..100 {
        let name = format!("{base}{}{suffix}", random_chars(xs));
        let shown = match &in_dir {
            Some(d) => crate::util::child_path(d, &name),
            None => name,
        };
        let abs = ctx.resolve(&shown);
        let vfs = ctx.vfs.clone();
        match vfs.lstat(&abs).await {
            Ok(_) => continue,
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => {
                last_err = e.kind;
                break;
            }
        }
        let made = if p.has("dry-run") {
            // the directory must still exist, as GNU checks it
            match vfs.stat(&mirage_types::dirname(&abs)).await {
                Ok(st) if st.is_dir() => Ok(()),
                Ok(_) => Err(mirage_types::Error::new(ErrorKind::NotADirectory)),
                Err(e) => Err(e),
            }
        } else if p.has("directory") {
            vfs.mkdir(&abs, false).await
        } else {
            vfs.write(&abs, ByteSource::empty()).await
        };
        match made {
            Ok(()) => {
                if !p.has("dry-run") {
                    ctx.io.wrote(&abs);
                }
                let line = format!("{shown}\n");
                ctx.stdout.write(&bytestr::encode(&line)).await?;
                return Ok(0);
            }
            Err(e) if e.kind == ErrorKind::AlreadyExists => {}
            Err(e) => {
                last_err = e.kind;
                break;
            }
        }
    }
    if !quiet {
        ctx.error(format!(
            "failed to create {what} via template {}: {}",
            gnu_quote(&full_template),
            last_err.gnu_message()
        ))
        .await;
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn makes_entries_from_templates() {
        let v = MemVfs::with(&[("/tmp/", ""), ("/d/", "")]);
        let r = |args: &[&str]| run_cmd(&v, run, "mktemp", args, "/d", "");
        let (o, _, s) = r(&[]);
        assert_eq!(s, 0);
        assert!(
            o.starts_with("/tmp/tmp.") && o.len() == "/tmp/tmp.".len() + 11,
            "{o}"
        );
        assert!(v.tree.lock().unwrap().contains_key(o.trim_end()));
        let (o, _, _) = r(&["fooXXX"]);
        assert_eq!(o.len(), 7);
        assert!(
            v.tree
                .lock()
                .unwrap()
                .contains_key(&format!("/d/{}", o.trim_end()))
        );
        let (o, _, _) = r(&["-d", "-p", "/d", "dirXXXX"]);
        assert!(o.starts_with("/d/dir"));
        assert_eq!(
            v.tree.lock().unwrap().get(o.trim_end()),
            Some(&None),
            "a directory"
        );
        let (o, _, _) = r(&["sXXX.txt"]);
        assert!(o.starts_with('s') && o.ends_with(".txt\n"), "{o}");
        let (o, _, _) = r(&["-u", "uXXX"]);
        assert!(
            !v.tree
                .lock()
                .unwrap()
                .contains_key(&format!("/d/{}", o.trim_end()))
        );
        assert_eq!(
            r(&["foo"]).1,
            "mktemp: too few X's in template \u{2018}foo\u{2019}\n"
        );
        assert_eq!(
            r(&["nodir/XXX"]).1,
            "mktemp: failed to create file via template \u{2018}nodir/XXX\u{2019}: No such file or directory\n"
        );
        assert_eq!(r(&["-q", "nodir/XXX"]), (String::new(), String::new(), 1));
        assert!(r(&["a", "b"]).1.starts_with("mktemp: too many templates\n"));
    }
}
