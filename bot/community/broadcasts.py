"""Broadcasts: staff announcements to a segment, queued through the outbox at most once per person.

An announcement may not go as a template message (those carry only notices of a service the person asked for),
so it goes the way WeChat gives announcements to followers: as a 群发 (mass send) of a draft article, to the
followers of the segment (all subscribers, a community), in parts of up to 10,000 openids, each part one outbox
row ("bc:<broadcast>:part<n>") that the sender delivers with a `clientmsgid`, so a retry never sends it twice.
A 服务号's follower receives at most 4 群发 a calendar month: the count per follower is kept (mass_send_counts),
whoever has none left this month is skipped ("mass_quota"), and `quota` tells staff before they send.

By openid list or by tag. A 订阅号 has no 群发 by openid list (message/mass/send is a 服务号's): it reaches everyone
or a tag's followers (message/mass/sendall). So on a 订阅号 every 群发 goes by the segment's WeChat tag
(bot.community.wechat_tags), in one part whatever its size, the tag's members made equal to the part's people just
before it goes (bot.worker.tagsend); "everyone" (is_to_all) is never used, as it would reach followers who opted
out. On a 服务号 a 群发 goes by openid list: the exact people queued, no tag calls, none of the account's 100
tags spent; only a segment of one person goes by its tag there, since a list needs two openids or more.

A team's announcement on a 服务号 is the team's business, not a 群发: it goes to the team's group chats (robot,
WeCom app) and to each member as a customer-service message where their quota allows ("bc:<broadcast>:u<user>",
"once"). On a 订阅号 (no templates, customer-service messages only inside a window) it goes as a 群发 by the
team's tag, and to the team's group chats as well.

Here: who gets it, who is skipped and why, and progress; neither a repeated `send` nor a restart while queueing
sends anything twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, func, select, union
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import SHANGHAI
from bot.community import events
from bot.community.events import opted_out_user_ids
from bot.community.teamchat import post_to_team, roster, team_by_code
from bot.community.wechat_tags import NOT_FOLLOWING, TOO_MANY_TAGS, WORDS, check_room, tag_for
from bot.errors import LeifengError
from intents.address import community_of
from storage.db import transaction
from storage.models import AuditLog, Order, OutboxMessage, Team, User
from storage.models_events import Broadcast, BroadcastRecipient, MassSendCount
from storage.subscriptions import SERVICE, SUBSCRIPTION, account_kind

CHUNK = 1000
REPEAT_WINDOW = timedelta(hours=24)
SKIP_WORDS = {"opted_out": "已退订", NOT_FOLLOWING: "已取消关注", "no_account": "未绑定微信",
              "mass_quota": "本月群发次数已用完", TOO_MANY_TAGS: WORDS[TOO_MANY_TAGS]}
MASS_PER_MONTH = 4  # 群发 a 服务号's follower may receive in a calendar month
MASS_PART = 10_000  # openids in one mass/send call (at least 2)
MASS, DIRECT = "mass", "direct"
# How the sender (bot.worker.sender) begins the error of a row it dead-letters because a worker died while sending
# it: WeChat may or may not have delivered it, and it is never sent again. Its outcome is unknown, not a failure.
OUTCOME_UNKNOWN = "outcome unknown"


class BroadcastError(LeifengError):
    """A broadcast request that cannot be done (unknown segment, empty text, a repeat...)."""


@dataclass(frozen=True)
class Recipient:
    user_id: int | None
    openid: str | None
    skip: str | None = None  # why not sent: opted_out | unfollowed | no_account | mass_quota
    mass_left: int | None = None  # 群发 this person may still receive this month (a 群发 segment, `now` given)


def segment_words(segment: str, team_name: str | None = None) -> str:
    """A segment as staff read it: "全部关注者", "服务队：爱心理发队" (`team_name`, else the code), "小区：幸福小区"."""
    kind, _, arg = segment.partition(":")
    if kind == "all-subscribers":
        return "全部关注者"
    if kind == "team":
        return f"服务队：{team_name or arg}"
    if kind == "community":
        return f"小区：{arg}"
    return "其他范围"


def parse_segment(segment: str) -> tuple[str, str]:
    kind, _, arg = segment.partition(":")
    if kind == "all-subscribers" and not arg:
        return kind, ""
    if kind in ("team", "community") and arg.strip():
        return kind, arg.strip()
    raise BroadcastError(f"看不懂的范围 {segment!r}：用 all-subscribers、team:<队伍代码> 或 community:<小区名>")


def channel_of(segment: str, account: str = SERVICE) -> str:
    """How a segment's announcement goes: on a 服务号 a team's as a message each (and its group chats), the rest
    as 群发; on a 订阅号 every one as a 群发 (a team's by its tag, and its group chats too)."""
    return DIRECT if parse_segment(segment)[0] == "team" and account == SERVICE else MASS


def by_tag(account: str, people: int) -> bool:
    """Does a 群发 to this many people go by the segment's tag (else by openid list)? Always on a 订阅号, which has
    no openid list; on a 服务号 only for one person, as mass/send takes 2 to 10,000 openids."""
    return account == SUBSCRIPTION or people == 1


def month_of(now: datetime) -> str:
    """The calendar month WeChat counts 群发 in (Beijing time)."""
    return (now + timedelta(hours=8)).strftime("%Y-%m")


def mass_left(s: Session, hub_id: int, user_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """群发 each of these followers may still receive this month. One statement whatever the audience: the month's
    counts of the hub (a row for each follower a 群发 reached this month: ix_mass_send_counts_hub_month), not the
    audience in chunks of ids (11 statements for a 10,000-person hub at city scale, benchmarks/scale.py)."""
    ids = list(user_ids)
    if not ids:
        return {}
    used = {int(uid): int(n) for uid, n in s.execute(
        select(MassSendCount.user_id, MassSendCount.count).where(
            MassSendCount.hub_id == hub_id, MassSendCount.month == month_of(now))).all()}
    return {uid: max(0, MASS_PER_MONTH - used.get(uid, 0)) for uid in ids}


def recipients(s: Session, hub_id: int, segment: str, now: datetime | None = None) -> list[Recipient]:
    """Everyone in the segment, each once, with a reason for those who will be skipped. With `now`, a 群发
    segment also says what each person has left of this month's 4 (and skips who has none)."""
    people = _recipients(s, hub_id, segment)
    if now is None or channel_of(segment, account_kind(s, hub_id)) != MASS:
        return people
    left = mass_left(s, hub_id, [r.user_id for r in people if r.user_id is not None and r.skip is None], now)
    return [Recipient(r.user_id, r.openid, "mass_quota" if left[r.user_id] == 0 else None, left[r.user_id])
            if r.user_id in left else r for r in people]


@dataclass(frozen=True)
class Quota:
    """Before a 群发: how many people it reaches, and how many of their 4 this month each has left."""

    people: int
    left: dict[int, int]  # 4, 3, 2, 1, 0 -> how many people have that many left

    @property
    def reached(self) -> int:
        return self.people - self.left.get(0, 0)

    def line(self) -> str:
        spread = "，".join(f"剩{n}次 {self.left[n]} 人" for n in sorted(self.left, reverse=True) if self.left[n])
        return (f"这次群发可送达 {self.reached} 人（每人每月最多 {MASS_PER_MONTH} 次"
                f"{'：' + spread if spread else ''}）")


def quota(s: Session, hub_id: int, segment: str, now: datetime) -> Quota | None:
    """What a 群发 to this segment would use (None: the segment does not go as a 群发)."""
    if channel_of(segment, account_kind(s, hub_id)) != MASS:
        return None
    people = [r for r in recipients(s, hub_id, segment, now) if r.skip in (None, "mass_quota")]
    spread = Counter(r.mass_left or 0 for r in people)
    return Quota(len(people), {n: spread.get(n, 0) for n in range(MASS_PER_MONTH, -1, -1)})


def _recipients(s: Session, hub_id: int, segment: str) -> list[Recipient]:
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
    q = select(User.id, User.openid, User.subscribed)
    # a community's residents are the hub's already (its orders' people, its followers): read by their keys, not
    # among the hub's every user
    q = q.where(User.id.in_(residents_of(hub_id, arg))) if kind == "community" else q.where(User.hub_id == hub_id)
    result: list[Recipient] = []
    for user_id, openid, subscribed in s.execute(q.order_by(User.id)).all():
        skip = "unfollowed" if not subscribed else "opted_out" if user_id in out_ids else None
        result.append(Recipient(user_id, openid, skip))
    return result


def residents_of(hub_id: int, community: str) -> CompoundSelect[tuple[int]]:
    """The ids of a community's residents, as a subquery: whoever ordered or was served at an address there
    (orders.community, the address's 小区: the address itself is encrypted at rest and cannot be matched in SQL),
    or followed the account through that community's QR code (scene "community:<name>"). Staff name the
    community as its residents' addresses do (幸福小区; 北京市朝阳区幸福小区 is the same one); a look-alike
    (新幸福小区, 幸福小区东苑) is another community. Each part is one range of an index (ix_orders_hub_community,
    ix_users_hub_scene), so the segment costs its own residents, not the hub's history."""
    name = community_of(community) or community
    at = (Order.hub_id == hub_id, Order.community == name)
    scenes = sorted({f"community:{community}", f"community:{name}"})
    return union(select(Order.ordered_by_user_id).where(*at),
                 select(Order.resident_user_id).where(*at, Order.resident_user_id.is_not(None)),
                 select(User.id).where(User.hub_id == hub_id, User.subscribe_scene.in_(scenes)))


def mass_sent_today(s: Session, hub_id: int, now: datetime) -> int | None:
    """Today's (Beijing day) 群发 of the hub that went or is going to WeChat: one being queued, or with a part
    pending, sending or sent. One that reached nobody (every part refused, say for want of a tag) used no day."""
    day_start = datetime.combine(now.astimezone(SHANGHAI).date(), time(), SHANGHAI)
    for bid, status in s.execute(select(Broadcast.id, Broadcast.status).where(
            Broadcast.hub_id == hub_id, Broadcast.channel == MASS, Broadcast.created_at >= day_start)
            .order_by(Broadcast.id)).all():
        live = s.scalar(select(OutboxMessage.id)
                        .join(BroadcastRecipient, BroadcastRecipient.outbox_id == OutboxMessage.id)
                        .where(BroadcastRecipient.broadcast_id == bid,
                               OutboxMessage.status.in_(["pending", "sending", "sent"])).limit(1))
        if status == "enqueuing" or live is not None:
            return int(bid)
    return None


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
        account = account_kind(s, hub_id)
        channel = channel_of(segment, account)
        if channel == MASS and account == SUBSCRIPTION:
            check_room(s, hub_id, segment)  # its tag: refused in words when the account has no room for one
            today = mass_sent_today(s, hub_id, now)
            if today is not None:  # WeChat answers 45028: a 公众号/订阅号 has one 群发 a (Beijing) day
                raise BroadcastError(f"订阅号每天只能群发一次，今天已经发过了（编号 {today}），请明天再发。")
        bc = Broadcast(hub_id=hub_id, segment=segment, text=text, status="enqueuing", total=0, created_by=actor,
                       created_at=now, channel=channel)
        s.add(bc)
        s.flush()
        s.add(AuditLog(hub_id=hub_id, actor=actor, action="broadcast_create", subject=f"broadcast:{bc.id}",
                       detail={"segment": segment, "chars": len(text)}, at=now))
        return bc.id


def enqueue_all(sessions: sessionmaker[Session], broadcast_id: int, now: datetime,
                chunk: int = CHUNK) -> tuple[int, int]:
    """Queue the broadcast: its 群发 parts, or a message each (a team); safe to run again after a crash (resumes,
    never doubles). Returns (queued, skipped) in total for the broadcast."""
    with sessions() as s:
        bc = s.get(Broadcast, broadcast_id)
        if bc is None:
            raise BroadcastError(f"没有编号为 {broadcast_id} 的群发")
        hub_id, segment, text = bc.hub_id, bc.segment, bc.text
        account = account_kind(s, hub_id)
        channel = bc.channel or channel_of(segment, account)
        people = recipients(s, hub_id, segment, now)
        done = set(s.scalars(select(BroadcastRecipient.user_id).where(BroadcastRecipient.broadcast_id == broadcast_id)))
        parts = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.idempotency_key.like(f"bc:{broadcast_id}:part%"))) or 0
    todo = [r for r in people if r.user_id is not None and r.user_id not in done]
    if channel == MASS:
        _queue_mass(sessions, broadcast_id, hub_id, segment, text, todo, now, first_part=parts + 1, account=account)
    else:
        _queue_direct(sessions, broadcast_id, hub_id, text, todo, now, chunk)
    kind, arg = parse_segment(segment)
    if kind == "team":  # the team's group chats hear it too, however the members get it
        with transaction(sessions) as s:
            team = team_by_code(s, hub_id, arg)
            if team is not None:
                post_to_team(s, team, text, now=now, key=f"bc:{broadcast_id}:team")
    no_account = sum(1 for r in people if r.user_id is None)
    with transaction(sessions) as s:
        bc = s.get(Broadcast, broadcast_id)
        assert bc is not None
        bc.status, bc.total, bc.queued_at = "queued", len(people), now
        counts = dict(s.execute(select(BroadcastRecipient.status, func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id).group_by(BroadcastRecipient.status)).all())
    return int(counts.get("queued", 0)), int(counts.get("skipped", 0)) + no_account


