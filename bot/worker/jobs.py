"""Scheduled jobs run by the worker. Each is idempotent: running it twice does nothing twice.

Every job is a function of (services, now) that looks at what is due at `now` and queues messages with
idempotency keys: a reminder is keyed by what, whom and when, so a restart, a second run, or a run that
comes late (within the grace period) sends it exactly once, and tests drive it with a fake clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.community import events
from bot.hubsettings import hub_settings
from bot.inbox import handover
from bot.outbox import enqueue
from bot.people.points import expire_hub
from bot.serviceloop import orders
from bot.serviceloop.lifecycle import OPEN_STATES, OrderState
from bot.services import Services
from bot.worker import retention
from bot.worker.schedlock import exclusive
from storage.db import delete_in_batches, transaction
from storage.models import Hub, Membership, Order, PointsEntry, ProcessedMessage, ServiceRecord, User, Volunteer
from storage.models_events import JobRun

log = logging.getLogger(__name__)

UPCOMING_DAYS = 62  # street events are generated this far ahead, every day


def _hub_ids(services: Services) -> list[int]:
    with services.sessions() as s:
        return list(s.scalars(select(Hub.id).order_by(Hub.id)))


def _tz(services: Services) -> ZoneInfo:
    return ZoneInfo(services.config.timezone)


def _grace(services: Services) -> timedelta:
    return timedelta(minutes=services.config.reminder_grace_minutes)


def _hm(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    return time(hours, minutes)


def _once(s: Session, key: str, hub_id: int | None, now: datetime, **detail: Any) -> bool:
    """Claim a run key inside the caller's transaction; False if that run already happened."""
    if s.get(JobRun, key) is not None:
        return False
    s.add(JobRun(key=key, hub_id=hub_id, detail=detail, at=now))
    s.flush()
    return True


# -- the order sweep (bot/serviceloop/orders.py) -------------------------------------------------------------


def sweep_orders(services: Services) -> orders.SweepStats:
    """Widen, escalate, expire, remind and close orders, and expire idle dialogues, in the hubs where something is
    due (orders.due_hubs: two statements for the whole city), one transaction per hub."""
    names = {svc.code: orders.ServiceInfo(svc.code, svc.name) for svc in services.nlu.catalogue}
    total = orders.SweepStats()
    with services.sessions() as s:
        due = orders.due_hubs(s, services.clock.now())
    for hub_id in due:
        with transaction(services.sessions) as s:
            st = orders.sweep(s, hub_id, services.clock.now(), names)
        for field in vars(total):
            setattr(total, field, getattr(total, field) + getattr(st, field))
    if any(vars(total).values()):
        log.info("order sweep: %s", vars(total))
    return total


# -- every few seconds, in every worker: the dispatch queue (orders.claim_waiting) --------------------------


def dispatch_waiting(services: Services, batch: int | None = None) -> int:
    """Dispatch the orders waiting for it (new ones from the chat, handed-back ones), urgent ones (尽快) first, then
    the oldest, at most `batch` (dispatch_batch_size) per run, each claimed and dispatched in its own transaction:
    one order's failure is logged, leaves the others dispatched and is tried again next run. Safe in several
    workers at once (orders.claim_waiting skips the rows another worker holds)."""
    names = {svc.code: orders.ServiceInfo(svc.code, svc.name) for svc in services.nlu.catalogue}
    failed: set[int] = set()
    done = 0
    for _ in range(batch or services.config.dispatch_batch_size):
        current: int | None = None
        try:
            with transaction(services.sessions) as s:
                now = services.clock.now()
                order = orders.claim_waiting(s, now, skip=failed)
                if order is None:
                    break
                current = order.id
                orders.dispatch_claimed(s, order, now, names)
        except Exception:
            if current is None:  # the claim itself failed (the database): the job fails, the next run tries again
                raise
            log.exception("dispatch of order %s failed; tried again next run", current)
            failed.add(current)
            continue
        done += 1
    if done:
        log.info("dispatch queue: %d orders dispatched", done)
    return done


