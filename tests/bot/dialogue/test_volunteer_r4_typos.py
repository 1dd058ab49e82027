"""Volunteers' typos of 接单 / 完成 are read as the commands, and only those: a request or a sentence that merely starts
like one stays what it was; the edge reads the tasks in progress for every way of saying "done"."""

from __future__ import annotations

import pytest

from bot.dialogue import volunteering
from bot.dialogue.core import State
from bot.dialogue.followups import wants_own_tasks
from bot.serviceloop.records import NotYoursError
from tests.bot.dialogue.corpus import CorpusTranscript

VOLUNTEER = frozenset({"volunteer"})


@pytest.mark.parametrize(("said", "meant"), [
    ("接但 3", "接单 3"), ("jie dan 3", "接单 3"), ("jiedan3", "接单 3"), ("JieDan 12", "接单 12"),
    ("wan cheng", "完成"), ("完城", "完成"), ("完城了", "完成了"), ("做完le", "做完了"), ("完城 5 2", "完成 5 2"),
])
def test_typos_are_rewritten_to_the_command(said: str, meant: str) -> None:
    assert volunteering.fix_typos(said) == meant


@pytest.mark.parametrize("said", ["接单 3", "完成 3 2", "我想理发", "做完了", "万一明天下雨怎么办"])
def test_nothing_else_is_rewritten(said: str) -> None:
    assert volunteering.fix_typos(said) is None


@pytest.mark.parametrize("said", ["做完了", "弄好了", "搞定了", "完城了", "做完le", "wan cheng", "完成", "已经做完了"])
def test_every_way_of_saying_done_has_the_tasks_read(said: str) -> None:
    assert wants_own_tasks(said)


def test_a_sentence_starting_like_a_typo_is_not_a_command() -> None:
    res = CorpusTranscript(roles=VOLUNTEER).say("接但是我明天没空")
    assert not any(a.name == "accept" for a in res.actions)
    res = CorpusTranscript(roles=VOLUNTEER).say("万成小区3号楼需要修水管")
    assert res.state != State.VOL_HOURS and not any(a.name == "complete" for a in res.actions)


def test_not_yours_is_said_plainly() -> None:
    assert str(NotYoursError(12, "接的")) == "订单12不是您接的。"
    assert str(NotYoursError(12, "接的，不能退单")) == "订单12不是您接的，不能退单。"
    assert str(NotYoursError(12, "，不能评价")) == "订单12不是您的，不能评价。"
    assert str(NotYoursError(12)) == "订单12不是您的。"
