//! `wget`: download through the workspace's network door
//! ([`mirage_types::net::Network`]), never a host process.
//!
//! As `curl`, it has no network unless the workspace's `network.allow`
//! admits the URL and method; a refused or failed request exits 4
//! (GNU Wget 1.21's "network failure"), an HTTP error status exits 8
//! ("server issued an error response"), a file that cannot be written 3,
//! a usage error 2. Redirects are followed (at most 20), each hop checked.
//!
//! Options: `-q`/`--quiet`, `-O FILE` (`-` for stdout), `-P DIR`,
//! `--header 'Name: value'`, `--method`, `--post-data`, `-U`. The file name
//! is the URL's last path segment (`index.html` when there is none), with
//! `.1`, `.2`, … appended when it exists, as wget does. Wget's progress
//! report is not printed (as with `-nv` less the summary line); errors are.

use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, ParsedArgs, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::net::{HttpRequest, NetErrorKind};
use mirage_types::{ByteSource, bytestr};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::value("output-document", Some('O'), Some("output-document")),
    OptSpec::value("directory-prefix", Some('P'), Some("directory-prefix")),
    OptSpec::value("header", None, Some("header")),
    OptSpec::value("method", None, Some("method")),
    OptSpec::value("post-data", None, Some("post-data")),
    OptSpec::value("user-agent", Some('U'), Some("user-agent")),
];

/// The spec of `wget`.
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("wget", OPTS, PathOperands::None)
};

crate::register_command!("wget", SPEC, run, true);

/// How many redirects wget follows.
const MAX_REDIRECTS: u32 = 20;

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = match parse_cmd(ctx, &SPEC) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.message.unwrap_or_default();
            ctx.stderr
                .write_str(&format!(
                    "wget: {msg}\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n"
                ))
                .await?;
            return Ok(2);
        }
    };
    if p.operands.is_empty() {
        ctx.stderr
            .write_str("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n")
            .await?;
        return Ok(2);
    }
    let mut status = 0;
    for url in p.operands.clone() {
        if let Err((code, msg)) = fetch_one(ctx, &p, &url).await {
            let _ = ctx.stdout.flush().await;
            ctx.stderr.write_str(&format!("wget: {msg}\n")).await?;
            // wget exits with the first error's code
            if status == 0 {
                status = code;
            }
        }
    }
    Ok(status)
}

/// The file name wget saves `url` under.
fn local_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let name = path
        .split_once('/')
        .map(|(_, p)| p.rsplit('/').next().unwrap_or(""))
        .unwrap_or("");
    if name.is_empty() {
        "index.html".into()
    } else {
        name.to_string()
    }
}

async fn fetch_one(ctx: &mut CommandCtx, p: &ParsedArgs, url0: &str) -> Result<(), (i32, String)> {
    let Some(net) = ctx.net.clone() else {
        return Err((
            4,
            "network access is off in this workspace (its config has no network.allow rule)".into(),
        ));
    };
    let body = p
        .value("post-data")
        .map(|d| bytes::Bytes::from(bytestr::encode(d).into_owned()));
    let mut method = match (p.value("method"), &body) {
        (Some(m), _) => m.to_ascii_uppercase(),
        (None, Some(_)) => "POST".into(),
        (None, None) => "GET".into(),
    };
    let mut headers: Vec<(String, String)> = vec![
        (
            "User-Agent".into(),
            p.value("user-agent").unwrap_or("Wget/1.21.3").into(),
        ),
        ("Accept".into(), "*/*".into()),
    ];
    if body.is_some() {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    for h in p.values("header") {
        if let Some((k, v)) = h.split_once(':') {
            let k = k.trim().to_string();
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&k));
            headers.push((k, v.trim().to_string()));
        }
    }
    let mut url = url0.to_string();
    let mut body = body;
    let mut hops = 0;
    let resp = loop {
        let req = HttpRequest {
            method: method.clone(),
            url: url.clone(),
            headers: headers.clone(),
            body: body.clone(),
        };
        let resp = net.fetch(req).await.map_err(|e| {
            let code = if e.kind == NetErrorKind::BadUrl { 1 } else { 4 };
            (code, format!("{url}: {}", e.message))
        })?;
        match resp.header("location") {
            Some(loc) if (300..400).contains(&resp.status) => {
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err((8, format!("{url}: {MAX_REDIRECTS} redirections exceeded.")));
                }
                if matches!(resp.status, 301..=303) && method == "POST" {
                    method = "GET".into();
                    body = None;
                }
                url = super::curl::join_location(&url, loc);
            }
            _ => break resp,
        }
    };
    if resp.status >= 400 {
        return Err((8, format!("{url}: ERROR {}: {}.", resp.status, resp.reason)));
    }
    let stream = resp.body;
    match p.value("output-document") {
        Some("-") => {
            let mut s = stream.into_stream();
            while let Some(chunk) = s.next().await {
                let chunk = chunk.map_err(|e| (4, format!("{url}: {}", e.message())))?;
                ctx.stdout
                    .write_bytes(chunk)
                    .await
                    .map_err(|e| (3, format!("write error: {}", e.message())))?;
            }
            Ok(())
        }
        Some(o) => write_file(ctx, &ctx.resolve(o), o, stream).await,
        None => {
            let dir = p.value("directory-prefix").unwrap_or(".");
            let name = local_name(&url);
            let base = ctx.resolve(&format!("{dir}/{name}"));
            let mut target = base.clone();
            let mut n = 1;
            while ctx.vfs.stat(&target).await.is_ok() {
                target = format!("{base}.{n}");
                n += 1;
            }
            let shown = target.clone();
            write_file(ctx, &target, &shown, stream).await
        }
    }
}

async fn write_file(
    ctx: &mut CommandCtx,
    abs: &str,
    shown: &str,
    body: ByteSource,
) -> Result<(), (i32, String)> {
    let vfs = ctx.vfs.clone();
    vfs.write(abs, body)
        .await
        .map_err(|e| (3, format!("{shown}: {}", e.message())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_names() {
        assert_eq!(super::local_name("http://h/a/b.tar.gz?x"), "b.tar.gz");
        assert_eq!(super::local_name("http://h/"), "index.html");
        assert_eq!(super::local_name("http://h"), "index.html");
    }
}
