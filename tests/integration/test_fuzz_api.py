"""Thousands of generated requests against a real app on 127.0.0.1: never a 5xx, every error the JSON shape.

Two generators: schemathesis, from the OpenAPI document (valid and invalid parameters and bodies,
with its response checks), and hypothesis on raw HTTP (malformed and huge bodies, odd query
strings, unknown paths and services, every method). Both derandomized: the same requests every run.
"""

from __future__ import annotations

import http.client
import json
import string
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from dash_app.factory import create_app
from dash_app.openapi import openapi_document
from dash_app.params import MAX_BODY_BYTES
from tests.support import LoopbackHTTP, LoopbackTCP, free_port, make_settings

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
SCHEMA_EXAMPLES = 200  # per operation and mode (hypothesis stops sooner on small ones)
RAW_EXAMPLES = 2500
KNOWN = ["web", "db", "gone", "off"]
TEMPLATES = list(openapi_document()["paths"])
SENT = {"schemathesis": 0, "raw": 0}  # requests sent, printed when the app stops (pytest -s shows it)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """Loopback services only, harmless recovery actions and short timeouts: thousands of requests stay fast."""
    web, db = LoopbackHTTP(), LoopbackTCP()
    fast_recovery = {"action": "command", "command": ["true"], "timeout_s": 5, "verify_timeout_s": 0.3}
    settings_ = make_settings(
        [
            {"name": "web", "url": web.url("/"), "timeout_s": 0.5, "recovery": fast_recovery},
            {"name": "db", "type": "tcp", "port": db.port, "timeout_s": 0.5, "recovery": {"action": "none"}},
            {"name": "gone", "type": "tcp", "port": free_port(), "timeout_s": 0.2, "recovery": fast_recovery},
            {"name": "off", "type": "tcp", "port": free_port(), "enabled": False},
        ],
        recovery={"cooldown_s": 0, "verify_interval_s": 0.05, "max_attempts": 3, "healthy_reset_s": 0},
    )
    app = create_app(settings_, data_dir=tmp_path_factory.mktemp("fuzz"), start_monitor=False)
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    app.session = requests.Session()
    yield app
    print(f"\nfuzz requests sent: {SENT}")
    app.session.close()
    app.stop()
    web.close()
    db.close()


def strict_json(text: str) -> object:
    """Parse as JSON the way a browser does: NaN, Infinity and friends are not JSON."""

    def reject(name: str) -> None:
        raise ValueError(f"{name} in a JSON response")

    return json.loads(text, parse_constant=reject)


def header(headers, name: str) -> str:
    """A header from http.client's headers or schemathesis' (lowercase keys, lists of values)."""
    value = headers.get(name) or headers.get(name.lower()) or ""
    return ", ".join(value) if isinstance(value, list) else value


def assert_contract(status: int, headers, body: bytes, method: str) -> None:
    """Never a 5xx; every 4xx is {"error": str, "detail": ...} as JSON; every JSON body is real JSON."""
    assert status < 500, (status, body[:500])
    content_type = header(headers, "Content-Type")
    if status >= 400:
        assert content_type.startswith("application/json"), (status, content_type, body[:200])
        if status == 405:
            assert header(headers, "Allow"), "405 without Allow"
    if method == "HEAD" or not content_type.startswith("application/json"):
        return
    data = strict_json(body.decode("utf-8"))
    if status >= 400:
        assert isinstance(data, dict) and set(data) == {"error", "detail"}, data
        assert isinstance(data["error"], str) and data["error"], data


# -- 1. schemathesis, from the document ------------------------------------------------------------


def steered(doc: dict) -> dict:
    """The document, with service names steered toward configured ones as well as unknown ones.

    Any string is still a valid name (unknown ones get 404); the enum branch only makes sure that
    generated requests also reach the code behind a known service, not only its 404.
    """

    def known(schema: dict) -> dict:
        return {"anyOf": [{"type": "string", "enum": KNOWN}, schema]}

    for item in doc["paths"].values():
        for operation in [item, *(op for op in item.values() if isinstance(op, dict))]:
            for param in operation.get("parameters", []):
                if param["name"] in ("name", "service"):
                    param["schema"] = known(param["schema"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            properties = body.get("schema", {}).get("properties", {})
            if "service" in properties:
                properties["service"] = known(properties["service"])
    return doc


SCHEMA = schemathesis.openapi.from_dict(steered(openapi_document()))
OPERATIONS = [
    (path, method) for path, item in SCHEMA.raw_schema["paths"].items() for method in item if method != "parameters"
]
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.positive_data_acceptance,
]


def can_be_invalid(operation) -> bool:
    """Whether negative generation has something to break: any string is a valid path segment here."""
    return bool(operation.query or operation.body)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_generated_requests_follow_the_document(fuzz_app, path, method):
    operation = SCHEMA[path][method.upper()]
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if can_be_invalid(operation) else [])
    for mode in modes:

        @settings(FUZZ, max_examples=SCHEMA_EXAMPLES)
        @given(case=operation.as_strategy(mode))
        def run(case) -> None:
            response = case.call(base_url=fuzz_app.base, session=fuzz_app.session, timeout=30)
            SENT["schemathesis"] += 1
            assert_contract(response.status_code, response.headers, response.content, response.request.method)
            case.validate_response(response, checks=CHECKS)

        run()