# -- every minute: event and appointment reminders ---------------------------------------------------


def reminders(services: Services, now: datetime | None = None) -> int:
    """Street-event reminders (day before, morning of, teams with rosters) and appointment reminders."""
    now = now or services.clock.now()
    es = events.EventSettings.from_config(services.config)
    queued = 0
    for hub_id in _hub_ids(services):
        with transaction(services.sessions) as s:
            queued += events.remind(s, hub_id, now, es)
            queued += appointment_reminders(s, hub_id, now, services)
    if queued:
        log.info("reminders: %d messages queued", queued)
    return queued


def appointment_reminders(s: Session, hub_id: int, now: datetime, services: Services) -> int:
    """Remind the accepted volunteer and the resident `appointment_remind_minutes` before the start."""
    lead = timedelta(minutes=services.config.appointment_remind_minutes)
    grace = _grace(services)
    names = {svc.code: svc.name for svc in services.nlu.catalogue}
    due_orders = s.execute(select(Order).where(
        Order.hub_id == hub_id, Order.state.in_([OrderState.ACCEPTED.value, OrderState.SUPPORTED.value]),
        Order.start_at.is_not(None), Order.start_at > now, Order.start_at <= now + lead)).scalars().all()
    queued = 0
    for order in due_orders:
        assert order.start_at is not None
        start = as_utc(order.start_at)
        due = start - lead
        if not (due <= now < min(due + grace, start)):
            continue
        key = f"appt:{order.id}:{int(start.timestamp())}"  # the start time is in the key: a new time, a new reminder
        if not _once(s, key, hub_id, now):
            continue
        service = names.get(order.service_code, order.service_code)
        when = orders.when_text(order)
        member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                    Membership.volunteer_id == order.volunteer_id)).scalar_one_or_none()
        vol_user = s.get(User, member.user_id) if member and member.user_id else None
        if vol_user is not None:
            enqueue(s, hub_id=hub_id, to=vol_user.openid, now=now, idempotency_key=f"{key}:vol",
                    text=f"服务提醒：订单{order.ref}（{service}）{when}开始，地址：{order.address or '见订单'}，"
                         f"电话：{order.phone or '无'}。完成后回复“完成 {order.ref} 小时数”。")
            queued += 1
        vol = s.get(Volunteer, order.volunteer_id) if order.volunteer_id else None
        who = f"志愿者{vol.name}" if vol else "志愿者"
        for user_id in sorted({uid for uid in (order.ordered_by_user_id, order.resident_user_id) if uid is not None}):
            user = s.get(User, user_id)
            if user is None:
                continue
            if orders.reachable(user):
                enqueue(s, hub_id=hub_id, to=user.openid, now=now, idempotency_key=f"{key}:res:{user_id}",
                        text=f"温馨提醒：您的{service}订单{order.ref}将于{when}开始，{who}会准时上门。"
                             f"有变化请回复“人工”。")
                queued += 1
            else:  # the office's row of an order taken by phone: staff remind the resident by phone
                orders.tell_by_phone(s, order, f"提醒：{service}订单{order.ref}将于{when}开始，{who}会准时上门。",
                                     now, key=f"{key}:res:{user_id}")
    return queued


# -- daily: generate street events; digest to staff ----------------------------------------------------


def generate_events(services: Services, now: datetime | None = None) -> int:
    """Keep the rule's street events generated UPCOMING_DAYS ahead in every hub (idempotent)."""
    now = now or services.clock.now()
    es = events.EventSettings.from_config(services.config)
    today = now.astimezone(es.tz).date()
    made = 0
    for hub_id in _hub_ids(services):
        with transaction(services.sessions) as s:
            made += len(events.generate(s, hub_id, es, today, today + timedelta(days=UPCOMING_DAYS), now))
    return made


