"""Database timeouts: a database that stops answering fails a request within a bound instead of hanging it."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.clock import FakeClock
from bot.config import load_config
from bot.errors import ConfigError
from bot.services import Services, build_services
from storage.db import Timeouts, make_engine, raising_unavailable, unavailable
from storage.errors import DatabaseUnavailableError
from tests.conftest import fresh_db, make_services

HANG_GUARD = 60.0  # seconds: far beyond every bound below; only here so that a regression fails instead of hanging


def fails_within_guard(work: Callable[[], Any]) -> BaseException:
    """Run `work` in a thread and return what it raised; fail the test if it is still waiting after HANG_GUARD."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: B036 - handed back to the test
            raised.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG_GUARD)
    assert not t.is_alive(), "still waiting for the database"
    assert raised, "the statement was not given up"
    return raised[0]


# -- SQLite ------------------------------------------------------------------------------------------


@pytest.fixture
def web(db_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = make_services(db_url, clock, db_statement_timeout_seconds=0.3)
    yield svc
    svc.close()


def write(svc: Services) -> None:
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE hubs SET name = name"))


def test_a_writer_behind_a_stuck_one_in_another_process_gives_up(web: Services, db_url: str) -> None:
    """Another web process's write transaction that never ends: it holds the writers queue and SQLite's lock."""
    holder = make_engine(db_url)  # an engine of its own, as in another process
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.begin() as conn:
            conn.execute(text("UPDATE hubs SET name = name"))
            held.set()
            done.wait(HANG_GUARD)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    assert held.wait(HANG_GUARD)
    try:
        exc = fails_within_guard(lambda: write(web))
    finally:
        done.set()
        t.join(HANG_GUARD)
        holder.dispose()
    assert isinstance(exc, OperationalError) and "database is locked" in str(exc)
    assert "0.3 s" in str(exc)  # the configured bound, not the 30 s of before
    assert unavailable(exc)
    write(web)  # and once the holder is gone, writing works again


def test_a_writer_behind_an_outside_one_gives_up_after_the_busy_timeout(web: Services, db_url: str) -> None:
    """A writer that does not use the queue (the sqlite3 shell, a backup): SQLite's busy timeout is the bound."""
    outside = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")
    try:
        exc = fails_within_guard(lambda: write(web))
    finally:
        outside.rollback()
        outside.close()
    assert isinstance(exc, OperationalError) and "database is locked" in str(exc) and unavailable(exc)
    with web.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300


def test_the_worker_waits_longer_than_a_web_process(db_url: str) -> None:
    cfg = load_config({"env": "development", "database_url": db_url}, environ={})
    for worker, expected in ((False, 3000), (True, 30000)):  # the defaults: 3 s and 30 s
        svc = build_services(cfg, worker=worker)
        with svc.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == expected
        svc.close()


def test_waiting_for_a_pooled_connection_is_bounded_too(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", Timeouts(connect=0.2), pool_size=1, max_overflow=0)
    with engine.connect():
        exc = fails_within_guard(lambda: engine.connect().close())
    engine.dispose()
    assert unavailable(exc)
    with pytest.raises(DatabaseUnavailableError, match="the database is unavailable"), raising_unavailable():
        raise exc


def test_a_mistake_is_not_taken_for_an_unavailable_database(web: Services) -> None:
    with pytest.raises(OperationalError) as missing, web.engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not unavailable(missing.value)
    with pytest.raises(IntegrityError) as duplicate, web.engine.begin() as conn:
        conn.execute(text("INSERT INTO hubs (id, slug, name, settings, created_at) "
                          "SELECT id, slug, name, settings, created_at FROM hubs"))
    assert not unavailable(duplicate.value)
    with pytest.raises(IntegrityError), raising_unavailable():  # passed through unchanged
        raise duplicate.value


def test_timeouts_are_checked_settings() -> None:
    with pytest.raises(ConfigError, match="LEIFENG_DB_STATEMENT_TIMEOUT_SECONDS"):
        load_config({"db_statement_timeout_seconds": "-1"}, environ={})
    cfg = load_config({}, environ={"LEIFENG_DB_CONNECT_TIMEOUT_SECONDS": "0"})
    assert Timeouts.of(cfg.db_connect_timeout_seconds, cfg.db_statement_timeout_seconds) == Timeouts(None, 3.0)


# -- PostgreSQL ----------------------------------------------------------------------------------------


def test_connecting_to_a_server_that_never_answers_gives_up() -> None:
    """A PostgreSQL port that accepts the TCP connection and then says nothing (a frozen or overloaded server)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever reads the startup packet
    port = silent.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://leifeng@127.0.0.1:{port}/leifeng", Timeouts(connect=2.0))
    try:
        exc = fails_within_guard(lambda: engine.connect().close())
    finally:
        engine.dispose()
        silent.close()
    assert isinstance(exc, OperationalError) and unavailable(exc)


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    return fresh_db("postgresql", tmp_path)  # skipped without TEST_DATABASE_URL


def test_a_long_statement_is_cancelled_by_the_statement_timeout(pg_url: str, clock: FakeClock) -> None:
    svc = make_services(pg_url, clock, db_statement_timeout_seconds=0.5)
    try:
        with svc.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "500ms"

        def sleep() -> None:
            with svc.engine.connect() as conn:
                conn.execute(text("SELECT pg_sleep(30)"))

        exc = fails_within_guard(sleep)
        assert isinstance(exc, OperationalError) and "statement timeout" in str(exc)
        assert getattr(exc.orig, "sqlstate", None) == "57014" and unavailable(exc)
        with svc.engine.connect() as conn:  # the connection is fine afterwards
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        svc.close()


def test_a_lock_wait_is_cancelled_too_and_the_worker_waits_longer(pg_url: str, clock: FakeClock) -> None:
    web = make_services(pg_url, clock, db_statement_timeout_seconds=0.5)
    worker = build_services(web.config, worker=True)
    try:
        with worker.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
        with worker.engine.begin() as holder:
            holder.execute(text("SELECT * FROM hubs FOR UPDATE"))  # a stuck transaction holding the row

            def update() -> None:
                with web.engine.begin() as conn:
                    conn.execute(text("UPDATE hubs SET name = name"))

            exc = fails_within_guard(update)
        assert isinstance(exc, OperationalError) and unavailable(exc)
        with pytest.raises(DatabaseUnavailableError), raising_unavailable():
            raise exc
    finally:
        worker.close()
        web.close()
