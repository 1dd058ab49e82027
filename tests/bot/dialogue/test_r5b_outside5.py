"""Outside tester round 5 (r5b): the recognisers behind the fixes, pure (the conversations are in the corpora)."""

from __future__ import annotations

import pytest

from bot.dialogue import ordering, volunteering
from intents.phone import find_phone, parse_phone
from intents.rating import explicit_rating, parse_rating


@pytest.mark.parametrize("said", ["幸福小区9号楼101，13800138061", "幸福小区9号楼101,13800138061",
                                  "幸福小区9号楼101、13800138061", "幸福小区9号楼101 13800138061"])
def test_a_phone_after_the_door_and_a_separator_is_found(said: str) -> None:
    assert parse_phone(said) == "13800138061"


def test_the_door_before_the_comma_is_not_part_of_the_phone() -> None:
    found = find_phone("幸福小区9号楼101，13800138061")
    assert found is not None and "幸福小区9号楼101，13800138061"[found[1]:found[2]] == "13800138061"
    assert parse_phone("138，0013，8061") == "13800138061"  # a phone said in groups with commas still is one
    assert parse_phone("9号楼101，1380013") is None


@pytest.mark.parametrize(("said", "hearts"), [("差评", 1), ("给个差评", 1), ("好评", 5)])
def test_chaping_is_a_rating_of_the_scale(said: str, hearts: int) -> None:
    assert explicit_rating(said) == hearts


def test_shifen_the_adverb_is_not_ten_points() -> None:
    assert parse_rating("非常好 十分感谢") == 5 and parse_rating("十分满意") == 5
    assert parse_rating("十分") is None  # ten points: out of range


@pytest.mark.parametrize(("rest", "kept"), [("来修下门", "修下门"), ("修下灯", "修下灯"), ("来修水管", "修水管"),
                                            ("来", ""), ("帮我", ""), ("请来一下", "")])
def test_a_short_request_keeps_what_is_asked_for(rest: str, kept: str) -> None:
    assert ordering._short_request(rest) == kept


@pytest.mark.parametrize("said", ["退单", "我要退单", "我想退单", "退单了", "退掉"])
def test_a_bare_give_back_wants_the_tasks_read(said: str) -> None:
    assert volunteering.says_give_back(said) and volunteering.wants_own_tasks(said)


@pytest.mark.parametrize("said", ["退单 730215", "退单 730215 临时有事", "我要退款"])
def test_a_give_back_with_a_number_or_another_word_is_not_bare(said: str) -> None:
    assert not volunteering.says_give_back(said)


@pytest.mark.parametrize(("said", "order", "hours"), [
    ("完成1311321.5小时", 131132, 1.5), ("完成1311322小时", 131132, 2.0), ("完成13113212小时", 131132, 12.0)])
def test_digits_run_together_are_split_at_six(said: str, order: int, hours: float) -> None:
    m = volunteering.RUN_TOGETHER_DONE.match(said)
    assert m is not None and int(m.group(1)) == order and float(m.group(2)) == hours


def test_a_run_too_long_for_hours_is_not_split() -> None:
    assert volunteering._run_together({}, "完成131132999小时") is None
    assert volunteering._run_together({}, "完成1311320小时") is None  # zero hours: not a completion
