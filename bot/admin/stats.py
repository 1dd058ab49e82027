"""Dashboard figures for one hub: monthly orders, time to accept, ratings, hours, active volunteers; and what the
delivery needs watched: messages that reached nobody, voice the bot could not understand, the 群发 quota."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.community import broadcasts
from bot.outbox import DEAD, SKIPPED, UNDELIVERED
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop.lifecycle import OPEN_STATES
from storage import subscriptions
from storage.models import Membership, Order, OutboxMessage, ProcessedMessage, ServiceRecord


@dataclass
class Dashboard:
    months: list[str]  # "2026-11"
    orders_by_service: dict[str, dict[str, float]] = field(default_factory=dict)  # service name -> month -> n
    accept_minutes: dict[str, float | None] = field(default_factory=dict)  # month -> median minutes
    ratings: dict[int, int] = field(default_factory=dict)  # hearts -> orders
    hours: dict[str, float] = field(default_factory=dict)  # month -> hours
    active_volunteers: dict[str, int] = field(default_factory=dict)  # month -> people who served
    open_orders: int = 0
    flagged_orders: int = 0
    applications: int = 0
    members_active: int = 0
    # messages of the last UNDELIVERED_DAYS that reached nobody and still wait for staff: the 未送达 page's rows to
    # call, not sent and failed (one already phoned, 已电话告知, is done and no longer counted)
    undelivered: int = 0
    voice: VoiceCounts | None = None
    mass: MassQuota | None = None


UNDELIVERED_DAYS = 30
VOICE_DAYS = 7
# What the dialogue answers a voice message that came without WeChat's transcript (bot.dialogue.step,
# on_voice_unreadable); the processed row keeps that reply, so the count needs nothing else stored.
UNHEARD_REPLY = "这段语音没有听清楚"


@dataclass(frozen=True)
class VoiceCounts:
    """Voice messages of the last `days` days, and those without WeChat's Recognition (the bot could not
    understand them): whether the hub needs a speech recogniser of its own."""

    days: int
    total: int
    unheard: int

    def line(self) -> str:
        if not self.total:
            return f"近{self.days}天没有收到语音消息"
        share = round(100 * self.unheard / self.total)
        return (f"近{self.days}天收到语音 {self.total} 条，其中 {self.unheard} 条微信没有转成文字（{share}%），"
                "机器人没能听懂")


@dataclass(frozen=True)
class MassQuota:
    """What is left of WeChat's 群发 allowance: per follower this month on a 认证服务号, per day on a 订阅号."""

    account: str  # service | subscription
    line: str


def mass_quota(s: Session, hub_id: int, now: datetime) -> MassQuota:
    """The quota line staff read before a 群发 to all subscribers."""
    if subscriptions.account_kind(s, hub_id) == subscriptions.SUBSCRIPTION:
        used = int(broadcasts.mass_sent_today(s, hub_id, now) is not None)  # one that reached nobody used no day
        left = max(0, 1 - used)
        return MassQuota(subscriptions.SUBSCRIPTION,
                         f"公众号（订阅号）每天只能群发 1 次：今天已用 {min(used, 1)} 次，还能发 {left} 次")
    q = broadcasts.quota(s, hub_id, "all-subscribers", now)
    if q is None:  # pragma: no cover - all-subscribers always goes as a 群发
        return MassQuota(subscriptions.SERVICE, "")
    if not q.people:
        return MassQuota(subscriptions.SERVICE, "还没有可以群发的关注者")
    return MassQuota(subscriptions.SERVICE, "群发给全部关注者：" + q.line())


def voice_counts(s: Session, hub_id: int, now: datetime, days: int = VOICE_DAYS) -> VoiceCounts:
    since = now - timedelta(days=days)
    # the reply is encrypted at rest (storage.sealed): the week's voice replies are read and looked at here, one
    # query (a hub's voice messages of a week are a few hundred rows)
    replies = s.execute(select(ProcessedMessage.reply).where(
        ProcessedMessage.hub_id == hub_id, ProcessedMessage.msg_type == "voice",
        ProcessedMessage.received_at >= since)).scalars().all()
    return VoiceCounts(days, len(replies), sum(1 for reply in replies if reply and UNHEARD_REPLY in reply))


NOT_ARRIVED = (UNDELIVERED, SKIPPED, DEAD)  # the 未送达 page's (bot.admin.pages_delivery) rows still to act on


def undelivered_count(s: Session, hub_id: int, now: datetime, days: int = UNDELIVERED_DAYS) -> int:
    return int(s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.hub_id == hub_id, OutboxMessage.status.in_(NOT_ARRIVED),
        OutboxMessage.created_at >= now - timedelta(days=days))) or 0)


