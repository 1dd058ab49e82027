"""Numbers longer than Python turns into an int (4300 digits) in a command: a kind answer, through the pure dialogue
and through the webhook, never "系统有点忙" or a traceback."""

from __future__ import annotations

import logging

import pytest

from bot.dialogue.core import State
from bot.inbox.handler import BUSY_REPLY
from intents.commands import parse_choice, parse_command
from tests.bot.dialogue.transcript import Transcript
from tests.dialog import Chat

WALL = "9" * 5000
VOL = "oVolBarber01"
R = "oResident0001"


@pytest.mark.parametrize("said", ["接单 " + WALL, "接单" + "一" * 5000, "完成 " + WALL, "我接" + WALL + "号单",
                                  "取消订单 " + WALL])
def test_the_pure_dialogue_takes_a_wall_of_digits_calmly(said: str) -> None:
    t = Transcript(roles=frozenset({"volunteer"}))
    res = t.say(said)
    assert res.state in (State.IDLE, *State)
    for action in res.actions:  # the number handed on is one no order can have, not the crash of int()
        number = action.data.get("order")
        assert number is None or number > 2**63
    assert res.reply is None or "系统" not in res.reply


def test_the_parsers_read_such_a_number_as_too_big() -> None:
    cmd = parse_command("接单 " + WALL)
    assert cmd is not None and cmd.name == "accept" and cmd.arg is not None and cmd.arg > 2**63
    assert parse_choice(WALL, count=3) is None
    assert parse_command("接单 00012") == parse_command("接单 12")


@pytest.mark.parametrize("who,said", [(VOL, "接单 " + WALL), (VOL, "完成 " + WALL), (R, "取消订单 " + WALL)])
def test_through_the_webhook_it_is_no_such_order(chat: Chat, caplog: pytest.LogCaptureFixture, who: str,
                                                 said: str) -> None:
    with caplog.at_level(logging.ERROR):
        reply = chat.say(who, said) or ""
        if "几个小时" in reply:  # 完成 asks the hours first
            reply = chat.say(who, "2") or ""
    assert reply != BUSY_REPLY and "没有编号为" in reply, reply
    assert len(reply) < 200  # the wall of digits is not repeated back
    assert not [r for r in caplog.records if r.exc_info]