def _latest(now: datetime, tz: ZoneInfo, candidates: Callable[[date], datetime | None]) -> datetime | None:
    """The latest scheduled time at or before `now`, looking back over the last 100 local days."""
    today = now.astimezone(tz).date()
    for back in range(0, 100):
        when = candidates(today - timedelta(days=back))
        if when is not None and when <= now:
            return when
    return None


def _staff(s: Session, hub_id: int) -> list[str]:
    return orders.staff_openids(s, hub_id)


def daily_digest(services: Services, now: datetime | None = None) -> int:
    """Each morning: open, unaccepted and flagged orders per hub, to the hub's staff."""
    now = now or services.clock.now()
    tz = _tz(services)
    at = _hm(services.config.daily_digest_time)
    occ = _latest(now, tz, lambda d: datetime.combine(d, at, tz))
    if occ is None or now - occ > _grace(services):
        return 0
    queued = 0
    for hub_id in _hub_ids(services):
        with transaction(services.sessions) as s:
            if not _once(s, f"digest:{hub_id}:{occ.date().isoformat()}", hub_id, now):
                continue
            text = digest_text(s, hub_id, now)
            for openid in _staff(s, hub_id):
                enqueue(s, hub_id=hub_id, to=openid, text=text, now=now,
                        idempotency_key=f"digest:{hub_id}:{occ.date().isoformat()}:{openid}")
                queued += 1
    return queued


def digest_text(s: Session, hub_id: int, now: datetime) -> str:
    open_states = [st.value for st in OPEN_STATES]
    waiting = [OrderState.SUBMITTED.value, OrderState.DISPATCHED.value]
    open_n = s.scalar(select(func.count()).select_from(Order).where(Order.hub_id == hub_id,
                                                                    Order.state.in_(open_states))) or 0
    unaccepted = list(s.execute(select(Order).where(Order.hub_id == hub_id, Order.state.in_(waiting))
                                .order_by(Order.created_at)).scalars())
    flagged = list(s.execute(select(Order).where(Order.hub_id == hub_id, Order.flagged.is_(True))
                             .order_by(Order.id)).scalars())
    lines = [f"今日订单简报：进行中 {open_n} 单，待接单 {len(unaccepted)} 单，待核查 {len(flagged)} 单。"]
    for order in unaccepted[:10]:
        waited = int((now - as_utc(order.created_at)).total_seconds() // 3600)
        lines.append(f"· 待接单 单号{order.ref} {order.service_code}，{orders.when_text(order)}，已等 {waited} 小时")
    for order in flagged[:10]:
        lines.append(f"· 待核查 单号{order.ref}（{order.rating}颗心）：leifeng orders review {order.id}")
    return "\n".join(lines)


# -- monthly report (the 1st at 09:00) and quarterly honours ----------------------------------------


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _prev_month(d: date) -> date:
    return (d.replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime


def monthly_report(services: Services, now: datetime | None = None) -> int:
    """On the 1st at 09:00: last month's figures to staff (orders, services, hours, ratings, new volunteers)."""
    now = now or services.clock.now()
    tz = _tz(services)
    occ = _latest(now, tz, lambda d: datetime.combine(d, time(9, 0), tz) if d.day == 1 else None)
    if occ is None or now - occ > _grace(services):
        return 0
    first = _prev_month(occ.date())
    period = Period(f"{first.year}年{first.month}月", datetime.combine(first, time(0), tz),
                    datetime.combine(_month_start(occ.date()), time(0), tz))
    return _to_staff(services, now, f"report:{first:%Y-%m}", lambda s, hub_id: report_text(s, hub_id, period))


def report_text(s: Session, hub_id: int, p: Period) -> str:
    created = s.scalar(select(func.count()).select_from(Order).where(
        Order.hub_id == hub_id, Order.created_at >= p.start, Order.created_at < p.end)) or 0
    rec = s.execute(select(func.count(), func.coalesce(func.sum(ServiceRecord.hours), 0.0),
                           func.avg(ServiceRecord.rating), func.count(func.distinct(ServiceRecord.volunteer_id)))
                    .where(ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= p.start,
                           ServiceRecord.service_date < p.end)).one()
    joined = s.scalar(select(func.count()).select_from(Membership).where(
        Membership.hub_id == hub_id, Membership.created_at >= p.start, Membership.created_at < p.end)) or 0
    points = s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.kind == "earn", PointsEntry.at >= p.start,
        PointsEntry.at < p.end)) or 0
    avg = f"{float(rec[2]):.1f}颗心" if rec[2] is not None else "暂无"
    return (f"{p.label}月报：新订单 {created} 单；完成服务 {rec[0]} 次，共 {float(rec[1]):g} 小时，"
            f"{rec[3]} 位志愿者参与；平均评价 {avg}；新加入志愿者 {joined} 人；发放积分 {int(points)} 分。")


