#!/usr/bin/env python3
"""A package registry for the proxy tests, built and served over HTTPS.

    registry.py build DIR   makes DIR/ca.pem (the CA to trust), the server's
                            DIR/cert.pem and DIR/key.pem, and DIR/root/:
                            a git repository (dumb HTTP), a PEP 503 index
                            with one wheel, an npm packument with its
                            tarball, and a cargo sparse index with its crate,
                            each holding a package `demo`
    registry.py serve DIR HOST PORT
                            serves DIR/root over TLS with DIR/cert.pem

Everything is the standard library, git and openssl; nothing is fetched.
The name in the certificate is registry.test.
"""

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import ssl
import subprocess
import sys
import tarfile
import zipfile

NAME = "registry.test"
BASE = f"https://{NAME}"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def certificate(out):
    """A throw-away CA (ca.pem, what clients trust) and its leaf for NAME."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)
    run("openssl", "req", "-x509", *ec, "-keyout", f"{out}/ca-key.pem", "-out", f"{out}/ca.pem",
        "-subj", "/CN=stockade test CA")
    run("openssl", "req", "-x509", *ec, "-CA", f"{out}/ca.pem", "-CAkey", f"{out}/ca-key.pem",
        "-keyout", f"{out}/key.pem", "-out", f"{out}/cert.pem", "-subj", f"/CN={NAME}",
        "-addext", f"subjectAltName=DNS:{NAME}", "-addext", "basicConstraints=critical,CA:FALSE")


def git_repository(root, scratch):
    work = f"{scratch}/git-work"
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, env=env)
    run("git", "init", "-q", "-b", "main", work)
    write(f"{work}/README", "hello from the demo repository\n")
    run("git", "-C", work, "add", "README")
    run("git", "-C", work, "commit", "-q", "-m", "demo")
    bare = f"{root}/git/demo.git"
    run("git", "clone", "-q", "--bare", work, bare)
    run("git", "-C", bare, "update-server-info")


def wheel(root):
    name = "demo-1.0-py3-none-any.whl"
    files = {
        "demo/__init__.py": b"VALUE = 1\n",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: stockade-tests\n"
                                     b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\n"
    record += "demo-1.0.dist-info/RECORD,,\n"
    files["demo-1.0.dist-info/RECORD"] = record.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
    data = buf.getvalue()
    write(f"{root}/pypi/files/{name}", data)
    sha = hashlib.sha256(data).hexdigest()
    write(f"{root}/simple/demo/index.html",
          f'<!DOCTYPE html><html><body><a href="{BASE}/pypi/files/{name}#sha256={sha}">{name}</a>'
          f"</body></html>\n")


def tarball(prefix, files):
    """A .tgz of FILES under PREFIX/, the same bytes every time."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tar:
            for path, data in files.items():
                info = tarfile.TarInfo(f"{prefix}/{path}")
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npm_package(root):
    manifest = {"name": "demo", "version": "1.0.0", "main": "index.js"}
    data = tarball("package", {"package.json": json.dumps(manifest).encode(),
                               "index.js": b"module.exports = 1;\n"})
    write(f"{root}/npm/demo/-/demo-1.0.0.tgz", data)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    version = dict(manifest, dist={"tarball": f"{BASE}/npm/demo/-/demo-1.0.0.tgz",
                                   "shasum": hashlib.sha1(data).hexdigest(),
                                   "integrity": integrity})
    packument = {"name": "demo", "dist-tags": {"latest": "1.0.0"},
                 "versions": {"1.0.0": version}}
    # http.server serves a directory's index.html for /npm/demo/.
    write(f"{root}/npm/demo/index.html", json.dumps(packument))


def crate(root):
    data = tarball("demo-1.0.0", {
        "Cargo.toml": b'[package]\nname = "demo"\nversion = "1.0.0"\nedition = "2021"\n',
        "src/lib.rs": b"pub const VALUE: u32 = 1;\n",
    })
    write(f"{root}/cargo/dl/demo/1.0.0/download", data)
    write(f"{root}/cargo/config.json", json.dumps({"dl": f"{BASE}/cargo/dl"}))
    entry = {"name": "demo", "vers": "1.0.0", "deps": [], "features": {},
             "cksum": hashlib.sha256(data).hexdigest(), "yanked": False}
    write(f"{root}/cargo/de/mo/demo", json.dumps(entry) + "\n")


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files; /npm/NAME without its slash is the packument."""

    def send_head(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/npm/") and path.count("/") == 2:
            self.path = path + "/"
            target = self.translate_path(self.path) + "index.html"
            with open(target, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()

    def log_message(self, *args):
        pass


def main():
    command, out = sys.argv[1], sys.argv[2]
    if command == "build":
        root = f"{out}/root"
        os.makedirs(root, exist_ok=True)
        certificate(out)
        git_repository(root, out)
        wheel(root)
        npm_package(root)
        crate(root)
    elif command == "serve":
        host, port = sys.argv[3], int(sys.argv[4])
        os.chdir(f"{out}/root")
        server = http.server.ThreadingHTTPServer((host, port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(f"{out}/cert.pem", f"{out}/key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
