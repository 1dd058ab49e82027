"""Outside test 3 (2026-12-02): day words typed by pinyin, days the parser cannot book (asked, never guessed), and a
time counted from now that falls in the night. The demo clock: Thursday 3 December 2026, 02:20 in Shanghai."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from intents.timeparse import SHANGHAI, fix_day_typos, parse_time

NIGHT = datetime(2026, 12, 3, 2, 20, tzinfo=SHANGHAI)
DAY = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("said", "day"), [
    ("明添上午修冰相", date(2026, 12, 4)), ("明填下午", date(2026, 12, 4)), ("名天上午", date(2026, 12, 4)),
    ("后添上午", date(2026, 12, 5)), ("大后添", date(2026, 12, 6)), ("今添下午", date(2026, 12, 3)),
    ("下里拜三", date(2026, 12, 9)), ("下礼败三上午", date(2026, 12, 9)),
    ("后儿个头晌", date(2026, 12, 5)), ("月底", date(2026, 12, 31)), ("下个月底", date(2027, 1, 31)),
    ("元旦", date(2027, 1, 1)),
])
def test_the_day_said_is_the_day_booked(said: str, day: date) -> None:
    result = parse_time(said, DAY)
    assert result.is_clear and result.start is not None
    assert result.start.astimezone(SHANGHAI).date() == day


def test_tou_shang_is_the_morning() -> None:
    result = parse_time("后儿个头晌", DAY)
    assert result.start is not None and result.end is not None
    assert (result.start.hour, result.end.hour) == (8, 12)


def test_typos_leave_other_words_alone() -> None:
    assert fix_day_typos("金田小区 等候天亮 明白了") == "金田小区 等候天亮 明白了"


@pytest.mark.parametrize(("said", "asks"), [
    ("下周", "下周几"), ("下礼拜", "下周几"), ("这周吧", "这周几"), ("下个月", "下个月几号"),
    ("昨天", "已经过去了"), ("昨天下午", "已经过去了"), ("过几天", "哪一天"), ("春节前后", "春节是哪一天"),
    ("明丢上午", "哪一天"),
])
def test_a_day_not_booked_is_asked(said: str, asks: str) -> None:
    result = parse_time(said, DAY)
    assert not result.is_clear and asks in result.question


def test_an_hour_from_now_at_night_asks_for_a_daytime_slot() -> None:
    result = parse_time("一个钟头以后", NIGHT)
    assert not result.is_clear and "半夜" in result.question and "今天上午" in result.question
    assert parse_time("一个钟头以后", DAY).is_clear


def test_a_story_of_last_week_does_not_hide_the_time() -> None:
    result = parse_time("上周修过一次 这次又坏了 明天下午来", DAY)
    assert result.is_clear and result.start is not None and result.start.date() == date(2026, 12, 4)
