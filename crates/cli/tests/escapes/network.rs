//! Network `off` (classes 19, 20 and 22): no socket family but unix, no
//! route anywhere, and no host service, whether it listens on TCP, on an
//! abstract unix name or on a pathname unix socket (docker.sock, an
//! ssh-agent), unless `unix_sockets` lists it. The sandbox's own sockets,
//! pathname and abstract, keep working.

use crate::common::*;
use std::os::unix::net::UnixListener;

/// A host service on a pathname unix socket, listening for the whole test;
/// [`HostSocket::was_reached`] says whether anything connected.
struct HostSocket(UnixListener);

impl HostSocket {
    fn bind(path: &str) -> HostSocket {
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        HostSocket(listener)
    }

    fn was_reached(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// An abstract name no other test uses.
fn unique(tag: &str) -> String {
    format!("stockade-test-{tag}-{}", std::process::id())
}

#[test]
fn host_pathname_sockets_are_refused_while_the_sandboxs_own_work() {
    let Some(t) = sandbox() else { return };
    let outside = HostSocket::bind(&t.p("outside/host.sock"));
    // A host process's socket inside the workspace is still the host's.
    let in_ws = HostSocket::bind(&t.p("ws/host.sock"));
    let r = t
        .probe()
        .op(&["unix-connect", &t.p("outside/host.sock")])
        .op(&["unix-connect", "host.sock"])
        .op(&["symlink", &t.p("outside/host.sock"), "link.sock"])
        .op(&["unix-connect", "link.sock"])
        .op(&["unix-connect-fd", &t.p("outside/host.sock")])
        .op(&["unix-dgram-send", &t.p("outside/host.sock")])
        .op(&["unix-echo", "own.sock"])
        .op(&["unix-echo", "/tmp/own.sock"])
        .op(&["unix-echo-thread", "/tmp/thread.sock"])
        .op(&["unix-connect", &t.p("ws/missing.sock")])
        .run();
    let [
        direct,
        relative,
        link,
        linked,
        via_fd,
        dgram,
        own,
        own_tmp,
        thread,
        missing,
    ] = r.ops();
    denied(direct, &["EACCES"]);
    denied(relative, &["EACCES"]);
    allowed(link);
    denied(linked, &["EACCES"]);
    // /proc/self/fd/N would name the supervisor's descriptor, not the
    // caller's: magic links are not followed.
    denied(via_fd, &["ELOOP", "EACCES"]);
    // Datagram unix sockets cannot be created at all.
    denied(dgram, &["EACCES"]);
    allowed(own);
    allowed(own_tmp);
    // Answered for the calling thread, not the process's main thread.
    allowed(thread);
    denied(missing, &["ENOENT"]);
    assert!(
        !outside.was_reached(),
        "the host socket outside was reached"
    );
    assert!(!in_ws.was_reached(), "the host socket in ws was reached");
    assert!(
        r.stderr.contains("denials: connect ") && r.stderr.contains("network.unix_sockets"),
        "no denial summary on stderr: {}",
        r.stderr
    );
}

#[test]
fn refusals_are_denial_records_in_the_json_record() {
    let Some(t) = sandbox() else { return };
    let _host = HostSocket::bind(&t.p("outside/host.sock"));
    let r = t
        .probe()
        .policy(&["--json", "--quiet"])
        .op(&["unix-connect", &t.p("outside/host.sock")])
        .op(&["unix-echo", "own.sock"])
        .run();
    let [host, own] = r.ops();
    denied(host, &["EACCES"]);
    allowed(own);
    let record = r.record();
    let denials = record["denials"].as_array().expect("a denials array");
    assert_eq!(denials.len(), 1, "{record}");
    assert_eq!(denials[0]["kind"], "network");
    assert_eq!(denials[0]["access"], "connect");
    assert_eq!(denials[0]["target"], t.p("outside/host.sock").as_str());
    assert_eq!(denials[0]["rule"], "network.unix_sockets");
    assert!(
        !r.stderr.contains("denial"),
        "--quiet prints no summary: {}",
        r.stderr
    );
}

#[test]
fn a_socket_unix_sockets_lists_is_reachable_even_in_a_hidden_directory() {
    let Some(t) = sandbox() else { return };
    let agent_path = t.p("home/.ssh/agent.sock");
    let agent = HostSocket::bind(&agent_path);
    let other = HostSocket::bind(&t.p("outside/other.sock"));
    t.write(
        "pol/net.toml",
        &format!(
            "[profiles.net]\nextends = \"workspace\"\n[profiles.net.network]\nunix_sockets = [\"{agent_path}\"]\n"
        ),
    );
    let r = t
        .probe()
        .policy(&["-c", &t.p("pol/net.toml"), "-p", "net"])
        .op(&["unix-connect", &agent_path])
        .op(&["unix-connect", &t.p("outside/other.sock")])
        .op(&["read", &t.p("home/.ssh/id_rsa")])
        .run();
    let [listed, unlisted, key] = r.ops();
    allowed(listed);
    denied(unlisted, &["EACCES"]);
    denied(key, HIDDEN);
    assert!(agent.was_reached(), "the listed socket got no connection");
    assert!(!other.was_reached(), "an unlisted socket was reached");
}

#[test]
fn host_abstract_sockets_and_tcp_services_are_unreachable() {
    let Some(t) = sandbox() else { return };
    use std::os::linux::net::SocketAddrExt;
    let name = unique("abstract");
    let address = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
    let _abstract = UnixListener::bind_addr(&address).unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port().to_string();
    let own = unique("own");
    let r = t
        .probe()
        .op(&["abstract-connect", &name])
        .op(&["abstract-echo", &own])
        .op(&["tcp-connect", "127.0.0.1", &port])
        .op(&["tcp-connect", "::1", &port])
        .run();
    let [host_abstract, own_abstract, tcp4, tcp6] = r.ops();
    // The sandbox's network namespace has its own abstract names; Landlock
    // scoping (ABI 6) refuses the host's as well.
    denied(host_abstract, &["ECONNREFUSED", "EPERM"]);
    allowed(own_abstract);
    denied(tcp4, &["EAFNOSUPPORT"]);
    denied(tcp6, &["EAFNOSUPPORT"]);
}

#[test]
fn network_off_leaves_only_unix_sockets_and_no_route() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["socket", "unix", "stream"])
        .op(&["socket", "unix", "seqpacket"])
        .op(&["socket", "inet", "stream"])
        .op(&["socket", "inet", "dgram"])
        .op(&["socket", "inet", "raw"])
        .op(&["socket", "inet6", "stream"])
        .op(&["socket", "packet", "raw"])
        .op(&["socket", "netlink", "raw"])
        .op(&["socket", "vsock", "stream"])
        .op(&["socket", "bluetooth", "stream"])
        .op(&["udp-send", "192.0.2.1", "53"])
        .op(&["tcp-connect", "198.51.100.1", "443"])
        .op(&["interfaces"])
        .run();
    let [unix, seqpacket, rest @ .., udp, tcp, interfaces] = r.ops::<13>();
    allowed(unix);
    allowed(seqpacket);
    for family in rest {
        denied(family, &["EAFNOSUPPORT"]);
    }
    denied(udp, &["EAFNOSUPPORT"]);
    denied(tcp, &["EAFNOSUPPORT"]);
    allowed(interfaces);
    // With netlink refused the probe reads /sys/class/net, which describes
    // the namespace of whoever mounted sysfs: the sandbox's own natively,
    // the host's (read-only) under bwrap, a difference `explain` names.
    if std::env::var_os("STOCKADE_FORCE_BWRAP").is_some() {
        return;
    }
    let names = interfaces["entries"].as_array().unwrap();
    assert!(
        names.iter().all(|n| n == "lo"),
        "the sandbox sees host interfaces: {interfaces}"
    );
}

#[test]
fn connect_made_by_the_supervisor_fails_as_the_kernels_would() {
    let Some(t) = sandbox() else { return };
    let host = std::process::Command::new(probe_bin())
        .arg("connect-edge-cases")
        .output()
        .unwrap();
    let host: serde_json::Value = serde_json::from_slice(&host.stdout).unwrap();
    let r = t.probe().op(&["connect-edge-cases"]).run();
    let [sandboxed] = r.ops();
    allowed(sandboxed);
    for case in [
        "bad_fd",
        "not_a_socket",
        "unmapped_address",
        "too_long",
        "negative_length",
        "unnamed",
        "abstract_missing",
        "missing_path",
    ] {
        assert_ne!(host[case], serde_json::Value::Null, "{case}: {host}");
        assert_eq!(sandboxed[case], host[case], "{case}: {sandboxed} vs {host}");
    }
}