# -- 2. hypothesis, raw HTTP -----------------------------------------------------------------------

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO"]
odd_names = st.one_of(
    st.sampled_from([*KNOWN, "nope", "WEB", "web%20", "..", ".", "%2F", "%00", "%ff", "a%2Fb", "x" * 300]),
    st.text(min_size=1, max_size=12).map(lambda t: quote(t, safe="")),
)
paths = st.one_of(
    st.tuples(st.sampled_from(TEMPLATES), odd_names).map(lambda p: p[0].replace("{name}", p[1])),
    st.sampled_from(["/api", "/api/", "/api/health/", "/api/services", "/api/services/web", "/api/HEALTH"]),
    st.lists(st.text(string.ascii_letters + string.digits + "-._~%", max_size=8), max_size=4).map(
        lambda parts: "/api/" + "/".join(parts)
    ),
)
query_values = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "5000", "5001", "abc", "1e3", "0x10", "1_000", "%207", "%D9%A3", "9" * 5000]),
    st.sampled_from(["2026-01-01", "2026-13-45T25:61", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]),
    st.sampled_from([*KNOWN, "nope", "%zz", "%00", "+", "&", "=", "yesterday", "NaN", "Infinity", "2020-01-01Z"]),
    st.text(max_size=20).map(lambda t: quote(t, safe="")),
)
queries = st.lists(
    st.tuples(st.sampled_from(["limit", "since", "service", "x", "", "limit[]"]), query_values), max_size=4
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.sampled_from(KNOWN),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["service", "force", "enabled",
                                                                                "duration_s", "x"]), inner, max_size=4),
    max_leaves=8,
)  # fmt: skip
bodies = st.one_of(
    st.none(),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),  # NaN and Infinity included
    st.binary(max_size=64),  # malformed JSON, invalid UTF-8
    st.sampled_from([b"{", b"{}", b"[]", b"null", b'"x"', b"\xef\xbb\xbf{}", b'{"service": "web"}{}']),
    st.integers(1, 1500).map(lambda n: b'{"service": ' + b"[" * n + b"]" * n + b"}"),  # nesting past the limit
    st.integers(4000, 6000).map(lambda n: b'{"duration_s": ' + b"9" * n + b', "enabled": true}'),
    st.sampled_from([MAX_BODY_BYTES + 1, 3 * 1024 * 1024, 6 * 1024 * 1024]).map(
        lambda n: b'{"service": "web", "pad": "' + b"x" * n + b'"}'  # huge bodies: 413
    ),
)
content_types = st.sampled_from(
    [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "a/b; x"]
)


def send(port: int, method: str, target: str, body: bytes | None, content_type: str | None, tries: int = 2):
    """One request over a fresh connection, exactly as given (requests would tidy up the URL).

    A connection the server closed while the body was still being sent is tried once more: seen
    about once in 7,500 fuzzed requests and never twice in a row (a server that always did it still
    fails here). Two ways the edge did close early are fixed (test_edge_close.py: a head the loop
    read late, a pipelined body); the fuzz's own failure was not reproduced in 38,000 requests, so
    the retry stays until it is.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    except (BrokenPipeError, ConnectionResetError):
        if tries <= 1:
            raise
    finally:
        conn.close()
    return send(port, method, target, body, content_type, tries - 1)


@settings(FUZZ, max_examples=RAW_EXAMPLES)
@given(method=st.sampled_from(METHODS), path=paths, query=queries, body=bodies, content_type=content_types)
def test_raw_requests_never_get_a_5xx_and_errors_are_json(fuzz_app, method, path, query, body, content_type):
    target = path + ("?" + query if query else "")
    status, headers, raw = send(fuzz_app.http.port, method, target, body, content_type)
    SENT["raw"] += 1
    assert_contract(status, headers, raw, method)
    if body is not None and len(body) > MAX_BODY_BYTES:
        assert status == 413, (status, target)  # refused before routing, whatever the path and method


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 5 * 1024 * 1024])
def test_bodies_over_the_limit_get_413_in_the_json_shape(fuzz_app, size):
    cases = [("POST", "/api/recovery"), ("POST", "/api/services/web/maintenance"), ("DELETE", "/api/logs"),
             ("GET", "/api/health"), ("PUT", "/api/nope")]  # fmt: skip
    for method, path in cases:
        body = b"{" + b" " * size + b"}"
        response = fuzz_app.session.request(method, fuzz_app.base + path, data=body, timeout=30)
        assert response.status_code == 413, (path, response.text[:200])
        assert response.json() == {"error": "request body too large", "detail": {"limit_bytes": MAX_BODY_BYTES}}


def test_chunked_body_over_the_limit_gets_413(fuzz_app):
    chunks = (b" " * 65536 for _ in range(MAX_BODY_BYTES // 65536 + 2))  # no Content-Length: chunked
    response = fuzz_app.session.post(fuzz_app.base + "/api/recovery", data=chunks, timeout=30)
    assert response.status_code == 413 and response.json()["error"] == "request body too large"


def test_nan_and_infinity_are_malformed_json_not_echoed(fuzz_app):
    for raw in (b'{"enabled": true, "duration_s": NaN}', b'{"enabled": true, "duration_s": 1e999}'):
        response = fuzz_app.session.post(fuzz_app.base + "/api/services/web/maintenance", data=raw, timeout=10)
        assert response.status_code == 400 and strict_json(response.text)["error"] == "malformed JSON body"
