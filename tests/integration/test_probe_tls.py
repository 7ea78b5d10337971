"""HTTPS checks against a real loopback TLS server: a trusted certificate passes, an untrusted one
fails with the TLS reason, both on the probe loop's own TLS path."""

from __future__ import annotations

import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ops.probes import Prober
from tests.support import make_settings


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"noVNC over TLS"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_server(tmp_path):
    """A self-signed certificate for 127.0.0.1 (made by openssl) and a server using it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.cert = cert
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def prober():
    prober = Prober()
    yield prober
    prober.close()


def https_service(server, **fields):
    url = f"https://127.0.0.1:{server.server_address[1]}/novnc/vnc.html"
    return make_settings([{"name": "desktop", "url": url, "timeout_s": 5, **fields}]).services[0]


def test_an_untrusted_certificate_fails_the_check_with_the_tls_reason(tls_server, prober):
    result = prober.check(https_service(tls_server))
    assert not result.ok and result.http_status is None
    assert result.error.startswith("TLS error:") and "CERTIFICATE_VERIFY_FAILED" in result.error


def test_a_trusted_certificate_passes_and_the_body_is_read_through_tls(tls_server, prober, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))  # read when each check builds its context
    result = prober.check(https_service(tls_server, expect_body="noVNC"))
    assert result.ok and result.http_status == 200, result.error
    missing = prober.check(https_service(tls_server, expect_body="not there"))
    assert not missing.ok and missing.error == "body mismatch: 'not there' not found"
