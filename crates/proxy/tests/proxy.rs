//! The proxy end to end on loopback: real listeners, a real upstream
//! server, raw clients. Each refused request sits next to its allowed twin.

use std::net::{SocketAddr, TcpListener};

use stockade_policy::domain::DomainRules;
use stockade_proxy::{Config, Credential, Gate, Listeners, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An upstream HTTP server on 127.0.0.1: answers every request with
/// `200` and a body naming the request line and `Host`, then echoes
/// whatever else arrives on the connection (for tunnels).
async fn upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&seen).into_owned();
                let line = text.lines().next().unwrap_or("").to_owned();
                let host = text
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("host: ")
                            .or_else(|| l.strip_prefix("Host: "))
                    })
                    .unwrap_or("")
                    .to_owned();
                let body = format!(
                    "{line}|{host}|proxy-auth:{}",
                    text.to_ascii_lowercase().contains("proxy-authorization")
                );
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

struct Proxy {
    http: SocketAddr,
    socks: SocketAddr,
    running: Option<Running>,
}

fn proxy(
    allow: &[String],
    deny: &[&str],
    ranges: &[&str],
    credential: Option<Credential>,
) -> Proxy {
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let socks = TcpListener::bind("127.0.0.1:0").unwrap();
    let (http_addr, socks_addr) = (http.local_addr().unwrap(), socks.local_addr().unwrap());
    let config = Config {
        gate: Gate {
            rules: DomainRules::parse(allow, deny).unwrap(),
            allow_ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
        },
        credential,
    };
    let listeners = Listeners {
        http: vec![http],
        socks: vec![socks],
    };
    Proxy {
        http: http_addr,
        socks: socks_addr,
        running: Some(stockade_proxy::start(config, listeners).unwrap()),
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            std::thread::spawn(move || running.stop()).join().unwrap();
        }
    }
}

/// An upstream and a proxy that allows `localhost:PORT` (and loopback,
/// its range): the port and the proxy.
async fn localhost_proxy() -> (u16, Proxy) {
    let port = upstream().await.port();
    let p = proxy(
        &[format!("localhost:{port}")],
        &[],
        &["127.0.0.0/8", "::1/128"],
        None,
    );
    (port, p)
}

