"""Appointment time parsing, table-driven (the same table evaluated other parsers)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from intents.timeparse import (
    TimeResult,
    future_options,
    is_past,
    on_day,
    parse_time,
    prepare,
    spoken,
    to_int,
    when_text,
)
from tests.intents.time_cases import CASES, NOW, at


@pytest.mark.parametrize(("text", "kind", "start", "end"), CASES)
def test_time_table(text: str, kind: str, start: datetime | None, end: datetime | None) -> None:
    result = parse_time(text, NOW)
    assert (result.kind, result.start, result.end) == (kind, start, end), result


def test_said_text_is_reported() -> None:
    assert parse_time("麻烦明天下午三点来一趟", NOW).text == "明天下午三点"
    assert parse_time("越快越好", NOW).text == "越快越好"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_time("明天", datetime(2026, 3, 18, 10))


def test_evening_now_moves_bare_times_to_tomorrow() -> None:
    evening = at(3, 18, 21)
    assert parse_time("上午", evening).start == at(3, 19, 8)
    assert parse_time("三点", evening).start == at(3, 19, 15)
    assert parse_time("明天", evening).start == at(3, 19)


def test_date_past_this_year_means_next_year() -> None:
    assert parse_time("1月2日", NOW).start == at(1, 2, year=2027)
    assert parse_time("12月31日", NOW).start == at(12, 31)
    assert parse_time("2月30日", NOW).kind == "unclear"


def test_unclear_is_not_clear() -> None:
    assert not TimeResult("unclear").is_clear
    assert parse_time("明天", NOW).is_clear


@pytest.mark.parametrize(("token", "value"), [("15", 15), ("十五", 15), ("两", 2), ("十", 10), ("x", None)])
def test_to_int(token: str, value: int | None) -> None:
    assert to_int(token) == value


# Today's phrases, counted-from-now times and urgent windows, said at 10:00 on Wednesday 18 March 2026.
SPOKEN_CASES: list[tuple[str, str, datetime | None, datetime | None]] = [
    ("今儿个", "span", NOW, at(3, 19)),
    ("今天晌午", "span", at(3, 18, 11), at(3, 18, 13)),
    ("今儿个晌午", "span", at(3, 18, 11), at(3, 18, 13)),
    ("今天下午", "span", at(3, 18, 13), at(3, 18, 18)),
    ("今天上午", "span", NOW, at(3, 18, 12)),  # under way: what is left of it
    ("一个钟头以后", "point", at(3, 18, 11), at(3, 18, 11)),
    ("过两个小时", "point", at(3, 18, 12), at(3, 18, 12)),
    ("半小时后", "point", at(3, 18, 10, 30), at(3, 18, 10, 30)),
    ("半个钟头之后来", "point", at(3, 18, 10, 30), at(3, 18, 10, 30)),
    ("一个半小时以后", "point", at(3, 18, 11, 30), at(3, 18, 11, 30)),
    ("再过二十分钟", "point", at(3, 18, 10, 20), at(3, 18, 10, 20)),
    ("三个钟以后", "point", at(3, 18, 13), at(3, 18, 13)),
    ("下午早点", "span", at(3, 18, 13), at(3, 18, 15)),
    ("下午晚点", "span", at(3, 18, 16), at(3, 18, 18)),
    ("明天上午早一点", "span", at(3, 19, 8), at(3, 19, 10)),
    ("马上", "asap", NOW, at(3, 18, 13)),
    ("过会儿来", "asap", NOW, at(3, 18, 13)),
    ("今天就要", "asap", NOW, at(3, 18, 13)),
    ("明天后晌", "span", at(3, 19, 13), at(3, 19, 18)),
    ("大概要两个小时", "unclear", None, None),  # how long, not when
    ("三点钟", "point", at(3, 18, 15), at(3, 18, 15)),
    ("不着急", "unclear", None, None),
    ("今天上午九点", "point", at(3, 18, 9), at(3, 18, 9)),  # passed: returned as said, the dialogue offers others
    ("下个月3号", "span", at(4, 3), at(4, 4)),
    ("这个月25号下午", "span", at(3, 25, 13), at(3, 25, 18)),
]


@pytest.mark.parametrize(("text", "kind", "start", "end"), SPOKEN_CASES)
def test_spoken_times(text: str, kind: str, start: datetime | None, end: datetime | None) -> None:
    result = parse_time(text, NOW)
    assert (result.kind, result.start, result.end) == (kind, start, end), result


def test_the_urgent_window_is_a_parameter() -> None:
    assert parse_time("越快越好", NOW, urgent_window=timedelta(hours=1)).end == at(3, 18, 11)
    assert when_text("asap", NOW, at(3, 18, 13)) == "尽快（13:00前）"
    assert when_text("asap", NOW, None) == "尽快"
    assert not is_past(parse_time("尽快", NOW), at(3, 18, 12, 59))


def test_late_in_the_day_today_has_passed_and_tomorrow_is_offered() -> None:
    late = at(3, 18, 23, 30)
    today = parse_time("今天", late)
    assert is_past(today, late)
    [tomorrow] = future_options(today, late)
    assert (tomorrow.start, tomorrow.end) == (at(3, 19), at(3, 20)) and spoken(tomorrow, late) == "明天"


def test_a_passed_clock_time_today_gets_the_rest_of_today_and_the_same_time_tomorrow() -> None:
    nine = parse_time("今天上午九点", NOW)
    assert is_past(nine, NOW)
    rest, tomorrow = future_options(nine, NOW)
    assert (rest.start, rest.end) == (NOW, at(3, 18, 12)) and spoken(rest, NOW) == "今天上午（12:00前）"
    assert tomorrow.start == at(3, 19, 9) and spoken(tomorrow, NOW) == "明天上午9点"
    evening = at(3, 18, 20, 30)
    afternoon = parse_time("今天下午", evening)
    tonight, tomorrow = future_options(afternoon, evening)
    assert spoken(tonight, evening) == "今天晚上（22:00前）"
    assert (tomorrow.start, tomorrow.end) == (at(3, 19, 13), at(3, 19, 18)) and spoken(tomorrow, evening) == "明天下午"


def test_bare_parts_with_little_left_move_to_tomorrow() -> None:
    assert parse_time("下午", at(3, 18, 17, 30)).start == at(3, 19, 13)
    assert parse_time("下午", at(3, 18, 15, 2)).start == at(3, 18, 15, 5)  # rounded up to five minutes


def test_spans_say_where_the_time_was_said() -> None:
    text = "明天来一趟就是上午八点吧我住幸福小区3栋"
    result = parse_time(text, NOW)
    folded = prepare(text)
    assert [folded[a:b] for a, b in result.spans] == ["明天", "上午八点"]


def test_a_day_or_the_rest_of_today_reads_without_midnight() -> None:
    assert when_text("span", at(3, 19), at(3, 20)) == "3月19日(周四) 全天"
    assert when_text("span", NOW, at(3, 19)) == "3月18日(周三) 10:00以后"
    assert when_text("span", at(3, 19, 8), at(3, 19, 12)) == "3月19日(周四) 08:00-12:00"


def test_a_time_moved_to_another_day_keeps_its_clock() -> None:
    afternoon = parse_time("下午三点", NOW)
    assert not afternoon.dated and parse_time("明天下午三点", NOW).dated
    assert on_day(afternoon, at(3, 21).date(), NOW).start == at(3, 21, 15)
    morning = parse_time("上午", NOW)  # what is left of this morning ...
    assert (morning.start, morning.end) == (NOW, at(3, 18, 12))
    moved = on_day(morning, at(3, 21).date(), NOW)  # ... but on Saturday, the whole morning
    assert (moved.start, moved.end) == (at(3, 21, 8), at(3, 21, 12))


@pytest.mark.parametrize(("text", "words"), [
    ("今天下午", "今天下午"), ("明天上午九点", "明天上午9点"), ("后天晚上七点半", "后天晚上7点半"),
    ("下周六", "3月28日(周六)"), ("今天", "今天（上午10点以后）")])
def test_spoken(text: str, words: str) -> None:
    assert spoken(parse_time(text, NOW), NOW) == words
