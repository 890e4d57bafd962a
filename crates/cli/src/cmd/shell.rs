//! `stockade shell`: an interactive shell (`$SHELL`, or `-- COMMAND`) on a
//! new terminal inside the sandbox. The user's terminal is put in raw mode
//! and relayed both ways; window-size changes follow; `^C`, `^Z` and job
//! control happen inside, on the sandbox's own terminal; the terminal is
//! restored however the shell ends.

use crate::args::ShellArgs;
use rustix::termios::{self, OptionalActions, Termios};
use std::io::IsTerminal;
use stockade::{Error, Master, Sandbox, WindowSize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};

pub fn main(args: ShellArgs) -> Result<i32, Error> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Error::Io {
            action: "start an interactive shell".into(),
            source: std::io::Error::other("stdin and stdout must be a terminal"),
        });
    }
    let weaker: Vec<&str> = args.allow_weaker.iter().map(String::as_str).collect();
    let sandbox = Sandbox::new(args.policy.request())?.allow_weaker(&weaker);
    sandbox.ready()?;
    let argv = if args.command.is_empty() {
        vec![std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into())]
    } else {
        args.command.clone()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            action: "start the shell's runtime".into(),
            source,
        })?;
    let raw = RawMode::enter().map_err(|source| Error::Io {
        action: "put the terminal in raw mode".into(),
        source,
    })?;
    let result = runtime.block_on(shell(sandbox, argv));
    drop(raw);
    // The relay's stdin reader may still wait for a key: don't wait for it.
    runtime.shutdown_background();
    let record = result?;
    if let Some(summary) = record.denial_summary() {
        eprintln!("{summary}");
    }
    Ok(record.exit_code)
}

async fn shell(sandbox: Sandbox, argv: Vec<String>) -> Result<stockade::RunRecord, Error> {
    let mut command = sandbox.command(argv[0].clone());
    command.args(argv[1..].iter().cloned());
    let (mut child, master) = command.spawn_pty(terminal_size())?;
    let master = std::sync::Arc::new(master);
    let output = tokio::spawn(relay_output(master.clone()));
    tokio::spawn(relay_input(master.clone()));
    tokio::spawn(follow_resizes(master.clone()));
    let mut hangup = signal(SignalKind::hangup()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    let record = tokio::select! {
        record = child.wait() => record,
        _ = async { hangup.as_mut()?.recv().await } => { let _ = child.terminate(); child.wait().await }
        _ = async { terminate.as_mut()?.recv().await } => { let _ = child.terminate(); child.wait().await }
    };
    // Everything the shell printed before it ended reaches the terminal.
    let _ = output.await;
    record
}

/// The sandbox's terminal to ours, until it hangs up.
async fn relay_output(master: std::sync::Arc<Master>) {
    let mut stdout = tokio::io::stdout();
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = master.read(&mut buf).await {
        if n == 0 || stdout.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let _ = stdout.flush().await;
    }
}

/// Our keyboard to the sandbox's terminal.
async fn relay_input(master: std::sync::Arc<Master>) {
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0u8; 4096];
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 || master.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// Our window's size to the sandbox's terminal, on every SIGWINCH.
async fn follow_resizes(master: std::sync::Arc<Master>) {
    let Ok(mut winch) = signal(SignalKind::window_change()) else {
        return;
    };
    while winch.recv().await.is_some() {
        let _ = master.resize(terminal_size());
    }
}

fn terminal_size() -> WindowSize {
    termios::tcgetwinsize(std::io::stdout())
        .ok()
        .filter(|w| w.ws_row > 0 && w.ws_col > 0)
        .map_or_else(WindowSize::default, |w| WindowSize {
            rows: w.ws_row,
            cols: w.ws_col,
        })
}

/// The user's terminal in raw mode, restored when dropped.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter() -> std::io::Result<RawMode> {
        let saved = termios::tcgetattr(std::io::stdin())?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(std::io::stdin(), OptionalActions::Flush, &raw)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Flush, &self.saved);
    }
}
