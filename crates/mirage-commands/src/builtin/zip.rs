//! `zip` and `unzip`, as Info-ZIP zip 3.0 and unzip 6.0: `zip [-q] [-r]
//! [-j] [-D] [-0..-9] ZIPFILE FILE...` (adding to or updating an existing
//! archive), `unzip [-q] [-o|-n] [-j] [-d DIR] [-l] [-p] [-Z1] ZIPFILE
//! [MEMBER]...` with Info-ZIP's progress lines and exit codes (9: no
//! archive, 11: a member not matched, 12: nothing to do).
//!
//! The `zip` crate reads and writes the format. A zip archive's directory
//! is at its end, so both commands hold the archive in memory while they
//! work (each member's bytes are read or written through the router one
//! member at a time); `tar` is the streaming archiver.

use std::io::{Cursor, Read, Write};

use bytes::Bytes;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind, FileType};
use zip::write::SimpleFileOptions;

use crate::util::{child_path, parse_cmd};

const ZIP_OPTS: &[OptSpec] = &[
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("recurse-paths", Some('r'), Some("recurse-paths")),
    OptSpec::flag("junk-paths", Some('j'), Some("junk-paths")),
    OptSpec::flag("no-dir-entries", Some('D'), Some("no-dir-entries")),
    OptSpec::flag("0", Some('0'), None),
    OptSpec::flag("1", Some('1'), None),
    OptSpec::flag("2", Some('2'), None),
    OptSpec::flag("3", Some('3'), None),
    OptSpec::flag("4", Some('4'), None),
    OptSpec::flag("5", Some('5'), None),
    OptSpec::flag("6", Some('6'), None),
    OptSpec::flag("7", Some('7'), None),
    OptSpec::flag("8", Some('8'), None),
    OptSpec::flag("9", Some('9'), None),
];

const UNZIP_OPTS: &[OptSpec] = &[
    OptSpec::flag("quiet", Some('q'), None),
    OptSpec::flag("overwrite", Some('o'), None),
    OptSpec::flag("never", Some('n'), None),
    OptSpec::flag("junk", Some('j'), None),
    OptSpec::value("dir", Some('d'), None),
    OptSpec::flag("list", Some('l'), None),
    OptSpec::flag("pipe", Some('p'), None),
    OptSpec::flag("zipinfo", Some('Z'), None),
    OptSpec::flag("one", Some('1'), None),
];

/// The spec of `zip`.
pub static ZIP_SPEC: CommandSpec = CommandSpec {
    usage_status: 16,
    ..CommandSpec::new("zip", ZIP_OPTS, PathOperands::All)
};
/// The spec of `unzip`.
pub static UNZIP_SPEC: CommandSpec = CommandSpec {
    usage_status: 10,
    ..CommandSpec::new("unzip", UNZIP_OPTS, PathOperands::All)
};

crate::register_command!("zip", ZIP_SPEC, run_zip, true);
crate::register_command!("unzip", UNZIP_SPEC, run_unzip, true);

mirage_types::command_handler!(fn run_zip = zip_body);
mirage_types::command_handler!(fn run_unzip = unzip_body);

/// A zip `DateTime` (UTC) for `secs` since the epoch; 1980 at the least.
fn zip_time(secs: u64) -> zip::DateTime {
    let days = i64::try_from(secs / 86400).unwrap_or(0);
    let rem = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    zip::DateTime::from_date_and_time(
        u16::try_from(y.clamp(1980, 2107)).unwrap_or(1980),
        u8::try_from(m).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
        u8::try_from(h).unwrap_or(0),
        u8::try_from(mi).unwrap_or(0),
        u8::try_from(s).unwrap_or(0),
    )
    .unwrap_or_default()
}

/// One thing to add: member name, absolute path, whether a directory,
/// mtime, mode.
struct Item {
    name: String,
    abs: String,
    dir: bool,
    mtime: u64,
    mode: Option<u32>,
}

