"""The scheduler lock: a row with an owner and an expiry, so exactly one worker runs the schedule.

A lock row (rather than a PostgreSQL advisory lock) works the same on SQLite and PostgreSQL, survives
connection pool recycling, and a crashed holder simply stops renewing: the lock is free once it expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
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
