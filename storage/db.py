"""Engines, sessions and the schema check. SQLite gets WAL, a busy timeout, BEGIN IMMEDIATE and a writers queue;
both databases get connect and statement timeouts."""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, CursorResult, Engine, create_engine, delete, event, make_url, select
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseUnavailableError, NotMigratedError

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Accept the common postgres:// spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _prepared_savepoints(engine: Engine) -> None:
    """SAVEPOINT / RELEASE / ROLLBACK TO as plain SQL: SQLAlchemy compiles its savepoint clauses afresh every
    time (they have no cache key), about 40 µs each; every dialogue action runs in a savepoint."""
    quote = engine.dialect.identifier_preparer.quote

    def savepoint(conn: Connection, name: str) -> None:
        conn.exec_driver_sql(f"SAVEPOINT {quote(name)}")

    def release(conn: Connection, name: str) -> None:
        conn.exec_driver_sql(f"RELEASE SAVEPOINT {quote(name)}")

    def rollback_to(conn: Connection, name: str) -> None:
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {quote(name)}")

    engine.dialect.do_savepoint = savepoint  # type: ignore[method-assign,assignment]
    engine.dialect.do_release_savepoint = release  # type: ignore[method-assign,assignment]
    engine.dialect.do_rollback_to_savepoint = rollback_to  # type: ignore[method-assign,assignment]


@dataclass(frozen=True)
class Timeouts:
    """How long the database may keep a caller waiting, in seconds; None = no limit of our own.

    connect: opening a connection (PostgreSQL's connect_timeout, which libpq rounds up to whole seconds, at least
    2), and the wait for a free connection of the pool. statement: PostgreSQL's statement_timeout (the server
    cancels a longer statement, lock waits included) and the time sent data may stay unacknowledged
    (tcp_user_timeout: a server that vanished from the network); on SQLite, the wait for the write lock (the
    writers queue and the busy timeout)."""

    connect: float | None = None
    statement: float | None = None

    @classmethod
    def of(cls, connect: float, statement: float) -> Timeouts:
        """From settings where 0 means no limit."""
        return cls(connect or None, statement or None)


MIGRATION_TIMEOUTS = Timeouts(connect=10.0)  # schema changes and ad-hoc engines: a bounded connect, no statement cap


def make_engine(url: str, timeouts: Timeouts = MIGRATION_TIMEOUTS, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    in_memory = url.startswith("sqlite") and (make_url(url).database or ":memory:") == ":memory:"
    if timeouts.connect and "poolclass" not in kwargs and not in_memory:  # (in memory: one connection, no wait)
        kwargs.setdefault("pool_timeout", timeouts.connect)  # the pool's default wait for a free connection is 30 s
    engine = _make_engine(url, timeouts, **kwargs)
    _prepared_savepoints(engine)
    return engine


def _postgres_connect_args(url: str, timeouts: Timeouts) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if timeouts.connect:
        args["connect_timeout"] = max(2, math.ceil(timeouts.connect))  # libpq: whole seconds, 1 means 2
    if timeouts.statement:
        ms = max(1, round(timeouts.statement * 1000))
        given = make_url(url).query.get("options", "")  # keep options given in the URL (connect_args replace it)
        given = " ".join(given) if isinstance(given, tuple) else given
        args["options"] = f"{given} -c statement_timeout={ms}".strip()
        args["tcp_user_timeout"] = ms
    return args


def _make_engine(url: str, timeouts: Timeouts, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        busy = timeouts.statement or BUSY_TIMEOUT_SECONDS
        engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False,
                                                  "factory": _QueuedConnection}, **kwargs)

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
            cur.execute(f"PRAGMA busy_timeout={max(1, round(busy * 1000))}")
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
        path = engine.url.database
        if path and ":memory:" not in url and not path.startswith("file:"):
            _queue_writers(engine, Path(path).with_name(Path(path).name + "-writers"), busy)
        return engine
    engine = create_engine(url, connect_args=_postgres_connect_args(url, timeouts), **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
# PostgreSQL error classes that say the server is unreachable, overloaded or too slow, not that the request is wrong:
# 08 connection exception, 53 insufficient resources (too many connections), 57 operator intervention (57014 is a
# statement_timeout, 57P01-03 a shutdown or restart), 58 system error; 55P03 a lock_timeout.
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
UNAVAILABLE_SQLSTATES = frozenset({"55P03"})
UNAVAILABLE_SQLITE = ("database is locked", "unable to open database file", "disk I/O error")


def unavailable(exc: BaseException) -> bool:
    """Did this fail because the database is down, overloaded or did not answer within its timeouts (so the work
    was not done and may be tried again later), rather than because of the request or the code?"""
    if isinstance(exc, PoolTimeoutError | DisconnectionError):  # no pooled connection came free in time
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return any(text in str(orig) for text in UNAVAILABLE_SQLITE)
    state = getattr(orig, "sqlstate", None)
    if state is None:  # psycopg's own failures to connect or to talk to the server carry no SQLSTATE
        return True
    return state[:2] in UNAVAILABLE_SQLSTATE_CLASSES or state in UNAVAILABLE_SQLSTATES


@contextmanager
def raising_unavailable() -> Iterator[None]:
    """Turn an error that means "the database is unavailable" (see unavailable) into DatabaseUnavailableError."""
    try:
        yield
    except Exception as exc:
        if not unavailable(exc):
            raise
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [cause.__class__.__name__])[0]
        raise DatabaseUnavailableError(f"the database is unavailable: {first}") from exc


