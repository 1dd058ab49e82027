"""The service loop refuses by raising one error family (bot/serviceloop/records.py), so the chat, the CLI and the
console word their own replies; and the rules the outside review asked for: 接单 only of what was offered or fits,
退单 a few times a day, a bounded number of open orders per resident, "完成" not before the appointment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.errors import LeifengError
from bot.serviceloop import orders
from storage.db import transaction
from storage.models import Hub, Order, OrderOffer, OutboxMessage, Team, User, Volunteer
from tests.dialog import Chat, verify_dialog

R = "oResident01"
HAIRCUT = orders.ServiceInfo("haircut", "义务理发")


def _settings(services: Any, **values: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Hub).where(Hub.id == 1).values(settings=values))
    services.hubs.forget()


DAYS = ("明天下午", "明天上午", "后天下午", "后天上午")  # not the same order twice: that one is asked about


def _order_tomorrow(chat: Chat, n: int = 1) -> None:
    day = DAYS[(n - 1) % len(DAYS)]
    verify_dialog(chat, [(R, f"{day}理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", f"订单#{n}已提交")])


def _user(services: Any, openid: str) -> User:
    with services.sessions() as s:
        return s.execute(select(User).where(User.openid == openid)).scalar_one()


def test_every_refusal_is_one_family_under_the_root_error() -> None:
    refusals = [orders.NotAVolunteerError(), orders.NotYoursError(3, "接的"), orders.AlreadyYoursError(3),
                orders.NoLongerOpenError(3), orders.NotForYouError(3), orders.NotForYouError(3, minor=True),
                orders.TooManyTasksError(2), orders.GiveBackLimitError(2), orders.ReasonRequiredError(),
                orders.HoursOutOfRangeError(3, 12), orders.TooEarlyError(3, "明天下午"),
                orders.RatingOutOfRangeError(), orders.CannotCancelError(3, "已完成"), orders.TooManyOpenOrdersError(5)]
    for exc in refusals:
        assert isinstance(exc, orders.OrderError) and isinstance(exc, LeifengError)
        words = str(exc)
        assert words and words.isprintable() and "Error" not in words  # plain Chinese for the person


def test_a_volunteer_of_another_team_and_skill_cannot_take_an_order_by_its_number(chat: Chat, services: Any) -> None:
    """The review's finding: any approved volunteer could take any open order and read the resident's details."""
    _order_tomorrow(chat)
    reply = chat.say("oVolRepair01", "接单 #1") or ""
    assert "不在派给您的任务里" in reply and "幸福小区1栋1号" not in reply and "13812345678" not in reply
    with services.sessions() as s:
        assert s.get(Order, 1).state == "dispatched"  # type: ignore[union-attr]
    assert "接单成功" in (chat.say("oVolBarber01", "接单 #1") or "")  # offered: taken


def test_a_teammate_of_someone_offered_and_a_skilled_volunteer_may_take_it(chat: Chat, services: Any) -> None:
    _settings(services, dispatch_first_n=1)  # only the fairest barber is offered it
    _order_tomorrow(chat)
    first, second = "oVolBarber01", "oVolBarber02"
    with services.sessions() as s:
        vids = {u.openid: u.volunteer_id for u in s.execute(select(User).where(User.openid.in_([first, second])))
                .scalars()}
        offered_to = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == 1)))
    assert len(offered_to) == 1
    teammate = first if vids[second] in offered_to else second  # not offered it, but their team's group saw it
    assert "接单成功" in (chat.say(teammate, "接单 #1") or "")

    _order_tomorrow(chat, 2)
    with transaction(services.sessions) as s:  # 刘大姐 (care team) learns to cut hair: she fits by skill
        vol = s.execute(select(Volunteer).where(Volunteer.name == "刘大姐")).scalar_one()
        vol.skills = [*vol.skills, "haircut"]
        s.execute(update(Order).where(Order.id == 2).values(state="submitted"))  # not offered to anyone
    assert "接单成功" in (chat.say("oVolCare01", "接单 #2") or "")


def test_give_backs_are_limited_per_day(chat: Chat, services: Any) -> None:
    _settings(services, give_backs_per_day=1)
    _order_tomorrow(chat)
    verify_dialog(chat, [("oVolBarber01", "接单 #1", "接单成功"), ("oVolBarber01", "退单 #1 临时有事", "已退单")])
    _order_tomorrow(chat, 2)
    verify_dialog(chat, [("oVolBarber01", "接单 #2", "接单成功"),
                         ("oVolBarber01", "退单 #2 又有事", "今天已经退了1次单")])
    with services.sessions() as s:
        assert s.get(Order, 2).state == "accepted"  # type: ignore[union-attr]
    chat.clock.advance(hours=25)
    verify_dialog(chat, [("oVolBarber01", "退单 #2 真去不了", "已退单")])


def test_a_resident_has_a_bounded_number_of_open_orders(chat: Chat, services: Any) -> None:
    _settings(services, max_open_orders_per_user=2)
    _order_tomorrow(chat, 1)
    _order_tomorrow(chat, 2)
    verify_dialog(chat, [(R, "后天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已经有2个订单在进行中")])
    with services.sessions() as s:
        assert len(s.execute(select(Order)).scalars().all()) == 2
    verify_dialog(chat, [(R, "取消订单 #1", "已取消")])
    verify_dialog(chat, [(R, "后天上午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "订单#3已提交")])


def test_completion_waits_for_the_appointment(chat: Chat, services: Any) -> None:
    _order_tomorrow(chat)
    verify_dialog(chat, [("oVolBarber01", "接单 #1", "接单成功"),
                         ("oVolBarber01", "完成 #1 2", "还没到服务时间")])
    with services.sessions() as s:
        order = s.get(Order, 1)
        assert order is not None and order.state == "accepted" and order.hours is None
    chat.clock.advance(hours=32)  # 明天下午 has begun
    verify_dialog(chat, [("oVolBarber01", "完成 #1 2", "辛苦了")])


def test_the_domain_raises_and_changes_nothing(chat: Chat, services: Any) -> None:
    _order_tomorrow(chat)
    now = chat.clock.now()
    barber, resident, repairer = (_user(services, o) for o in ("oVolBarber01", R, "oVolRepair01"))
    with transaction(services.sessions) as s:
        with pytest.raises(orders.NotYoursError):
            orders.complete(s, hub_id=1, user=s.merge(barber), order_id=1, hours=1, now=now, service=HAIRCUT)
        with pytest.raises(orders.NotForYouError):
            orders.accept(s, hub_id=1, user=s.merge(repairer), order_id=1, now=now, service=HAIRCUT)
        taken = orders.accept(s, hub_id=1, user=s.merge(barber), order_id=1, now=now, service=HAIRCUT)
        assert taken.state == "accepted"
        with pytest.raises(orders.AlreadyYoursError):
            orders.accept(s, hub_id=1, user=s.merge(barber), order_id=1, now=now, service=HAIRCUT)
        with pytest.raises(orders.HoursOutOfRangeError):
            orders.complete(s, hub_id=1, user=s.merge(barber), order_id=1, hours=99, now=now, service=HAIRCUT)
        with pytest.raises(orders.ReasonRequiredError):
            orders.give_back(s, hub_id=1, user=s.merge(barber), order_id=1, reason=" ", now=now, service=HAIRCUT)
        with pytest.raises(orders.NotYoursError):
            orders.cancel(s, hub_id=1, order_id=1, actor="x", reason="x", now=now, user=s.merge(barber))
        assert orders.cancel(s, hub_id=1, order_id=1, actor=R, reason="居民取消", now=now,
                             user=s.merge(resident)).state == "cancelled"
        with pytest.raises(orders.CannotCancelError, match="不能取消了"):
            orders.cancel(s, hub_id=1, order_id=1, actor="staff", reason="x", now=now)


def test_staff_hear_once_per_need_in_words_for_people(chat: Chat, services: Any) -> None:
    """Nobody fits at dispatch, then the sweep finds nobody accepted: one notice, not two, and no command line."""
    from bot.devtools.seed import STAFF_OPENID

    with transaction(services.sessions) as s:
        s.execute(update(Volunteer).values(skills=[]))
        s.execute(update(Team).values(services=[]))
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "订单#1已提交")])
    chat.clock.advance(minutes=45)
    with transaction(services.sessions) as s:
        orders.sweep(s, 1, chat.clock.now(), {"haircut": HAIRCUT})
    with services.sessions() as s:
        texts = [str(m.payload.get("text", "")) for m in
                 s.execute(select(OutboxMessage).where(OutboxMessage.to == STAFF_OPENID)).scalars()]
    to_staff = [t for t in texts if chat.refs("订单#1") in t]
    assert len(to_staff) == 1, to_staff
    assert "管理后台" in to_staff[0] and "leifeng" not in to_staff[0]


def test_a_rating_waits_for_the_service_and_counts_once(chat: Chat, services: Any) -> None:
    _order_tomorrow(chat)
    now = chat.clock.now()
    resident, barber = _user(services, R), _user(services, "oVolBarber01")
    with transaction(services.sessions) as s:
        orders.accept(s, hub_id=1, user=s.merge(barber), order_id=1, now=now, service=HAIRCUT)
        with pytest.raises(orders.NotRatableError, match="服务完成后才能评价"):
            orders.rate(s, hub_id=1, user=s.merge(resident), order_id=1, hearts=5, now=now, service=HAIRCUT)
        later = now + timedelta(hours=32)
        orders.complete(s, hub_id=1, user=s.merge(barber), order_id=1, hours=1, now=later, service=HAIRCUT)
        orders.rate(s, hub_id=1, user=s.merge(resident), order_id=1, hearts=5, now=later, service=HAIRCUT)
        with pytest.raises(orders.NotRatableError, match="已经评价过了"):
            orders.rate(s, hub_id=1, user=s.merge(resident), order_id=1, hearts=1, now=later, service=HAIRCUT)
