"""The console's hand-over inbox and staff linking their WeChat, for every role, and the whole stack: a resident
asks for a person, staff answer from the console, the resident receives it at the fake WeChat, staff hand back;
a staff member binds WeChat by scanning (the test posts the event) and then receives a staff notice."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import STAFF_OPENID
from bot.devtools.simulator import Account, message_xml
from bot.inbox import handover
from bot.services import Services
from storage.db import transaction
from storage.models import Handover, User
from storage.models_admin import StaffAccount, StaffLinkScene
from tests.bot.admin.test_admin import Seeded, login, post, text
from tests.dialog import Chat

RESIDENT = "oResident01"  # seed_console's resident: their orders are of the haircut and the repair teams


@pytest.fixture
def chat(client: Any, account: Account, clock: FakeClock, services: Services, fake_wechat: FakeWeChatServer,
         seeded: Seeded) -> Chat:
    return Chat(client, account, clock, services, fake_wechat)


def _handover_id(services: Services, openid: str = RESIDENT) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(Handover.id).join(User, User.id == Handover.user_id)
                            .where(User.openid == openid, Handover.closed_at.is_(None))) or 0)


def _event(chat: Chat, openid: str, event: str, key: str) -> str | None:
    xml = message_xml(to="gh_hub", sender=openid, create_time=int(chat.clock.now().timestamp()), msg_type="event",
                      Event=event, EventKey=key)
    return chat._post(xml, openid)


def _account_id(services: Services, username: str) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(StaffAccount.id).where(StaffAccount.username == username)) or 0)


def test_resident_handover_reply_and_hand_back_through_the_console(client: Any, chat: Chat,
                                                                    services: Services) -> None:
    assert chat.say(RESIDENT, "我想问问理发的事") is not None
    assert "转接" in (chat.say(RESIDENT, "算了 还是找个工作人员跟我说吧") or "")
    chat.clock.advance(minutes=7)
    assert chat.say(RESIDENT, "我腿脚不好 下不了楼 能不能上门给我理个发 电话13812345678") is None
    chat.deliver()
    login(client, "xiaoli")
    page = text(client.get("/admin/inbox"))
    assert 'id="nav-inbox"' in page and re.search(r'id="nav-inbox">人工服务 <span class="tag warn">1</span>', page)
    assert "7分钟" in page and "能不能上门给我理个发" in page and "13812345678" in page  # staff see it all
    hid = _handover_id(services)
    page = text(client.get(f"/admin/inbox/{hid}"))
    assert "我想问问理发的事" in page and "算了 还是找个工作人员跟我说吧" in page and "转接" in page
    assert "reply-form" in page and "back-form" in page
    answer = "阿姨您好，我是社区小李，明天上午让张师傅上门给您理发，好吗？"
    resp = post(client, f"/admin/inbox/{hid}/reply", {"note": answer}, page=f"/admin/inbox/{hid}")
    assert resp.status_code == 302
    assert "待发送" in text(client.get(f"/admin/inbox/{hid}"))
    got = chat.deliver()
    assert got.get(RESIDENT) == [answer]
    page = text(client.get(f"/admin/inbox/{hid}"))
    assert "已发出" in page and "待发送" not in page
    assert 'id="nav-inbox">人工服务</a>' in text(client.get("/admin/inbox"))  # answered: no badge
    assert chat.say(RESIDENT, "好的 谢谢小李") is None  # still handed over: kept, the bot quiet
    assert "好的 谢谢小李" in text(client.get(f"/admin/inbox/{hid}"))
    assert post(client, f"/admin/inbox/{hid}/back", page=f"/admin/inbox/{hid}").status_code == 302
    assert chat.deliver().get(RESIDENT) == [handover.BACK_TO_BOT]
    assert "现在没有等工作人员回复的居民" in text(client.get("/admin/inbox"))
    assert "已交还机器人" in text(client.get(f"/admin/inbox/{hid}"))
    reply = chat.say(RESIDENT, "你好")
    assert reply is not None and "1" in reply  # the bot answers again
    # a closed conversation takes no reply
    post(client, f"/admin/inbox/{hid}/reply", {"note": "还在吗"}, page="/admin/inbox")
    assert chat.deliver().get(RESIDENT) is None


def test_a_leader_sees_only_their_teams_residents_masked_and_a_merchant_no_inbox(client: Any, chat: Chat,
                                                                                  services: Services) -> None:
    chat.say(RESIDENT, "人工")
    chat.say(RESIDENT, "我的电话是13812345678 住幸福小区3栋")
    chat.say("oStranger09", "转人工")  # no order with the haircut team
    mine, other = _handover_id(services), _handover_id(services, "oStranger09")
    login(client, "laowang")
    page = text(client.get("/admin/inbox"))
    assert f"/admin/inbox/{mine}\"" in page and f"/admin/inbox/{other}\"" not in page
    assert "138****5678" in page and "13812345678" not in page
    page = text(client.get(f"/admin/inbox/{mine}"))
    assert "138****5678" in page and "13812345678" not in page
    assert client.get(f"/admin/inbox/{other}").status_code == 404
    assert post(client, f"/admin/inbox/{other}/reply", {"note": "您好"}, page="/admin/inbox").status_code == 404
    assert post(client, f"/admin/inbox/{other}/back", page="/admin/inbox").status_code == 404
    client.post("/admin/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    login(client, "shop")
    for path in ("/admin/inbox", f"/admin/inbox/{mine}"):
        assert client.get(path).status_code == 403, path
    assert 'id="nav-inbox"' not in text(client.get("/admin/merchants"))
    assert post(client, f"/admin/inbox/{mine}/reply", {"note": "您好"}, page="/admin/merchants").status_code == 403
    assert post(client, f"/admin/inbox/{mine}/back", page="/admin/merchants").status_code == 403


def test_staff_of_another_hub_never_see_this_hubs_inbox(client: Any, chat: Chat, services: Services) -> None:
    chat.say(RESIDENT, "人工")
    hid = _handover_id(services)
    login(client, "east")
    assert "现在没有等工作人员回复的居民" in text(client.get("/admin/inbox"))
    assert client.get(f"/admin/inbox/{hid}").status_code == 404


def test_staff_bind_wechat_by_scanning_and_then_receive_a_staff_notice(client: Any, chat: Chat, services: Services,
                                                                        fake_wechat: FakeWeChatServer) -> None:
    xiaoli = _account_id(services, "xiaoli")
    login(client, "boss")
    page = text(client.get("/admin/staff"))
    assert f"/admin/staff/{xiaoli}/wechat" in page and "绑定微信" in page
    page = text(client.get(f"/admin/staff/{xiaoli}/wechat"))
    assert "还没有绑定微信" in page and "link-code" not in page
    assert post(client, f"/admin/staff/{xiaoli}/wechat", page="/admin/staff").status_code == 302
    resp = client.get(f"/admin/staff/{xiaoli}/wechat")
    page = text(resp)
    assert "link-code" in page and "showqrcode?ticket=FAKE_TICKET_" in page
    assert "https://mp.weixin.qq.com" in resp.headers["Content-Security-Policy"]
    assert "mp.weixin.qq.com" not in client.get("/admin/staff").headers["Content-Security-Policy"]
    with services.sessions() as s:
        scene = s.execute(select(StaffLinkScene)).scalar_one()
    assert any(c["path"].endswith("/qrcode/create") for c in fake_wechat.calls())
    # she follows the account by scanning it: a follow with the scene
    reply = _event(chat, "oXiaoliWx", "subscribe", f"qrscene_{scene.scene}")
    assert reply is not None and "绑定成功" in reply and "xiaoli" in reply
    with services.sessions() as s:
        user = s.execute(select(User).where(User.openid == "oXiaoliWx")).scalar_one()
        account = s.get(StaffAccount, xiaoli)
        assert "staff" in user.roles and account is not None and account.wechat_user_id == user.id
    assert "已绑定" in text(client.get(f"/admin/staff/{xiaoli}/wechat"))
    # the code works once
    reply = _event(chat, "oSomeoneElse", "subscribe", f"qrscene_{scene.scene}")
    assert reply is not None and "已经用过了" in reply
    with services.sessions() as s:
        assert "staff" not in s.execute(select(User).where(User.openid == "oSomeoneElse")).scalar_one().roles
    # and then she receives staff notices: a resident asks for a person
    chat.deliver()
    chat.say(RESIDENT, "我要找人工")
    got = chat.deliver()
    assert any("人工" in t for t in got.get("oXiaoliWx", [])), got
    # unlink from the staff page: no more notices
    resp = post(client, f"/admin/staff/{xiaoli}/unlink", {"next": "/admin/staff"}, page="/admin/staff")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/staff")
    with services.sessions() as s:
        assert "staff" not in s.execute(select(User).where(User.openid == "oXiaoliWx")).scalar_one().roles
    chat.say("oAnother02", "人工")
    assert "oXiaoliWx" not in chat.deliver()


def test_a_link_code_expires_and_an_existing_follower_links_by_scan(client: Any, chat: Chat,
                                                                     services: Services) -> None:
    xiaoli = _account_id(services, "xiaoli")
    login(client, "xiaoli")  # staff may bind their own WeChat, not another account's
    assert post(client, f"/admin/staff/{_account_id(services, 'boss')}/wechat", page="/admin/orders").status_code == 403
    assert post(client, f"/admin/staff/{xiaoli}/wechat", page="/admin/orders").status_code == 302
    with services.sessions() as s:
        first = s.execute(select(StaffLinkScene.scene)).scalar_one()
    chat.say("oXiaoliWx", "你好")  # she already follows the account
    chat.clock.advance(minutes=11)
    reply = _event(chat, "oXiaoliWx", "SCAN", first)
    assert reply is not None and "过期" in reply
    assert post(client, f"/admin/staff/{xiaoli}/wechat", page="/admin/orders").status_code == 302
    with services.sessions() as s:
        second = s.execute(select(StaffLinkScene.scene).order_by(StaffLinkScene.id.desc()).limit(1)).scalar_one()
    reply = _event(chat, "oXiaoliWx", "SCAN", second)
    assert reply is not None and "绑定成功" in reply
    assert post(client, f"/admin/staff/{xiaoli}/unlink", page="/admin/orders").status_code == 302
    with services.sessions() as s:
        assert s.get(StaffAccount, xiaoli).wechat_user_id is None  # type: ignore[union-attr]


def test_only_admin_and_staff_accounts_link_and_merchants_cannot_reach_the_pages(client: Any, chat: Chat,
                                                                                 services: Services) -> None:
    laowang = _account_id(services, "laowang")
    login(client, "boss")
    page = text(client.get("/admin/staff"))
    assert f"/admin/staff/{laowang}/wechat\"" not in page
    post(client, f"/admin/staff/{laowang}/wechat", page="/admin/staff")
    with services.sessions() as s:
        assert s.execute(select(StaffLinkScene)).first() is None
    assert "只有系统管理员和社区工作人员" in text(client.get(f"/admin/staff/{laowang}/wechat"))
    client.post("/admin/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    login(client, "shop")
    shop = _account_id(services, "shop")
    assert client.get(f"/admin/staff/{laowang}/wechat").status_code == 403
    assert post(client, f"/admin/staff/{laowang}/unlink", page="/admin/merchants").status_code == 403
    # the merchant's own account is not linkable either
    assert client.get(f"/admin/staff/{shop}/wechat").status_code == 200
    post(client, f"/admin/staff/{shop}/wechat", page="/admin/merchants")
    with services.sessions() as s:
        assert s.execute(select(StaffLinkScene)).first() is None


def test_linking_another_wechat_moves_the_role(chat: Chat, services: Services) -> None:
    chat.say("oOldPhone01", "你好")
    chat.say("oNewPhone02", "你好")
    with transaction(services.sessions) as s:
        account = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        for openid in ("oOldPhone01", "oNewPhone02"):
            user = s.execute(select(User).where(User.openid == openid)).scalar_one()
            handover.link(s, account, user, actor="test", now=chat.clock.now())
    with services.sessions() as s:
        roles = {openid: list(r) for openid, r in s.execute(
            select(User.openid, User.roles).where(User.openid.in_(["oOldPhone01", "oNewPhone02"])))}
    assert "staff" not in roles["oOldPhone01"] and "staff" in roles["oNewPhone02"]
    with services.sessions() as s:
        assert STAFF_OPENID in [u.openid for u in s.scalars(select(User)) if "staff" in (u.roles or [])]
