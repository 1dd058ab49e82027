"""What people ask to see: "有什么任务" (the open orders that fit a volunteer, by dispatch's rule) and "我的订单" (open
and the last 30 days' finished ones, with how to rate one not rated yet), through the domain and the whole stack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.serviceloop import listings
from bot.serviceloop.dispatch import candidates
from storage.db import transaction
from storage.models import Hub, Order, OrderOffer, Team, User, Volunteer
from tests.bot.people.volunteer_fixtures import default_hub, make_volunteer
from tests.conftest import make_services
from tests.dialog import Chat, verify_dialog

NAMES = {"repair": "维修服务", "haircut": "义务理发", "tutoring": "课业辅导"}


def make_order(s: Session, now: datetime, *, by: User, service: str = "repair", state: str = "submitted",
               start: timedelta | None = timedelta(days=1), hub_id: int | None = None, created: timedelta = timedelta(),
               volunteer_id: int | None = None, rating: int | None = None,
               address: str = "幸福小区3栋2单元501") -> Order:
    """An order row as the service loop leaves it (`start`/`created` relative to now; start None = 尽快)."""
    order = Order(hub_id=hub_id or by.hub_id, state=state, service_code=service, details="帮帮忙",
                  ordered_by_user_id=by.id, resident_user_id=by.id, phone="13812345678", address=address,
                  time_kind="point" if start is not None else "asap",
                  start_at=now + start if start is not None else None, volunteer_id=volunteer_id, rating=rating,
                  created_at=now + created, updated_at=now + created)
    s.add(order)
    s.flush()
    return order


def resident(s: Session, now: datetime, openid: str = "oResidentList", hub_id: int | None = None) -> User:
    user = User(hub_id=hub_id or default_hub(s).id, openid=openid, roles=[], subscribed=True, created_at=now,
                last_inbound_at=now)
    s.add(user)
    s.flush()
    return user


def shown(s: Session, user: User, now: datetime) -> list[int]:
    return [o.id for o in listings.open_tasks(s, user.hub_id, user, now).orders]


@pytest.fixture
def store(any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Any]:
    """The domain tests' services, on SQLite and (with TEST_DATABASE_URL) PostgreSQL: the queries are SQL."""
    svc = make_services(any_db_url, clock, fake_wechat)
    yield svc
    svc.close()


# -- 有什么任务, the domain -----------------------------------------------------------------------------


