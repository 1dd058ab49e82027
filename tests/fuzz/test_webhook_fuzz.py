"""Fuzz the webhooks, /wechat in plaintext and in safe (AES) mode and /wecom: random messages signed the way WeChat
signs them (bot/devtools/simulator.py; Tencent's published vectors for the keys), and requests that are not signed,
signed wrongly, too old, or whose ciphertext was tampered with, carrying any body (deep XML, entities, binary).

Properties: never a 500; a request that is not signed is refused (403) before any XML parser reads its body, and
leaves nothing behind; a signed message is answered (200, or 400 for a body WeChat would never send), with a reply
addressed back to its sender, within WeChat's 2048 bytes, never a traceback and never logged as a crash.

Brief in the normal suite; longer: LEIFENG_FUZZ_EXAMPLES=5000 python -m pytest -q -p no:cacheprovider tests/fuzz
(tests/fuzz/budget.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

import bot.channels.inbound
import bot.web.webhook
import bot.web.wecom
from bot.app import create_app
from bot.channels.inbound import parse_xml
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account, message_xml, signature
from bot.inbox.handler import BUSY_REPLY
from storage.models import ProcessedMessage
from tests.conftest import FIXTURES, make_services
from tests.fuzz.budget import fuzz
from tests.fuzz.strategies import said

VECTORS = json.loads((FIXTURES / "official-vectors.json").read_text(encoding="utf-8"))
OA = VECTORS["official_account_compat_mode"]  # Tencent's published token / EncodingAESKey / AppID
WECOM = VECTORS["wecom_app"]
REPLY_MOST_BYTES = 2048
LEAKS = ("Traceback", "File \"", "Error", "Exception")


class Parsed:
    """Counts the XML parser's runs on the webhook's side (the modules' own names, so nothing else is counted)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = bot.channels.inbound.parse_xml

        def counting(body: Any) -> Any:
            self.calls += 1
            return real(body)

        monkeypatch.setattr(bot.web.webhook, "parse_xml", counting)
        monkeypatch.setattr(bot.web.wecom, "parse_xml", counting)


@pytest.fixture(params=["plaintext", "aes"])
def hub(request: pytest.FixtureRequest, db_url: str, clock: FakeClock,
        fake_wechat: FakeWeChatServer) -> Iterator[tuple[Any, Any, Account]]:
    aes = request.param == "aes"
    settings = {"wechat_token": OA["token"], "wechat_appid": OA["appid"], "wechat_aes_key": OA["encoding_aes_key"]} \
        if aes else {}
    # every forgery must reach the checks: the flood limit (bot/web/badsig.py) has its own tests
    svc = make_services(db_url, clock, fake_wechat, signature_failures=10**9, **settings)
    account = Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid, aes_key=svc.config.wechat_aes_key)
    yield svc, create_app(services=svc).test_client(), account
    svc.close()


def processed(svc: Any) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)


def crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


EVENT_KEYS = st.one_of(st.none(), st.sampled_from(["MENU_ORDER", "qrscene_volunteer_register", "event_1",
                                                  "http://x.cn/" + "a" * 300]), said())
EVENTS = st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION", "TEMPLATESENDJOBFINISH",
                          "enter_agent", "bogus"])
MESSAGES = st.one_of(
    said().map(lambda t: {"msg_type": "text", "Content": t}),
    said().map(lambda t: {"msg_type": "voice", "MediaId": "m1", "Format": "amr", "Recognition": t}),
    st.builds(lambda e, key: {"msg_type": "event", "Event": e, "EventKey": key}, EVENTS, EVENT_KEYS),
    st.builds(lambda x, y, label: {"msg_type": "location", "Location_X": x, "Location_Y": y, "Scale": "15",
                                   "Label": label},
              st.floats(-90, 90).map(str), st.sampled_from(["114.06", "abc", "1e400", ""]), said()),
    st.sampled_from(["image", "link", "video", "shortvideo", "file", "miniprogrampage", "nonsense"]).map(
        lambda t: {"msg_type": t, "MediaId": "m1", "PicUrl": "http://mmbiz.qpic.cn/x", "Title": "t", "Url": "http://x"}),
)