def mass_parts(n: int, size: int = MASS_PART) -> list[tuple[int, int]]:
    """[start, end) of the parts of n followers: each at most `size`, none of one person (mass/send takes 2 or
    more); n == 1 gives no part at all."""
    if n < 2:
        return []
    bounds = [(i, min(i + size, n)) for i in range(0, n, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:  # lend the last part one from the one before
        (a, b), (_, d) = bounds[-2], bounds[-1]
        bounds[-2:] = [(a, b - 1), (b - 1, d)]
    return bounds


def _queue_mass(sessions: sessionmaker[Session], broadcast_id: int, hub_id: int, segment: str, text: str,
                todo: list[Recipient], now: datetime, first_part: int, account: str) -> None:
    go = [r for r in todo if r.skip is None]
    tagged = bool(go) and by_tag(account, len(go))
    parts = [(0, len(go))] if tagged else mass_parts(len(go))
    with transaction(sessions) as s:
        s.add_all([BroadcastRecipient(broadcast_id=broadcast_id, user_id=r.user_id, status="skipped", reason=r.skip)
                   for r in todo if r.skip is not None])
        if tagged:
            tag_for(s, hub_id, segment, now)  # its row (and name) now; WeChat's tag when the worker sends
    for n, (a, b) in enumerate(parts, first_part):
        with transaction(sessions) as s:
            payload: dict[str, Any] = {"text": text, "broadcast": broadcast_id, "part": n, "notice": "announcement",
                                       "people": b - a}
            if tagged:
                payload["tag"] = segment
            row = OutboxMessage(hub_id=hub_id, channel="wechat", to=f"broadcast:{broadcast_id}", kind=MASS,
                                payload=payload, idempotency_key=f"bc:{broadcast_id}:part{n}", status="pending",
                                attempts=0, next_attempt_at=now, created_at=now, priority=0)
            s.add(row)
            s.flush()
            s.add_all([BroadcastRecipient(broadcast_id=broadcast_id, user_id=r.user_id, status="queued",
                                          outbox_id=row.id) for r in go[a:b]])


def _queue_direct(sessions: sessionmaker[Session], broadcast_id: int, hub_id: int, text: str,
                  todo: list[Recipient], now: datetime, chunk: int) -> None:
    for i in range(0, len(todo), chunk):
        with transaction(sessions) as s:
            part = todo[i:i + chunk]
            s.add_all([BroadcastRecipient(broadcast_id=broadcast_id, user_id=r.user_id, status="skipped",
                                          reason=r.skip) for r in part if r.skip is not None])
            _queue_direct_rows(s, broadcast_id, hub_id, text, [r for r in part if r.skip is None], now)


def _queue_direct_rows(s: Session, broadcast_id: int, hub_id: int, text: str, people: list[Recipient],
                       now: datetime) -> None:
    rows = [OutboxMessage(hub_id=hub_id, channel="wechat", to=r.openid, kind="text",
                          payload={"text": text, "once": True, "broadcast": broadcast_id, "notice": "announcement",
                                   "status": "通知"},
                          idempotency_key=f"bc:{broadcast_id}:u{r.user_id}", status="pending", attempts=0,
                          next_attempt_at=now, created_at=now)
            for r in people]
    s.add_all(rows)
    s.flush()  # one batched INSERT ... RETURNING for the ids
    by_user = {int(row.idempotency_key.rsplit(":u", 1)[1]): row.id for row in rows if row.idempotency_key}
    s.add_all([BroadcastRecipient(broadcast_id=broadcast_id, user_id=r.user_id, status="queued",
                                  outbox_id=by_user.get(r.user_id or 0)) for r in people])


def announce_event(sessions: sessionmaker[Session], *, hub_id: int, event_id: int, now: datetime,
                   es: events.EventSettings, actor: str = "cli") -> int:
    """Announce a street event to every follower who has not opted out: one 群发 (not a template: an
    announcement is no notice of a service they asked for). Returns the broadcast's id."""
    with sessions() as s:
        ev = events.get(s, hub_id, event_id)
        text = "活动预告：" + events.describe(s, ev, es)
    bid = create(sessions, hub_id=hub_id, segment="all-subscribers", text=text, now=now, actor=actor)
    enqueue_all(sessions, bid, now)
    return bid


@dataclass
class Progress:
    broadcast: Broadcast
    sent: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0
    unreached: int = 0  # queued, but no route could carry it (out of window; a 群发 WeChat refused): shown to staff
    unknown: int = 0  # the worker died while sending it: perhaps delivered, never sent again (not a failure)
    via: dict[str, int] = field(default_factory=dict)
    skipped_why: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    segment_words: str = ""  # who it went to, in words (segment_words)

    @property
    def done(self) -> bool:
        return self.broadcast.status == "queued" and self.pending == 0

    def line(self) -> str:
        bc = self.broadcast
        why = "，".join(f"{SKIP_WORDS.get(k, k)} {v}" for k, v in sorted(self.skipped_why.items()))
        state = "已完成" if self.done else "正在排队" if bc.status == "enqueuing" else "发送中"
        unreached = f"，未送达 {self.unreached}" if self.unreached else ""
        unknown = f"，结果未知 {self.unknown}（发送时程序中断，可能已送达，不再重发）" if self.unknown else ""
        who = self.segment_words or segment_words(bc.segment)
        return (f"群发 {bc.id}（{who}）{state}：已发送 {self.sent}，失败 {self.failed}{unknown}{unreached}，"
                f"跳过 {self.skipped}{f'（{why}）' if why else ''}，待发送 {self.pending}")


def progress(s: Session, broadcast_id: int) -> Progress:
    bc = s.get(Broadcast, broadcast_id)
    if bc is None:
        raise BroadcastError(f"没有编号为 {broadcast_id} 的群发")
    kind, _, code = bc.segment.partition(":")
    team = s.scalar(select(Team.name).where(Team.hub_id == bc.hub_id, Team.code == code)) if kind == "team" else None
    p = Progress(bc, segment_words=segment_words(bc.segment, team))
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
        elif status in ("undelivered", "skipped", "told"):  # told: staff phoned them (bot.outbox.TOLD)
            p.unreached += n
        else:
            p.pending += n
    p.via = dict(via)
    p.unknown = int(s.scalar(select(func.count()).select_from(OutboxMessage)
                             .join(BroadcastRecipient, BroadcastRecipient.outbox_id == OutboxMessage.id)
                             .where(BroadcastRecipient.broadcast_id == broadcast_id, OutboxMessage.status == "dead",
                                    OutboxMessage.last_error.startswith(OUTCOME_UNKNOWN, autoescape=True))) or 0)
    p.failed -= p.unknown
    p.skipped_why = {str(reason): int(n) for reason, n in s.execute(
        select(BroadcastRecipient.reason, func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status == "skipped")
        .group_by(BroadcastRecipient.reason)).all()}
    p.skipped = sum(p.skipped_why.values())
    p.errors = {str(err or ""): int(n) for err, n in s.execute(
        select(OutboxMessage.last_error, func.count())
        .join(BroadcastRecipient, BroadcastRecipient.outbox_id == OutboxMessage.id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id,
               OutboxMessage.status.in_(["dead", "undelivered", "skipped"]))
        .group_by(OutboxMessage.last_error)).all()}
    return p


def recent(s: Session, hub_id: int, limit: int = 10) -> list[int]:
    return list(s.scalars(select(Broadcast.id).where(Broadcast.hub_id == hub_id)
                          .order_by(Broadcast.id.desc()).limit(limit)))


def describe_errors(p: Progress) -> list[str]:
    return [f"  {n} × {err or '未知错误'}" for err, n in sorted(p.errors.items(), key=lambda kv: -kv[1])[:5]]


def summary(p: Progress) -> dict[str, Any]:
    return {"id": p.broadcast.id, "sent": p.sent, "failed": p.failed, "unknown": p.unknown, "pending": p.pending,
            "skipped": p.skipped}
