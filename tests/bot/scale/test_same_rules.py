"""The set-based dispatch and sweep decide exactly what the per-row Python rules decided: random hubs, compared
with the previous implementation (kept here as the reference) on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import SHANGHAI, FakeClock
from bot.hubsettings import hub_settings
from bot.people import volunteers
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop import dispatch, orders
from bot.serviceloop.orders import Move, decide
from storage.db import transaction
from storage.models import Conversation, Hub, Membership, Order, OrderOffer, OutboxMessage, Team, User, Volunteer
from tests.bot.scale.seeding import counting
from tests.conftest import make_services

SERVICES = ("haircut", "repair", "meals", "companionship")
STATUSES = ("active", "active", "active", "approved", "applied", "suspended", "dismissed")


def reference_candidates(s: Any, order: Order, now: datetime) -> list[int]:
    """The rules as they were written before issue 19 (every member loaded, checked in Python)."""
    team_ids = [t.id for t in s.execute(select(Team).where(Team.hub_id == order.hub_id)).scalars()
                if order.service_code in (t.services or [])]
    rows = s.execute(select(Membership, Volunteer).join(Volunteer, Volunteer.id == Membership.volunteer_id)
                     .where(Membership.hub_id == order.hub_id, Membership.status.in_(ACTIVE_STATUSES))).all()
    offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order.id)))
    open_counts = dict(s.execute(select(Order.volunteer_id, func.count()).where(
        Order.state.in_(["accepted", "supported"])).group_by(Order.volunteer_id)).all())
    recent = dict(s.execute(select(Order.volunteer_id, func.count()).where(
        Order.accepted_at >= now - timedelta(days=30)).group_by(Order.volunteer_id)).all())
    out = []
    for membership, vol in rows:
        fits = membership.team_id in team_ids or order.service_code in (vol.skills or [])
        if fits and volunteers.is_minor(vol, now):
            fits = order.service_code in (vol.skills or [])
        if not fits or vol.id in offered or open_counts.get(vol.id, 0) >= membership.max_open_tasks:
            continue
        if not dispatch.available(vol, order):
            continue
        out.append(dispatch.Candidate(vol, membership, None, int(recent.get(vol.id, 0)),
                                      dispatch.distance_km(vol, order)))
    return [c.volunteer.id for c in dispatch.rank(out)]


def _birth(rnd: random.Random, now: datetime) -> datetime | None:
    today = now.astimezone(SHANGHAI).date()
    pick = rnd.random()
    if pick < 0.4:
        return None
    if pick < 0.8:  # around the 18th birthday: yesterday, today, tomorrow
        day = today.replace(year=today.year - 18) + timedelta(days=rnd.choice((-1, 0, 1)))
    else:
        day = today.replace(year=today.year - rnd.randint(10, 70))
    midnight = datetime(day.year, day.month, day.day)
    return midnight.replace(tzinfo=SHANGHAI) if rnd.random() < 0.5 else midnight  # as registration / as fixtures


def _availability(rnd: random.Random) -> list[dict[str, Any]] | None:
    if rnd.random() < 0.3:
        return [] if rnd.random() < 0.8 else None
    return [{"weekday": rnd.randrange(7), "period": rnd.choice(("am", "pm", "eve", "all"))}
            for _ in range(rnd.randint(1, 4))]


def _random_city(s: Any, now: datetime, rnd: random.Random) -> list[int]:
    other = Hub(slug="other", name="另一个雷锋超市", settings={}, created_at=now)
    s.add(other)
    s.flush()
    resident = User(hub_id=1, openid="oResident", roles=[], subscribed=True, created_at=now)
    s.add(resident)
    s.flush()
    teams = [Team(hub_id=hub, code=f"t{hub}-{i}", name=f"队{i}", services=rnd.sample(SERVICES, rnd.randint(0, 2)),
                  created_at=now) for hub in (1, other.id) for i in range(3)]
    s.add_all(teams)
    s.flush()
    vols = []
    for i in range(90):
        skills = rnd.sample(SERVICES, rnd.randint(0, 2))
        vol = Volunteer(name=f"v{i}", skills=skills if rnd.random() < 0.95 else None, availability=_availability(rnd),
                        birth_date=_birth(rnd, now), created_at=now,
                        latitude=rnd.choice((None, 31.2 + rnd.random() / 10, 31.25)),
                        longitude=rnd.choice((121.4 + rnd.random() / 10, 121.45)))
        vols.append(vol)
    s.add_all(vols)
    s.flush()
    for i, vol in enumerate(vols):
        for hub in (1, other.id) if i % 5 == 0 else (1 if i % 2 else other.id,):
            hub_teams = [t for t in teams if t.hub_id == hub]
            s.add(Membership(hub_id=hub, volunteer_id=vol.id, status=rnd.choice(STATUSES),
                             team_id=rnd.choice([None, *[t.id for t in hub_teams]]), max_open_tasks=rnd.randint(1, 3),
                             created_at=now, updated_at=now))
    for _ in range(300):  # history in both hubs: open tasks and recent load count in every hub
        at = now - timedelta(days=rnd.uniform(0, 60))
        state = rnd.choice(("accepted", "supported", "completed", "closed", "closed", "cancelled"))
        s.add(Order(hub_id=rnd.choice((1, other.id)), state=state, service_code=rnd.choice(SERVICES),
                    ordered_by_user_id=resident.id, time_kind="asap", volunteer_id=rnd.choice(vols).id,
                    accepted_at=at if state != "cancelled" or rnd.random() < 0.5 else None, created_at=at,
                    updated_at=at))
    targets = []
    for i in range(24):
        start = None if i % 4 == 0 else now + timedelta(hours=rnd.randint(1, 24 * 14))
        order = Order(hub_id=1, state="submitted", service_code=SERVICES[i % len(SERVICES)],
                      ordered_by_user_id=resident.id, time_kind="asap" if start is None else "point", start_at=start,
                      latitude=None if i % 3 == 0 else 31.2 + rnd.random() / 10, longitude=121.4 + rnd.random() / 10,
                      created_at=now, updated_at=now)
        s.add(order)
        s.flush()
        for vol in rnd.sample(vols, rnd.randint(0, 8)):
            s.add(OrderOffer(hub_id=1, order_id=order.id, volunteer_id=vol.id, round=1, at=now))
        targets.append(order.id)
    s.flush()
    return targets


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_candidates_match_the_reference_rules(any_db_url: str, clock: FakeClock, seed: int) -> None:
    svc = make_services(any_db_url, clock)
    now = clock.now()
    try:
        with transaction(svc.sessions) as s:
            targets = _random_city(s, now, random.Random(seed))
        with svc.sessions() as s:
            seen_any = 0
            for order_id in targets:
                order = s.get(Order, order_id)
                assert order is not None
                expected = reference_candidates(s, order, now)
                got = [c.volunteer.id for c in orders.candidates(s, order, now)]
                assert got == expected, (order.service_code, order.start_at)
                assert [c.volunteer.id for c in orders.candidates(s, order, now, limit=3)] == expected[:3]
                seen_any += bool(expected)
            assert seen_any >= len(targets) // 2  # the data exercises the rules, not only empty answers
    finally:
        svc.close()


def _random_orders(s: Any, now: datetime, rnd: random.Random) -> None:
    resident = User(hub_id=1, openid="oResident", roles=[], subscribed=True, created_at=now)
    s.add(resident)
    s.flush()
    for _ in range(400):
        state = rnd.choice(("submitted", "dispatched", "dispatched", "completed", "completed", "accepted", "closed"))
        created = now - timedelta(minutes=rnd.uniform(0, 60 * 24 * 5))
        kind = rnd.random()
        start = None if kind < 0.3 else now + timedelta(minutes=rnd.uniform(-60 * 24 * 3, 60 * 24 * 3))
        end = start + timedelta(hours=rnd.choice((0, 1, 2))) if start is not None and rnd.random() < 0.5 else None
        dispatched = None if rnd.random() < 0.05 else now - timedelta(minutes=rnd.uniform(0, 60))
        completed = None if rnd.random() < 0.05 else now - timedelta(hours=rnd.uniform(0, 100))
        s.add(Order(hub_id=1, state=state, service_code="haircut", ordered_by_user_id=resident.id,
                    time_kind="asap" if start is None else "point", start_at=start, end_at=end,
                    dispatch_round=rnd.choice((0, 1, 1, 2, 2, 3)), dispatched_at=dispatched,
                    completed_at=completed if state == "completed" else None, created_at=created,
                    updated_at=now - timedelta(hours=rnd.uniform(0, 100))))
    s.flush()
    for order in s.scalars(select(Order).where(Order.state == "completed")):
        if rnd.random() < 0.3:  # reminded already
            s.add(OutboxMessage(hub_id=1, channel="wechat", to="oResident", kind="text", payload={"text": "提醒"},
                                idempotency_key=f"rate-ask:{order.id}:1", status="sent", attempts=1,
                                next_attempt_at=now, created_at=now))
    s.flush()


@pytest.mark.parametrize("seed", [1, 2])
def test_the_sweep_reads_exactly_the_orders_decide_moves(any_db_url: str, clock: FakeClock, seed: int) -> None:
    svc = make_services(any_db_url, clock)
    now = clock.now()
    cfg = hub_settings({})
    try:
        with transaction(svc.sessions) as s:
            _random_orders(s, now, random.Random(seed))
        with svc.sessions() as s:
            reminded = set(s.scalars(select(OutboxMessage.idempotency_key)))
            expected = set()
            for o in s.scalars(select(Order).where(Order.state.in_(orders.SWEPT_STATES))):
                done = o.state == "completed"
                since = (o.completed_at or o.updated_at) if done else (o.dispatched_at or o.created_at)
                move = decide(o.state, dispatch_round=o.dispatch_round, waited=now - orders.as_utc(since),
                              appointment_passed=orders._appointment_passed(o, now), settings=cfg)
                if move is Move.REMIND and f"rate-ask:{o.id}:1" in reminded:
                    continue  # reminded once already: nothing to do
                if move is not Move.WAIT:
                    expected.add(o.id)
            got = [o.id for o in s.scalars(orders.due_orders_query(1, now, cfg, batch=10_000))]
            assert len(expected) > 20
            assert set(got) == expected and got == sorted(got)
            first = [o.id for o in s.scalars(orders.due_orders_query(1, now, cfg, batch=7))]
            assert first == sorted(expected)[:7]
    finally:
        svc.close()


def test_a_backlog_is_swept_in_batches(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    now = clock.now()
    try:
        with transaction(svc.sessions) as s:
            resident = User(hub_id=1, openid="oResident", roles=[], subscribed=True, created_at=now)
            s.add(resident)
            s.flush()
            s.add_all([Order(hub_id=1, state="submitted", service_code="haircut", ordered_by_user_id=resident.id,
                             time_kind="point", start_at=now - timedelta(days=1), created_at=now - timedelta(days=2),
                             updated_at=now) for _ in range(5)])
        expired = []
        for _ in range(3):
            with transaction(svc.sessions) as s:
                expired.append(orders.sweep(s, 1, now, {}, batch=2).expired)
        assert expired == [2, 2, 1]
    finally:
        svc.close()


def test_due_hubs_are_the_hubs_with_something_due(any_db_url: str, clock: FakeClock) -> None:
    """due_hubs (two statements for the city) names exactly the hubs whose sweep would act, each by its own rules."""
    svc = make_services(any_db_url, clock)
    now = clock.now()
    try:
        with transaction(svc.sessions) as s:
            resident = User(hub_id=1, openid="oResident", roles=[], subscribed=True, created_at=now)
            s.add(resident)
            hubs = [Hub(slug=f"h{i}", name=f"站{i}", settings={"widen_after_minutes": 20} if i % 2 else {},
                        created_at=now) for i in range(8)]
            s.add_all(hubs)
            s.flush()
            ids = [h.id for h in hubs]
            waited = {ids[0]: 16, ids[1]: 16, ids[2]: 21, ids[3]: 5}  # widen after 15 min, or 20 in odd hubs
            for hub_id, minutes in waited.items():
                s.add(Order(hub_id=hub_id, state="dispatched", service_code="haircut", ordered_by_user_id=resident.id,
                            time_kind="asap", dispatch_round=1, dispatched_at=now - timedelta(minutes=minutes),
                            created_at=now - timedelta(minutes=minutes), updated_at=now))
            talker = User(hub_id=ids[4], openid="oTalker", roles=[], subscribed=True, created_at=now)
            idle = User(hub_id=ids[5], openid="oIdle", roles=[], subscribed=True, created_at=now)
            s.add_all([talker, idle])
            s.flush()
            s.add_all([Conversation(hub_id=ids[4], user_id=talker.id, state="ORDER_TIME", slots={},
                                    updated_at=now - timedelta(minutes=31)),
                       Conversation(hub_id=ids[5], user_id=idle.id, state="IDLE", slots={},
                                    updated_at=now - timedelta(days=30))])
        with svc.sessions() as s, counting(svc.engine) as counted:
            found = orders.due_hubs(s, now)
        assert found == [ids[0], ids[2], ids[4]]  # ids[1] waits 20 minutes, ids[3] is fresh, ids[5] is idle
        assert len(counted) == 2
        with svc.sessions() as s:
            swept = {hub_id for hub_id in [1, *ids] if any(vars(orders.sweep(s, hub_id, now, {})).values())}
            s.rollback()
        assert swept == set(found)
    finally:
        svc.close()
