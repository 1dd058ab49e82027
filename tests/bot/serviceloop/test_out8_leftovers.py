"""Outside tester out8's console leftovers: a service finished early by staff reaches the ledger starting before it
ends; a service change in the order history reads as the services' names; a point in time reads as one clock time
(代客下单 "明天下午三点"); a service changed in chat is offered again by the worker, not inside the reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.admin import words
from bot.clock import as_utc
from bot.serviceloop import orders
from intents.timeparse import SHANGHAI, when_text
from storage.db import transaction
from storage.models import Order, OrderEvent, ServiceRecord
from tests.dialog import Chat, all_orders, verify_dialog

R = "oResidentOut8"
B1 = "oVolBarber01"  # the demo barber
HAIRCUT = orders.ServiceInfo("haircut", "义务理发")


def _accepted(chat: Chat) -> Order:
    verify_dialog(chat, [(R, "后天下午理发 幸福小区2号楼1单元302 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    chat.deliver()
    return all_orders(chat.services)[-1]


def test_a_staff_early_finish_is_in_the_ledger_ending_after_it_starts(chat: Chat, services: Any) -> None:
    order = _accepted(chat)
    with transaction(services.sessions) as s:  # two days before the appointment: staff record it done
        orders.staff_complete(s, hub_id=order.hub_id, order_id=order.id, hours=1.5, actor="web:xiaoli",
                              now=chat.clock.now(), service=HAIRCUT)
    chat.deliver()
    verify_dialog(chat, [(R, "5", "5颗心")])
    with services.sessions() as s:
        record = s.execute(select(ServiceRecord)).scalar_one()
        started, ended = as_utc(record.started_at), as_utc(record.ended_at)
    assert started < ended and (ended - started).total_seconds() == 1.5 * 3600


def test_a_service_change_in_the_history_reads_as_names() -> None:
    names = {"haircut": "义务理发", "companionship": "陪伴聊天"}.__getitem__
    assert words.reason_in_words("haircut→companionship", names) == "义务理发→陪伴聊天"
    assert words.reason_in_words("居民改服务：haircut→companionship", names) == "居民改服务：义务理发→陪伴聊天"
    assert words.reason_in_words("时间：12月5日 15:00→12月6日 09:00", names) == "时间：12月5日 15:00→12月6日 09:00"
    assert words.reason_in_words(None, names) == ""


def test_a_point_in_time_reads_as_one_clock_time() -> None:
    three = datetime(2026, 12, 5, 15, 0, tzinfo=SHANGHAI)
    assert when_text("point", three, three) == "12月5日(周六) 15:00"
    assert when_text("range", three, three.replace(hour=17)) == "12月5日(周六) 15:00-17:00"


def test_a_service_changed_in_chat_is_offered_again_by_the_worker_not_in_the_reply(chat: Chat,
                                                                                   services: Any) -> None:
    # outside tester out7: the change's passive reply dispatched; now the order goes back to the worker's queue
    verify_dialog(chat, [(R, "后天下午理发 幸福小区2号楼1单元302 13812345678", "请核对"), (R, "1", "已提交")])
    verify_dialog(chat, [(R, "不是理发 是修水管", "改成【维修服务】"), (R, "1", "已改为维修服务")])
    with services.sessions() as s:
        (order,) = s.execute(select(Order)).scalars()
        events = [(e.trigger, e.actor) for e in s.execute(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)).scalars()]
    after = events[[t for t, _ in events].index("service_change"):]
    assert [t for t, _ in after] == ["service_change", "requeue", "dispatch"]  # the dispatch: the worker's run
    assert order.service_code == "repair" and order.state == "dispatched"


def test_a_ledger_row_is_as_long_as_its_hours(chat: Chat, services: Any) -> None:
    # outside tester out9: an urgent order done at once was exported as 09:12-09:13 for 0.5 hours
    verify_dialog(chat, [(R, "尽快来帮我理个发 幸福小区2号楼1单元302 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    chat.clock.advance(minutes=1)
    verify_dialog(chat, [(B1, "完成 #1 0.5", "辛苦了")])
    chat.deliver()
    verify_dialog(chat, [(R, "5", "5颗心")])
    with services.sessions() as s:
        record = s.execute(select(ServiceRecord)).scalar_one()
        started, ended = as_utc(record.started_at), as_utc(record.ended_at)
    assert (ended - started).total_seconds() == 0.5 * 3600


def test_more_to_do_on_an_urgent_order_just_accepted_reaches_its_volunteer(chat: Chat, services: Any) -> None:
    # outside tester out9: "再加一样" right after 接单 of a 尽快 order was refused as "服务已经开始了"
    verify_dialog(chat, [(R, "尽快来帮我理个发 幸福小区2号楼1单元302 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    chat.deliver()
    reply = chat.say(R, "再加一样 顺便帮我老伴也理一下") or ""
    if "回复 1" in reply:  # asked to confirm the addition
        reply = chat.say(R, "1") or ""
    assert "已经开始了" not in reply, reply
    with services.sessions() as s:
        (order,) = s.execute(select(Order)).scalars()
    assert "老伴" in (order.details or "")
    assert any("老伴" in t for t in chat.deliver().get(B1, []))
