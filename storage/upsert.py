"""INSERT ... ON CONFLICT DO NOTHING on the session's database (PostgreSQL or SQLite, the two storage.db runs).

For rows written at most once (an idempotency key, one ledger row per order): one statement instead of a SELECT
for the key and then an INSERT, and a concurrent transaction writing the same key makes this one wait for it and
skip the row instead of failing on the unique constraint. Add `.values(...)` and, to learn which rows were new,
`.returning(...)` (only the rows inserted come back). The insert is ORM-enabled: the session flushes first, as
before any query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_new(s: Session, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `entity` (a mapped class) that skips a row clashing with any unique constraint."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(entity).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(entity).on_conflict_do_nothing()
    raise ValueError(f"no INSERT ... ON CONFLICT DO NOTHING for {dialect}")  # pragma: no cover
