from __future__ import annotations

import pytest

from lianluo.config import ConfigurationError, load_settings


def test_wrong_database_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANLUO_DATABASE_URL", "mysql://root@localhost/x")
    with pytest.raises(ConfigurationError, match="LIANLUO_DATABASE_URL"):
        load_settings()


def test_plain_postgres_url_explains_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANLUO_DATABASE_URL", "postgresql://u@h/db")
    with pytest.raises(ConfigurationError, match="postgresql\\+psycopg"):
        load_settings()


def test_bad_number_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANLUO_TOKEN_TTL_S", "soon")
    with pytest.raises(ConfigurationError, match="LIANLUO_TOKEN_TTL_S"):
        load_settings()


def test_defaults_to_sqlite_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIANLUO_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("lianluo.db")


def test_cli_reports_bad_setting_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import lianluo.config
    from lianluo.cli.main import app

    monkeypatch.setenv("LIANLUO_DATABASE_URL", "oracle://x")
    monkeypatch.setattr(lianluo.config, "settings", None)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    monkeypatch.setattr(lianluo.config, "settings", None)
    assert result.exit_code == 2
    assert "LIANLUO_DATABASE_URL" in result.output
