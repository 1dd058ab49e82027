"""Sending limits: a per-second cap with backoff for the WeChat API, and a per-minute quota per WeCom robot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock, as_utc
from storage.db import transaction
from storage.models_events import RobotQuota

RATE_LIMITED = (45009, 45047)  # API call quota reached / too many customer-service messages


class Deferred(Exception):  # noqa: N818 - a signal, not an error: "send this row later, it was not tried"
    """The row was not sent because of a limit; try again at `until` without counting an attempt."""

    def __init__(self, until: datetime, why: str) -> None:
        super().__init__(why)
        self.until = until


class RateLimiter:
    """A token bucket (burst = one second's worth) for sends, and a pause that doubles while WeChat says "too many".

    It is per process: only the worker holding the scheduler lock sends, so one bucket is the whole rate.
    The bucket waits (a fraction of a second at a time); the pause does not block: while it lasts the sender
    holds rows back (Deferred) and moves on. `monotonic`/`sleep` and the pause's `clock` are injectable, so
    tests drive both without waiting.
    """

    def __init__(self, per_second: float, backoff_seconds: float = 5.0, *, clock: Clock | None = None,
                 monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 max_backoff_seconds: float = 600.0) -> None:
        self.per_second = per_second
        self.capacity = max(1.0, per_second)
        self.tokens = self.capacity
        self.base_backoff = backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.backoffs = 0
        self.paused_until: datetime | None = None
        self._clock = clock or SystemClock()
        self._monotonic = monotonic
        self._sleep = sleep
        self._last = monotonic()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> None:
        """Block until the per-second cap allows one more send."""
        if self.per_second <= 0:
            return
        while True:
            with self._lock:
                now = self._monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.per_second)
                self._last = now
                if self.tokens >= 1 - 1e-9:  # tolerance: float refills land a hair under 1
                    self.tokens = max(0.0, self.tokens - 1)
                    return
                wait = max((1 - self.tokens) / self.per_second, 1e-6)
            self.waited += wait
            self._sleep(wait)

    def paused_for(self) -> float:
        """Seconds left of a backoff pause (0 when sending may go on)."""
        with self._lock:
            if self.paused_until is None:
                return 0.0
            return max(0.0, (self.paused_until - self._clock.now()).total_seconds())

    def backoff(self) -> float:
        """WeChat said "too many": pause all sends; each further refusal doubles the pause."""
        with self._lock:
            pause = float(min(self.max_backoff, self.base_backoff * 2 ** self.backoffs))
            self.backoffs += 1
            self.paused_until = self._clock.now() + timedelta(seconds=pause)
            self.tokens = 0
            return pause

    def succeeded(self) -> None:
        with self._lock:
            self.backoffs = 0


def robot_reserve(sessions: sessionmaker[Session], key: str, now: datetime, per_minute: int) -> datetime | None:
    """Reserve a send slot for a robot: None = send now (recorded), else the time the next slot opens.

    A sliding window over the last `per_minute` send times, kept in the database so a restarted worker
    (or a second one) knows what was sent in the last minute.
    """

    window = timedelta(minutes=1)
    if per_minute <= 0:
        return None
    for _ in range(2):
        try:
            with transaction(sessions) as s:
                query = select(RobotQuota).where(RobotQuota.robot_key == key).with_for_update()
                q = s.execute(query).scalar_one_or_none()
                if q is None:
                    s.add(RobotQuota(robot_key=key, sent=[now.isoformat()]))
                    return None
                recent = sorted(t for t in (as_utc(datetime.fromisoformat(x)) for x in q.sent or [])
                                if now - t < window)[-per_minute:]
                if len(recent) >= per_minute:
                    q.sent = [t.isoformat() for t in recent]
                    return recent[0] + window
                q.sent = [t.isoformat() for t in recent] + [now.isoformat()]
                return None
        except IntegrityError:
            continue  # another process created the row first; read it again
    return None
