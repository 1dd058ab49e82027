"""Order numbers typed in chat that fit no order (too big for any id) get a plain answer, not "系统有点忙"."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.inbox.handler import BUSY_REPLY
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
    assert "订单1已提交" in (chat.say(R, "1") or "")
    assert "接单成功" in (chat.say(VOL, "接单 1") or "")
    assert "没有找到订单2" in (chat.say(VOL, "接单 2") or "")
