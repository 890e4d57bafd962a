//! The SOCKS5 proxy: the `CONNECT` command only, with the proxy resolving
//! names (`socks5h`). A request with an IPv4 or IPv6 address is an IP
//! literal and is judged as one: refused unless an entry allows that
//! address. `BIND` and `UDP ASSOCIATE` get "command not supported".

pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Shared;
use crate::gate::Refusal;
use crate::target::Target;
use wire::{Address, Parsed, WireError, reply};

/// How long a client has to finish the handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// The most bytes a handshake message may take (a request is at most 262).
const MAX_MESSAGE: usize = 600;

/// Serves one client connection.
pub(crate) async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(MAX_MESSAGE);
    let handshake = tokio::time::timeout(HANDSHAKE, handshake(&mut stream, &mut buf, &shared));
    let target = match handshake.await {
        Ok(Ok(target)) => target,
        Ok(Err(code)) => {
            if let Some(code) = code {
                let _ = stream.write_all(&wire::reply(code)).await;
            }
            return;
        }
        Err(_) => return,
    };
    let name = target.to_string();
    match shared.gate.connect(&target.host, target.port).await {
        Ok(mut upstream) => {
            shared.recorder.allowed("socks5", &name);
            if stream
                .write_all(&wire::reply(reply::SUCCEEDED))
                .await
                .is_err()
            {
                return;
            }
            // Bytes the client sent right after its request.
            if !buf.is_empty() && upstream.write_all(&buf).await.is_err() {
                return;
            }
            crate::relay::relay_tcp(stream, upstream).await;
        }
        Err(refusal) => {
            shared.recorder.refused("socks5", &name, &refusal);
            let _ = stream.write_all(&wire::reply(code_for(&refusal))).await;
        }
    }
}

/// The reply code for a destination not reached.
fn code_for(refusal: &Refusal) -> u8 {
    match refusal {
        Refusal::Malformed(_) | Refusal::Rule { .. } | Refusal::Range { .. } => reply::NOT_ALLOWED,
        Refusal::Unresolved(_) => reply::HOST_UNREACHABLE,
        Refusal::Unreachable(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            reply::CONNECTION_REFUSED
        }
        Refusal::Unreachable(_) => reply::HOST_UNREACHABLE,
    }
}

/// Method negotiation, authentication, request: the destination, or the
/// reply code to send before closing (`None`: close without a reply).
async fn handshake(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Shared,
) -> Result<Target, Option<u8>> {
    let methods = read_message(stream, buf, wire::greeting)
        .await
        .map_err(|_| None)?;
    let method = match shared.credential {
        Some(_) => wire::USER_PASS,
        None => wire::NO_AUTH,
    };
    if !methods.contains(&method) {
        let _ = stream
            .write_all(&[wire::VERSION, wire::NO_ACCEPTABLE])
            .await;
        return Err(None);
    }
    stream
        .write_all(&[wire::VERSION, method])
        .await
        .map_err(|_| None)?;
    if let Some(credential) = &shared.credential {
        let given = read_message(stream, buf, wire::user_pass)
            .await
            .map_err(|_| None)?;
        let admitted = credential.admits_password(&given.password);
        let status = if admitted { 0 } else { 1 };
        stream
            .write_all(&[wire::USER_PASS_VERSION, status])
            .await
            .map_err(|_| None)?;
        if !admitted {
            return Err(None);
        }
    }
    let request = match read_message(stream, buf, wire::request).await {
        Ok(request) => request,
        Err(Some(e)) => return Err(Some(e.reply())),
        Err(None) => return Err(None),
    };
    let host = match request.address {
        Address::V4(ip) => ip.to_string(),
        Address::V6(ip) => format!("[{ip}]"),
        // A name that is not UTF-8 is no name: the empty host is refused.
        Address::Name(name) => String::from_utf8(name).unwrap_or_default(),
    };
    Ok(Target {
        host,
        port: request.port,
    })
}

/// Reads until `parse` has a whole message; leaves the bytes after it in
/// `buf`. `Err(None)`: the client went away or sent too much.
async fn read_message<T>(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    parse: fn(&[u8]) -> Result<Parsed<T>, WireError>,
) -> Result<T, Option<WireError>> {
    loop {
        match parse(buf).map_err(Some)? {
            Parsed::Done(message, used) => {
                buf.drain(..used);
                return Ok(message);
            }
            Parsed::Incomplete if buf.len() >= MAX_MESSAGE => return Err(None),
            Parsed::Incomplete => {
                let mut chunk = [0u8; MAX_MESSAGE];
                let room = MAX_MESSAGE - buf.len();
                match stream.read(&mut chunk[..room]).await {
                    Ok(0) | Err(_) => return Err(None),
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        }
    }
}
