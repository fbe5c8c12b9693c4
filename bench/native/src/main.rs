//! Native Rust reference for the benchmark suite: the same workloads as
//! `bench/impls/*/{server,client}.py`, written directly against web-transport-quinn.
//!
//! ```text
//! wt-bench-native gencert DIR                      # cert.der, key.der, cert.pem, key.pem
//! wt-bench-native server --port P --workload W --cert DIR/cert.der --key DIR/key.der
//! wt-bench-native client --port P --workload W --cert DIR/cert.der [--size N] [--duration S]
//!                        [--count N] [--payload N] [--streams N] [--sessions N] [--timeout S]
//! ```
//!
//! The server prints `READY <port>` once it listens; the client prints one JSON line.
//! `WT_BENCH_WORKERS=N` (1 to 64) sets the tokio worker threads (default: one per core);
//! the instruction-count mode runs one, like ours, so work stealing adds no variation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncBufReadExt;
use tokio::sync::Semaphore;
use web_transport_quinn as wtq;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Args(HashMap<String, String>);

impl Args {
    fn parse(raw: &[String]) -> Res<Self> {
        let mut map = HashMap::new();
        let mut it = raw.iter();
        while let Some(k) = it.next() {
            let key = k
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {k}"))?;
            let value = it.next().ok_or_else(|| format!("missing value for {k}"))?;
            map.insert(key.replace('-', "_"), value.clone());
        }
        Ok(Self(map))
    }

    fn str(&self, key: &str) -> Res<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("--{key} is required").into())
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Res<T> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key}: not a number: {v}").into()),
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = argv.first().cloned() else {
        eprintln!("usage: wt-bench-native gencert DIR | server ... | client ...");
        std::process::exit(2);
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("WT_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
    {
        builder.worker_threads(n);
    }
    let rt = builder.enable_all().build().expect("tokio runtime");
    let result = rt.block_on(async move {
        match cmd.as_str() {
            "gencert" => gencert(argv.get(1).map(String::as_str).unwrap_or(".")),
            "server" => server(Args::parse(&argv[1..])?).await,
            "client" => client(Args::parse(&argv[1..])?).await,
            other => Err(format!("unknown command {other}").into()),
        }
    });
    if let Err(err) = result {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
    // Do not wait for detached tasks (idle sessions) at exit.
    rt.shutdown_timeout(Duration::from_millis(100));
}

fn gencert(dir: &str) -> Res<()> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let mut params = rcgen::CertificateParams::new(names)?;
    let now = std::time::SystemTime::now();
    params.not_before = (now - Duration::from_secs(3600)).into();
    params.not_after = (now + Duration::from_secs(10 * 86400)).into();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    std::fs::create_dir_all(dir)?;
    let p = std::path::Path::new(dir);
    std::fs::write(p.join("cert.der"), cert.der())?;
    std::fs::write(p.join("key.der"), key.serialize_der())?;
    std::fs::write(p.join("cert.pem"), cert.pem())?;
    std::fs::write(p.join("key.pem"), key.serialize_pem())?;
    Ok(())
}

fn load_cert(path: &str) -> Res<wtq::quinn::rustls::pki_types::CertificateDer<'static>> {
    Ok(std::fs::read(path)?.into())
}

// ---------------------------------------------------------------------------------------
// Server

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Sink,
    Echo,
    Datagrams,
}

struct Counters {
    datagrams: AtomicU64,
}

