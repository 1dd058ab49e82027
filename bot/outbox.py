"""The outbox: rows written with the state change that caused them, sent later by the worker (bot/worker/sender.py).

This module only enqueues (each row says what kind of notice it is, and so its priority: bot.outbox_rules), says
how a row names its recipient and how much one row may hold, and lists what could not be delivered for staff;
the delivery guarantees and routes are the sender's (its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.outbox_rules import PRIORITY_EMERGENCY, RULES, WINDOW, Notice, classify
from storage.models import OutboxMessage, User

# PRIORITY_EMERGENCY and WINDOW are the rules' own, named here too for the modules that queue messages
__all__ = ["DEAD", "OUT_OF_WINDOW", "PRIORITY_EMERGENCY", "PRIORITY_NORMAL", "ROBOT_MAX_MARKDOWN_BYTES",
           "ROBOT_MAX_TEXT_BYTES", "SKIPPED", "UNDELIVERED", "WECOM_PREFIX", "WINDOW", "Notice", "Undelivered",
           "enqueue", "is_wecom", "resend", "resendable", "split_bytes", "truncate_bytes", "undelivered", "userid_of",
           "wecom_openid"]

OUT_OF_WINDOW = 45015

# The priority a caller passes when it has none of its own: the row then takes its notice kind's
# (bot.outbox_rules.RULES); a caller's higher priority (an emergency) always wins.
PRIORITY_NORMAL = 0

# A row's end when no route could carry it: staff should tell the person by phone (undelivered), or it is only
# shown to them (skipped: a report, a chat message, an offer others got too). Neither is retried.
UNDELIVERED = "undelivered"
SKIPPED = "skipped"
DEAD = "dead"  # every try failed (an error that did not pass, or a worker that stopped while sending it)


def enqueue(s: Session, *, hub_id: int, to: str, text: str, now: datetime, channel: str = "wechat",
            kind: str = "text", idempotency_key: str | None = None, extra: dict[str, Any] | None = None,
            priority: int = PRIORITY_NORMAL, notice: Notice | None = None) -> None:
    """Queue a message inside the caller's transaction. A repeated idempotency key is a no-op.

    `notice` says what it is (a task offer, "please rate"...); without it the key and the text tell
    (bot.outbox_rules.classify). It sets the priority and the routes the sender may take outside a chat."""
    if idempotency_key is not None:
        exists = s.execute(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key))
        if exists.first() is not None:
            return
    what = classify(idempotency_key, text)
    if notice is not None and notice is not what.kind:
        what = type(what)(notice, RULES[notice].status, what.order_id, what.event_id)
    priority = max(priority, RULES[what.kind].priority)
    payload: dict[str, Any] = {"text": text, "notice": what.kind.value, "status": what.status, **(extra or {})}
    if what.order_id is not None:
        payload["order"] = what.order_id
    if what.event_id is not None:
        payload["event"] = what.event_id
    row = OutboxMessage(hub_id=hub_id, channel=channel, to=to, kind=kind, payload=payload,
                        idempotency_key=idempotency_key, status="pending", attempts=0,
                        next_attempt_at=now, created_at=now, priority=priority)
    if idempotency_key is None:
        s.add(row)
        return
    try:
        with s.begin_nested():  # a concurrent writer may have queued the same key a moment ago
            s.add(row)
    except IntegrityError:
        pass


# A WeCom member is a user whose openid carries this prefix (so it never clashes with WeChat's openids).
WECOM_PREFIX = "wecom:"
# What one WeCom group-robot message may hold (bytes of UTF-8): longer texts are queued as several rows.
ROBOT_MAX_TEXT_BYTES = 2048
ROBOT_MAX_MARKDOWN_BYTES = 4096


def wecom_openid(userid: str) -> str:
    """A WeCom member's id as an openid in our users table."""
    return WECOM_PREFIX + userid


def userid_of(openid: str) -> str:
    return openid.removeprefix(WECOM_PREFIX)


def is_wecom(openid: str) -> bool:
    return openid.startswith(WECOM_PREFIX)


