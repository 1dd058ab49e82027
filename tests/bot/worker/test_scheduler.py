"""The scheduler's jobs with a fake clock: reminders once at the right times, grace, restarts, opt-out,
cancellation and move notices, appointment reminders, digest, monthly report, honours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.community import events
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import STAFF_OPENID, seed_demo_hub
from bot.worker import jobs
from storage.db import transaction
from storage.models import Order, PointsEntry, ServiceRecord, Team, User, Volunteer
from tests.conftest import make_services
from tests.dialog import Chat

TZ = ZoneInfo("Asia/Shanghai")
SUB, OUT, GONE = "oSubscriber01", "oOptedOut01", "oUnfollowed01"
B1, B2 = "oVolBarber01", "oVolBarber02"
ROBOT = "ROBOT_HAIRCUT"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def chat(client: Any, account: Any, clock: FakeClock, services: Any, fake_wechat: FakeWeChatServer) -> Chat:
    now = clock.now()
    with transaction(services.sessions) as s:
        seed_demo_hub(s, now)
        s.execute(select(Team).where(Team.code == "haircut")).scalar_one().robot_key = ROBOT
        for openid, subscribed, follows in ((SUB, True, True), (OUT, False, True), (GONE, True, False)):
            user = User(hub_id=1, openid=openid, roles=[], subscribed=follows, last_inbound_at=now, created_at=now)
            s.add(user)
            s.flush()
            events.set_subscription(s, 1, user, subscribed, "test", now)
    services.hubs.forget()
    return Chat(client, account, clock, services, fake_wechat)


def add_event(services: Any, start: datetime, teams: list[str] | None = None) -> int:
    with transaction(services.sessions) as s:
        ev = events.add(s, 1, title="雷锋一条街志愿服务活动", starts_at=start,
                        ends_at=start + timedelta(hours=2, minutes=30), place="门前广场", teams=teams or [],
                        services=["haircut"], now=services.clock.now())
        return ev.id


def at(clock: FakeClock, when: datetime, services: Any) -> int:
    clock.set(when)
    return jobs.reminders(services)


def test_event_reminders_fire_once_at_the_right_times(chat: Chat, services: Any, clock: FakeClock) -> None:
    ev = add_event(services, local(2026, 12, 12, 9, 0), teams=["haircut"])
    assert at(clock, local(2026, 12, 11, 17, 59), services) == 0
    assert at(clock, local(2026, 12, 11, 18, 0), services) > 0
    got = chat.wanted()  # the subscriber wrote weeks ago: WeChat carries a template, the text is the bot's
    (text,) = got[SUB]
    assert text.startswith("活动提醒：明天") and f"/events/{ev}.ics" in text and "12月12日(周六) 09:00-11:30" in text
    assert OUT not in got and GONE not in got  # opted out; no longer follows the account
    # each team member gets the team's own reminder with the roster, and so does the team's group robot
    assert "本队名单（2人）：张师傅、李阿姨" in got[B1][0] and got[B2] == got[B1]
    (robot,) = got["robot:" + ROBOT]
    assert "本队名单" in robot
    robot_call = [c for c in chat.fake.calls("/cgi-bin/webhook/send")][-1]
    assert robot_call["body"]["text"]["mentioned_mobile_list"] == ["13900000001", "13900000002"]
    # the same minute again, a minute later, an hour later: nothing more
    for when in (local(2026, 12, 11, 18, 0), local(2026, 12, 11, 18, 1), local(2026, 12, 11, 19, 0)):
        assert at(clock, when, services) == 0
    assert chat.deliver() == {}
    assert at(clock, local(2026, 12, 12, 7, 59), services) == 0
    assert at(clock, local(2026, 12, 12, 8, 0), services) == 1
    got = chat.wanted()
    assert list(got) == [SUB] and got[SUB][0].startswith("活动提醒：今天")
    assert at(clock, local(2026, 12, 12, 8, 30), services) == 0
    assert chat.deliver() == {}


def test_missed_runs_go_out_once_within_grace_and_never_after_the_start(chat: Chat, services: Any,
                                                                        clock: FakeClock) -> None:
    add_event(services, local(2026, 12, 12, 9, 0))
    late = add_event(services, local(2026, 12, 26, 9, 0))
    # the worker was down at 18:00 and comes back at 19:30: within the 2-hour grace, it goes out once
    assert at(clock, local(2026, 12, 11, 19, 30), services) == 1
    assert at(clock, local(2026, 12, 11, 19, 31), services) == 0
    # ... but not when it comes back after the grace period, nor after the event began
    assert at(clock, local(2026, 12, 25, 20, 1), services) == 0
    assert at(clock, local(2026, 12, 26, 9, 1), services) == 0
    got = chat.deliver()
    assert len(got[SUB]) == 1 and "12月12日" in got[SUB][0]
    assert late  # the late event got nothing at all
    assert not any("12月26日" in t for t in got[SUB])


def test_restart_in_the_middle_sends_each_reminder_once(chat: Chat, services: Any, clock: FakeClock,
                                                        db_url: str, fake_wechat: FakeWeChatServer) -> None:
    add_event(services, local(2026, 12, 12, 9, 0), teams=["haircut"])
    clock.set(local(2026, 12, 11, 18, 0))
    queued = jobs.reminders(services)
    services.close()  # the worker dies after queueing, before sending anything
    clock2 = FakeClock(local(2026, 12, 11, 18, 3))
    restarted = make_services(db_url, clock2, fake_wechat)
    try:
        assert jobs.reminders(restarted) == 0  # the restarted worker's scan finds everything queued already
        chat.services, chat.clock = restarted, clock2
        got = chat.deliver()
    finally:
        restarted.close()
    assert sum(len(v) for v in got.values()) == queued
    assert all(len(v) == 1 for v in got.values())


def test_cancellation_notice_once_and_no_reminders_after(chat: Chat, services: Any, clock: FakeClock) -> None:
    ev = add_event(services, local(2026, 12, 12, 9, 0), teams=["haircut"])
    es = events.EventSettings.from_config(services.config)
    with transaction(services.sessions) as s:
        _, told = events.cancel(s, 1, ev, reason="天气原因", now=clock.now(), es=es)
    assert told == 3  # the subscriber and the two barbers
    got = chat.deliver()
    assert "取消" in got[SUB][0] and "天气原因" in got[SUB][0] and "取消" in got[B1][0]
    assert OUT not in got and "取消" in got["robot:" + ROBOT][0]
    assert at(clock, local(2026, 12, 11, 18, 0), services) == 0
    assert at(clock, local(2026, 12, 12, 8, 0), services) == 0
    assert chat.deliver() == {}


def test_moved_event_is_announced_and_reminded_at_the_new_time(chat: Chat, services: Any, clock: FakeClock) -> None:
    ev = add_event(services, local(2026, 12, 12, 9, 0))
    assert at(clock, local(2026, 12, 11, 18, 0), services) == 1
    chat.deliver()
    es = events.EventSettings.from_config(services.config)
    with transaction(services.sessions) as s:
        events.move(s, 1, ev, starts_at=local(2026, 12, 19, 9, 0), ends_at=None, now=clock.now(), es=es)
    assert "改到12月19日" in chat.wanted()[SUB][0]
    assert at(clock, local(2026, 12, 12, 8, 0), services) == 0  # the old morning reminder is gone
    assert at(clock, local(2026, 12, 18, 18, 0), services) == 1
    assert "12月19日" in chat.wanted()[SUB][0]


def _accepted_order(services: Any, start: datetime) -> int:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        resident = s.execute(select(User).where(User.openid == SUB)).scalar_one()
        vol = s.execute(select(Volunteer).where(Volunteer.name == "张师傅")).scalar_one()
        order = Order(hub_id=1, state="accepted", service_code="haircut", ordered_by_user_id=resident.id,
                      resident_user_id=resident.id, address="幸福小区3栋501", phone="13812345678", time_kind="point",
                      start_at=start, volunteer_id=vol.id, created_at=now, updated_at=now, accepted_at=now)
        s.add(order)
        s.flush()
        return order.id


def test_appointment_reminders_an_hour_before_once_each(chat: Chat, services: Any, clock: FakeClock) -> None:
    oid = _accepted_order(services, local(2026, 11, 24, 15, 0))
    assert at(clock, local(2026, 11, 24, 13, 59), services) == 0
    assert at(clock, local(2026, 11, 24, 14, 0), services) == 2
    assert at(clock, local(2026, 11, 24, 14, 10), services) == 0
    got = chat.deliver()
    assert chat.refs(f"订单#{oid}") in got[B1][0] and "幸福小区3栋501" in got[B1][0] and "15:00" in got[B1][0]
    assert "张师傅" in got[SUB][0] and "15:00" in got[SUB][0]
    # moved to a new time: a new reminder for the new time
    with transaction(services.sessions) as s:
        order = s.get(Order, oid)
        assert order is not None
        order.start_at = local(2026, 11, 24, 17, 0)
    assert at(clock, local(2026, 11, 24, 16, 0), services) == 2


def test_daily_digest_monthly_report_and_quarterly_honours(chat: Chat, services: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:
        resident = s.execute(select(User).where(User.openid == SUB)).scalar_one()
        vols = {v.name: v.id for v in s.execute(select(Volunteer)).scalars()}
        for i, (state, flagged) in enumerate((("dispatched", False), ("accepted", False), ("rated", True))):
            s.add(Order(hub_id=1, state=state, service_code="repair", ordered_by_user_id=resident.id,
                        time_kind="asap", flagged=flagged, rating=0 if flagged else None, created_at=now,
                        updated_at=now, volunteer_id=vols["王师傅"] if i else None))
        s.flush()
        order_ids = list(s.scalars(select(Order.id).order_by(Order.id)))
        for name, points, hours, oid in (("张师傅", 30, 2.0, order_ids[1]), ("王师傅", 30, 3.0, order_ids[2])):
            s.add(PointsEntry(hub_id=1, volunteer_id=vols[name], kind="earn", points=points, reason="t", at=now))
            s.add(ServiceRecord(hub_id=1, order_id=oid, volunteer_id=vols[name], service_code="repair",
                                resident_label="张*", service_date=now, hours=hours, rating=5, verified_by="resident",
                                created_at=now))
    clock.set(local(2026, 11, 24, 8, 29))
    assert jobs.daily_digest(services) == 0  # yesterday's 08:30 is long past the grace period
    clock.set(local(2026, 11, 24, 8, 30))
    assert jobs.daily_digest(services) == 1
    assert jobs.daily_digest(services) == 0
    text = chat.wanted()[STAFF_OPENID][0]
    assert "进行中 2 单，待接单 1 单，待核查 1 单" in text and "leifeng orders review" in text
    clock.set(local(2026, 12, 1, 9, 5))
    assert jobs.monthly_report(services) == 1
    assert jobs.monthly_report(services) == 0
    text = chat.wanted()[STAFF_OPENID][-1]
    assert text.startswith("2026年11月月报") and "完成服务 2 次，共 5 小时" in text and "发放积分 60 分" in text
    clock.set(local(2026, 12, 2, 9, 5))
    assert jobs.monthly_report(services) == 0  # only on the 1st
    clock.set(local(2027, 1, 1, 9, 30))
    assert jobs.quarterly_honours(services) == 1
    text = chat.wanted()[STAFF_OPENID][-1]
    # equal points: more hours ranks first
    assert text.startswith("2026年第4季度优秀志愿者") and text.index("王师傅") < text.index("张师傅")


def test_events_are_generated_ahead_every_day_idempotently(services: Any, clock: FakeClock) -> None:
    first = jobs.generate_events(services)
    assert first == 5  # 28 Nov, 12 and 26 Dec, 9 and 23 Jan (62 days ahead of 23 Nov is 24 Jan)
    assert jobs.generate_events(services) == 0
    clock.advance(days=14)
    assert jobs.generate_events(services) == 0  # up to 7 Feb: nothing new
    clock.advance(days=7)
    assert jobs.generate_events(services) == 1  # 13 Feb came into the window