async fn server(args: Args) -> Res<()> {
    let port: u16 = args.num("port", 0)?;
    let mode = match args.str("workload")? {
        "W1" | "W5" => Mode::Sink,
        "W3" => Mode::Datagrams,
        _ => Mode::Echo,
    };
    let chain = vec![load_cert(args.str("cert")?)?];
    let key = wtq::quinn::rustls::pki_types::PrivateKeyDer::Pkcs8(
        std::fs::read(args.str("key")?)?.into(),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut server = wtq::ServerBuilder::new()
        .with_addr(addr)
        .with_certificate(chain, key)?;
    let local = server.local_addr()?;
    println!("READY {}", local.port());
    let counters = Arc::new(Counters {
        datagrams: AtomicU64::new(0),
    });
    while let Some(request) = server.accept().await {
        let counters = counters.clone();
        tokio::spawn(async move {
            let Ok(session) = request.ok().await else {
                return;
            };
            run_session(session, mode, counters).await;
        });
    }
    Ok(())
}

async fn run_session(session: wtq::Session, mode: Mode, counters: Arc<Counters>) {
    if mode == Mode::Datagrams {
        let s = session.clone();
        let c = counters.clone();
        tokio::spawn(async move {
            while s.read_datagram().await.is_ok() {
                c.datagrams.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Ok((send, recv)) = session.accept_bi().await {
        let counters = counters.clone();
        tokio::spawn(async move {
            let _ = handle_stream(send, recv, mode, counters).await;
        });
    }
}

async fn handle_stream(
    mut send: wtq::SendStream,
    mut recv: wtq::RecvStream,
    mode: Mode,
    counters: Arc<Counters>,
) -> Res<()> {
    match mode {
        Mode::Sink => {
            let mut total: u64 = 0;
            while let Some(chunk) = recv.read_chunk(usize::MAX, true).await? {
                total += chunk.bytes.len() as u64;
            }
            send.write_all(&total.to_be_bytes()).await?;
        }
        Mode::Echo => {
            let data = recv.read_to_end(16 << 20).await?;
            send.write_all(&data).await?;
        }
        Mode::Datagrams => {
            let _ = recv.read_to_end(1 << 16).await?;
            // Let datagrams still in flight arrive before answering.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let n = counters.datagrams.load(Ordering::Relaxed);
            let reply = format!("{{\"received\": {n}}}");
            send.write_all(reply.as_bytes()).await?;
        }
    }
    send.finish()?;
    let _ = send.stopped().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Client

struct Ctx {
    client: wtq::Client,
    url: url::Url,
}

impl Ctx {
    async fn connect(&self) -> Res<wtq::Session> {
        Ok(self.client.connect(self.url.clone()).await?)
    }
}

async fn client(args: Args) -> Res<()> {
    let port: u16 = args.num("port", 0)?;
    let workload = args.str("workload")?.to_string();
    let timeout: f64 = args.num("timeout", 120.0)?;
    let cert = load_cert(args.str("cert")?)?;
    let client = wtq::ClientBuilder::new().with_server_certificates(vec![cert])?;
    let url: url::Url = format!("https://127.0.0.1:{port}/bench").parse()?;
    let ctx = Ctx { client, url };
    let run = async {
        match workload.as_str() {
            "W1" => w1(&ctx, &args).await,
            "W2" => w2(&ctx, &args).await,
            "W3" => w3(&ctx, &args).await,
            "W4" => w4(&ctx, &args).await,
            "W5" => w5(&ctx, &args).await,
            "W6" => w6(&ctx, &args).await,
            other => Err(format!("unknown workload {other}").into()),
        }
    };
    let out = tokio::time::timeout(Duration::from_secs_f64(timeout), run)
        .await
        .map_err(|_| format!("client timed out after {timeout} s"))??;
    println!("{out}");
    Ok(())
}

async fn sink_stream(session: &wtq::Session, data: Bytes, size: u64) -> Res<u64> {
    let (mut send, mut recv) = session.open_bi().await?;
    let mut left = size;
    while left > 0 {
        let n = left.min(data.len() as u64) as usize;
        send.write_chunk(data.slice(..n)).await?;
        left -= n as u64;
    }
    send.finish()?;
    let mut ack = [0u8; 8];
    recv.read_exact(&mut ack).await?;
    Ok(u64::from_be_bytes(ack))
}

async fn w1(ctx: &Ctx, args: &Args) -> Res<String> {
    let size: u64 = args.num("size", 256 << 20)?;
    let session = ctx.connect().await?;
    let chunk = Bytes::from(vec![0x5au8; 1 << 20]);
    let t0 = Instant::now();
    let got = sink_stream(&session, chunk, size).await?;
    counted(got, size)?;
    Ok(bulk_result(&session, size, 1, t0))
}

/// Err unless the server counted `got` bytes of the `size` a stream sent.
fn counted(got: u64, size: u64) -> Res<()> {
    if got != size {
        return Err(format!("server counted {got} bytes, sent {size}").into());
    }
    Ok(())
}

/// W1's and W5's JSON result (`streams` streams of `size` bytes since `t0`); closes `session`.
fn bulk_result(session: &wtq::Session, size: u64, streams: usize, t0: Instant) -> String {
    let dt = t0.elapsed().as_secs_f64();
    session.close(0, b"");
    let total = size * streams as u64;
    format!(
        "{{\"ok\": true, \"value\": {:.3}, \"unit\": \"MiB/s\", \"bytes\": {total}, \"streams\": {streams}, \"seconds\": {dt:.4}}}",
        total as f64 / dt / 1048576.0
    )
}

async fn w2(ctx: &Ctx, args: &Args) -> Res<String> {
    let duration: f64 = args.num("duration", 3.0)?;
    let count: u64 = args.num("count", 10_000_000)?;
    let payload: usize = args.num("payload", 64)?;
    let session = ctx.connect().await?;
    let msg = vec![0x42u8; payload];
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(duration);
    let mut n = 0u64;
    while n < count && Instant::now() < deadline {
        let (mut send, mut recv) = session.open_bi().await?;
        send.write_all(&msg).await?;
        send.finish()?;
        let back = recv.read_to_end(1 << 16).await?;
        if back.len() != payload {
            return Err(format!("echo returned {} bytes", back.len()).into());
        }
        n += 1;
    }
    let dt = t0.elapsed().as_secs_f64();
    session.close(0, b"");
    Ok(format!(
        "{{\"ok\": true, \"value\": {:.3}, \"unit\": \"round trips/s\", \"count\": {n}, \"seconds\": {dt:.4}}}",
        n as f64 / dt
    ))
}

async fn w3(ctx: &Ctx, args: &Args) -> Res<String> {
    let duration: f64 = args.num("duration", 3.0)?;
    let count: u64 = args.num("count", 100_000_000)?;
    let payload: usize = args.num("payload", 1000)?;
    let session = ctx.connect().await?;
    if args.num("ready", 0u8)? == 1 {
        datagram_count(&session).await?;
    }
    let msg = Bytes::from(vec![0x44u8; payload]);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(duration);
    let mut sent = 0u64;
    while sent < count {
        session.send_datagram_wait(msg.clone()).await?;
        sent += 1;
        if sent % 64 == 0 && Instant::now() >= deadline {
            break;
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let received = datagram_count(&session).await?;
    session.close(0, b"");
    Ok(format!(
        "{{\"ok\": true, \"value\": {:.3}, \"unit\": \"datagrams/s\", \"sent\": {sent}, \"received\": {received}, \"loss\": {:.5}, \"seconds\": {dt:.4}}}",
        received as f64 / dt,
        1.0 - received as f64 / sent.max(1) as f64
    ))
}

/// W3: ask the server how many datagrams arrived (it waits briefly for stragglers).
async fn datagram_count(session: &wtq::Session) -> Res<u64> {
    let (mut send, mut recv) = session.open_bi().await?;
    send.write_all(b"count").await?;
    send.finish()?;
    let reply = String::from_utf8(recv.read_to_end(1 << 16).await?)?;
    Ok(reply
        .trim_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .map_err(|_| format!("bad count reply {reply}"))?)
}

async fn w4(ctx: &Ctx, args: &Args) -> Res<String> {
    let duration: f64 = args.num("duration", 3.0)?;
    let count: u64 = args.num("count", 1_000_000)?;
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(duration);
    let mut n = 0u64;
    while n < count && Instant::now() < deadline {
        let session = ctx.connect().await?;
        let (mut send, mut recv) = session.open_bi().await?;
        send.write_all(b"x").await?;
        send.finish()?;
        let back = recv.read_to_end(16).await?;
        if back != b"x" {
            return Err("bad echo".into());
        }
        session.close(0, b"");
        session.closed().await;
        n += 1;
    }
    let dt = t0.elapsed().as_secs_f64();
    Ok(format!(
        "{{\"ok\": true, \"value\": {:.3}, \"unit\": \"sessions/s\", \"count\": {n}, \"seconds\": {dt:.4}}}",
        n as f64 / dt
    ))
}

async fn w5(ctx: &Ctx, args: &Args) -> Res<String> {
    let streams: usize = args.num("streams", 100)?;
    let size: u64 = args.num("size", 1 << 20)?;
    let session = ctx.connect().await?;
    let chunk = Bytes::from(vec![0x55u8; size as usize]);
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..streams {
        let s = session.clone();
        let c = chunk.clone();
        tasks.spawn(async move { sink_stream(&s, c, size).await });
    }
    while let Some(r) = tasks.join_next().await {
        counted(r??, size)?;
    }
    Ok(bulk_result(&session, size, streams, t0))
}

async fn w6(ctx: &Ctx, args: &Args) -> Res<String> {
    let sessions: usize = args.num("sessions", 1000)?;
    let concurrency: usize = args.num("concurrency", 50)?;
    let hold: f64 = args.num("hold", 60.0)?;
    let t0 = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let client = ctx.client.clone();
    for _ in 0..sessions {
        let gate = gate.clone();
        let client = client.clone();
        let url = ctx.url.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let s: wtq::Session = client.connect(url).await?;
            Res::Ok(s)
        });
    }
    let mut held: Vec<wtq::Session> = Vec::with_capacity(sessions);
    while let Some(r) = tasks.join_next().await {
        held.push(r??);
    }
    let dt = t0.elapsed().as_secs_f64();
    println!("HOLDING {}", held.len());
    // Wait for the harness to read the server's memory (a line on stdin, or EOF).
    let mut line = String::new();
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let _ = tokio::time::timeout(Duration::from_secs_f64(hold), stdin.read_line(&mut line)).await;
    for s in &held {
        s.close(0, b"");
    }
    Ok(format!(
        "{{\"ok\": true, \"value\": {}, \"unit\": \"sessions\", \"connect_seconds\": {dt:.4}}}",
        held.len()
    ))
}