async fn zip_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &ZIP_SPEC)?;
    let quiet = p.has("quiet");
    let level = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
        .iter()
        .find(|k| p.last_of(&["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]) == Some(**k))
        .and_then(|k| k.parse::<i64>().ok())
        .unwrap_or(6);
    let Some((zipname, files)) = p.operands.split_first() else {
        ctx.stdout
            .write_str("\nzip error: Nothing to do! (try: zip -h)\n")
            .await?;
        return Ok(12);
    };
    // as Info-ZIP: a name without an extension gets `.zip`
    let base = zipname.rsplit('/').next().unwrap_or(zipname);
    let zipname = if base.contains('.') {
        zipname.clone()
    } else {
        format!("{zipname}.zip")
    };
    let zabs = ctx.resolve(&zipname);
    // gather what to add
    let mut items: Vec<Item> = Vec::new();
    for f in files {
        let abs = ctx.resolve(f);
        let Ok(st) = ctx.vfs.stat(&abs).await else {
            if !quiet {
                let _ = ctx
                    .stderr
                    .write_str(&format!("\tzip warning: name not matched: {f}\n"))
                    .await;
            }
            continue;
        };
        let name = f
            .trim_start_matches('/')
            .trim_start_matches("./")
            .to_string();
        let mtime = |st: &mirage_types::FileStat| {
            st.modified
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs())
        };
        if st.is_dir() {
            let dname = format!("{}/", name.trim_end_matches('/'));
            items.push(Item {
                name: dname.clone(),
                abs: abs.clone(),
                dir: true,
                mtime: mtime(&st),
                mode: st.mode,
            });
            if p.has("recurse-paths") {
                let mut stack = vec![(abs.clone(), dname)];
                while let Some((dabs, dname)) = stack.pop() {
                    let Ok(mut kids) = ctx.vfs.readdir(&dabs).await else {
                        continue;
                    };
                    kids.sort_by(|a, b| a.name.cmp(&b.name));
                    let mut subdirs = Vec::new();
                    for k in kids {
                        let kabs = child_path(&dabs, &k.name);
                        let kname = format!("{dname}{}", k.name);
                        if k.file_type == FileType::Directory {
                            let kd = format!("{kname}/");
                            items.push(Item {
                                name: kd.clone(),
                                abs: kabs.clone(),
                                dir: true,
                                mtime: mtime(&k),
                                mode: k.mode,
                            });
                            subdirs.push((kabs, kd));
                        } else if kabs != zabs {
                            items.push(Item {
                                name: kname,
                                abs: kabs,
                                dir: false,
                                mtime: mtime(&k),
                                mode: k.mode,
                            });
                        }
                    }
                    // depth first, in name order, as the items were pushed
                    for s in subdirs.into_iter().rev() {
                        stack.push(s);
                    }
                }
                // keep each directory's subtree right after it
                items = order_tree(items);
            }
        } else if abs != zabs {
            items.push(Item {
                name,
                abs,
                dir: false,
                mtime: mtime(&st),
                mode: st.mode,
            });
        }
    }
    if p.has("junk-paths") {
        items.retain(|i| !i.dir);
        for i in &mut items {
            i.name = i.name.rsplit('/').next().unwrap_or(&i.name).to_string();
        }
    } else if p.has("no-dir-entries") {
        items.retain(|i| !i.dir);
    }
    if items.is_empty() {
        ctx.stdout
            .write_str(&format!("\nzip error: Nothing to do! ({zipname})\n"))
            .await?;
        return Ok(12);
    }
    // the existing archive, if any
    let old = match ctx.vfs.read(&zabs).await {
        Ok(src) => match src.collect().await {
            Ok(b) => Some(b),
            Err(e) => {
                let _ = ctx
                    .stderr
                    .write_str(&format!("\nzip error: {zipname}: {}\n", e.message()))
                    .await;
                return Ok(15);
            }
        },
        Err(_) => None,
    };
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut lines = String::new();
    let mut replaced = std::collections::HashSet::new();
    let new_names: std::collections::HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.name.clone(), i))
        .collect();
    let zerr = |e: zip::result::ZipError| CmdError::new(15, format!("zip error: {e}"));
    if let Some(old) = old {
        let Ok(mut arch) = zip::ZipArchive::new(Cursor::new(old)) else {
            ctx.stdout
                .write_str(&format!(
                    "\nzip error: Zip file structure invalid ({zipname})\n"
                ))
                .await?;
            return Ok(3);
        };
        for i in 0..arch.len() {
            let f = arch.by_index(i).map_err(zerr)?;
            let name = f.name().map(|n| n.to_string()).unwrap_or_default();
            if let Some(&j) = new_names.get(&name) {
                drop(f);
                replaced.insert(j);
                let line = add_item(ctx, &mut w, &items[j], level).await?;
                if let Some(l) = line {
                    lines.push_str(&format!("updating: {l}\n"));
                }
            } else {
                w.raw_copy_file(f).map_err(zerr)?;
            }
        }
    }
    for (j, it) in items.iter().enumerate() {
        if replaced.contains(&j) {
            continue;
        }
        if let Some(l) = add_item(ctx, &mut w, it, level).await? {
            lines.push_str(&format!("  adding: {l}\n"));
        }
    }
    let bytes = w.finish().map_err(zerr)?.into_inner();
    if let Err(e) = ctx.vfs.write(&zabs, ByteSource::from(bytes)).await {
        let _ = ctx
            .stderr
            .write_str(&format!(
                "zip I/O error: {}\n\nzip error: Could not create output file ({zipname})\n",
                e.message()
            ))
            .await;
        return Ok(15);
    }
    ctx.io.wrote(&zabs);
    if !quiet {
        ctx.stdout.write_str(&lines).await?;
    }
    Ok(0)
}

