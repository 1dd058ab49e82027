"""A community's 群发 and the dispatch queue at city scale (issue 19), on SQLite and PostgreSQL: queueing a community
broadcast sends the same statements whatever the hub's order history (it no longer reads and decrypts every
address of the hub), its segment is read along ix_orders_hub_community and ix_users_hub_scene, and the worker's
claim (urgent first) along the partial ix_orders_dispatch_queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.community import broadcasts
from bot.serviceloop import orders
from bot.services import Services
from storage.db import transaction
from storage.models import Order, User
from tests.bot.scale.seeding import HAIRCUT, Counter, counting, seed_hub
from tests.bot.scale.test_plans import _plan

SIZES = {"default": 10, "big": 200}
COMMUNITIES = ("幸福小区", "阳光花园", "新幸福小区")  # the last one a look-alike of the first


def _seed(svc: Services, now: datetime) -> dict[str, int]:
    """Each hub: its history (seed_hub), the same 9 residents in three communities (3 each) and 3 followers of the
    first one's QR code, and `n` orders of those residents over the last 90 days: only the history differs."""
    hubs = {}
    for slug, n in SIZES.items():
        with transaction(svc.sessions) as s:
            hub = seed_hub(s, now, volunteers=n, history=n, slug=slug)
            residents = [User(hub_id=hub.hub_id, openid=f"oCommunity-{slug}-{i}", roles=[], subscribed=True,
                              subscribe_scene=f"community:{COMMUNITIES[0]}" if i >= 9 else None, created_at=now)
                         for i in range(12)]
            s.add_all(residents)
            s.flush()
            s.add_all([Order(hub_id=hub.hub_id, state="closed", service_code=HAIRCUT,
                             ordered_by_user_id=residents[i % 9].id, resident_user_id=residents[i % 9].id,
                             address=f"{COMMUNITIES[i % 9 % 3]}{i % 7 + 1}栋{i % 6 + 1}01", time_kind="point",
                             start_at=now - timedelta(days=i % 90), created_at=now - timedelta(days=i % 90),
                             updated_at=now)
                       for i in range(n)])
            hubs[slug] = hub.hub_id
    return hubs


def _enqueue(svc: Services, hub_id: int, now: datetime) -> tuple[Counter, int]:
    bid = broadcasts.create(svc.sessions, hub_id=hub_id, segment=f"community:{COMMUNITIES[0]}", text="周日停水",
                            now=now)
    with counting(svc.engine) as seen:
        queued, _skipped = broadcasts.enqueue_all(svc.sessions, bid, now)
    return seen, queued


def test_a_community_broadcast_costs_the_same_statements_whatever_the_history(svc: Services,
                                                                               clock: FakeClock) -> None:
    now = clock.now()
    hubs = _seed(svc, now)
    counted = {slug: _enqueue(svc, hub_id, now) for slug, hub_id in hubs.items()}
    for slug in SIZES:  # the 3 residents who ordered there and the 3 followers of its QR code
        assert counted[slug][1] == 6
    small, big = (counted[slug][0] for slug in SIZES)
    assert len(small) == len(big), ([q for q, _ in small.statements], [q for q, _ in big.statements])
    (segment,) = big.matching("UNION")  # the segment: one statement, by the plain community, no address read
    assert "orders.community" in segment[0] and "address" not in segment[0]


def test_the_segment_and_the_dispatch_queue_use_their_indexes(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    hubs = _seed(svc, now)
    with transaction(svc.sessions) as s:
        resident = s.scalars(select(User.id).where(User.hub_id == hubs["big"])).first()
        assert resident is not None
        s.add_all([Order(hub_id=hubs["big"], state="submitted", service_code=HAIRCUT, ordered_by_user_id=resident,
                         time_kind=kind, start_at=None if kind == "asap" else now + timedelta(days=1),
                         created_at=now, updated_at=now) for kind in ("point", "asap")])
    with svc.sessions() as s:
        with counting(svc.engine) as seen:
            broadcasts.recipients(s, hubs["big"], f"community:{COMMUNITIES[0]}")
            claimed = orders.claim_waiting(s, now)
            assert claimed is not None and claimed.urgent
        s.rollback()
    (segment,) = seen.matching("UNION")
    (claim,) = seen.matching("ORDER BY orders.urgent DESC")
    plans = {"segment": _plan(svc, *segment), "claim": _plan(svc, *claim)}
    for name, plan in plans.items():
        print(f"-- {name}\n{plan}")
    assert "ix_orders_hub_community" in plans["segment"] and "ix_users_hub_scene" in plans["segment"]
    assert "ix_orders_dispatch_queue" in plans["claim"]
    pg = svc.engine.dialect.name == "postgresql"
    for name, plan in plans.items():
        for table in ("orders", "users"):
            if pg:
                assert f"Seq Scan on {table}" not in plan, (name, plan)
            else:  # SQLite: "SCAN t" is a full scan; "SEARCH t USING ..." and, of a partial index, "SCAN t USING
                # INDEX ..." are not
                assert not any(line.strip() == f"SCAN {table}" for line in plan.splitlines()), (name, plan)
    if not pg:  # the index gives the claim's order: no sort of the waiting orders
        assert "USE TEMP B-TREE FOR ORDER BY" not in plans["claim"], plans["claim"]
