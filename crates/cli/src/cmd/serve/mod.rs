//! `stockade serve`: an MCP server on stdin/stdout (SPEC section 6). The
//! policy comes from the server's own options; a tool call may narrow it,
//! never widen it. Every command runs in a sandbox of its own, started by
//! a launch helper (this binary again), and every session's process tree
//! dies with the server: when the client disconnects, on SIGINT or
//! SIGTERM, and when the server is killed.

mod params;
mod tools;

use crate::args::ServeArgs;
use rmcp::ServiceExt;
use stockade::{Error, Sandbox};

pub fn main(args: ServeArgs) -> Result<i32, Error> {
    // The log goes to stderr: stdout is the protocol.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .try_init();
    let weaker: Vec<&str> = args.allow_weaker.iter().map(String::as_str).collect();
    let sandbox = Sandbox::new(args.policy.request())?.allow_weaker(&weaker);
    // Refuse to start at all when nothing could run here: a server whose
    // every call fails with the same error helps no one.
    sandbox.ready()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            action: "start the server's runtime".into(),
            source,
        })?;
    let server = tools::Server::new(sandbox, args.max_sessions);
    let result = runtime.block_on(serve(server));
    // Stdin is read on a blocking thread that may still be waiting for a
    // line after SIGTERM: do not wait for it.
    runtime.shutdown_background();
    result
}

async fn serve(server: tools::Server) -> Result<i32, Error> {
    let io_error = |source: std::io::Error| Error::Io {
        action: "serve MCP on stdin/stdout".into(),
        source,
    };
    let running = server
        .clone()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| io_error(std::io::Error::other(e.to_string())))?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(io_error)?;
    tokio::select! {
        _ = running.waiting() => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    server.open_sessions().shutdown();
    Ok(0)
}