/// Puts each directory's entries right after it, in name order (a stable
/// sort by path components).
fn order_tree(mut items: Vec<Item>) -> Vec<Item> {
    items.sort_by(|a, b| {
        let ka: Vec<&str> = a.name.trim_end_matches('/').split('/').collect();
        let kb: Vec<&str> = b.name.trim_end_matches('/').split('/').collect();
        ka.cmp(&kb)
    });
    items
}

/// Adds one item; returns its progress text (`NAME (deflated 17%)`), or
/// `None` when it could not be read (a warning is printed).
async fn add_item(
    ctx: &mut CommandCtx,
    w: &mut zip::ZipWriter<Cursor<Vec<u8>>>,
    it: &Item,
    level: i64,
) -> Result<Option<String>, CmdError> {
    let zerr = |e: zip::result::ZipError| CmdError::new(15, format!("zip error: {e}"));
    let opts = SimpleFileOptions::default()
        .last_modified_time(zip_time(it.mtime))
        .unix_permissions(it.mode.unwrap_or(if it.dir { 0o755 } else { 0o644 }) & 0o7777);
    if it.dir {
        w.add_directory(it.name.trim_end_matches('/'), opts)
            .map_err(zerr)?;
        return Ok(Some(format!("{} (stored 0%)", it.name)));
    }
    let data = match ctx.vfs.read(&it.abs).await {
        Ok(src) => match src.collect().await {
            Ok(b) => b,
            Err(e) => {
                let _ = ctx
                    .stderr
                    .write_str(&format!(
                        "\tzip warning: could not open for reading: {}: {}\n",
                        it.name,
                        e.message()
                    ))
                    .await;
                return Ok(None);
            }
        },
        Err(e) => {
            let _ = ctx
                .stderr
                .write_str(&format!(
                    "\tzip warning: could not open for reading: {}: {}\n",
                    it.name,
                    e.message()
                ))
                .await;
            return Ok(None);
        }
    };
    // deflate only when it shrinks the data, as Info-ZIP
    let deflated_len = if level == 0 || data.is_empty() {
        usize::MAX
    } else {
        let mut enc = flate2::write::DeflateEncoder::new(
            Vec::new(),
            flate2::Compression::new(u32::try_from(level).unwrap_or(6)),
        );
        let _ = enc.write_all(&data);
        enc.finish().map_or(usize::MAX, |v| v.len())
    };
    let (opts, text) = if deflated_len < data.len() {
        let pct = ((1.0 - deflated_len as f64 / data.len() as f64) * 100.0).round();
        (
            opts.compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(level)),
            format!("{} (deflated {pct:.0}%)", it.name),
        )
    } else {
        (
            opts.compression_method(zip::CompressionMethod::Stored),
            format!("{} (stored 0%)", it.name),
        )
    };
    w.start_file(it.name.as_str(), opts).map_err(zerr)?;
    w.write_all(&data)
        .map_err(|e| CmdError::new(15, format!("zip I/O error: {e}")))?;
    Ok(Some(text))
}

