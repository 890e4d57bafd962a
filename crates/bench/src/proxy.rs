//! Issue figures for the egress proxy, measured side by side on loopback:
//! bulk transfer through a `CONNECT` tunnel from a `--network proxy`
//! sandbox against the same client reading directly (and, for reference,
//! the proxy alone in this process); the latency of a new tunnel (TCP
//! connect, `CONNECT`, first byte from the destination); 1000 tunnels open
//! at once; and what `--network proxy` adds to the start of a run over
//! `--network off`.

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

/// CPU time every core of the machine has spent busy since boot (from
/// `/proc/stat`: all but idle, I/O wait and steal), to the scheduler
/// tick's resolution.
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...
    let busy = ticks.get(..7)?.iter().sum::<u64>() - ticks[3] - ticks[4];
    // SAFETY: sysconf reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| Duration::from_nanos(busy * 1_000_000_000 / per_second as u64))
}

/// Makes this program one bulk transfer's client: `--bulk-client PORT`
/// reads from `127.0.0.1:PORT`, `--bulk-client PORT proxy` from
/// `localhost:PORT` through the HTTP proxy `HTTPS_PROXY` names (as a
/// command in a `--network proxy` sandbox sees it). Prints the transfer's
/// time and the machine's busy CPU time over it, in nanoseconds.
const BULK_CLIENT_FLAG: &str = "--bulk-client";

pub fn bulk_client_if_requested() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(BULK_CLIENT_FLAG) {
        return;
    }
    let Some(port) = args.get(1).and_then(|p| p.parse().ok()) else {
        std::process::exit(2)
    };
    let stream = match args.get(2).map(String::as_str) {
        None => direct(port),
        Some("proxy") => std::env::var("HTTPS_PROXY")
            .ok()
            .and_then(|url| {
                url.strip_prefix("http://")?
                    .trim_end_matches('/')
                    .parse()
                    .ok()
            })
            .ok_or_else(|| std::io::Error::other("HTTPS_PROXY names no http://ADDRESS:PORT"))
            .and_then(|proxy| tunnel(proxy, port)),
        Some(_) => std::process::exit(2),
    };
    let stream = stream.unwrap_or_else(|e| {
        eprintln!("stockade-bench: the bulk client failed: {e}");
        std::process::exit(1);
    });
    let busy = machine_busy().unwrap_or_default();
    let wall = bulk(stream);
    let busy = machine_busy().unwrap_or_default().saturating_sub(busy);
    println!("{} {}", wall.as_nanos(), busy.as_nanos());
    std::process::exit(0);
}

