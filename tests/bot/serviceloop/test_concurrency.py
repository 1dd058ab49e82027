"""Retries racing each other across "processes" (separate apps and engines) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from storage.models import AuditLog, Conversation, OutboxMessage, ProcessedMessage, User
from tests.conftest import make_services


def fire(apps: list[Any], reqs: list[Any], n_threads: int) -> list[Any]:
    barrier = threading.Barrier(n_threads)
    results: list[Any] = [None] * n_threads

    def run(i: int) -> None:
        client = apps[i % len(apps)].test_client()
        req = reqs[i % len(reqs)]
        barrier.wait()
        results[i] = client.post("/wechat", query_string=req.params, data=req.body)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_same_msgid_concurrently_from_threads_acts_once(any_db_url: str, clock: FakeClock,
                                                         fake_wechat: FakeWeChatServer) -> None:
    svcs = [make_services(any_db_url, clock, fake_wechat) for _ in range(3)]  # three "web processes"
    with svcs[0].sessions() as s, s.begin():
        s.add(User(hub_id=1, openid="oStaff", roles=["staff"], subscribed=True, created_at=clock.now()))
    apps = [create_app(services=s) for s in svcs]
    acct = Account(token="testtoken", appid="wxtestappid0001")
    req = acct.text("oRace", "人工", now=int(clock.now().timestamp()), msg_id="9001")
    results = fire(apps, [req], 12)
    assert all(r.status_code == 200 for r in results)
    replies = {acct.read(r.data)["Content"] for r in results}  # type: ignore[index]
    assert len(replies) == 1 and "转接" in replies.pop()
    with svcs[0].sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedMessage)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # staff notified once
        assert s.scalar(select(func.count()).select_from(User).where(User.openid == "oRace")) == 1
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
    for s in svcs:
        s.close()


def test_a_new_users_different_messages_at_once_all_act(any_db_url: str, clock: FakeClock,
                                                        fake_wechat: FakeWeChatServer) -> None:
    """Distinct messages from a brand-new user race to create the user row; none is lost."""
    svcs = [make_services(any_db_url, clock, fake_wechat) for _ in range(2)]
    apps = [create_app(services=s) for s in svcs]
    acct = Account(token="testtoken", appid="wxtestappid0001")
    now = int(clock.now().timestamp())
    reqs = [acct.event("oNew", "subscribe", now=now)] + [acct.text("oNew", f"菜单{i}", now=now, msg_id=f"70{i}")
                                                         for i in range(5)]
    results = fire(apps, reqs, 6)
    assert [r.status_code for r in results] == [200] * 6
    with svcs[0].sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedMessage)) == 6
        assert s.scalar(select(func.count()).select_from(User)) == 1
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 1
    for s in svcs:
        s.close()