def split_bytes(text: str, limit: int) -> list[str]:
    """Split text into parts of at most `limit` UTF-8 bytes, at line ends where possible, never mid-character."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:  # one line longer than a whole part: cut it by characters
            head = truncate_bytes(line, limit, ellipsis="")
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
            line = line[len(head):]
        if len((current + line).encode("utf-8")) > limit:
            parts.append(current)
            current = line
        else:
            current += line
    if current:
        parts.append(current)
    return [p.rstrip("\n") for p in parts if p.strip()]


def truncate_bytes(text: str, limit: int, ellipsis: str = "…") -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ellipsis.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore") + ellipsis


# -- what could not be delivered, for staff ---------------------------------------------------------------------


@dataclass(frozen=True)
class Undelivered:
    """A message no route could carry: who, what, why (reason codes: bot.outbox_rules), and whether to call."""

    outbox_id: int
    to: str
    nickname: str | None
    phone: str | None
    notice: str
    text: str
    reasons: tuple[str, ...]
    call: bool  # staff should tell the person by phone
    at: datetime
    status: str = UNDELIVERED  # undelivered | skipped | dead
    error: str | None = None  # the last error of a dead row
    channel: str = "wechat"
    resendable: bool = False  # queuing it again may reach them (resendable())
    follows: bool = True


def resendable(status: str, kind: str, key: str | None, payload: dict[str, Any], *, follows: bool) -> bool:
    """Is queuing this row again worth it? Not a 群发 part or a broadcast's message (each person gets those at most
    once), nor a row sent at most once; not to someone who no longer follows; the rest may get through now (the
    person wrote again, a template was configured, the error has passed)."""
    if status not in (UNDELIVERED, SKIPPED, DEAD) or kind == "mass" or payload.get("once"):
        return False
    if (key or "").startswith("bc:"):
        return False
    return follows


def undelivered(s: Session, hub_id: int, *, since: datetime | None = None, calls_only: bool = False,
                dead: bool = False, limit: int = 200) -> list[Undelivered]:
    """Messages of the hub that reached nobody, newest first: the console's "tell them by phone" list (`dead`:
    with the rows whose every try failed)."""
    statuses = [UNDELIVERED] if calls_only else [UNDELIVERED, SKIPPED, *([DEAD] if dead else [])]
    q = (select(OutboxMessage, User.nickname, User.phone, User.subscribed)
         .outerjoin(User, (User.hub_id == OutboxMessage.hub_id) & (User.openid == OutboxMessage.to))
         .where(OutboxMessage.hub_id == hub_id, OutboxMessage.status.in_(statuses)))
    if since is not None:
        q = q.where(OutboxMessage.created_at >= since)
    rows = s.execute(q.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)).all()
    out = []
    for row, nickname, phone, subscribed in rows:
        payload = row.payload or {}
        follows = subscribed is not False  # a group robot or WeCom row has no users row: nobody unfollowed
        out.append(Undelivered(outbox_id=row.id, to=row.to, nickname=nickname,
                               phone=payload.get("phone") or phone, notice=str(payload.get("notice", "")),
                               text=str(payload.get("text", "")), reasons=tuple(payload.get("reasons", ())),
                               call=row.status == UNDELIVERED, at=row.created_at, status=row.status,
                               error=row.last_error, channel=row.channel, follows=follows,
                               resendable=resendable(row.status, row.kind, row.idempotency_key, payload,
                                                     follows=follows)))
    return out


def resend(s: Session, hub_id: int, outbox_id: int, now: datetime) -> bool:
    """Queue a row that reached nobody again, as it was (its notice, priority and key), with fresh tries: the
    sender plans its route anew. False when it is not the hub's, not resendable, or already queued again."""
    found = s.execute(select(OutboxMessage, User.subscribed)
                      .outerjoin(User, (User.hub_id == OutboxMessage.hub_id) & (User.openid == OutboxMessage.to))
                      .where(OutboxMessage.id == outbox_id, OutboxMessage.hub_id == hub_id)).first()
    if found is None:
        return False
    row, subscribed = found
    payload = dict(row.payload or {})
    if not resendable(row.status, row.kind, row.idempotency_key, payload, follows=subscribed is not False):
        return False
    payload.pop("reasons", None)
    payload["resent"] = int(payload.get("resent", 0)) + 1
    res = s.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.status == row.status)
                    .values(status="pending", attempts=0, next_attempt_at=now, last_error=None, lease_owner=None,
                            lease_until=None, sent_via=None, payload=payload)
                    .execution_options(synchronize_session=False))
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]
