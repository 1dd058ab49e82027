"""The outside tester's findings (2026-12-02, /tmp/outside/report.md) that are about what an action does, through the
whole webhook: a cancel that said 「好的，已取消。」 and cancelled nothing, a rating guessed from praise and paid for,
a volunteer's 我的订单 that showed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import PointsEntry
from tests.dialog import Chat, all_orders, verify_dialog

R, R2 = "oResidentH01", "oResidentH02"
B1 = "oVolBarber01"  # a demo barber


HAIRCUT = "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678"


def _order_one(chat: Chat, who: str = R, what: str = HAIRCUT) -> str:
    reply = chat.say(who, what) or ""
    assert "回复 1 确认" in reply, reply
    reply = chat.say(who, "1") or ""
    assert "已提交" in reply, reply
    return reply


def test_quxiao_dingdan_without_a_number_cancels_the_one_open_order(chat: Chat, services: Any) -> None:
    """R10: 「取消订单」 replied 「好的，已取消。」 but the order stayed 「正在联系志愿者」."""
    _order_one(chat)
    (order,) = all_orders(services)
    reply = chat.say(R, "取消订单") or ""
    assert str(order.ref) in reply and "已取消" not in reply and "回复 1 确认取消" in reply
    assert f"订单{order.ref}已取消" in (chat.say(R, "1") or "")
    (order,) = all_orders(services)
    assert order.state == "cancelled"


def test_buyaole_quxiaoba_right_after_ordering_finds_the_order(chat: Chat, services: Any) -> None:
    """R10: 「不要了 取消吧」 (one order, just placed) answered that there was nothing to cancel."""
    _order_one(chat)
    reply = chat.say(R, "不要了 取消吧") or ""
    assert "没有要取消" not in reply and "要取消订单" in reply
    assert "订单保留" in (chat.say(R, "0") or "")
    (order,) = all_orders(services)
    assert order.state != "cancelled"


def test_a_cancel_with_nothing_open_says_so_and_two_open_ones_ask_which(chat: Chat, services: Any) -> None:
    reply = chat.say(R2, "取消订单") or ""
    assert "没有进行中的订单" in reply and "已取消" not in reply
    _order_one(chat, R2)
    _order_one(chat, R2, "后天上午十点来修水管 幸福小区5栋101 电话13812345679")
    first, second = all_orders(services)
    reply = chat.say(R2, "取消订单") or ""
    assert "哪一个" in reply and str(first.ref) in reply and str(second.ref) in reply
    chat.say(R2, "2")
    first, second = all_orders(services)
    assert first.state != "cancelled" and second.state == "cancelled"


def _served(chat: Chat) -> None:
    """R's haircut accepted by the barber and done (the resident is then asked to rate it)."""
    _order_one(chat)
    chat.deliver()
    (order,) = all_orders(chat.services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.clock.advance(hours=32)
    assert "辛苦了" in (chat.say(B1, f"完成 {order.ref} 2") or "")
    got = chat.deliver()
    assert "请给服务打分" in got[R][0]


def test_praise_is_no_rating_and_five_hearts_said_after_it_are_paid_as_five(chat: Chat, services: Any) -> None:
    """R25: 「师傅来过了 修得挺好」 was stored as 4 hearts at once; 「给他五颗心」 became a comment, 4 hearts paid."""
    _served(chat)
    reply = chat.say(R, "师傅来过了 修得挺好") or ""
    assert "颗心" in reply and "谢谢您的评价" not in reply
    (order,) = all_orders(services)
    assert order.rating is None
    verify_dialog(chat, [(R, "给他五颗心", "谢谢您的评价（5颗心）")])
    (order,) = all_orders(services)
    assert order.rating == 5 and not order.comment
    with services.sessions() as s:
        (entry,) = s.execute(select(PointsEntry)).scalars()
    assert entry.points == 30  # 2 h x 10 x 1.5 for five hearts


def test_a_volunteers_wo_de_dingdan_shows_the_task_just_taken(chat: Chat, services: Any) -> None:
    """V01d: 「我的订单」 right after 「接单 458896」 said 「您现在没有进行中的订单」."""
    _order_one(chat)
    chat.deliver()
    (order,) = all_orders(services)
    chat.say(B1, f"接单 {order.ref}")
    reply = chat.say(B1, "我的订单") or ""
    assert str(order.ref) in reply and "没有进行中的订单" not in reply


def test_my_orders_mid_order_keeps_the_draft(chat: Chat, services: Any) -> None:
    """R03: 「我的订单」 while ordering threw the half-made order away without a word."""
    assert "服务地址" in (chat.say(R, "我想理发 明天上午十点") or "")
    reply = chat.say(R, "我的订单") or ""
    assert "还没提交" in reply
    assert "联系电话" in (chat.say(R, "幸福小区3栋201") or "")


def test_a_volunteers_plain_words_give_back_or_complete_the_one_task(chat: Chat, services: Any) -> None:
    """V04 「不好意思 明天临时有事去不了了」 and V03 「到了 修好了」 got the residents' catch-all."""
    _order_one(chat)
    chat.deliver()
    (order,) = all_orders(services)
    chat.say(B1, f"接单 {order.ref}")
    reply = chat.say(B1, "不好意思 明天临时有事去不了了") or ""
    assert str(order.ref) in reply and "回复 1 确认退单" in reply
    assert "没有退" in (chat.say(B1, "0") or "")
    chat.clock.advance(hours=32)
    reply = chat.say(B1, "到了 修好了") or ""
    assert str(order.ref) in reply and "几个小时" in reply
    assert "已记录服务1.5小时" in (chat.say(B1, "一个半小时") or "")
    (order,) = all_orders(services)
    assert order.state == "completed" and order.hours == 1.5


def test_a_volunteer_who_cannot_go_gives_the_task_back_after_confirming(chat: Chat, services: Any) -> None:
    _order_one(chat)
    chat.deliver()
    (order,) = all_orders(services)
    chat.say(B1, f"接单 {order.ref}")
    chat.say(B1, "明天去不了了")
    assert "已退单" in (chat.say(B1, "1") or "")
    (order,) = all_orders(services)
    assert order.volunteer_id is None


def test_wo_lai_jie_names_the_service_and_gets_its_open_tasks(chat: Chat, services: Any) -> None:
    """V05: 「我来接那个陪老人聊天的单」 started a resident order for the volunteer."""
    _order_one(chat)
    chat.deliver()
    (order,) = all_orders(services)
    reply = chat.say(B1, "我来接那个理发的单") or ""
    assert f"接单 {order.ref}" in reply and "什么时间方便" not in reply


def test_an_order_without_a_phone_is_submitted_and_the_volunteer_is_told_to_reply_through_the_account(
        chat: Chat, services: Any) -> None:
    """R21: 「俺没手机 就这个微信」 at the phone question was a dead end; the order goes on without a phone, is stored
    with none, and the volunteer who takes it sees that there is no number (not a made-up one)."""
    chat.say(R, "我想理发 明天上午十点")
    assert "联系电话" in (chat.say(R, "幸福小区3栋201") or "")
    reply = chat.say(R, "俺没手机 就这个微信") or ""
    assert "微信" in reply or "公众号" in reply, reply
    assert "已提交" in (chat.say(R, "1") or "")
    (order,) = all_orders(services)
    assert order.phone is None and order.address == "幸福小区3栋201" and order.state != "cancelled"
    chat.deliver()
    told = (chat.say(B1, f"接单 {order.ref}") or "") + "\n".join(chat.deliver().get(B1, []))
    assert "幸福小区3栋201" in told and "1381" not in told, told
    assert "电话：未留" in told
