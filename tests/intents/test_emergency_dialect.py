"""Emergencies told in Cantonese (佢, 咗, 喺, 瞓, 晕低, 跌低, 唔郁), with the old and northern word for a house fire
(走水), 背过气 for passing out, and the pinyin typo 被车装 for 被车撞; and everyday sentences with the same words."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency

EMERGENCIES = [
    ("medical", "阿婆晕低咗"),
    ("medical", "佢冇反应"),
    ("medical", "伯伯瞓喺地下 唔郁"),
    ("medical", "老人家跌咗落地"),
    ("medical", "我老豆跌低咗 起唔嚟"),
    ("medical", "老头子背过气去了"),
    ("medical", "我爸被车装了"),
    ("medical", "老公被车撞到了 流血"),
    ("fire", "屋里走水了"),
    ("fire", "屋企走水啦 快啲"),
]
LOOK_ALIKES = [
    "气得我差点背过气去",
    "笑得背过气",
    "他装了一车货",
    "车装满了 明天送过去",
    "家里走水不畅 想找人通一下",
    "佢瞓咗一日",
    "孩子被球撞到了 哭了一会儿 没事",
]


@pytest.mark.parametrize(("kind", "text"), EMERGENCIES)
def test_dialect_and_typo_emergencies(kind: str, text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_the_same_words_in_everyday_sentences(text: str) -> None:
    assert detect_emergency(text) is None, text