@fuzz(quick=40)
@example(message={"msg_type": "text", "Content": "接单 " + "9" * 5000}, who="oLaoWang01")  # int()'s 4300 digits
@given(message=MESSAGES, who=st.sampled_from(["oLaoWang01", "oZhangAyi02", "o" + "x" * 27]))
def test_a_signed_message_is_answered_never_500(hub: tuple[Any, Any, Account], clock: FakeClock,
                                                  caplog: pytest.LogCaptureFixture, message: dict[str, Any],
                                                  who: str) -> None:
    svc, client, account = hub
    caplog.clear()
    fields = dict(message)
    msg_type = fields.pop("msg_type")
    now = int(clock.now().timestamp())
    msg_id = None if msg_type == "event" else account.next_msg_id()
    xml = message_xml(to=account.original_id, sender=who, create_time=now, msg_type=msg_type, MsgId=msg_id, **fields)
    req = account.sign(xml, now=now, openid=who)
    with caplog.at_level(logging.ERROR):
        resp = client.post("/wechat", query_string=req.params, data=req.body, content_type="text/xml")
    assert resp.status_code in (200, 400), (resp.status_code, message)
    assert not crashes(caplog), crashes(caplog)
    if resp.status_code != 200:
        return
    reply = account.read(resp.data)
    if reply is None:
        return
    assert reply["ToUserName"] == who and reply["FromUserName"] == account.original_id
    content = str(reply.get("Content", ""))
    assert content and content != BUSY_REPLY, message
    assert len(content.encode("utf-8")) <= REPLY_MOST_BYTES
    assert not any(leak in content for leak in LEAKS), content
    clock.advance(seconds=1)


def _deep(n: int) -> bytes:
    return b"<xml>" + b"<a>" * n + b"x" + b"</a>" * n + b"</xml>"


BODIES = st.one_of(
    st.binary(max_size=300),
    st.integers(min_value=50, max_value=10_000).map(_deep),  # deep XML: a RecursionError if parsed unsigned
    st.just(_deep(12_000)),  # ... and over the body limit (64 KiB)
    st.just(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml>&b;</xml>'),
    said().map(lambda t: message_xml(to="gh_x", sender="oForger", create_time=1, msg_type="text", Content=t,
                                     MsgId="1").encode("utf-8")),
    st.builds(lambda e: f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{e}]]></Encrypt></xml>".encode(),
              st.one_of(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200),
                        st.just(OA["body"]))),
    st.just(OA["body"].encode("utf-8") if isinstance(OA["body"], str) else b""),
)


# How a request fails to prove it knows the token: a missing, random or zero signature, or the right one for a
# timestamp outside the replay window; with a msg_signature that is not over this body, or none.
FORGERIES = st.fixed_dictionaries({
    "timestamp": st.sampled_from(["now", "", "abc", "9" * 30, "-1", "an hour ago", "in an hour"]),
    "nonce": st.sampled_from(["", "1", "n" * 100, "签名"]),
    "signature": st.one_of(st.sampled_from(["right", "missing", "0" * 40]), st.text(max_size=50)),
    "msg_signature": st.one_of(st.none(), st.just(OA["msg_signature"]), st.text(max_size=50)),
})


def forged_params(forgery: dict[str, Any], token: str, now: int) -> dict[str, str]:
    ts = {"now": str(now), "an hour ago": str(now - 3600), "in an hour": str(now + 3600)}.get(
        forgery["timestamp"], forgery["timestamp"])
    params = {"timestamp": ts, "nonce": forgery["nonce"]}
    if forgery["signature"] == "right":  # right, but only for a timestamp outside the window
        params["signature"] = signature(token, ts, forgery["nonce"]) if ts != str(now) else "0" * 40
    elif forgery["signature"] != "missing":
        params["signature"] = forgery["signature"]
    if forgery["msg_signature"] is not None:
        params.update(msg_signature=forgery["msg_signature"], encrypt_type="aes")
    return params


@fuzz(quick=40)
@example(forgery={"timestamp": "now", "nonce": "1", "signature": "missing", "msg_signature": "0" * 40},
         body=b"<xml><Encrypt>" + _deep(5000) + b"</Encrypt></xml>")  # the review's 500s: deep XML, unsigned
@given(forgery=FORGERIES, body=BODIES)
def test_an_unsigned_request_is_refused_before_parsing(hub: tuple[Any, Any, Account], clock: FakeClock,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture, forgery: dict[str, Any],
                                                       body: bytes) -> None:
    svc, client, account = hub
    parsed = Parsed(monkeypatch)
    params = forged_params(forgery, account.token, int(clock.now().timestamp()))
    if not account.aes_key and "signature" not in params:
        params["signature"] = "f" * 40
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        resp = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
    assert resp.status_code == 403, (resp.status_code, params, body[:80])
    assert parsed.calls == 0, "the body was parsed before the signature was checked"
    assert not crashes(caplog)
    assert processed(svc) == 0


