"""Walls of digits and endless place names, as the long fuzz run sent them (tests/fuzz): the pure step never
raises on them and never echoes them back whole."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dialogue import step
from bot.dialogue.core import LABEL_CHARS, State
from tests.bot.dialogue.transcript import Transcript, text

WALL = "9" * 5000


@pytest.mark.parametrize("said", [f"时长支付 {WALL}", f"捐赠 {WALL} 2小时", f"捐 3号 {WALL}小时", f"捐 3号 1.{WALL}",
                                  f"核销 12345678 {WALL}"])
def test_a_wall_of_digits_in_a_volunteer_command_is_not_a_crash(said: str) -> None:
    t = Transcript(roles=frozenset({"volunteer"}))
    res = t.say(said)  # int(), float() and round() would fail or overflow on 5000 digits
    assert WALL not in (res.reply or "")
    assert all(len(str(a.data)) < 200 for a in res.actions)


def test_a_donation_in_plain_words_still_works() -> None:
    t = Transcript(roles=frozenset({"volunteer"}))
    (action,) = t.say("捐赠 3号 1.5小时").actions
    assert action.name == "donate" and action.data == {"recipient": 3, "minutes": 90}


def test_an_endless_place_name_is_cut_not_echoed() -> None:
    t = Transcript()
    place = "幸福小区" * 1500
    inc = replace(text("x"), kind="location", text=None, latitude=28.2, longitude=112.9, label=place)
    res = step.step(State.IDLE, {}, inc, t.context())
    assert res.reply is not None and len(res.reply.encode()) < 2048
    assert len(res.slots["location"]["label"]) == LABEL_CHARS


@pytest.mark.parametrize("said", [f"退单 {WALL} 有事", f"完成 {WALL} 2", f"完成 3 {WALL}"])
def test_a_wall_of_digits_in_a_task_command_is_read_as_no_such_order(said: str) -> None:
    t = Transcript(roles=frozenset({"volunteer"}))
    res = t.say(said)
    assert WALL not in (res.reply or "") and all(len(str(a.data)) < 200 for a in res.actions)


def test_a_wall_of_digits_is_no_rating() -> None:
    from intents.rating import parse_rating

    assert parse_rating(WALL) is None and parse_rating("5") == 5 and parse_rating("五颗心") == 5


def test_an_order_with_the_phone_right_after_the_door_asks_nothing_more() -> None:
    """Issue 15: "…501 13812345678" used to store the phone inside the address and ask for a phone again."""
    t = Transcript()
    res = t.say("明天下午来理个发 地址幸福小区3栋2单元501 13812345678")
    assert res.reply is not None and "请核对" in res.reply and "请留一个联系电话" not in res.reply
    assert t.slots["draft"]["address"] == "幸福小区3栋2单元501" and t.slots["draft"]["phone"] == "13812345678"
