"""The dialogue's own replies never go to the emergency second opinion: its neighbours of "算了不要了" are
"算了 不活了", and a cancel answered with the mental-health hotline and a staff alarm is a false alarm (outside
tester, 2026-12-03). A message that only looks like a reply still gets the second opinion."""

from __future__ import annotations

import pytest

from bot.dialogue.nlu import load_understanding
from intents.emergency import Emergency


class Alarmed:
    """A second opinion that reads every message as self-harm, and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, text: str) -> Emergency | None:
        self.asked.append(text)
        return Emergency(kind="self_harm", cue=text)


@pytest.fixture
def understanding_and_opinion():
    opinion = Alarmed()
    return load_understanding().with_matcher(lambda lexical: lexical, opinion), opinion


@pytest.mark.parametrize("text", ["算了不要了", "算了 不要了", "不要了算了吧", "好的 谢谢", "嗯嗯 对的",
                                  "不是的 不对", "以后再说吧", "没事了不用了", "谢谢你们啦"])
def test_a_reply_in_the_dialogues_own_words_is_not_asked(understanding_and_opinion, text: str) -> None:
    understanding, opinion = understanding_and_opinion
    assert understanding.emergency(text) is None
    assert opinion.asked == []


@pytest.mark.parametrize("text", ["算了 不活了", "不要了 活着没意思", "好累啊 不想过了"])
def test_words_beyond_a_reply_are_still_asked(understanding_and_opinion, text: str) -> None:
    understanding, opinion = understanding_and_opinion
    found = understanding.emergency(text)
    assert found is not None and found.kind == "self_harm"
