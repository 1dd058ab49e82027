"""The web edges refuse what WeChat never sends before it costs anything: the signature first, then the size,
then a bounded parse (depth and element count); numbers in URLs that fit no id; never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

import bot.channels.inbound as inbound
from bot.channels.inbound import parse_xml
from bot.clock import FakeClock
from bot.devtools.simulator import Account, message_xml
from bot.errors import BadMessageError
from storage.models import ProcessedMessage, User
from tests.conftest import FIXTURES, make_services, untested_client

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECOM = json.loads((FIXTURES / "official-vectors.json").read_text(encoding="utf-8"))["wecom_app"]
DEEP = b"<xml>" + b"<a>" * 3000 + b"x" + b"</a>" * 3000 + b"</xml>"  # 21 KB: under the size limit
WIDE = (b"<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>" + b"<e/>" * 5000 + b"</xml>")


def ts(clock: FakeClock) -> str:
    return str(int(clock.now().timestamp()))


def stored(svc: Any) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ProcessedMessage)) or 0) + int(
            s.scalar(select(func.count()).select_from(User)) or 0)


@pytest.fixture
def plain_client(services: Any) -> Any:
    return untested_client(services)


@pytest.fixture
def safe_svc(db_url: str, clock: FakeClock, fake_wechat: Any) -> Any:
    svc = make_services(db_url, clock, fake_wechat, wechat_aes_key=AES_KEY)
    yield svc
    svc.close()


@pytest.fixture
def safe_client(safe_svc: Any) -> Any:
    return untested_client(safe_svc)


@pytest.fixture
def wecom_svc(db_url: str, clock: FakeClock, fake_wechat: Any) -> Any:
    svc = make_services(db_url, clock, fake_wechat, wecom_corpid=WECOM["corpid"], wecom_token=WECOM["token"],
                        wecom_aes_key=WECOM["encoding_aes_key"], wecom_agent_id="218", wecom_secret="s")
    yield svc
    svc.close()


@pytest.fixture
def wecom_client(wecom_svc: Any) -> Any:
    return untested_client(wecom_svc)


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any XML parse from here on fails the test: the request must be refused before one."""
    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the body was parsed before its signature was checked")
    for name in ("fromstring", "DefusedXMLParser"):  # the edge's parser, whichever it builds on
        monkeypatch.setattr(inbound, name, refuse, raising=False)


# -- the parser's bounds --------------------------------------------------------------------------


def test_the_parser_refuses_deep_and_wide_documents_and_keeps_wechats_own() -> None:
    from bot.channels.inbound import MAX_DEPTH, MAX_ELEMENTS

    for body in (DEEP, WIDE):
        with pytest.raises(BadMessageError):
            parse_xml(body)
    just_deep = b"<xml>" + b"<a>" * (MAX_DEPTH - 1) + b"</a>" * (MAX_DEPTH - 1) + b"</xml>"
    assert "a" in parse_xml(just_deep)
    with pytest.raises(BadMessageError):
        parse_xml(b"<xml>" + b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH + b"</xml>")
    assert len(parse_xml(b"<xml>" + b"".join(b"<e%d/>" % i for i in range(MAX_ELEMENTS - 1)) + b"</xml>")) == \
        MAX_ELEMENTS - 1
    # WeChat's deepest real event (a photo sent from the menu: SendPicsInfo > PicList > item > PicMd5Sum)
    pics = parse_xml(message_xml(to="gh", sender="oU", create_time=1, msg_type="event", Event="pic_sysphoto",
                                 EventKey="K").replace("</xml>", "<SendPicsInfo><Count>1</Count><PicList><item>"
                                                                 "<PicMd5Sum>abc</PicMd5Sum></item></PicList>"
                                                                 "</SendPicsInfo></xml>"))
    assert pics["SendPicsInfo"]["PicList"]["item"]["PicMd5Sum"] == "abc"


# -- /wechat in plaintext mode --------------------------------------------------------------------


