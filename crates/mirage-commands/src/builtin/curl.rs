//! `curl`: HTTP through the workspace's network door
//! ([`mirage_types::net::Network`]), never a host process.
//!
//! Off by default: a workspace without a `network.allow` rule gives its
//! commands no network, and every request fails with exit 7 before any
//! connection. A URL or method the allow-list refuses fails the same way;
//! each redirect hop `-L` follows is checked again. Headers the config
//! injects (a token) are added by the network and never seen here.
//!
//! Options, as curl 7.88: `-s`/`--silent`, `-S`/`--show-error`,
//! `-f`/`--fail` (status ≥ 400: no body, exit 22), `-L`/`--location`
//! (`--max-redirs`, default 50, exit 47), `-o FILE`, `-O` (the URL's last
//! path segment), `-X METHOD`, `-H 'Name: value'`, `-d DATA` and
//! `--data-raw` (joined with `&`, `@FILE` read with newlines dropped; POST,
//! form content type), `--data-binary` (`@FILE` as is), `-i`/`--include`,
//! `-I`/`--head`, `-w FORMAT` (`%{http_code}`, `%{response_code}`,
//! `%{url_effective}`, `%{size_download}`, `%{content_type}`,
//! `%{num_redirects}`, `%{method}`, `\n` `\t` `\r`), `-A`, `-e`, `-m`;
//! `-u` is refused as unsupported (credentials belong in the config).
//! `https` works where the allow-list names it (rustls). Exit codes as curl: 2 usage, 3 bad URL, 1 protocol,
//! 6 resolve, 7 connect (and a refused request), 22, 23 write, 28 timeout,
//! 47. The body streams to stdout or the file as it arrives.

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, ParsedArgs, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::net::{HttpRequest, HttpResponse, NetError, NetErrorKind};
use mirage_types::{ByteSource, bytestr};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("silent", Some('s'), Some("silent")),
    OptSpec::flag("show-error", Some('S'), Some("show-error")),
    OptSpec::flag("fail", Some('f'), Some("fail")),
    OptSpec::flag("location", Some('L'), Some("location")),
    OptSpec::flag("include", Some('i'), Some("include")),
    OptSpec::flag("head", Some('I'), Some("head")),
    OptSpec::flag("remote-name", Some('O'), Some("remote-name")),
    OptSpec::value("output", Some('o'), Some("output")),
    OptSpec::value("request", Some('X'), Some("request")),
    OptSpec::value("header", Some('H'), Some("header")),
    OptSpec::value("data", Some('d'), Some("data")),
    OptSpec::value("data-raw", None, Some("data-raw")),
    OptSpec::value("data-binary", None, Some("data-binary")),
    OptSpec::value("write-out", Some('w'), Some("write-out")),
    OptSpec::value("user-agent", Some('A'), Some("user-agent")),
    OptSpec::value("referer", Some('e'), Some("referer")),
    OptSpec::value("max-redirs", None, Some("max-redirs")),
    OptSpec::value("max-time", Some('m'), Some("max-time")),
    OptSpec::value("user", Some('u'), Some("user")),
];

/// The spec of `curl`.
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("curl", OPTS, PathOperands::None)
};

crate::register_command!("curl", SPEC, run, true);

/// curl's hint after a usage error.
const HINT: &str = "curl: try 'curl --help' or 'curl --manual' for more information\n";

/// A failed transfer: curl's exit code and message.
struct Fail(i32, String);

fn net_fail(e: NetError) -> Fail {
    let code = match e.kind {
        NetErrorKind::Denied | NetErrorKind::Connect => 7,
        NetErrorKind::BadUrl if e.message.starts_with("Protocol") => 1,
        NetErrorKind::BadUrl => 3,
        NetErrorKind::Resolve => 6,
        NetErrorKind::Timeout => 28,
        NetErrorKind::Other => 56,
    };
    Fail(code, e.message)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = match parse_cmd(ctx, &SPEC) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.message.unwrap_or_default();
            ctx.stderr
                .write_str(&format!("curl: {msg}\n{HINT}"))
                .await?;
            return Ok(2);
        }
    };
    if p.has("user") {
        ctx.stderr
            .write_str("curl: option --user: unsupported in Mirage (put credentials in the workspace's network.allow headers)\n")
            .await?;
        return Ok(2);
    }
    if p.operands.is_empty() {
        ctx.stderr
            .write_str(&format!("curl: no URL specified!\n{HINT}"))
            .await?;
        return Ok(2);
    }
    let silent = p.has("silent") && !p.has("show-error");
    let mut status = 0;
    for url in p.operands.clone() {
        let max = p
            .value("max-time")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0 && s.is_finite());
        let result = match max {
            Some(secs) => {
                let limit = std::time::Duration::from_secs_f64(secs.min(1e9));
                match tokio::time::timeout(limit, transfer(ctx, &p, &url)).await {
                    Ok(r) => r,
                    Err(_) => Err(Fail(
                        28,
                        format!(
                            "Operation timed out after {} milliseconds",
                            limit.as_millis()
                        ),
                    )),
                }
            }
            None => transfer(ctx, &p, &url).await,
        };
        match result {
            Ok(()) => {}
            Err(Fail(code, msg)) => {
                let _ = ctx.stdout.flush().await;
                if !silent {
                    ctx.stderr
                        .write_str(&format!("curl: ({code}) {msg}\n"))
                        .await?;
                }
                status = code;
            }
        }
    }
    Ok(status)
}

