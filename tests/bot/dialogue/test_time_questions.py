"""Outside tester round 3: a time the parser cannot book gets the question its words call for at the time question
("昨天" is gone by, "下周" wants its day), not "没太明白" and never a wrong day (the pure step)."""

from __future__ import annotations

import pytest

from bot.dialogue.core import State
from tests.bot.dialogue.transcript import Transcript


@pytest.mark.parametrize(("said", "asked"), [
    ("昨天", "已经过去了"),
    ("下周吧", "下周几"),
    ("下个月", "下个月几号"),
    ("过几天再说", "具体哪一天"),
])
def test_the_time_question_names_what_is_missing(said: str, asked: str) -> None:
    t = Transcript()
    t.say("俺想理个发")
    assert t.state == State.ORDER_TIME
    res = t.say(said)
    assert t.state == State.ORDER_TIME and "draft" in t.slots and not t.slots["draft"].get("start")
    assert asked in (res.reply or "") and "没太明白" not in (res.reply or "")


def test_a_day_word_typed_wrong_books_the_right_day() -> None:
    t = Transcript()
    t.say("俺想理个发")
    t.say("明添上午")
    assert t.state != State.ORDER_TIME  # understood: the next question, not the time again
