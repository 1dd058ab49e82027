"""The resident's saved address offered at the address question ("还是送到…吗？"), through the pure step: taken in the
words residents use, replaced by a new address, changed by a correction; never offered for somebody else's order."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dialogue.core import Result, State
from bot.dialogue.ordering import USES_SAVED_ADDRESS
from tests.bot.dialogue.corpus import CorpusTranscript

SAVED = "幸福小区3栋2单元301"


def _talk(*said: str, saved: str | None = SAVED, **kw: Any) -> tuple[CorpusTranscript, Result]:
    t = CorpusTranscript(extra={"last_address": saved} if saved else {}, **kw)
    res: Result | None = None
    for text in said:
        res = t.say(text)
    assert res is not None
    return t, res


def _address(res: Result) -> Any:
    return (res.slots.get("draft") or {}).get("address")


def test_the_address_question_offers_the_saved_address() -> None:
    _t, res = _talk("我要理发", "明天上午")
    assert res.state == State.ORDER_ADDRESS
    assert f"还是送到 {SAVED} 吗" in (res.reply or "") and "新地址" in (res.reply or "")
    assert _address(res) is None  # offered, not taken yet


def test_a_one_message_request_is_offered_it_at_once() -> None:
    _t, res = _talk("明天上午来帮我理个发")
    assert res.state == State.ORDER_ADDRESS and SAVED in (res.reply or "")


def test_without_a_saved_address_the_question_is_the_usual_one() -> None:
    _t, res = _talk("我要理发", "明天上午", saved=None)
    assert "服务地址是哪里" in (res.reply or "") and "还是送到" not in (res.reply or "")


def test_an_address_said_with_the_request_is_not_asked_over() -> None:
    _t, res = _talk("明天上午来向阳新村9栋帮我理发")
    assert _address(res) == "向阳新村9栋" and "还是送到" not in (res.reply or "")


@pytest.mark.parametrize("said", ["是", "对", "嗯", "好的", "1", "还是那里", "还是那", "老地方", "老地方吧",
                                  "跟上回一样", "跟上会一样", "对就那", "嗯 就那", "对的就那里", "还送那", "就送那吧",
                                  "俺还住那", "地址没变", "还是那个地址", "嗯嗯是的", "对头", "一样"])
def test_yes_in_any_words_takes_the_saved_address(said: str) -> None:
    _t, res = _talk("我要理发", "明天上午", said)
    assert _address(res) == SAVED, (said, res.reply)
    assert res.state == State.ORDER_PHONE and SAVED in (res.reply or "")  # said back, then the next question


@pytest.mark.parametrize(("said", "address"), [
    ("向阳新村9栋1单元202", "向阳新村9栋1单元202"),
    ("不是 送到向阳新村9栋1单元202", "向阳新村9栋1单元202"),
    ("不是 我搬了 住白莲小区5栋101", "白莲小区5栋101"),  # a move, not a request for the moving service
])
def test_a_new_address_replaces_it(said: str, address: str) -> None:
    _t, res = _talk("我要理发", "明天上午", said)
    assert _address(res) == address, res.reply
    assert (res.slots.get("draft") or {}).get("service") == "haircut"


@pytest.mark.parametrize(("said", "address"), [
    ("不是 是6号楼", "幸福小区6号楼"),
    ("不对 是6号楼", "幸福小区6号楼"),
    ("不是3栋是6栋", "幸福小区6栋2单元301"),
    ("是5栋不是3栋", "幸福小区5栋2单元301"),
    ("门牌是302", "幸福小区3栋2单元302"),
    ("6号楼", "幸福小区6号楼"),  # a door alone: of the offered estate
])
def test_a_correction_changes_the_offered_address_as_at_the_summary(said: str, address: str) -> None:
    _t, res = _talk("我要理发", "明天上午", said)
    assert _address(res) == address, res.reply
    assert address in (res.reply or "")


@pytest.mark.parametrize("said", ["不是", "不对", "不是的 换个地方"])
def test_a_no_asks_for_the_address_and_does_not_offer_it_again(said: str) -> None:
    t, res = _talk("我要理发", "明天上午", said)
    assert res.state == State.ORDER_ADDRESS and "服务地址是哪里" in (res.reply or "") and SAVED not in (res.reply or "")
    res = t.say("向阳新村9栋")
    assert _address(res) == "向阳新村9栋"


def test_after_a_no_the_same_as_last_time_still_takes_it() -> None:
    t, res = _talk("我要理发", "明天上午", "不是")
    res = t.say("还是跟上回一样吧")
    assert SAVED in (res.reply or "")
    res = t.say("嗯")
    assert _address(res) == SAVED


def test_small_talk_at_the_offer_asks_it_again() -> None:
    _t, res = _talk("我要理发", "明天上午", "在吗")
    assert res.state == State.ORDER_ADDRESS and f"还是送到 {SAVED} 吗" in (res.reply or "")


def test_a_move_said_right_after_taking_it_replaces_it() -> None:
    _t, res = _talk("我要理发", "明天上午", "老地方", "不是 搬家了 现在住白莲小区5栋101")
    assert _address(res) == "白莲小区5栋101" and res.state == State.ORDER_PHONE
    assert (res.slots.get("draft") or {}).get("service") == "haircut"


def test_a_saved_address_without_a_door_is_taken_as_it_is() -> None:
    _t, res = _talk("我要理发", "明天上午", "是", saved="白莲村")
    assert _address(res) == "白莲村" and res.state == State.ORDER_PHONE  # its door was asked when it was given


def test_taken_it_reaches_the_summary_and_the_order() -> None:
    _t, res = _talk("我要理发", "明天上午", "对就那", "13812345678")
    assert res.state == State.ORDER_CONFIRM and f"地址：{SAVED}" in (res.reply or "")
    _t, res = _talk("我要理发", "明天上午", "对就那", "13812345678", "1")
    assert [a.data.get("address") for a in res.actions if a.name == "submit_order"] == [SAVED]


def test_changing_the_address_at_the_summary_does_not_offer_it_again() -> None:
    _t, res = _talk("我要理发", "明天上午", "是", "13812345678", "2", "4")
    assert res.state == State.ORDER_ADDRESS and "还是送到" not in (res.reply or "")


def test_the_next_order_offers_it_again() -> None:
    t, res = _talk("我要理发", "明天上午", "不是", "向阳新村9栋", "13812345678", "1")
    assert res.state == State.IDLE
    res = t.say("后天下午想请人来打扫卫生")
    assert f"还是送到 {SAVED} 吗" in (res.reply or "")


def test_an_order_for_a_family_member_is_not_offered_the_senders_address() -> None:
    _t, res = _talk("帮我妈下单", "王奶奶", "13900001111", "理发", "明天上午")
    assert res.state == State.ORDER_ADDRESS and SAVED not in (res.reply or "")


def test_a_location_just_sent_is_offered_rather_than_the_saved_address() -> None:
    location = {"label": "白莲小区北门", "lat": 31.2, "lng": 121.4}
    _t, res = _talk("我要理发", "明天上午", slots={"location": location})
    assert "白莲小区北门" in (res.reply or "") and SAVED not in (res.reply or "")


def test_the_edge_reads_it_in_the_states_that_use_it() -> None:
    assert {State.IDLE, State.ORDER_TIME, State.ORDER_ADDRESS, State.ORDER_CONFIRM} <= USES_SAVED_ADDRESS
    assert not {State.RATE, State.HUMAN, State.REG_PHONE, State.VOL_HOURS} & USES_SAVED_ADDRESS
