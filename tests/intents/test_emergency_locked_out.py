"""Locked out is not life-threatening: 救命 beside being shut out of one's own home (门禁卡坏了, 钥匙丢了, 锁在外面)
asks for a locksmith or a repair and is answered as a request; shut in, somebody left inside, a stove left on or a fire
is still an emergency."""

from __future__ import annotations

import pytest

from bot.dialogue.core import State
from bot.dialogue.safety import emergency_reply
from intents.emergency import detect_emergency
from tests.bot.dialogue.transcript import Transcript

LOCKED_OUT = [
    "救命 门禁卡坏了 我被锁在外面了",
    "救命 我被锁在外面了",
    "救命啊 钥匙丢了 进不了门",
    "救命 忘带钥匙了 进不去家",
    "救命 钥匙锁在屋里了 进不去",
    "救救我 门卡找不到了 回不了家",
]
STILL_EMERGENCIES = [
    ("fire", "救命 我被锁在屋里出不去了 着火了"),
    ("medical", "救命 我被反锁在屋里出不去了"),
    ("fire", "救命 电梯卡住了 我被困在里面"),  # 119 rescues people shut in a lift (safety.LIFT steps)
    ("medical", "救命 被锁在门外了 孩子一个人在屋里"),
    ("medical", "救命 我被锁在外面了 屋里煤气还开着"),
    ("medical", "救命 锁在门外了 老伴在里面叫不应"),
]


@pytest.mark.parametrize("text", LOCKED_OUT)
def test_locked_out_is_no_emergency(text: str) -> None:
    assert detect_emergency(text) is None


@pytest.mark.parametrize(("kind", "text"), STILL_EMERGENCIES)
def test_shut_in_or_somebody_inside_is_still_an_emergency(kind: str, text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind


def test_the_dialogue_answers_the_locked_out_resident_as_a_request() -> None:
    res = Transcript().say("救命 门禁卡坏了 我被锁在外面了")
    assert not any(a.name == "emergency" for a in res.actions)
    assert res.reply and not any(number in res.reply for number in ("120", "119", "110"))
    assert res.state != State.IDLE  # the order dialogue (a repair) goes on


def test_the_dialogue_answers_the_fire_behind_a_locked_door_with_the_fire_steps() -> None:
    res = Transcript().say("救命 我被锁在屋里出不去了 着火了")
    assert res.reply == emergency_reply("fire")
    [action] = res.actions
    assert action.name == "emergency" and action.data["kind"] == "fire"
