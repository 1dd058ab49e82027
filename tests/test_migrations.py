"""The migrations build exactly the schema the models declare (alembic's autogenerate finds nothing to add)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import storage.models_admin  # noqa: F401  (the console's tables join Base.metadata)
import storage.models_events  # noqa: F401  (the community's tables join Base.metadata)
import storage.models_examples  # noqa: F401  (the hubs' own examples join Base.metadata)
from storage.db import make_engine, upgrade
from storage.models import Base
from tests.conftest import PG_URL, reset_postgres

# APScheduler creates and owns its table's details; the models declare it only for the migration.
IGNORED_TABLES = {"apscheduler_jobs"}


def _drift(url: str) -> list[Any]:
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if not _ignored(d)]


def _ignored(diff: Any) -> bool:
    item = diff[0] if isinstance(diff, list) else diff
    table = next((part for part in item[1:] if hasattr(part, "name") and hasattr(part, "columns")), None)
    name = getattr(table, "name", None) or getattr(getattr(item[-1], "table", None), "name", None)
    return name in IGNORED_TABLES


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    assert _drift(f"sqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set: PostgreSQL run skipped")
def test_postgresql_schema_matches_the_models() -> None:
    reset_postgres(PG_URL)
    assert _drift(PG_URL) == []
