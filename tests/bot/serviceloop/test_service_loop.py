"""The whole service loop as dialogues through the webhook and the outbox, with a fake clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.devtools.seed import STAFF_OPENID
from storage.db import transaction
from storage.models import Order, OrderEvent, PointsEntry, ServiceRecord, User
from tests.dialog import Chat, all_orders, verify_dialog

R = "oResident0001"
B1, B2 = "oVolBarber01", "oVolBarber02"


def test_happy_path_order_dispatch_accept_complete_rate(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [
        (R, "明天下午三点来给我老伴理个发，地址幸福小区3栋2单元501", "请留一个联系电话"),
        (R, "13812345678", "回复 1 确认"),
        (R, "1", "订单#1已提交"),
    ])
    (order,) = all_orders(services)
    assert order.state == "dispatched" and order.service_code == "haircut"
    assert order.address == "幸福小区3栋2单元501" and order.phone == "13812345678"
    got = chat.deliver()
    assert chat.refs("接单 #1") in got[B1][0] and chat.refs("接单 #1") in got[B2][0]
    assert "单元501" not in got[B1][0]  # the door number only after accepting
    reply = chat.say(B1, "接单 #1")
    assert reply is not None and "接单成功" in reply and "幸福小区3栋2单元501" in reply and "13812345678" in reply
    assert "已被接走" in (chat.say(B2, "接单 #1") or "")
    got = chat.deliver()
    assert "张师傅" in got[R][0] and "139****0001" in got[R][0]
    assert "还没到服务时间" in (chat.say(B1, "完成 #1 2") or "")  # not before the appointment
    chat.clock.advance(hours=32)
    assert "辛苦了" in (chat.say(B1, "完成 #1 2") or "")
    got = chat.deliver()
    assert "请给服务打分" in got[R][0]
    verify_dialog(chat, [
        (R, "五颗心", "谢谢您的评价（5颗心）"),
        (R, "师傅手艺很好", "收到您的留言"),
    ])
    (order,) = all_orders(services)
    assert order.state == "closed" and order.rating == 5 and order.comment == "师傅手艺很好"
    with services.sessions() as s:
        record = s.execute(select(ServiceRecord)).scalar_one()
        assert record.hours == 2 and record.rating == 5 and record.comment == "师傅手艺很好"
        (entry,) = s.execute(select(PointsEntry)).scalars()
        assert entry.points == 30 and entry.kind == "earn"  # 2 h x 10 x 1.5 for five hearts
        triggers = [e.trigger for e in s.execute(select(OrderEvent).order_by(OrderEvent.id)).scalars()]
    assert triggers == ["submit", "dispatch", "accept", "complete", "rate", "close", "comment"]


def test_step_by_step_with_corrections_and_edit(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [
        (R, "1", "您需要什么服务"),
        (R, "家里水管漏水了", "什么时间方便"),
        (R, "随便吧", "没太明白"),
        (R, "后天上午九点", "服务地址"),
        (R, "幸福小区5栋101", "联系电话"),
        (R, "我的电话是13912345678", "请核对"),
        (R, "2", "要改哪一项"),
        (R, "3", "什么时间方便"),
        (R, "大后天下午", "请核对"),
        (R, "改成幸福小区6栋202", "已修改"),
        (R, "确认", "已提交"),
    ])
    (order,) = all_orders(services)
    assert order.service_code == "repair" and order.address == "幸福小区6栋202"
    assert order.start_at is not None


def test_cancel_at_every_step_leaves_no_order(chat: Chat, services: Any) -> None:
    steps = ["1", "理发", "明天上午十点", "幸福小区1栋1号", "13812345678"]
    for n in range(1, len(steps) + 1):
        for text in steps[:n]:
            chat.say(R, text)
        assert "已取消" in (chat.say(R, "取消") or "")
    assert all_orders(services) == []
    verify_dialog(chat, [(R, "理发", "时间"), (R, "明天上午十点", "地址"), (R, "幸福小区1栋1号", "电话"),
                         (R, "13812345678", "请核对"), (R, "0", "没有提交")])
    assert all_orders(services) == []


def test_confusion_three_times_offers_human(chat: Chat) -> None:
    verify_dialog(chat, [
        (R, "理发", "什么时间"),
        (R, "嗯嗯", "没太明白"),
        (R, "啊啊", "没太明白"),
        (R, "哦哦", "人工"),
        (R, "人工", "转接"),
        (R, "还在吗", None),  # paused for staff
    ])
    assert any("请求人工服务" in t for t in chat.deliver()[STAFF_OPENID])


def test_idle_dialogue_expires_with_a_kind_note(chat: Chat, clock: FakeClock, services: Any) -> None:
    verify_dialog(chat, [(R, "理发", "什么时间")])
    clock.advance(minutes=31)
    reply = chat.say(R, "明天上午")
    assert reply is not None and "时间太久" in reply
    assert all_orders(services) == []


def test_idle_dialogue_is_closed_by_the_sweep_with_a_note(chat: Chat, clock: FakeClock, services: Any) -> None:
    from bot.serviceloop.orders import sweep

    verify_dialog(chat, [(R, "理发", "什么时间")])
    clock.advance(minutes=10)
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), {}).dialogues_expired == 0
    clock.advance(minutes=25)
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), {}).dialogues_expired == 1
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), {}).dialogues_expired == 0
    assert any("已经帮您先取消了" in t for t in chat.deliver()[R])
    assert "需要什么服务" in (chat.say(R, "1") or "")  # a fresh start, no stale note


def test_proxy_order_tells_the_elder_when_she_follows_the_account(chat: Chat, services: Any) -> None:
    from storage.models import User

    with transaction(services.sessions) as s:
        s.add(User(hub_id=1, openid="oGrandma", roles=[], phone="13700001111", subscribed=True,
                   last_inbound_at=chat.clock.now(), created_at=chat.clock.now()))
    verify_dialog(chat, [("oSon", "帮我妈下单", "怎么称呼"), ("oSon", "王奶奶", "电话"),
                         ("oSon", "13700001111", "服务"), ("oSon", "陪诊", "时间"), ("oSon", "后天上午八点", "地址"),
                         ("oSon", "幸福小区2栋301", "您自己的电话"), ("oSon", "不用", "请核对"),
                         ("oSon", "1", "已提交")])
    got = chat.deliver()
    assert any("您的家人为您预约了" in t for t in got["oGrandma"])
    verify_dialog(chat, [("oVolDoctor01", "接单 #1", "接单成功")])
    got = chat.deliver()
    assert "oSon" in got and "oGrandma" in got  # the orderer follows the order too


def test_location_message_fills_the_address(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "想请人陪我去医院看病", "时间"), (R, "明天早上八点", "地址")])
    # a place's name, no door: the door is asked for (out9), "就这样" keeps the place as it is
    reply = chat.location(R, 24.31, 109.42, "白莲街道宝莲社区卫生站") or ""
    assert "收到位置" in reply and "几栋几单元几号" in reply, reply
    verify_dialog(chat, [(R, "13812345678", "电话记下了"), (R, "就这样", "请核对"), (R, "1", "已提交")])
    (order,) = all_orders(services)
    assert order.service_code == "escort" and order.latitude == 24.31 and order.address == "白莲街道宝莲社区卫生站"


def test_proxy_order_for_an_elder(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [
        ("oSonFarAway", "代点单", "怎么称呼"),
        ("oSonFarAway", "王奶奶", "联系电话"),
        ("oSonFarAway", "13700001111", "需要什么服务"),
        ("oSonFarAway", "理发", "时间"),
        ("oSonFarAway", "周六上午十点", "地址"),
        ("oSonFarAway", "幸福小区2栋301", "您自己的电话也留一个吧"),
        ("oSonFarAway", "13911112222", "王奶奶"),
        ("oSonFarAway", "1", "已提交"),
    ])
    (order,) = all_orders(services)
    assert order.resident_name == "王奶奶" and order.phone == "13700001111"
    with services.sessions() as s:  # the son's own phone is his, the elder's the order's
        assert s.execute(select(User.phone).where(User.openid == "oSonFarAway")).scalar_one() == "13911112222"


def test_my_orders_lists_status_in_plain_words(chat: Chat) -> None:
    verify_dialog(chat, [(R, "我的订单", "没有进行中的订单"), (R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"),
                         (R, "1", "已提交"), (R, "我的订单", "正在联系志愿者")])


def test_give_back_returns_to_dispatch(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交")])
    chat.deliver()
    verify_dialog(chat, [(B1, "接单 #1", "接单成功"), (B1, "退单 #1", "原因"), (B1, "家里临时有事", "已退单")])
    (order,) = all_orders(services)
    assert order.state == "dispatched" and order.volunteer_id is None
    assert "接单成功" in (chat.say(B2, "接单 #1") or "")


def test_unanswered_order_widens_then_escalates(chat: Chat, services: Any, clock: FakeClock) -> None:
    from bot.serviceloop.orders import ServiceInfo, sweep

    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交")])
    chat.deliver()
    names = {"haircut": ServiceInfo("haircut", "义务理发")}
    clock.advance(minutes=16)
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), names).widened == 1
    clock.advance(minutes=16)
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), names).escalated == 1
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), names).escalated == 0  # once
    got = chat.deliver()
    asked = [t for t in got[STAFF_OPENID] if chat.refs("订单#1") in t and "请人工派单" in t]
    assert len(asked) == 1, asked  # once per need: "nobody left to offer" and "nobody accepted" are one notice
    assert "管理后台" in asked[0] and "leifeng" not in asked[0]  # written for people, not a command line


def test_low_rating_flags_for_staff(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交")])
    verify_dialog(chat, [(B1, "接单 #1", "接单成功")])
    chat.clock.advance(hours=32)
    verify_dialog(chat, [(B1, "完成 #1", "几个小时"), (B1, "1.5", "辛苦了")])
    chat.deliver()
    verify_dialog(chat, [(R, "不太好", "没太明白"), (R, "不满意", "谢谢您的评价（2颗心）"), (R, "不用了", "谢谢")])
    (order,) = all_orders(services)
    assert order.state == "rated" and order.flagged
    assert any("请回访核查" in t for t in chat.deliver()[STAFF_OPENID])


def test_zero_hearts_earn_nothing(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    chat.clock.advance(hours=32)
    verify_dialog(chat, [(B1, "完成 #1 1", "辛苦了"), (R, "0", "0颗心")])
    with services.sessions() as s:
        assert s.execute(select(PointsEntry.points)).scalar_one() == 0


def test_non_volunteer_cannot_accept_and_bad_numbers_are_polite(chat: Chat) -> None:
    verify_dialog(chat, [(R, "接单 1", "还不是本站审核通过的志愿者"), (B1, "接单 999", "没有编号为 999 的订单"),
                         (B1, "完成 999 2", "没有编号为 999 的订单")])


def test_a_crash_mid_step_leaves_no_half_made_order(chat: Chat, services: Any, monkeypatch: Any) -> None:
    import bot.serviceloop.orders

    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对")])

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("simulated crash after the order row was written")

    monkeypatch.setattr(bot.serviceloop.orders, "record_event", boom)  # the order is flushed, its history not yet
    assert "系统有点忙" in (chat.say(R, "1") or "")
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
        assert s.scalar(select(func.count()).select_from(OrderEvent)) == 0
    monkeypatch.undo()
    assert "已提交" in (chat.say(R, "1") or "")  # the dialogue state was not lost either


def test_unrated_order_is_reminded_then_closed(chat: Chat, services: Any, clock: FakeClock) -> None:
    from bot.serviceloop.orders import ServiceInfo, sweep

    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    clock.advance(hours=32)
    verify_dialog(chat, [(B1, "完成 #1 1", "辛苦了")])
    names = {"haircut": ServiceInfo("haircut", "义务理发")}
    clock.advance(hours=25)
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), names).reminded == 1
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), names).reminded == 0
    clock.advance(hours=48)
    with transaction(services.sessions) as s:
        assert sweep(s, 1, clock.now(), names).closed == 1
    (order,) = all_orders(services)
    assert order.state == "closed" and order.verified_by == "timeout"
    with services.sessions() as s:
        assert s.execute(select(ServiceRecord.verified_by)).scalar_one() == "timeout"
    assert timedelta(hours=1)


def test_times_are_read_on_shanghai_calendar_late_at_night(chat: Chat, services: Any, clock: FakeClock) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai, still the 23rd
    verify_dialog(chat, [(R, "明天下午三点来理发 幸福小区1栋1号 13812345678", "11月24日(周二) 15:00"),
                         (R, "1", "已提交")])
    (order,) = all_orders(services)
    assert order.start_at is not None and order.end_at is None
    assert order.start_at.replace(tzinfo=UTC) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def test_spoken_orders_today_urgent_and_cancelled_in_other_words_through_the_webhook(
        chat: Chat, services: Any, clock: FakeClock) -> None:
    """A sample of the transcript corpus (tests/bot/dialogue/corpus_*.py) through the whole webhook."""
    from bot.serviceloop.orders import ServiceInfo, sweep

    R2 = "oResident0002"
    verify_dialog(chat, [
        (R, "今天下午来帮我理发 幸福小区3栋 13812345678", "11月23日(周一) 13:00-18:00"),
        (R, "对 确认", "订单#1已提交"),
        (R2, "水管漏了 越快越好 幸福小区5栋 13812345679", "尽快（13:00前）"),
        (R2, "嗯嗯", "订单#2已提交"),
        (R, "谢谢", "不客气"),
        (R, "我的单子咋样了", "订单#1"),
        (R, "那个理发的不要了", "要取消订单#1（义务理发"),  # the handler read the open orders: which one is meant
        (R, "0", ""),  # not this way, then
        (R, "#1号单子不要了", ""),
    ])
    first, urgent = all_orders(services)
    assert first.state == "cancelled"
    assert urgent.time_kind == "asap" and urgent.end_at is not None
    clock.advance(hours=1)
    with transaction(services.sessions) as s:
        sweep(s, 1, clock.now(), {"repair": ServiceInfo("repair", "维修服务")})
    assert all_orders(services)[1].state != "expired"  # an urgent order lasts its window, not a minute