def test_open_tasks_are_the_fitting_open_orders_of_the_hub_closest_first(store: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(store.sessions) as s:
        vol, _member, user = make_volunteer(s, now, openid="oVolFix", skills=("repair",))
        other, _m, _u = make_volunteer(s, now, name="赵师傅", openid="oVolOther", skills=("repair",))
        r = resident(s, now)
        later = make_order(s, now, by=r, start=timedelta(days=3))
        sooner = make_order(s, now, by=r, start=timedelta(days=1))
        urgent = make_order(s, now, by=r, start=None)  # 尽快: its time is now
        make_order(s, now, by=r, service="haircut")  # not their skill
        make_order(s, now, by=r, start=timedelta(hours=-3))  # the appointment passed (the sweep ends it)
        make_order(s, now, by=r, state="accepted", volunteer_id=other.id)  # someone holds it
        make_order(s, now, by=r, state="cancelled")
        make_order(s, now, by=r, start=None, created=timedelta(days=-3))  # 尽快 three days ago: over
        away = Hub(slug="baolian", name="宝莲社区雷锋超市", settings={}, created_at=now)
        s.add(away)
        s.flush()
        make_order(s, now, by=resident(s, now, "oAway", away.id), hub_id=away.id)  # another hub
        assert shown(s, user, now) == [urgent.id, sooner.id, later.id]
        text = listings.open_tasks_text(s, user.hub_id, user, NAMES, now)
        assert "适合您的待接订单" in text and f"接单 {sooner.ref}" in text and "幸福小区附近" in text
        assert "2单元501" not in text and "13812345678" not in text  # the door and phone come with 接单
        assert vol.id != other.id


def test_fit_is_dispatch_s_rule_availability_and_offers(store: Any, clock: FakeClock) -> None:
    now = clock.now()  # Monday 10:00 in Shanghai
    with transaction(store.sessions) as s:
        vol, member, user = make_volunteer(s, now, openid="oVolSat", skills=("repair",))
        vol.availability = [{"weekday": 5, "period": "am"}]  # Saturday mornings only
        r = resident(s, now)
        tuesday = make_order(s, now, by=r, start=timedelta(days=1))  # Tuesday 10:00
        saturday = make_order(s, now, by=r, start=timedelta(days=5))  # Saturday 10:00
        offered = make_order(s, now, by=r, start=timedelta(days=2), state="dispatched")  # Wednesday, offered to them
        s.add(OrderOffer(hub_id=r.hub_id, order_id=offered.id, volunteer_id=vol.id, round=1, at=now))
        s.flush()
        # what fits their hours first; the one offered to them outside their hours after it, said so (out9)
        assert shown(s, user, now) == [saturday.id, offered.id]
        assert listings.open_tasks(s, r.hub_id, user, now).outside_hours == {offered.id}
        listed = listings.open_tasks_text(s, r.hub_id, user, NAMES, now).splitlines()
        assert "不在您登记的空闲时间" in listed[2] and f"订单{offered.ref}" in listed[2], listed
        assert "不在您登记的空闲时间" not in listed[1] and f"订单{saturday.ref}" in listed[1], listed
        # the same decision dispatch makes for each of them
        assert not candidates(s, tuesday, now, volunteer_id=vol.id) and candidates(s, saturday, now,
                                                                                  volunteer_id=vol.id)
        assert member.volunteer_id == vol.id


def test_a_minor_sees_only_their_own_skills_not_the_team_s_other_services(store: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(store.sessions) as s:
        hub = default_hub(s)
        team = Team(hub_id=hub.id, code="youth", name="青少年服务队", services=["repair", "tutoring"], created_at=now)
        s.add(team)
        s.flush()
        _vol, member, user = make_volunteer(s, now, openid="oVolTeen", skills=("tutoring",),
                                            birth=now - timedelta(days=365 * 15 + 30))
        member.team_id = team.id
        r = resident(s, now)
        make_order(s, now, by=r, service="repair")
        tutoring = make_order(s, now, by=r, service="tutoring", start=timedelta(days=2))
        assert shown(s, user, now) == [tutoring.id]
        _adult, adult_member, adult_user = make_volunteer(s, now, name="钱老师", openid="oVolAdult",
                                                          skills=("tutoring",))
        adult_member.team_id = team.id
        s.flush()
        assert len(shown(s, adult_user, now)) == 2  # an adult fits by the team's services too


def test_a_handful_at_most_and_the_kind_answers(store: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(store.sessions) as s:
        vol, member, user = make_volunteer(s, now, openid="oVolMany", skills=("repair",))
        r = resident(s, now)
        assert "现在没有适合您的待接订单" in listings.open_tasks_text(s, user.hub_id, user, NAMES, now)
        made = [make_order(s, now, by=r, start=timedelta(days=1, hours=n)) for n in range(8)]
        assert shown(s, user, now) == [o.id for o in made[:listings.MAX_OPEN_TASKS]]
        for o in made[:3]:  # they hold three tasks: their limit
            o.state, o.volunteer_id = "accepted", vol.id
        s.flush()
        assert "您手上已有3个未完成的任务" in listings.open_tasks_text(s, user.hub_id, user, NAMES, now)
        member.status = "applied"
        s.flush()
        assert "还在审核中" in listings.open_tasks_text(s, user.hub_id, user, NAMES, now)
        member.status = "suspended"
        s.flush()
        assert "暂停" in listings.open_tasks_text(s, user.hub_id, user, NAMES, now)
        assert "注册志愿者" in listings.open_tasks_text(s, r.hub_id, r, NAMES, now)


# -- 我的订单, the domain -------------------------------------------------------------------------------


def test_my_orders_open_first_then_the_last_30_days_newest_first(store: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(store.sessions) as s:
        r = resident(s, now)
        old = make_order(s, now, by=r, state="closed", rating=5, created=timedelta(days=-40))
        rated = make_order(s, now, by=r, state="closed", rating=4, created=timedelta(days=-10))
        cancelled = make_order(s, now, by=r, state="cancelled", created=timedelta(days=-5))
        done = make_order(s, now, by=r, state="completed", created=timedelta(days=-1))
        waiting = make_order(s, now, by=r, state="dispatched")
        text = listings.open_orders_text(s, r.hub_id, r, NAMES, now)
        found = listings.my_orders(s, r.hub_id, r, now)
        assert [o.id for o in found.in_progress] == [waiting.id]
        assert [o.id for o in found.finished] == [done.id, cancelled.id, rated.id]
        assert f"订单{old.ref}" not in text
        assert f"回复“评价 {done.ref}”打分" in text and "您评了4颗心" in text and "已取消" in text
        assert text.index(f"订单{waiting.ref}") < text.index("最近30天") < text.index(f"订单{done.ref}")
        for n in range(10):
            make_order(s, now, by=r, state="closed", created=timedelta(days=-2, minutes=n))
        many = listings.my_orders(s, r.hub_id, r, now)
        assert len(many.in_progress) + len(many.finished) == listings.MAX_ORDERS and many.more
        assert many.in_progress[0].id == waiting.id  # what is under way is never crowded out


# -- the whole stack: webhook -> reply ------------------------------------------------------------------

R, BARBER, REPAIRER = "oListResident", "oVolBarber01", "oVolRepair01"


@pytest.fixture
def ordered(chat: Chat) -> Chat:
    verify_dialog(chat, [(R, "明天下午三点来帮我理发 幸福小区3栋2单元501 电话13812345678", "请核对"),
                         (R, "1", "已提交")])
    return chat


def test_whole_stack_what_tasks_are_there(ordered: Chat) -> None:
    reply = ordered.say(BARBER, "有啥活") or ""
    assert "适合您的待接订单" in reply and ordered.refs("接单 #1") in reply
    assert "幸福小区附近" in reply and "单元501" not in reply  # the door, not a 单号 that happens to hold 501
    assert "现在没有适合您的待接订单" in (ordered.say(REPAIRER, "现在有单子吗") or "")
    assert "注册志愿者" in (ordered.say("oJustLooking", "有什么任务") or "")
    assert "接单成功" in (ordered.say(BARBER, "接单 #1") or "")
    assert "现在没有适合您的待接订单" in (ordered.say(BARBER, "有什么任务") or "")


def test_whole_stack_my_orders_and_rating_from_the_list(ordered: Chat, services: Any) -> None:
    verify_dialog(ordered, [(BARBER, "接单 #1", "接单成功")])
    ordered.clock.advance(days=1, hours=6)  # after the appointment
    verify_dialog(ordered, [(BARBER, "完成 #1 1.5", "辛苦了")])
    reply = ordered.say(R, "我的订单") or ""  # leaves the rating dialogue: the list says how to rate
    assert "没有进行中的订单" in reply and "最近30天" in reply and ordered.refs("回复“评价 #1”打分") in reply
    verify_dialog(ordered, [(R, "评价 #1", "请给订单#1打分"), (R, "5", "谢谢您的评价"), (R, "不用了", "谢谢")])
    assert "您评了5颗心" in (ordered.say(R, "我的订单") or "")
    with services.sessions() as s:
        assert s.execute(select(Order.rating).where(Order.id == 1)).scalar_one() == 5
        assert s.execute(select(Volunteer.name).where(Volunteer.id == Order.volunteer_id)).first() is not None
