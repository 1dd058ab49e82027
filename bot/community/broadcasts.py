"""Broadcasts: staff announcements to a segment, queued through the outbox at most once per person.

Sending rules live in the outbox sender: a customer-service message inside the 48-hour window, a template
message outside it, a per-second cap with backoff on 45047. Here: who gets it, who is skipped and why,
and progress. Each recipient's outbox row has the key "bc:<broadcast>:u<user>" and is marked "once", so
neither a repeated `send`, a restart while queueing, nor a worker killed mid-send delivers it twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.community.events import opted_out_user_ids
from bot.community.teamchat import roster, team_by_code
from bot.errors import LeifengError
from storage.db import transaction
from storage.models import AuditLog, Order, OutboxMessage, User
from storage.models_events import Broadcast, BroadcastRecipient

CHUNK = 1000
REPEAT_WINDOW = timedelta(hours=24)
SKIP_WORDS = {"opted_out": "已退订", "unfollowed": "已取消关注", "no_account": "未绑定微信"}


class BroadcastError(LeifengError):
    """A broadcast request that cannot be done (unknown segment, empty text, a repeat...)."""


@dataclass(frozen=True)
class Recipient:
    user_id: int | None
    openid: str | None
    skip: str | None = None  # why not sent: opted_out | unfollowed | no_account


def parse_segment(segment: str) -> tuple[str, str]:
    kind, _, arg = segment.partition(":")
    if kind == "all-subscribers" and not arg:
        return kind, ""
    if kind in ("team", "community") and arg.strip():
        return kind, arg.strip()
    raise BroadcastError(f"看不懂的范围 {segment!r}：用 all-subscribers、team:<队伍代码> 或 community:<小区名>")


def recipients(s: Session, hub_id: int, segment: str) -> list[Recipient]:
    """Everyone in the segment, each once, with a reason for those who will be skipped."""
    kind, arg = parse_segment(segment)
    out_ids = opted_out_user_ids(s, hub_id)
    if kind == "team":
        team = team_by_code(s, hub_id, arg)
        if team is None:
            raise BroadcastError(f"没有代码为 {arg} 的队伍")
        # team members get team announcements even if they opted out of event reminders: it is their duty roster
        people: list[Recipient] = []
        seen: set[int] = set()
        for m in roster(s, hub_id, team.id):
            if m.user_id is None:
                people.append(Recipient(None, None, "no_account"))
            elif m.user_id not in seen:
                seen.add(m.user_id)
                people.append(Recipient(m.user_id, m.openid))
        users = {u.id: u for u in s.execute(select(User).where(User.id.in_(seen))).scalars()}
        return [r if r.user_id is None or users[r.user_id].subscribed else Recipient(r.user_id, r.openid, "unfollowed")
                for r in people]
    q = select(User.id, User.openid, User.subscribed).where(User.hub_id == hub_id)
    if kind == "community":
        # residents of a community: whoever ordered or was served at an address there, or followed the
        # account through that community's QR code (scene "community:<name>")
        in_orders = select(Order.ordered_by_user_id).where(Order.hub_id == hub_id, Order.address.contains(arg))
        served = select(Order.resident_user_id).where(Order.hub_id == hub_id, Order.address.contains(arg),
                                                      Order.resident_user_id.is_not(None))
        q = q.where(or_(User.id.in_(in_orders), User.id.in_(served), User.subscribe_scene == f"community:{arg}"))
    result: list[Recipient] = []
    for user_id, openid, subscribed in s.execute(q.order_by(User.id)).all():
        skip = "unfollowed" if not subscribed else "opted_out" if user_id in out_ids else None
        result.append(Recipient(user_id, openid, skip))
    return result


def create(sessions: sessionmaker[Session], *, hub_id: int, segment: str, text: str, now: datetime,
           actor: str = "cli", force: bool = False) -> int:
    """Record the broadcast (refusing an identical one from the last day unless forced); returns its id."""
    text = text.strip()
    if not text:
        raise BroadcastError("群发内容不能为空")
    parse_segment(segment)
    with transaction(sessions) as s:
        if not force:
            same = s.execute(select(Broadcast).where(Broadcast.hub_id == hub_id, Broadcast.segment == segment,
                                                     Broadcast.text == text, Broadcast.created_at > now - REPEAT_WINDOW)
                             ).scalars().first()
            if same is not None:
                raise BroadcastError(f"同样的群发（编号 {same.id}）一天内已经发过；确实要再发一次请加 --force")
        bc = Broadcast(hub_id=hub_id, segment=segment, text=text, status="enqueuing", total=0, created_by=actor,
                       created_at=now)
        s.add(bc)
        s.flush()
        s.add(AuditLog(hub_id=hub_id, actor=actor, action="broadcast_create", subject=f"broadcast:{bc.id}",
                       detail={"segment": segment, "chars": len(text)}, at=now))
        return bc.id


def enqueue_all(sessions: sessionmaker[Session], broadcast_id: int, now: datetime,
                chunk: int = CHUNK) -> tuple[int, int]:
    """Queue one outbox row per recipient, in chunks; safe to run again after a crash (resumes, never doubles).

    Returns (queued, skipped) in total for the broadcast.
    """
    with sessions() as s:
        bc = s.get(Broadcast, broadcast_id)
        if bc is None:
            raise BroadcastError(f"没有编号为 {broadcast_id} 的群发")
        hub_id, segment, text = bc.hub_id, bc.segment, bc.text
        people = recipients(s, hub_id, segment)
        done = set(s.scalars(select(BroadcastRecipient.user_id).where(BroadcastRecipient.broadcast_id == broadcast_id)))
    todo = [r for r in people if r.user_id is not None and r.user_id not in done]
    for i in range(0, len(todo), chunk):
        with transaction(sessions) as s:
            part = todo[i:i + chunk]
            rows = [OutboxMessage(hub_id=hub_id, channel="wechat", to=r.openid, kind="text",
                                  payload={"text": text, "once": True, "broadcast": broadcast_id},
                                  idempotency_key=f"bc:{broadcast_id}:u{r.user_id}", status="pending", attempts=0,
                                  next_attempt_at=now, created_at=now)
                    for r in part if r.skip is None]
            s.add_all(rows)
            s.flush()  # one batched INSERT ... RETURNING for the ids
            by_user = {int(row.idempotency_key.rsplit(":u", 1)[1]): row.id for row in rows if row.idempotency_key}
            s.add_all([BroadcastRecipient(broadcast_id=broadcast_id, user_id=r.user_id,
                                          status="skipped" if r.skip else "queued", reason=r.skip,
                                          outbox_id=by_user.get(r.user_id or 0)) for r in part])
    no_account = sum(1 for r in people if r.user_id is None)
    with transaction(sessions) as s:
        bc = s.get(Broadcast, broadcast_id)
        assert bc is not None
        bc.status, bc.total, bc.queued_at = "queued", len(people), now
        counts = dict(s.execute(select(BroadcastRecipient.status, func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id).group_by(BroadcastRecipient.status)).all())
    return int(counts.get("queued", 0)), int(counts.get("skipped", 0)) + no_account


@dataclass
class Progress:
    broadcast: Broadcast
    sent: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0
    via: dict[str, int] = field(default_factory=dict)
    skipped_why: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.broadcast.status == "queued" and self.pending == 0

    def line(self) -> str:
        bc = self.broadcast
        why = "，".join(f"{SKIP_WORDS.get(k, k)} {v}" for k, v in sorted(self.skipped_why.items()))
        state = "已完成" if self.done else "正在排队" if bc.status == "enqueuing" else "发送中"
        return (f"群发 {bc.id}（{bc.segment}）{state}：已发送 {self.sent}，失败 {self.failed}，"
                f"跳过 {self.skipped}{f'（{why}）' if why else ''}，待发送 {self.pending}")


def progress(s: Session, broadcast_id: int) -> Progress:
    bc = s.get(Broadcast, broadcast_id)
    if bc is None:
        raise BroadcastError(f"没有编号为 {broadcast_id} 的群发")
    p = Progress(bc)
    rows = s.execute(select(OutboxMessage.status, OutboxMessage.sent_via, func.count())
                     .join(BroadcastRecipient, BroadcastRecipient.outbox_id == OutboxMessage.id)
                     .where(BroadcastRecipient.broadcast_id == broadcast_id)
                     .group_by(OutboxMessage.status, OutboxMessage.sent_via)).all()
    via: Counter[str] = Counter()
    for status, sent_via, n in rows:
        if status == "sent":
            p.sent += n
            via[sent_via or "?"] += n
        elif status == "dead":
            p.failed += n
        else:
            p.pending += n
    p.via = dict(via)
    p.skipped_why = {str(reason): int(n) for reason, n in s.execute(
        select(BroadcastRecipient.reason, func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status == "skipped")
        .group_by(BroadcastRecipient.reason)).all()}
    p.skipped = sum(p.skipped_why.values())
    p.errors = {str(err or ""): int(n) for err, n in s.execute(
        select(OutboxMessage.last_error, func.count())
        .join(BroadcastRecipient, BroadcastRecipient.outbox_id == OutboxMessage.id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id, OutboxMessage.status == "dead")
        .group_by(OutboxMessage.last_error)).all()}
    return p


def recent(s: Session, hub_id: int, limit: int = 10) -> list[int]:
    return list(s.scalars(select(Broadcast.id).where(Broadcast.hub_id == hub_id)
                          .order_by(Broadcast.id.desc()).limit(limit)))


def describe_errors(p: Progress) -> list[str]:
    return [f"  {n} × {err or '未知错误'}" for err, n in sorted(p.errors.items(), key=lambda kv: -kv[1])[:5]]


def summary(p: Progress) -> dict[str, Any]:
    return {"id": p.broadcast.id, "sent": p.sent, "failed": p.failed, "pending": p.pending, "skipped": p.skipped}
