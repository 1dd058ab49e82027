"""The second opinion's gate (intents.semantic.worth_a_second_opinion): a message too short to hold an emergency the
rules missed (fewer than 4 Han characters once folded) or a bare numbered reply (1, 接单 3) is never embedded; a
sentence is. A fake model that counts what it is asked to embed."""

from __future__ import annotations

from typing import Any

import pytest

from intents.emergency import detect_emergency
from intents.semantic import (
    NONE,
    SECOND_OPINION_MIN_HAN,
    ExampleIndex,
    SemanticEmergency,
    worth_a_second_opinion,
)
from tests.fake_embedder import CharEmbedder
from tests.intents.test_semantic_emergency import FLOOD, fake_layer

EXAMPLES = [("water", FLOOD), ("water", "楼上的水哗哗往下灌 家里全淹了"), ("medical", "老伴突然晕倒了 叫不醒"),
            (NONE, "想请人看看楼上的水管"), (NONE, "想学急救")]
SKIPPED = ["菜单", "你好", "1", "接单 3", "  接单3 ", "完成 12", "完成订单 12", "第3个", "#5", "３", "好的", "谢谢你",
           "ok", "help", "在吗？", "取消订单号 123456"]


@pytest.fixture
def model() -> CharEmbedder:
    return CharEmbedder(dim=256, name="fake-chars-gate")


@pytest.fixture
def second(model: CharEmbedder) -> SemanticEmergency:
    opinion = SemanticEmergency(model, ExampleIndex.build(model, EXAMPLES), k=1, similarity=0.9, margin=0.1)
    model.calls.clear()  # only what the messages cost from here
    return opinion


def test_the_threshold_is_the_measured_four() -> None:
    assert SECOND_OPINION_MIN_HAN == 4


@pytest.mark.parametrize("text", SKIPPED)
def test_short_and_numbered_replies_are_never_embedded(second: SemanticEmergency, model: CharEmbedder,
                                                       text: str) -> None:
    assert not worth_a_second_opinion(text)
    opinion = second.assess(text)
    assert opinion.kind is None and opinion.best == NONE and not opinion.vetoed
    assert second.second_opinion(text) is None
    assert model.embedded == 0, text


def test_a_six_character_sentence_is_still_asked(second: SemanticEmergency, model: CharEmbedder) -> None:
    text = "楼上水往下灌"
    assert len(text) == 6 and detect_emergency(text) is None
    assert worth_a_second_opinion(text)
    second.assess(text)
    assert model.asked == [text]


def test_the_gate_keeps_an_emergency_the_rules_miss(second: SemanticEmergency, model: CharEmbedder) -> None:
    assert detect_emergency(FLOOD) is None
    found = second.second_opinion(FLOOD)
    assert found is not None and found.kind == "water"
    assert model.asked == [FLOOD]


@pytest.mark.parametrize(("text", "asked"), [
    ("水漫进来", True),  # four Han characters: asked
    ("水漫进", False),  # three: not
    ("水漫進來了", True),  # traditional characters count once simplified
    ("救命啊", False),  # the rules answer this one themselves
    ("我家 3 楼漏水", True),  # a number inside a sentence is no numbered reply
    ("我要第3个服务", True),
    ("接单 3 楼下着火了", True),
    ("好的好的呀", False),  # five Han characters but a plain yes (intents.commands.is_plain_reply): not asked
    ("我家好的好的没事呀 就是水漫进来了", True),  # a yes inside a sentence is no plain reply
])
def test_the_boundary(text: str, asked: bool) -> None:
    assert worth_a_second_opinion(text) is asked, text


def test_the_bots_layer_skips_a_menu_choice(model: CharEmbedder, tmp_path: Any) -> None:
    layer = fake_layer(model, tmp_path)
    before = model.embedded
    for text in ("菜单", "你好", "1", "接单 3"):
        assert layer.emergency(text) is None
    assert model.embedded == before  # neither the second opinion nor anything under it embedded them
    assert layer.second_opinion(FLOOD) is not None
    assert model.embedded == before + 1
