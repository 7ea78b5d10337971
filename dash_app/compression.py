"""Text answers gzip-compressed for clients that ask, assets compressed once, fingerprinted assets cached long.

One after-request hook on the Flask app (so it sees every answer: the page, Dash's JSON, /api,
assets, errors). It compresses an answer only when the client's Accept-Encoding allows gzip, the
answer is a complete 200 of a text type (never a streamed one: its bytes are not all there, and a
push must not wait for a compressor's buffer), and at least MIN_BYTES long. Assets and Dash's
component bundles are compressed once at the highest level and kept by content digest, so plotly's
1.2 MB bundle costs a hash, not a compression, per request. No brotli: at the qualities cheap
enough to run here (5-9) it is 8-10 % smaller than gzip -9 on plotly's bundle (363 or 357 KB
against 395 KB), and it would add a 5 MB compiled dependency; quality 11 (329 KB) takes seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict

from flask import Flask, Response, request

COMPRESSIBLE = frozenset(
    {
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "application/xml",
        "image/svg+xml",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/plain",
        "text/xml",
    }
)
MIN_BYTES = 1024  # below this gzip's header and the CPU cost more than they save
MAX_BYTES = 64 * 1024 * 1024  # larger answers go as they are, not held in memory twice
DYNAMIC_LEVEL = 6  # per request: the page, _dash-layout, callbacks, /api
STATIC_LEVEL = 9  # once per asset, then served from the cache
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
CACHE_BYTES = 32 * 1024 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"  # Dash adds ?m=<mtime> to asset URLs: a new file, a new URL


class CompressedCache:
    """Compressed bodies by content digest, least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.compressions = 0  # how many times a body was compressed (tests read it)

    def gzip(self, data: bytes) -> bytes:
        key = hashlib.blake2b(data, digest_size=20).digest()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        packed = gzip.compress(data, STATIC_LEVEL, mtime=0)  # outside the lock: two first requests may both pack
        with self._lock:
            self.compressions += 1
            if key not in self._items:
                self._items[key] = packed
                self.size += len(packed)
            while self.size > self.max_bytes and len(self._items) > 1:
                self.size -= len(self._items.popitem(last=False)[1])
        return packed


def _eligible(response: Response) -> bool:
    """An answer whose bytes depend on Accept-Encoding: a complete 200 of a text type, large enough."""
    length = response.content_length
    return (
        response.status_code == 200
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
        and "no-transform" not in (response.headers.get("Cache-Control") or "")
        and length is not None
        and MIN_BYTES <= length <= MAX_BYTES
        and (not response.is_streamed or response.direct_passthrough)  # a file (send_file) is whole; a generator is not
    )


def compress_response(response: Response, cache: CompressedCache) -> Response:
    """Gzip `response` in place when the request allows it; mark it as varying by Accept-Encoding."""
    if not _eligible(response):
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0:
        return response
    response.direct_passthrough = False  # a file wrapper is read into memory here
    data = response.get_data()
    if request.path.startswith(STATIC_PREFIXES):
        packed = cache.gzip(data)
    else:
        packed = gzip.compress(data, DYNAMIC_LEVEL, mtime=0)
    response.set_data(packed)  # sets Content-Length
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # byte ranges would be of the identity body
    etag, weak = response.get_etag()
    if etag and not weak:  # another body than the identity one: no longer the same strong validator
        response.set_etag(etag, weak=True)
        response.make_conditional(request)  # If-None-Match compares weakly: W/"x" from the cache is a 304
    return response


def cache_fingerprinted(response: Response) -> Response:
    """Assets requested with Dash's ?m=<mtime> fingerprint never change under that URL: cache them for a year."""
    if request.path.startswith("/assets/") and request.args.get("m") and response.status_code in (200, 304):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


class TextBody:
    """A JSON answer for a text that many requests share (GET /api/health): its bytes, and their gzip
    when a client asks, made once per text instead of once per request (600 KB at 1,000 services:
    encoding it cost ~0.3 ms a request, gzip -6 several ms).

    Keyed by the text object's identity, not its content: a hash of 600 KB costs what we save, and
    ops/live_views.py hands out the same object until the snapshot changes. The memo holds the text,
    so its id cannot be reused by another string while it is kept. Each request answers with the
    bytes of the text it was given; the memo only saves work, so it can never serve an older text.
    """

    def __init__(self) -> None:
        self._memo: tuple[str, bytes, bytes | None] = ("", b"", None)  # one tuple: replaced whole, never torn

    def response(self, text: str, status: int = 200) -> Response:
        memo = self._memo
        if memo[0] is not text:
            memo = self._memo = (text, text.encode(), None)
        response = Response(memo[1], status=status, mimetype="application/json")
        if status != 200 or len(memo[1]) < MIN_BYTES:
            return response  # compress_response leaves these as they are too
        response.vary.add("Accept-Encoding")
        if request.accept_encodings["gzip"] <= 0:
            return response
        if memo[2] is None:
            memo = (text, memo[1], gzip.compress(memo[1], DYNAMIC_LEVEL, mtime=0))
            if self._memo[0] is text:  # a newer text may have taken the memo meanwhile: keep that one
                self._memo = memo
        response.set_data(memo[2])  # sets Content-Length; compress_response skips an encoded answer
        response.headers["Content-Encoding"] = "gzip"
        return response


def install_compression(app: Flask) -> CompressedCache:
    """Compress and cache-mark the answers of `app`; install before any other after-request hook (runs last)."""
    cache = CompressedCache()

    @app.after_request
    def _compress(response: Response) -> Response:
        return compress_response(cache_fingerprinted(response), cache)

    return cache
