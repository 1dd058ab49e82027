"""Safety first: a message about an emergency gets the emergency answer before anything else, in every state."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dialogue.core import KEEP_SLOTS, State
from bot.dialogue.safety import DEFAULT_HOTLINES, emergency_reply
from tests.bot.dialogue.transcript import Transcript

# Written the way residents type and speak (not the detector's own tuning set): no punctuation, dialect, typos.
EMERGENCIES = [
    ("medical", "我妈摔倒了起不来"),
    ("medical", "老伴突然晕过去了叫不醒"),
    ("medical", "喂喂你好我跟你说我们家老头子刚才在厕所里摔了一跤现在起不来了怎么办"),
    ("fire", "着火了"),
    ("fire", "楼道里全是烟 快来人"),
    ("gas", "煤气泄漏了怎么办"),
    ("gas", "家里燃气灶有味道"),
    ("crime", "有人在撬我家门"),
    ("self_harm", "我不想活了"),
    ("water", "家里进水了 水越来越深"),  # a flood (a burst pipe at home: tests/bot/dialogue/test_household_water.py)
]
LOOK_ALIKES = ["想请人检查燃气安全", "上次摔倒后想找人陪我复查", "想学急救", "气死我了", "明天上午来帮我理发"]
PRIOR_SLOTS: dict[str, Any] = {"location": {"lat": 1.0, "lng": 2.0, "label": "幸福小区"}, "callout": 3,
                               "draft": {"service": "haircut"}, "reg": {"name": "王"}, "misses": 1}


@pytest.mark.parametrize("state", list(State))
def test_every_state_answers_an_emergency_first(state: State) -> None:
    roles = frozenset({"volunteer"}) if state.name.startswith(("PROFILE", "REDEEM", "MERCHANT", "VOL")) else frozenset()
    for kind, text in EMERGENCIES:
        t = Transcript(state=state, slots=dict(PRIOR_SLOTS), roles=roles)
        res = t.say(text)
        assert res.reply == emergency_reply(kind), (state, text, res.reply)
        assert res.state == State.IDLE  # no order dialogue, no "what time suits you"
        assert set(res.slots) <= KEEP_SLOTS and res.slots.get("callout") == 3
        [action] = res.actions
        assert action.name == "emergency" and action.data["kind"] == kind and action.data["text"] == text


def test_look_alikes_are_not_emergencies() -> None:
    for text in LOOK_ALIKES:
        res = Transcript().say(text)
        assert not any(a.name == "emergency" for a in res.actions), text
        assert "120" not in (res.reply or "") and "119" not in (res.reply or "")


def test_the_reply_names_the_number_and_safe_steps_and_the_hub_can_change_the_numbers() -> None:
    assert "120" in emergency_reply("medical") and "12356" in emergency_reply("self_harm")
    gas = emergency_reply("gas")
    assert "不要开关电灯电器" in gas and "开窗" in gas and "室外" in gas and "119" in gas
    local = emergency_reply("gas", {"gas": "96777"})  # the gas company's line; 119 only for a fire
    assert "燃气公司抢修电话 96777" in local and "抢修 119" not in local and "着火了请马上打 119" in local
    assert set(DEFAULT_HOTLINES) == {"medical", "fire", "gas", "crime", "self_harm", "water"}
    t = Transcript(hotlines={"gas": "96777"})
    assert "96777" in (t.say("屋里一股煤气味 头晕").reply or "")


def test_a_handed_over_resident_still_gets_the_emergency_answer() -> None:
    t = Transcript(state=State.HUMAN)
    assert t.say("随便说点什么").reply is None  # staff are answering: the bot stays quiet ...
    res = t.say("救命 我爸倒在地上了")
    assert res.reply is not None and "120" in res.reply  # ... except for an emergency
