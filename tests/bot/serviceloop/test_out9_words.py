"""Outside tester out9's wording findings: the volunteer who takes a task is not told 联系人：居民 as if that were a
name, and a cancel by staff reaches the resident as staff's, with where to ask, not as staff's bare note."""

from __future__ import annotations

from typing import Any

from bot.serviceloop import orders
from storage.db import transaction
from tests.dialog import Chat, verify_dialog

R, BARBER = "oResident01", "oVolBarber01"


def _order(chat: Chat) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "订单#1已提交")])


def test_the_taker_is_told_the_resident_left_no_name(chat: Chat) -> None:
    _order(chat)
    reply = chat.say(BARBER, "接单 #1") or ""
    assert "接单成功" in reply and "联系人：居民本人（未留姓名）" in reply and "13812345678" in reply, reply


def test_a_staff_cancel_tells_the_resident_who_and_where_to_ask(chat: Chat, services: Any) -> None:
    _order(chat)
    chat.wanted()
    with transaction(services.sessions) as s:
        orders.cancel(s, hub_id=1, order_id=1, actor="web:xiaoli", reason="  居民住院\n 先不去了 ",
                      now=chat.clock.now())
    told = chat.wanted()[R]
    ref = chat.refs("#1")
    assert any(f"您的订单{ref}已取消，是社区工作人员操作的，原因：居民住院 先不去了。" in t and "人工" in t
               for t in told), told


def test_a_repeating_visit_books_the_first_and_tells_staff_the_rest(chat: Chat, services: Any) -> None:
    """"每周三上午理发": the first Wednesday is booked; the order says it repeats (the volunteer and the console see it)
    and staff are told to arrange the rest, as the summary promised."""
    from bot.devtools.seed import STAFF_OPENID
    from storage.models import Order

    verify_dialog(chat, [(R, "每周三上午来理个发 幸福小区1栋1号 13812345678", "每周三都来"),
                         (R, "1", "订单#1已提交")])
    with services.sessions() as s:
        order = s.get(Order, 1)
        assert order is not None and "居民希望每周三都来" in (order.details or "")
    told = chat.wanted().get(STAFF_OPENID, [])
    ref = chat.refs("#1")
    assert any("每周三" in t and f"订单{ref}只约了第一次" in t and "商量以后的安排" in t for t in told), told


def test_a_suspended_volunteer_is_not_told_to_register(chat: Chat, services: Any) -> None:
    """Outside tester out10: 接单 by a suspended volunteer said "回复“注册志愿者”报名"; it says they are suspended."""
    from sqlalchemy import select, update

    from storage.models import Membership, User

    _order(chat)
    with transaction(services.sessions) as s:
        vid = s.scalar(select(User.volunteer_id).where(User.openid == BARBER))
        s.execute(update(Membership).where(Membership.volunteer_id == vid).values(status="suspended"))
    reply = chat.say(BARBER, "接单 #1") or ""
    assert "暂停中" in reply and "注册志愿者" not in reply and "接单成功" not in reply, reply


def test_someone_else_s_order_is_not_offered_for_rating(chat: Chat) -> None:
    """Outside tester out10: "评价 <another resident's 单号>" asked for hearts for it (so it exists) and then stuck as
    the conversation's order. Now: not found among theirs, said neutrally, nothing kept."""
    _order(chat)
    ref = chat.refs("#1")
    reply = chat.say("oStranger01", f"评价 {ref}") or ""
    assert f"没有编号为 {ref} 的订单" in reply and "打分" not in reply, reply  # as for any unknown number
    again = chat.say("oStranger01", "5") or ""
    assert "已评价" not in again and "谢谢您的评价" not in again, again
