//! `stockade shell` on a real terminal: tmux runs it in a pane, types into
//! it (`send-keys`) and reads the screen (`capture-pane`).

mod support;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::*;

/// A tmux server of the test's own (its own socket), one window.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `script` in a 100x30 window; `None` (after skipping) without
    /// tmux.
    fn start(ws: &Workspace, script: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            skip("tmux is not installed (apt-get install tmux)");
            return None;
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmux = Tmux {
            socket: format!("stockade-test-{}-{n}", std::process::id()),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            &ws.path.to_string_lossy(),
            script,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env("TERM", "xterm")
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    fn line(&self, text: &str) {
        self.keys(&["-l", text]);
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-t", "0", "-S", "-200"])
                .stdout,
        )
        .into_owned()
    }

    /// Waits until the screen shows `text` (10 s at most); the screen.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {text:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Waits for the shell's first prompt (`#` or `$`), before typing.
    fn wait_for_prompt(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if screen.trim_end().ends_with(['#', '$']) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no prompt; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The pane's script: the shell, then what is left once it ends.
fn script(shell_args: &str) -> String {
    format!(
        "{} shell {shell_args}; echo \"status=$?\"; echo \"modes: $(stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' ') :modes\"; sleep 600",
        stockade_bin().display()
    )
}

/// Waits until a process with `marker` in its command line runs.
fn running(marker: &str) {
    running_in_state(marker, 'S');
}

/// Waits until a process with `marker` in its command line is in `state`
/// (`S` sleeping, `T` stopped).
fn running_in_state(marker: &str, state: char) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let in_state = || {
        processes_with(marker).iter().any(|p| {
            let pid = p.split(' ').next().unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit(") ")
                .next()
                .is_some_and(|rest| rest.starts_with(state))
        })
    };
    while !in_state() {
        assert!(
            Instant::now() < deadline,
            "{marker} is not in state {state}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_interactive_shell_runs_in_the_sandbox_and_gives_the_terminal_back() {
    let ws = Workspace::new();
    if let Some(reason) = sandbox_unavailable(&ws) {
        return skip(&reason);
    }
    let Some(tmux) = Tmux::start(&ws, &format!("SHELL=/bin/sh {}", script(""))) else {
        return;
    };
    // $SHELL on a terminal of its own, inside the sandbox.
    tmux.wait_for_prompt();
    tmux.line("test -t 0 && echo tty-$((40+2)); stty size");
    tmux.wait_for("tty-42");
    let screen = tmux.wait_for("30 100");
    assert!(screen.contains("30 100"), "{screen}");
    let outside = ws.path.parent().unwrap().join("outside");
    tmux.line(&format!(
        "echo x > {} || echo refused-$((1+1))",
        outside.display()
    ));
    tmux.line("echo x > inside && echo written-$((2+2))");
    tmux.wait_for("written-4");
    tmux.wait_for("refused-2");
    assert!(
        !outside.exists(),
        "a write outside the workspace went through"
    );
    assert!(ws.path.join("inside").exists());

    // The window's size follows the terminal's.
    assert!(
        tmux.run(&["resize-window", "-t", "0", "-x", "120", "-y", "40"])
            .status
            .success()
    );
    std::thread::sleep(Duration::from_millis(300));
    tmux.line("stty size");
    tmux.wait_for("40 120");

    // ^C interrupts the foreground job, and the shell goes on.
    let seconds = 600_000 + std::process::id() % 10_000;
    tmux.line(&format!("sleep {seconds}; echo slept"));
    running(&format!("sleep {seconds}"));
    tmux.keys(&["C-c"]);
    tmux.line("echo after-$((6*7))");
    let screen = tmux.wait_for("after-42");
    assert!(!screen.contains("\nslept"), "{screen}");

    // Job control: ^Z stops the job, fg resumes it, ^C ends it.
    tmux.line(&format!("sleep {}", seconds + 1));
    running(&format!("sleep {}", seconds + 1));
    tmux.keys(&["C-z"]);
    running_in_state(&format!("sleep {}", seconds + 1), 'T');
    tmux.line("jobs; echo jobs-$((3*3))");
    let screen = tmux.wait_for("jobs-9");
    assert!(
        screen.contains("Stopped") || screen.contains("stopped"),
        "{screen}"
    );
    tmux.line("fg");
    // fg hands it the terminal before it continues it.
    running_in_state(&format!("sleep {}", seconds + 1), 'S');
    tmux.keys(&["C-c"]);
    tmux.line("jobs; echo nojobs-$((4*4))");
    tmux.wait_for("nojobs-16");

    // The exit status comes back and the terminal is cooked again.
    tmux.line("exit 3");
    tmux.wait_for("status=3");
    let screen = tmux.wait_for(":modes");
    let after = screen.split("modes: ").nth(1).unwrap_or_default();
    assert!(
        after.contains("icanon") && !after.contains("-icanon"),
        "{screen}"
    );
    assert!(
        after.contains("echo") && !after.contains("-echo"),
        "{screen}"
    );
}

#[test]
fn a_command_instead_of_the_shell_and_a_refused_policy() {
    let ws = Workspace::new();
    if let Some(reason) = sandbox_unavailable(&ws) {
        return skip(&reason);
    }
    let Some(tmux) = Tmux::start(&ws, &script("-- sh -c 'echo cmd-$((5*5)); exit 4'")) else {
        return;
    };
    tmux.wait_for("cmd-25");
    tmux.wait_for("status=4");
    drop(tmux);
    // A policy that cannot be enforced: exit 125, naming it, the terminal
    // untouched.
    let Some(tmux) = Tmux::start(&ws, &script("--profile no-such-profile")) else {
        return;
    };
    let screen = tmux.wait_for("status=125");
    assert!(screen.contains("no-such-profile"), "{screen}");
    // Not on a terminal: refused with a reason.
    let out = Command::new(stockade_bin())
        .arg("shell")
        .current_dir(&ws.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("terminal"));
}

#[test]
fn closing_the_terminal_ends_the_sandbox() {
    let ws = Workspace::new();
    if let Some(reason) = sandbox_unavailable(&ws) {
        return skip(&reason);
    }
    let seconds = 500_000 + std::process::id() % 10_000;
    // Spelled so that only the sandboxed sleep's command line shows it.
    let marker = format!("sleep {seconds}");
    let command = format!("-- sh -c 'sleep $(({seconds}+0)); echo not-here'");
    let Some(tmux) = Tmux::start(&ws, &script(&command)) else {
        return;
    };
    running(&marker);
    // The terminal goes away (SIGHUP): the whole sandbox ends with it.
    drop(tmux);
    assert_eq!(gone(&marker), Vec::<String>::new(), "left after SIGHUP");
}
