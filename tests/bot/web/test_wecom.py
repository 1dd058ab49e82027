"""The WeCom app channel: the official vector through the real /wecom endpoint, a volunteer accepting from WeCom,
and outbound messages to WeCom members and app group chats through the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.app import create_app
from bot.channels.inbound import parse_xml
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.devtools.simulator import message_xml
from bot.outbox import enqueue
from bot.web.wecom import link_user
from bot.worker.sender import OutboxSender
from storage.db import transaction
from storage.models import Order, ProcessedMessage, User, Volunteer
from storage.models_events import TeamChannel
from tests.conftest import FIXTURES, make_services
from tests.dialog import Chat

VECTOR = json.loads((FIXTURES / "official-vectors.json").read_text(encoding="utf-8"))["wecom_app"]


def wecom_settings(v: dict[str, Any] = VECTOR) -> dict[str, Any]:
    return {"wecom_corpid": v["corpid"], "wecom_token": v["token"], "wecom_aes_key": v["encoding_aes_key"],
            "wecom_agent_id": "218", "wecom_secret": "wecom-secret"}


@pytest.fixture
def wsvc(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Any:
    svc = make_services(db_url, clock, fake_wechat, **wecom_settings())
    yield svc
    svc.close()


@pytest.fixture
def wclient(wsvc: Any) -> Any:
    return create_app(services=wsvc).test_client()


def test_official_vector_url_verification_through_the_endpoint(wclient: Any, clock: FakeClock) -> None:
    u = VECTOR["url_verification"]
    clock.set(datetime.fromtimestamp(int(u["timestamp"]), UTC))
    args = {k: u[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    resp = wclient.get("/wecom", query_string=args)
    assert resp.status_code == 200 and resp.get_data(as_text=True) == u["decrypted_echostr"]
    bad = {**args, "msg_signature": "0" * 40}
    assert wclient.get("/wecom", query_string=bad).status_code == 403
    clock.set(datetime.fromtimestamp(int(u["timestamp"]) + 3600, UTC))  # a replayed verification an hour later
    assert wclient.get("/wecom", query_string=args).status_code == 403


def test_official_vector_message_through_the_endpoint(wclient: Any, wsvc: Any, clock: FakeClock) -> None:
    m = VECTOR["message"]
    clock.set(datetime.fromtimestamp(int(m["timestamp"]), UTC))
    args = {k: m[k] for k in ("msg_signature", "timestamp", "nonce")}
    resp = wclient.post("/wecom", query_string=args, data=m["body"].encode())
    assert resp.status_code == 200
    crypto = WeChatCrypto(VECTOR["token"], VECTOR["encoding_aes_key"], VECTOR["corpid"])
    outer = parse_xml(resp.data)
    reply = parse_xml(crypto.decrypt_message(resp.data, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]))
    assert reply["ToUserName"] == m["decrypted"]["FromUserName"] and reply["FromUserName"] == VECTOR["corpid"]
    assert reply["MsgType"] == "text" and reply["Content"]
    with wsvc.sessions() as s:
        pm = s.execute(select(ProcessedMessage)).scalar_one()
        assert pm.openid == "wecom:mycreate" and pm.dedupe_key == f"msg:wecom:mycreate:wecom:{m['decrypted']['MsgId']}"
    # WeCom retries the same message: answered from the first run, acted on once
    again = wclient.post("/wecom", query_string=args, data=m["body"].encode())
    assert again.status_code == 200
    with wsvc.sessions() as s:
        assert len(s.execute(select(ProcessedMessage)).all()) == 1
    tampered = {**args, "msg_signature": "1" * 40}
    assert wclient.post("/wecom", query_string=tampered, data=m["body"].encode()).status_code == 403
    assert wclient.post("/wecom", query_string=args, data=b"<xml><a>1</a></xml>").status_code == 400


def test_wecom_endpoint_is_off_without_configuration(client: Any) -> None:
    assert client.get("/wecom").status_code == 404
    assert client.post("/wecom", data=b"<xml/>").status_code == 404


class WeComUser:
    """Sends messages the way WeCom does: encrypted and signed with the app's token and key."""

    def __init__(self, client: Any, clock: FakeClock, userid: str) -> None:
        self.client, self.clock, self.userid = client, clock, userid
        self.crypto = WeChatCrypto(VECTOR["token"], VECTOR["encoding_aes_key"], VECTOR["corpid"])
        self.n = 0

    def say(self, text: str) -> str | None:
        self.n += 1
        ts = str(int(self.clock.now().timestamp()))
        xml = message_xml(to=VECTOR["corpid"], sender=self.userid, create_time=int(ts), msg_type="text",
                          Content=text, MsgId=str(7000 + self.n), AgentID="218")
        enc = parse_xml(self.crypto.encrypt_message(xml, f"n{self.n}", ts))
        body = f"<xml><ToUserName><![CDATA[{VECTOR['corpid']}]]></ToUserName><Encrypt><![CDATA[{enc['Encrypt']}]]>" \
               f"</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
        resp = self.client.post("/wecom", query_string={"msg_signature": enc["MsgSignature"], "timestamp": ts,
                                                        "nonce": f"n{self.n}"}, data=body.encode())
        assert resp.status_code == 200, resp.data
        if not resp.data:
            return None
        outer = parse_xml(resp.data)
        reply = parse_xml(self.crypto.decrypt_message(resp.data, outer["MsgSignature"], outer["TimeStamp"],
                                                      outer["Nonce"]))
        return str(reply["Content"])


