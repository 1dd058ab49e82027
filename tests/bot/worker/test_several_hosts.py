"""Several hosts (issue 19 item 4): two web hosts and two workers against one PostgreSQL and one Redis.

Each host is a Services of its own (its own engine and pool, as a process has); the subprocess test runs real
processes. One worker runs the schedule (the scheduler lock row, and each job's advisory lock); every worker sends
the outbox and dispatches orders, their claims disjoint by FOR UPDATE SKIP LOCKED; the access token is fetched once
and shared (Redis, or the database without it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.devtools.simulator import Account
from bot.services import Services
from bot.worker import jobs
from bot.worker.process import Worker
from bot.worker.schedlock import exclusive, job_lock_key
from storage.db import transaction
from storage.models import Order, OrderEvent, OutboxMessage
from tests.bot.worker.test_outbox import TOKEN
from tests.conftest import REDIS_URL, make_services
from tests.dialog import Chat, verify_dialog

ROOT = Path(__file__).resolve().parents[3]


def _postgres_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("several hosts share one PostgreSQL; SQLite is one host's database")


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order (an exception fails the test)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors
    return results


def test_a_job_lock_key_is_a_stable_signed_32_bit_number() -> None:
    keys = {name: job_lock_key(name) for name in ("job:orders_sweep", "job:reminders", "job:retention")}
    assert len(set(keys.values())) == 3
    assert all(-(1 << 31) <= k < (1 << 31) for k in keys.values())
    assert job_lock_key("job:orders_sweep") == keys["job:orders_sweep"]


def test_a_job_another_worker_is_running_is_skipped_not_run_twice(any_db_url: str, clock: FakeClock,
                                                                 fake_wechat: FakeWeChatServer,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The stalled leader still sweeping while the next one took over: the second sweep does not start."""
    _postgres_only(any_db_url)
    old, new = make_services(any_db_url, clock, fake_wechat), make_services(any_db_url, clock, fake_wechat)
    ran: list[str] = []
    monkeypatch.setattr(jobs, "sweep_orders", lambda svc: ran.append("sweep"))
    try:
        jobs.bind(new)
        with exclusive(old.engine, "job:orders_sweep") as mine:
            assert mine
            jobs.run_job("orders_sweep")
            assert ran == []
            with exclusive(new.engine, "job:reminders") as other:  # another job's lock is another lock
                assert other
        jobs.run_job("orders_sweep")  # released when the holder finished
        assert ran == ["sweep"]
    finally:
        jobs._BOUND.clear()
        old.close()
        new.close()


