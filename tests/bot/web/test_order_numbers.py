"""Order numbers typed in chat: one that fits no order (too big for any id) gets a plain answer, not "系统有点忙";
orders are found by their random ref (单号) in the sender's hub, never by their sequential id."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.inbox.handler import BUSY_REPLY
from storage.models import Order
from tests.dialog import Chat

R = "oResident0001"
VOL = "oVolBarber01"
HUGE = "9" * 20


@pytest.mark.parametrize("who,text", [
    (VOL, f"接单 {HUGE}"), (VOL, "接单 9223372036854775808"), (VOL, f"完成 {HUGE} 2"), (VOL, f"退单 {HUGE}"),
    (R, f"取消订单 {HUGE}"), (VOL, "接单 " + "9" * 400), (VOL, f"时长支付 {HUGE}"),
])
def test_a_number_too_big_for_any_order_is_no_such_order(chat: Chat, caplog: pytest.LogCaptureFixture,
                                                         who: str, text: str) -> None:
    with caplog.at_level(logging.ERROR):
        reply = chat.say(who, text) or ""
        if "原因" in reply:  # 退单 asks why first
            reply = chat.say(who, "家里有事") or ""
    assert reply != BUSY_REPLY and "没有编号为" in reply and "订单" in reply, reply
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a number from outside"


def test_complete_asks_hours_then_answers_plainly(chat: Chat) -> None:
    reply = chat.say(VOL, f"完成 {HUGE}") or ""
    assert "几个小时" in reply
    reply = chat.say(VOL, "2") or ""
    assert reply != BUSY_REPLY and "没有编号为" in reply


def test_a_real_order_number_still_works(chat: Chat, services: Any) -> None:
    chat.say(R, "明天下午三点来给我理个发，地址幸福小区3栋2单元501")
    chat.say(R, "13812345678")
    placed = chat.say(R, "1") or ""
    assert chat.refs("订单#1已提交") in placed
    assert "接单成功" in (chat.say(VOL, "接单 #1") or "")
    assert "没有编号为 2 的订单" in (chat.say(VOL, "接单 2") or "")


def _placed(chat: Chat, services: Any) -> Order:
    chat.say(R, "明天下午三点来给我理个发，地址幸福小区3栋2单元501")
    chat.say(R, "13812345678")
    assert "已提交" in (chat.say(R, "1") or "")
    with services.sessions() as s:
        return s.execute(select(Order)).scalar_one()


def test_a_volunteer_cannot_take_an_order_by_guessing_numbers(chat: Chat, services: Any) -> None:
    """Finding 3: orders are named in chat by a random ref, never by their sequential id. The barber was offered
    the order (he may take it), yet its id and the refs next to its own name no order, in the words any unknown
    number gets, with nothing of the resident's address or phone."""
    order = _placed(chat, services)
    guesses = [str(order.id), str(order.id + 1), str(order.ref - 1), str(order.ref + 1), "100000", "999999"]
    for guess in guesses:
        reply = chat.say(VOL, f"接单 {guess}") or ""
        assert reply == f"没有编号为 {guess} 的订单，请核对编号。", (guess, reply)
        assert "单元501" not in reply and "13812345678" not in reply
    for command in (f"完成 {order.id} 2", f"退单 {order.id} 有事", f"评价 {order.id} 5"):
        reply = chat.say(VOL, command) or ""
        assert f"没有编号为 {order.id} 的订单" in reply and "单元501" not in reply, (command, reply)
    with services.sessions() as s:
        assert s.get_one(Order, order.id).state == "dispatched"  # nothing was taken
    reply = chat.say(VOL, f"接单 {order.ref}") or ""
    assert "接单成功" in reply and "幸福小区3栋2单元501" in reply and f"完成 {order.ref} 小时数" in reply


def test_the_resident_cancels_by_the_ref_and_never_by_the_id(chat: Chat, services: Any) -> None:
    order = _placed(chat, services)
    assert f"没有编号为 {order.id} 的订单" in (chat.say(R, f"取消订单 {order.id}") or "")
    assert f"订单{order.ref}已取消" in (chat.say(R, f"取消订单 {order.ref}") or "")
