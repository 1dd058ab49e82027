"""The outbox: rows written with the state change that caused them, sent later by the worker (bot/worker/sender.py).

This module only enqueues, and says how a row names its recipient and how much one row may hold; the
delivery guarantees are the sender's (its docstring).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import OutboxMessage

WINDOW = timedelta(hours=48)
OUT_OF_WINDOW = 45015


# Among rows due at the same time the sender takes the highest priority first.
PRIORITY_NORMAL = 0
PRIORITY_EMERGENCY = 100


def enqueue(s: Session, *, hub_id: int, to: str, text: str, now: datetime, channel: str = "wechat",
            kind: str = "text", idempotency_key: str | None = None, extra: dict[str, Any] | None = None,
            priority: int = PRIORITY_NORMAL) -> None:
    """Queue a message inside the caller's transaction. A repeated idempotency key is a no-op."""
    if idempotency_key is not None:
        exists = s.execute(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key))
        if exists.first() is not None:
            return
    payload: dict[str, Any] = {"text": text, **(extra or {})}
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
