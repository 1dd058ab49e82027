"""Outside testers (2026-12-03, w2res1): a time counted from now in hours or minutes (一个钟头以后, 过两个小时,
两个多小时以后), read on the Shanghai calendar from the injected clock, around midnight and at night; 尽快 at night
runs to the next morning; a landline is a phone. The clock: Thursday 3 December 2026 in Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from intents.masking import mask_phone
from intents.phone import parse_phone, parse_phone_answer, wrong_length
from intents.timeparse import (
    SHANGHAI,
    URGENT_WINDOW,
    day_only,
    is_past,
    parse_time,
    urgent_end,
    urgent_spoken,
    when_text,
)


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


DAY = at(10, 3)


@pytest.mark.parametrize(("said", "start", "end"), [
    ("一个钟头以后", at(11, 5), at(11, 5)),
    ("过两个小时", at(12, 5), at(12, 5)),
    ("半个钟头后", at(10, 35), at(10, 35)),
    ("两个多小时以后", at(12, 5), at(13, 5)),  # two hours and some: until the third
    ("一个多钟头后", at(11, 5), at(12, 5)),
    ("半个多小时后", at(10, 35), at(10, 35)),  # a span under an hour would read as past: its first minute
    ("两三个小时以后", at(12, 5), at(13, 5)),
    ("一两个钟头后吧", at(11, 5), at(12, 5)),
    ("三四十分钟以后", at(10, 35), at(10, 35)),
    ("十多分钟以后", at(10, 15), at(10, 15)),
    ("十来分钟后", at(10, 15), at(10, 15)),  # 来: about
    ("一个来小时以后", at(11, 5), at(11, 5)),
    ("一个钟头左右以后", at(11, 5), at(11, 5)),
    ("1.5小时后", at(11, 35), at(11, 35)),  # never "5小时后"
    ("一个半钟以后", at(11, 35), at(11, 35)),
    ("一个种头以后", at(11, 5), at(11, 5)),  # 钟头 typed by pinyin
    ("再等二十分钟", at(10, 25), at(10, 25)),
    ("过俩钟头再来", at(12, 5), at(12, 5)),
])
def test_a_time_counted_from_now(said: str, start: datetime, end: datetime) -> None:
    result = parse_time(said, DAY)
    assert (result.kind, result.start, result.end) == ("point" if start == end else "span", start, end), result
    assert result.dated and not is_past(result, DAY)


def test_how_long_is_not_when() -> None:
    assert not parse_time("两个小时", DAY).is_clear  # no 过 before, no 后 after: a duration
    assert parse_time("三点钟", DAY).start == at(15)


def test_a_span_from_now_is_no_day_alone() -> None:
    """"改成两三个小时以后" is a time, not a day: a correction must not move the old time of day onto it."""
    result = parse_time("两三个小时以后", DAY)
    assert result.kind == "span" and not day_only(result)
    assert day_only(parse_time("后天", DAY))


def test_the_injected_clock_is_read_on_the_shanghai_calendar() -> None:
    """00:30 on 4 December in Shanghai is still 3 December in UTC: 今天 is the 4th, and 一个钟头以后 is 01:30."""
    utc_now = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)
    today = parse_time("今天下午", utc_now)
    assert today.start is not None and today.start.astimezone(SHANGHAI).date() == date(2026, 12, 4)
    tomorrow = parse_time("明天上午", utc_now)
    assert tomorrow.start is not None and tomorrow.start.astimezone(SHANGHAI).date() == date(2026, 12, 5)


@pytest.mark.parametrize(("now", "morning"), [
    (at(22, 48), date(2026, 12, 4)),  # 23:50: tomorrow morning
    (at(23, 50), date(2026, 12, 4)),  # 十分钟后 is midnight
    (at(0, 30), date(2026, 12, 3)),  # after midnight: this morning
    (at(4, 50), date(2026, 12, 3)),
])
def test_a_time_from_now_in_the_night_offers_the_morning(now: datetime, morning: date) -> None:
    result = parse_time("十分钟后" if now.hour == 23 else "一个钟头以后", now)
    assert not result.is_clear and "半夜" in result.question
    assert result.instead is not None and result.instead.start is not None and result.instead.end is not None
    assert result.instead.start == datetime(morning.year, morning.month, morning.day, 8, tzinfo=SHANGHAI)
    assert result.instead.end - result.instead.start == timedelta(hours=4)
    assert "半夜" in result.instead.question and not is_past(result.instead, now)


def test_a_time_from_now_in_the_evening_is_taken() -> None:
    assert parse_time("一个钟头以后", at(20)).start == at(21)
    assert parse_time("一个钟头以后", at(5, 0)).start == at(6)  # 06:00 is morning
    assert parse_time("一个钟头以后", at(10)).instead is None


@pytest.mark.parametrize(("now", "end"), [
    (at(10), at(13)),  # by day: the hub's window
    (at(20, 59), at(23, 59)),
    (at(21), at(9, day=4)),  # at night: to 9 the next morning
    (at(22, 20), at(9, day=4)),
    (at(23, 59), at(9, day=4)),
    (at(0, 30), at(9)),  # after midnight: this morning
    (at(6, 30), at(9, 30)),  # the window is longer than the night's end
    (at(7), at(10)),
])
def test_asap_at_night_runs_to_the_morning(now: datetime, end: datetime) -> None:
    result = parse_time("尽快", now)
    assert (result.kind, result.start, result.end) == ("asap", now, end)
    assert urgent_end(now) == end
    assert not is_past(result, end - timedelta(minutes=1))


def test_asap_at_night_reads_plainly() -> None:
    night = parse_time("越快越好", at(22, 20))
    assert when_text("asap", night.start, night.end) == "尽快（12月4日上午9点前）"  # a text read later too: dated
    assert urgent_spoken(night.start, night.end, at(22, 20)) == "尽快（明早9点前）"
    early = parse_time("马上", at(0, 30))
    assert urgent_spoken(early.start, early.end, at(0, 30)) == "尽快（今天上午9点前）"
    day = parse_time("尽快", at(10))
    assert when_text("asap", day.start, day.end) == "尽快（13:00前）"
    assert urgent_spoken(day.start, day.end, at(10)) == "尽快（13:00前）"


def test_the_night_rule_and_window_are_parameters() -> None:
    result = parse_time("尽快", at(22, 20), urgent_window=timedelta(hours=1), urgent_night=(23, 6, 8))
    assert result.end == at(23, 20)
    assert parse_time("尽快", at(23, 30), urgent_night=(23, 6, 8)).end == at(8, day=4)
    assert parse_time("尽快", at(23, 30), urgent_window=URGENT_WINDOW).end == at(9, day=4)


# -- landlines -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("said", "phone"), [
    ("俺没有手机 就座机 66881234", "66881234"),
    ("家里电话是6688 1234吧", "66881234"),
    ("座机22881234", "22881234"),
    ("我家座机是八八六六一二三四", "88661234"),
    ("0731-22881234", "073122881234"),
    ("13812345678", "13812345678"),
])
def test_a_landline_said_as_one_is_a_phone(said: str, phone: str) -> None:
    assert parse_phone(said) == phone
    assert parse_phone_answer(said) == phone
    assert wrong_length(said) is None


@pytest.mark.parametrize(("said", "phone"), [
    ("66881234", "66881234"), ("6688-1234", "66881234"), ("八八六六一二三四", "88661234"),
    ("8812345", "8812345"),
])
def test_a_landline_as_the_whole_answer(said: str, phone: str) -> None:
    assert parse_phone(said) is None  # alone, anywhere else, a number of that length is no phone (an order number)
    assert parse_phone_answer(said) == phone


@pytest.mark.parametrize("said", ["1381234", "2026-12-05", "修改订单 4904541", "1391234567", "幸福小区3栋101"])
def test_what_is_no_landline(said: str) -> None:
    assert parse_phone_answer(said) is None


def test_a_landline_is_masked() -> None:
    assert mask_phone("66881234") == "****1234"
    assert mask_phone("073122881234") == "073*****1234"
    assert mask_phone("13812345678") == "138****5678"
