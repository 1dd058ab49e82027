"""The dialogue's own replies never go to the emergency second opinion (intents.commands.is_plain_reply, in the gate
intents.semantic.worth_a_second_opinion): the model's nearest examples of "俺不想弄了" are "我不想活了", and a
cancel answered with the crisis hotline and a staff alarm is a false alarm -- worse, the order was not cancelled
(outside tester, 2026-12-03). A fake model that shares characters makes the call-offs look like self-harm here, as
the real one did; a message with a word of life, death or farewell still gets the second opinion."""

from __future__ import annotations

import pytest

from bot.dialogue.nlu import load_understanding
from intents.commands import is_cancel, is_plain_reply
from intents.semantic import NONE, EmergencyReview, ExampleIndex, SemanticEmergency
from tests.fake_embedder import CharEmbedder

EXAMPLES = [("self_harm", "俺不想活了 不要了 别来了"), ("self_harm", "算了 不想弄了 活着没意思"),
            (NONE, "想请人来修水管"), (NONE, "想学急救")]
REPLIES = ["算了不要了", "算了 不要了", "俺不想弄了", "俺不要了 别来了", "不要了 别让师傅来了", "不要了算了吧",
           "好的 谢谢", "嗯嗯 对的", "不是的 不对", "以后再说吧", "没事了不用了", "谢谢你们啦", "我不想修了",
           "我不想再弄这个了", "不用再来人了"]
MORE = ["俺不想活了", "算了 不活了 别来了", "不要了 活着没意思", "不想弄了 这辈子就这样吧", "不要了 我什么都不想要了"]


@pytest.fixture
def model() -> CharEmbedder:
    return CharEmbedder(dim=256, name="fake-chars-replies")


@pytest.fixture
def understanding(model: CharEmbedder):
    opinion = SemanticEmergency(model, ExampleIndex.build(model, EXAMPLES), k=1, similarity=0.3, margin=0.0)
    model.calls.clear()
    return load_understanding().with_matcher(lambda lexical: lexical, EmergencyReview(opinion))


@pytest.mark.parametrize("text", REPLIES)
def test_a_reply_in_the_dialogues_own_words_is_no_emergency_and_not_embedded(understanding, model, text) -> None:
    assert is_plain_reply(text)
    assert understanding.emergency(text) is None
    assert model.calls == []


@pytest.mark.parametrize("text", MORE)
def test_words_beyond_a_call_off_still_get_the_second_opinion(understanding, text: str) -> None:
    assert not is_plain_reply(text)
    found = understanding.emergency(text)
    assert found is not None and found.kind == "self_harm"


@pytest.mark.parametrize("text", ["俺不想弄了", "俺不要了 别来了", "我不想修了", "咱不约了"])
def test_the_outside_testers_call_offs_are_cancels(text: str) -> None:
    assert is_cancel(text)