def test_two_web_hosts_and_two_workers_share_one_postgresql_and_redis(any_db_url: str, clock: FakeClock,
                                                                      fake_wechat: FakeWeChatServer,
                                                                      redis_prefix: str) -> None:
    _postgres_only(any_db_url)

    def host() -> Services:
        return make_services(any_db_url, clock, fake_wechat, redis_url=REDIS_URL, redis_key_prefix=redis_prefix)

    web_a, web_b, work_a, work_b = host(), host(), host(), host()
    w1, w2 = Worker(work_a, owner="worker-a"), Worker(work_b, owner="worker-b")
    try:
        with transaction(web_a.sessions) as s:
            seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
        account = Account(token=web_a.config.wechat_token, appid=web_a.config.wechat_appid,
                          aes_key=web_a.config.wechat_aes_key)
        chats = [Chat(create_app(services=svc).test_client(), account, clock, svc, fake_wechat)
                 for svc in (web_a, web_b)]
        for chat in chats:
            chat.dispatching = False  # the workers below dispatch
        # residents order through either web host; the order is only submitted when the reply goes out
        for n, chat in enumerate(chats * 2):
            verify_dialog(chat, [(f"oHostResident{n}", "明天下午理发 幸福小区1栋1号 13812345678", "请核对"),
                                 (f"oHostResident{n}", "1", "已提交")])
        with web_a.sessions() as s:
            ids = list(s.scalars(select(Order.id).where(Order.state == "submitted")))
        assert len(ids) == 4

        # one scheduler acts
        assert w1.tick() is True and w2.tick() is False
        assert w1.scheduler is not None and w1.scheduler.get_job("orders_sweep") is not None
        assert w2.scheduler is None

        # both workers dispatch at once: every order once
        done = at_once(lambda: jobs.dispatch_waiting(work_a), lambda: jobs.dispatch_waiting(work_b))
        assert sum(done) == 4
        with web_a.sessions() as s:
            events = dict(s.execute(select(OrderEvent.order_id, func.count()).where(OrderEvent.trigger == "dispatch")
                                    .group_by(OrderEvent.order_id)).all())
        assert events == {oid: 1 for oid in ids}

        # a row one worker holds is skipped by the other's claim, not waited for
        fake_wechat.adopt_users(web_a.sessions)
        with web_a.sessions() as s, s.begin():
            held = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending")
                                  .order_by(OutboxMessage.priority.desc(), OutboxMessage.id).limit(2)
                                  .with_for_update()))
            assert len(held) == 2
            claimed = w2.sender.claim()
            assert claimed and not set(claimed) & set(held)
        with transaction(web_a.sessions) as s:  # give those back, as an expired lease would
            for row in s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))):
                row.status, row.lease_owner, row.lease_until, row.attempts = "pending", None, None, 0

        # both workers send at once: each row claimed once, one access token fetched and used by both
        at_once(w1.sender.drain, w2.sender.drain)
        with web_a.sessions() as s:
            rows = list(s.scalars(select(OutboxMessage)))
        assert rows and {r.status for r in rows} <= {"sent", "undelivered", "skipped"}
        assert {r.attempts for r in rows} == {1}
        assert {r.lease_owner for r in rows} == {None}  # finished rows keep no lease
        assert len(fake_wechat.calls(TOKEN)) == 1
        used = {c["params"].get("access_token") for c in fake_wechat.calls() if c["path"] != TOKEN}
        assert len(used) == 1 and None not in used

        # a volunteer takes an order through the other web host
        with web_b.sessions() as s:
            ref = s.scalar(select(Order.ref).where(Order.id == ids[0]))
        verify_dialog(chats[1], [("oVolBarber01", f"接单 {ref}", "接单成功")])
    finally:
        w1.stop()
        w2.stop()
        for svc in (web_a, web_b, work_a, work_b):
            svc.close()


TOKEN_SCRIPT = """
import json, sys
from bot.config import load_config
from bot.services import build_services
svc = build_services(load_config(), worker=True)
print(json.dumps({"token": svc.client_for(svc.hubs.by_slug(None)).access_token}))
svc.close()
"""


@pytest.mark.parametrize("store", ["redis", "database"])
def test_two_processes_use_one_access_token(any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                            redis_prefix: str, store: str) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, clock.now())
    finally:
        svc.close()
    env = {**os.environ, "LEIFENG_ENV": "development", "LEIFENG_DATABASE_URL": any_db_url,
           "LEIFENG_WECHAT_API_BASE_URL": fake_wechat.url, "LEIFENG_WECHAT_APPID": "wxtestappid0001",
           "LEIFENG_WECHAT_SECRET": "testsecret", "LEIFENG_WECHAT_TOKEN": "testtoken",
           "LEIFENG_SEMANTIC_MATCHER": "false", "LEIFENG_REDIS_URL": REDIS_URL if store == "redis" else "",
           "LEIFENG_REDIS_KEY_PREFIX": redis_prefix}
    procs = [subprocess.Popen([sys.executable, "-c", TOKEN_SCRIPT], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _out, err in outs]
    tokens = {json.loads(out.strip().splitlines()[-1])["token"] for out, _err in outs}
    assert len(tokens) == 1
    assert len(fake_wechat.calls(TOKEN)) == 1  # fetched by one process, read by the other
