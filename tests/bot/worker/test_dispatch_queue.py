"""Dispatch out of the passive reply (issue 19): the chat commits the order as submitted and answers at once; every
worker's dispatch loop (jobs.dispatch_waiting) claims waiting orders with FOR UPDATE SKIP LOCKED and dispatches each
in its own transaction. The loop is driven explicitly here: no test waits for a timer."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import STAFF_OPENID, seed_demo_hub
from bot.serviceloop import orders
from bot.services import Services
from bot.worker import jobs
from bot.worker.process import Worker
from storage.db import transaction
from storage.models import Order, OrderEvent, OrderOffer, OutboxMessage, User
from tests.conftest import make_services
from tests.dialog import Chat, verify_dialog

R = "oResident0001"
B1 = "oVolBarber01"
HAIRCUT = orders.ServiceInfo("haircut", "义务理发")


def _order(svc: Services) -> Order:
    with svc.sessions() as s:
        return s.execute(select(Order).order_by(Order.id.desc()).limit(1)).scalar_one()


def _texts_to(svc: Services, openid: str) -> list[str]:
    with svc.sessions() as s:
        return [str(r.payload.get("text", "")) for r in s.execute(
            select(OutboxMessage).where(OutboxMessage.to == openid).order_by(OutboxMessage.id)).scalars()]


def _dispatch_events(svc: Services) -> dict[int, int]:
    with svc.sessions() as s:
        return dict(s.execute(select(OrderEvent.order_id, func.count()).where(OrderEvent.trigger == "dispatch")
                              .group_by(OrderEvent.order_id)).all())


def test_the_reply_comes_before_the_dispatch_and_the_worker_dispatches_an_urgent_order(chat: Chat,
                                                                                        services: Services) -> None:
    chat.dispatching = False
    verify_dialog(chat, [(R, "尽快来给我理个发，地址幸福小区3栋2单元501，电话13812345678", "回复 1 确认")])
    (reply,) = verify_dialog(chat, [(R, "1", "已提交")])
    assert reply is not None and "正在为您联系志愿者" in reply
    order = _order(services)
    assert (order.state, order.dispatch_round, order.time_kind) == ("submitted", 0, "asap")
    assert _texts_to(services, B1) == []  # nobody offered it inside the reply
    assert chat.dispatch() == 1  # the worker's next pass, seconds later
    order = _order(services)
    assert (order.state, order.dispatch_round) == ("dispatched", 1)
    assert any("接单" in t for t in _texts_to(services, B1))
    assert chat.dispatch() == 0  # dispatched once
    assert _dispatch_events(services) == {order.id: 1}
    assert not any("暂时没有空闲" in t for t in _texts_to(services, R))


def test_nobody_free_the_resident_hears_it_from_the_worker_and_staff_are_asked(chat: Chat,
                                                                               services: Services) -> None:
    with transaction(services.sessions) as s:  # no barber is active
        for user in s.scalars(select(User).where(User.openid.like("oVolBarber%"))):
            user.subscribed = True
        from storage.models import Membership
        s.execute(Membership.__table__.update().values(status="suspended"))
    chat.dispatching = False
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "正在为您联系志愿者")])
    assert chat.dispatch() == 1
    order = _order(services)
    assert (order.state, order.dispatch_round) == ("dispatched", 1)
    assert any(f"订单{order.ref}暂时没有空闲的志愿者" in t for t in _texts_to(services, R))
    assert any("请人工派单" in t for t in _texts_to(services, STAFF_OPENID))
    chat.dispatch()
    assert sum("暂时没有空闲" in t for t in _texts_to(services, R)) == 1


def test_a_handed_back_order_is_offered_again_by_the_worker(chat: Chat, services: Services) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交")])
    oid, ref = _order(services).id, _order(services).ref
    verify_dialog(chat, [(B1, f"接单 {ref}", "接单成功")])
    chat.dispatching = False
    verify_dialog(chat, [(B1, f"退单 #{oid} 家里有事", "已退单")])
    order = _order(services)
    assert (order.state, order.volunteer_id) == ("submitted", None)
    assert chat.dispatch() == 1
    order = _order(services)
    assert (order.state, order.dispatch_round) == ("dispatched", 2)
    assert _dispatch_events(services) == {oid: 2}
    assert not any("暂时没有空闲" in t for t in _texts_to(services, R))  # only a new order's reply promised it


def _seeded(svc: Services, clock: FakeClock) -> None:
    with transaction(svc.sessions) as s:
        seed_demo_hub(s, clock.now())
    svc.hubs.forget()


def _submit(svc: Services, clock: FakeClock, n: int, **data: Any) -> list[int]:
    """`n` orders from `n` new residents, as the chat leaves them: submitted, not dispatched."""
    ids = []
    with transaction(svc.sessions) as s:
        known = s.scalar(select(func.count()).select_from(User)) or 0
        for i in range(known, known + n):
            user = User(hub_id=1, openid=f"oQueue{i:04d}", roles=[], subscribed=True, created_at=clock.now(),
                        last_inbound_at=clock.now())
            s.add(user)
            s.flush()
            order = orders.submit_order(s, hub_id=1, user=user, service=HAIRCUT, now=clock.now(), dispatch_now=False,
                                        data={"service": "haircut", "time_kind": "asap", "address": "幸福小区1栋",
                                              "phone": f"1380000{i:04d}", **data})
            ids.append(order.id)
    return ids


def test_an_order_whose_time_passed_is_left_to_the_sweep(services: Services, clock: FakeClock) -> None:
    _seeded(services, clock)
    start = clock.now() - timedelta(hours=2)
    (late,) = _submit(services, clock, 1, time_kind="point", start=start.isoformat(),
                      end=(start + timedelta(hours=1)).isoformat())
    (due,) = _submit(services, clock, 1)
    assert jobs.dispatch_waiting(services) == 1
    with services.sessions() as s:
        assert s.get(Order, late).state == "submitted" and s.get(Order, due).state == "dispatched"
    assert jobs.sweep_orders(services).expired == 1  # the sweep ends it, as before
    assert jobs.dispatch_waiting(services) == 0


def test_one_order_failing_leaves_the_others_dispatched_and_is_tried_again(services: Services, clock: FakeClock,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    _seeded(services, clock)
    bad, good = _submit(services, clock, 2)
    real = orders.dispatch

    def flaky(s: Any, order: Order, **kw: Any) -> int:
        if order.id == bad:
            raise RuntimeError("simulated failure")
        return real(s, order, **kw)

    monkeypatch.setattr(orders, "dispatch", flaky)
    assert jobs.dispatch_waiting(services) == 1
    assert any(f"dispatch of order {bad} failed" in r.getMessage() for r in caplog.records)
    with services.sessions() as s:
        assert s.get(Order, bad).state == "submitted" and s.get(Order, good).state == "dispatched"
        assert s.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == bad,
                                                                          OrderEvent.trigger == "dispatch")) == 0
    monkeypatch.undo()
    assert jobs.dispatch_waiting(services) == 1
    assert _dispatch_events(services) == {bad: 1, good: 1}


def test_a_run_takes_at_most_its_batch(services: Services, clock: FakeClock) -> None:
    _seeded(services, clock)
    _submit(services, clock, 5)
    assert jobs.dispatch_waiting(services, batch=2) == 2
    assert jobs.dispatch_waiting(services, batch=2) == 2
    assert jobs.dispatch_waiting(services, batch=2) == 1
    assert jobs.dispatch_waiting(services, batch=2) == 0


def test_two_workers_at_once_dispatch_every_order_exactly_once(any_db_url: str, clock: FakeClock,
                                                               fake_wechat: FakeWeChatServer) -> None:
    one = make_services(any_db_url, clock, fake_wechat)
    two = make_services(any_db_url, clock, fake_wechat)  # another worker process: its own engine and pool
    try:
        _seeded(one, clock)
        ids = _submit(one, clock, 12)
        barrier = threading.Barrier(2)
        done: dict[str, int] = {}
        errors: list[BaseException] = []

        def run(name: str, svc: Services) -> None:
            try:
                barrier.wait()
                done[name] = jobs.dispatch_waiting(svc, batch=50)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n, s)) for n, s in (("one", one), ("two", two))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert done["one"] + done["two"] == len(ids)
        assert _dispatch_events(one) == {oid: 1 for oid in ids}
        with one.sessions() as s:
            offers = s.execute(select(OrderOffer.order_id, func.count()).group_by(OrderOffer.order_id)).all()
        assert {oid: n for oid, n in offers} == {oid: 2 for oid in ids}  # both barbers, once each
    finally:
        one.close()
        two.close()


def test_a_claimed_order_is_skipped_not_waited_for_on_postgresql(any_db_url: str, clock: FakeClock,
                                                                fake_wechat: FakeWeChatServer) -> None:
    if not any_db_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time (BEGIN IMMEDIATE)")
    one = make_services(any_db_url, clock, fake_wechat)
    two = make_services(any_db_url, clock, fake_wechat)
    try:
        _seeded(one, clock)
        first, second = _submit(one, clock, 2)
        with one.sessions() as s1, s1.begin():
            held = orders.claim_waiting(s1, clock.now())
            assert held is not None and held.id == first  # locked until this transaction ends
            with two.sessions() as s2, s2.begin():
                other = orders.claim_waiting(s2, clock.now())  # at once: a locked row would time out this statement
                assert other is not None and other.id == second
                assert orders.claim_waiting(s2, clock.now(), skip=[second]) is None
    finally:
        one.close()
        two.close()


def test_every_worker_runs_the_outbox_and_dispatch_loops_only_the_leader_the_schedule(
        db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    a = make_services(db_url, clock, fake_wechat, dispatch_every_seconds=2.5)
    b = make_services(db_url, clock, fake_wechat, dispatch_every_seconds=2.5)
    w1, w2 = Worker(a, owner="w1"), Worker(b, owner="w2")
    try:
        w1.start()
        w2.start()
        assert w1.leading and not w2.leading and w2.scheduler is None
        assert w1.scheduler is not None and w1.scheduler.get_job("orders_sweep") is not None
        for w in (w1, w2):
            assert w.local is not None and w.local.running
            assert {j.id for j in w.local.get_jobs()} == {"outbox", "dispatch"}
            assert w.local.get_job("dispatch").trigger.interval == timedelta(seconds=2.5)
    finally:
        w1.stop()
        w2.stop()
        a.close()
        b.close()
    assert w1.local is None and w2.local is None
