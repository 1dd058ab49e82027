"""Only a message the person sent opens the 48-hour customer-service window; a follow, a scan or a menu click allows
3 messages within one minute, and an unfollow ends what came before. The bot's rules and the strict fake agree:
no customer-service message WeChat would refuse is tried."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.devtools.simulator import Account, message_xml
from bot.outbox import enqueue
from bot.outbox_rules import AFTER_EVENT, AFTER_MESSAGE, grants, quota_left
from bot.services import Services
from bot.worker import jobs
from storage.db import transaction
from storage.models import OutboxMessage, User
from tests.conftest import NOW, make_services
from tests.dialog import Chat

R = "oGranny000001"


@pytest.fixture
def hub(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Chat]:
    """The demo hub, keeping processed messages one day (the least allowed), so a person's window is judged from
    what the users table says once the rows are gone."""
    svc = make_services(db_url, clock, fake_wechat, processed_messages_keep_days=1)
    with transaction(svc.sessions) as s:
        seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
    svc.hubs.forget()
    account = Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid, aes_key=svc.config.wechat_aes_key)
    yield Chat(create_app(services=svc).test_client(), account, clock, svc, fake_wechat)
    svc.close()


def event(chat: Chat, openid: str, name: str, key: str | None = None) -> str | None:
    xml = message_xml(to="gh_hub", sender=openid, create_time=int(chat.clock.now().timestamp()), msg_type="event",
                      Event=name, EventKey=key)
    return chat._post(xml, openid)


def notice(services: Services, openid: str, key: str) -> None:
    with transaction(services.sessions) as s:
        enqueue(s, hub_id=1, to=openid, text="您的订单有志愿者接单了，师傅明天下午三点上门。", now=services.clock.now(),
                idempotency_key=key)


def outcome(services: Services) -> list[tuple[str, str | None]]:
    with services.sessions() as s:
        return [(r.status, r.sent_via) for r in s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def last_message_at(services: Services, openid: str) -> Any:
    with services.sessions() as s:
        return s.scalar(select(User.last_inbound_at).where(User.openid == openid))


def test_a_menu_click_or_a_scan_is_not_a_message(hub: Chat) -> None:
    hub.say(R, "喂 你们能帮老人理发不")
    wrote = last_message_at(hub.services, R)
    assert wrote is not None
    hub.clock.advance(hours=30)
    event(hub, R, "CLICK", "MENU_ORDER")
    event(hub, R, "SCAN", "community:幸福小区")
    assert last_message_at(hub.services, R) == wrote  # the window is still the one her message opened


def test_a_follow_never_passes_for_a_message_once_its_row_is_pruned(hub: Chat) -> None:
    event(hub, R, "subscribe")  # followed, never wrote
    assert last_message_at(hub.services, R) is None
    hub.clock.advance(days=1, hours=2)
    assert jobs.prune_processed_messages(hub.services) >= 1  # her follow's row is gone
    notice(hub.services, R, "accepted:901:1:1")
    hub.deliver()
    assert [(c["path"], c["result"]) for c in hub.fake.refused()] == []
    assert outcome(hub.services) == [("sent", "template")]


def test_after_an_unfollow_and_a_follow_again_her_old_message_opens_nothing(hub: Chat) -> None:
    hub.say(R, "我要订个助餐 明天中午送到幸福小区3栋")
    hub.clock.advance(hours=1)
    event(hub, R, "unsubscribe")
    hub.clock.advance(hours=1)
    event(hub, R, "subscribe")
    hub.clock.advance(minutes=5)  # the follow's 3 messages within a minute are over
    notice(hub.services, R, "accepted:902:1:1")
    hub.deliver()
    assert [(c["path"], c["result"]) for c in hub.fake.refused()] == []
    assert outcome(hub.services)[-1] == ("sent", "template")


def test_inside_the_follow_s_minute_a_chat_message_still_goes(hub: Chat) -> None:
    event(hub, R, "subscribe")
    hub.clock.advance(seconds=20)
    notice(hub.services, R, "accepted:903:1:1")
    hub.deliver()
    assert [(c["path"], c["result"]) for c in hub.fake.refused()] == []
    assert outcome(hub.services)[-1] == ("sent", "custom")


def test_grants_end_at_an_unfollow() -> None:
    t0 = NOW
    actions = [("text", t0, 1), ("event:unsubscribe", t0 + timedelta(hours=1), 2),
               ("event:subscribe", t0 + timedelta(hours=2), 3)]
    (g,) = grants(actions)
    assert (g.limit, g.lasts, g.at) == (*AFTER_EVENT, t0 + timedelta(hours=2))
    assert quota_left((g,), [], t0 + timedelta(hours=2, minutes=5)) == 0
    # written again after following again: her new message opens 5 within 48 hours
    again = grants([*actions, ("voice", t0 + timedelta(hours=3), 4)])
    assert {(x.limit, x.lasts) for x in again} == {AFTER_EVENT, AFTER_MESSAGE}
    assert quota_left(again, [], t0 + timedelta(hours=4)) == 5
