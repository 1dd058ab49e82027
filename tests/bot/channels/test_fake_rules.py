"""The fake WeChat server refuses what WeChat refuses (WECHAT_RULES.md), by default; relaxed only when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer, readable, template_value_problem
from bot.devtools.simulator import message_xml


@pytest.fixture
def fake(fake_wechat: FakeWeChatServer) -> FakeWeChatServer:
    """The conftest's strict fake on the test's clock (tests.conftest.clock), by a shorter name."""
    return fake_wechat


def stable_token(fake: FakeWeChatServer) -> str:
    res = requests.post(fake.url + "/cgi-bin/stable_token", timeout=5,
                        json={"grant_type": "client_credential", "appid": "wx1", "secret": "s"})
    return str(res.json()["access_token"])


@pytest.fixture
def token(fake: FakeWeChatServer) -> str:
    return stable_token(fake)


def call(fake: FakeWeChatServer, path: str, token: str, body: dict[str, Any]) -> int:
    res = requests.post(fake.url + path, params={"access_token": token}, json=body, timeout=5)
    return int(res.json()["errcode"])


def custom(fake: FakeWeChatServer, token: str, openid: str, text: str = "您好") -> int:
    return call(fake, "/cgi-bin/message/custom/send", token,
                {"touser": openid, "msgtype": "text", "text": {"content": text}})


def push(fake: FakeWeChatServer, clock: FakeClock, openid: str, msg_type: str = "text", **fields: Any) -> None:
    """What the tests' chat driver does: hand the fake the XML WeChat delivers to the webhook."""
    xml = message_xml(to="gh_hub", sender=openid, create_time=int(clock.now().timestamp()), msg_type=msg_type,
                      **fields)
    requests.post(fake.url + "/__push__", data=xml.encode("utf-8"), timeout=5)


# -- customer-service messages -------------------------------------------------------------------------------------