/// One transfer by a fresh client process: its time and the machine's
/// busy CPU time over it; else why it failed.
fn bulk_process(command: &mut Command) -> Result<(Duration, Duration), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start the client: {e}"))?;
    let printed = String::from_utf8_lossy(&output.stdout);
    let mut nanos = printed.split_whitespace().map(|n| n.parse().ok());
    match (
        output.status.success(),
        nanos.next().flatten(),
        nanos.next().flatten(),
    ) {
        (true, Some(wall), Some(busy)) => {
            Ok((Duration::from_nanos(wall), Duration::from_nanos(busy)))
        }
        _ => Err(format!(
            "the client ended with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

/// `runs` rounds of one transfer each way, alternating so that a drift in
/// the machine's state weighs on both alike.
fn side_by_side<T>(
    runs: usize,
    mut first: impl FnMut() -> Result<T, String>,
    mut second: impl FnMut() -> Result<T, String>,
) -> Result<(Vec<T>, Vec<T>), String> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(first()?);
        b.push(second()?);
    }
    Ok((a, b))
}

/// The sorted first and second parts of `pairs`.
fn unzip_sorted(pairs: &[(Duration, Duration)]) -> (Vec<Duration>, Vec<Duration>) {
    let (mut a, mut b): (Vec<_>, Vec<_>) = pairs.iter().copied().unzip();
    a.sort();
    b.sort();
    (a, b)
}

/// The bulk transfer as a sandboxed command makes it (`stockade run
/// --network proxy`, the client on the sandbox's loopback, the proxy
/// outside) against the same client process reading directly; with the
/// CPU time each takes, and the floor that CPU time sets on this machine's
/// cores even if the scheduler overlapped the threads perfectly.
fn sandboxed_bulk(stockade: &Path, port: u16, runs: usize) -> Result<Vec<Figure>, String> {
    let io = |what: &'static str| move |e: std::io::Error| format!("{what}: {e}");
    let dir = tempfile::tempdir_in(Path::new("target")).map_err(io("a workspace in target/"))?;
    // The client runs from the workspace: the bench's own directory may be
    // out of the sandbox's sight (a clone under /tmp, which it replaces).
    let me = dir.path().join("stockade-bench");
    std::fs::copy(std::env::current_exe().map_err(io("this program"))?, &me)
        .map_err(io("copy the bench into its workspace"))?;
    let me = std::path::absolute(me).map_err(io("the client's path"))?;
    let policy = dir.path().join("bench.toml");
    std::fs::write(
        &policy,
        format!(
            "default_profile = \"bench\"\n[profiles.bench]\nextends = \"workspace\"\n\
             [profiles.bench.network]\nmode = \"proxy\"\nallow = [\"localhost:{port}\"]\n\
             allow_ranges = [\"127.0.0.0/8\"]\n"
        ),
    )
    .map_err(io("write the policy"))?;
    let port = port.to_string();
    let (direct, proxied) = side_by_side(
        runs,
        || bulk_process(Command::new(&me).args([BULK_CLIENT_FLAG, &port])),
        || {
            bulk_process(
                Command::new(stockade)
                    .arg("run")
                    .arg("-c")
                    .arg(&policy)
                    .arg("--")
                    .arg(&me)
                    .args([BULK_CLIENT_FLAG, &port, "proxy"])
                    .current_dir(dir.path()),
            )
        },
    )?;
    let (direct_wall, direct_cpu) = unzip_sorted(&direct);
    let (proxied_wall, proxied_cpu) = unzip_sorted(&proxied);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let floor: Vec<Duration> = proxied_cpu.iter().map(|cpu| *cpu / cores).collect();
    Ok(vec![
        // Throughput >= 0.8x direct is time <= 1.25x direct.
        Figure::ratio(
            "256 MiB via CONNECT from a sandbox: time vs direct (1.25x = 0.8x)",
            &proxied_wall,
            median(&direct_wall),
            1.25,
        ),
        Figure::reference(
            "  the same: CPU time, all cores, vs direct CPU time",
            &proxied_cpu,
            median(&direct_cpu),
        ),
        Figure::reference(
            format!("  the same: floor, its CPU time / {cores} cores, vs direct time"),
            &floor,
            median(&direct_wall),
        ),
    ])
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
    let runs = 15;
    match sandboxed_bulk(stockade, port, runs) {
        Ok(bulk) => figures.extend(bulk),
        Err(e) => eprintln!("note: the sandboxed bulk transfers failed ({e}); skipped"),
    }
    // The proxy alone, in this process, both of its sockets on the host's
    // loopback: a reference for what the sandbox's loopback changes.
    let timed = |stream: std::io::Result<TcpStream>| {
        let wall = bulk(stream.map_err(|e| e.to_string())?);
        Ok((wall, wall))
    };
    match side_by_side(runs, || timed(direct(port)), || timed(tunnel(addr, port))) {
        Ok((direct, proxied)) => figures.push(Figure::reference(
            "256 MiB via CONNECT, all on the host's loopback: time vs direct",
            &unzip_sorted(&proxied).0,
            median(&unzip_sorted(&direct).0),
        )),
        Err(e) => eprintln!("note: the in-process bulk transfers failed ({e}); skipped"),
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