@fuzz(quick=20)
@given(flip=st.integers(min_value=0, max_value=len(OA["body"]) - 1), byte=st.integers(1, 255))
def test_a_tampered_official_ciphertext_is_refused(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                                   caplog: pytest.LogCaptureFixture, flip: int, byte: int) -> None:
    """Tencent's own safe-mode sample, one byte changed: refused (403 for the signature, 400 for a body that no
    longer reads), never a 500; unchanged, it is a message the webhook answers."""
    svc = make_services(db_url, clock, fake_wechat, wechat_token=OA["token"], wechat_appid=OA["appid"],
                        wechat_aes_key=OA["encoding_aes_key"])
    try:
        clock.set(datetime.fromtimestamp(int(OA["timestamp"]), UTC))
        client = create_app(services=svc).test_client()
        args = {"timestamp": OA["timestamp"], "nonce": OA["nonce"], "msg_signature": OA["msg_signature"],
                "encrypt_type": "aes"}
        raw = bytearray(OA["body"].encode("utf-8"))
        raw[flip] = (raw[flip] + byte) % 256
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            resp = client.post("/wechat", query_string=args, data=bytes(raw), content_type="text/xml")
        assert resp.status_code in (200, 400, 403)
        assert not crashes(caplog)
        if resp.status_code == 200:  # the byte changed was outside the signed ciphertext (the wrapper's text)
            assert processed(svc) <= 1
    finally:
        svc.close()


# -- /wecom ------------------------------------------------------------------------------------------------------


@pytest.fixture
def wecom(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[tuple[Any, Any]]:
    svc = make_services(db_url, clock, fake_wechat, wecom_corpid=WECOM["corpid"], wecom_token=WECOM["token"],
                        wecom_aes_key=WECOM["encoding_aes_key"], wecom_agent_id="218", wecom_secret="s",
                        signature_failures=10**9)  # as above: every forgery reaches the checks
    yield svc, create_app(services=svc).test_client()
    svc.close()


@fuzz(quick=25)
@given(text=said(), n=st.integers(min_value=1, max_value=10**6))
def test_a_signed_wecom_message_is_answered_never_500(wecom: tuple[Any, Any], clock: FakeClock,
                                                      caplog: pytest.LogCaptureFixture, text: str, n: int) -> None:
    svc, client = wecom
    crypto = WeComCrypto(WECOM["token"], WECOM["encoding_aes_key"], WECOM["corpid"])
    ts = str(int(clock.now().timestamp()))
    xml = message_xml(to=WECOM["corpid"], sender="zhangsan", create_time=int(ts), msg_type="text", Content=text,
                      MsgId=str(n), AgentID="218")
    enc = parse_xml(crypto.encrypt_message(xml, f"n{n}", ts))
    body = f"<xml><ToUserName><![CDATA[{WECOM['corpid']}]]></ToUserName><Encrypt><![CDATA[{enc['Encrypt']}]]>" \
           f"</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        resp = client.post("/wecom", query_string={"msg_signature": enc["MsgSignature"], "timestamp": ts,
                                                   "nonce": f"n{n}"}, data=body.encode())
    assert resp.status_code in (200, 400)
    assert not crashes(caplog), crashes(caplog)
    if resp.status_code == 200 and resp.data:
        outer = parse_xml(resp.data)
        reply = parse_xml(crypto.decrypt_message(resp.data, outer["MsgSignature"], outer["TimeStamp"],
                                                 outer["Nonce"]))
        content = str(reply.get("Content", ""))
        assert reply["ToUserName"] == "zhangsan" and content != BUSY_REPLY
        assert len(content.encode("utf-8")) <= REPLY_MOST_BYTES
        assert not any(leak in content for leak in LEAKS), content


@fuzz(quick=30)
@given(forgery=FORGERIES, body=BODIES)
def test_an_unsigned_wecom_request_is_refused_before_parsing(wecom: tuple[Any, Any], clock: FakeClock,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture,
                                                             forgery: dict[str, Any], body: bytes) -> None:
    svc, client = wecom
    parsed = Parsed(monkeypatch)
    params = forged_params(forgery, WECOM["token"], int(clock.now().timestamp()))
    params.pop("signature", None)  # WeCom signs only with msg_signature
    params.pop("encrypt_type", None)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        resp = client.post("/wecom", query_string=params, data=body)
    # 400: no <Encrypt> at all; 413: over the size limit (WeCom's signature is over the body, read first)
    assert resp.status_code in (400, 403, 413), (resp.status_code, params, body[:80])
    assert parsed.calls == 0, "the body was parsed before the signature was checked"
    assert not crashes(caplog)
    assert processed(svc) == 0
