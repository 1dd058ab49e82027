"""Pinyin typed without characters ("lifa", "zhao ren xiu shui guan"): split into syllables and matched against the
catalogue through the matcher's pinyin keys; anything else is left to the character matcher."""

from __future__ import annotations

import pytest

from intents.matcher import Matcher, pinyin_syllables


@pytest.mark.parametrize(("text", "syllables"), [
    ("lifa", ("li", "fa")),
    ("li fa", ("li", "fa")),
    ("LiFa", ("li", "fa")),
    ("lǐ fà", ("li", "fa")),
    ("li3fa4", ("li", "fa")),
    ("xiu shui guan", ("xiu", "shui", "guan")),
    ("zhao ren xiu shui guan", ("zhao", "ren", "xiu", "shui", "guan")),
    ("xi'an", ("xi", "an")),
    ("baojie", ("bao", "jie")),
])
def test_pinyin_split_into_syllables(text: str, syllables: tuple[str, ...]) -> None:
    assert pinyin_syllables(text) == syllables


@pytest.mark.parametrize("text", ["hello", "ok", "help me", "理发", "13811113333", "lifa 明天", "", "   ", "a",
                                  "xian"])
def test_not_pinyin_alone(text: str) -> None:
    """English words, characters, numbers, a mix, or one syllable: no pinyin reading (one syllable names nothing)."""
    assert pinyin_syllables(text) is None


@pytest.mark.parametrize(("text", "code"), [
    ("lifa", "haircut"),
    ("li fa", "haircut"),
    ("lǐ fà", "haircut"),
    ("xiu shui guan", "repair"),
    ("zhao ren xiu shui guan", "repair"),
    ("xiu3 shui3 guan3", "repair"),
    ("xiushuiguan", "repair"),
])
def test_pinyin_typed_matches_the_service(matcher: Matcher, text: str, code: str) -> None:
    result = matcher.match(text)
    assert (result.decision, result.service) == ("accept", code)


def test_dialect_folds_apply_to_typed_pinyin(matcher: Matcher) -> None:
    """"xiu sui guan" (sh typed as s): the dialect fold of three syllables, as for characters."""
    result = matcher.match("xiu sui guan")
    assert result.service == "repair" and result.decision in ("accept", "clarify")


@pytest.mark.parametrize("text", ["hello", "ok", "asdfgh", "ni hao", "xie xie"])
def test_other_latin_text_names_no_service(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision == "not_service"
