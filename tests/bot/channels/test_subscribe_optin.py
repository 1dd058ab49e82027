"""订阅通知, the bot's side: the subscribe_msg_* events read from the raw XML (wechatpy does not parse them), what the
user accepted or refused kept per template, and notices sent by message/subscribe/bizsend to whoever opted in:
one notice per one-time acceptance, against the strict fake (43101 otherwise)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.channels.inbound import (
    ACCEPT,
    REJECT,
    SubscribeChoice,
    message_from_dict,
    parse_xml,
    record_subscribe_choices,
    subscribe_choices,
    to_incoming,
)
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.devtools.simulator import Account
from bot.outbox import enqueue, resend
from bot.worker.sender import OutboxSender
from storage import subscriptions
from storage.db import transaction
from storage.models import NoticeOptIn, OutboxMessage, ProcessedMessage
from tests.conftest import make_services
from tests.dialog import Chat

R = "oGrandpa00001"
TID = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc"  # as long as WeChat's ids
OTHER = "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI"
FIELDS = {"subject": "thing1", "status": "phrase2", "time": "time3"}
BLOCKS = {"subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
          "subscribe_msg_change_event": "SubscribeMsgChangeEvent", "subscribe_msg_sent_event": "SubscribeMsgSentEvent"}


def choice_xml(openid: str, at: int, *items: tuple[str, str], event: str = "subscribe_msg_popup_event") -> str:
    """The event as WeChat posts it: one <List> per template in the event's block."""
    if event == "subscribe_msg_sent_event":
        lists = "".join(f"<List><TemplateId><![CDATA[{tid}]]></TemplateId><MsgID>1700827132819554304</MsgID>"
                        f"<ErrorCode>{0 if status == 'success' else 20004}</ErrorCode>"
                        f"<ErrorStatus><![CDATA[{status}]]></ErrorStatus></List>" for tid, status in items)
    else:
        lists = "".join(f"<List><TemplateId><![CDATA[{tid}]]></TemplateId><SubscribeStatusString><![CDATA[{status}]]>"
                        f"</SubscribeStatusString><PopupScene>2</PopupScene></List>" for tid, status in items)
    return (f"<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
            f"<{BLOCKS[event]}>{lists}</{BLOCKS[event]}></xml>")


def test_the_choices_are_read_from_every_list_item() -> None:
    two = parse_xml(choice_xml(R, 1764200000, (TID, "accept"), (OTHER, "reject")))
    assert subscribe_choices(two) == (SubscribeChoice(TID, ACCEPT), SubscribeChoice(OTHER, REJECT))
    one = parse_xml(choice_xml(R, 1764200000, (TID, "reject"), event="subscribe_msg_change_event"))
    assert subscribe_choices(one) == (SubscribeChoice(TID, REJECT),)
    sent = parse_xml(choice_xml(R, 1764200000, (TID, "success"), (OTHER, "failed:user block"),
                                event="subscribe_msg_sent_event"))
    assert subscribe_choices(sent) == (SubscribeChoice(OTHER, REJECT),)  # a delivered notice changes nothing
    click = parse_xml(f"<xml><ToUserName>gh</ToUserName><FromUserName>{R}</FromUserName><CreateTime>1</CreateTime>"
                      "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>MENU</EventKey></xml>")
    assert subscribe_choices(click) == ()


def test_an_opt_in_is_an_event_not_a_message() -> None:
    fields = parse_xml(choice_xml(R, 1764200000, (TID, "accept")))
    inc = to_incoming(message_from_dict(fields), fields)
    assert (inc.kind, inc.event) == ("event", "subscribe_msg_popup_event")


@pytest.fixture
def hub(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Chat]:
    """The demo hub with no template message configured, and a one-time 订阅通知 for order news."""
    svc = make_services(db_url, clock, fake_wechat, wechat_notice_template_id="")
    with transaction(svc.sessions) as s:
        seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
        subscriptions.set_subscribe_template(s, 1, "order_status", TID, FIELDS, long_term=False, now=clock.now())
    svc.hubs.forget()
    account = Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid, aes_key=svc.config.wechat_aes_key)
    yield Chat(create_app(services=svc).test_client(), account, clock, svc, fake_wechat)
    svc.close()


def opt_in(chat: Chat, *items: tuple[str, str], event: str = "subscribe_msg_popup_event") -> str | None:
    """The user's choice reaches WeChat (the fake) and the webhook; its fields are kept as the edge keeps them."""
    xml = choice_xml(R, int(chat.clock.now().timestamp()), *items, event=event)
    reply = chat._post(xml, R)
    record_subscribe_choices(chat.services.sessions, 1, parse_xml(xml), chat.clock.now())
    return reply


