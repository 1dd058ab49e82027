"""Concurrent spending: 20 redemptions that together exceed the balance, each in its own thread with its
own engine (as separate processes would be); exactly the affordable ones win and the balance stays >= 0."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.hubsettings import HubSettings
from bot.people import merchants, points, timebank
from storage.db import transaction
from storage.models import PointsEntry, RedemptionCode, TimeBankEntry
from tests.bot.people.volunteer_fixtures import make_volunteer
from tests.conftest import make_services

N = 20


def race(url: str, clock: FakeClock, work: Any) -> list[str]:
    """Run work(services) in N threads released together; collect 'ok' or the refusal's class name. Each thread's
    services (its own engine) are made before any thread starts, so a slow, loaded machine only makes the race
    slower, never breaks the barrier; the timeouts only catch a real hang."""
    barrier = threading.Barrier(N)
    outcomes: list[str] = []
    lock = threading.Lock()
    made = [make_services(url, clock) for _ in range(N)]

    def run(svc: Any) -> None:
        try:
            barrier.wait(timeout=600)
            try:
                with transaction(svc.sessions) as s:
                    work(s)
                result = "ok"
            except (points.PointsError, merchants.MerchantError, timebank.TimeBankError) as exc:
                result = type(exc).__name__
            with lock:
                outcomes.append(result)
        finally:
            svc.close()

    threads = [threading.Thread(target=run, args=(svc,)) for svc in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert len(outcomes) == N, "a thread hung"
    return outcomes


@pytest.mark.parametrize("cost", [15, 7])
def test_concurrent_redemptions_never_overdraw(any_db_url: str, clock: FakeClock, cost: int) -> None:
    svc = make_services(any_db_url, clock)
    with transaction(svc.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        points.adjust(s, hub_id=member.hub_id, volunteer_id=vol.id, points=100, reason="期初", actor="t",
                      now=clock.now())
        hub_id, vid = member.hub_id, vol.id
    svc.close()

    def spend(s: Any) -> None:
        points.redeem(s, hub_id=hub_id, volunteer_id=vid, points=cost, reason="兑换", now=clock.now(), actor="m",
                      rules=HubSettings())

    outcomes = race(any_db_url, clock, spend)
    affordable = 100 // cost
    assert outcomes.count("ok") == affordable and outcomes.count("PointsError") == N - affordable
    svc = make_services(any_db_url, clock)
    with svc.sessions() as s:
        assert points.balance(s, hub_id, vid) == 100 - affordable * cost >= 0
        redeemed = s.execute(select(PointsEntry).where(PointsEntry.kind == "redeem")).scalars().all()
        assert len(redeemed) == affordable
    svc.close()


def test_one_redemption_code_is_used_once_under_concurrency(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    with transaction(svc.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        points.adjust(s, hub_id=member.hub_id, volunteer_id=vol.id, points=1000, reason="期初", actor="t",
                      now=clock.now())
        merchants.add_merchant(s, hub_id=member.hub_id, code="shop", name="便民超市", now=clock.now(),
                               accepts_redemptions=True, staff_openid="oShop01")
        code = merchants.issue_code(s, hub_id=member.hub_id, volunteer_id=vol.id, now=clock.now(),
                                    rules=HubSettings()).code
        hub_id, vid = member.hub_id, vol.id
    svc.close()

    def use(s: Any) -> None:
        merchants.redeem_code(s, hub_id=hub_id, staff_openid="oShop01", code=code, amount=10, now=clock.now(),
                              rules=HubSettings())

    outcomes = race(any_db_url, clock, use)
    assert outcomes.count("ok") == 1 and outcomes.count("MerchantError") == N - 1
    svc = make_services(any_db_url, clock)
    with svc.sessions() as s:
        assert points.balance(s, hub_id, vid) == 990
        assert s.execute(select(RedemptionCode)).scalar_one().used_at is not None
    svc.close()


def test_concurrent_time_bank_withdrawals_never_overdraw(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    with transaction(svc.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        s.add(TimeBankEntry(hub_id=member.hub_id, volunteer_id=vol.id, kind="deposit", minutes=300, reason="期初",
                            at=clock.now()))
        account = timebank.Account(member.hub_id, volunteer_id=vol.id)
    svc.close()

    def take(s: Any) -> None:
        timebank.withdraw(s, account, 45, "支取", clock.now(), actor="t")

    outcomes = race(any_db_url, clock, take)
    assert outcomes.count("ok") == 300 // 45
    svc = make_services(any_db_url, clock)
    with svc.sessions() as s:
        assert timebank.balance(s, account) == 300 - (300 // 45) * 45
    svc.close()
