"""Dashboard figures for one hub: monthly orders, time to accept, ratings, hours, active volunteers."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop.lifecycle import OPEN_STATES
from storage.models import Membership, Order, ServiceRecord


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


def dashboard(s: Session, hub_id: int, now: datetime, service_name: Callable[[str], str],
              months: int = 6) -> Dashboard:
    labels = month_labels(now, months)
    start = month_start(labels[0])
    d = Dashboard(months=labels)
    by_service: dict[str, Counter[str]] = defaultdict(Counter)
    waits: dict[str, list[float]] = defaultdict(list)
    ratings: Counter[int] = Counter()
    rows = s.execute(select(Order.service_code, Order.created_at, Order.accepted_at, Order.rating)
                     .where(Order.hub_id == hub_id, Order.created_at >= start)).all()
    for code, created, accepted, rating in rows:
        month = month_of(created)
        if month not in labels:
            continue
        by_service[service_name(code)][month] += 1
        if accepted is not None:  # from the resident's request, across dispatch rounds (the last acceptance)
            waits[month].append((as_utc(accepted) - as_utc(created)).total_seconds() / 60)
        if rating is not None:
            ratings[int(rating)] += 1
    d.orders_by_service = {name: {m: float(n) for m, n in counts.items()} for name, counts in by_service.items()}
    d.accept_minutes = {m: round(statistics.median(waits[m]), 1) if waits[m] else None for m in labels}
    d.ratings = {h: ratings.get(h, 0) for h in range(6)}
    hours: defaultdict[str, float] = defaultdict(float)
    people: dict[str, set[int]] = defaultdict(set)
    for when, hrs, vol in s.execute(select(ServiceRecord.service_date, ServiceRecord.hours, ServiceRecord.volunteer_id)
                                    .where(ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= start)):
        month = month_of(when)
        hours[month] += float(hrs)
        people[month].add(vol)
    d.hours = {m: round(hours.get(m, 0.0), 1) for m in labels}
    d.active_volunteers = {m: len(people.get(m, ())) for m in labels}
    d.open_orders = int(s.scalar(select(func.count()).select_from(Order).where(
        Order.hub_id == hub_id, Order.state.in_([st.value for st in OPEN_STATES]))) or 0)
    d.flagged_orders = int(s.scalar(select(func.count()).select_from(Order).where(
        Order.hub_id == hub_id, Order.flagged.is_(True))) or 0)
    d.applications = int(s.scalar(select(func.count()).select_from(Membership).where(
        Membership.hub_id == hub_id, Membership.status == "applied")) or 0)
    d.members_active = int(s.scalar(select(func.count()).select_from(Membership).where(
        Membership.hub_id == hub_id, Membership.status.in_(ACTIVE_STATUSES))) or 0)
    return d