/// The request body of `-d`/`--data-raw`/`--data-binary`, and whether it
/// is form data.
async fn request_body(ctx: &mut CommandCtx, p: &ParsedArgs) -> Result<Option<Bytes>, Fail> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for (key, v) in &p.opts {
        let Some(v) = v else { continue };
        let part = match *key {
            "data" | "data-binary" if v.starts_with('@') => {
                let path = &v[1..];
                let bytes =
                    if path == "-" {
                        ctx.stdin.read_all().await.map_err(|e| {
                            Fail(26, format!("Failed to read stdin: {}", e.message()))
                        })?
                    } else {
                        let vfs = ctx.vfs.clone();
                        let abs = ctx.resolve(path);
                        let src = vfs.read(&abs).await.map_err(|e| {
                            Fail(26, format!("Failed to open {path}: {}", e.message()))
                        })?;
                        src.collect().await.map_err(|e| {
                            Fail(26, format!("Failed to read {path}: {}", e.message()))
                        })?
                    };
                if *key == "data" {
                    bytes
                        .iter()
                        .copied()
                        .filter(|b| *b != b'\n' && *b != b'\r')
                        .collect()
                } else {
                    bytes.to_vec()
                }
            }
            "data" | "data-raw" | "data-binary" => bytestr::encode(v).into_owned(),
            _ => continue,
        };
        parts.push(part);
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(Bytes::from(parts.join(&b'&'))))
}

/// The file name `-O` takes from `url`: its last path segment.
fn remote_name(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let (_, path) = path.split_once('/')?;
    let name = path.rsplit('/').next().unwrap_or("");
    (!name.is_empty()).then(|| name.to_string())
}

/// Resolves a redirect's `Location` against the URL that gave it.
pub(crate) fn join_location(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some(abs) = loc.strip_prefix("//") {
        return format!("{scheme}://{abs}");
    }
    if loc.starts_with('/') {
        return format!("{scheme}://{authority}{loc}");
    }
    let path = rest[authority.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{scheme}://{authority}{dir}/{loc}")
}

/// The header block `-i`/`-I` prints.
fn header_block(r: &HttpResponse) -> String {
    let mut s = format!("{} {}", r.version, r.status);
    if r.version != "HTTP/2" && !r.reason.is_empty() {
        s.push(' ');
        s.push_str(&r.reason);
    }
    s.push_str("\r\n");
    for (k, v) in &r.headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

/// Facts `-w` can print.
struct Done {
    code: u16,
    url: String,
    size: u64,
    content_type: String,
    redirects: u32,
    method: String,
}

fn write_out(fmt: &str, d: &Done) -> String {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            },
            '%' if it.peek() == Some(&'{') => {
                it.next();
                let name: String = it.by_ref().take_while(|c| *c != '}').collect();
                match name.as_str() {
                    "http_code" | "response_code" => out.push_str(&format!("{:03}", d.code)),
                    "url_effective" | "url" => out.push_str(&d.url),
                    "size_download" => out.push_str(&d.size.to_string()),
                    "content_type" => out.push_str(&d.content_type),
                    "num_redirects" => out.push_str(&d.redirects.to_string()),
                    "method" => out.push_str(&d.method),
                    _ => {}
                }
            }
            '%' if it.peek() == Some(&'%') => {
                it.next();
                out.push('%');
            }
            c => out.push(c),
        }
    }
    out
}

