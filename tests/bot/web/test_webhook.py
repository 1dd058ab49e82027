"""The webhook end to end through Flask's test client: signatures, modes, every message type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.simulator import Account, sign
from storage.models import AuditLog, Conversation, OutboxMessage, ProcessedMessage, User
from tests.conftest import FIXTURES, fixture_xml, make_services


def post(client: Any, req: Any, path: str = "/wechat") -> Any:
    return client.post(path, query_string=req.params, data=req.body, content_type="text/xml")


def now_ts(clock: FakeClock) -> int:
    return int(clock.now().timestamp())


def count(services: Any, model: Any) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_url_verification_echoes(client: Any, account: Account, clock: FakeClock) -> None:
    req = account.sign("", now=now_ts(clock))
    resp = client.get("/wechat", query_string={**req.params, "echostr": "hello123"})
    assert resp.status_code == 200
    assert resp.data == b"hello123"


def test_url_verification_bad_signature_403(client: Any, account: Account, clock: FakeClock) -> None:
    req = account.sign("", now=now_ts(clock))
    resp = client.get("/wechat", query_string={**req.params, "signature": "0" * 40, "echostr": "x"})
    assert resp.status_code == 403


def test_bad_signature_403_and_nothing_stored(client: Any, account: Account, clock: FakeClock,
                                               services: Any) -> None:
    req = account.text("oUser1", "你好", now=now_ts(clock))
    params = {**req.params, "signature": "f" * 40}
    resp = client.post("/wechat", query_string=params, data=req.body)
    assert resp.status_code == 403
    assert count(services, ProcessedMessage) == 0


def test_stale_timestamp_403(client: Any, account: Account, clock: FakeClock, services: Any) -> None:
    req = account.text("oUser1", "你好", now=now_ts(clock) - 3600)  # validly signed, an hour old
    assert post(client, req).status_code == 403
    assert count(services, ProcessedMessage) == 0


@pytest.mark.parametrize("name,expect", [
    ("text.xml", "义务理发"),
    ("voice_recognition.xml", "维修"),
    ("voice_no_recognition.xml", "没有听清楚"),
    ("location.xml", "白莲街道宝莲社区"),
    ("image.xml", "图片"),
    ("link.xml", "链接"),
    ("video.xml", "视频"),
    ("event_subscribe.xml", "感谢关注"),
    ("event_subscribe_qrscene.xml", "报名成为志愿者"),
    ("event_scan.xml", "兑换码"),
    ("event_click.xml", "需要什么服务"),
    ("event_view.xml", None),
    ("event_location.xml", None),
    ("event_unsubscribe.xml", None),
    ("event_templatesendjobfinish.xml", None),
])
def test_every_fixture_type(client: Any, account: Account, clock: FakeClock, services: Any,
                            name: str, expect: str | None) -> None:
    req = account.sign(fixture_xml(name), now=now_ts(clock))
    resp = post(client, req)
    assert resp.status_code == 200
    reply = account.read(resp.data)
    if expect is None:
        assert reply is None
    else:
        assert reply is not None and reply["MsgType"] == "text"
        assert reply["ToUserName"] == "oResident0001"
        assert expect in reply["Content"]
    assert count(services, ProcessedMessage) == 1


def test_subscribe_with_scene_is_kept_and_unsubscribe_recorded(client: Any, account: Account,
                                                                clock: FakeClock, services: Any) -> None:
    post(client, account.sign(fixture_xml("event_subscribe_qrscene.xml"), now=now_ts(clock)))
    xml = fixture_xml("event_unsubscribe.xml").replace("1795390000", "1795390100")
    post(client, account.sign(xml, now=now_ts(clock)))
    with services.sessions() as s:
        user = s.execute(select(User)).scalar_one()
        assert user.subscribe_scene == "volunteer_register"
        assert user.subscribed is False
        actions = [a.action for a in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]
    assert actions == ["subscribed", "unsubscribed"]


def test_location_is_kept_for_the_order_address(client: Any, account: Account, clock: FakeClock,
                                                services: Any) -> None:
    post(client, account.sign(fixture_xml("location.xml"), now=now_ts(clock)))
    with services.sessions() as s:
        conv = s.execute(select(Conversation)).scalar_one()
    assert conv.slots["location"] == {"lat": 24.312345, "lng": 109.428765,
                                      "label": "广西壮族自治区柳州市鱼峰区白莲街道宝莲社区"}


def test_unknown_message_type_gets_polite_reply(client: Any, account: Account, clock: FakeClock) -> None:
    xml = ("<xml><ToUserName>gh_x</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>"
           "<MsgType>miniprogrampage</MsgType><MsgId>77</MsgId></xml>")
    resp = post(client, account.sign(xml, now=now_ts(clock)))
    assert resp.status_code == 200
    reply = account.read(resp.data)
    assert reply is not None and "看不懂" in reply["Content"]


def test_same_msgid_three_times_acts_once(client: Any, account: Account, clock: FakeClock,
                                          services: Any) -> None:
    req = account.text("oUser1", "菜单", now=now_ts(clock), msg_id="555")
    replies = [account.read(post(client, req).data) for _ in range(3)]
    assert all(r is not None for r in replies)
    assert len({r["Content"] for r in replies if r}) == 1
    assert count(services, ProcessedMessage) == 1
    assert count(services, User) == 1


def test_events_dedupe_on_sender_and_create_time(client: Any, account: Account, clock: FakeClock,
                                                 services: Any) -> None:
    xml = fixture_xml("event_subscribe.xml")
    for _ in range(3):
        post(client, account.sign(xml, now=now_ts(clock)))
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 1


@pytest.mark.parametrize("body", [
    b"<xml><ToUserName>",  # truncated
    b"not xml at all",
    b"<root><a>1</a></root>",  # wrong root
    b"<xml><ToUserName>gh</ToUserName></xml>",  # missing fields
    b"",
    b'<?xml version="1.0" encoding="bogus"?><xml><ToUserName>gh</ToUserName></xml>',  # unknown encoding
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>abc</CreateTime>"
    b"<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",  # CreateTime not a number
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1.5</CreateTime>"
    b"<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",
    "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>²</CreateTime>"
    "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>".encode(),  # a digit to isdigit()
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>" + b"9" * 5000 +
    b"</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",  # over int()'s limit
    b"<xml><ToUserName>gh</ToUserName><FromUserName><a>o1</a></FromUserName><CreateTime>1</CreateTime>"
    b"<MsgType>text</MsgType><Content><b>hi</b></Content><MsgId>1</MsgId></xml>",  # elements inside fields
])
def test_malformed_body_400_nothing_stored(client: Any, account: Account, clock: FakeClock, services: Any,
                                           body: bytes) -> None:
    req = account.sign("", now=now_ts(clock))
    resp = client.post("/wechat", query_string=req.params, data=body)
    assert resp.status_code == 400
    assert count(services, ProcessedMessage) == 0
    assert count(services, User) == 0


def test_entity_bomb_rejected(client: Any, account: Account, clock: FakeClock, services: Any) -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            "<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>")
    external = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                "<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>"
                "<MsgType>text</MsgType><Content>&e;</Content><MsgId>2</MsgId></xml>")
    for body in (bomb, external):
        req = account.sign(body, now=now_ts(clock))
        assert post(client, req).status_code == 400
    assert count(services, ProcessedMessage) == 0


def test_oversized_body_413(client: Any, account: Account, clock: FakeClock, services: Any) -> None:
    req = account.text("oUser1", "长" * 40000, now=now_ts(clock))
    resp = post(client, req)
    assert resp.status_code == 413
    assert count(services, ProcessedMessage) == 0


def test_unknown_hub_404(client: Any, account: Account, clock: FakeClock) -> None:
    req = account.text("oUser1", "你好", now=now_ts(clock))
    assert post(client, req, "/wechat/nosuchhub").status_code == 404


# -- safe (AES) mode ----------------------------------------------------------------------------

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def safe_services(db_url: str, clock: FakeClock, fake_wechat: Any) -> Any:
    svc = make_services(db_url, clock, fake_wechat, wechat_aes_key=AES_KEY)
    yield svc
    svc.close()


def test_safe_mode_round_trip(safe_services: Any, clock: FakeClock) -> None:
    client = create_app(services=safe_services).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001", aes_key=AES_KEY)
    req = acct.text("oUser9", "菜单", now=now_ts(clock))
    assert req.params["encrypt_type"] == "aes" and b"Content" not in req.body
    resp = post(client, req)
    assert resp.status_code == 200
    assert b"<Encrypt>" in resp.data and "欢迎".encode() not in resp.data
    reply = acct.read(resp.data)
    assert reply is not None and "欢迎" in reply["Content"]


def test_safe_mode_wrong_appid_in_payload_400(safe_services: Any, clock: FakeClock) -> None:
    client = create_app(services=safe_services).test_client()
    other = Account(token="testtoken", appid="wxSOMEONEELSE000", aes_key=AES_KEY)
    resp = post(client, other.text("oUser9", "菜单", now=now_ts(clock)))
    assert resp.status_code == 400
    assert count(safe_services, ProcessedMessage) == 0


def test_safe_mode_tampered_msg_signature_403(safe_services: Any, clock: FakeClock) -> None:
    client = create_app(services=safe_services).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001", aes_key=AES_KEY)
    req = acct.text("oUser9", "菜单", now=now_ts(clock))
    params = {**req.params, "msg_signature": "0" * 40}
    assert client.post("/wechat", query_string=params, data=req.body).status_code == 403


def test_safe_mode_acts_only_on_the_verified_ciphertext(safe_services: Any, clock: FakeClock) -> None:
    """Only msg_signature in the URL (as Tencent's samples send it): it vouches for the ciphertext alone, so a
    plaintext body or a verification GET with it and no `signature` is refused and nothing is stored."""
    client = create_app(services=safe_services).test_client()
    plain = Account(token="testtoken", appid="wxtestappid0001")  # builds a plaintext message
    req = plain.text("oIntruder", "我要理发", now=now_ts(clock))
    params = {"timestamp": req.params["timestamp"], "nonce": req.params["nonce"], "msg_signature": "dead" * 10}
    assert client.post("/wechat", query_string=params, data=req.body).status_code == 403
    assert client.post("/wechat", query_string={**params, "encrypt_type": "aes"}, data=req.body).status_code == 403
    assert client.get("/wechat", query_string={**params, "echostr": "PWNED"}).status_code == 403
    # a genuine `signature` (it covers token, timestamp and nonce only, and sits in access logs) with a
    # plaintext body of the attacker's choosing: a safe-mode hub takes only the verified ciphertext
    assert post(client, req).status_code == 403
    assert client.post("/wechat", query_string={**req.params, "encrypt_type": "aes"}, data=req.body).status_code == 403
    assert count(safe_services, ProcessedMessage) == 0 and count(safe_services, User) == 0
    acct = Account(token="testtoken", appid="wxtestappid0001", aes_key=AES_KEY)
    enc = acct.text("oUser9", "菜单", now=now_ts(clock))  # the same URL shape with a real ciphertext works
    only_msg_signature = {k: v for k, v in enc.params.items() if k != "signature"}
    assert client.post("/wechat", query_string=only_msg_signature, data=enc.body).status_code == 200
    assert count(safe_services, ProcessedMessage) == 1


def test_official_vector_compat_mode(db_url: str, fake_wechat: Any) -> None:
    """Tencent's own ciphertext decrypts and verifies through the real webhook; the reply round-trips."""
    vec = json.loads((FIXTURES / "official-vectors.json").read_text())["official_account_compat_mode"]
    clock = FakeClock()
    clock.set(clock.now().fromtimestamp(int(vec["timestamp"]), tz=clock.now().tzinfo))
    svc = make_services(db_url, clock, fake_wechat, wechat_token=vec["token"],
                        wechat_aes_key=vec["encoding_aes_key"], wechat_appid=vec["appid"])
    client = create_app(services=svc).test_client()
    params = {"timestamp": vec["timestamp"], "nonce": vec["nonce"], "msg_signature": vec["msg_signature"],
              "encrypt_type": "aes"}
    resp = client.post("/wechat", query_string=params, data=vec["body"].encode())
    assert resp.status_code == 200
    assert b"<Encrypt>" in resp.data and b"<Content>" not in resp.data  # the reply goes back encrypted
    acct = Account(token=vec["token"], appid=vec["appid"], aes_key=vec["encoding_aes_key"])
    reply = acct.read(resp.data)
    assert reply is not None
    assert reply["ToUserName"] == vec["decrypted"]["FromUserName"]
    with svc.sessions() as s:
        pm = s.execute(select(ProcessedMessage)).scalar_one()
    assert pm.dedupe_key == f"msg:{vec['decrypted']['FromUserName']}:{vec['decrypted']['MsgId']}"
    # a tampered copy of the same vector is refused
    bad = client.post("/wechat", query_string={**params, "msg_signature": "1" * 40}, data=vec["body"].encode())
    assert bad.status_code == 403
    svc.close()


def test_replies_to_staff_go_through_outbox(client: Any, account: Account, clock: FakeClock,
                                            services: Any) -> None:
    with services.sessions() as s, s.begin():
        s.add(User(hub_id=1, openid="oStaff1", roles=["staff"], subscribed=True, created_at=clock.now()))
    resp = post(client, account.text("oUser1", "人工", now=now_ts(clock)))
    reply = account.read(resp.data)
    assert reply is not None and "转接" in reply["Content"]
    with services.sessions() as s:
        rows = s.execute(select(OutboxMessage)).scalars().all()
    assert [r.to for r in rows] == ["oStaff1"]


def test_sign_helper_matches_wechat_algorithm() -> None:
    req = sign("<xml/>", token="spamtest", timestamp=1409735669, nonce="1320562132")
    assert len(req.params["signature"]) == 40


def _signed_ciphertext(raw: bytes, clock: FakeClock) -> tuple[dict[str, str], bytes]:
    """A ciphertext correctly signed with the hub's token and key whose plaintext is not a WeChat payload."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(AES_KEY + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypt = base64.b64encode(enc.update(raw) + enc.finalize()).decode()
    ts, nonce = str(now_ts(clock)), "12345"
    msg_signature = hashlib.sha1("".join(sorted(["testtoken", ts, nonce, encrypt])).encode()).hexdigest()
    body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return {"timestamp": ts, "nonce": nonce, "msg_signature": msg_signature, "encrypt_type": "aes"}, body.encode()


@pytest.mark.parametrize("raw", [bytes(32), bytes(31) + b"\xff"])  # padding 0 (nothing left), padding 255
def test_a_signed_ciphertext_that_is_not_a_payload_is_a_400(safe_services: Any, clock: FakeClock,
                                                             raw: bytes) -> None:
    client = create_app(services=safe_services).test_client()
    params, body = _signed_ciphertext(raw, clock)
    assert client.post("/wechat", query_string=params, data=body).status_code == 400
    assert count(safe_services, ProcessedMessage) == 0


def test_a_chunked_body_over_the_limit_is_a_413_not_cut_short(client: Any, account: Account, clock: FakeClock,
                                                             services: Any) -> None:
    import io

    from werkzeug.test import EnvironBuilder

    req = account.text("oUser1", "长" * 40000, now=now_ts(clock))
    env = EnvironBuilder(path="/wechat", method="POST", query_string=req.params,
                         input_stream=io.BytesIO(req.body if isinstance(req.body, bytes) else req.body.encode()),
                         ).get_environ()
    env.pop("CONTENT_LENGTH", None)  # as a chunked request arrives from the server
    env["HTTP_TRANSFER_ENCODING"] = "chunked"
    env["wsgi.input_terminated"] = True
    resp = client.open(env)
    assert resp.status_code == 413
    assert count(services, ProcessedMessage) == 0


@pytest.mark.parametrize("slug", ["a%00b", "x" * 200])
def test_an_impossible_hub_name_is_a_404_on_either_database(any_db_url: str, clock: FakeClock, fake_wechat: Any,
                                                            slug: str) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    assert client.post(f"/wechat/{slug}", data=b"<xml/>").status_code == 404
    svc.close()


def test_a_msgid_is_deduplicated_per_sender(client: Any, account: Account, clock: FakeClock, services: Any) -> None:
    """A stored reply goes back only to the user it was written for: another sender's message with the same
    MsgId is a message of its own, not a retry."""
    first = account.read(post(client, account.text("oOwner", "我要理发", now=now_ts(clock), msg_id="1001")).data)
    other = account.read(post(client, account.text("oOther", "你好", now=now_ts(clock), msg_id="1001")).data)
    assert first is not None and other is not None and first["Content"] != other["Content"]
    assert other["ToUserName"] == "oOther"
    assert count(services, ProcessedMessage) == 2


def test_a_sender_longer_than_any_openid_is_a_400(client: Any, account: Account, clock: FakeClock,
                                                  services: Any) -> None:
    assert post(client, account.text("o" * 65, "你好", now=now_ts(clock))).status_code == 400
    assert count(services, ProcessedMessage) == 0 and count(services, User) == 0
