"""Text normalisation."""

from __future__ import annotations

import pytest

from intents.normalise import default_normaliser, fold_width, normalise, strip_symbols


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢＣ１２３！", "abc123"),
        ("理髮師傅這週來不來", "理发师傅这周来不来"),
        ("嗯……那个，我想理发😭😭", "我想理发"),
        ("俺家老头子要剃头", "我家老头子要剃头"),
        ("额想推个平头", "我想推个平头"),
        ("咋整", "怎么办"),
        ("呃 啥时候有义诊啊", "什么时候有义诊"),
        ("明儿来吧", "明天来"),
        ("🌹🌹🌹", ""),
        ("  ", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text).replace(" ", "") == expected


def test_e_means_i_only_at_the_start_of_a_clause() -> None:
    assert "额头" in normalise("额头疼")
    assert normalise("额想理发").startswith("我")


def test_fold_keeps_punctuation_for_the_parsers() -> None:
    assert default_normaliser().fold("１５：００，謝謝") == "15:00,谢谢"
    assert fold_width("Ｈｅｌｌｏ") == "hello"
    assert strip_symbols("a,b😀c") == "a b c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("俺想理个头", "我想理头"),
        ("咱想剃一个头", "我想剃头"),
        ("阿拉想洗个澡", "我们想洗澡"),
        ("想找人聊个天", "想找人聊天"),
        # a 个 before a noun of its own stays: 修个 is a keyword for "mend something"
        ("帮我修个东西", "帮我修个东西"),
        ("想借个梯子", "想借个梯子"),
        ("裤子破了个洞", "裤子破了个洞"),
    ],
)
def test_separable_words_lose_their_measure_word(text: str, expected: str) -> None:
    assert normalise(text).replace(" ", "") == expected


@pytest.mark.parametrize("text", ["俺想理个头", "我屋头老汉想理个头", "想铰个头发", "咱想推个头", "阿拉姆妈想剃个头"])
def test_colloquial_haircut_requests_are_haircuts(text: str) -> None:
    from intents.catalogue import load_catalogue
    from intents.matcher import Matcher

    result = Matcher(load_catalogue()).match(text)
    assert (result.service, result.decision) == ("haircut", "accept")
