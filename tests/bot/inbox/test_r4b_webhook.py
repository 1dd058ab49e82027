"""Outside tester round 4 (helper r4b), through the whole webhook: "评价 5" while an order waits for its rating is
5 hearts for it, "不用了" at the rating question says how to rate later, 退单 of somebody else's order is refused at
once, questions about an order under way name its volunteer, and a hand-over asked for again is answered."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models import Hub, Order
from tests.dialog import Chat, all_orders

R = "oResidentR4b"
B1 = "oVolBarber01"  # a demo barber (张师傅, 13900000001)
B2 = "oVolBarber02"  # another (李阿姨)


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """On both databases: the orders waiting for a rating and the open orders are read on demand."""
    return any_db_url


def _ordered(chat: Chat, services: Any) -> Order:
    assert "回复 1 确认" in (chat.say(R, "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678") or "")
    chat.say(R, "1")
    chat.deliver()
    (order,) = all_orders(services)
    return order


def _served(chat: Chat, services: Any) -> Order:
    """A haircut ordered, taken and done: its rating question is asked."""
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.clock.advance(hours=32)
    chat.say(B1, f"完成 {order.ref} 2")
    chat.deliver()
    return order


def _rating(services: Any) -> int | None:
    (order,) = all_orders(services)
    return order.rating


# -- #6 "评价 5" ------------------------------------------------------------------------------------------------


def test_rate_5_at_the_rating_question_is_five_hearts(chat: Chat, services: Any) -> None:
    _served(chat, services)
    reply = chat.say(R, "评价 5") or ""
    assert "没有编号为 5" not in reply and "请给订单5打分" not in reply
    assert _rating(services) == 5


def test_rate_5_later_is_five_hearts_for_the_order_waiting(chat: Chat, services: Any) -> None:
    order = _served(chat, services)
    assert "评价" in (chat.say(R, "不用了") or "")  # the rating question left: the order still waits
    assert _rating(services) is None
    reply = chat.say(R, "评价 4") or ""
    assert "没有编号为 4" not in reply and "订单4" not in reply.replace(f"订单{order.ref}", "")
    assert _rating(services) == 4


def test_stars_later_are_hearts_for_the_order_waiting(chat: Chat, services: Any) -> None:
    _served(chat, services)
    chat.say(R, "取消")
    chat.say(R, "★★★★")
    assert _rating(services) == 4


def test_rate_5_with_no_order_waiting_says_nothing_waits(chat: Chat, services: Any) -> None:
    _ordered(chat, services)  # not done yet: nothing waits for a rating
    reply = chat.say(R, "评价 5") or ""
    assert "没有要评价的订单" in reply and "订单5" not in reply  # (r5b: 5 is hearts, order numbers have 6 digits)
    assert _rating(services) is None


# -- #7 everyday ratings, and "不用了" ---------------------------------------------------------------------------


def test_praise_with_hearts_is_that_many_hearts(chat: Chat, services: Any) -> None:
    _served(chat, services)
    chat.say(R, "挺好的 五颗心")
    assert _rating(services) == 5


def test_full_marks_in_dialect(chat: Chat, services: Any) -> None:
    _served(chat, services)
    chat.say(R, "挺好 俺给个满分")
    assert _rating(services) == 5
    (order,) = all_orders(services)
    assert not order.comment  # the rating's own words are no comment


def test_not_so_good_is_two_hearts(chat: Chat, services: Any) -> None:
    _served(chat, services)
    chat.say(R, "不咋地")
    assert _rating(services) == 2


def test_no_thanks_at_the_rating_question_says_how_to_rate_later(chat: Chat, services: Any) -> None:
    order = _served(chat, services)
    for said in ("不用了", "取消"):
        reply = chat.say(R, said) or ""
        if said == "不用了":
            assert f"评价 {order.ref}" in reply and "积分" in reply and "已取消" not in reply
    assert _rating(services) is None
    chat.say(R, f"评价 {order.ref} 5")
    assert _rating(services) == 5


# -- #10 退单 of an order someone else holds -----------------------------------------------------------------------


def test_give_back_of_someone_elses_order_is_refused_at_once(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    reply = chat.say(B2, f"退单 {order.ref}") or ""
    assert "不是您接的" in reply and "原因" not in reply
    reply = chat.say(B2, "家里有事")  # not taken as a reason for anything
    (order,) = all_orders(services)
    assert order.volunteer_id is not None and order.state == "accepted"


def test_give_back_of_ones_own_order_still_asks_the_reason(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    chat.say(B1, f"接单 {order.ref}")
    assert "原因" in (chat.say(B1, f"退单 {order.ref}") or "")


# -- #11 who comes, and the volunteer's phone ---------------------------------------------------------------------


def test_who_comes_names_the_volunteer_once_accepted(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    reply = chat.say(R, "谁来给俺理发") or ""
    assert f"订单{order.ref}" in reply and "您需要什么" not in reply and "哪一项" not in reply
    chat.say(B1, f"接单 {order.ref}")
    chat.deliver()
    for asked in ("谁来给俺理发", "师傅电话多少", "师傅啥时候来", "我的订单"):
        reply = chat.say(R, asked) or ""
        assert "张师傅" in reply and "139****0001" in reply, (asked, reply)
        assert "13900000001" not in reply
    assert len(all_orders(services)) == 1


# -- #12 a hand-over asked for again ------------------------------------------------------------------------------


def test_asking_again_during_a_hand_over_is_answered_once_in_ten_minutes(chat: Chat, services: Any) -> None:
    assert "转接" in (chat.say(R, "人工") or "")
    first = chat.say(R, "人工") or ""
    assert "已经帮您转给工作人员了" in first
    assert not chat.say(R, "在吗 有人吗")  # said once in ten minutes
    chat.clock.advance(minutes=11)
    assert "已经帮您转给工作人员了" in (chat.say(R, "有没有活人啊") or "")


def test_a_living_person_is_a_hand_over(chat: Chat, services: Any) -> None:
    assert "转接" in (chat.say(R, "有没有活人啊") or "")


def test_the_office_phone_is_said_when_set(chat: Chat, services: Any) -> None:
    reply = chat.say(R, "社区电话多少") or ""
    assert "转接" in reply or "人工" in reply  # none set: a person
    with transaction(services.sessions) as s:
        hub = s.execute(select(Hub).order_by(Hub.id)).scalars().first()
        assert hub is not None
        hub.settings = {**(hub.settings or {}), "office_phone": "0571-88886666",
                        "office_hours": "周一至周五 8:30-17:30"}
    services.hubs.forget()
    reply = chat.say("oResidentR4b2", "打电话给社区") or ""
    assert "0571-88886666" in reply and "8:30-17:30" in reply