def quarterly_honours(services: Services, now: datetime | None = None) -> int:
    """On the first day of a quarter at 09:30: last quarter's top volunteers (points, then hours) to staff."""
    now = now or services.clock.now()
    tz = _tz(services)
    occ = _latest(now, tz, lambda d: datetime.combine(d, time(9, 30), tz)
                  if d.day == 1 and d.month in (1, 4, 7, 10) else None)
    if occ is None or now - occ > _grace(services):
        return 0
    end = occ.date()
    start = _prev_month(_prev_month(_prev_month(end)))
    quarter = (start.month - 1) // 3 + 1
    period = Period(f"{start.year}年第{quarter}季度", datetime.combine(start, time(0), tz),
                    datetime.combine(end, time(0), tz))
    return _to_staff(services, now, f"honours:{start.year}Q{quarter}",
                     lambda s, hub_id: honours_text(s, hub_id, period))


def ranking(s: Session, hub_id: int, p: Period, top: int = 10) -> list[tuple[str, int, float]]:
    pts: dict[int, Any] = dict(s.execute(select(PointsEntry.volunteer_id, func.sum(PointsEntry.points)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.kind == "earn", PointsEntry.at >= p.start, PointsEntry.at < p.end)
        .group_by(PointsEntry.volunteer_id)).all())
    hours: dict[int, Any] = dict(s.execute(select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours)).where(
        ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= p.start, ServiceRecord.service_date < p.end)
        .group_by(ServiceRecord.volunteer_id)).all())
    ids = set(pts) | set(hours)
    names: dict[int, str] = dict(s.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(ids))).all())
    rows = [(names.get(v, str(v)), int(pts.get(v) or 0), float(hours.get(v) or 0.0)) for v in ids]
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    return rows[:top]


def honours_text(s: Session, hub_id: int, p: Period) -> str:
    rows = ranking(s, hub_id, p)
    if not rows:
        return f"{p.label}优秀志愿者：本季度没有服务记录。"
    lines = [f"{p.label}优秀志愿者（按积分、再按时长）："]
    lines += [f"{i}. {name}：{points} 分，{hours:g} 小时" for i, (name, points, hours) in enumerate(rows, 1)]
    return "\n".join(lines)


def _to_staff(services: Services, now: datetime, key: str, text_of: Callable[[Session, int], str]) -> int:
    queued = 0
    for hub_id in _hub_ids(services):
        with transaction(services.sessions) as s:
            if not _once(s, f"{key}:{hub_id}", hub_id, now):
                continue
            text = text_of(s, hub_id)
            for openid in _staff(s, hub_id):
                enqueue(s, hub_id=hub_id, to=openid, text=text, now=now, idempotency_key=f"{key}:{hub_id}:{openid}")
                queued += 1
    return queued