def order_news(chat: Chat, key: str) -> None:
    with transaction(chat.services.sessions) as s:
        enqueue(s, hub_id=1, to=R, text="您的订单有志愿者接单了，明天上午九点上门。", now=chat.clock.now(),
                idempotency_key=key)


def rows(chat: Chat) -> list[OutboxMessage]:
    with chat.services.sessions() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def optin(chat: Chat) -> tuple[str, int]:
    with chat.services.sessions() as s:
        row = s.execute(select(NoticeOptIn).where(NoticeOptIn.openid == R, NoticeOptIn.template_id == TID)
                        ).scalar_one()
        return row.status, row.left


def test_the_webhook_answers_an_opt_in_with_silence(hub: Chat) -> None:
    assert opt_in(hub, (TID, "accept")) is None  # no "这种消息暂时看不懂" for a user who just said yes
    with hub.services.sessions() as s:
        assert s.scalars(select(ProcessedMessage.msg_type)).all() == ["event:subscribe_msg_popup_event"]


def test_one_acceptance_is_one_notice_and_a_retry_counts_once(hub: Chat) -> None:
    hub.say(R, "帮我约个陪诊 后天上午 人民医院")
    hub.clock.advance(days=3)  # his 48 hours are over, and no template is configured
    opt_in(hub, (TID, "accept"), (OTHER, "reject"))
    record_subscribe_choices(hub.services.sessions, 1, parse_xml(choice_xml(
        R, int(hub.clock.now().timestamp()), (TID, "accept"))), hub.clock.now())  # WeChat's retry of the event
    assert optin(hub) == ("accept", 1)
    order_news(hub, "accepted:801:1:1")
    order_news(hub, "expired:802")
    hub.deliver()
    assert [(c["path"], c["result"]) for c in hub.fake.refused()] == []
    first, second = rows(hub)[-2:]
    assert (first.status, first.sent_via) == ("sent", "subscribe")
    assert second.status == "undelivered" and "no_template" in second.payload["reasons"]  # staff call him
    (got,) = hub.fake.received(R)[R]
    # no order 801 in this database: without its 单号 (never its id) the subject is the text's first sentence
    assert got.startswith("您的订单有志愿者接单了，明天上午九点上门 | 已接单 | ") and "801" not in got, got
    assert optin(hub) == ("accept", 0)
    # he accepts once more: staff send the second one again, and it goes
    hub.clock.advance(minutes=10)
    opt_in(hub, (TID, "accept"))
    with transaction(hub.services.sessions) as s:
        assert resend(s, 1, second.id, hub.clock.now())
    OutboxSender(hub.services).drain()
    assert [(c["path"], c["result"]) for c in hub.fake.refused()] == []
    assert (rows(hub)[-1].status, rows(hub)[-1].sent_via) == ("sent", "subscribe")


def test_a_withdrawn_subscription_is_refused_once_then_never_tried(hub: Chat) -> None:
    hub.say(R, "我想约理发")
    hub.clock.advance(days=3)
    opt_in(hub, (TID, "accept"))
    opt_in(hub, (TID, "reject"), event="subscribe_msg_change_event")  # turned it off in WeChat's settings
    assert optin(hub) == ("reject", 0)
    order_news(hub, "accepted:803:1:1")
    hub.deliver()
    assert [c["path"] for c in hub.fake.calls() if c["path"].endswith("bizsend")] == []
    assert rows(hub)[-1].status == "undelivered"


def test_when_wechat_says_43101_the_opt_in_ends(hub: Chat) -> None:
    hub.say(R, "我想约理发")
    hub.clock.advance(days=3)
    # our record says yes, WeChat never heard it (an event the bot kept but WeChat since forgot)
    record_subscribe_choices(hub.services.sessions, 1, parse_xml(choice_xml(
        R, int(hub.clock.now().timestamp()), (TID, "accept"))), hub.clock.now())
    order_news(hub, "accepted:804:1:1")
    hub.deliver()
    assert [c["result"]["errcode"] for c in hub.fake.refused()] == [43101]
    last = rows(hub)[-1]
    assert last.status == "undelivered" and "subscribe_refused" in last.payload["reasons"]
    assert optin(hub) == ("reject", 0)


