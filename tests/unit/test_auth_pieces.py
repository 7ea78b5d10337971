"""Pure pieces of auth: the rate limiter, origin matching, key comparison, auth settings."""

from __future__ import annotations

import pytest

from config import ConfigError, settings_from_dict
from config.auth import AuthSettings
from dash_app.auth import key_matches, origin_ok, presented_key
from dash_app.ratelimit import RateLimiter


def test_rate_limiter_counts_per_key_and_window():
    now = [0.0]
    limiter = RateLimiter(2, window_s=60, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 60 and limiter.hit("b") is None
    now[0] = 45
    assert limiter.hit("a") == 15
    now[0] = 61
    assert limiter.hit("a") is None


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        ("http://127.0.0.1:9993", "127.0.0.1:9994", (), True),
        ("http://localhost:9993", "localhost:9994", (), True),
        ("http://evil.example", "127.0.0.1:9994", (), False),
        ("https://dash.example", "10.0.0.5:9994", ("https://dash.example",), True),
        ("http://127.0.0.1.evil.example", "127.0.0.1:9994", (), False),
    ],
)
def test_origin_matching(origin, host, allowed, ok):
    assert origin_ok(origin, host, allowed) is ok


def test_key_from_headers_and_constant_time_match():
    auth = AuthSettings(api_key="x" * 20)
    assert presented_key({"Authorization": "Bearer " + "x" * 20}) == "x" * 20
    assert presented_key({"X-API-Key": "abc"}) == "abc"
    assert key_matches(auth, "x" * 20) and not key_matches(auth, "y" * 20) and not key_matches(auth, None)
    assert not key_matches(AuthSettings(), "anything")


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        ({"api_key": "short"}, "auth.api_key"),
        ({"users": [{"username": "ops", "password_hash": "plain-text"}]}, "auth.users[0].password_hash"),
        ({"allowed_origins": ["not a url"]}, "auth.allowed_origins"),
        ({"protect_read": True}, "auth.protect_read"),
    ],
)
def test_bad_auth_settings_name_the_field(auth, field):
    with pytest.raises(ConfigError) as error:
        settings_from_dict({"services": [{"name": "a", "port": 1}], "auth": auth}, "cfg")
    assert str(error.value).startswith(f"cfg: {field}"), error.value


def test_settings_never_print_secrets():
    auth = AuthSettings(api_key="s" * 20, users=[{"username": "ops", "password_hash": "scrypt:1:2:3$ab$0f"}])
    assert "s" * 20 not in repr(auth) and "scrypt" not in repr(auth)
