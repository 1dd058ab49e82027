"""The outside tester's round 4, through the whole webhook: 人工 at night says when staff answer, "评价 N" on an order
already rated says so at once, a rating said with praise is not asked for a comment again, and a refused submit is
not followed by the offer of the next order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import transaction
from storage.models import Hub, Order
from tests.dialog import Chat, all_orders

R = "oResidentR4a"
B1 = "oVolBarber01"  # a demo barber
SHANGHAI_NIGHT = datetime.fromisoformat("2026-11-23T23:30:00+08:00")


def _served(chat: Chat, services: Any) -> Order:
    """A haircut ordered, taken and done: its rating question is asked."""
    assert "回复 1 确认" in (chat.say(R, "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678") or "")
    chat.say(R, "1")
    chat.deliver()
    (order,) = all_orders(services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.clock.advance(hours=32)
    chat.say(B1, f"完成 {order.ref} 2")
    chat.deliver()
    return order


def test_a_person_asked_for_at_night_is_told_when_staff_answer(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        hub = s.execute(select(Hub).order_by(Hub.id)).scalars().first()
        assert hub is not None
        hub.settings = {**(hub.settings or {}), "office_hours": "周一至周五 8:30-17:30"}
    services.hubs.forget()
    chat.clock.set(SHANGHAI_NIGHT)
    reply = chat.say(R, "找个真人说话") or ""
    assert "上班时间" in reply and "8:30-17:30" in reply and "请稍候" not in reply


def test_a_rating_with_praise_is_thanked_without_asking_for_a_comment_again(chat: Chat, services: Any) -> None:
    order = _served(chat, services)
    reply = chat.say(R, "5颗心 师傅手艺很好") or ""
    assert "5颗心" in reply and "还想对志愿者说点什么" not in reply
    (order,) = all_orders(services)
    assert order.rating == 5 and "手艺很好" in (order.comment or "")


def test_rating_an_order_rated_already_is_answered_at_once(chat: Chat, services: Any) -> None:
    order = _served(chat, services)
    chat.say(R, "4")
    chat.say(R, "不用了")
    reply = chat.say(R, f"评价 {order.ref}") or ""
    assert "已经评价过了" in reply and "4颗心" in reply and "人工" in reply
    assert "请给订单" not in reply  # no rating question for an order rated already
    (order,) = all_orders(services)
    assert order.rating == 4


def test_nobody_elses_rating_is_read(chat: Chat, services: Any) -> None:
    order = _served(chat, services)
    chat.say(R, "4")
    chat.say(R, "不用了")
    reply = chat.say("oSomeoneElse77", f"评价 {order.ref}") or ""
    assert "4颗心" not in reply and "已经评价过了" not in reply


def test_a_refused_submit_is_not_followed_by_the_next_orders_offer(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        hub = s.execute(select(Hub).order_by(Hub.id)).scalars().first()
        assert hub is not None
        hub.settings = {**(hub.settings or {}), "max_open_orders_per_user": 1}
    services.hubs.forget()
    assert "回复 1 确认" in (chat.say(R, "后天上午来帮我擦擦窗户 幸福小区3栋2单元501 电话13812345678") or "")
    assert "已提交" in (chat.say(R, "1") or "")
    chat.say(R, "那个 我想找人明天来修一下水管 顺便帮我理个发 幸福小区3栋2单元501")
    assert "回复 1 确认" in (chat.say(R, "1") or "")  # the phone on file: yes
    reply = chat.say(R, "1") or ""
    assert "1个订单在进行中" in reply
    assert "还要下" not in reply and "已提交" not in reply
    assert len(all_orders(services)) == 1


def test_a_call_off_after_submitting_cancels_the_order_without_any_hotline(chat: Chat, services: Any) -> None:
    assert "回复 1 确认" in (chat.say(R, "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678") or "")
    assert "已提交" in (chat.say(R, "1") or "")
    reply = chat.say(R, "俺不要了 别来了") or ""
    assert "12356" not in reply and "热线" not in reply
    if "取消" in reply and "吗" in reply:  # asked to confirm which order: yes
        reply = chat.say(R, "对") or ""
    assert "已取消" in reply or "取消了" in reply, reply
    (order,) = all_orders(services)
    assert order.state == "cancelled"
