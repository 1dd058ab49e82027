"""What the handler reads for the dialogue only when a message can use it: the last address, open orders, teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Membership, Order, Team, Volunteer
from tests.bot.people.test_volunteers_registration import ADULT_ID
from tests.dialog import Chat, verify_dialog

R = "oGrandma01"


def _order_haircut(chat: Chat) -> None:
    chat.say(R, "明天上午九点来帮我理发")
    chat.say(R, "幸福小区3栋2单元501")
    chat.say(R, "13812345678")
    assert "已提交" in (chat.say(R, "1") or "")


def test_the_same_address_as_last_time_is_offered_from_the_last_order(chat: Chat) -> None:
    _order_haircut(chat)
    chat.say(R, "后天下午想请人来打扫卫生")
    reply = chat.say(R, "地址跟上回一样") or ""
    assert "幸福小区3栋2单元501" in reply


def test_that_haircut_is_not_wanted_any_more_finds_the_open_order(chat: Chat, services: Any) -> None:
    _order_haircut(chat)
    with services.sessions() as s:
        order_id = s.scalar(select(Order.id).order_by(Order.id.desc()))
    reply = chat.say(R, "那个理发的不要了") or ""
    assert str(order_id) in reply and "取消" in reply
    reply = chat.say(R, "对") or ""
    assert "已取消" in reply
    with services.sessions() as s:
        assert s.scalar(select(Order.state).where(Order.id == order_id)) == "cancelled"


def test_registration_offers_the_hubs_own_teams_and_saves_the_one_chosen(chat: Chat, services: Any) -> None:
    who = "oNewVol01"
    verify_dialog(chat, [
        (who, "注册志愿者", "您的姓名"),
        (who, "王建国", "性别"),
        (who, "1", "出生日期或年龄"),
        (who, "46岁", "身份证号"),
        (who, ADULT_ID, "您能提供哪些服务"),
        (who, "2", "什么时候有空"),  # 2 = repair in the catalogue
        (who, "周末全天", "手机号"),
    ])
    reply = chat.say(who, "13811112222") or ""
    # the demo hub's own team that serves repairs (bot/devtools/seed.py), not the catalogue's "水电维修服务队"
    assert "想加入哪个服务队" in reply and "便民维修队" in reply and "水电维修服务队" not in reply
    number = next(line.split()[0] for line in reply.splitlines() if "便民维修队" in line)
    verify_dialog(chat, [(who, number, "志愿者守则"), (who, "同意", "请核对您的报名信息"), (who, "1", "报名已提交")])
    with services.sessions() as s:
        vol = s.execute(select(Volunteer).where(Volunteer.name == "王建国")).scalar_one()
        member = s.execute(select(Membership).where(Membership.volunteer_id == vol.id)).scalar_one()
        team = s.get(Team, member.team_id)
        assert team is not None and team.name == "便民维修队"