/// Whether member `name` is selected by unzip pattern `pat` (wildcards
/// `*`, `?`, `[...]` matching `/` too, as unzip's default).
fn unzip_matches(pat: &str, name: &str) -> bool {
    globset::GlobBuilder::new(pat)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher().is_match(name))
        .unwrap_or(false)
        || pat == name
}

async fn unzip_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &UNZIP_SPEC)?;
    let quiet = p.has("quiet");
    let Some((zipname, pats)) = p.operands.split_first() else {
        ctx.stdout
            .write_str("UnZip 6.00 of 20 April 2009, by Debian. Original by Info-ZIP.\n\nUsage: unzip [-Z] [-opts[modifiers]] file[.zip] [list] [-x xlist] [-d exdir]\n")
            .await?;
        return Ok(0);
    };
    // unzip also tries NAME.zip and NAME.ZIP
    let mut data = None;
    for cand in [
        zipname.clone(),
        format!("{zipname}.zip"),
        format!("{zipname}.ZIP"),
    ] {
        let abs = ctx.resolve(&cand);
        if let Ok(st) = ctx.vfs.stat(&abs).await
            && !st.is_dir()
            && let Ok(src) = ctx.vfs.read(&abs).await
            && let Ok(b) = src.collect().await
        {
            data = Some((cand, b));
            break;
        }
    }
    let Some((zipname, data)) = data else {
        let _ = ctx
            .stderr
            .write_str(&format!(
                "unzip:  cannot find or open {zipname}, {zipname}.zip or {zipname}.ZIP.\n"
            ))
            .await;
        return Ok(9);
    };
    let Ok(mut arch) = zip::ZipArchive::new(Cursor::new(data)) else {
        let _ = ctx.stderr.write_str(&format!("  End-of-central-directory signature not found.  Either this file is not\n  a zipfile, or it constitutes one disk of a multi-part archive.  In the\n  latter case the central directory and zipfile comment will be found on\n  the last disk(s) of this archive.\nunzip:  cannot find zipfile directory in one of {zipname} or\n        {zipname}.zip, and cannot find {zipname}.ZIP, period.\n")).await;
        return Ok(9);
    };
    let mut matched = vec![false; pats.len()];
    let mut selected = Vec::new();
    for i in 0..arch.len() {
        let Ok(f) = arch.by_index(i) else { continue };
        let name = f.name().map(|n| n.to_string()).unwrap_or_default();
        let hit = pats.is_empty() || {
            let mut any = false;
            for (k, pat) in pats.iter().enumerate() {
                if unzip_matches(pat, &name) {
                    matched[k] = true;
                    any = true;
                }
            }
            any
        };
        if hit {
            selected.push(i);
        }
    }
    let mut status = 0;
    let zipinfo_names = p.has("zipinfo");
    if zipinfo_names {
        let mut out = String::new();
        for &i in &selected {
            if let Ok(f) = arch.by_index(i) {
                out.push_str(&f.name().map(|n| n.to_string()).unwrap_or_default());
                out.push('\n');
            }
        }
        ctx.stdout.write_str(&out).await?;
    } else if p.has("list") {
        let mut out = format!(
            "Archive:  {zipname}\n  Length      Date    Time    Name\n---------  ---------- -----   ----\n"
        );
        let mut total = 0u64;
        for &i in &selected {
            if let Ok(f) = arch.by_index(i) {
                let t = f.last_modified().unwrap_or_default();
                total += f.size();
                out.push_str(&format!(
                    "{:>9}  {:04}-{:02}-{:02} {:02}:{:02}   {}\n",
                    f.size(),
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    f.name().map(|n| n.to_string()).unwrap_or_default()
                ));
            }
        }
        let n = selected.len();
        out.push_str(&format!(
            "---------                     -------\n{total:>9}                     {n} file{}\n",
            if n == 1 { "" } else { "s" }
        ));
        ctx.stdout.write_str(&out).await?;
    } else {
        let pipe = p.has("pipe");
        let dest = p
            .value("dir")
            .map_or_else(|| ctx.cwd.clone(), |d| ctx.resolve(d));
        if !pipe && !quiet {
            ctx.stdout
                .write_str(&format!("Archive:  {zipname}\n"))
                .await?;
        }
        if !pipe && p.value("dir").is_some() {
            let _ = ctx.vfs.mkdir(&dest, true).await;
        }
        let mut refuse_rest = false;
        for &i in &selected {
            let (name, is_dir, mode, content, stored) = {
                let Ok(mut f) = arch.by_index(i) else {
                    continue;
                };
                let name = f.name().map(|n| n.to_string()).unwrap_or_default();
                let is_dir = f.is_dir();
                let mode = f.unix_mode();
                let stored = f.compression() == zip::CompressionMethod::Stored;
                let mut buf = Vec::with_capacity(usize::try_from(f.size()).unwrap_or(0));
                if !is_dir && let Err(e) = f.read_to_end(&mut buf) {
                    let _ = ctx
                        .stderr
                        .write_str(&format!("error:  {name}: {e}\n"))
                        .await;
                    status = 2;
                    continue;
                }
                (name, is_dir, mode, buf, stored)
            };
            if pipe {
                if !is_dir {
                    ctx.stdout.write_bytes(Bytes::from(content)).await?;
                }
                continue;
            }
            let rel = if p.has("junk") {
                if is_dir {
                    continue;
                }
                name.rsplit('/').next().unwrap_or(&name).to_string()
            } else {
                name.clone()
            };
            // as unzip: no absolute paths, no `..`
            let comps: Vec<&str> = rel
                .split('/')
                .filter(|c| !c.is_empty() && *c != "." && *c != "..")
                .collect();
            if comps.is_empty() {
                continue;
            }
            let target = comps.iter().fold(dest.clone(), |a, c| child_path(&a, c));
            let shown = {
                let d = p.value("dir").map(|d| d.trim_end_matches('/'));
                let r = comps.join("/");
                match d {
                    Some(d) => format!("{d}/{r}"),
                    None => r,
                }
            };
            if is_dir {
                if let Err(e) = ctx.vfs.mkdir(&target, true).await
                    && e.kind != ErrorKind::AlreadyExists
                {
                    let _ = ctx
                        .stderr
                        .write_str(&format!(
                            "checkdir error:  cannot create {shown}\n                 {}\n",
                            e.message()
                        ))
                        .await;
                    status = 1;
                    continue;
                }
                if !quiet {
                    ctx.stdout
                        .write_str(&format!("   creating: {shown}/\n"))
                        .await?;
                }
                continue;
            }
            if let Some((parent, _)) = target.rsplit_once('/')
                && !parent.is_empty()
            {
                let _ = ctx.vfs.mkdir(parent, true).await;
            }
            if !p.has("overwrite") && ctx.vfs.stat(&target).await.is_ok() {
                if p.has("never") || refuse_rest {
                    continue;
                }
                // no terminal to ask: unzip reads EOF and answers [N]one
                ctx.stdout
                    .write_str(&format!("replace {shown}? [y]es, [n]o, [A]ll, [N]one, [r]ename:  NULL\n(EOF or read error, treating as \"[N]one\" ...)\n"))
                    .await?;
                refuse_rest = true;
                status = 1;
                continue;
            }
            if let Err(e) = ctx.vfs.write(&target, ByteSource::from(content)).await {
                let _ = ctx
                    .stderr
                    .write_str(&format!(
                        "error:  cannot create {shown}\n        {}\n",
                        e.message()
                    ))
                    .await;
                status = 1;
                continue;
            }
            if let Some(m) = mode
                && m & 0o111 != 0
            {
                let _ = ctx.vfs.chmod(&target, m & 0o7777).await;
            }
            ctx.io.wrote(&target);
            if !quiet {
                let action = if stored { "extracting" } else { "inflating" };
                ctx.stdout
                    .write_str(&format!("{action:>11}: {shown:<22}  \n"))
                    .await?;
            }
        }
    }
    for (k, pat) in pats.iter().enumerate() {
        if !matched[k] {
            let _ = ctx
                .stderr
                .write_str(&format!("caution: filename not matched:  {pat}\n"))
                .await;
            status = 11;
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_patterns() {
        let t = zip_time(1_705_312_801);
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (2024, 1, 15, 10, 0)
        );
        assert!(unzip_matches("src/*", "src/sub/c.txt"));
        assert!(unzip_matches("src/a.txt", "src/a.txt"));
        assert!(!unzip_matches("a.txt", "src/a.txt"));
    }
}
