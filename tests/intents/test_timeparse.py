"""Appointment time parsing, table-driven (the same table evaluated other parsers)."""

from __future__ import annotations

from datetime import datetime

import pytest

from intents.timeparse import TimeResult, parse_time, to_int
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
