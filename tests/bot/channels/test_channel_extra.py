"""More of the channel: the reply budget, per-hub credentials, and the fake server's HTTP control API."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import requests
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from storage.db import transaction
from storage.models import Hub, OutboxMessage, ProcessedMessage


def test_a_reply_slower_than_the_budget_goes_through_the_outbox(db_url: str, clock: FakeClock,
                                                                 fake_wechat: FakeWeChatServer,
                                                                 monkeypatch: Any) -> None:
    from tests.conftest import make_services

    svc = make_services(db_url, clock, fake_wechat, reply_budget_seconds=0.5)
    client = create_app(services=svc).test_client()
    import bot.inbox.handler

    calls: list[int] = []

    def slow_clock() -> float:  # the first reading starts the step; every later one is six seconds on
        calls.append(1)
        return 100.0 if len(calls) == 1 else 106.0

    monkeypatch.setattr(bot.inbox.handler, "time", SimpleNamespace(monotonic=slow_clock))
    acct = Account(token="testtoken", appid="wxtestappid0001")
    req = acct.text("oSlow", "菜单", now=int(clock.now().timestamp()))
    resp = client.post("/wechat", query_string=req.params, data=req.body)
    assert resp.status_code == 200 and resp.data == b"success"
    with svc.sessions() as s:
        (row,) = s.execute(select(OutboxMessage)).scalars()
        assert row.to == "oSlow" and "请回复数字" in row.payload["text"]
        assert s.execute(select(ProcessedMessage)).scalar_one().reply is not None
    svc.close()


def test_each_hub_verifies_with_its_own_token(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        s.add(Hub(slug="baolian", name="宝莲社区雷锋超市", wechat_appid="wxbaolian0000001",
                  wechat_token="baolian-token", settings={}, created_at=clock.now()))
    client = create_app(services=services).test_client()
    now = int(clock.now().timestamp())
    own = Account(token="baolian-token", appid="wxbaolian0000001")
    default = Account(token="testtoken", appid="wxtestappid0001")
    ok = own.text("oB1", "菜单", now=now)
    assert client.post("/wechat/baolian", query_string=ok.params, data=ok.body).status_code == 200
    wrong = default.text("oB2", "菜单", now=now)
    assert client.post("/wechat/baolian", query_string=wrong.params, data=wrong.body).status_code == 403
    again = own.text("oB3", "菜单", now=now)
    assert client.post("/wechat", query_string=again.params, data=again.body).status_code == 403
    reply = own.read(client.post("/wechat/baolian", query_string=ok.params, data=ok.body).data)
    assert reply is not None and "宝莲社区雷锋超市" in reply["Content"]
    with services.sessions() as s:
        hubs = {pm.hub_id for pm in s.execute(select(ProcessedMessage)).scalars()}
    assert hubs == {2}


def test_fake_server_http_control_api(fake_wechat: FakeWeChatServer) -> None:
    base = fake_wechat.url
    token = requests.get(base + "/cgi-bin/token", params={"appid": "a", "secret": "b"}, timeout=5).json()
    assert token["expires_in"] == 7200
    assert requests.post(base + "/__fail__", json={"path": "/cgi-bin/menu/create", "errcode": 45047},
                         timeout=5).ok
    first = requests.post(base + "/cgi-bin/menu/create", params={"access_token": token["access_token"]},
                          json={"button": []}, timeout=5).json()
    second = requests.post(base + "/cgi-bin/menu/create", params={"access_token": token["access_token"]},
                           json={"button": []}, timeout=5).json()
    assert first["errcode"] == 45047 and second["errcode"] == 0
    requests.post(base + "/__fail__", json={"path": "/cgi-bin/user/info", "http_status": 500}, timeout=5)
    assert requests.get(base + "/cgi-bin/user/info", timeout=5).status_code == 500
    requests.post(base + "/__expire_token__", timeout=5)
    expired = requests.post(base + "/cgi-bin/qrcode/create", params={"access_token": token["access_token"]},
                            json={}, timeout=5).json()
    assert expired["errcode"] == 40001
    sent = requests.get(base + "/__sent__", params={"path": "/cgi-bin/menu/create"}, timeout=5).json()
    assert [c["result"]["errcode"] for c in sent] == [45047, 0]
    requests.post(base + "/__reset__", timeout=5)
    assert requests.get(base + "/__sent__", timeout=5).json() == []
