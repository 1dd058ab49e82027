"""Outside tester round 6 (helper w2vol), through the whole webhook: a bare 接单 takes the one order offered, or lists
them by number and "1" / "2" right after takes that one; the team group and the others offered hear an order is
taken; the hours reported cannot exceed the time since the service could have started; 完成 again, and an ID number
registered already, are answered in plain words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import as_utc
from storage.db import transaction
from storage.models import Order, OrderOffer, Team, User
from tests.bot.people.test_volunteers_registration import ADULT_ID, register_adult
from tests.dialog import Chat, all_orders

R = "oResidentW2vol"
B1 = "oVolBarber01"  # a demo barber (张师傅, 13900000001)
B2 = "oVolBarber02"  # another (李阿姨, 13900000002)
ROBOT = "W2VOL-HAIRCUT-ROBOT"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """On both databases: the offers are read on demand, and the notes of an order taken go through the outbox."""
    return any_db_url


TOMORROW = "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678"


def _order(chat: Chat, services: Any, said: str = TOMORROW) -> Order:
    assert "回复 1 确认" in (chat.say(R, said) or "")
    assert "已提交" in (chat.say(R, "1") or "")
    return all_orders(services)[-1]


def _offered_to(services: Any, order: Order) -> set[str]:
    with services.sessions() as s:
        return set(s.scalars(select(User.openid).join(OrderOffer, OrderOffer.volunteer_id == User.volunteer_id)
                             .where(OrderOffer.order_id == order.id)))


def _state(services: Any, order: Order) -> tuple[str, float | None]:
    with services.sessions() as s:
        got = s.get_one(Order, order.id)
        return got.state, got.hours


# -- #1 one-tap accept ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["接", "接单", "好 我去", "我接了"])
def test_a_bare_accept_takes_the_one_order_offered(chat: Chat, services: Any, words: str) -> None:
    order = _order(chat, services)
    assert B1 in _offered_to(services, order)
    reply = chat.say(B1, words) or ""
    assert "接单成功" in reply and str(order.ref) in reply and "要接哪一单" not in reply
    assert _state(services, order)[0] == "accepted"


def test_two_offered_are_listed_and_the_number_right_after_takes_that_one(chat: Chat, services: Any) -> None:
    first = _order(chat, services)
    second = _order(chat, services, "后天上午十点来给我理发 幸福小区5栋101 电话13812345679")
    assert B1 in _offered_to(services, first) and B1 in _offered_to(services, second)
    listed = chat.say(B1, "接单") or ""
    assert f"1 订单{first.ref}" in listed and f"2 订单{second.ref}" in listed
    reply = chat.say(B1, "2") or ""
    assert "接单成功" in reply and str(second.ref) in reply and "您需要什么服务" not in reply
    assert _state(services, second)[0] == "accepted" and _state(services, first)[0] == "dispatched"


def test_with_nothing_offered_the_fitting_orders_are_numbered_and_1_takes_the_first(chat: Chat,
                                                                                    services: Any) -> None:
    chat.dispatching = False  # not offered to anyone yet: it fits the barbers all the same
    order = _order(chat, services)
    assert not _offered_to(services, order)
    listed = chat.say(B1, "接单") or ""
    assert f"1 订单{order.ref}" in listed and "序号" in listed
    reply = chat.say(B1, "1") or ""
    assert "接单成功" in reply and "您需要什么服务" not in reply
    assert _state(services, order)[0] == "accepted"


# -- #3 the team group and the others offered are told -----------------------------------------------------------


def test_the_group_and_the_others_offered_hear_the_order_is_taken(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(select(Team).where(Team.code == "haircut")).scalar_one().robot_key = ROBOT
    order = _order(chat, services)
    assert {B1, B2} <= _offered_to(services, order)
    chat.wanted()  # the offers and the group's post, delivered
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    told = chat.wanted()
    note = f"订单{order.ref}（义务理发）已有志愿者接单，谢谢大家！"
    assert told.get(B2) == [note]
    assert [t for t in told.get(f"robot:{ROBOT}", []) if "已有志愿者接单" in t] == [f"【爱心理发队】{note}"]
    assert not any("已有志愿者接单" in t for t in told.get(B1, []))  # the one who took it is told the details
    for texts in told.values():
        for t in texts:
            if "已有志愿者接单" in t:
                assert "13812345678" not in t and "幸福小区" not in t and "501" not in t
    assert "已被接走" in (chat.say(B2, f"接单 {order.ref}") or "")
    chat.say(B1, f"退单 {order.ref} 临时有事")
    chat.say(B1, "1")
    assert not any("已有志愿者接单" in t for texts in chat.wanted().values() for t in texts)  # said once


# -- #4 hours that fit the time worked -------------------------------------------------------------------------


def test_hours_beyond_the_time_since_accepting_are_refused_plainly(chat: Chat, services: Any) -> None:
    order = _order(chat, services, "尽快来给我理个发 幸福小区3栋2单元501 电话13812345678")
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.clock.advance(minutes=1)
    reply = chat.say(B1, f"完成 {order.ref} 2") or ""
    assert "从接单到现在只有1分钟" in reply and "最多记0.5小时" in reply and "人工" in reply
    assert _state(services, order) == ("accepted", None)
    chat.clock.advance(minutes=60)
    assert "最多记1.5小时" in (chat.say(B1, f"完成 {order.ref} 12") or "")
    assert "辛苦了" in (chat.say(B1, f"完成 {order.ref} 1.5") or "")
    assert _state(services, order) == ("completed", 1.5)


def test_hours_count_from_the_appointment_when_it_starts_after_the_accept(chat: Chat, services: Any) -> None:
    order = _order(chat, services)  # tomorrow 15:00
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    assert order.start_at is not None
    chat.clock.set(as_utc(order.start_at) + timedelta(minutes=60))
    reply = chat.say(B1, f"完成 {order.ref} 2") or ""
    assert "从约定的开始时间到现在只有1小时" in reply and "最多记1.5小时" in reply
    assert "辛苦了" in (chat.say(B1, f"完成 {order.ref} 1.5") or "")


# -- #5 wording ------------------------------------------------------------------------------------------------


def test_done_again_says_the_hours_recorded_not_the_rating(chat: Chat, services: Any) -> None:
    order = _order(chat, services)
    chat.say(B1, f"接单 {order.ref}")
    assert order.start_at is not None
    chat.clock.set(as_utc(order.start_at) + timedelta(hours=2))
    assert "辛苦了" in (chat.say(B1, f"完成 {order.ref} 2") or "")
    reply = chat.say(B1, f"完成 {order.ref} 3") or ""
    assert "已经完成了" in reply and "时长记为2小时" in reply and "人工" in reply and "等您评价" not in reply
    assert _state(services, order) == ("completed", 2.0)


def test_an_id_registered_already_is_said_without_the_next_question(chat: Chat, services: Any) -> None:
    register_adult(chat)
    assert "报名已提交" in (chat.say("oApplicant001", "1") or "")
    other = "oApplicantTwice"
    chat.say(other, "注册志愿者")
    chat.say(other, "王建国")
    chat.say(other, "1")
    chat.say(other, "46岁")
    reply = chat.say(other, ADULT_ID) or ""
    assert "已经在本站报过名" in reply and "您能提供哪些服务" not in reply and "义务理发" not in reply


def test_words_at_the_id_question_are_explained_and_cancel_leaves(chat: Chat, services: Any) -> None:
    who = "oApplicantWords"
    chat.say(who, "注册志愿者")
    chat.say(who, "刘师傅")
    chat.say(who, "1")
    assert "身份证号" in (chat.say(who, "50岁") or "")
    reply = chat.say(who, "修水管 通下水道") or ""
    assert "18位" in reply and "您输入的是" not in reply and "取消" in reply
    assert "已取消" in (chat.say(who, "取消") or "")
