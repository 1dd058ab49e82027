"""The scheduler lock: a row with an owner and an expiry, so exactly one worker runs the schedule.

A lock row (rather than a PostgreSQL advisory lock) works the same on SQLite and PostgreSQL, survives
connection pool recycling, and a crashed holder simply stops renewing: the lock is free once it expires. Each
scheduled run also holds its job's advisory lock on PostgreSQL (`exclusive`), for the moments a stalled leader
and its successor overlap.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, as_utc
from storage.db import transaction
from storage.models_events import SchedulerLock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    owner: str
    expires_at: datetime


class LeaderLock:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, owner: str, ttl_seconds: float = 30.0,
                 name: str = "scheduler") -> None:
        self.sessions = sessions
        self.clock = clock
        self.owner = owner
        self.ttl = timedelta(seconds=ttl_seconds)
        self.name = name
        self.holder: Holder | None = None  # who else holds it, after a failed acquire

    def acquire(self) -> bool:
        """Take the lock if it is free or expired, or renew it if it is ours. False while another holds it."""
        now = self.clock.now()
        try:
            with transaction(self.sessions) as s:
                row = s.execute(select(SchedulerLock).where(SchedulerLock.name == self.name)
                                .with_for_update()).scalar_one_or_none()
                if row is None:
                    s.add(SchedulerLock(name=self.name, owner=self.owner, acquired_at=now, expires_at=now + self.ttl))
                    self.holder = None
                    return True
                if row.owner == self.owner or as_utc(row.expires_at) <= now:
                    if row.owner != self.owner:
                        log.info("scheduler lock: %s takes over from %s (expired %s)", self.owner, row.owner,
                                 as_utc(row.expires_at).isoformat())
                        row.owner, row.acquired_at = self.owner, now
                    row.expires_at = now + self.ttl
                    self.holder = None
                    return True
                self.holder = Holder(row.owner, as_utc(row.expires_at))
                return False
        except IntegrityError:  # another worker inserted the row at the same moment: it won
            self.holder = None
            return False

    def release(self) -> None:
        with transaction(self.sessions) as s:
            s.execute(delete(SchedulerLock).where(SchedulerLock.name == self.name, SchedulerLock.owner == self.owner))


JOB_LOCK_CLASS = 0x1EF0  # the advisory locks' first key: this project's jobs (the second is the job's name)


def job_lock_key(name: str) -> int:
    """A job's advisory lock key (pure): a stable signed 32-bit number from its name."""
    key = zlib.crc32(name.encode("utf-8"))
    return key - (1 << 32) if key >= 1 << 31 else key


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Hold the job `name`'s PostgreSQL advisory lock while the block runs; yields False (run nothing) when
    another process holds it. The scheduler lock already lets one worker lead; this covers the seconds after a
    leader stalled past its lock's expiry while the next one took over, so one job never runs twice at once.
    A session lock on a connection of its own in autocommit (the job's transactions are its own business); it
    is gone when the connection closes, so a crashed worker holds nothing. SQLite (one host) yields True."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = job_lock_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = bool(conn.scalar(select(func.pg_try_advisory_lock(JOB_LOCK_CLASS, key))))
        try:
            yield got
        finally:
            if got:
                conn.scalar(select(func.pg_advisory_unlock(JOB_LOCK_CLASS, key)))
