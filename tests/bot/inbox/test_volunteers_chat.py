"""Volunteers in chat: profile and edits, points, redemption by code (merchant enters it) and by
scanning the merchant's QR code; minors are never dispatched services unsuited to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.devtools.seed import seed_demo_hub
from bot.people import points
from bot.serviceloop import orders
from storage.db import transaction
from storage.models import Order, PointsEntry, Team, TeamMember, Volunteer
from tests.bot.people.volunteer_fixtures import completed_order, make_volunteer
from tests.conftest import fixture_xml
from tests.dialog import Chat, verify_dialog

V, SHOP = "oVolPoints", "oShopStaff"


@pytest.fixture
def chat(client: Any, account: Any, clock: FakeClock, services: Any, fake_wechat: Any) -> Chat:
    with transaction(services.sessions) as s:
        seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
        vol, member, user = make_volunteer(s, clock.now(), openid=V, name="周志强")
        completed_order(s, vol, user, clock.now(), 4, rating=5)  # 60 points
        from bot.people import merchants

        shop = merchants.add_merchant(s, hub_id=member.hub_id, code="shop", name="惠民超市", now=clock.now(),
                                      accepts_redemptions=True, staff_openid=SHOP)
    services.hubs.forget()
    chat = Chat(client, account, clock, services, fake_wechat)
    chat.say(SHOP, "你好")  # the counter's staff follow the account and have it open
    chat.shop_id = shop.id  # type: ignore[attr-defined]  # the demo seed has merchants of its own
    return chat


def balance(services: Any) -> int:
    with services.sessions() as s:
        vol = s.execute(select(Volunteer).where(Volunteer.name == "周志强")).scalar_one()
        return points.balance(s, 1, vol.id)


def test_points_reply(chat: Chat) -> None:
    reply = chat.say(V, "积分") or ""
    assert "积分余额：60 分" in reply and "累计服务：4 小时" in reply and "再服务 96 小时可升为1星级" in reply


def test_profile_view_and_edits(chat: Chat, services: Any) -> None:
    reply = chat.say(V, "我的资料") or ""
    assert "周志强" in reply and "440**********1233" in reply and "1 技能" in reply
    verify_dialog(chat, [
        (V, "2", "什么时候有空"),
        (V, "周六全天", "服务时间已更新"),
        (V, "我的资料", "周六全天"),
        (V, "3", "新的手机号"),
        (V, "13966667777", "电话已更新"),
        (V, "我的资料", "13966667777"),
        (V, "4", "加入 队名"),
        (V, "加入 爱心理发队", "已加入爱心理发队"),
        (V, "我的资料", "爱心理发队"),
        (V, "4", "加入 队名"),
        (V, "退出 爱心理发队", "已退出爱心理发队"),
        (V, "我的资料", "1 技能"),
        (V, "1", "您能提供哪些服务"),
        (V, "1 2", "技能已更新"),
    ])
    with services.sessions() as s:
        vol = s.execute(select(Volunteer).where(Volunteer.name == "周志强")).scalar_one()
        assert vol.availability == [{"weekday": 5, "period": "all"}] and vol.phone == "13966667777"
        assert len(vol.skills) == 2
        assert s.execute(select(TeamMember).where(TeamMember.volunteer_id == vol.id)).first() is None
    assert "还不是志愿者" in (chat.say("oStranger", "我的资料") or "")


def test_redemption_code_entered_by_the_merchant(chat: Chat, services: Any) -> None:
    reply = chat.say(V, "兑换") or ""
    assert "兑换码" in reply and "惠民超市" in reply
    code = reply.split("兑换码：")[1][:8]
    assert "不是本站登记的共建商家" in (chat.say("oSomeoneElse", f"核销 {code} 20") or "")
    assert "积分不够" in (chat.say(SHOP, f"核销 {code} 61") or "")
    verify_dialog(chat, [
        (SHOP, f"核销 {code}", "多少积分"),
        (SHOP, "20", "核销成功：志愿者周志强兑换20积分"),
        (SHOP, f"核销 {code} 5", "已经用过了"),
    ])
    assert balance(services) == 40
    assert any("剩余40分" in t for t in chat.deliver()[V])
    new = (chat.say(V, "兑换码") or "").split("兑换码：")[1][:8]
    chat.clock.advance(minutes=11)
    assert "已过期" in (chat.say(SHOP, f"核销 {new} 5") or "")
    with services.sessions() as s:
        entry = s.execute(select(PointsEntry).where(PointsEntry.kind == "redeem")).scalar_one()
        assert entry.merchant_id == chat.shop_id and entry.actor == SHOP  # type: ignore[attr-defined]
        assert entry.points == -20


def test_redemption_by_scanning_the_merchant_code(chat: Chat, services: Any) -> None:
    xml = fixture_xml("event_scan.xml").replace("merchant_redeem_17", f"merchant_redeem_{chat.shop_id}")  # type: ignore[attr-defined]
    xml = xml.replace("oResident0001", V).replace("1795390000", str(int(chat.clock.now().timestamp())))
    assert "要用多少积分" in (chat._post(xml, V) or "")
    verify_dialog(chat, [
        (V, "30", "确认用 30 积分兑换吗"),
        (V, "1", "兑换成功：在惠民超市用了30积分，剩余30分"),
    ])
    got = chat.deliver()
    assert "周志强扫码兑换了30积分" in got[SHOP][0]
    assert balance(services) == 30
    chat._post(xml.replace(f"<CreateTime>{int(chat.clock.now().timestamp())}",
                           f"<CreateTime>{int(chat.clock.now().timestamp()) + 1}"), V)
    verify_dialog(chat, [(V, "31", "确认"), (V, "1", "积分不够：现有30分")])
    assert balance(services) == 30


def test_minor_is_not_dispatched_services_unsuited_to_minors(services: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:
        seed_demo_hub(s, now)
        team = s.execute(select(Team).where(Team.code == "care")).scalar_one()  # covers companionship and meals
        kid, member, kid_user = make_volunteer(s, now, name="赵小雨", openid="oKid",
                                               birth=datetime(2012, 5, 1), skills=("companionship",))
        member.team_id = team.id
        resident = kid_user
        order = Order(hub_id=member.hub_id, state="submitted", service_code="meals", ordered_by_user_id=resident.id,
                      time_kind="asap", created_at=now, updated_at=now)
        chat_order = Order(hub_id=member.hub_id, state="submitted", service_code="companionship",
                           ordered_by_user_id=resident.id, time_kind="asap", created_at=now, updated_at=now)
        s.add_all([order, chat_order])
        s.flush()
        meals = [c.volunteer.name for c in orders.candidates(s, order, now)]
        company = [c.volunteer.name for c in orders.candidates(s, chat_order, now)]
    assert "赵小雨" not in meals and "刘大姐" in meals  # the team covers meals, but she is 14
    assert "赵小雨" in company
    with transaction(services.sessions) as s:  # nor can she take it by typing its number
        kid_user = s.merge(kid_user)
        with pytest.raises(orders.NotForYouError, match="不适合未成年志愿者"):
            orders.accept(s, hub_id=member.hub_id, user=kid_user, order_id=order.id, now=now,
                          service=orders.ServiceInfo("meals", "助餐"))
        assert s.get(Order, order.id).state == "submitted"


def test_the_merchant_scans_the_volunteers_code(chat: Chat, services: Any) -> None:
    reply = chat.say(V, "兑换") or ""
    code = reply.split("兑换码：")[1][:8]
    got = chat.deliver()
    (link,) = [t for t in got[V] if "showqrcode?ticket=" in t]
    assert "请商家用微信扫码核销" in link
    (qr,) = chat.fake.calls("/cgi-bin/qrcode/create")
    assert qr["body"]["action_info"]["scene"]["scene_str"] == f"redeem_{code}"
    assert qr["body"]["action_name"] == "QR_STR_SCENE" and qr["body"]["expire_seconds"] > 0
    xml = fixture_xml("event_scan.xml").replace("merchant_redeem_17", f"redeem_{code}")
    xml = xml.replace("oResident0001", SHOP).replace("1795390000", str(int(chat.clock.now().timestamp())))
    assert "这次兑换多少积分" in (chat._post(xml, SHOP) or "")
    verify_dialog(chat, [(SHOP, "20", "核销成功：志愿者周志强兑换20积分")])
    assert balance(services) == 40
