//! What an agent harness does with stockade: run a model's command with
//! its output captured, then keep a REPL running in a session and talk to
//! it. Copy this `main` as it is: the launch helper must be checked before
//! the runtime starts its threads.
//!
//! ```text
//! cargo run -p stockade --example harness -- 'echo hello from the sandbox'
//! ```

use std::time::Duration;
use stockade::{PolicyRequest, Sandbox, SessionRequest, Sessions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // First thing: this program is also the sandbox's launch helper.
    stockade::helper_if_requested();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(harness())
}

async fn harness() -> Result<(), Box<dyn std::error::Error>> {
    let script = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "echo hello from the sandbox; ls /".into());
    // The policy: `.stockade.toml` found from the current directory, or the
    // `workspace` profile (write the current directory, network off).
    let sandbox = Sandbox::new(PolicyRequest::default())?;

    // One-shot: the record of `stockade run --json`, with the output.
    let output = sandbox
        .command("sh")
        .args(["-c", &script])
        .timeout(Duration::from_secs(30))
        .output()
        .await?;
    println!(
        "exit {} in {} ms\n--- stdout\n{}--- stderr\n{}",
        output.record.exit_code,
        output.record.duration_ms,
        output.stdout.text(),
        output.stderr.text()
    );

    // A session: a Python REPL on a terminal, driven step by step.
    let sessions = Sessions::new(sandbox, 64);
    let id = sessions
        .start(SessionRequest {
            argv: vec!["python3".into(), "-i".into(), "-q".into()],
            tty: true,
            ..SessionRequest::default()
        })?
        .session_id;
    sessions.write(&id, b"print(6 * 7)\n").await?;
    // Read from where we stopped until the answer is there (each read
    // waits up to a second for more output).
    let (mut cursor, mut seen) = (0, Vec::new());
    while !String::from_utf8_lossy(&seen).contains("42") {
        let read = sessions.read(&id, cursor, Duration::from_secs(1)).await?;
        if read.output.is_empty() {
            break;
        }
        cursor = read.cursor;
        seen.extend(read.output);
    }
    print!("--- session {id}\n{}", String::from_utf8_lossy(&seen));
    let record = sessions.close(&id).await?;
    println!("\n--- session ended: exit {}", record.exit_code);
    Ok(())
}