def test_a_volunteer_accepts_from_wecom(wsvc: Any, wclient: Any, clock: FakeClock,
                                       fake_wechat: FakeWeChatServer) -> None:
    from bot.devtools.simulator import Account

    with transaction(wsvc.sessions) as s:
        seed_demo_hub(s, clock.now())
    wsvc.hubs.forget()
    account = Account(token=wsvc.config.wechat_token, appid=wsvc.config.wechat_appid, aes_key="")
    chat = Chat(wclient, account, clock, wsvc, fake_wechat)
    chat.say("oResident0001", "明天下午三点来给我理个发，地址幸福小区3栋501")
    chat.say("oResident0001", "13812345678")
    assert "已提交" in (chat.say("oResident0001", "1") or "")
    zhang = WeComUser(wclient, clock, "zhangsf")
    # not linked yet: WeCom alone proves nothing about who this is
    assert "还不是本站审核通过的志愿者" in (zhang.say("接单 1") or "")
    with transaction(wsvc.sessions) as s:
        vol = s.execute(select(Volunteer).where(Volunteer.name == "张师傅")).scalar_one()
        link_user(s, hub_id=1, userid="zhangsf", volunteer_id=vol.id, now=clock.now(), notify_here=True)
    reply = zhang.say(chat.refs("接单 #1")) or ""
    assert "接单成功" in reply and "幸福小区3栋501" in reply
    with wsvc.sessions() as s:
        order = s.execute(select(Order)).scalar_one()
        assert order.state == "accepted" and order.volunteer_id == vol.id
    # later notices for this volunteer go to WeCom (notify_here): through the outbox to message/send
    with transaction(wsvc.sessions) as s:
        enqueue(s, hub_id=1, to="wecom:zhangsf", text="测试通知", now=clock.now(), idempotency_key="t1")
    OutboxSender(wsvc).drain()
    sends = fake_wechat.calls("/cgi-bin/message/send")
    assert sends and sends[-1]["body"]["touser"] == "zhangsf" and sends[-1]["body"]["agentid"] == 218
    assert sends[-1]["body"]["text"]["content"] == "测试通知"
    assert fake_wechat.calls("/cgi-bin/gettoken")[0]["params"]["corpid"] == VECTOR["corpid"]


def test_link_refusals(wsvc: Any, clock: FakeClock) -> None:
    from bot.web.wecom import LinkError

    with transaction(wsvc.sessions) as s:
        seed_demo_hub(s, clock.now())
    with pytest.raises(LinkError), transaction(wsvc.sessions) as s:
        link_user(s, hub_id=1, userid="x", volunteer_id=999, now=clock.now())
    with transaction(wsvc.sessions) as s:
        stranger = Volunteer(name="外站志愿者", skills=[], availability=[], created_at=clock.now())
        s.add(stranger)
        s.flush()
        sid = stranger.id
    with pytest.raises(LinkError), transaction(wsvc.sessions) as s:
        link_user(s, hub_id=1, userid="x", volunteer_id=sid, now=clock.now())


