"""Changing a submitted order, through the whole webhook, beyond its time, address and phone: reminders follow a new
time, the team groups that got the task post get a short correction, 代点单 keeps the other of the two told, and the
service or what is to be done can change (before a volunteer took it; after, plainly declined or passed on)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import as_utc
from bot.worker import jobs
from storage.db import transaction
from storage.models import Order, OrderEvent, OrderOffer, OutboxMessage, Team, User
from tests.dialog import Chat, all_orders

R = "oResidentEdit2"
B1 = "oVolBarber01"  # a demo barber (张师傅)
REPAIR = "oVolRepair01"  # a demo repair volunteer
HAIRCUT = "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678"
ROBOT = "ROBOT-HAIRCUT"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """On both databases: the change deletes queued reminders and reads the group posts by their keys."""
    return any_db_url


def _ordered(chat: Chat, services: Any, said: str = HAIRCUT, who: str = R) -> Order:
    assert "回复 1 确认" in (chat.say(who, said) or "")
    assert "已提交" in (chat.say(who, "1") or "")
    return all_orders(services)[-1]


def _robot(services: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Team).where(Team.code == "haircut").values(robot_key=ROBOT))


def _offered(services: Any, order: Order) -> set[int]:
    with services.sessions() as s:
        return set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order.id,
                                                                   OrderOffer.outcome.is_(None))))


def _events(services: Any, order: Order) -> list[OrderEvent]:
    with services.sessions() as s:
        return list(s.execute(select(OrderEvent).where(OrderEvent.order_id == order.id)
                              .order_by(OrderEvent.id)).scalars())


# -- 1. reminders and group posts follow a time or address change --------------------------------------------------


def test_a_new_time_drops_the_queued_reminders_and_gets_its_own(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.deliver()
    chat.clock.advance(hours=28, minutes=5)  # tomorrow 14:05: the reminders of 15:00 are due
    assert jobs.reminders(services) == 2  # the volunteer's and the resident's, queued, not sent yet
    asked = chat.say(R, "时间改到后天上午") or ""
    assert "改成" in asked
    assert "已经告诉接单的志愿者" in (chat.say(R, "1") or "")
    told = chat.wanted()
    assert not any("温馨提醒" in t for t in told.get(R, [])), told  # the old time's reminder never goes
    assert not any("服务提醒" in t for t in told.get(B1, [])), told
    assert any("改了时间" in t for t in told.get(B1, []))
    with services.sessions() as s:
        left = s.scalars(select(OutboxMessage.idempotency_key)
                         .where(OutboxMessage.idempotency_key.like(f"appt:{order.id}:%"))).all()
    assert not left
    (changed,) = all_orders(services)
    start = as_utc(changed.start_at)
    chat.clock.advance(seconds=(start - timedelta(minutes=59) - chat.clock.now()).total_seconds())
    assert jobs.reminders(services) == 2
    told = chat.wanted()
    assert any("温馨提醒" in t and "11月26日" in t for t in told.get(R, [])), told
    assert any("服务提醒" in t and "11月26日" in t for t in told.get(B1, [])), told


def test_the_group_and_those_offered_get_a_short_correction(chat: Chat, services: Any) -> None:
    _robot(services)
    order = _ordered(chat, services)
    offered = _offered(services, order)
    first = chat.wanted()
    assert any("新任务" in t for t in first.get(f"robot:{ROBOT}", []))
    assert "改成" in (chat.say(R, "改下时间 后天上午吧") or "")
    chat.say(R, "1")
    told = chat.wanted()
    (post,) = told.get(f"robot:{ROBOT}", [])
    assert post.startswith("【爱心理发队】") and f"订单{order.ref}" in post and "时间改为11月25日" in post
    assert "13812345678" not in post and "501" not in post
    with services.sessions() as s:
        offered_openids = set(s.scalars(select(User.openid).where(User.volunteer_id.in_(offered))))
    assert offered_openids and all(any("时间改为" in t for t in told.get(o, [])) for o in offered_openids), told

    asked = chat.say(R, "地址错了 是向阳新村9栋101") or ""
    assert "向阳新村9栋101" in asked
    chat.say(R, "1")
    told = chat.wanted()
    (post,) = told.get(f"robot:{ROBOT}", [])
    assert "地点改为向阳新村附近" in post and "9栋" not in post and "101" not in post
    (changed,) = all_orders(services)
    assert changed.address == "向阳新村9栋101"


# -- 2. 代点单: the other of the two is told --------------------------------------------------------------------------

SON, MOM = "oSonEdit", "oGrandmaEdit"


def _for_mom(chat: Chat, services: Any, first: bool = True) -> Order:
    with transaction(services.sessions) as s:
        if first:
            s.add(User(hub_id=1, openid=MOM, roles=[], phone="13700002222", subscribed=True,
                       last_inbound_at=chat.clock.now(), created_at=chat.clock.now()))
    for said, wants in (("帮我妈下单", "怎么称呼"), ("王奶奶", "电话"), ("13700002222", "服务"), ("理发", "时间"),
                        ("明天下午三点", "地址"), ("幸福小区2栋301", "您自己的电话"), ("不用", "请核对"),
                        ("1", "已提交")):
        assert wants in (chat.say(SON, said) or ""), said
    order = all_orders(services)[-1]
    assert order.resident_user_id is not None and order.resident_user_id != order.ordered_by_user_id
    chat.deliver()
    return order


def test_proxy_a_change_by_the_son_tells_his_mother_and_hers_tells_him(chat: Chat, services: Any) -> None:
    order = _for_mom(chat, services)
    assert "改成" in (chat.say(SON, "改下时间 后天上午吧") or "")
    chat.say(SON, "1")
    told = chat.deliver()
    assert any("您的家人改了" in t and f"订单{order.ref}" in t and "时间改为11月25日" in t
               for t in told.get(MOM, [])), told
    assert not told.get(SON)
    # (her orders are not listed to her as her own: the order named is changed by the domain, which allows her)
    assert "已改为13700003333" in (chat.say(MOM, f"{order.ref}号订单电话换成13700003333") or "")
    told = chat.deliver()
    assert any("您为家人下的订单" in t and "电话改为137****3333" in t for t in told.get(SON, [])), told


def test_proxy_accepted_completed_and_cancelled_are_told_to_both(chat: Chat, services: Any) -> None:
    order = _for_mom(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    told = chat.deliver()
    assert any("接单" in t for t in told.get(MOM, [])) and any("接单" in t for t in told.get(SON, []))
    chat.clock.advance(hours=30)
    chat.say(B1, f"完成 {order.ref} 1")
    told = chat.deliver()
    assert any("请给服务打分" in t for t in told.get(SON, []))
    assert any("志愿者已完成" in t and f"订单{order.ref}" in t for t in told.get(MOM, [])), told
    assert "谢谢" in (chat.say(SON, "5") or "")
    chat.say(SON, "不用了")
    third = _for_mom(chat, services, first=False)
    assert "已取消" in (chat.say(SON, f"取消订单 {third.ref}") or "")
    told = chat.wanted()
    assert any(f"订单{third.ref}已经取消" in t for t in told.get(MOM, [])), told


# -- 3. the service or what is to be done changed -----------------------------------------------------------------


def test_another_service_before_anyone_took_it_is_offered_anew(chat: Chat, services: Any) -> None:
    _robot(services)
    order = _ordered(chat, services)
    assert _offered(services, order)
    chat.wanted()
    asked = chat.say(R, "不是理发 是修水管") or ""
    assert f"订单{order.ref}" in asked and "【义务理发】改成【维修服务】" in asked and "回复 1" in asked
    reply = chat.say(R, "1") or ""
    assert f"订单{order.ref}已改为维修服务" in reply and "重新联系志愿者" in reply
    told = chat.wanted()
    assert any("不用再接了" in t for t in told.get(B1, [])), told
    (post,) = told.get(f"robot:{ROBOT}", [])
    assert f"订单{order.ref}" in post and "不用再接了" in post
    assert any("新任务：维修服务" in t for t in told.get(REPAIR, [])), told
    (changed,) = all_orders(services)
    assert changed.service_code == "repair" and changed.state == "dispatched"
    (event,) = [e for e in _events(services, order) if e.trigger == "service_change"]
    assert event.actor == R and "haircut→repair" in (event.reason or "")
    reply = chat.say(B1, f"接单 {order.ref}") or ""
    assert "接单成功" not in reply


def test_another_service_after_a_volunteer_took_it_is_declined_with_the_way_to_reorder(chat: Chat,
                                                                                     services: Any) -> None:
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    reply = chat.say(R, "理发不要了 改成修水管") or ""
    assert "已经有志愿者接了" in reply and f"取消订单 {order.ref}" in reply and "重新下一单" in reply
    (same,) = all_orders(services)
    assert same.service_code == "haircut" and same.state == "accepted"


def test_more_to_do_before_acceptance_is_kept_and_shown_to_whoever_takes_it(chat: Chat, services: Any) -> None:
    _robot(services)
    order = _ordered(chat, services)
    chat.wanted()
    asked = chat.say(R, "补充一下 要剪短点 两边推平") or ""
    assert "加上" in asked and "剪短点" in asked
    reply = chat.say(R, "1") or ""
    assert "记下了" in reply and "志愿者接单时会看到" in reply
    told = chat.wanted()
    (post,) = told.get(f"robot:{ROBOT}", [])
    assert "居民补充" in post and "剪短点" in post and "13812345678" not in post
    (changed,) = all_orders(services)
    assert "剪短点" in (changed.details or "")
    accepted = chat.say(B1, f"接单 {order.ref}") or ""
    assert "接单成功" in accepted and "内容：" in accepted and "剪短点" in accepted


def test_more_to_do_after_acceptance_goes_to_the_volunteer_and_staff(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.deliver()
    asked = chat.say(R, "再加一样 顺便帮俺把胡子刮刮") or ""
    assert "已经有志愿者接了" in asked and "转告" in asked and "胡子刮刮" in asked
    reply = chat.say(R, "1") or ""
    assert "已经告诉接单的志愿者和社区工作人员" in reply
    told = chat.deliver()
    assert any("居民补充" in t and "胡子刮刮" in t for t in told.get(B1, [])), told
    assert any("居民补充" in t and f"订单{order.ref}" in t
               for who, texts in told.items() if who not in (B1, R) for t in texts), told
