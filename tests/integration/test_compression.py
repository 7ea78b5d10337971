"""Compressed answers over real HTTP from a running app: gzip only when asked, the same bytes once
decompressed, assets compressed once and cached for a year, errors, HEAD and 304 as before."""

from __future__ import annotations

import gzip
import http.client
import json
import re
from pathlib import Path

import pytest
import websocket
from flask import Response

from dash_app.factory import create_app
from layouts import ids
from tests.support import LoopbackHTTP, http_service, make_settings

ASSETS = Path(__file__).parents[2] / "dash_app" / "assets"
GZIP = "gzip, deflate, br"  # what a browser sends
STREAM_CHUNKS = [b"line %d\n" % i * 200 for i in range(5)]  # 5 chunks, ~1.4 KB each


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A running app (loop stopped) with one extra route that streams, as a future one might."""
    web = LoopbackHTTP()
    settings = make_settings([http_service(f"web-{i}", web) for i in range(6)])
    mc = create_app(settings, data_dir=tmp_path_factory.mktemp("gzip"), start_monitor=False)
    mc.server.add_url_rule(
        "/test-stream", "test_stream", lambda: Response((c for c in STREAM_CHUNKS), mimetype="text/plain")
    )
    mc.serve("127.0.0.1", 0, 0)
    yield mc
    mc.stop()
    web.close()


def fetch(app, path: str, encoding: str | None = None, method: str = "GET", body: bytes | None = None, **headers):
    """One request exactly as given (no Accept-Encoding unless `encoding`); (status, headers, raw body)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.http.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if encoding is not None:
            conn.putheader("Accept-Encoding", encoding)
        if body is not None:
            headers |= {"Content-Type": "application/json", "Content-Length": str(len(body))}
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def assert_gzipped_copy(app, path: str, method: str = "GET", body: bytes | None = None) -> bytes:
    """`path` gzipped when asked, with a true Content-Length, and byte-identical once decompressed."""
    status, plain_headers, plain = fetch(app, path, method=method, body=body)
    assert status == 200 and "Content-Encoding" not in plain_headers, (path, status)
    assert len(plain) >= 1024, (path, len(plain))
    status, headers, raw = fetch(app, path, GZIP, method=method, body=body)
    assert status == 200 and headers["Content-Encoding"] == "gzip", (path, headers)
    assert int(headers["Content-Length"]) == len(raw) < len(plain)
    assert "accept-encoding" in headers["Vary"].lower()
    assert gzip.decompress(raw) == plain, path
    return plain


def page_sources(app) -> list[str]:
    """Every script and stylesheet the page loads, as it names them (fingerprinted)."""
    _, _, page = fetch(app, "/")
    return re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', page.decode())


def cards_request() -> bytes:
    """A callback request as the page sends it when a sweep arrives: the cards are rendered."""
    return json.dumps(
        {
            "output": f"{ids.CARDS}.children",
            "outputs": {"id": ids.CARDS, "property": "children"},
            "inputs": [{"id": ids.TICK, "property": "data", "value": {"sweep": 1}},
                       {"id": ids.RECOVERY_EVENT, "property": "data", "value": None}],
            "changedPropIds": [f"{ids.TICK}.data"],
            "state": [],
        }
    ).encode()  # fmt: skip


def test_page_dash_json_and_api_are_gzipped_when_asked_and_identical_once_decompressed(app):
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/openapi.json"):
        assert_gzipped_copy(app, path)
    assert_gzipped_copy(app, "/_dash-update-component", method="POST", body=cards_request())
    status, headers, raw = fetch(app, "/", GZIP)  # the page itself carries per-request values: no second copy
    assert status == 200 and headers["Content-Encoding"] == "gzip" and int(headers["Content-Length"]) == len(raw)
    assert gzip.decompress(raw).startswith(b"<!DOCTYPE html>")


PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"


@pytest.mark.parametrize("encoding", [None, "identity", "gzip;q=0", "br", "gzip;q=0, identity"])
def test_nothing_is_compressed_unless_the_client_accepts_gzip(app, encoding):
    for path in ("/", "/_dash-layout", "/api/openapi.json", page_sources(app)[0]):
        status, headers, raw = fetch(app, path, encoding)
        assert status == 200 and "Content-Encoding" not in headers, (path, encoding)
        assert int(headers["Content-Length"]) == len(raw)
        assert "accept-encoding" in headers["Vary"].lower()  # a shared cache must not hand it to a gzip client


