"""Outside tester out9: a location sent while ordering names a place, not a door, so the door is asked for as for
"幸福小区" typed; and a bare "1" at the door question is no "就这样" (it may be 1栋): asked back, nothing taken."""

from __future__ import annotations

from dataclasses import replace

from bot.dialogue import step
from bot.dialogue.core import State
from tests.bot.dialogue.transcript import Transcript, text

PLACE = "湖南省株洲市天元区幸福小区"


def _at_address() -> Transcript:
    t = Transcript(phone_on_file="13800138000")
    t.say("明天上午来理个发")
    assert t.state == State.ORDER_ADDRESS
    return t


def _send_location(t: Transcript, label: str) -> str:
    inc = replace(text("x"), kind="location", text=None, latitude=27.83, longitude=113.08, label=label)
    res = step.step(t.state, t.slots, inc, t.context())
    t.state, t.slots = res.state, dict(res.slots)
    return res.reply or ""


def test_a_location_without_a_door_gets_the_door_question() -> None:
    t = _at_address()
    reply = _send_location(t, PLACE)
    assert "几栋几单元几号" in reply and t.state == State.ORDER_ADDRESS, reply
    reply = t.say("3栋2单元301").reply or ""
    assert "请留一个联系电话" in reply or "回复 1 使用" in reply, reply
    draft = t.slots["draft"]
    assert draft["address"].startswith(PLACE) and "3栋2单元301" in draft["address"] and draft["lat"] == 27.83


def test_as_it_is_keeps_the_location() -> None:
    t = _at_address()
    _send_location(t, PLACE)
    t.say("就这样")
    assert t.slots["draft"]["address"] == PLACE and t.slots["draft"]["lng"] == 113.08


def test_a_location_with_its_door_is_taken() -> None:
    t = _at_address()
    reply = _send_location(t, "幸福小区5栋1单元202")
    assert "几栋几单元几号" not in reply and t.slots["draft"]["address"] == "幸福小区5栋1单元202", reply


def test_a_bare_number_at_the_door_question_is_asked_back() -> None:
    t = Transcript(phone_on_file="13800138000")
    t.say("明天上午来理个发")
    assert "几栋几单元几号" in (t.say("白莲小区").reply or "")
    reply = t.say("1").reply or ""
    assert "“1”是1栋" in reply and t.state == State.ORDER_ADDRESS and "address" not in t.slots["draft"], reply
    t.say("1栋3单元402")
    assert t.slots["draft"]["address"] == "白莲小区1栋3单元402"


def test_the_door_and_the_phone_in_one_voice_message_are_both_kept() -> None:
    """Outside tester out10: after a location, "八栋三单元六零二 电话是幺三九…" kept the door and dropped the phone."""
    t = Transcript()
    t.say("帮我买点菜 明儿个上午")
    _send_location(t, "宝莲社区")
    res = t.say("八栋三单元六零二 电话是幺三九 零零零零 幺幺幺幺")
    draft = t.slots["draft"]
    assert res.state == State.ORDER_CONFIRM and draft["phone"] == "13900001111", (res.reply, draft)
    assert draft["address"] == "宝莲社区八栋三单元六零二"
