"""Street events: the day rule across months, generation, staff changes, chat, subscriptions and .ics files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.community import events
from bot.community.eventrule import LAST, EventRule, RuleError, dates_in_month, occurrences, parse_rule
from bot.devtools.simulator import message_xml
from storage.db import transaction
from storage.models import User
from storage.models_events import Event, EventSubscription
from tests.dialog import Chat

TZ = ZoneInfo("Asia/Shanghai")
R = "oResident0001"


# -- the rule (pure) -------------------------------------------------------------------------------


def test_second_and_fourth_saturday_in_ordinary_and_five_saturday_months() -> None:
    rule = parse_rule("SAT 2,4 09:00-11:30")
    # August 2026 has five Saturdays (1, 8, 15, 22, 29): still the 2nd and 4th
    assert dates_in_month(rule, 2026, 8) == [date(2026, 8, 8), date(2026, 8, 22)]
    # November 2026 starts on a Sunday: Saturdays 7, 14, 21, 28
    assert dates_in_month(rule, 2026, 11) == [date(2026, 11, 14), date(2026, 11, 28)]
    # a month starting on a Saturday (May 2027): the 1st is the first Saturday
    assert dates_in_month(rule, 2027, 5) == [date(2027, 5, 8), date(2027, 5, 22)]


def test_fifth_and_last_weekday_exist_only_in_some_months() -> None:
    fifth = parse_rule("SAT 5 09:00-10:00")
    assert dates_in_month(fifth, 2026, 8) == [date(2026, 8, 29)]
    assert dates_in_month(fifth, 2026, 11) == []  # only four Saturdays
    last = parse_rule("SAT L 09:00-10:00")
    assert last.weeks == (LAST,)
    assert dates_in_month(last, 2026, 8) == [date(2026, 8, 29)]
    assert dates_in_month(last, 2026, 11) == [date(2026, 11, 28)]
    assert dates_in_month(parse_rule("SUN 1,3 14:00-16:00"), 2026, 2) == [date(2026, 2, 1), date(2026, 2, 15)]


def test_occurrences_cross_the_year_end_with_local_times() -> None:
    got = occurrences(EventRule(), date(2026, 12, 1), date(2027, 1, 31), TZ)
    assert [s.date() for s, _ in got] == [date(2026, 12, 12), date(2026, 12, 26), date(2027, 1, 9),
                                          date(2027, 1, 23)]
    start, end = got[0]
    assert (start.hour, start.minute, end.hour, end.minute) == (9, 0, 11, 30)
    assert start.astimezone(UTC) == datetime(2026, 12, 12, 1, 0, tzinfo=UTC)
    # the span's edges are inclusive and cut mid-month
    assert [s.date() for s, _ in occurrences(EventRule(), date(2026, 12, 12), date(2026, 12, 25), TZ)] == [
        date(2026, 12, 12)]


@pytest.mark.parametrize("bad", ["SAT 2,4", "XYZ 2 09:00-10:00", "SAT 6 09:00-10:00", "SAT 2 11:00-10:00",
                                 "SAT 2 25:00-26:00"])
def test_bad_rules_are_refused_plainly(bad: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(bad)


def test_rule_round_trips_as_text() -> None:
    assert str(parse_rule("sat 2, 4 9:00-11:30")) == "SAT 2,4 09:00-11:30"


# -- generation and staff changes (database) ----------------------------------------------------------


def _es(services: Any) -> events.EventSettings:
    return events.EventSettings.from_config(services.config)


def test_generate_is_idempotent_and_keeps_cancelled_events_cancelled(services: Any, clock: FakeClock) -> None:
    es = _es(services)
    now = clock.now()
    with transaction(services.sessions) as s:
        made = events.generate(s, 1, es, date(2026, 11, 23), date(2027, 1, 31), now)
    assert len(made) == 5  # 28 Nov, 12 and 26 Dec, 9 and 23 Jan
    with transaction(services.sessions) as s:
        events.cancel(s, 1, made[0].id, reason="下雨", now=now, es=es)
    with transaction(services.sessions) as s:
        again = events.generate(s, 1, es, date(2026, 11, 1), date(2027, 1, 31), now)
        assert [e.rule_key for e in again] == ["rule:2026-11-14"]  # only the one outside the first span
        total = s.scalar(select(func.count()).select_from(Event))
        first = s.get(Event, made[0].id)
        assert first is not None and first.status == "cancelled"
    assert total == 6  # 14 Nov added (it was outside the first span), nothing else


def test_move_and_cancel_refusals(services: Any, clock: FakeClock) -> None:
    es = _es(services)
    now = clock.now()
    with transaction(services.sessions) as s:
        ev = events.add(s, 1, title="便民服务", starts_at=datetime(2026, 12, 5, 1, tzinfo=UTC),
                        ends_at=datetime(2026, 12, 5, 3, tzinfo=UTC), place="广场", teams=[], services=[], now=now)
        ev_id = ev.id
    with transaction(services.sessions) as s:
        moved = events.move(s, 1, ev_id, starts_at=datetime(2026, 12, 6, 1, tzinfo=UTC), ends_at=None, now=now, es=es)
        assert moved.revision == 2
        assert moved.ends_at == datetime(2026, 12, 6, 3, tzinfo=UTC)  # keeps its length
    with transaction(services.sessions) as s:
        events.cancel(s, 1, ev_id, reason="", now=now, es=es)
    with pytest.raises(events.EventError), transaction(services.sessions) as s:
        events.cancel(s, 1, ev_id, reason="", now=now, es=es)
    with pytest.raises(events.EventError), transaction(services.sessions) as s:
        events.move(s, 1, ev_id, starts_at=datetime(2026, 12, 7, 1, tzinfo=UTC), ends_at=None, now=now, es=es)
    with pytest.raises(events.EventError), transaction(services.sessions) as s:
        events.add(s, 1, title="x", starts_at=datetime(2026, 12, 5, 3, tzinfo=UTC),
                   ends_at=datetime(2026, 12, 5, 1, tzinfo=UTC), place="p", teams=["nope"], services=[], now=now)


# -- chat --------------------------------------------------------------------------------------------


def _subscribed(services: Any, openid: str) -> bool | None:
    with services.sessions() as s:
        row = s.execute(select(EventSubscription.subscribed).join(User, User.id == EventSubscription.user_id)
                        .where(User.openid == openid)).first()
        return None if row is None else bool(row[0])


def test_chat_shows_next_event_and_opts_in_and_out(chat: Chat, services: Any, clock: FakeClock) -> None:
    assert "还没有安排" in (chat.say(R, "活动") or "")
    with transaction(services.sessions) as s:
        events.generate(s, 1, _es(services), date(2026, 11, 23), date(2026, 12, 31), clock.now(), teams=["haircut"])
    reply = chat.say(R, "雷锋一条街") or ""
    assert "11月28日(周六) 09:00-11:30" in reply and "雷锋超市门前广场" in reply and "爱心理发队" in reply
    assert "/events/1.ics" in reply and "订阅活动提醒" in reply
    assert "12月12日" in reply  # and the one after
    assert "已为您订阅" in (chat.say(R, "订阅活动提醒") or "")
    assert _subscribed(services, R) is True
    assert "已经订阅过" in (chat.say(R, "订阅活动提醒") or "")
    assert "已订阅活动提醒" in (chat.say(R, "最近有什么活动") or "")
    assert "已退订" in (chat.say(R, "退订") or "")
    assert _subscribed(services, R) is False
    assert "没有订阅" in (chat.say(R, "退订") or "")


def test_event_qr_scene_subscribes_on_follow_and_on_scan(chat: Chat, services: Any, clock: FakeClock) -> None:
    now = int(clock.now().timestamp())
    xml = message_xml(to="gh_hub", sender="oPoster01", create_time=now, msg_type="event", Event="subscribe",
                      EventKey="qrscene_event_street")
    reply = chat._post(xml, "oPoster01") or ""
    assert "感谢关注" in reply and "已为您订阅活动提醒" in reply
    assert _subscribed(services, "oPoster01") is True
    xml = message_xml(to="gh_hub", sender="oPoster02", create_time=now + 1, msg_type="event", Event="SCAN",
                      EventKey="event_street")
    assert "已为您订阅活动提醒" in (chat._post(xml, "oPoster02") or "")
    assert _subscribed(services, "oPoster02") is True
    # another scene is not an opt-in
    xml = message_xml(to="gh_hub", sender="oPoster03", create_time=now + 2, msg_type="event", Event="subscribe",
                      EventKey="qrscene_volunteer")
    chat._post(xml, "oPoster03")
    assert _subscribed(services, "oPoster03") is None


# -- calendar files ------------------------------------------------------------------------------------


def test_ics_for_one_event_and_the_hub_feed(chat: Chat, client: Any, services: Any, clock: FakeClock) -> None:
    es = _es(services)
    with transaction(services.sessions) as s:
        made = events.generate(s, 1, es, date(2026, 11, 23), date(2026, 12, 31), clock.now(), teams=["repair"])
        events.cancel(s, 1, made[2].id, reason="场地维修", now=clock.now(), es=es)
    resp = client.get(f"/events/{made[0].id}.ics")
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    cal = Calendar.from_ical(resp.data)
    (item,) = cal.walk("VEVENT")
    assert item.decoded("dtstart") == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert item.decoded("dtend") == datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    assert str(item["location"]) == "雷锋超市门前广场" and "便民维修队" in str(item["description"])
    feed = Calendar.from_ical(client.get("/events/default.ics").data)
    items = feed.walk("VEVENT")
    assert len(items) == 3
    assert [str(i["status"]) for i in items] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert client.get("/events/999.ics").status_code == 404
    assert client.get("/events/nohub.ics").status_code == 404


def test_an_event_typed_in_beijing_time_keeps_its_hour(services: Any, clock: FakeClock) -> None:
    """Outside tester out8: `events add --start '2026-12-19 14:00'` (and the console's form, and 改期) showed
    22:00 everywhere on SQLite, which keeps only an aware datetime's wall-clock digits: stored as UTC now."""
    es, now, bj = _es(services), clock.now(), ZoneInfo("Asia/Shanghai")
    with transaction(services.sessions) as s:
        ev_id = events.add(s, 1, title="便民服务", starts_at=datetime(2026, 12, 19, 14, tzinfo=bj),
                           ends_at=datetime(2026, 12, 19, 16, tzinfo=bj), place="广场", teams=[], services=[],
                           now=now).id
    with services.sessions() as s:
        assert events.event_when(events.get(s, 1, ev_id), bj).endswith("14:00-16:00")
    with transaction(services.sessions) as s:
        events.move(s, 1, ev_id, starts_at=datetime(2026, 12, 20, 9, tzinfo=bj), ends_at=None, now=now, es=es)
    with services.sessions() as s:
        ev = events.get(s, 1, ev_id)
        assert events.event_when(ev, bj).endswith("09:00-11:00")
        assert b"DTSTART:20261220T010000Z" in events.to_ics([ev], es, "hub", s)