def test_every_asset_and_bundle_is_gzipped_once_and_fingerprinted_ones_are_cached_for_a_year(app):
    sources = page_sources(app)
    styles = next(s for s in sources if "00_bootstrap" in s)
    assert len(sources) >= 10
    for path in sources:
        if len(fetch(app, path)[2]) < 1024:  # the favicon: too small to be worth it
            assert "Content-Encoding" not in fetch(app, path, GZIP)[1]
            continue
        plain = assert_gzipped_copy(app, path)
        if path.startswith("/assets/"):
            assert plain == (ASSETS / path.split("?")[0].removeprefix("/assets/")).read_bytes()
    assert fetch(app, styles, GZIP)[1]["Cache-Control"] == "public, max-age=31536000, immutable"
    # plotly.js (not a page script: dcc.Graph loads it from Dash's URL, where the basic bundle is served)
    fetch(app, PLOTLY_URL, GZIP)
    before = app.gzip_cache.compressions
    for _ in range(3):
        status, headers, raw = fetch(app, PLOTLY_URL, GZIP)
        assert status == 200 and len(gzip.decompress(raw)) > 1_000_000
        assert headers["ETag"].startswith('W/"')  # not the identity body's strong validator
        assert "Accept-Ranges" not in headers
    assert app.gzip_cache.compressions == before  # served from the cache, not compressed again


def test_error_answers_keep_their_json_shape(app):
    status, headers, raw = fetch(app, "/api/nope", GZIP)
    assert status == 404 and "Content-Encoding" not in headers
    assert json.loads(raw) == {"error": "no such endpoint", "detail": {"path": "/api/nope"}}
    status, headers, raw = fetch(app, "/api/recovery", GZIP, method="POST", body=b"{" + b" " * 2_000_000 + b"}")
    assert status == 413 and "Content-Encoding" not in headers
    assert json.loads(raw) == {"error": "request body too large", "detail": {"limit_bytes": 1024 * 1024}}


def test_head_announces_what_get_sends(app):
    for path in ("/_dash-layout", PLOTLY_URL):
        for encoding in (GZIP, None):
            _, get_headers, _ = fetch(app, path, encoding)
            status, headers, raw = fetch(app, path, encoding, method="HEAD")
            assert status == 200 and raw == b""
            assert headers["Content-Length"] == get_headers["Content-Length"], (path, encoding)
            assert headers.get("Content-Encoding") == get_headers.get("Content-Encoding")


def test_revalidation_still_answers_304(app):
    asset = next(s for s in page_sources(app) if s.startswith("/assets/"))
    _, headers, _ = fetch(app, asset, GZIP)
    for validator in ({"If-None-Match": headers["ETag"]}, {"If-Modified-Since": headers["Last-Modified"]}):
        status, again, raw = fetch(app, asset, GZIP, **validator)
        assert status == 304 and raw == b"" and "Content-Encoding" not in again, validator
    # Dash's own validator for an unfingerprinted bundle (a lazily loaded chunk): strong, compared exactly.
    chunk = "/_dash-component-suites/dash/dcc/async-graph.js"
    status, headers, _ = fetch(app, chunk, GZIP)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert fetch(app, chunk, GZIP, If_None_Match=headers["ETag"])[0] == 304
    _, plain_headers, _ = fetch(app, chunk)
    assert fetch(app, chunk, If_None_Match=plain_headers["ETag"])[0] == 304


def test_streamed_answers_and_the_websocket_are_never_compressed(app):
    status, headers, raw = fetch(app, "/test-stream", GZIP)
    assert status == 200 and "Content-Encoding" not in headers and raw == b"".join(STREAM_CHUNKS)
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{app.ws.port}/ws", header=["Accept-Encoding: gzip"], timeout=10
    )  # fmt: skip
    try:
        assert isinstance(json.loads(ws.recv()), dict)  # the first snapshot, as text
    finally:
        ws.close()
