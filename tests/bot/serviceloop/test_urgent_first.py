"""The dispatch queue serves urgent orders first (issue 19): an order for 尽快 (time_kind asap) waiting behind older
ones for a set time is claimed before them, then the rest oldest first; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.devtools.seed import seed_demo_hub
from bot.serviceloop import orders
from bot.services import Services
from bot.worker import jobs
from storage.db import transaction
from storage.models import Order, User
from tests.conftest import make_services


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def _waiting(svc: Services, kinds: list[str]) -> list[int]:
    """Orders submitted a minute apart, oldest first, of these time kinds; their ids."""
    now = svc.clock.now()
    with transaction(svc.sessions) as s:
        seed_demo_hub(s, now)
        who = User(hub_id=1, openid="oUrgent", roles=[], subscribed=True, created_at=now)
        s.add(who)
        s.flush()
        made = []
        for i, kind in enumerate(kinds):
            at = now - timedelta(minutes=len(kinds) - i)
            start = now + timedelta(days=1) if kind != "asap" else None
            order = Order(hub_id=1, state="submitted", service_code="haircut", ordered_by_user_id=who.id,
                          resident_user_id=who.id, address="幸福小区3栋501", time_kind=kind, start_at=start,
                          end_at=start + timedelta(hours=2) if start else now + timedelta(hours=2),
                          created_at=at, updated_at=at)
            s.add(order)
            s.flush()
            made.append(order.id)
    return made


def test_an_urgent_order_is_claimed_before_older_ones(svc: Services) -> None:
    point, span, urgent, later_point, urgent_later = _waiting(svc, ["point", "span", "asap", "point", "asap"])
    now = svc.clock.now()
    claimed = []
    with transaction(svc.sessions) as s:
        while (order := orders.claim_waiting(s, now, skip=claimed)) is not None:
            claimed.append(order.id)
    assert claimed == [urgent, urgent_later, point, span, later_point]


def test_the_worker_dispatches_the_urgent_order_first(svc: Services) -> None:
    older, urgent = _waiting(svc, ["point", "asap"])
    assert jobs.dispatch_waiting(svc, batch=1) == 1
    with svc.sessions() as s:
        states = dict(s.execute(select(Order.id, Order.state).where(Order.id.in_([older, urgent]))).all())
        assert s.get(Order, urgent).urgent and not s.get(Order, older).urgent  # type: ignore[union-attr]
    assert states == {urgent: "dispatched", older: "submitted"}
    assert jobs.dispatch_waiting(svc, batch=1) == 1
    with svc.sessions() as s:
        assert s.scalar(select(Order.state).where(Order.id == older)) == "dispatched"
