"""Unsigned floods (bot/web/badsig.py): an address that keeps failing the signature check on /wechat (per hub) or
/wecom is answered 429 without any signature work for a cool-down; everyone else, WeChat's signed messages
included, is answered as usual; the memory it takes is bounded however many addresses send."""

from __future__ import annotations

from typing import Any

import pytest

import bot.web.webhook
import bot.web.wecom
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.web import badsig
from bot.web.badsig import FailureLimiter, FailureRule
from storage.db import transaction
from storage.models import Hub
from tests.bot.web.test_wecom import VECTOR, wecom_settings
from tests.conftest import make_services

FLOODER, WECHAT = "203.0.113.7", "101.226.103.5"


class Spy:
    """Counts the calls of a module's signature checker (and still runs it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.calls = 0
        real = getattr(module, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)


@pytest.fixture
def svc(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Any:
    services = make_services(db_url, clock, fake_wechat, signature_failures=20, signature_failure_addresses=50,
                             **wecom_settings())
    yield services
    services.close()


@pytest.fixture
def app(svc: Any) -> Any:
    return create_app(services=svc)


def _forged(clock: FakeClock, n: int) -> dict[str, str]:
    """A fresh timestamp and a signature that is not ours: the check runs, and fails."""
    return {"timestamp": str(int(clock.now().timestamp())), "nonce": f"n{n}", "signature": "0" * 40}


def _signed(svc: Any, clock: FakeClock, text: str) -> Any:
    account = Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid)
    return account, account.text("oResident0001", text, now=int(clock.now().timestamp()))


def test_a_flood_is_cut_off_before_the_check_and_signed_messages_from_elsewhere_are_answered(
        app: Any, svc: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, bot.web.webhook, "check_signature")
    client = app.test_client()
    statuses = []
    for n in range(200):
        resp = client.post("/wechat", query_string=_forged(clock, n), data=b"<xml/>",
                           environ_base={"REMOTE_ADDR": FLOODER})
        statuses.append(resp.status_code)
        if n == 100:  # in the middle of the flood, WeChat's server delivers a resident's message
            account, req = _signed(svc, clock, "你好")
            ok = client.post("/wechat", query_string=req.params, data=req.body, environ_base={"REMOTE_ADDR": WECHAT})
            assert ok.status_code == 200 and account.read(ok.data) is not None
    assert statuses[:20] == [403] * 20 and statuses[20:] == [429] * 180
    assert spy.calls == 20 + 1  # the flooder's 20 failures and WeChat's message: nothing for the 180 refused
    refused = client.post("/wechat", query_string=_forged(clock, 0), environ_base={"REMOTE_ADDR": FLOODER})
    assert refused.headers["Retry-After"] == "60"
    # the decision (bot/web/badsig.py): during its cool-down even a valid signature from that address waits
    _account, req = _signed(svc, clock, "你好")
    assert client.post("/wechat", query_string=req.params, data=req.body,
                       environ_base={"REMOTE_ADDR": FLOODER}).status_code == 429


def test_url_verification_and_another_hub_count_apart(app: Any, svc: Any, clock: FakeClock) -> None:
    with transaction(svc.sessions) as s:
        s.add(Hub(slug="second", name="二站", settings={}, created_at=clock.now()))
    svc.hubs.forget()
    client = app.test_client()
    for n in range(20):
        assert client.get("/wechat", query_string=_forged(clock, n),
                          environ_base={"REMOTE_ADDR": FLOODER}).status_code == 403
    assert client.get("/wechat", query_string=_forged(clock, 99), environ_base={"REMOTE_ADDR": FLOODER}
                      ).status_code == 429
    # the same address on another hub's URL (/wechat/<slug>) has a count of its own
    assert client.get("/wechat/second", query_string=_forged(clock, 1),
                      environ_base={"REMOTE_ADDR": FLOODER}).status_code == 403


def test_a_valid_signature_wipes_the_failures_of_its_address(app: Any, svc: Any, clock: FakeClock) -> None:
    client = app.test_client()
    for round_ in range(3):  # 19 failures, then a good message: never 20 in a row
        for n in range(19):
            assert client.post("/wechat", query_string=_forged(clock, n), environ_base={"REMOTE_ADDR": WECHAT}
                               ).status_code == 403
        _account, req = _signed(svc, clock, f"你好{round_}")
        assert client.post("/wechat", query_string=req.params, data=req.body,
                           environ_base={"REMOTE_ADDR": WECHAT}).status_code == 200


def test_behind_a_trusted_proxy_the_real_client_address_counts(db_url: str, clock: FakeClock,
                                                               fake_wechat: FakeWeChatServer) -> None:
    services = make_services(db_url, clock, fake_wechat, trusted_proxies=1)
    try:
        client = create_app(services=services).test_client()
        proxy = {"REMOTE_ADDR": "10.0.0.2"}
        for n in range(25):
            client.post("/wechat", query_string=_forged(clock, n), environ_base=proxy,
                        headers={"X-Forwarded-For": FLOODER})
        assert client.post("/wechat", query_string=_forged(clock, 0), environ_base=proxy,
                           headers={"X-Forwarded-For": FLOODER}).status_code == 429
        _account, req = _signed(services, clock, "你好")
        assert client.post("/wechat", query_string=req.params, data=req.body, environ_base=proxy,
                           headers={"X-Forwarded-For": WECHAT}).status_code == 200
    finally:
        services.close()


def test_a_wecom_flood_is_cut_off_before_the_check(app: Any, clock: FakeClock,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, bot.web.wecom, "check_msg_signature")
    client = app.test_client()
    body = f"<xml><ToUserName>{VECTOR['corpid']}</ToUserName><Encrypt>bm90IG91cnM=</Encrypt></xml>".encode()
    statuses = [client.post("/wecom", query_string={"timestamp": str(int(clock.now().timestamp())), "nonce": "1",
                                                    "msg_signature": "0" * 40},
                            data=body, environ_base={"REMOTE_ADDR": FLOODER}).status_code for _ in range(60)]
    assert statuses[:20] == [403] * 20 and set(statuses[20:]) == {429}
    assert spy.calls == 20
    # the official-account endpoint is another door: the same address is not refused there for /wecom's failures
    assert app.test_client().post("/wechat", query_string=_forged(clock, 0),
                                  environ_base={"REMOTE_ADDR": FLOODER}).status_code == 403


def test_memory_is_bounded_however_many_addresses_send(app: Any, svc: Any, clock: FakeClock) -> None:
    client = app.test_client()
    for n in range(300):
        address = f"198.51.{n // 250}.{n % 250}"
        client.post("/wechat", query_string=_forged(clock, n), environ_base={"REMOTE_ADDR": address})
    with app.app_context():
        assert len(badsig.limiter(svc.config)) == 50  # signature_failure_addresses


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cool_down_ends_and_the_count_starts_again() -> None:
    ticks = Ticks()
    limiter = FailureLimiter(FailureRule(failures=3, window_seconds=10, cooldown_seconds=30, addresses=2), ticks)
    for _ in range(3):
        assert not limiter.cooling_down("a")
        limiter.failed("a")
    assert limiter.cooling_down("a")
    ticks.now += 29
    assert limiter.cooling_down("a")
    ticks.now += 2
    assert not limiter.cooling_down("a")
    limiter.failed("a")
    limiter.failed("a")
    assert not limiter.cooling_down("a")  # a new count after the cool-down
    ticks.now += 11
    limiter.failed("a")  # the window passed: these two old failures no longer count
    assert not limiter.cooling_down("a")
    for key in ("b", "c", "d"):
        limiter.failed(key)
    assert len(limiter) == 2 and not limiter.cooling_down("a")  # the least recently seen were forgotten
