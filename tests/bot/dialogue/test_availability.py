"""Volunteers' available times, read completely or asked again: never a range shortened to its ends."""

from __future__ import annotations

import pytest

from bot.dialogue.registration import consents, days_text, parse_availability, read_availability, times_text

WEEK = "一二三四五六日"


def slots(text: str) -> set[tuple[str, str]]:
    got = parse_availability(text)
    assert got is not None, text
    return {(WEEK[s["weekday"]], s["period"]) for s in got}


@pytest.mark.parametrize(("text", "days", "period"), [
    ("周一到周五上午", "一二三四五", "am"),
    ("周一至周五下午", "一二三四五", "pm"),
    ("礼拜一到礼拜五上午", "一二三四五", "am"),
    ("周五到周一晚上", "五六日一", "eve"),
    ("工作日晚上", "一二三四五", "eve"),
    ("平时晚上", "一二三四五", "eve"),
    ("周末全天", "六日", "all"),
    ("每天下午", WEEK, "pm"),
    ("周一三五下午", "一三五", "pm"),
    ("一三五下午", "一三五", "pm"),
    ("除了周三都行", "一二四五六日", "all"),
    ("除了周末", "一二三四五", "all"),
])
def test_days_and_parts(text: str, days: str, period: str) -> None:
    assert slots(text) == {(d, period) for d in days}


def test_parts_go_with_the_days_said_before_or_after_them() -> None:
    assert slots("周六上午和下午") == {("六", "am"), ("六", "pm")}
    assert slots("周一、周三下午") == {("一", "pm"), ("三", "pm")}
    assert slots("周六上午 周日下午") == {("六", "am"), ("日", "pm")}
    assert slots("上午") == {(d, "am") for d in WEEK}
    assert slots("除了周三上午都行") == ({(d, "all") for d in "一二四五六日"} | {("三", "pm"), ("三", "eve")})


def test_anytime_is_empty_and_nothing_understood_is_none() -> None:
    assert parse_availability("随时都可以") == [] and parse_availability("什么时候都行") == []
    assert read_availability("看情况吧") is None and parse_availability("不一定") is None


def test_a_partly_understood_answer_says_what_is_left() -> None:
    read = read_availability("周一上午 其他看情况")
    assert read is not None and times_text(read[0]) == "周一上午" and read[1]
    assert parse_availability("周一上午 其他看情况") is None  # not kept shortened: asked again


@pytest.mark.parametrize(("days", "said"), [
    ([0, 1, 2, 3, 4], "周一至周五"), ([0, 4], "周一、周五"), ([5, 6], "周六、周日"), (list(range(7)), "每天"),
    ([0, 2, 3, 4], "周一、周三至周五"),
])
def test_days_read_back_in_full(days: list[int], said: str) -> None:
    assert days_text(days) == said


@pytest.mark.parametrize(("text", "agrees"), [
    ("同意", True), ("好的 同意", True), ("我同意的", True), ("监护人同意了", True), ("同意同意", True),
    ("不同意", False), ("好", False), ("嗯", False)])
def test_consent_is_said_with_the_word_itself(text: str, agrees: bool) -> None:
    assert consents(text) is agrees