def month_labels(now: datetime, count: int) -> list[str]:
    local = now.astimezone(SHANGHAI)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def month_of(when: datetime) -> str:
    return f"{as_utc(when).astimezone(SHANGHAI):%Y-%m}"


def month_start(label: str) -> datetime:
    year, month = map(int, label.split("-"))
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def month_bucket(column: Any, labels: list[str]) -> Any:
    """SQL: the label of the month (in `labels`, Shanghai time) `column` falls in; NULL before the first."""
    # bounds in UTC: SQLite keeps the datetimes' UTC text, without the zone
    return case(*[(column >= as_utc(month_start(label)), label) for label in reversed(labels)], else_=None)


def _median_waits(s: Session, hub_id: int, start: datetime, month: Any) -> dict[str, float]:
    """Median minutes from the request to the (last) acceptance, per month: PostgreSQL computes it
    (percentile_cont, the same value as statistics.median); SQLite returns the month's waits to Python."""
    accepted = (Order.hub_id == hub_id, Order.created_at >= start, Order.accepted_at.is_not(None))
    if s.get_bind().dialect.name == "postgresql":
        minutes = func.extract("epoch", Order.accepted_at - Order.created_at) / 60
        return {m: float(v) for m, v in s.execute(
            select(month, func.percentile_cont(0.5).within_group(minutes)).where(*accepted).group_by(month))
            if m is not None}
    waits: dict[str, list[float]] = defaultdict(list)
    for m, created, accepted_at in s.execute(select(month, Order.created_at, Order.accepted_at).where(*accepted)):
        if m is not None:
            waits[m].append((as_utc(accepted_at) - as_utc(created)).total_seconds() / 60)
    return {m: statistics.median(w) for m, w in waits.items()}


def dashboard(s: Session, hub_id: int, now: datetime, service_name: Callable[[str], str],
              months: int = 6, voice_days: int = VOICE_DAYS) -> Dashboard:
    """The hub's figures of the last `months` months, aggregated in the database: each a GROUP BY over an index
    range of those months (ix_orders_hub_created, ix_service_records_hub_date) returning a few rows per month,
    not the months' rows (issue 19)."""
    labels = month_labels(now, months)
    start = as_utc(month_start(labels[0]))
    d = Dashboard(months=labels)
    in_window = (Order.hub_id == hub_id, Order.created_at >= start)
    month = month_bucket(Order.created_at, labels)
    by_service: dict[str, dict[str, float]] = defaultdict(dict)
    for m, code, n in s.execute(select(month, Order.service_code, func.count()).where(*in_window)
                                .group_by(month, Order.service_code)):
        if m is not None:
            name = service_name(code)
            by_service[name][m] = by_service[name].get(m, 0.0) + float(n)
    d.orders_by_service = dict(by_service)
    medians = _median_waits(s, hub_id, start, month)
    d.accept_minutes = {m: round(medians[m], 1) if m in medians else None for m in labels}
    ratings = {int(h): int(n) for h, n in s.execute(select(Order.rating, func.count()).where(
        *in_window, Order.rating.is_not(None)).group_by(Order.rating)) if h is not None}
    d.ratings = {h: ratings.get(h, 0) for h in range(6)}
    served = month_bucket(ServiceRecord.service_date, labels)
    per_month = {m: (float(hrs or 0), int(people)) for m, hrs, people in s.execute(
        select(served, func.sum(ServiceRecord.hours), func.count(func.distinct(ServiceRecord.volunteer_id)))
        .where(ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= start).group_by(served))}
    d.hours = {m: round(per_month.get(m, (0.0, 0))[0], 1) for m in labels}
    d.active_volunteers = {m: per_month.get(m, (0.0, 0))[1] for m in labels}
    d.open_orders = int(s.scalar(select(func.count()).select_from(Order).where(
        Order.hub_id == hub_id, Order.state.in_([st.value for st in OPEN_STATES]))) or 0)
    d.flagged_orders = int(s.scalar(select(func.count()).select_from(Order).where(
        Order.hub_id == hub_id, Order.flagged == true())) or 0)  # along ix_orders_hub_flagged
    d.applications = int(s.scalar(select(func.count()).select_from(Membership).where(
        Membership.hub_id == hub_id, Membership.status == "applied")) or 0)
    d.members_active = int(s.scalar(select(func.count()).select_from(Membership).where(
        Membership.hub_id == hub_id, Membership.status.in_(ACTIVE_STATUSES))) or 0)
    d.undelivered = undelivered_count(s, hub_id, now)
    d.voice = voice_counts(s, hub_id, now, voice_days)
    d.mass = mass_quota(s, hub_id, now)
    return d
