//! A foreground daemon for manual checks: `cargo run -p mirage-server
//! --example daemon -- 127.0.0.1:18800 [TOKEN]` (the CLI's `mirage daemon
//! run` is the real entry point).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    let mut args = std::env::args().skip(1);
    let mut s = mirage_server::DaemonSettings::local();
    if let Some(a) = args.next() {
        s.addr = a.parse()?;
    }
    if let Some(t) = args.next() {
        s.token = t;
    }
    s.idle_grace = None;
    mirage_server::run(s).await
}
