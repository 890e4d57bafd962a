//! SPEC 8 / issue figures for `stockade run`, measured side by side:
//! the workspace profile with network off running `/bin/true`, against the
//! bare command and against `bwrap` with an equivalent argument list; and
//! the peak resident memory of `stockade run`; and the cost of an open under
//! a deny glob the supervisor holds.

use crate::stats::{Figure, Target, median, sample};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn quiet(cmd: &mut Command) -> &mut Command {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
}

fn time(iterations: usize, mut make: impl FnMut() -> Command) -> Option<Vec<Duration>> {
    let ok = quiet(&mut make()).status().ok()?.success();
    if !ok {
        return None;
    }
    Some(sample(iterations, || {
        let _ = quiet(&mut make()).status();
    }))
}

/// `bwrap` with the argument list the issue names for the workspace `ws`.
fn bwrap(iterations: usize, ws: &Path) -> Option<Vec<Duration>> {
    let ws = ws.as_os_str();
    time(iterations, || {
        let mut c = Command::new("bwrap");
        c.args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
            .args(["--tmpfs", "/tmp", "--bind"])
            .args([ws, ws])
            .args(["--unshare-all", "--die-with-parent", "/bin/true"])
            .current_dir(ws);
        c
    })
}

/// What the kernel alone charges for the namespaces a run makes (user with
/// a uid map, mount, pid, ipc, network) plus one more exec: util-linux's
/// `unshare`, no mounts, no Landlock, no seccomp. A floor no sandbox built
/// on these namespaces gets under.
fn namespaces_alone(iterations: usize) -> Option<Vec<Duration>> {
    time(iterations, || {
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-root-user", "--mount", "--pid", "--fork"])
            .args(["--ipc", "--net", "/bin/true"]);
        c
    })
}

/// The flag that makes this program measure one command's peak RSS.
const PEAK_RSS_FLAG: &str = "--peak-rss-of";

/// Peak resident set of a command and its waited-for children, in KiB,
/// measured by this program started again with nothing else in memory: a
/// child's `ru_maxrss` counts the memory of the process it was spawned
/// from, up to its `exec`, so measured from a bench that has already run
/// other figures it reads the bench's size, not the command's.
fn peak_rss_kib(cmd: Command) -> Option<i64> {
    let mut probe = Command::new(std::env::current_exe().ok()?);
    probe
        .arg(PEAK_RSS_FLAG)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(cmd.get_current_dir()?)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let out = probe.output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// `stockade-bench --peak-rss-of PROGRAM ARGS...`: prints the peak RSS of
/// the command in KiB and exits; returns at once otherwise.
pub fn peak_rss_probe_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|a| a != PEAK_RSS_FLAG) {
        return;
    }
    let Some(program) = args.next() else {
        std::process::exit(2)
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    match peak_rss_direct(cmd) {
        Some(kib) => println!("{kib}"),
        None => std::process::exit(1),
    }
    std::process::exit(0);
}

/// Peak resident set of a command spawned from this process, in KiB.
fn peak_rss_direct(mut cmd: Command) -> Option<i64> {
    let mut child = quiet(&mut cmd).spawn().ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid out-pointers.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let _ = child.try_wait();
    (waited == pid).then_some(usage.ru_maxrss)
}

pub fn figures(iterations: usize, stockade: &Path) -> Vec<Figure> {
    let mut figures = Vec::new();
    if !stockade.is_file() {
        return figures;
    }
    // The workspace: not under /tmp (the sandbox's private /tmp) nor any
    // path the workspace profile hides.
    let base = std::env::current_dir()
        .unwrap_or_else(|_| ".".into())
        .join("target");
    let _ = std::fs::create_dir_all(&base);
    let Ok(dir) = tempfile::tempdir_in(&base) else {
        return figures;
    };
    let ws = dir.path().to_path_buf();
    let bare = time(iterations, || Command::new("/bin/true"));
    let run = time(iterations, || {
        let mut c = Command::new(stockade);
        c.args(["run", "--", "/bin/true"]).current_dir(&ws);
        c
    });
    let (Some(bare), Some(run)) = (bare, run) else {
        eprintln!(
            "note: `stockade run -- /bin/true` does not work here (see `stockade check`); run figures skipped"
        );
        return figures;
    };
    let bare = median(&bare);
    figures.push(Figure::ratio(
        "`stockade run -- /bin/true` vs bare (workspace, network off)",
        &run,
        bare,
        2.0,
    ));
    match bwrap(iterations, &ws) {
        Some(bwrap) => {
            figures.push(Figure::ratio(
                "`stockade run` vs bwrap, equivalent policy",
                &run,
                median(&bwrap),
                0.5,
            ));
            figures.push(Figure::reference("bwrap vs bare", &bwrap, bare));
        }
        None => eprintln!(
            "note: bwrap is not installed or does not work here; the bwrap ratio is skipped"
        ),
    }
    match namespaces_alone(iterations) {
        Some(floor) => figures.push(Figure::reference(
            "namespaces alone (`unshare -Urmpfin /bin/true`) vs bare",
            &floor,
            bare,
        )),
        None => eprintln!("note: `unshare` does not work here; the namespace floor is skipped"),
    }
    figures.extend(supervised_opens(iterations, stockade, &ws));
    // The median of 9 runs: one run's figure moves by a MiB or more with
    // what else the machine is doing.
    let mut samples: Vec<i64> = (0..9)
        .filter_map(|_| {
            let mut cmd = Command::new(stockade);
            cmd.args(["run", "--", "/bin/true"]).current_dir(&ws);
            peak_rss_kib(cmd)
        })
        .collect();
    samples.sort();
    if let Some(&kib) = samples.get(samples.len() / 2) {
        figures.push(Figure::memory(
            "peak RSS of `stockade run -- /bin/true` (median of 9)",
            kib,
            8 * 1024,
        ));
    }
    figures
}

/// Opens in the loop of [`supervised_opens`].
const OPENS: u32 = 1000;

/// What a deny glob the supervisor holds costs per `open`: the same shell
/// loop of 1000 opens with and without `--deny '**/.env'`, the difference
/// divided by the opens. No SPEC target: the project's budget is 100 µs.
fn supervised_opens(iterations: usize, stockade: &Path, ws: &Path) -> Option<Figure> {
    let script = format!("i=0; while [ $i -lt {OPENS} ]; do : < /etc/hostname; i=$((i+1)); done");
    let run = |glob: bool| {
        time(iterations, || {
            let mut c = Command::new(stockade);
            c.arg("run");
            if glob {
                c.args(["--deny", "**/.env"]);
            }
            c.args(["--", "sh", "-c", &script]).current_dir(ws);
            c
        })
    };
    let plain = median(&run(false)?);
    let mut per_open: Vec<Duration> = run(true)?
        .iter()
        .map(|t| t.saturating_sub(plain) / OPENS)
        .collect();
    per_open.sort();
    Some(Figure::new(
        "cost of one open under a supervised deny glob (budget)",
        &per_open,
        Target::Time(Duration::from_micros(100)),
    ))
}
