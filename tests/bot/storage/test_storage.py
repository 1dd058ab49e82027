"""Schema, migrations and the refusal to run on an unmigrated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.config import load_config
from bot.errors import ConfigError, NotMigratedError
from storage.db import downgrade, make_engine, normalise_url, upgrade
from storage.models import Hub


def test_migrations_create_every_table_and_the_default_hub(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"hubs", "users", "conversations", "processed_messages", "outbox", "audit_log",
            "access_tokens", "alembic_version"} <= tables
    hub_owned = ["users", "conversations", "processed_messages", "outbox", "audit_log"]
    for table in hub_owned:
        assert "hub_id" in {c["name"] for c in inspect(engine).get_columns(table)}
    with engine.connect() as conn:
        assert conn.execute(select(Hub.slug)).scalars().all() == ["default"]
    engine.dispose()


def test_downgrade_and_upgrade_again(any_db_url: str) -> None:
    downgrade(any_db_url, "base")
    engine = make_engine(any_db_url)
    assert "hubs" not in inspect(engine).get_table_names()
    engine.dispose()
    upgrade(any_db_url)


def test_app_refuses_unmigrated_database(tmp_path: Path) -> None:
    with pytest.raises(NotMigratedError, match="leifeng db upgrade"):
        create_app({"database_url": f"sqlite:///{tmp_path / 'empty.db'}"}, clock=FakeClock())


def test_config_from_env_prefix_and_overrides() -> None:
    cfg = load_config({"max_body_bytes": "1024"}, environ={"LEIFENG_WECHAT_TOKEN": "t1",
                                                          "LEIFENG_OUTBOX_MAX_ATTEMPTS": "3",
                                                          "OTHER_TOKEN": "ignored"})
    assert cfg.wechat_token == "t1" and cfg.outbox_max_attempts == 3 and cfg.max_body_bytes == 1024
    assert cfg.database_url == "sqlite:///leifeng.db"
    assert not cfg.safe_mode


def test_config_errors_are_clear() -> None:
    with pytest.raises(ConfigError, match="43 characters"):
        load_config({"wechat_aes_key": "short"}, environ={})
    with pytest.raises(ConfigError, match="unknown setting"):
        load_config({"no_such": 1}, environ={})
    with pytest.raises(ConfigError, match="must be a number"):
        load_config(environ={"LEIFENG_OUTBOX_MAX_ATTEMPTS": "many"})


def test_postgres_url_spellings() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
