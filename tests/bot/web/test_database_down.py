"""The database stops answering: /wechat and /wecom answer 503 (so the platform sends the message again), not 200
"系统有点忙" (which would drop it), keep nothing half-way, and handle the message once when it comes again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.app import create_app
from bot.channels.inbound import parse_xml
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.inbox.handler import BUSY_REPLY
from storage.models import ProcessedMessage
from tests.conftest import FIXTURES, make_services


@contextmanager
def database_down(services: Any) -> Iterator[None]:
    """Every new connection is refused, as by a server that is down (the pooled ones are dropped first)."""
    engine = services.engine
    dbapi = engine.dialect.dbapi

    def refuse(*_args: Any) -> Any:
        # the words SQLite uses for a database it cannot open; psycopg's refusals carry no SQLSTATE: both are
        # what storage.db.unavailable() calls "the database is unavailable"
        raise dbapi.OperationalError("unable to open database file: connection refused")

    engine.dispose()
    services.hubs.forget()  # the hub's cached row too: the first read of a request goes to the database
    event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)


def processed(services: Any) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)


@pytest.fixture
def on_any_db(any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[tuple[Any, Any]]:
    svc = make_services(any_db_url, clock, fake_wechat)
    yield svc, create_app(services=svc).test_client()
    svc.close()


def test_wechat_answers_503_while_the_database_is_down_and_the_retry_is_handled_once(
        on_any_db: tuple[Any, Any], account: Account, clock: FakeClock) -> None:
    services, client = on_any_db
    req = account.text("oLaoWang01", "明天上午帮我理个发 我在幸福小区3栋", now=int(clock.now().timestamp()))
    with database_down(services):
        resp = client.post("/wechat", query_string=req.params, data=req.body, content_type="text/xml")
        assert resp.status_code == 503 and resp.headers.get("Retry-After")
        assert BUSY_REPLY.encode() not in resp.data
    assert processed(services) == 0  # nothing kept: the retry starts from scratch
    for _ in range(2):  # WeChat's retry, then another: the same MsgId, acted on once
        resp = client.post("/wechat", query_string=req.params, data=req.body, content_type="text/xml")
        assert resp.status_code == 200
        reply = account.read(resp.data)
        assert reply is not None and "理发" in reply["Content"] and reply["Content"] != BUSY_REPLY
    assert processed(services) == 1


def test_url_verification_answers_503_too(client: Any, account: Account, clock: FakeClock, services: Any) -> None:
    req = account.sign("", now=int(clock.now().timestamp()))
    with database_down(services):
        resp = client.get("/wechat", query_string={**req.params, "echostr": "e1"})
    assert resp.status_code == 503
    assert client.get("/wechat", query_string={**req.params, "echostr": "e1"}).data == b"e1"


VECTOR = json.loads((FIXTURES / "official-vectors.json").read_text(encoding="utf-8"))["wecom_app"]


@pytest.fixture
def wsvc(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Any]:
    svc = make_services(db_url, clock, fake_wechat, wecom_corpid=VECTOR["corpid"], wecom_token=VECTOR["token"],
                        wecom_aes_key=VECTOR["encoding_aes_key"], wecom_agent_id="218", wecom_secret="s")
    yield svc
    svc.close()


def test_wecom_answers_503_while_the_database_is_down(wsvc: Any, clock: FakeClock) -> None:
    client = create_app(services=wsvc).test_client()
    m = VECTOR["message"]  # WeCom's own published sample message
    clock.set(datetime.fromtimestamp(int(m["timestamp"]), UTC))
    args = {k: m[k] for k in ("msg_signature", "timestamp", "nonce")}
    with database_down(wsvc):
        assert client.post("/wecom", query_string=args, data=m["body"].encode()).status_code == 503
    assert processed(wsvc) == 0
    resp = client.post("/wecom", query_string=args, data=m["body"].encode())
    assert resp.status_code == 200
    crypto = WeChatCrypto(VECTOR["token"], VECTOR["encoding_aes_key"], VECTOR["corpid"])
    outer = parse_xml(resp.data)
    reply = parse_xml(crypto.decrypt_message(resp.data, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]))
    assert reply["Content"] and reply["Content"] != BUSY_REPLY
    assert processed(wsvc) == 1
