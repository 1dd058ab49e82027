"""The outbox: rows written with the state change that caused them, sent later by the worker (bot/worker/sender.py).

This module only enqueues (each row says what kind of notice it is, and so its priority: bot.outbox_rules), says
how a row names its recipient and how much one row may hold, and lists what could not be delivered for staff;
the delivery guarantees and routes are the sender's (its docstring).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.outbox_rules import PRIORITY_EMERGENCY, RULES, WINDOW, Notice, classify
from storage.hot import Hot
from storage.models import Order, OutboxMessage, User
from storage.upsert import insert_new

# PRIORITY_EMERGENCY and WINDOW are the rules' own, named here too for the modules that queue messages
__all__ = ["DEAD", "NO_WECHAT", "OUT_OF_WINDOW", "PHONE", "PRIORITY_EMERGENCY", "PRIORITY_NORMAL",
           "ROBOT_MAX_MARKDOWN_BYTES", "ROBOT_MAX_TEXT_BYTES", "SKIPPED", "TOLD", "UNDELIVERED", "WECOM_PREFIX",
           "WINDOW", "Message", "Notice", "Undelivered", "enqueue", "enqueue_call", "enqueue_many", "is_wecom",
           "mark_told", "resend", "resendable", "split_bytes", "truncate_bytes", "undelivered", "userid_of",
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
TOLD = "told"  # an undelivered row staff have told the person by phone (payload told_by, told_at)

# A resident without WeChat (an order staff took by phone, bot.serviceloop.records.reachable) is told by staff: the
# notice is written as a row of this channel, already undelivered, so no sender ever picks it up and the console's
# call list shows it with the resident's name and phone.
PHONE = "phone"
NO_WECHAT = "no_wechat"  # the reason code of such a row


@dataclass(frozen=True)
class Message:
    """One message for enqueue_many: what enqueue takes, but the hub and the time (the batch's)."""

    to: str
    text: str
    channel: str = "wechat"
    kind: str = "text"
    idempotency_key: str | None = None
    extra: dict[str, Any] | None = None
    priority: int = PRIORITY_NORMAL
    notice: Notice | None = None
    status: str = "pending"


def enqueue(s: Session, *, hub_id: int, to: str, text: str, now: datetime, channel: str = "wechat",
            kind: str = "text", idempotency_key: str | None = None, extra: dict[str, Any] | None = None,
            priority: int = PRIORITY_NORMAL, notice: Notice | None = None, status: str = "pending") -> bool:
    """Queue a message inside the caller's transaction. A repeated idempotency key is a no-op (False).

    `notice` says what it is (a task offer, "please rate"...); without it the key and the text tell
    (bot.outbox_rules.classify). It sets the priority and the routes the sender may take outside a chat."""
    return bool(enqueue_many(s, hub_id=hub_id, now=now, messages=[
        Message(to, text, channel, kind, idempotency_key, extra, priority, notice, status)]))


def enqueue_many(s: Session, *, hub_id: int, now: datetime, messages: Iterable[Message]) -> list[Message]:
    """Queue several messages inside the caller's transaction; returns those queued now. A message whose key was
    queued before, by anyone, or earlier in the same batch, is skipped.

    A batch with a key is one INSERT ... ON CONFLICT DO NOTHING (storage.upsert): a concurrent transaction queuing
    the same key makes this one wait for it and then skip the row, never fail (no savepoint needed). A batch without
    keys is one plain INSERT of its rows (Core, no ORM objects: nothing reads them back)."""
    batch: list[Message] = []
    keys: set[str] = set()
    for m in messages:
        if m.idempotency_key is not None:
            if m.idempotency_key in keys:
                continue
            keys.add(m.idempotency_key)
        batch.append(m)
    if not batch:
        return []
    rows = [_row(hub_id, now, m) for m in batch]
    hot = _batch_insert(s.get_bind().dialect.name, len(rows), keyed=bool(keys))
    if hot is None and not keys:  # a long batch: one executemany of the statement built once
        s.execute(_PLAIN_INSERT, rows)
        return batch
    if hot is None:  # a long batch (a staff notice to a big office): built for its size
        new = set(s.scalars(insert_new(s, OutboxMessage).values(rows).returning(OutboxMessage.idempotency_key)))
    else:
        if s.autoflush:
            s.flush()  # what s.execute() would do first: rows added to this session before are written before
        params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
        result = hot.run(s.connection(), params)
        if not keys:
            return batch
        new = {key for (key,) in result.rows}
    return [m for m in batch if m.idempotency_key is None or m.idempotency_key in new]


# The INSERT of a batch of up to HOT_BATCH rows, built once per database, batch size and kind (storage.hot): every
# order step queues one. The payload goes through its SealedJSON type like any insert (storage.sealed).
HOT_BATCH = 16
_ROW_COLUMNS = ("hub_id", "channel", "to", "kind", "payload", "idempotency_key", "status", "attempts",
                "next_attempt_at", "created_at", "priority")
_BATCH_INSERTS: dict[tuple[str, int, bool], Hot] = {}
_BATCH_LOCK = threading.Lock()
_PLAIN_INSERT = insert(cast(Table, OutboxMessage.__table__))  # a longer batch without keys, as an executemany


def _batch_insert(dialect: str, n: int, *, keyed: bool) -> Hot | None:
    """The INSERT of `n` rows (binds `<column>_<row>`): `keyed`, … ON CONFLICT DO NOTHING RETURNING idempotency_key;
    else a plain one, nothing returned. None for a batch longer than HOT_BATCH or a database storage.upsert has no
    such insert for."""
    if n > HOT_BATCH or dialect not in ("postgresql", "sqlite"):
        return None
    hot = _BATCH_INSERTS.get((dialect, n, keyed))
    if hot is None:
        table = cast(Table, OutboxMessage.__table__)
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = make(table).values([{name: bindparam(f"{name}_{i}", type_=table.c[name].type) for name in _ROW_COLUMNS}
                                   for i in range(n)])
        final = stmt.on_conflict_do_nothing().returning(table.c.idempotency_key) if keyed else stmt.inline()
        with _BATCH_LOCK:
            hot = _BATCH_INSERTS.setdefault((dialect, n, keyed), Hot(final))
    return hot


def _row(hub_id: int, now: datetime, m: Message) -> dict[str, Any]:
    """The outbox row of a message: its notice kind and priority (bot.outbox_rules) and its payload."""
    what = classify(m.idempotency_key, m.text)
    if m.notice is not None and m.notice is not what.kind:
        what = type(what)(m.notice, RULES[m.notice].status, what.order_id, what.event_id)
    payload: dict[str, Any] = {"text": m.text, "notice": what.kind.value, "status": what.status, **(m.extra or {})}
    if what.order_id is not None:
        payload["order"] = what.order_id
    if what.event_id is not None:
        payload["event"] = what.event_id
    return {"hub_id": hub_id, "channel": m.channel, "to": m.to, "kind": m.kind, "payload": payload,
            "idempotency_key": m.idempotency_key, "status": m.status, "attempts": 0, "next_attempt_at": now,
            "created_at": now, "priority": max(m.priority, RULES[what.kind].priority)}


def enqueue_call(s: Session, *, hub_id: int, order_id: int, text: str, now: datetime,
                 idempotency_key: str | None = None, notice: Notice | None = None) -> None:
    """What the resident of an order taken by phone would have been told, for staff to tell them by phone (the call
    list). The row names the order (`to` "order:<id>"): the name and the phone are the order's, read when listed (no
    second, unencrypted copy). The key is the one the WeChat message would have had (it names the notice: classify),
    so it is queued once as well."""
    enqueue(s, hub_id=hub_id, to=f"order:{order_id}", text=text, now=now, channel=PHONE,
            idempotency_key=idempotency_key, notice=notice, extra={"order": order_id, "reasons": [NO_WECHAT]},
            status=UNDELIVERED)


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
    told_by: str | None = None  # who told the person by phone (status TOLD), and when
    told_at: str | None = None


def resendable(status: str, kind: str, key: str | None, payload: dict[str, Any], *, follows: bool) -> bool:
    """Is queuing this row again worth it? Not a 群发 part or a broadcast's message (each person gets those at most
    once), nor a row sent at most once; not to someone who no longer follows; the rest may get through now (the
    person wrote again, a template was configured, the error has passed)."""
    if status not in (UNDELIVERED, SKIPPED, DEAD) or kind == "mass" or payload.get("once") or NO_WECHAT in \
            payload.get("reasons", ()):
        return False
    if (key or "").startswith("bc:"):
        return False
    return follows


def undelivered(s: Session, hub_id: int, *, since: datetime | None = None, calls_only: bool = False,
                dead: bool = False, told: bool = False, limit: int = 200) -> list[Undelivered]:
    """Messages of the hub that reached nobody, newest first: the console's "tell them by phone" list (`dead`:
    with the rows whose every try failed; `told`: with the calls staff have made)."""
    statuses = [UNDELIVERED, *([TOLD] if told else [])] if calls_only else \
        [UNDELIVERED, SKIPPED, *([DEAD] if dead else []), *([TOLD] if told else [])]
    q = (select(OutboxMessage, User.nickname, User.phone, User.subscribed)
         .outerjoin(User, (User.hub_id == OutboxMessage.hub_id) & (User.openid == OutboxMessage.to))
         .where(OutboxMessage.hub_id == hub_id, OutboxMessage.status.in_(statuses)))
    if since is not None:
        q = q.where(OutboxMessage.created_at >= since)
    rows = s.execute(q.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)).all()
    on_orders = _called_residents(s, hub_id, [row for row, *_ in rows if row.channel == PHONE])
    out = []
    for row, nickname, phone, subscribed in rows:
        payload = row.payload or {}
        follows = subscribed is not False  # a group robot or WeCom row has no users row: nobody unfollowed
        if row.channel == PHONE:
            nickname, phone = on_orders.get(int(payload.get("order", 0)), (None, None))
        out.append(Undelivered(outbox_id=row.id, to=row.to, nickname=nickname,
                               phone=payload.get("phone") or phone, notice=str(payload.get("notice", "")),
                               text=str(payload.get("text", "")), reasons=tuple(payload.get("reasons", ())),
                               call=row.status == UNDELIVERED, at=row.created_at, status=row.status,
                               error=row.last_error, channel=row.channel, follows=follows,
                               resendable=resendable(row.status, row.kind, row.idempotency_key, payload,
                                                     follows=follows),
                               told_by=payload.get("told_by"), told_at=payload.get("told_at")))
    return out


def _called_residents(s: Session, hub_id: int, calls: list[OutboxMessage]) -> dict[int, tuple[str | None, str | None]]:
    """The name and phone on the orders of call rows (enqueue_call), by order id."""
    ids = sorted({int((row.payload or {}).get("order", 0)) for row in calls} - {0})
    if not ids:
        return {}
    return {order_id: (name, phone) for order_id, name, phone in s.execute(
        select(Order.id, Order.resident_name, Order.phone).where(Order.hub_id == hub_id, Order.id.in_(ids)))}


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


def mark_told(s: Session, hub_id: int, outbox_id: int, by: str, now: datetime) -> bool:
    """Staff told the person of an undelivered row by phone: the row leaves the call list, marked with who and when.
    False when it is not the hub's or not waiting for a call (told already by someone else a moment ago)."""
    row = s.execute(select(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.hub_id == hub_id,
                                                OutboxMessage.status == UNDELIVERED)).scalar_one_or_none()
    if row is None:
        return False
    payload = {**(row.payload or {}), "told_by": by, "told_at": now.isoformat()}
    res = s.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.status == UNDELIVERED)
                    .values(status=TOLD, payload=payload).execution_options(synchronize_session=False))
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]
