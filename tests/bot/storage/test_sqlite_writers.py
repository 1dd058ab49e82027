"""SQLite writers queue on a file lock before BEGIN IMMEDIATE (storage/db.py: _queue_writers)."""

from __future__ import annotations

import fcntl
import gc
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import _HOLDERS, _WriterQueue, make_engine


def _locked(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def _held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process that takes the writers lock on `path` and keeps it until killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_second_writer_waits_for_the_first_and_then_runs(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE seq (who TEXT)"))
    first_in, second_done = threading.Event(), threading.Event()
    order: list[str] = []

    def second() -> None:
        first_in.wait(5)
        with engine.begin() as conn:  # queues behind the first writer, not "database is locked"
            conn.execute(text("INSERT INTO seq VALUES ('second')"))
            order.append("second")
        second_done.set()

    t = threading.Thread(target=second)
    t.start()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO seq VALUES ('first')"))
        assert _locked(Path(db_url.removeprefix("sqlite:///") + "-writers"))  # the writer holds the queue
        first_in.set()
        assert not second_done.wait(0.3)  # still queued while the first transaction is open
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM seq ORDER BY rowid")).scalars().all() == ["first", "second"]
    assert not _HOLDERS  # every lock was given back
    engine.dispose()


def test_a_nested_writer_in_the_same_thread_does_not_wait_on_itself(tmp_path: Path) -> None:
    path = tmp_path / "x.db-writers"
    outer, inner = _WriterQueue(path), _WriterQueue(path)
    outer.acquire()
    started = time.monotonic()
    inner.acquire()  # would block forever on its own thread's lock; it skips the queue instead
    assert time.monotonic() - started < 1 and inner.owner is None
    inner.release()
    outer.release()
    assert not _HOLDERS
    outer.close()
    inner.close()


def test_another_thread_waits_until_the_holder_releases(tmp_path: Path) -> None:
    path = tmp_path / "x.db-writers"
    a, b = _WriterQueue(path), _WriterQueue(path)
    a.acquire()
    got = threading.Event()

    def take() -> None:
        b.acquire()
        got.set()
        b.release()

    t = threading.Thread(target=take)
    t.start()
    assert not got.wait(0.3)
    a.release()
    assert got.wait(5)
    t.join(5)
    a.close()
    b.close()


def test_a_killed_holder_process_leaves_no_lock_behind(tmp_path: Path) -> None:
    path = tmp_path / "x.db-writers"
    with _held_by_another_process(path) as holder:
        q = _WriterQueue(path)
        got = threading.Event()
        t = threading.Thread(target=lambda: (q.acquire(), got.set()))
        t.start()
        assert not got.wait(0.3)  # the other process holds it
        holder.kill()  # a crash: the kernel drops the lock with the process
        assert got.wait(5)
        t.join(5)
        q.release()
        q.close()


def test_a_writer_behind_a_stuck_one_gives_up_with_database_is_locked(tmp_path: Path) -> None:
    """flock(2) alone would wait forever behind a writer that never finishes; the queue has the busy timeout."""
    path = tmp_path / "x.db-writers"
    stuck, other_thread = _WriterQueue(path), _WriterQueue(path, timeout=0.3)
    stuck.acquire()
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            other_thread.acquire()
        except sqlite3.OperationalError as exc:
            errors.append(exc)

    t = threading.Thread(target=wait)  # queued behind this process's holder
    started = time.monotonic()
    t.start()
    t.join(5)
    assert errors and "database is locked" in str(errors[0]) and 0.25 < time.monotonic() - started < 3
    stuck.release()
    stuck.close()
    other_thread.close()
    assert not _HOLDERS


def test_a_writer_behind_another_process_gives_up_too(tmp_path: Path) -> None:
    path = tmp_path / "x.db-writers"
    with _held_by_another_process(path):
        q = _WriterQueue(path, timeout=0.3)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            q.acquire()
        assert q.owner is None and not _HOLDERS
        q.close()


def test_a_queue_dropped_without_close_gives_its_lock_back(tmp_path: Path) -> None:
    path = tmp_path / "x.db-writers"
    q = _WriterQueue(path)
    q.acquire()
    assert _locked(path)
    del q  # e.g. a sqlite3 connection garbage-collected mid-transaction
    gc.collect()
    assert not _locked(path) and not _HOLDERS


def test_a_thread_holding_one_database_still_queues_for_another(tmp_path: Path) -> None:
    a, b = _WriterQueue(tmp_path / "a.db-writers"), _WriterQueue(tmp_path / "b.db-writers")
    a.acquire()
    b.acquire()  # a different file: this thread does not already hold it, so it really takes it
    assert b.owner is not None and _locked(tmp_path / "b.db-writers")
    b.release()
    a.release()
    assert not _HOLDERS
    a.close()
    b.close()
