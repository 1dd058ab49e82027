"""The outside tester's round-3 false alarms, fixed as rule families (intents.emergency): 快来人 + a service is a
request (尽快来人帮我理个发), 救命 about a broken thing is hyperbole (救救我吧 家里电脑又坏了), a long-term state asking
for routine care is a request unless something acute is told (瘫在床上需要人帮忙翻身擦洗), and a bare English
"help" asks for the bot's help. Each family with look-alikes it must leave alone and emergencies it must keep,
written fresh here (the tuning rows are in tests/data/emergency_tune_families.tsv)."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency, triage


@pytest.mark.parametrize("text", [
    # the tester's messages, as sent
    "尽快来人帮我理个发 白莲小区9栋140号 13611113143",
    "尽快来人帮我打扫卫生",
    "救救我吧 家里电脑又坏了",
    "我老伴瘫在床上需要人帮忙翻身擦洗",
    "help",
    "Help",
])
def test_the_testers_false_alarms_are_quiet(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


@pytest.mark.parametrize("text", [
    "赶紧来人给我剪个头发",
    "快来人啊，帮我拖地",  # a particle and a comma between the call and the service
    "快来个人帮我买菜 冰箱空了",
    "快派人来帮我洗衣服",
    "快来人帮我陪老伴去体检",
    "快来人帮我搬沙发",
    "快来人帮我交燃气费",
    "尽快来人給我送米",  # traditional 給
])
def test_a_hurried_service_request_is_a_request(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


@pytest.mark.parametrize(("text", "kind"), [
    ("快来人啊 我妈摔倒了", "medical"),
    ("快来人帮我扶一下 我爸倒在厕所起不来", "medical"),  # 扶 helps somebody in trouble: no service
    ("快来人送我妈去医院", "medical"),  # a ride to hospital is no errand
    ("快来人帮我 我奶奶晕过去了", "medical"),
    ("快来人帮我打扫 算了 我摔了站不起来了", "medical"),  # a request that turns into a fall
    ("快来人 厨房着火了 帮我灭火", "fire"),
])
def test_a_cry_for_help_beside_a_service_word_stays(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, triage(text)


@pytest.mark.parametrize("text", [
    "救命啊 电脑又死机了",
    "救救我 手机黑屏了",
    "救命 wifi连不上",
    "救命！！冰箱不制冷了 不对 是坏了",
    "救救我吧 电视机没画面了",
    "救命 这个我真的搞不定",
])
def test_a_call_for_help_about_a_thing_is_not_an_emergency(text: str) -> None:
    t = triage(text)
    assert t.emergency is None and "broken_thing" in t.guards, t


@pytest.mark.parametrize(("text", "kind"), [
    ("救命 电脑冒烟了", "fire"),  # the thing itself is dangerous: its own cue
    ("救救我 手机坏了 我摔倒了起不来", "medical"),
    ("救命 电梯坏了 网也断了 我被困在里面了", "medical"),  # trapped by it
    ("救救我 热水器坏了 一屋子煤气味", "gas"),
    ("救命 洗衣机的水管爆了", "water"),
])
def test_a_broken_thing_beside_an_emergency_stays(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, triage(text)


@pytest.mark.parametrize("text", [
    "我妈瘫在床上 想找人每天来喂饭",
    "老头子瘫在床上好几年了 能派人来帮忙擦身吗",
    "我爸偏瘫 半边身子动不了 需要志愿者帮忙洗澡",
    "我婆婆卧床多年起不来 想请人上门理发",
])
def test_a_chronic_state_asking_routine_care_is_a_request(text: str) -> None:
    t = triage(text)
    assert t.emergency is None and "chronic_care" in t.guards, t


@pytest.mark.parametrize("text", [
    "我老伴突然瘫在地上叫不醒",
    "我妈瘫在床上好几年了 帮她翻身的时候突然喘不上气",
    "老伴卧床多年 擦洗的时候发现他叫不醒了",
    "我爸偏瘫在床 喂饭的时候噎住了 脸都紫了",
    "俺娘瘫痪在床 刚才从床上摔下来了 头出血了 要人帮忙",
])
def test_a_chronic_state_with_an_acute_sign_stays(text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == "medical", triage(text)


@pytest.mark.parametrize("text", ["help", "HELP", "help me", "Help me please", "help!", "help 怎么点外卖"])
def test_bare_english_help_asks_for_the_bots_help(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


@pytest.mark.parametrize(("text", "kind"), [
    ("help 救命", "medical"),
    ("help 我妈摔倒了", "medical"),
    ("help me 着火了", "fire"),
    ("help 有人撬门", "crime"),
    ("help 我喘不上气", "medical"),
])
def test_help_with_a_cry_or_an_acute_sign_stays(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, triage(text)


def test_help_still_adds_urgency() -> None:
    assert triage("help 我妈摔倒了").urgency == 1
    assert triage("我妈摔倒了").urgency == 0
