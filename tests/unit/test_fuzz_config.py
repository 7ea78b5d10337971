"""Config loading, fuzzed: any JSON value or any file gives a valid Settings or one clean ConfigError."""

from __future__ import annotations

import json
import math
import string

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st

from config import ConfigError, Settings, load_settings, settings_from_dict
from config.settings import SERVICE_NAME_RE

# Derandomized and without an example database: the same cases on every run and every machine.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
SOURCE = "fuzz/health config.json"

# Strings that have broken loaders elsewhere: control characters, newlines, lone surrogates, huge text.
odd_text = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(max_codepoint=0x10FFFF), max_size=10),
    st.sampled_from(["", " ", "\n", "a\n", "web\n", "\x00", "\ud800", "{service}", "200-", "2xx", "1" * 5000]),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 65535, 65536, 10**20, 1e308, -0.0]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
scalars = st.none() | st.booleans() | numbers | odd_text
# Field values: mostly scalars, sometimes a small container (cheaper to draw than json_values, same reach).
field_values = scalars | st.lists(scalars, max_size=3) | st.dictionaries(odd_text, scalars, max_size=2)

SERVICE_KEYS = [
    "name", "type", "host", "port", "health_endpoint", "url", "method", "timeout_s", "expected_status",
    "expect_body", "degraded_latency_ms", "failure_threshold", "success_threshold", "enabled", "tags", "recovery",
]  # fmt: skip
RECOVERY_KEYS = ["action", "command", "container", "url", "timeout_s", "auto", "restart_failures", "verify_timeout_s"]
TOP_KEYS = ["thresholds", "interval_s", "retention_days", "max_concurrency", "recovery", "auth"]
AUTH_KEYS = ["api_key", "users", "protect_reads", "allowed_origins", "secure_cookies", "max_ws_clients"]
PLAUSIBLE = {
    "name": st.from_regex(r"[a-z][a-z0-9._-]{0,8}", fullmatch=True) | odd_text,
    "type": st.sampled_from(["http", "tcp", "udp", "HTTP"]),
    "port": st.integers(-5, 70000),
    "url": st.sampled_from(["http://127.0.0.1:1/", "https://x", "ftp://x/", "http://[::1", "http://a\n.b/", ""]),
    "health_endpoint": st.sampled_from(["/", "/health", "health", "", "/\n"]),
    "method": st.sampled_from(["GET", "head", "TRACE", "ß"]),
    "expected_status": st.sampled_from([200, [200, 204], "200-399", ["200-204", 301], "299-200", [], "２００"]),
    "action": st.sampled_from(["command", "docker", "http", "demo", "none", "shell"]),
    "command": st.sampled_from([["true"], ["{service}"], ["x", "{service}"], ["x", "-{port}"], [], [""], ["a\x00"]]),
    "container": st.sampled_from(["bytebot", "/bytebot", "a b", "abc\n", ""]),
    "api_key": st.sampled_from(["k" * 16, "k" * 15, "k" * 16 + "\n", "k" * 300]),
    "username": st.sampled_from(["ops", "ops\n", "", "a b"]),
    "password_hash": st.sampled_from(["scrypt:32768:8:1$salt$abc123", "scrypt:1$s$ff\n", "plain"]),
    "allowed_origins": st.sampled_from([["https://x.example:8443"], ["http://[::1"], ["ftp://x"], ["https://x/p"]]),
}