def test_a_message_opens_five_within_48_hours(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    assert custom(fake, token, "oA") == 45015  # never wrote: out of window
    push(fake, clock, "oA", Content="你好", MsgId="1")
    assert [custom(fake, token, "oA") for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    push(fake, clock, "oA", Content="再问一下", MsgId="2")  # a new message: five more
    assert [custom(fake, token, "oA") for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    clock.advance(hours=48)
    assert custom(fake, stable_token(fake), "oA") == 45015  # (the token expired after 2 hours as well)


def test_a_follow_or_a_scan_opens_three_within_a_minute(fake: FakeWeChatServer, clock: FakeClock,
                                                        token: str) -> None:
    push(fake, clock, "oF", "event", Event="subscribe")
    assert [custom(fake, token, "oF") for _ in range(4)] == [0, 0, 0, 45047]
    clock.advance(seconds=61)
    push(fake, clock, "oF", "event", Event="SCAN", EventKey="event_3")
    assert custom(fake, token, "oF") == 0
    clock.advance(seconds=60)
    assert custom(fake, token, "oF") == 45015  # a minute, not 48 hours


def test_a_menu_click_does_not_open_the_48_hour_quota(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    push(fake, clock, "oC", Content="我要理发", MsgId="1")
    assert [custom(fake, token, "oC") for _ in range(5)] == [0] * 5
    clock.advance(hours=1)
    push(fake, clock, "oC", "event", Event="CLICK", EventKey="MENU_ORDER")
    assert [custom(fake, token, "oC") for _ in range(4)] == [0, 0, 0, 45047]  # three for the click only
    clock.advance(minutes=2)
    assert custom(fake, token, "oC") == 45047  # the message's five are spent; the click added none of its own
    push(fake, clock, "oC", "event", Event="VIEW", EventKey="https://example.org")
    assert custom(fake, token, "oC") == 45047  # a menu link opens nothing


def test_an_unfollow_closes_everything(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    push(fake, clock, "oU", Content="你好", MsgId="1")
    push(fake, clock, "oU", "event", Event="unsubscribe")
    assert custom(fake, token, "oU") == 45015
    assert template(fake, token, "oU", {"thing1": {"value": "订单12已接单"}}) == 43004


# -- templates -------------------------------------------------------------------------------------------------------


def template(fake: FakeWeChatServer, token: str, openid: str, data: dict[str, Any], tpl: str = "TPL",
             client_msg_id: str | None = None) -> int:
    body: dict[str, Any] = {"touser": openid, "template_id": tpl, "data": data}
    if client_msg_id:
        body["client_msg_id"] = client_msg_id
    return call(fake, "/cgi-bin/message/template/send", token, body)


@pytest.mark.parametrize(("key", "value", "ok"), [
    ("thing1", "理发 订单12", True), ("thing1", "二十个字以内的事项名称就可以发出去啦好的", True),
    ("thing1", "超过二十个字的事项名称会被微信拒绝掉的哦真的会的", False), ("thing1", "两行\n内容", False),
    ("phrase2", "已接单", True), ("phrase2", "已经接单了啊", False), ("phrase2", "OK", False),
    ("time3", "2026年11月24日 15:00", True), ("time3", "15:00~17:00", True), ("time3", "明天下午", False),
    ("date4", "2026年11月24日", True), ("character_string5", "A12-3", True), ("character_string5", "订单12", False),
    ("number6", "300", True), ("phone_number7", "13812345678", True), ("phone_number7", "138****5678", False),
    ("name8", "张师傅", True), ("name8", "志愿者张三丰李四王五赵六", False), ("amount9", "12.50元", True),
    ("first", "雷锋超市通知", False), ("remark", "如有疑问请回复人工", False), ("keyword1", "x", False),
])
def test_template_fields_follow_their_types(key: str, value: str, ok: bool) -> None:
    assert (template_value_problem(key, value) is None) is ok


def test_template_refusals(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    good = {"thing1": {"value": "理发 订单12"}, "phrase2": {"value": "已接单"}}
    assert template(fake, token, "oNobody", good) == 43004  # not a follower
    fake.follower("oT")
    assert template(fake, token, "oT", good) == 0  # a follower who wrote long ago: templates still reach them
    assert template(fake, token, "oT", {"first": {"value": "您好"}, **good}) == 47003
    assert template(fake, token, "oT", {"keyword1": {"value": "理发 订单12"}}) == 47003
    fake.register_templates({"TPL": ("thing1", "phrase2")})
    assert template(fake, token, "oT", good, tpl="OTHER") == 40037
    assert template(fake, token, "oT", {"thing1": {"value": "x"}, "time3": {"value": "15:00"}}) == 47003
    fake.user_did("oT", "refuse_templates")
    assert template(fake, token, "oT", good) == 43101


def test_client_msg_id_sends_once_within_ten_minutes(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    fake.follower("oT")
    data = {"thing1": {"value": "理发 订单12"}}
    assert [template(fake, token, "oT", data, client_msg_id="outbox-7") for _ in range(2)] == [0, 0]
    assert fake.received("oT") == {"oT": ["理发 订单12"]}
    clock.advance(minutes=11)
    template(fake, token, "oT", data, client_msg_id="outbox-7")
    assert len(fake.received("oT")["oT"]) == 2


def test_subscription_notices_need_an_opt_in_and_use_it_up(fake: FakeWeChatServer, clock: FakeClock,
                                                           token: str) -> None:
    body = {"touser": "oS", "template_id": "SUB1", "data": {"thing1": {"value": "活动明天举行"}}}
    fake.follower("oS")
    assert call(fake, "/cgi-bin/message/subscribe/bizsend", token, body) == 43101
    xml = ("<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oS]]></FromUserName>"
           f"<CreateTime>{int(clock.now().timestamp())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           "<Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List>"
           "<TemplateId><![CDATA[SUB1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>"
           "<PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent></xml>")
    fake.push(xml)
    assert call(fake, "/cgi-bin/message/subscribe/bizsend", token, body) == 0
    assert call(fake, "/cgi-bin/message/subscribe/bizsend", token, body) == 43101  # one notice per one-time opt-in


# -- 群发 ---------------------------------------------------------------------------------------------------------


def draft(fake: FakeWeChatServer, token: str) -> str:
    res = requests.post(fake.url + "/cgi-bin/material/add_material", params={"access_token": token, "type": "image"},
                        files={"media": ("c.png", b"\x89PNG", "image/png")}, timeout=5).json()
    body = {"articles": [{"title": "雷锋一条街活动", "content": "<p>周六上午</p>", "thumb_media_id": res["media_id"]}]}
    return str(requests.post(fake.url + "/cgi-bin/draft/add", params={"access_token": token}, json=body,
                             timeout=5).json()["media_id"])


def mass(fake: FakeWeChatServer, token: str, openids: list[str], media_id: str, cid: str) -> int:
    return call(fake, "/cgi-bin/message/mass/send", token, {"touser": openids, "msgtype": "mpnews",
                                                            "mpnews": {"media_id": media_id}, "clientmsgid": cid})


def test_mass_send_four_a_calendar_month_per_follower(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    for o in ("oM1", "oM2", "oM3"):
        fake.follower(o)
    media = draft(fake, token)
    assert [mass(fake, token, ["oM1", "oM2"], media, f"c{i}") for i in range(5)] == [0, 0, 0, 0, 45028]
    assert mass(fake, token, ["oM3", "oM1"], media, "c9") == 45028  # one of them has none left: refused whole
    assert mass(fake, token, ["oM3"], media, "c10") == 40130  # at least two openids
    assert mass(fake, token, ["oM1", "oM2"], media, "c0") == 45065  # that clientmsgid was sent already
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 00:00 on 1 December in Beijing: a new month
    assert mass(fake, stable_token(fake), ["oM1", "oM2"], media, "c11") == 0
    assert len(fake.received("oM1")["oM1"]) == 5


def test_drafts_need_a_permanent_cover_and_news_material_is_gone(fake: FakeWeChatServer, token: str) -> None:
    body = {"articles": [{"title": "通知", "content": "<p>x</p>", "thumb_media_id": "nope"}]}
    assert call(fake, "/cgi-bin/draft/add", token, body) == 40007
    assert call(fake, "/cgi-bin/material/add_news", token, {"articles": []}) == 45103


def test_mass_api_sixty_requests_a_minute(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    for o in ("oM1", "oM2"):
        fake.follower(o)
    media = draft(fake, token)
    fake.state.people["oM1"].mass.clear()
    codes = []
    for i in range(61):
        for o in ("oM1", "oM2"):
            fake.state.people[o].mass.clear()  # quota aside: only the rate here
        codes.append(mass(fake, token, ["oM1", "oM2"], media, f"r{i}"))
    assert codes[:60] == [0] * 60 and codes[60] == 45009


# -- tokens and robots -------------------------------------------------------------------------------------------


def test_stable_token_is_the_same_until_forced_and_the_classic_one_ends_the_last(fake: FakeWeChatServer,
                                                                                   clock: FakeClock) -> None:
    def stable(force: bool = False) -> dict[str, Any]:
        return dict(requests.post(fake.url + "/cgi-bin/stable_token", timeout=5, json={
            "grant_type": "client_credential", "appid": "wx1", "secret": "s", "force_refresh": force}).json())

    first, again = stable(), stable()
    assert first["access_token"] == again["access_token"]
    forced = stable(force=True)
    assert forced["access_token"] != first["access_token"]
    assert custom(fake, first["access_token"], "oX") == 40001  # forcing ended the old one at once

    def classic() -> str:
        return str(requests.get(fake.url + "/cgi-bin/token", timeout=5, params={
            "grant_type": "client_credential", "appid": "wx1", "secret": "s"}).json()["access_token"])

    old = classic()
    new = classic()
    assert custom(fake, old, "oX") == 45015  # still valid for five minutes (refused for the window, not the token)
    clock.advance(minutes=5)
    assert custom(fake, old, "oX") == 40001 and custom(fake, new, "oX") == 45015
    assert custom(fake, forced["access_token"], "oX") == 45015  # the two kinds of token do not touch


def test_robot_twenty_a_minute_and_byte_limits(fake: FakeWeChatServer, clock: FakeClock) -> None:
    def robot(content: str, kind: str = "text") -> int:
        res = requests.post(fake.url + "/cgi-bin/webhook/send", params={"key": "K"}, timeout=5,
                            json={"msgtype": kind, kind: {"content": content}})
        return int(res.json()["errcode"])

    assert robot("字" * 683) == 40058  # 2049 bytes of text
    assert robot("字" * 1000, "markdown") == 0  # markdown may have 4096
    assert [robot("x") for _ in range(20)] == [0] * 19 + [45009]  # the markdown one counted too
    clock.advance(minutes=1)
    assert robot("x") == 0


def test_relaxed_only_when_asked(clock: FakeClock) -> None:
    with FakeWeChatServer(clock=clock, strict=False) as lenient:
        tok = requests.post(lenient.url + "/cgi-bin/stable_token", timeout=5, json={
            "grant_type": "client_credential", "appid": "wx1", "secret": "s"}).json()["access_token"]
        assert custom(lenient, tok, "oAnyone") == 0
        requests.post(lenient.url + "/__rules__", json={"strict": True}, timeout=5)
        assert custom(lenient, tok, "oAnyone") == 45015
    assert FakeWeChatServer.__init__.__kwdefaults__["strict"] is True  # type: ignore[index]


def test_received_and_readable_show_what_people_got(fake: FakeWeChatServer, clock: FakeClock, token: str) -> None:
    push(fake, clock, "oR", Content="你好", MsgId="1")
    custom(fake, token, "oR", "客服消息")
    template(fake, token, "oR", {"thing1": {"value": "理发 订单12"}, "phrase2": {"value": "已接单"}})
    assert fake.received() == {"oR": ["客服消息", "理发 订单12 | 已接单"]}
    assert [r for r in map(readable, fake.calls()) if r is not None] == [
        (["oR"], "客服消息"), (["oR"], "理发 订单12 | 已接单")]
    assert fake.refused() == []
    custom(fake, token, "oStranger")
    assert [c["result"]["errcode"] for c in fake.refused()] == [45015]
    fake.user_did("oLate", "message", clock.now() - timedelta(hours=47))
    assert custom(fake, token, "oLate") == 0
