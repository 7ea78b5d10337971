"""The `storage` section, --store, and which store open_store() builds from them."""

from __future__ import annotations

import pytest

from config import ConfigError, settings_from_dict
from dash_app.cli import load, parse_args
from ops.history.embedded import EmbeddedStore
from ops.history.open import open_store
from ops.history.postgres import PostgresStore

SERVICES = [{"name": "web", "port": 80}]


def settings(**extra):
    return settings_from_dict({"services": SERVICES, **extra}, "cfg.json")


def error_of(**extra) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(**extra)
    return str(caught.value)


def test_the_default_is_the_embedded_store_with_48_hours_of_raw_checks(tmp_path):
    storage = settings().storage
    assert storage.database_url is None and storage.raw_retention_h == 48
    assert isinstance(open_store(settings(), tmp_path), EmbeddedStore)


def test_a_url_opens_the_postgres_store_with_both_retentions(tmp_path):
    store = open_store(settings(storage={"url": "postgresql://u:p@db:5432/mc", "raw_retention_h": 24}), tmp_path)
    assert isinstance(store, PostgresStore)  # not connected until load()
    assert store.raw_retention.total_seconds() == 24 * 3600 and store.retention.days == 90


def test_url_env_reads_the_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:postgres@postgres:5432/bytebotdb")
    storage = settings(storage={"url_env": "DATABASE_URL"}).storage
    assert storage.database_url == "postgresql://postgres:postgres@postgres:5432/bytebotdb"


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ({"url": "mysql://db/x"}, "cfg.json: storage.url: must be a postgresql:// URL"),
        ({"url": "postgresql://db:99999/x"}, "cfg.json: storage.url: is not a valid postgresql:// URL"),
        ({"url_env": "MC_TEST_UNSET"}, "cfg.json: storage.url_env: environment variable MC_TEST_UNSET is not set"),
        ({"url_env": "1BAD"}, "cfg.json: storage.url_env: must be an environment variable name"),
        ({"raw_retention_h": 0}, "cfg.json: storage.raw_retention_h: Input should be greater than 0"),
        ({"raw_retention_h": 2200}, "cfg.json: storage: raw_retention_h (2200) must not exceed retention_days"),
        ({"url": "postgresql://a/b", "url_env": "HOME"}, "cfg.json: storage: set 'url' or 'url_env', not both"),
        ({"uri": "postgresql://a/b"}, "cfg.json: storage.uri: unknown key"),
    ],
)
def test_a_bad_storage_section_names_the_field(monkeypatch, storage, message):
    monkeypatch.delenv("MC_TEST_UNSET", raising=False)
    monkeypatch.setenv("HOME", "postgresql://a/b")
    assert error_of(storage=storage).startswith(message)


def test_an_env_var_without_a_postgres_url_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("MC_DB", "mysql://root:hunter2@db/x")
    text = error_of(storage={"url_env": "MC_DB"})
    assert "environment variable MC_DB must be a postgresql:// URL" in text and "hunter2" not in text


def test_store_flag_overrides_the_config(tmp_path, monkeypatch):
    config = tmp_path / "cfg.json"
    config.write_text('{"services": [{"name": "web", "port": 80}], "storage": {"url": "postgresql://a/one"}}')
    monkeypatch.delenv("DASHBOARD_API_KEY", raising=False)
    loaded = load(parse_args(["--config", str(config), "--store", "postgresql://u:p@b:5432/two"]), None)
    assert loaded.storage.database_url == "postgresql://u:p@b:5432/two"
    assert load(parse_args(["--config", str(config)]), None).storage.database_url == "postgresql://a/one"


def test_a_bad_store_flag_is_a_usage_error_that_hides_the_url(capsys):
    with pytest.raises(SystemExit) as caught:
        parse_args(["--store", "mysql://root:hunter2@db/x"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--store must be a postgresql:// URL" in err and "hunter2" not in err


def test_store_env_flag_reads_the_url_from_the_environment(tmp_path, monkeypatch):
    config = tmp_path / "cfg.json"
    config.write_text('{"services": [{"name": "web", "port": 80}], "storage": {"url": "postgresql://a/one"}}')
    monkeypatch.delenv("DASHBOARD_API_KEY", raising=False)
    monkeypatch.setenv("MC_HISTORY_URL", "postgresql://u:p@b:5432/shared")
    loaded = load(parse_args(["--config", str(config), "--store-env", "MC_HISTORY_URL"]), None)
    assert loaded.storage.database_url == "postgresql://u:p@b:5432/shared"
    assert loaded.storage.url is None and loaded.storage.url_env == "MC_HISTORY_URL"


@pytest.mark.parametrize(
    ("value", "message"),
    [(None, "environment variable MC_HISTORY_URL is not set"), ("mysql://root:hunter2@db/x", "must be a postgresql")],
)
def test_a_bad_store_env_flag_is_a_usage_error_that_hides_the_url(monkeypatch, capsys, value, message):
    monkeypatch.delenv("MC_HISTORY_URL", raising=False)
    if value:
        monkeypatch.setenv("MC_HISTORY_URL", value)
    with pytest.raises(SystemExit) as caught:
        parse_args(["--store-env", "MC_HISTORY_URL"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--store-env " in err and message in err
    assert "hunter2" not in err


def test_store_and_store_env_together_are_refused(monkeypatch, capsys):
    monkeypatch.setenv("MC_HISTORY_URL", "postgresql://u:p@b:5432/shared")
    with pytest.raises(SystemExit):
        parse_args(["--store", "postgresql://u:p@b:5432/x", "--store-env", "MC_HISTORY_URL"])
    assert "give one" in capsys.readouterr().err