def lost_a_lock_race(exc: BaseException) -> bool:
    """Did the database abort this statement's transaction to break a deadlock or a serialization conflict?
    Nothing of the transaction is kept, so running it again from the start is safe and usually succeeds."""
    orig = getattr(exc, "orig", None)
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in RETRY_SQLSTATES


PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "leifeng_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle for a while.

    SQLAlchemy's pool_pre_ping costs a round trip on every checkout, one of the few a webhook message makes.
    A connection used a moment ago is alive with near certainty; one that sat idle may have been closed by the
    server, a restart or a firewall, so it is pinged, and a dead one is replaced (the pool retries on
    DisconnectionError). A connection that dies between two busy moments fails its statement; SQLAlchemy then
    invalidates the pool and the caller's next try gets a fresh connection (bot.inbox.handler retries by itself)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure to answer a SELECT 1 means: use another connection
            raise DisconnectionError(f"an idle pooled connection is gone: {exc}") from exc
        if not alive:
            raise DisconnectionError("an idle pooled connection is gone")


READ_ONLY = "leifeng_read_only"
BUSY_TIMEOUT_SECONDS = 30.0  # how long a SQLite writer waits for the one ahead of it (no Timeouts.statement)
FIRST_PAUSE, LONGEST_PAUSE = 0.00005, 0.0002  # between tries for another process's writer lock
_HOLDERS: set[tuple[str, int]] = set()  # (writers file, thread) pairs of this process holding that lock
_LOCAL: dict[str, threading.Lock] = {}  # per writers file: the queue among this process's threads
_LOCAL_GUARD = threading.Lock()


def _busy(path: str, timeout: float) -> sqlite3.OperationalError:
    return sqlite3.OperationalError(f"database is locked: another writer held {path} for more than {timeout:g} s")


