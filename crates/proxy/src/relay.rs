//! Bytes both ways between a client and its destination, until both sides
//! are done.

use tokio::io::{AsyncRead, AsyncWrite};

/// Buffer per direction: large enough that a bulk transfer costs few
/// system calls.
const BUFFER: usize = 64 * 1024;

/// Relays until both directions have ended (or either fails).
pub(crate) async fn relay<A, B>(mut client: A, mut upstream: B)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let copied =
        tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, BUFFER, BUFFER).await;
    if let Err(e) = copied {
        tracing::debug!(target: "stockade::proxy", error = %e, "tunnel ended");
    }
}

/// Relays between two TCP sockets: with `splice` on Linux, else copying.
pub(crate) async fn relay_tcp(client: tokio::net::TcpStream, upstream: tokio::net::TcpStream) {
    #[cfg(target_os = "linux")]
    if let Err(e) = crate::splice::relay(client, upstream).await {
        tracing::debug!(target: "stockade::proxy", error = %e, "tunnel ended");
    }
    #[cfg(not(target_os = "linux"))]
    relay(client, upstream).await
}