@pytest.mark.parametrize("body", [DEEP, WIDE])
def test_a_signed_deep_or_wide_body_is_a_400(plain_client: Any, services: Any, account: Account, clock: FakeClock,
                                            body: bytes) -> None:
    req = account.sign("", now=int(ts(clock)))
    assert plain_client.post("/wechat", query_string=req.params, data=body).status_code == 400
    assert stored(services) == 0


def test_an_unsigned_deep_body_is_a_403_without_parsing(plain_client: Any, clock: FakeClock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    no_parsing(monkeypatch)
    params = {"timestamp": ts(clock), "nonce": "1", "signature": "0" * 40}
    assert plain_client.post("/wechat", query_string=params, data=DEEP).status_code == 403
    assert plain_client.post("/wechat", query_string={"timestamp": ts(clock), "nonce": "1"}, data=DEEP
                             ).status_code == 403


# -- /wechat in safe mode -------------------------------------------------------------------------


def _outer(encrypt: str) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            ).encode()


def test_safe_mode_unsigned_deep_body_is_a_403_without_parsing(safe_client: Any, safe_svc: Any, clock: FakeClock,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Only msg_signature in the URL (no `signature`): the outer body used to be parsed before it was checked."""
    no_parsing(monkeypatch)
    base = {"timestamp": ts(clock), "nonce": "1", "encrypt_type": "aes"}
    assert safe_client.post("/wechat", query_string=base, data=DEEP).status_code == 403
    assert safe_client.post("/wechat", query_string={**base, "msg_signature": "0" * 40}, data=DEEP).status_code == 403
    # an <Encrypt> wrapped in deep nesting, with a wrong msg_signature
    wrapped = b"<xml>" + b"<a>" * 3000 + b"<Encrypt>QUJD</Encrypt>" + b"</a>" * 3000 + b"</xml>"
    assert safe_client.post("/wechat", query_string={**base, "msg_signature": "0" * 40}, data=wrapped
                            ).status_code == 403
    assert stored(safe_svc) == 0


@pytest.mark.parametrize("msg_signature", ["签名" * 20, "\u00e9" * 40, "", "0" * 4000])
def test_a_msg_signature_of_any_shape_is_a_403(safe_client: Any, wecom_client: Any, clock: FakeClock,
                                              msg_signature: str) -> None:
    params = {"timestamp": ts(clock), "nonce": "1", "encrypt_type": "aes", "msg_signature": msg_signature}
    assert safe_client.post("/wechat", query_string=params, data=_outer("QUJD")).status_code == 403
    assert wecom_client.post("/wecom", query_string=params, data=_outer("QUJD")).status_code == 403


def test_safe_mode_signed_deep_plaintext_is_a_400(safe_client: Any, safe_svc: Any, clock: FakeClock) -> None:
    crypto = WeChatCrypto("testtoken", AES_KEY, "wxtestappid0001")
    fields = parse_xml(crypto.encrypt_message(DEEP.decode(), "12345", ts(clock)))
    params = {"timestamp": ts(clock), "nonce": "12345", "encrypt_type": "aes", "msg_signature": fields["MsgSignature"]}
    assert safe_client.post("/wechat", query_string=params, data=_outer(fields["Encrypt"])).status_code == 400
    assert stored(safe_svc) == 0


def test_safe_mode_still_answers_a_real_message(safe_client: Any, clock: FakeClock) -> None:
    acct = Account(token="testtoken", appid="wxtestappid0001", aes_key=AES_KEY)
    req = acct.text("oUser9", "菜单", now=int(ts(clock)))
    resp = safe_client.post("/wechat", query_string=req.params, data=req.body)
    reply = acct.read(resp.data)
    assert resp.status_code == 200 and reply is not None and "欢迎" in reply["Content"]


# -- /wecom ---------------------------------------------------------------------------------------


def _wecom_clock(clock: FakeClock) -> None:
    clock.set(datetime.fromtimestamp(int(WECOM["message"]["timestamp"]), UTC))


def test_wecom_unsigned_deep_body_is_refused_without_parsing(wecom_client: Any, wecom_svc: Any, clock: FakeClock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    no_parsing(monkeypatch)
    params = {"timestamp": ts(clock), "nonce": "1", "msg_signature": "0" * 40}
    assert wecom_client.post("/wecom", query_string=params, data=DEEP).status_code == 400  # no <Encrypt> at all
    wrapped = b"<xml>" + b"<a>" * 3000 + b"<Encrypt>QUJD</Encrypt>" + b"</a>" * 3000 + b"</xml>"
    assert wecom_client.post("/wecom", query_string=params, data=wrapped).status_code == 403
    assert stored(wecom_svc) == 0


def test_wecom_signed_deep_plaintext_is_a_400(wecom_client: Any, wecom_svc: Any, clock: FakeClock) -> None:
    crypto = WeComCrypto(WECOM["token"], WECOM["encoding_aes_key"], WECOM["corpid"])
    fields = parse_xml(crypto.encrypt_message(DEEP.decode(), "n1", ts(clock)))
    params = {"timestamp": ts(clock), "nonce": "n1", "msg_signature": fields["MsgSignature"]}
    assert wecom_client.post("/wecom", query_string=params, data=_outer(fields["Encrypt"])).status_code == 400
    assert stored(wecom_svc) == 0


def test_wecom_official_vector_still_works(wecom_client: Any, clock: FakeClock) -> None:
    m = WECOM["message"]
    _wecom_clock(clock)
    args = {k: m[k] for k in ("msg_signature", "timestamp", "nonce")}
    assert wecom_client.post("/wecom", query_string=args, data=m["body"].encode()).status_code == 200


# -- two menu clicks in one second ----------------------------------------------------------------


def test_two_menu_clicks_in_one_second_get_their_own_replies(client: Any, account: Account, clock: FakeClock,
                                                             services: Any) -> None:
    now = int(ts(clock))
    first = account.read(client.post("/wechat", **_req(account.event("oClicker", "CLICK", now=now,
                                                                      key="MENU_EVENTS"))).data)
    second = account.read(client.post("/wechat", **_req(account.event("oClicker", "CLICK", now=now,
                                                                       key="MENU_ORDER"))).data)
    assert first is not None and second is not None
    assert "活动" in first["Content"] and "需要什么服务" in second["Content"]
    retry = account.read(client.post("/wechat", **_req(account.event("oClicker", "CLICK", now=now,
                                                                      key="MENU_ORDER"))).data)
    assert retry is not None and retry["Content"] == second["Content"]  # WeChat's retry: answered once
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedMessage)) == 2


def test_a_long_event_key_still_fits_the_dedupe_column(client: Any, account: Account, clock: FakeClock,
                                                       services: Any) -> None:
    now = int(ts(clock))
    for key in ("https://example.com/" + "x" * 900, "https://example.com/" + "y" * 900):
        assert client.post("/wechat", **_req(account.event("o" * 64, "VIEW", now=now, key=key))).status_code == 200
    with services.sessions() as s:
        keys = s.scalars(select(ProcessedMessage.dedupe_key)).all()
    assert len(keys) == 2 and all(len(k) <= 200 for k in keys)


def _req(req: Any) -> dict[str, Any]:
    return {"query_string": req.params, "data": req.body, "content_type": "text/xml"}


# -- calendar files -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/events/" + "9" * 20 + ".ics", "/events/9223372036854775808.ics", "/events/0.ics",
                                  "/events/%00.ics", "/events/a%00b.ics", "/events/" + "x" * 200 + ".ics",
                                  "/events/²³.ics"])
def test_calendar_ids_that_fit_nothing_are_404s_on_either_database(any_db_url: str, clock: FakeClock,
                                                                   fake_wechat: Any, path: str) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        assert untested_client(svc).get(path).status_code == 404
    finally:
        svc.close()
