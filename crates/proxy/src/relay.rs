//! Bytes both ways between a client and its destination, until both sides
//! are done.
//!
//! Each direction copies through a buffer of its own that starts small and
//! doubles, up to [`MAX_BUFFER`], each time a read fills it: an idle or
//! chatty tunnel keeps 8 KiB a direction, a bulk transfer soon moves a
//! MiB per system call. What the buffers grow by is drawn from one budget
//! for the whole proxy ([`GROWTH_BUDGET`]), so a command that opens many
//! bulk tunnels slows them down instead of making stockade grow.
//!
//! Copying, not `splice(2)`: spliced pages reach the next socket 4 KiB at a
//! time, and a TCP segment holds at most 17 of them (68 KiB), so the
//! sandbox's loopback could not use the 512 KiB segments it is set up for
//! (`stockade_linux`'s `spawn::net`). Through such a loopback, on the
//! 2-core benchmark machine, a copying tunnel took 1.0-1.2x the direct
//! transfer's time and a spliced one 2.0-2.6x.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A direction's buffer at first.
const FIRST_BUFFER: usize = 8 << 10;
/// ... and at most.
const MAX_BUFFER: usize = 1 << 20;
/// What all buffers together may hold beyond their first 8 KiB: 32
/// directions at full size.
const GROWTH_BUDGET: usize = 32 * (MAX_BUFFER - FIRST_BUFFER);

/// Bytes that buffers may still grow by, shared by every tunnel.
struct Budget(AtomicUsize);

static BUDGET: Budget = Budget(AtomicUsize::new(GROWTH_BUDGET));

impl Budget {
    /// Takes `bytes` if that many are left.
    fn take(&self, bytes: usize) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.0.fetch_add(bytes, Ordering::AcqRel);
    }
}

/// A direction's buffer, its growth drawn from a budget and returned when
/// it is dropped.
struct Buffer<'a> {
    bytes: Vec<u8>,
    budget: &'a Budget,
}

impl<'a> Buffer<'a> {
    fn new(budget: &'a Budget) -> Buffer<'a> {
        Buffer {
            bytes: vec![0; FIRST_BUFFER],
            budget,
        }
    }

    /// After a read of `read` bytes: doubles if the read filled the buffer,
    /// it is below [`MAX_BUFFER`] and the budget has the bytes.
    fn after_read(&mut self, read: usize) {
        let len = self.bytes.len();
        if read == len && len < MAX_BUFFER && self.budget.take(len) {
            self.bytes.resize(len * 2, 0);
        }
    }
}

impl Drop for Buffer<'_> {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes.len() - FIRST_BUFFER);
    }
}

/// Relays between two TCP sockets until both directions have ended, or
/// either fails (which ends the other too: both sockets close).
pub(crate) async fn relay_tcp(mut client: TcpStream, mut upstream: TcpStream) {
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    report(tokio::try_join!(
        one_way(client_read, upstream_write),
        one_way(upstream_read, client_write)
    ));
}

/// As [`relay_tcp`], for a client that is not a plain socket.
pub(crate) async fn relay<A>(client: A, mut upstream: TcpStream)
where
    A: AsyncRead + AsyncWrite + Unpin,
{
    let (client_read, client_write) = tokio::io::split(client);
    let (upstream_read, upstream_write) = upstream.split();
    report(tokio::try_join!(
        one_way(client_read, upstream_write),
        one_way(upstream_read, client_write)
    ));
}

fn report(ended: io::Result<((), ())>) {
    if let Err(e) = ended {
        tracing::debug!(target: "stockade::proxy", error = %e, "tunnel ended");
    }
}

/// `from` to `to` until `from` ends; then `to`'s write half is shut, so the
/// other side sees the end too while the opposite direction goes on.
async fn one_way<R, W>(mut from: R, mut to: W) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = Buffer::new(&BUDGET);
    loop {
        let read = from.read(&mut buffer.bytes).await?;
        if read == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buffer.bytes[..read]).await?;
        buffer.after_read(read);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A connected pair of sockets on loopback.
    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap());
        let (near, far) = tokio::join!(near, listener.accept());
        (near.unwrap(), far.unwrap().0)
    }

    /// Every byte arrives in order both ways, through the buffer's growth,
    /// and one side's end reaches the other while the reverse direction
    /// still carries data.
    #[tokio::test]
    async fn both_directions_arrive_whole_and_ends_pass_through() {
        let (mut client, client_end) = pair().await;
        let (upstream_end, mut upstream) = pair().await;
        let tunnel = tokio::spawn(relay_tcp(client_end, upstream_end));

        let bulk: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
        let sent = bulk.clone();
        let upload = tokio::spawn(async move {
            client.write_all(b"request").await.unwrap();
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut request = Vec::new();
        upstream.read_to_end(&mut request).await.unwrap();
        assert_eq!(
            request, b"request",
            "the client's end reached the destination"
        );
        upstream.write_all(&sent).await.unwrap();
        upstream.shutdown().await.unwrap();
        let got = upload.await.unwrap();
        assert_eq!(got.len(), bulk.len());
        assert!(got == bulk, "the bytes arrived changed or out of order");
        tunnel.await.unwrap();
    }

    /// Buffers grow only while reads fill them, never past the largest
    /// size, and together never past the budget; dropping one gives its
    /// growth back.
    #[test]
    fn buffers_grow_within_their_budget() {
        let budget = Budget(AtomicUsize::new(3 * (MAX_BUFFER - FIRST_BUFFER)));
        let mut a = Buffer::new(&budget);
        a.after_read(FIRST_BUFFER - 1);
        assert_eq!(a.bytes.len(), FIRST_BUFFER, "a read that did not fill it");
        for _ in 0..20 {
            let full = a.bytes.len();
            a.after_read(full);
        }
        assert_eq!(a.bytes.len(), MAX_BUFFER);
        let mut grown: Vec<Buffer> = (0..3).map(|_| Buffer::new(&budget)).collect();
        for buffer in &mut grown {
            for _ in 0..20 {
                let full = buffer.bytes.len();
                buffer.after_read(full);
            }
        }
        let sizes: Vec<usize> = grown.iter().map(|b| b.bytes.len()).collect();
        let total: usize = sizes.iter().map(|s| s - FIRST_BUFFER).sum();
        assert!(total <= 2 * (MAX_BUFFER - FIRST_BUFFER), "{sizes:?}");
        assert!(
            sizes.iter().filter(|&&s| s == MAX_BUFFER).count() < 3,
            "{sizes:?}"
        );
        drop(a);
        drop(grown);
        assert_eq!(
            budget.0.load(Ordering::Acquire),
            3 * (MAX_BUFFER - FIRST_BUFFER)
        );
    }

    /// A failed direction ends the tunnel: the client sees its end.
    #[tokio::test]
    async fn a_reset_destination_ends_the_tunnel() {
        let (mut client, client_end) = pair().await;
        let (upstream_end, upstream) = pair().await;
        let tunnel = tokio::spawn(relay_tcp(client_end, upstream_end));
        upstream.set_zero_linger().unwrap();
        drop(upstream);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), tunnel).await;
        assert!(ended.is_ok(), "the tunnel outlived its destination");
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest).await;
    }
}
