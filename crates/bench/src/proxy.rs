//! Issue figures for the egress proxy, measured side by side on loopback:
//! bulk transfer through a `CONNECT` tunnel against the same transfer
//! direct; the latency of a new tunnel (TCP connect, `CONNECT`, first byte
//! from the destination); 1000 tunnels open at once; and what `--network
//! proxy` adds to the start of a run over `--network off`.

use crate::stats::{Figure, Target, median, sample};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stockade_policy::domain::DomainRules;
use stockade_proxy::{Config, Gate, Listeners, Running};

/// Bytes per bulk transfer.
const BULK: usize = 256 << 20;
/// Tunnels open at once.
const TUNNELS: usize = 1000;

/// A destination on loopback: every connection gets one byte at once,
/// then `BULK` bytes if the client sends `b`, else an echo of what it sends.
fn destination() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                if stream.write_all(b"!").is_err() {
                    return;
                }
                let mut first = [0u8; 1];
                if stream.read_exact(&mut first).is_err() {
                    return;
                }
                if first[0] == b'b' {
                    let chunk = vec![7u8; 1 << 20];
                    for _ in 0..BULK / chunk.len() {
                        if stream.write_all(&chunk).is_err() {
                            return;
                        }
                    }
                } else {
                    let _ = stream.write_all(&first);
                    let mut buf = [0u8; 256];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A proxy that allows `localhost:PORT` (and loopback, its range).
fn proxy(port: u16) -> (SocketAddr, Running) {
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = http.local_addr().unwrap();
    let config = Config {
        gate: Gate {
            rules: DomainRules::parse([format!("localhost:{port}")], [""; 0]).unwrap(),
            allow_ranges: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        },
        credential: None,
    };
    let listeners = Listeners {
        http: vec![http],
        socks: Vec::new(),
    };
    (addr, stockade_proxy::start(config, listeners).unwrap())
}

/// A tunnel to `localhost:port` through the proxy, its `200` read and the
/// destination's first byte consumed.
fn tunnel(proxy: SocketAddr, port: u16) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(proxy)?;
    stream.set_nodelay(true)?;
    write!(stream, "CONNECT localhost:{port} HTTP/1.1\r\n\r\n")?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(std::io::Error::other("the proxy refused"));
    }
    stream.read_exact(&mut byte)?;
    Ok(stream)
}

fn direct(port: u16) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte)?;
    Ok(stream)
}

/// Reads a bulk transfer to its end; the time it took.
fn bulk(mut stream: TcpStream) -> Duration {
    let start = Instant::now();
    let _ = stream.write_all(b"b");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    while total < BULK {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    start.elapsed()
}

/// CPU time this process (every thread: destination, proxy, client) has
/// used so far, user and system.
fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data filled by getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage is a valid out-pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Bulk transfers over `runs` fresh connections: wall times and CPU times,
/// each sorted; `None` if any failed.
fn bulk_runs(
    runs: usize,
    mut connect: impl FnMut() -> std::io::Result<TcpStream>,
) -> Option<(Vec<Duration>, Vec<Duration>)> {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..runs {
        let stream = connect().ok()?;
        let before = cpu_time();
        wall.push(bulk(stream));
        cpu.push(cpu_time() - before);
    }
    wall.sort();
    cpu.sort();
    Some((wall, cpu))
}

/// Raises the soft descriptor limit to the hard one (1000 tunnels take
/// 4000 descriptors in this process).
fn raise_fd_limit() {
    // SAFETY: rlimit is plain data filled by getrlimit.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: limit is a valid out-pointer; setrlimit reads it.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

pub fn figures(iterations: usize, stockade: &Path) -> Vec<Figure> {
    let mut figures = Vec::new();
    raise_fd_limit();
    let port = destination().port();
    let (addr, running) = proxy(port);
    let runs = 9;
    let direct_runs = bulk_runs(runs, || direct(port));
    let proxied_runs = bulk_runs(runs, || tunnel(addr, port));
    if let (Some((direct_wall, direct_cpu)), Some((proxied_wall, proxied_cpu))) =
        (direct_runs, proxied_runs)
    {
        // Throughput >= 0.8x direct is time <= 1.25x direct.
        figures.push(Figure::ratio(
            "256 MiB through CONNECT: time vs direct (1.25x = 0.8x speed)",
            &proxied_wall,
            median(&direct_wall),
            1.25,
        ));
        // What the machine spends: the cores the direct transfer already
        // keeps busy, and the proxy's share on top.
        figures.push(Figure::reference(
            "256 MiB direct: CPU time (all threads) vs wall time",
            &direct_cpu,
            median(&direct_wall),
        ));
        figures.push(Figure::reference(
            "256 MiB through CONNECT: CPU time vs direct CPU time",
            &proxied_cpu,
            median(&direct_cpu),
        ));
    } else {
        eprintln!("note: the bulk transfers failed; the throughput figure is skipped");
    }
    let latency = sample(iterations, || {
        let _ = tunnel(addr, port);
    });
    figures.push(Figure::new(
        "new tunnel: connect + CONNECT + first byte",
        &latency,
        Target::Time(Duration::from_millis(1)),
    ));
    let start = Instant::now();
    let mut errors = 0u64;
    let mut open = Vec::with_capacity(TUNNELS);
    for _ in 0..TUNNELS {
        match tunnel(addr, port) {
            Ok(t) => open.push(t),
            Err(_) => errors += 1,
        }
    }
    for t in &mut open {
        let mut echo = [0u8; 1];
        if t.write_all(b"e")
            .and_then(|()| t.read_exact(&mut echo))
            .is_err()
            || echo != *b"e"
        {
            errors += 1;
        }
    }
    let held = start.elapsed();
    drop(open);
    figures.push(Figure::count(
        format!("{TUNNELS} tunnels open at once: errors (all up in {held:.0?})"),
        errors,
        0,
    ));
    drop(running.stop());
    figures.extend(startup(iterations, stockade));
    figures
}

/// What `--network proxy` adds to `stockade run -- /bin/true` over
/// `--network off`, in the same workspace.
fn startup(iterations: usize, stockade: &Path) -> Option<Figure> {
    let base = std::env::current_dir().ok()?.join("target");
    let dir = tempfile::tempdir_in(&base).ok()?;
    let time = |network: &[&str]| {
        let mut samples = Vec::new();
        for _ in 0..iterations.max(1) {
            let start = Instant::now();
            let ok = Command::new(stockade)
                .arg("run")
                .args(network)
                .args(["--", "/bin/true"])
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .ok()?
                .success();
            if !ok {
                return None;
            }
            samples.push(start.elapsed());
        }
        samples.sort();
        Some(samples)
    };
    let off = median(&time(&["--network", "off"])?);
    let mut extra: Vec<Duration> = time(&["--allow-domain", "example.com"])?
        .iter()
        .map(|t| t.saturating_sub(off))
        .collect();
    extra.sort();
    Some(Figure::new(
        "`run --network proxy` start over `--network off`",
        &extra,
        Target::Time(Duration::from_millis(5)),
    ))
}
