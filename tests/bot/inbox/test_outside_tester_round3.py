"""The outside tester's round 3, through the whole webhook: three services in one voice message become one order at
a time (each offered after the one before is submitted), a rating cannot be changed in chat (said plainly, with 人工),
and a phone with digits missing is told how many."""

from __future__ import annotations

from typing import Any

from tests.dialog import Chat, all_orders

R = "oResidentK01"
B1 = "oVolBarber01"  # a demo barber
THREE = "那个 我想找人明天来修一下水管 顺便帮我理个发 再把油烟机洗一洗 我住幸福小区3栋"


def test_three_services_in_one_message_are_ordered_one_after_the_other(chat: Chat, services: Any) -> None:
    reply = chat.say(R, THREE) or ""
    assert "先帮您下【维修服务】" in reply and "义务理发" in reply and "家政保洁" in reply
    assert "接着帮您下【义务理发】和【家政保洁】" in (chat.say(R, "13800138000") or "")
    reply = chat.say(R, "1") or ""
    assert "已提交" in reply and "还要下【义务理发】的单吗" in reply
    assert reply.index("已提交") < reply.index("还要下")  # the order's own answer first, then the offer
    assert "义务理发" in (chat.say(R, "1") or "")
    assert "已提交" in (chat.say(R, "好的") or "")
    assert "先不下" in (chat.say(R, "不用了") or "")
    repair, haircut = all_orders(services)
    assert (repair.service_code, haircut.service_code) == ("repair", "haircut")
    assert repair.address == haircut.address and repair.phone == haircut.phone == "13800138000"
    assert repair.start_at == haircut.start_at


def test_a_rating_said_to_be_wrong_is_corrected_once_then_answered_plainly_with_the_way_to_staff(
        chat: Chat, services: Any) -> None:
    """Round 6 (fix15a): within an hour of rating, one correction is made in chat (bot.serviceloop.rerating)."""
    reply = chat.say(R, "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678") or ""
    assert "回复 1 确认" in reply
    chat.say(R, "1")
    chat.deliver()
    (order,) = all_orders(services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.clock.advance(hours=32)
    chat.say(B1, f"完成 {order.ref} 2")
    chat.deliver()
    assert "谢谢您的评价（4颗心）" in (chat.say(R, "4") or "")
    reply = chat.say(R, "我想改成五颗心") or ""
    assert "已改为5颗心" in reply and "收到您的留言" not in reply
    reply = chat.say(R, "刚才评错了") or ""
    assert "改过一次" in reply and "人工" in reply
    (order,) = all_orders(services)
    assert order.rating == 5 and not order.comment


def test_a_phone_with_digits_missing_is_told_how_many(chat: Chat) -> None:
    chat.say(R, "明天上午来幸福小区3栋帮我理发")
    reply = chat.say(R, "1381234") or ""
    assert "少了4位" in reply and "11位" in reply
