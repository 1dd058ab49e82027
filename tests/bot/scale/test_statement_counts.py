"""Statement counts of the service loop's main paths do not grow with the data: the same at 10 and at 200
volunteers and orders in a hub (issue 19). Counted with a SQLAlchemy before_cursor_execute listener."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.clock import SHANGHAI, FakeClock
from bot.serviceloop import orders
from bot.services import Services
from bot.worker import jobs
from storage.db import transaction
from storage.models import Conversation, Hub, Order, OrderOffer, User
from tests.bot.scale.seeding import HAIRCUT, Counter, SeededHub, counting, seed_hub

SERVICE = orders.ServiceInfo(HAIRCUT, "义务理发")
NAMES = {HAIRCUT: SERVICE}
SIZES = {"default": 10, "big": 200}
# The statements of the service loop's main steps (domain calls, without the webhook's own reads and writes) and of
# the sweep with one of each move due. Before issue 19's batching they were 29, 15, 15, 23 and 73: every keyed
# outbox row was SELECT + SAVEPOINT + INSERT + RELEASE, every lifecycle move read the order again, the offers were
# an INSERT each, the ledger row, points and banked hours each looked their key up first. (submit+dispatch: 10,
# and the two statements that choose the order's random 单号.) rate 16 -> 15: the volunteer's notice finds their
# openid through the membership in one statement (records.tell_volunteer). rate 15 -> 10, sweep 36 -> 35: the
# volunteer's membership and openid read once for the points and both notices (points.volunteer_here), their hours
# and this year's in one statement, the rating and the close that follows it one UPDATE and one INSERT of both
# events (records.transitions). The statements storage.hot runs straight on the cursor are counted since then
# (seeding.counting), and were in these figures: the sweep's one (the staff's openids) made it 37 before.
# submit+dispatch 12 -> 11: the 单号's width count and its candidates' check are one statement (storage.orderrefs).
SUBMIT_DISPATCH, ACCEPT, COMPLETE, RATE, SWEEP = 11, 11, 11, 10, 35


def _seed(svc: Services, now: datetime) -> dict[str, SeededHub]:
    hubs = {}
    for slug, n in SIZES.items():
        with transaction(svc.sessions) as s:
            hubs[slug] = seed_hub(s, now, volunteers=n, history=n, slug=slug)
    return hubs


def _order_data(now: datetime) -> dict[str, Any]:
    start = (now.astimezone(SHANGHAI) + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    return {"service": HAIRCUT, "details": "理发", "time_kind": "point", "start": start.isoformat(),
            "address": "幸福小区1栋101", "phone": "13812345678", "lat": 31.21, "lng": 121.41}


def _through_the_loop(svc: Services, hub: SeededHub, now: datetime) -> tuple[int, dict[str, Counter]]:
    """An order submitted (and dispatched), accepted, completed and rated, each step counted."""
    counted: dict[str, Counter] = {}
    with transaction(svc.sessions) as s:
        resident = s.get(User, hub.resident_id)
        assert resident is not None
        with counting(svc.engine) as counted["submit+dispatch"]:
            order = orders.submit_order(s, hub_id=hub.hub_id, user=resident, data=_order_data(now), service=SERVICE,
                                        now=now)
            s.flush()
        assert order.state == "dispatched"
        order_id = order.id
    with transaction(svc.sessions) as s:
        offered = s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order_id)).all()
        assert len(offered) == 3  # dispatch_first_n
        volunteer = s.execute(select(User).where(User.hub_id == hub.hub_id,
                                                 User.volunteer_id == offered[0])).scalar_one()
        with counting(svc.engine) as counted["accept"]:
            taken = orders.accept(s, hub_id=hub.hub_id, user=volunteer, order_id=order_id, now=now, service=SERVICE)
            s.flush()
        assert taken.state == "accepted"
    after = now + timedelta(days=2)  # the appointment (tomorrow afternoon) has passed
    with transaction(svc.sessions) as s:
        volunteer = s.execute(select(User).where(User.hub_id == hub.hub_id,
                                                 User.volunteer_id == offered[0])).scalar_one()
        with counting(svc.engine) as counted["complete"]:
            done = orders.complete(s, hub_id=hub.hub_id, user=volunteer, order_id=order_id, hours=2, now=after,
                                   service=SERVICE)
            s.flush()
        assert done.state == "completed"
    with transaction(svc.sessions) as s:
        resident = s.get(User, hub.resident_id)
        assert resident is not None
        with counting(svc.engine) as counted["rate"]:
            rated = orders.rate(s, hub_id=hub.hub_id, user=resident, order_id=order_id, hearts=5, now=after,
                                service=SERVICE)
            s.flush()
        assert rated.state == "closed"
    return order_id, counted


def _make_due(svc: Services, hub: SeededHub, now: datetime) -> None:
    """One of each thing the sweep acts on: widen, escalate, expire, remind, close, and an idle dialogue."""
    with transaction(svc.sessions) as s:
        base = {"hub_id": hub.hub_id, "service_code": HAIRCUT, "ordered_by_user_id": hub.resident_id,
                "resident_user_id": hub.resident_id, "time_kind": "asap", "updated_at": now}
        later = now + timedelta(days=2)
        s.add_all([
            Order(**{**base, "time_kind": "point"}, state="dispatched", dispatch_round=1, start_at=later,
                  dispatched_at=now - timedelta(minutes=16), created_at=now - timedelta(minutes=17)),
            Order(**{**base, "time_kind": "point"}, state="dispatched", dispatch_round=2, start_at=later,
                  dispatched_at=now - timedelta(minutes=16), created_at=now - timedelta(minutes=40)),
            Order(**{**base, "time_kind": "point"}, state="dispatched", dispatch_round=3,
                  start_at=now - timedelta(hours=2), dispatched_at=now - timedelta(hours=3),
                  created_at=now - timedelta(hours=4)),
            Order(**base, state="completed", volunteer_id=hub.volunteer_ids[0], hours=1.0, dispatch_round=1,
                  accepted_at=now - timedelta(hours=27), completed_at=now - timedelta(hours=25),
                  created_at=now - timedelta(hours=30)),
            Order(**base, state="completed", volunteer_id=hub.volunteer_ids[1], hours=1.0, dispatch_round=1,
                  accepted_at=now - timedelta(hours=75), completed_at=now - timedelta(hours=73),
                  created_at=now - timedelta(hours=80)),
            # waiting, not due: a staff-held order days ahead, a fresh completion
            Order(**{**base, "time_kind": "point"}, state="dispatched", dispatch_round=3, start_at=later,
                  dispatched_at=now - timedelta(hours=3), created_at=now - timedelta(hours=4)),
            Order(**base, state="completed", hours=1.0, dispatch_round=1, completed_at=now - timedelta(hours=1),
                  created_at=now - timedelta(hours=2)),
        ])
        talker = User(hub_id=hub.hub_id, openid=f"oTalker-{hub.hub_id}", roles=[], subscribed=True, created_at=now)
        s.add(talker)
        s.flush()
        s.add(Conversation(hub_id=hub.hub_id, user_id=talker.id, state="ORDER_TIME", slots={"draft": {}},
                           updated_at=now - timedelta(minutes=31)))


def _sweep(svc: Services, hub: SeededHub, now: datetime) -> tuple[int, orders.SweepStats]:
    with transaction(svc.sessions) as s, counting(svc.engine) as swept:
        stats = orders.sweep(s, hub.hub_id, now, NAMES)
        s.flush()
    return len(swept), stats


def test_main_paths_cost_the_same_statements_at_10_and_200(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    hubs = _seed(svc, now)
    counts: dict[str, dict[str, int]] = {}
    for slug, hub in hubs.items():
        _order_id, steps = _through_the_loop(svc, hub, now)
        for step, counted in steps.items():
            # every message a step queues (3 offers and the team's robot post, the resident's notice, ...) is in
            # one INSERT ... ON CONFLICT DO NOTHING: no key looked up first, no savepoint around each row
            assert len(counted.matching("INSERT INTO outbox")) <= 1, (step, counted.statements)
            assert not counted.matching("FROM outbox"), (step, counted.statements)
            # (the resident of these tests has no conversation yet: asking for the rating creates it in a savepoint)
            assert len(counted.matching("SAVEPOINT")) <= (2 if step == "complete" else 0), (step, counted.statements)
            # a lifecycle move is its guarded UPDATE ... RETURNING and the event: the order is read once at most
            reads = counted.matching("SELECT orders.id, orders.hub_id, orders.state")
            assert len(reads) <= 1, (step, counted.statements)
        _make_due(svc, hub, now)
        sweep_n, stats = _sweep(svc, hub, now)
        assert (stats.widened, stats.escalated, stats.expired, stats.reminded, stats.closed,
                stats.dialogues_expired) == (1, 1, 1, 1, 1, 1), (slug, stats)
        idle_n, idle = _sweep(svc, hub, now)
        assert vars(idle) == vars(orders.SweepStats())
        counts[slug] = {**{step: len(c) for step, c in steps.items()}, "sweep": sweep_n, "idle sweep": idle_n}
    print(counts)
    assert counts["default"] == counts["big"], counts
    assert counts["default"]["idle sweep"] == 3  # settings, due dialogues, due orders
    assert counts["default"]["submit+dispatch"] <= SUBMIT_DISPATCH, counts
    assert counts["default"]["accept"] <= ACCEPT, counts
    assert counts["default"]["complete"] <= COMPLETE, counts
    assert counts["default"]["rate"] <= RATE, counts
    assert counts["default"]["sweep"] <= SWEEP, counts


def test_candidates_is_two_statements_whatever_the_hub(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    hubs = _seed(svc, now)
    seen = {}
    for slug, hub in hubs.items():
        with transaction(svc.sessions) as s:
            order = Order(hub_id=hub.hub_id, state="submitted", service_code=HAIRCUT,
                          ordered_by_user_id=hub.resident_id, time_kind="point",
                          start_at=now + timedelta(days=1), latitude=31.21, longitude=121.41, created_at=now,
                          updated_at=now)
            s.add(order)
            s.flush()
            with counting(svc.engine) as counted:
                everyone = orders.candidates(s, order, now)
                first = orders.candidates(s, order, now, limit=3)
            seen[slug] = len(counted)
            assert len(everyone) == SIZES[slug] and [c.volunteer.id for c in first] == [
                c.volunteer.id for c in everyone[:3]]
            assert all(c.user is not None for c in everyone)
    assert seen == {"default": 4, "big": 4}  # two statements per call


def test_the_worker_sweeps_only_the_hubs_with_something_due(svc: Services, clock: FakeClock) -> None:
    """jobs.sweep_orders asks orders.due_hubs (two statements for the city) and sweeps those hubs only: an idle
    city of 40 hubs costs what two hubs did before, and a due dialogue in one of them is still expired."""
    now = clock.now()
    with transaction(svc.sessions) as s:
        hubs = [Hub(slug=f"h{i}", name=f"站{i}", settings={}, created_at=now) for i in range(39)]
        s.add_all(hubs)
        s.flush()
        talker = User(hub_id=hubs[7].id, openid="oTalker", roles=[], subscribed=True, created_at=now)
        s.add(talker)
        s.flush()
        s.add(Conversation(hub_id=hubs[7].id, user_id=talker.id, state="ORDER_TIME", slots={},
                           updated_at=now - timedelta(minutes=31)))
    with counting(svc.engine) as busy:
        assert jobs.sweep_orders(svc).dialogues_expired == 1
    with counting(svc.engine) as idle:
        assert vars(jobs.sweep_orders(svc)) == vars(orders.SweepStats())
    assert len(idle) == 2, idle.statements
    assert len(busy) <= 2 + 3 + 8, busy.statements  # due_hubs, then one hub's sweep with one dialogue expired