async fn transfer(ctx: &mut CommandCtx, p: &ParsedArgs, url0: &str) -> Result<(), Fail> {
    let Some(net) = ctx.net.clone() else {
        return Err(Fail(
            7,
            "network access is off in this workspace (its config has no network.allow rule)".into(),
        ));
    };
    let data = request_body(ctx, p).await?;
    let head = p.has("head");
    let mut method = match p.value("request") {
        Some(m) => m.to_string(),
        None if head => "HEAD".into(),
        None if data.is_some() => "POST".into(),
        None => "GET".into(),
    };
    let mut headers: Vec<(String, String)> = vec![
        (
            "User-Agent".into(),
            p.value("user-agent").unwrap_or("curl/7.88.1").into(),
        ),
        ("Accept".into(), "*/*".into()),
    ];
    if let Some(r) = p.value("referer") {
        headers.push(("Referer".into(), r.into()));
    }
    if data.is_some() {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    for h in p.values("header") {
        if let Some((k, v)) = h.split_once(':') {
            let k = k.trim().to_string();
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&k));
            let v = v.trim();
            if !v.is_empty() {
                headers.push((k, v.to_string()));
            }
        }
    }
    let max_redirs: i64 = p
        .value("max-redirs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let mut url = url0.to_string();
    let mut body = data;
    let mut redirects = 0u32;
    let resp = loop {
        let req = HttpRequest {
            method: method.clone(),
            url: url.clone(),
            headers: headers.clone(),
            body: body.clone(),
        };
        let resp = net.fetch(req).await.map_err(net_fail)?;
        let loc = resp.header("location").map(str::to_string);
        if p.has("location")
            && (300..400).contains(&resp.status)
            && let Some(loc) = loc
        {
            if max_redirs >= 0 && i64::from(redirects) >= max_redirs {
                return Err(Fail(
                    47,
                    format!("Maximum ({max_redirs}) redirects followed"),
                ));
            }
            if p.has("include") || head {
                ctx.stdout
                    .write_str(&header_block(&resp))
                    .await
                    .map_err(|e| Fail(23, e.message().to_string()))?;
            }
            redirects += 1;
            // curl turns a POST into a GET after 301, 302 and 303
            if matches!(resp.status, 301..=303) && method == "POST" && p.value("request").is_none()
            {
                method = "GET".into();
                body = None;
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            }
            url = join_location(&url, &loc);
            continue;
        }
        break resp;
    };
    if p.has("fail") && resp.status >= 400 {
        return Err(Fail(
            22,
            format!("The requested URL returned error: {}", resp.status),
        ));
    }
    let content_type = resp.header("content-type").unwrap_or("").to_string();
    let code = resp.status;
    let include = p.has("include") || head;
    let out_path = match (p.value("output"), p.has("remote-name")) {
        (Some(o), _) => Some(o.to_string()),
        (None, true) => match remote_name(&url) {
            Some(n) => Some(n),
            None => return Err(Fail(23, "Remote file name has no length!".into())),
        },
        (None, false) => None,
    };
    let header_text = include.then(|| header_block(&resp));
    let size = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut stream = if head {
        ByteSource::empty().into_stream()
    } else {
        resp.body.into_stream()
    };
    match out_path.as_deref() {
        Some(o) if o != "-" => {
            let counter = size.clone();
            let head_bytes = header_text.map(Bytes::from);
            let counted = futures::stream::iter(head_bytes.map(Ok))
                .chain(stream.map(move |r| {
                    if let Ok(b) = &r {
                        counter.fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    r
                }))
                .boxed();
            let path = ctx.resolve(o);
            ctx.vfs
                .write(&path, ByteSource::Stream(counted))
                .await
                .map_err(|e| Fail(23, format!("Failed writing body ({o}: {})", e.message())))?;
        }
        _ => {
            if let Some(h) = header_text {
                ctx.stdout
                    .write_str(&h)
                    .await
                    .map_err(|e| Fail(23, e.message().to_string()))?;
            }
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| Fail(18, e.message().to_string()))?;
                size.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
                ctx.stdout
                    .write_bytes(chunk)
                    .await
                    .map_err(|_| Fail(23, "Failure writing output to destination".into()))?;
            }
        }
    }
    if let Some(fmt) = p.value("write-out") {
        let done = Done {
            code,
            url: url.clone(),
            size: size.load(std::sync::atomic::Ordering::Relaxed),
            content_type,
            redirects,
            method,
        };
        ctx.stdout
            .write_str(&write_out(fmt, &done))
            .await
            .map_err(|e| Fail(23, e.message().to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_names_and_locations() {
        assert_eq!(
            remote_name("http://h/a/b.txt?x=1").as_deref(),
            Some("b.txt")
        );
        assert_eq!(remote_name("http://h/"), None);
        assert_eq!(remote_name("http://h"), None);
        assert_eq!(join_location("http://h:1/a/b", "/c"), "http://h:1/c");
        assert_eq!(join_location("http://h:1/a/b", "c"), "http://h:1/a/c");
        assert_eq!(join_location("http://h/a", "http://o/x"), "http://o/x");
    }

    #[test]
    fn write_out_formats() {
        let d = Done {
            code: 200,
            url: "http://h/".into(),
            size: 5,
            content_type: "text/plain".into(),
            redirects: 1,
            method: "GET".into(),
        };
        assert_eq!(write_out("%{http_code}\\n", &d), "200\n");
        assert_eq!(
            write_out("%{size_download} %{num_redirects} 100%%", &d),
            "5 1 100%"
        );
    }
}
