"""Emergencies typed in English (a grandchild, a carer, a foreign resident) and the SOS/ambulance emoji get the
emergency answer too (outside tester out11: "My house is on fire" got the service menu, 🆘 got "好的！"). Look-alikes
in English stay quiet."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency


@pytest.mark.parametrize(("text", "kind"), [
    ("My house is on fire", "fire"),
    ("there is a fire in my building", "fire"),
    ("Fire!", "fire"),
    ("I fell down and cannot get up", "medical"),
    ("my husband is not breathing", "medical"),
    ("grandpa collapsed in the bathroom", "medical"),
    ("please call an ambulance", "medical"),
    ("I smell gas in the kitchen", "gas"),
    ("someone broke into my house", "crime"),
    ("i want to kill myself", "self_harm"),
    ("the pipe burst and water is everywhere", "water"),
    ("🆘", "medical"),
    ("🚑🚑", "medical"),
])
def test_english_and_emoji_emergencies(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, (text, found)


@pytest.mark.parametrize("text", [
    "This song is fire", "I got fired today", "we had a fire drill", "first aid class for choking",
    "my grandma fell yesterday but is fine now", "please check my gas meter", "hello", "thank you",
    "help me with my phone", "🔥🔥", "I want to die of embarrassment lol", "the movie about a burglar was good",
])
def test_english_look_alikes(text: str) -> None:
    assert detect_emergency(text) is None, text
