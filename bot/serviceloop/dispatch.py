"""派单: who may take an order (the team's or skilled volunteers, free then, under their task limit) and the
fairest of them first (`rank`, pure); offering it to them, their team's group chat, or staff when nobody fits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.hubsettings import HubSettings
from bot.outbox import enqueue
from bot.people import volunteers
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop.records import S, ServiceInfo, notify, notify_staff, transition, when_text
from intents.masking import coarse_address, scrub
from storage.models import Membership, Order, OrderOffer, Team, User, Volunteer


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    membership: Membership
    user: User | None
    recent_tasks: int
    distance_km: float | None


def available(vol: Volunteer, order: Order) -> bool:
    if not vol.availability or order.start_at is None:
        return True
    start = as_utc(order.start_at).astimezone(SHANGHAI)
    period = "am" if start.hour < 12 else ("pm" if start.hour < 18 else "eve")
    return any(int(slot.get("weekday", -1)) == start.weekday() and slot.get("period") in (period, "all")
               for slot in vol.availability)


def distance_km(vol: Volunteer, order: Order) -> float | None:
    if vol.latitude is None or vol.longitude is None or order.latitude is None or order.longitude is None:
        return None
    lat1, lng1, lat2, lng2 = map(math.radians, (vol.latitude, vol.longitude, order.latitude, order.longitude))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def rank(found: list[Candidate]) -> list[Candidate]:
    """The fairest first (pure): fewest tasks in the last 30 days, then nearest, then the longest-standing."""
    return sorted(found, key=lambda c: (c.recent_tasks, c.distance_km if c.distance_km is not None else 1e9,
                                        c.volunteer.id))


def candidates(s: Session, order: Order, now: datetime) -> list[Candidate]:
    """Approved, active volunteers of the service's team or with the skill, free at that time,
    under their open-task limit; fewest recent tasks first, then nearest."""
    team_ids = [t.id for t in s.execute(select(Team).where(Team.hub_id == order.hub_id)).scalars()
                if order.service_code in (t.services or [])]
    rows = s.execute(select(Membership, Volunteer).join(Volunteer, Volunteer.id == Membership.volunteer_id)
                     .where(Membership.hub_id == order.hub_id, Membership.status.in_(ACTIVE_STATUSES))).all()
    offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order.id)))
    open_counts = dict(s.execute(select(Order.volunteer_id, func.count()).where(
        Order.state.in_([S.ACCEPTED.value, S.SUPPORTED.value])).group_by(Order.volunteer_id)).all())
    since = now - timedelta(days=30)
    recent = dict(s.execute(select(Order.volunteer_id, func.count()).where(
        Order.accepted_at >= since).group_by(Order.volunteer_id)).all())
    out: list[Candidate] = []
    for membership, vol in rows:
        fits = membership.team_id in team_ids or order.service_code in (vol.skills or [])
        if fits and volunteers.is_minor(vol, now):
            # Issue 5: a minor fits only by their own skills, which registration and profile edits limit to
            # the catalogue's minors_ok services; their team may cover services unsuited to minors.
            fits = order.service_code in (vol.skills or [])
        if not fits or vol.id in offered or open_counts.get(vol.id, 0) >= membership.max_open_tasks:
            continue
        if not available(vol, order):
            continue
        user = s.get(User, membership.user_id) if membership.user_id else None
        out.append(Candidate(vol, membership, user, int(recent.get(vol.id, 0)), distance_km(vol, order)))
    return rank(out)


def offer_text(order: Order, service: ServiceInfo) -> str:
    content = (scrub(order.details, order.address, order.phone) or service.name)[:60]
    return (f"新任务：{service.name}（订单{order.id}）\n时间：{when_text(order)}\n"
            f"地点：{coarse_address(order.address)}\n内容：{content}\n接单请回复：接单 {order.id}")


def dispatch(s: Session, order: Order, *, now: datetime, service: ServiceInfo, settings: HubSettings,
             actor: str, widen: bool = False) -> int:
    """Offer the order to the next best volunteers; returns how many were notified."""
    n = settings.dispatch_widen_n if widen else settings.dispatch_first_n
    chosen = candidates(s, order, now)[:n]
    round_no = order.dispatch_round + 1
    if not chosen:
        transition(s, order, "dispatch", actor=actor, now=now, reason=f"第{round_no}轮：暂无合适志愿者，已转工作人员",
                   dispatch_round=round_no, dispatched_at=now)
        notify_staff(s, order.hub_id, f"订单{order.id}（{service.name}，{when_text(order)}）暂时没有合适的志愿者，"
                     f"请人工派单：leifeng orders assign {order.id} --volunteer <编号>", now,
                     key=f"nobody:{order.id}:{round_no}")
        return 0
    transition(s, order, "dispatch", actor=actor, now=now, reason=f"第{round_no}轮，通知{len(chosen)}人",
               dispatch_round=round_no, dispatched_at=now)
    text = offer_text(order, service)
    teams: dict[int, Team] = {}
    for c in chosen:
        s.add(OrderOffer(hub_id=order.hub_id, order_id=order.id, volunteer_id=c.volunteer.id, round=round_no, at=now))
        if c.user is not None:
            notify(s, order.hub_id, c.user.openid, text, now, key=f"offer:{order.id}:{c.volunteer.id}")
        if c.membership.team_id and c.membership.team_id not in teams:
            team = s.get(Team, c.membership.team_id)
            if team is not None:
                teams[team.id] = team
    for team in teams.values():
        if team.robot_key:
            enqueue(s, hub_id=order.hub_id, to=team.robot_key, text=f"【{team.name}】" + text, now=now,
                    channel="wecom_robot", idempotency_key=f"robot:{order.id}:{team.id}:{round_no}")
    return len(chosen)
