"""Engines, sessions and the schema check. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import NotMigratedError

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Accept the common postgres:// spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # pysqlite issues no BEGIN of its own: _sqlite_begin does
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                # SQLite's advice for WAL: a commit is atomic and survives a crash of the process; only a
                # power cut may lose the last commits (no fsync per commit). PostgreSQL is for production.
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        def _sqlite_begin(dbapi_conn: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN, so we can make it BEGIN IMMEDIATE: writers then
            # queue on the lock instead of failing with "database is locked" mid-transaction. A connection
            # marked read-only (see read_only) begins nothing: each SELECT reads on its own, in WAL mode
            # without waiting for or blocking the writer. (The dialect's hook, not a "begin" event: any
            # engine event listener makes SQLAlchemy dispatch events around every statement.)
            if not dbapi_conn.info.get(READ_ONLY):
                dbapi_conn.execute("BEGIN IMMEDIATE")

        engine.dialect.do_begin = _sqlite_begin  # type: ignore[method-assign,assignment]
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


READ_ONLY = "leifeng_read_only"


@contextmanager
def read_only(conn: Connection) -> Iterator[Connection]:
    """A short read on `conn`, ended before the caller writes; put what must agree into one statement.

    No transaction is begun: on SQLite each SELECT reads on its own without the write lock; on PostgreSQL
    the connection is in autocommit for the read, which saves the BEGIN and COMMIT round trips."""
    if conn.dialect.name == "sqlite":
        info = conn.connection.info
        info[READ_ONLY] = True
        try:
            with conn.begin():
                yield conn
        finally:
            info[READ_ONLY] = False
        return
    default = conn.default_isolation_level
    conn.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with conn.begin():
            yield conn
    finally:
        conn.execution_options(isolation_level=default)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def check_migrated(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not at the code's head revision."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        state = "empty" if not current else f"at {', '.join(sorted(current))}"
        raise NotMigratedError(
            f"the database is {state}, the code needs {', '.join(sorted(heads))}: "
            "run `leifeng db upgrade` first"
        )