def test_outbound_appchat_and_token_refresh(wsvc: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    from bot.community.teamchat import post_to_team, team_by_code

    with transaction(wsvc.sessions) as s:
        seed_demo_hub(s, clock.now())
        team = team_by_code(s, 1, "emergency")
        assert team is not None
        s.add(TeamChannel(team_id=team.id, hub_id=1, appchat_id="CHAT_EMERGENCY", updated_at=clock.now()))
        s.flush()
        assert post_to_team(s, team, "集合通知", now=clock.now(), key="k1") == 1
    fake_wechat.fail("/cgi-bin/appchat/send", errcode=42001)  # the token expired: refresh once and resend
    stats = OutboxSender(wsvc).drain()
    assert stats.sent == 1
    calls = [c for c in fake_wechat.calls("/cgi-bin/appchat/send") if c["result"].get("errcode") == 0]
    assert calls[0]["body"] == {"chatid": "CHAT_EMERGENCY", "msgtype": "text", "text": {"content": "集合通知"}}
    assert len(fake_wechat.calls("/cgi-bin/gettoken")) == 2
    with wsvc.sessions() as s:
        assert s.execute(select(User).where(User.openid.like("wecom:%"))).first() is None


def test_wecom_own_events_get_no_reply_and_plain_subscribe_gets_the_menu(wsvc: Any, wclient: Any,
                                                                          clock: FakeClock) -> None:
    crypto = WeChatCrypto(VECTOR["token"], VECTOR["encoding_aes_key"], VECTOR["corpid"])

    def post_event(event: str, n: int) -> Any:
        ts = str(int(clock.now().timestamp()) + n)
        xml = message_xml(to=VECTOR["corpid"], sender="lisi", create_time=int(ts), msg_type="event", Event=event,
                          EventKey="", AgentID="218")
        enc = parse_xml(crypto.encrypt_message(xml, "nonce", ts))
        body = f"<xml><ToUserName><![CDATA[{VECTOR['corpid']}]]></ToUserName><Encrypt><![CDATA[{enc['Encrypt']}]]>" \
               f"</Encrypt></xml>"
        return wclient.post("/wecom", query_string={"msg_signature": enc["MsgSignature"], "timestamp": ts,
                                                    "nonce": "nonce"}, data=body.encode())

    resp = post_event("enter_agent", 1)
    assert resp.status_code == 200 and resp.data == b""
    resp = post_event("subscribe", 2)
    outer = parse_xml(resp.data)
    reply = parse_xml(crypto.decrypt_message(resp.data, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]))
    assert "感谢关注" in reply["Content"]


def test_a_volunteer_out_of_the_wechat_window_gets_the_offer_in_the_wecom_app(
        db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    """Linked to WeCom but still notified on the official account: when WeChat no longer lets a message through
    (no window, and this hub has no template), the WeCom app carries it."""
    svc = make_services(db_url, clock, fake_wechat, wechat_notice_template_id="", **wecom_settings())
    try:
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, clock.now())
            vol = s.execute(select(Volunteer).where(Volunteer.name == "张师傅")).scalar_one()
            link_user(s, hub_id=1, userid="zhangsan", volunteer_id=vol.id, now=clock.now())
        fake_wechat.adopt_users(svc.sessions)
        clock.advance(days=3)
        with transaction(svc.sessions) as s:
            enqueue(s, hub_id=1, to="oVolBarber01", text="新任务：义务理发（订单9）\n接单请回复：接单 9",
                    now=clock.now(), idempotency_key="offer:9:1")
        assert OutboxSender(svc).run_once().via == {"wecom": 1}
        (sent,) = fake_wechat.calls("/cgi-bin/message/send")
        assert sent["body"]["touser"] == "zhangsan" and "接单 9" in sent["body"]["text"]["content"]
        assert fake_wechat.refused() == []
    finally:
        svc.close()
