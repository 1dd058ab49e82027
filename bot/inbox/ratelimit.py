"""Per-person message rate limits (pure): how many messages one openid may send a hub in a minute and in an
hour before the bot stops answering, and the one kind note when it does.

The counts are the person's processed messages (their dedupe rows, every message and event they sent) in the
last minute and the last hour before this one, read in the handler's one read of the sender. A message over a
limit is still recorded as processed (that row is what counts it, and a WeChat retry of it is answered from it)
and nothing else is written: no conversation change, no outbox rows, no hand-over record. Of an over-limit run
only the first message gets the note; the rest are answered with nothing (an empty answer, so WeChat does
not retry). Emergencies are never limited, nor staff, nor a follow/unfollow/scan (they change the person's
row), and once the window has moved past the burst the person is answered again.

How many can slip through at once: messages handled at the same moment read the same counts (each counts
only once its write has committed), so when W of one person's messages are in flight together, up to W - 1
more than the limit are answered at the edge of a window, and up to W get the note; W is at most the
webhook's concurrent requests (gunicorn workers x threads). Messages one after another are counted exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.dialogue.safety import hotline

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
EXEMPT_ROLES = frozenset({"admin", "staff"})  # staff answer residents and run the day: never slowed down
UNLIMITED_EVENTS = frozenset({"subscribe", "unsubscribe", "scan"})  # they change the person's own row


class Verdict(StrEnum):
    ANSWER = "answer"  # within the limits: handled as usual
    NOTE = "note"  # the first message over a limit: the kind note, nothing else
    QUIET = "quiet"  # further over: no answer at all


@dataclass(frozen=True)
class Limits:
    per_minute: int
    per_hour: int


@dataclass(frozen=True)
class Since:
    """Where the two windows start for a message received at `now`."""

    minute: datetime
    hour: datetime


def windows(now: datetime) -> Since:
    return Since(minute=now - MINUTE, hour=now - HOUR)


def limited_kind(kind: str, event: str | None) -> bool:
    """Does this kind of message count against the person? Messages and menu clicks do; follows, unfollows and
    QR scans are never held back (the handler records them on the person's row)."""
    return not (kind == "event" and event in UNLIMITED_EVENTS)


def verdict(limits: Limits, in_minute: int, in_hour: int, roles: frozenset[str] = frozenset()) -> Verdict:
    """`in_minute`/`in_hour`: the person's messages already received in each window (before this one; a count
    may stop at its limit + 1). The note goes to the message that first passes a limit not already passed."""
    if roles & EXEMPT_ROLES or (in_minute < limits.per_minute and in_hour < limits.per_hour):
        return Verdict.ANSWER
    at_edge = in_minute == limits.per_minute or in_hour == limits.per_hour
    if at_edge and in_minute <= limits.per_minute and in_hour <= limits.per_hour:
        return Verdict.NOTE
    return Verdict.QUIET


def note(hotlines: Mapping[str, str] | None) -> str:
    """The kind note: wait a little; an emergency is still answered at once, and the numbers to call."""
    return ("您发得太快了，请稍等一会儿再发。\n"
            f"如果有急事，直接说发生了什么，小助手马上回您；危急时请直接拨打 {hotline('medical', hotlines)} 急救、"
            f"{hotline('crime', hotlines)} 报警、{hotline('fire', hotlines)} 火警。")