def key_values(keys: list[str], **special: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """Dicts over some of `keys` (and now and then an unknown one): each value plausible or anything."""
    optional = {k: (PLAUSIBLE[k] | field_values) if k in PLAUSIBLE else field_values for k in keys}
    return st.fixed_dictionaries({}, optional={**optional, **special, "colour": field_values})


recovery_blocks = key_values(RECOVERY_KEYS) | field_values
users = st.lists(key_values(["username", "password_hash"]), max_size=2)
auth_blocks = key_values(AUTH_KEYS, users=users) | field_values
services = key_values(SERVICE_KEYS, recovery=recovery_blocks)
configs = st.fixed_dictionaries(
    {"services": st.lists(services, max_size=3) | field_values},
    optional={**{k: field_values for k in TOP_KEYS}, "recovery": recovery_blocks, "auth": auth_blocks},
)

# Valid configs, then the same with one field set to anything: the cases nearest the edge of validity.
valid_services = st.fixed_dictionaries(
    {"name": st.from_regex(r"[a-z][a-z0-9._-]{0,8}", fullmatch=True), "port": st.integers(1, 65535)},
    optional={
        "type": st.sampled_from(["http", "tcp"]),
        "health_endpoint": st.sampled_from(["/", "/health?x=1"]),
        "timeout_s": st.floats(0.01, 300),
        "expected_status": st.sampled_from([200, [200, 204], "200-399", ["200-204", 301]]),
        "degraded_latency_ms": st.floats(0.1, 1e9),
        "failure_threshold": st.integers(1, 1000),
        "tags": st.lists(st.text(max_size=5), max_size=3),
        "enabled": st.booleans(),
        "recovery": st.sampled_from(
            [{"action": "none"}, {"action": "command", "command": ["x", "{service}"]}, {"action": "docker",
             "container": "box"}, {"action": "http", "url": "http://h:1/"}, {"auto": False, "timeout_s": 5}]
        ),
    },
)  # fmt: skip
valid_configs = st.fixed_dictionaries(
    {"services": st.lists(valid_services, min_size=1, max_size=3, unique_by=lambda svc: svc["name"])},
    optional={
        "interval_s": st.floats(0.2, 86400),
        "retention_days": st.floats(0.01, 3650),
        "max_concurrency": st.integers(1, 1024),
        "thresholds": st.fixed_dictionaries({}, optional={"cpu_max": st.floats(0.1, 100)}),
    },
)


def _set_one(config: dict, key: str, value: object, index: int) -> dict:
    """`config` with `key` (of a service when it is a service key) set to `value`."""
    if key in SERVICE_KEYS:
        config["services"][index % len(config["services"])][key] = value
    else:
        config[key] = value
    return config


one_field_off = st.builds(
    _set_one, valid_configs, st.sampled_from([*SERVICE_KEYS, *TOP_KEYS, "colour"]), field_values, st.integers(0, 2)
)


def check_outcome(load, source: str) -> Settings | None:
    """Call `load`: a Settings that holds up, or a ConfigError each of whose lines names `source`."""
    try:
        result = load()
    except ConfigError as exc:
        message = str(exc)
        # Nothing chained: printed or logged, the error is these lines and no traceback of our internals.
        assert message and exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__), message
        message.encode("utf-8")  # printable to any log or terminal: no lone surrogates
        for line in message.split("\n"):
            assert line.startswith(f"{source}: "), message
        assert all(c.isprintable() for c in message.replace("\n", "")), message
        if currently_in_test_context():
            event("config error")
        return None
    assert isinstance(result, Settings)
    for service in result.services:
        assert SERVICE_NAME_RE.fullmatch(service.name) and "\n" not in service.name
        assert service.type in ("http", "tcp") and service.target
        assert all(r.low <= r.high for r in service.expected_status)
    floats = [v for v in _leaves(result.model_dump()) if isinstance(v, float)]
    assert all(math.isfinite(v) for v in floats), floats
    if currently_in_test_context():
        event("valid settings")
    return result


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


@settings(FUZZ, max_examples=1500)
@given(json_values)
def test_any_json_value_gives_settings_or_one_config_error(value):
    check_outcome(lambda: settings_from_dict(value, SOURCE), SOURCE)


@settings(FUZZ, max_examples=2500)
@given(st.one_of(configs, valid_configs, one_field_off))
@example({"services": [{"name": "web\n", "port": 1}]})
@example({"services": [{"name": "a", "port": 1, "degraded_latency_ms": float("inf")}]})
@example({"services": [{"name": "a", "port": 1, "timeout_s": float("nan")}]})
@example({"services": [{"name": "a", "port": 1, "two\nlines": 1}]})
@example({"services": [{"name": "a", "port": 1, "recovery": {"action": "docker", "container": "box\n"}}]})
@example({"services": [{"name": "a", "port": 1, "timeout_s": 10**400}]})
def test_config_shaped_data_gives_settings_or_one_config_error(data):
    check_outcome(lambda: settings_from_dict(data, SOURCE), SOURCE)


def deep(n: int) -> str:
    return '{"services": ' + "[" * n + "]" * n + "}"


file_texts = st.one_of(
    configs.map(lambda d: json.dumps(d, allow_nan=True)),
    st.one_of(valid_configs, one_field_off).map(lambda d: json.dumps(d, allow_nan=True)),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(alphabet=string.printable, max_size=200),
    st.integers(1, 200_000).map(deep),
    st.integers(4000, 20_000).map(lambda n: '{"services": [{"name": "a", "port": ' + "9" * n + "}]}"),
)
file_bytes = st.one_of(
    file_texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    file_texts.map(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8", "surrogatepass")),  # a BOM, as some editors write
    st.tuples(file_texts, st.binary(min_size=1, max_size=4)).map(lambda p: p[1] + p[0].encode("utf-8", "replace")),
)


@settings(FUZZ, max_examples=1500)
@given(file_bytes)
@example(b"\xff\xfe{}")
@example(b'{"services": [{"name": "a", "port": NaN}]}')
@example(b'{"services": [{"name": "a", "port": 1, "degraded_latency_ms": 1e999}]}')
@example(("[" * 100_000).encode())
@example(('{"a":' * 5000 + "1" + "}" * 5000).encode())
def test_any_file_gives_settings_or_one_config_error(tmp_path, raw):
    path = tmp_path / "health config.json"
    path.write_bytes(raw)
    check_outcome(lambda: load_settings(path), str(path))


@pytest.mark.parametrize("target", ["directory", "missing"])
def test_unreadable_paths_are_one_config_error(tmp_path, target):
    path = tmp_path if target == "directory" else tmp_path / "missing.json"
    check_outcome(lambda: load_settings(path), str(path))
