"""Sending limits: a per-second cap with backoff for the WeChat API, each person's customer-service quota, and a
per-minute quota per WeCom robot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock, as_utc
from bot.outbox_rules import WINDOW, Grant, quota_left
from storage.db import transaction
from storage.models_events import CustomerServiceQuota, RobotQuota

T = TypeVar("T")
RATE_LIMITED = (45009, 45011)  # the API's quota reached / called too often: every send waits (45047 is one person's)


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


class CustomerServiceSlots:
    """Each person's customer-service quota (5 within 48 h of their message, 3 within a minute of a follow, scan or
    click), spent one slot at a time under a row lock, so workers and threads never spend the same slot twice.

    What the person did (their grants) comes from the caller, who read it from the messages the webhook processed;
    this keeps what was sent since: each send's time and the latest action it knew of (`seq`, so a send is ordered
    after the action even when both carry the same time). A slot is taken before the call and kept whatever the
    outcome, unless WeChat certainly did not deliver (`release`); a refusal (45015/45047) means WeChat counts
    differently from us (the person unfollowed, or messages went out another way): `spend` marks every grant so far
    used up.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @staticmethod
    def _find(hub_id: int, openid: str) -> Select[CustomerServiceQuota]:
        return select(CustomerServiceQuota).where(CustomerServiceQuota.hub_id == hub_id,
                                                  CustomerServiceQuota.openid == openid)

    def _locked(self, hub_id: int, openid: str, change: Callable[[CustomerServiceQuota], T]) -> T:
        """Run `change` on the person's row, locked (created if missing), in its own transaction."""
        for attempt in range(2):
            try:
                with transaction(self._sessions) as s:
                    row = s.execute(self._find(hub_id, openid).with_for_update()).scalar_one_or_none()
                    if row is None:
                        row = CustomerServiceQuota(hub_id=hub_id, openid=openid, sent=[], spent_at=None)
                        s.add(row)
                        s.flush()
                    return change(row)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _usable(row: CustomerServiceQuota | None, granted: tuple[Grant, ...]) -> tuple[Grant, ...]:
        spent = as_utc(row.spent_at) if row is not None and row.spent_at is not None else None
        return tuple(g for g in granted if spent is None or g.at > spent)

    @staticmethod
    def _sent(row: CustomerServiceQuota | None) -> list[tuple[datetime, int]]:
        return [(as_utc(datetime.fromisoformat(at)), int(seq)) for at, seq in (row.sent if row is not None else [])]

    def left(self, hub_id: int, openid: str, granted: tuple[Grant, ...], now: datetime) -> int:
        with self._sessions() as s:
            row = s.execute(self._find(hub_id, openid)).scalar_one_or_none()
            return quota_left(self._usable(row, granted), self._sent(row), now)

    def take(self, hub_id: int, openid: str, granted: tuple[Grant, ...], now: datetime,
             may: Callable[[int], bool] = lambda left: left > 0) -> int | None:
        """Take one slot if `may(slots left)` allows: the slots left before it, or None (nothing taken)."""
        seq = max((g.seq for g in granted), default=0)

        def change(row: CustomerServiceQuota) -> int | None:
            sent = [(at, n) for at, n in self._sent(row) if now - at < WINDOW]
            left = quota_left(self._usable(row, granted), sent, now)
            keep = [[at.isoformat(), n] for at, n in sent]
            if left <= 0 or not may(left):
                row.sent = keep
                return None
            row.sent = [*keep, [now.isoformat(), seq]]
            return left

        return self._locked(hub_id, openid, change)

    def release(self, hub_id: int, openid: str, at: datetime) -> None:
        """The slot taken at `at` was not used (WeChat refused the call for another reason): give it back."""
        def change(row: CustomerServiceQuota) -> None:
            sent = list(row.sent)
            for i in range(len(sent) - 1, -1, -1):
                if sent[i][0] == at.isoformat():
                    del sent[i]
                    break
            row.sent = sent

        self._locked(hub_id, openid, change)

    def spend(self, hub_id: int, openid: str, now: datetime) -> None:
        """WeChat said out of window / over the count: nothing the person did until now opens a slot any more."""
        def change(row: CustomerServiceQuota) -> None:
            row.spent_at = now

        self._locked(hub_id, openid, change)
