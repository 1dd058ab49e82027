"""Access tokens from stable_token (normal mode, never forced), the classic call where the account lacks it, one
shared refresh under a lock: no 40001 storm when the token changes."""

from __future__ import annotations

import threading
from typing import Any

import requests

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.worker.sender import OutboxSender
from tests.bot.worker.test_outbox import add_user, queue, rows
from tests.conftest import make_services

CUSTOM = "/cgi-bin/message/custom/send"


def test_stable_token_in_normal_mode_only(services: Any, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    add_user(services, "oA", clock.now(), fake_wechat)
    queue(services, "oA", "一")
    OutboxSender(services).run_once()
    (call,) = fake_wechat.calls("/cgi-bin/stable_token")
    assert call["body"] == {"grant_type": "client_credential", "appid": "wxtestappid0001", "secret": "testsecret",
                            "force_refresh": False}  # forcing would end the token every other process holds
    assert fake_wechat.calls("/cgi-bin/token") == []


def test_an_account_without_stable_token_uses_the_classic_call(services: Any, fake_wechat: FakeWeChatServer,
                                                               clock: FakeClock) -> None:
    fake_wechat.rules.stable_token = False  # the endpoint answers 404
    add_user(services, "oB", clock.now(), fake_wechat)
    queue(services, "oB", "一")
    sender = OutboxSender(services)
    assert sender.run_once().sent == 1
    fake_wechat.expire_tokens()
    queue(services, "oB", "二")
    assert sender.run_once().sent == 1
    assert len(fake_wechat.calls("/cgi-bin/stable_token")) == 1  # asked once, then the client remembers
    assert len(fake_wechat.calls("/cgi-bin/token")) == 2


def test_a_classic_token_fetched_elsewhere_costs_one_refusal_then_one_refresh(
        db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    """With the classic call another host's fetch ends our token five minutes later; every process then meets
    40001 at most once, and only one fetches: the others find the new token in the shared store."""
    fake_wechat.rules.stable_token = False
    svcs = [make_services(db_url, clock, fake_wechat) for _ in range(6)]
    try:
        for i, svc in enumerate(svcs):
            add_user(svc, f"oC{i}", clock.now(), fake_wechat)
            queue(svc, f"oC{i}", "一")
        OutboxSender(svcs[0]).run_once()
        requests.get(fake_wechat.url + "/cgi-bin/token", timeout=5,  # someone else, with the same AppSecret
                     params={"grant_type": "client_credential", "appid": "wxtestappid0001", "secret": "testsecret"})
        clock.advance(minutes=5)
        barrier = threading.Barrier(len(svcs))

        def send(svc: Any, i: int) -> None:
            queue(svc, f"oC{i}", "二")
            barrier.wait()
            OutboxSender(svc, owner=f"w{i}").run_once()

        threads = [threading.Thread(target=send, args=(svc, i)) for i, svc in enumerate(svcs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused = [c for c in fake_wechat.calls(CUSTOM) if c["result"]["errcode"] == 40001]
        assert 1 <= len(refused) <= len(svcs)  # at most once each: in flight when it ended
        assert len(fake_wechat.calls("/cgi-bin/token")) == 3  # ours, theirs, and one refresh for all of us
        assert all(r.status == "sent" for r in rows(svcs[0]))
    finally:
        for svc in svcs:
            svc.close()
