"""The postgres kind's settings, and the check's wording and scrubbing (no server needed)."""

from __future__ import annotations

import pytest

from config import ConfigError, settings_from_dict
from ops.probe_postgres import describe, scrub


def postgres(**fields):
    data = {"services": [{"name": "db", "type": "postgres", **fields}]}
    return settings_from_dict(data, "config/health_config.json").services[0]


def test_a_postgres_service_defaults_to_5432_and_database_url():
    service = postgres()
    assert (service.host, service.port, service.dsn_env) == ("127.0.0.1", 5432, "DATABASE_URL")


def test_the_target_names_host_port_and_database_but_never_the_credentials(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:hunter2-pw@postgres:5432/bytebotdb")
    service = postgres(host="10.0.0.5", port=6543)
    assert service.target == "postgresql://10.0.0.5:6543/bytebotdb"
    monkeypatch.setenv("DATABASE_URL", "host=x user=u password=hunter2-pw dbname=agentdb")
    assert service.target == "postgresql://10.0.0.5:6543/agentdb"
    monkeypatch.delenv("DATABASE_URL")
    assert service.target == "postgresql://10.0.0.5:6543/"
    assert "hunter2" not in repr(service) and "hunter2" not in str(service.model_dump())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"dsn_env": "1BAD"}, "config/health_config.json: services[0].dsn_env: must be an environment variable name"),
        ({"dsn_env": "A-B"}, "config/health_config.json: services[0].dsn_env: must be an environment variable name"),
        ({"password": "x"}, "config/health_config.json: services[0].password: unknown key"),
        ({"dsn": "postgresql://u:p@h/db"}, "config/health_config.json: services[0].dsn: unknown key"),
    ],
)
def test_bad_postgres_fields_name_the_file_and_field(fields, expected):
    with pytest.raises(ConfigError) as info:
        postgres(**fields)
    assert str(info.value).startswith(expected), str(info.value)


def test_dsn_env_on_another_kind_is_an_error():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"services": [{"name": "a", "port": 1, "dsn_env": "DATABASE_URL"}]}, "f.json")
    assert str(info.value) == "f.json: services[0]: 'dsn_env' is only for a postgres service"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("FATAL:  sorry, too many clients already", "too many clients"),
        ('FATAL:  password authentication failed for user "postgres"', "authentication rejected"),
        ('FATAL:  no pg_hba.conf entry for host "1.2.3.4"', "authentication rejected"),
        ("FATAL:  the database system is shutting down", "shutting down"),
        ("FATAL:  the database system is starting up", "starting up (not accepting connections yet)"),
        ("FATAL:  the database system is not yet accepting connections", "starting up"),
        ("FATAL:  the database system is in recovery mode", "in crash recovery"),
        ("connection timeout expired", "timeout after 5s"),
        ("ERROR:  canceling statement due to statement timeout", "timeout after 5s"),
        ('connection to server at "127.0.0.1", port 1 failed: Connection refused', "connection refused"),
        ("failed to resolve host 'postgres': [Errno -2] Name or service not known", "host not found"),
        ('FATAL:  database "x" does not exist', "database does not exist"),
        ('connection failed: connection to server at "::1", port 1 failed: FATAL:  new thing\nDETAIL: x', "new thing"),
    ],
)
def test_server_messages_become_short_reasons(message, reason):
    assert describe(message, 5.0).startswith(reason)
    assert "new thing" not in reason or describe(message, 5.0) == "new thing"  # prefixes and DETAIL dropped


def test_scrub_removes_the_dsn_the_password_and_url_or_keyword_credentials():
    dsn = "postgresql://bob:p%40ss@db/x"
    text = f"bad {dsn} and p@ss and p%40ss, postgres://eve:other@h/y, password=zzz9 x, password='q w'"
    scrubbed = scrub(text, [dsn, "p@ss", "p%40ss"])
    for secret in ("p@ss", "p%40ss", "eve:other", "zzz9", "q w"):
        assert secret not in scrubbed, scrubbed