/// Sends `request` and reads the response head (and any body bytes that
/// came with it).
async fn exchange(stream: &mut TcpStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= head_end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

async fn connect_status(proxy: SocketAddr, authority: &str) -> String {
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let response = exchange(
        &mut stream,
        &format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"),
    )
    .await;
    response.lines().next().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_tunnels_to_an_allowed_name_and_refuses_everything_else() {
    let (port, p) = localhost_proxy().await;

    let mut stream = TcpStream::connect(p.http).await.unwrap();
    let head = exchange(
        &mut stream,
        &format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Through the tunnel: a request to the upstream, then raw echo.
    let inner = exchange(&mut stream, "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(inner.contains("GET /x HTTP/1.1|localhost"), "{inner}");
    stream.write_all(b"ping").await.unwrap();
    let mut echo = [0u8; 4];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"ping");

    for refused in [
        format!("127.0.0.1:{port}"),
        format!("127.1:{port}"),
        format!("0x7f000001:{port}"),
        format!("2130706433:{port}"),
        format!("0177.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("LOCALHOST.evil.example:{port}"),
        format!("evil-localhost:{port}"),
        "localhost:1".to_string(),
        "localhost:443".to_string(),
    ] {
        let status = connect_status(p.http, &refused).await;
        assert!(status.starts_with("HTTP/1.1 403"), "{refused}: {status}");
    }
    // Case and a trailing dot do not matter.
    let status = connect_status(p.http, &format!("LocalHost.:{port}")).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let recorded = p.running.as_ref().unwrap().recorded();
    assert_eq!(recorded.list.len(), 11, "{:?}", recorded.list);
    assert!(
        recorded
            .list
            .iter()
            .all(|d| d.kind == "network" && d.access == "connect")
    );
    assert!(
        recorded
            .list
            .iter()
            .any(|d| d.target == format!("127.1:{port}")
                && d.rule.contains("IP address not allowed literally"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_name_that_resolves_to_loopback_needs_its_range() {
    let up = upstream().await;
    let port = up.port();
    let p = proxy(&[format!("localhost:{port}")], &[], &[], None);
    let mut stream = TcpStream::connect(p.http).await.unwrap();
    let head = exchange(
        &mut stream,
        &format!("CONNECT localhost:{port} HTTP/1.1\r\n\r\n"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(head.contains("network.allow_ranges"), "{head}");
    assert!(head.contains("loopback"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_entries_win_over_allow_entries() {
    let up = upstream().await;
    let port = up.port();
    let p = proxy(
        &[format!("localhost:{port}")],
        &["localhost"],
        &["127.0.0.0/8", "::1/128"],
        None,
    );
    let mut stream = TcpStream::connect(p.http).await.unwrap();
    let head = exchange(
        &mut stream,
        &format!("CONNECT localhost:{port} HTTP/1.1\r\n\r\n"),
    )
    .await;
    assert!(
        head.starts_with("HTTP/1.1 403") && head.contains("network.deny localhost"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_forwarded_in_origin_form_with_the_urls_host() {
    let (port, p) = localhost_proxy().await;
    let mut stream = TcpStream::connect(p.http).await.unwrap();
    let response = exchange(
        &mut stream,
        &format!("GET http://localhost:{port}/a?b=c HTTP/1.1\r\nHost: other.example\r\nProxy-Authorization: Basic eDp5\r\n\r\n"),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(&format!(
            "GET /a?b=c HTTP/1.1|localhost:{port}|proxy-auth:false"
        )),
        "{response}"
    );
    // The twin: a URL whose host is not allowed.
    let mut stream = TcpStream::connect(p.http).await.unwrap();
    let response = exchange(
        &mut stream,
        &format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    // Requests for the proxy itself, and https in absolute form.
    for request in [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET https://localhost/ HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(p.http).await.unwrap();
        let response = exchange(&mut stream, request).await;
        assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    }
}

/// A SOCKS5 exchange without authentication; the reply code.
async fn socks_connect(proxy: SocketAddr, request: &[u8]) -> (u8, TcpStream) {
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    stream.write_all(&[5, 1, 0]).await.unwrap();
    let mut method = [0u8; 2];
    stream.read_exact(&mut method).await.unwrap();
    assert_eq!(method, [5, 0]);
    stream.write_all(request).await.unwrap();
    let mut reply = [0u8; 10];
    stream.read_exact(&mut reply).await.unwrap();
    (reply[1], stream)
}

fn socks_name(name: &str, port: u16) -> Vec<u8> {
    let mut r = vec![5, 1, 0, 3, name.len() as u8];
    r.extend(name.as_bytes());
    r.extend(port.to_be_bytes());
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_resolves_allowed_names_and_refuses_addresses() {
    let (port, p) = localhost_proxy().await;
    let (code, mut stream) = socks_connect(p.socks, &socks_name("localhost", port)).await;
    assert_eq!(code, 0);
    let inner = exchange(&mut stream, "GET /s HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(inner.contains("GET /s HTTP/1.1"), "{inner}");

    let mut v4 = vec![5, 1, 0, 1, 127, 0, 0, 1];
    v4.extend(port.to_be_bytes());
    let mut v6 = vec![5, 1, 0, 4];
    v6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
    v6.extend(port.to_be_bytes());
    for (what, request) in [
        ("ipv4", v4),
        ("ipv6", v6),
        (
            "name in another spelling of loopback",
            socks_name("127.1", port),
        ),
        ("lookalike", socks_name("localhost.evil.example", port)),
        ("other port", socks_name("localhost", 443)),
        ("non-utf8 name", {
            let mut r = vec![5, 1, 0, 3, 2, 0xff, 0xfe];
            r.extend(port.to_be_bytes());
            r
        }),
    ] {
        let (code, _) = socks_connect(p.socks, &request).await;
        assert_eq!(code, 2, "{what}");
    }
    // BIND and UDP ASSOCIATE are not served.
    let (code, _) = socks_connect(p.socks, &[5, 3, 0, 1, 127, 0, 0, 1, 0, 53]).await;
    assert_eq!(code, 7);
    // SOCKS4 gets nothing.
    let mut stream = TcpStream::connect(p.socks).await.unwrap();
    stream
        .write_all(&[4, 1, 0, 80, 127, 0, 0, 1, 0])
        .await
        .unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_with_a_credential_serves_only_who_presents_it() {
    use base64::Engine;
    let up = upstream().await;
    let port = up.port();
    let credential = Credential::generate().unwrap();
    let token = credential.token().to_owned();
    let p = proxy(
        &[format!("localhost:{port}")],
        &[],
        &["127.0.0.0/8", "::1/128"],
        Some(credential),
    );
    let status = connect_status(p.http, &format!("localhost:{port}")).await;
    assert!(status.starts_with("HTTP/1.1 407"), "{status}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("stockade:{token}"));
    let mut stream = TcpStream::connect(p.http).await.unwrap();
    let head = exchange(
        &mut stream,
        &format!("CONNECT localhost:{port} HTTP/1.1\r\nProxy-Authorization: Basic {basic}\r\n\r\n"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // SOCKS5: no-auth is not offered; a wrong password is refused.
    let mut stream = TcpStream::connect(p.socks).await.unwrap();
    stream.write_all(&[5, 1, 0]).await.unwrap();
    let mut method = [0u8; 2];
    stream.read_exact(&mut method).await.unwrap();
    assert_eq!(method, [5, 0xff]);
    for (password, status) in [("wrong", 1u8), (token.as_str(), 0u8)] {
        let mut stream = TcpStream::connect(p.socks).await.unwrap();
        stream.write_all(&[5, 1, 2]).await.unwrap();
        stream.read_exact(&mut method).await.unwrap();
        assert_eq!(method, [5, 2]);
        let mut auth = vec![1, 8];
        auth.extend(b"stockade");
        auth.push(password.len() as u8);
        auth.extend(password.as_bytes());
        stream.write_all(&auth).await.unwrap();
        let mut answer = [0u8; 2];
        stream.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [1, status], "{password}");
    }
}
