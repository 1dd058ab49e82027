"""First valid acceptance wins: many volunteers accept the same order at the same instant."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.serviceloop.orders import ServiceInfo, submit_order
from storage.db import transaction
from storage.models import Membership, Order, OrderEvent, Team, User, Volunteer
from tests.conftest import make_services

N = 24


def seed(svc: Any, now: Any) -> tuple[int, int]:
    with transaction(svc.sessions) as s:
        team = Team(hub_id=1, code="haircut", name="爱心理发队", services=["haircut"], created_at=now)
        s.add(team)
        s.flush()
        for i in range(N):
            vol = Volunteer(name=f"志愿者{i}", phone=f"1390000{i:04d}", skills=["haircut"], availability=[],
                            created_at=now)
            s.add(vol)
            s.flush()
            user = User(hub_id=1, openid=f"oVol{i:03d}", roles=["volunteer"], volunteer_id=vol.id, subscribed=True,
                        created_at=now)
            s.add(user)
            s.flush()
            s.add(Membership(hub_id=1, volunteer_id=vol.id, user_id=user.id, team_id=team.id, status="active",
                             max_open_tasks=3, created_at=now, updated_at=now))
        resident = User(hub_id=1, openid="oResident", roles=[], subscribed=True, created_at=now)
        s.add(resident)
        s.flush()
        order = submit_order(s, hub_id=1, user=resident, service=ServiceInfo("haircut", "义务理发"), now=now,
                             data={"service": "haircut", "details": "理发", "time_kind": "asap",
                                   "address": "幸福小区1栋101", "phone": "13812345678"})
        return order.id, order.ref


def test_concurrent_accepts_have_exactly_one_winner(any_db_url: str, clock: FakeClock,
                                                   fake_wechat: FakeWeChatServer) -> None:
    svcs = [make_services(any_db_url, clock, fake_wechat) for _ in range(4)]  # four "web processes"
    order_id, ref = seed(svcs[0], clock.now())
    apps = [create_app(services=s) for s in svcs]
    acct = Account(token="testtoken", appid="wxtestappid0001")
    now = int(clock.now().timestamp())
    reqs = [acct.text(f"oVol{i:03d}", f"接单 {ref}", now=now) for i in range(N)]
    barrier = threading.Barrier(N)
    replies: list[str] = [""] * N

    def run(i: int) -> None:
        client = apps[i % len(apps)].test_client()
        barrier.wait()
        resp = client.post("/wechat", query_string=reqs[i].params, data=reqs[i].body)
        assert resp.status_code == 200
        reply = acct.read(resp.data)
        replies[i] = reply["Content"] if reply else ""

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in replies if "接单成功" in r]
    losers = [r for r in replies if "已被接走" in r]
    assert len(winners) == 1, replies
    assert len(losers) == N - 1, replies
    with svcs[0].sessions() as s:
        order = s.get(Order, order_id)
        assert order is not None and order.state == "accepted" and order.volunteer_id is not None
        accepts = s.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.trigger == "accept"))
        assert accepts == 1
    for s in svcs:
        s.close()
