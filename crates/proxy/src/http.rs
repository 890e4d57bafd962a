//! The HTTP proxy: `CONNECT host:port` tunnels and absolute-form plain
//! HTTP requests (`GET http://host/path`), parsed and written by `hyper`.
//!
//! A refused destination gets `403 Forbidden` with a body naming the rule;
//! one that does not resolve or answer gets `502 Bad Gateway`. A request
//! for the proxy itself (origin-form) or for `https://` in absolute form
//! gets `400` saying what to send instead.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::Shared;
use crate::target::{Target, parse_authority};

type Body = BoxBody<Bytes, hyper::Error>;

/// Serves one client connection (keep-alive: any number of requests).
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(handle(req, &shared).await) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
    if let Err(e) = served {
        tracing::debug!(target: "stockade::proxy", error = %e, "http connection ended");
    }
}

async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<Body> {
    if let Some(credential) = &shared.credential {
        let header = req.headers().get(header::PROXY_AUTHORIZATION);
        if !credential.admits_header(header.map(HeaderValue::as_bytes)) {
            let mut response = text(
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                "stockade proxy: this proxy needs the credential it printed when it started\n"
                    .into(),
            );
            response.headers_mut().insert(
                header::PROXY_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"stockade\""),
            );
            return response;
        }
    }
    if req.method() == Method::CONNECT {
        connect(req, shared).await
    } else {
        forward(req, shared).await
    }
}

/// `CONNECT host:port`: judge, connect, answer 200, then relay bytes.
async fn connect(req: Request<Incoming>, shared: &Shared) -> Response<Body> {
    let authority = req.uri().authority().map(|a| a.as_str()).unwrap_or("");
    let target = match parse_authority(authority, None) {
        Ok(target) => target,
        Err(e) => return bad_request(&format!("CONNECT needs host:port ({e})")),
    };
    let upstream = match open(shared, "http-connect", &target).await {
        Ok(upstream) => upstream,
        Err(response) => return response,
    };
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::debug!(target: "stockade::proxy", error = %e, "CONNECT upgrade failed");
                return;
            }
        };
        // The client's own socket again (and any bytes hyper read past the
        // request), so the tunnel relays between two plain sockets.
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => {
                let mut upstream = upstream;
                if !parts.read_buf.is_empty() && upstream.write_all(&parts.read_buf).await.is_err()
                {
                    return;
                }
                crate::relay::relay_tcp(parts.io.into_inner(), upstream).await
            }
            Err(upgraded) => crate::relay::relay(TokioIo::new(upgraded), upstream).await,
        }
    });
    Response::new(empty())
}

/// An absolute-form request: judge the URL's host, send the request there
/// in origin form with the `Host` the URL names, relay the response.
async fn forward(mut req: Request<Incoming>, shared: &Shared) -> Response<Body> {
    let uri = req.uri().clone();
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return bad_request("send https:// and other schemes through CONNECT"),
        None => {
            return bad_request(
                "this is an egress proxy: send absolute-form requests (GET http://host/path) or CONNECT",
            );
        }
    }
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or("");
    let target = match parse_authority(authority, Some(80)) {
        Ok(target) => target,
        Err(e) => return bad_request(&format!("the URL's host is not usable ({e})")),
    };
    let Ok(host) = HeaderValue::from_str(authority) else {
        return bad_request("the URL's host is not a valid header value");
    };
    let upstream = match open(shared, "http", &target).await {
        Ok(upstream) => upstream,
        Err(response) => return response,
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    *req.uri_mut() = match path.parse() {
        Ok(path) => path,
        Err(_) => return bad_request("the URL's path is not valid"),
    };
    strip_hop_by_hop(req.headers_mut());
    req.headers_mut().insert(header::HOST, host);
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await {
            Ok(pair) => pair,
            Err(e) => return text(StatusCode::BAD_GATEWAY, format!("stockade proxy: {e}\n")),
        };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(target: "stockade::proxy", error = %e, "upstream connection ended");
        }
    });
    match sender.send_request(req).await {
        Ok(mut response) => {
            strip_hop_by_hop(response.headers_mut());
            response.map(BodyExt::boxed)
        }
        Err(e) => text(StatusCode::BAD_GATEWAY, format!("stockade proxy: {e}\n")),
    }
}

/// The gate's connection to `target`, or the response that explains why
/// there is none (403 for the policy, 502 for the network).
async fn open(
    shared: &Shared,
    protocol: &str,
    target: &Target,
) -> Result<TcpStream, Response<Body>> {
    let name = target.to_string();
    match shared.gate.connect(&target.host, target.port).await {
        Ok(stream) => {
            shared.recorder.allowed(protocol, &name);
            Ok(stream)
        }
        Err(refusal) => {
            shared.recorder.refused(protocol, &name, &refusal);
            let status = match refusal.is_policy() {
                true => StatusCode::FORBIDDEN,
                false => StatusCode::BAD_GATEWAY,
            };
            Err(text(
                status,
                format!(
                    "stockade proxy refused {name}: {refusal}\nrule: {}\n",
                    refusal.rule()
                ),
            ))
        }
    }
}

/// Headers that describe one hop, never forwarded (RFC 9110 7.6.1), and
/// those the `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn bad_request(message: &str) -> Response<Body> {
    text(
        StatusCode::BAD_REQUEST,
        format!("stockade proxy: {message}\n"),
    )
}