def test_a_subscription_account_sends_no_template_and_no_subscribe_notice(db_url: str, clock: FakeClock,
                                                                         fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat)  # a notice template is configured
    try:
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
            subscriptions.set_account_kind(s, 1, subscriptions.SUBSCRIPTION, clock.now())
        fake_wechat.rules.account = "subscription"
        svc.hubs.forget()
        account = Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid)
        chat = Chat(create_app(services=svc).test_client(), account, clock, svc, fake_wechat)
        chat.say(R, "我要约助浴")
        clock.advance(days=3)
        order_news(chat, "accepted:805:1:1")
        chat.deliver()
        assert [(c["path"], c["result"]) for c in fake_wechat.refused()] == []
        last = rows(chat)[-1]
        assert last.status == "undelivered" and "no_template" in last.payload["reasons"]
    finally:
        svc.close()


def test_the_strict_fake_refuses_templates_on_a_subscription_account(fake_wechat: FakeWeChatServer) -> None:
    import requests

    fake_wechat.follower(R)
    fake_wechat.rules.account = "subscription"
    token = requests.get(f"{fake_wechat.url}/cgi-bin/token", params={"grant_type": "client_credential",
                                                                    "appid": "wx1", "secret": "s"}).json()
    data = {"thing1": {"value": "理发"}}
    for path in ("message/template/send", "message/subscribe/bizsend"):
        res = requests.post(f"{fake_wechat.url}/cgi-bin/{path}", params={"access_token": token["access_token"]},
                            json={"touser": R, "template_id": TID, "data": data}).json()
        assert res["errcode"] == 48001, (path, res)


def test_opt_ins_are_counted_and_spent_once_on_both_databases(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    now = clock.now()
    try:
        for at, expected in ((100, 1), (100, 0), (101, 1)):  # an acceptance, WeChat's retry of it, another one
            with transaction(svc.sessions) as s:
                assert subscriptions.record_choices(s, 1, R, at, [(TID, ACCEPT)], now) == expected
        spent = []
        for _ in range(3):
            with transaction(svc.sessions) as s:
                spent.append(subscriptions.take_notice(s, 1, R, TID, long_term=False, now=now))
        assert spent == [True, True, False]
        with transaction(svc.sessions) as s:
            subscriptions.give_back(s, 1, R, TID, now)  # WeChat refused a value of ours: still his
        with svc.sessions() as s:
            assert subscriptions.may_notify(s, 1, R, TID, long_term=False)
        with transaction(svc.sessions) as s:
            subscriptions.refused(s, 1, R, TID, now)
        with svc.sessions() as s:
            assert not subscriptions.may_notify(s, 1, R, TID, long_term=True)
    finally:
        svc.close()


def test_the_strict_fake_sends_one_notice_per_acceptance(fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    import requests

    at = int(clock.now().timestamp())
    fake_wechat.follower(R)
    token = requests.get(f"{fake_wechat.url}/cgi-bin/token", params={"grant_type": "client_credential",
                                                                    "appid": "wx1", "secret": "s"}).json()

    def bizsend() -> int:
        res = requests.post(f"{fake_wechat.url}/cgi-bin/message/subscribe/bizsend",
                            params={"access_token": token["access_token"]},
                            json={"touser": R, "template_id": TID, "data": {"thing1": {"value": "理发 订单12"}}})
        return int(res.json()["errcode"])

    assert bizsend() == 43101  # never accepted
    fake_wechat.push(choice_xml(R, at, (TID, "accept")))
    assert [bizsend(), bizsend()] == [0, 43101]  # one-time: one notice
    fake_wechat.push(choice_xml(R, at + 1, (TID, "accept")))
    fake_wechat.push(choice_xml(R, at + 2, (TID, "failed:user block"), event="subscribe_msg_sent_event"))
    assert bizsend() == 43101  # blocked since


def test_any_message_the_user_sends_opens_the_fake_s_window(fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    at = int(clock.now().timestamp())
    fake_wechat.push(f"<xml><ToUserName>gh</ToUserName><FromUserName>{R}</FromUserName><CreateTime>{at}"
                     "</CreateTime><MsgType>miniprogrampage</MsgType><MsgId>1</MsgId></xml>")
    assert fake_wechat.state.custom_verdict(R, clock.now()) == 0  # the bot counts it as a message too
    fake_wechat.push(choice_xml("oSomeoneElse1", at, (TID, "accept")))
    assert fake_wechat.state.custom_verdict("oSomeoneElse1", clock.now()) == 45015  # an opt-in opens nothing


def test_the_webhook_itself_keeps_the_choice(hub: Chat) -> None:
    """Nothing but the webhook: the 订阅通知 event WeChat posts is kept as the person's notice quota."""
    xml = choice_xml(R, int(hub.clock.now().timestamp()), (TID, "accept"))
    assert hub._post(xml, R) is None
    assert optin(hub) == ("accept", 1)
    assert hub._post(xml, R) is None  # WeChat's retry of the same event
    assert optin(hub) == ("accept", 1)
