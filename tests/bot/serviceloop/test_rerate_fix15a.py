"""A rating read from words ("挺好" 4, "差评" 1) corrected right after it ("不对 五颗星", "打错了 是3"): once, within an
hour, and the volunteer's points follow the corrected rating exactly once (through the webhook, SQLite)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.devtools.seed import STAFF_OPENID
from bot.serviceloop import rerating
from bot.serviceloop.orders import ServiceInfo
from storage.models import Order, OrderEvent, PointsEntry, ServiceRecord, User
from tests.dialog import Chat, all_orders, verify_dialog

R = "oResident0001"
HAIRCUT = ServiceInfo("haircut", "义务理发")
B1 = "oVolBarber01"


def _done_two_hours(chat: Chat) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    chat.clock.advance(hours=32)
    verify_dialog(chat, [(B1, "完成 #1 2", "辛苦了")])
    chat.deliver()


def _points(services: Any) -> tuple[int, list[tuple[str, int]]]:
    with services.sessions() as s:
        total = int(s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))) or 0)
        rows = [(e.kind, e.points) for e in s.execute(select(PointsEntry).order_by(PointsEntry.id)).scalars()]
    return total, rows


def _ratings(services: Any) -> tuple[int | None, int | None, str]:
    with services.sessions() as s:
        record = s.execute(select(ServiceRecord)).scalar_one()
        (order,) = s.execute(select(Order)).scalars()
        return order.rating, record.rating, order.state


def test_a_guessed_rating_is_corrected_once_and_the_points_follow(chat: Chat, services: Any) -> None:
    _done_two_hours(chat)
    reply = chat.say(R, "挺好")
    assert reply is not None and "4颗心" in reply and "改成5颗心" in reply  # how to change it, in a few words
    assert _points(services) == (24, [("earn", 24)])  # 2 h x 10 x 1.2
    verify_dialog(chat, [(R, "不对 五颗星", "已改为5颗心")])
    assert _ratings(services) == (5, 5, "closed")
    assert _points(services) == (30, [("earn", 24), ("adjust", 6)])  # what five hearts earn, credited once
    verify_dialog(chat, [(R, "改成3星", "改过一次"), (R, "我想给4分", "人工")])  # a second correction: to staff
    assert _points(services) == (30, [("earn", 24), ("adjust", 6)])
    assert _ratings(services)[0] == 5
    with services.sessions() as s:
        events = [e.reason for e in s.execute(select(OrderEvent).where(OrderEvent.trigger == "rerate")).scalars()]
    assert events == ["4→5"]


def test_a_low_rating_corrected_closes_the_review_and_tells_staff(chat: Chat, services: Any) -> None:
    _done_two_hours(chat)
    verify_dialog(chat, [(R, "差评", "1颗心")])
    assert _ratings(services) == (1, 1, "rated")  # flagged: waiting for staff's review
    assert _points(services)[0] == 10
    chat.deliver()
    verify_dialog(chat, [(R, "打错了 是3", "已改为3颗心")])
    assert _ratings(services) == (3, 3, "closed")
    assert _points(services) == (20, [("earn", 10), ("adjust", 10)])
    with services.sessions() as s:
        assert not s.execute(select(Order.flagged)).scalar_one()
    staff = chat.deliver().get(STAFF_OPENID, [])
    assert any("改为3颗心" in t and "不用再回访" in t for t in staff)


def test_a_good_rating_made_low_takes_points_back_and_asks_staff_to_call(chat: Chat, services: Any) -> None:
    _done_two_hours(chat)
    verify_dialog(chat, [(R, "非常好", "5颗心"), (R, "不用了", "谢谢")])  # the comment question answered first
    assert _points(services)[0] == 30
    chat.clock.advance(minutes=20)
    verify_dialog(chat, [(R, "点错了 应该是1颗心", "已改为1颗心")])
    assert _points(services) == (10, [("earn", 30), ("adjust", -20)])
    staff = chat.deliver().get(STAFF_OPENID, [])
    assert any("改为1颗心" in t and "请回访核查" in t for t in staff)


def test_after_an_hour_the_rating_stays_and_the_resident_is_told_plainly(chat: Chat, services: Any) -> None:
    _done_two_hours(chat)
    verify_dialog(chat, [(R, "挺好", "4颗心"), (R, "师傅很细心", "收到您的留言")])
    chat.clock.advance(hours=2)
    verify_dialog(chat, [(R, "改成5星", "超过一个小时")])
    assert _points(services) == (24, [("earn", 24)]) and _ratings(services)[0] == 4


def test_the_domain_refuses_a_second_or_late_correction(chat: Chat, services: Any) -> None:
    _done_two_hours(chat)
    verify_dialog(chat, [(R, "挺好", "4颗心")])
    (order,) = all_orders(services)
    now = chat.clock.now()
    with services.sessions() as s, s.begin():
        user = s.get_one(User, order.ordered_by_user_id)
        done = rerating.correct_rating(s, hub_id=order.hub_id, user=user, order_id=order.id, hearts=5, now=now,
                                       service=HAIRCUT)
        assert (done.was, done.hearts, done.points_change) == (4, 5, 6)
        with pytest.raises(rerating.RerateError, match="改过一次"):
            rerating.correct_rating(s, hub_id=order.hub_id, user=user, order_id=order.id, hearts=3, now=now,
                                    service=HAIRCUT)
    assert _points(services) == (30, [("earn", 24), ("adjust", 6)])


def test_the_domain_refuses_a_late_correction_and_keeps_the_points(chat: Chat, services: Any) -> None:
    _done_two_hours(chat)
    verify_dialog(chat, [(R, "挺好", "4颗心")])
    (order,) = all_orders(services)
    with services.sessions() as s, s.begin():
        user = s.get_one(User, order.ordered_by_user_id)
        with pytest.raises(rerating.RerateError, match="超过一个小时"):
            rerating.correct_rating(s, hub_id=order.hub_id, user=user, order_id=order.id, hearts=5,
                                    now=chat.clock.now() + timedelta(hours=2), service=HAIRCUT)
    assert _points(services) == (24, [("earn", 24)]) and _ratings(services)[0] == 4


def test_a_closed_order_re_rated_low_can_be_reviewed(chat: Chat, services: Any) -> None:
    """Outside tester out10: 5 hearts closed the order, "点错了 应该是1颗心" flagged it for review, and review then
    refused ("订单现在“已结束”，不能这样操作"): the flag stayed on the dashboard for good. The review clears it,
    the history says so, the state stays closed."""
    from bot.serviceloop import orders

    _done_two_hours(chat)
    verify_dialog(chat, [(R, "非常好", "5颗心"), (R, "不用了", "谢谢")])
    verify_dialog(chat, [(R, "点错了 应该是1颗心", "已改为1颗心")])
    (order,) = all_orders(services)
    assert order.state == "closed" and order.flagged
    with services.sessions() as s, s.begin():
        orders.review(s, hub_id=order.hub_id, order_id=order.id, actor="web:xiaoli", note="已回访",
                      now=chat.clock.now())
    (order,) = all_orders(services)
    assert order.state == "closed" and not order.flagged
    with services.sessions() as s:
        reasons = [e.reason for e in s.scalars(select(OrderEvent).where(OrderEvent.trigger == "review"))]
    assert reasons == ["核查：已回访"]