def expire_points(services: Services, now: datetime | None = None) -> int:
    """Points older than the hub's expiry age lapse (oldest first); hours never do. Idempotent: a second
    run the same day finds nothing more to expire (bot.people.points.expire_points counts earlier expiries)."""
    now = now or services.clock.now()
    total = 0
    for hub_id in _hub_ids(services):
        with transaction(services.sessions) as s:
            rules = hub_settings(s.scalar(select(Hub.settings).where(Hub.id == hub_id)))
            total += sum(expire_hub(s, hub_id, now, rules).values())
    if total:
        log.info("points expiry: %d points lapsed", total)
    return total


# -- daily: forget processed messages once WeChat can no longer retry them ----------------------------


PRUNE_BATCH = 1000  # rows per delete: each batch is a short transaction, so webhook writers never wait long


def prune_processed_messages(services: Services, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete dedupe rows older than `processed_messages_keep_days`, oldest first, `batch` rows per transaction.

    A row only has to outlive WeChat's retries (three within about 15 seconds); the days kept beyond that are
    for looking back at what came in. Idempotent: a second run finds nothing older than the cut-off."""
    now = now or services.clock.now()
    cutoff = now - timedelta(days=services.config.processed_messages_keep_days)
    total = delete_in_batches(services.sessions, ProcessedMessage.id, ProcessedMessage.received_at < cutoff,
                              batch=batch)
    if total:
        log.info("processed messages: %d rows older than %s deleted", total, cutoff.isoformat(timespec="seconds"))
    return total


# -- the table the worker schedules (APScheduler triggers; ids are stable across restarts) ------------


@dataclass(frozen=True)
class JobSpec:
    id: str
    run: Callable[[Services], Any]
    trigger: str  # interval | cron
    args: dict[str, Any]


def schedule(services: Services) -> tuple[JobSpec, ...]:
    digest = _hm(services.config.daily_digest_time)
    return (
        JobSpec("orders_sweep", sweep_orders, "interval", {"seconds": 60}),
        JobSpec("reminders", reminders, "interval", {"seconds": 60}),
        JobSpec("events_generate", generate_events, "cron", {"hour": 2, "minute": 5}),
        JobSpec("points_expire", expire_points, "cron", {"hour": 3, "minute": 10}),
        JobSpec("processed_messages_prune", prune_processed_messages, "cron", {"hour": 3, "minute": 40}),
        JobSpec("handover_unanswered", handover.note_unanswered, "interval", {"seconds": 60}),
        JobSpec("handover_prune", handover.prune, "cron", {"hour": 3, "minute": 50}),
        JobSpec("retention", retention.prune, "cron", {"hour": 4, "minute": 10}),  # outbox, sign-ins, audit log
        JobSpec("daily_digest", daily_digest, "cron", {"hour": digest.hour, "minute": digest.minute}),
        JobSpec("monthly_report", monthly_report, "cron", {"day": 1, "hour": 9, "minute": 0}),
        JobSpec("quarterly_honours", quarterly_honours, "cron", {"month": "1,4,7,10", "day": 1, "hour": 9,
                                                                 "minute": 30}),
    )


# The persisted jobs name a job by id only (a text reference APScheduler can store); the worker that holds
# the scheduler lock binds its services here when it starts leading.
_BOUND: dict[str, Services] = {}


def bind(services: Services) -> None:
    _BOUND["services"] = services


def run_job(job_id: str) -> None:
    """APScheduler's entry point for every persisted job."""
    services = _BOUND.get("services")
    if services is None:
        log.warning("job %s fired but no worker is bound; skipped", job_id)
        return
    spec = next((j for j in schedule(services) if j.id == job_id), None)
    if spec is None:
        log.warning("job %s is no longer defined; skipped", job_id)
        return
    try:
        with exclusive(services.engine, f"job:{job_id}") as mine:
            if not mine:
                log.warning("job %s is running in another worker; this run skipped", job_id)
                return
            spec.run(services)
    except Exception:  # keep the scheduler alive; the job is idempotent, the next run catches up
        log.exception("job %s failed", job_id)