class _WriterQueue:
    """An open descriptor on the database's "-writers" file; holding LOCK_EX on it = this connection writes.

    Threads of one process queue on a lock of their own (woken the moment it is free); the thread at the
    front then takes the file lock, trying again every 50-200 µs while another process holds it (flock(2)
    has no time limit, so a blocking wait could last forever behind a stuck writer). Both waits end after
    `timeout` with SQLite's own "database is locked" error."""

    def __init__(self, path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = str(path)
        self.timeout = timeout
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.owner: tuple[str, int] | None = None
        with _LOCAL_GUARD:
            self.local = _LOCAL.setdefault(self.path, threading.Lock())

    def acquire(self) -> None:
        me = (self.path, threading.get_ident())
        if me in _HOLDERS:
            return  # a second write transaction in this thread would wait on itself: SQLite decides
        deadline = time.monotonic() + self.timeout
        if not self.local.acquire(timeout=self.timeout):
            raise _busy(self.path, self.timeout)
        try:
            pause = FIRST_PAUSE
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _busy(self.path, self.timeout) from None
                    time.sleep(pause)
                    pause = min(pause * 2, LONGEST_PAUSE)
        except BaseException:
            self.local.release()
            raise
        self.owner = me
        _HOLDERS.add(me)

    def release(self) -> None:
        if self.owner is not None:
            _HOLDERS.discard(self.owner)
            self.owner = None
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                self.local.release()

    def close(self) -> None:
        if self.fd < 0:
            return
        try:
            self.release()
        finally:
            os.close(self.fd)  # the kernel drops a lock still held with its last descriptor
            self.fd = -1

    def __del__(self) -> None:  # a connection dropped without close() must not keep the lock
        with contextlib.suppress(Exception):  # at interpreter exit the OS closes the descriptor anyway
            self.close()


class _QueuedConnection(sqlite3.Connection):
    writers: _WriterQueue | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.writers is not None:
                self.writers.close()
                self.writers = None


def _writers(dbapi_conn: Any) -> _WriterQueue | None:
    return getattr(getattr(dbapi_conn, "dbapi_connection", dbapi_conn), "writers", None)


def _queue_writers(engine: Engine, lock_path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
    """Writers of one SQLite file queue on an OS file lock before BEGIN IMMEDIATE.

    SQLite's own wait for its write lock is a busy handler that sleeps 1, 2, 5, ... ms and tries again;
    a transaction here holds the lock for a fraction of a millisecond, so two web processes writing in
    turn mostly sleep. flock(2) wakes the waiter as soon as the holder commits. The kernel drops the lock
    when the holder's descriptor closes, so a crashed process never leaves it held. A second write
    transaction opened by a thread that already holds one skips the queue (it would wait on itself) and
    gets SQLite's own behaviour: it waits for the busy timeout, then fails. The queue has the busy
    timeout's limit too (see _WriterQueue)."""
    dialect = engine.dialect
    begin, commit, rollback = dialect.do_begin, dialect.do_commit, dialect.do_rollback

    @event.listens_for(engine, "connect")
    def _open_queue(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.writers = _WriterQueue(lock_path, timeout)

    def _begin(dbapi_conn: Any) -> None:
        writers = _writers(dbapi_conn)
        if writers is not None and not dbapi_conn.info.get(READ_ONLY):
            writers.acquire()
        try:
            begin(dbapi_conn)
        except BaseException:
            _release(dbapi_conn)
            raise

    def _release(dbapi_conn: Any) -> None:
        writers = _writers(dbapi_conn)
        if writers is not None:
            writers.release()

    def _commit(dbapi_conn: Any) -> None:
        try:
            commit(dbapi_conn)
        finally:
            _release(dbapi_conn)

    def _rollback(dbapi_conn: Any) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            _release(dbapi_conn)

    dialect.do_begin = _begin  # type: ignore[method-assign,assignment]
    dialect.do_commit = _commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = _rollback  # type: ignore[method-assign,assignment]


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


def delete_in_batches(factory: sessionmaker[Session], id_column: Any, *where: Any, batch: int = 1000) -> int:
    """Delete the rows of `id_column`'s table that match `where`, lowest ids first, `batch` rows per transaction
    (each a short one, so writers of the same table never wait long); the number deleted. Retention jobs use it."""
    table = id_column.class_ if hasattr(id_column, "class_") else id_column.table
    total = 0
    while True:
        with transaction(factory) as s:
            ids = select(id_column).where(*where).order_by(id_column).limit(batch).scalar_subquery()
            done = s.execute(delete(table).where(id_column.in_(ids)).execution_options(synchronize_session=False))
            deleted = int(cast(CursorResult[Any], done).rowcount)
        total += deleted
        if deleted < batch:
            return total


SECRET_KEY_ATTRIBUTE = "leifeng_secret_key"  # a migration that encrypts data reads the key from here


def alembic_config(url: str, secret_key: str | None = None) -> AlembicConfig:
    """`secret_key` (LEIFENG_SECRET_KEY): for the migrations that encrypt or decrypt stored data (0017 seals
    phones and addresses); never written to a file or the command line."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if secret_key:
        cfg.attributes[SECRET_KEY_ATTRIBUTE] = secret_key
    return cfg


def upgrade(url: str, revision: str = "head", secret_key: str | None = None) -> None:
    from alembic import command

    command.upgrade(alembic_config(url, secret_key), revision)


def downgrade(url: str, revision: str = "base", secret_key: str | None = None) -> None:
    from alembic import command

    command.downgrade(alembic_config(url, secret_key), revision)


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
