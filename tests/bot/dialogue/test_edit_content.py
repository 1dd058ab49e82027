"""Changing what a submitted order is for, or what is to be done, in the pure dialogue: read, the order found, shown
and confirmed, then one "edit_order" action (field "service" or "details"); declined plainly once a volunteer holds
it (a service), or passed on to them (more to do); never taken for a new order."""

from __future__ import annotations

from typing import Any

from bot.dialogue import changing
from bot.dialogue.core import Action, State
from tests.bot.dialogue.corpus import CorpusTranscript

HAIRCUT = {"id": 12, "service": "haircut", "when": "11月24日(周二) 09:00", "time_kind": "point",
           "start": "2026-11-24T01:00:00+00:00", "end": None, "address": "幸福小区3号楼2单元301",
           "state": "dispatched"}
MEALS = {"id": 15, "service": "meals", "when": "11月25日(周三) 11:00", "time_kind": "point",
         "start": "2026-11-25T03:00:00+00:00", "end": None, "address": "幸福小区3号楼2单元301"}
TAKEN = {**HAIRCUT, "state": "accepted"}


def _chat(*orders: dict[str, Any]) -> CorpusTranscript:
    return CorpusTranscript(extra={"open_orders": orders})


def _edit(t: CorpusTranscript) -> Action:
    (edit,) = [a for a in t.actions() if a.name == changing.EDIT_ACTION]
    return edit


def test_another_service_is_matched_shown_and_changed_on_yes() -> None:
    t = _chat(HAIRCUT)
    asked = t.say("不是礼发 是修水管")
    assert asked.state == State.CHANGE_CONFIRM and not asked.actions
    assert "从【义务理发】改成【维修服务】" in (asked.reply or "")
    done = t.say("好的")
    assert done.state == State.IDLE
    assert _edit(t).data == {"order": 12, "field": "service", "value": "repair"}


def test_the_order_of_the_service_said_wrong_is_the_one_changed() -> None:
    t = _chat(HAIRCUT, MEALS)
    asked = t.say("搞错了 不是理发 是打扫卫生")
    assert asked.state == State.CHANGE_CONFIRM and "订单12" in (asked.reply or "") and "家政保洁" in (asked.reply or "")
    t.say("1")
    assert _edit(t).data["order"] == 12


def test_a_service_we_do_not_have_changes_nothing() -> None:
    t = _chat(HAIRCUT)
    res = t.say("不是理发 是修脚")
    assert res.state == State.IDLE and "没有“修脚”这项服务" in (res.reply or "") and not res.actions


def test_a_service_change_once_a_volunteer_took_it_is_declined_with_the_way_to_reorder() -> None:
    t = _chat(TAKEN)
    res = t.say("俺不理发了 改成修下水管")
    assert res.state == State.IDLE and not res.actions
    assert "已经有志愿者接了" in (res.reply or "") and "取消订单 12" in (res.reply or "")


def test_more_to_do_is_added_to_the_order() -> None:
    t = _chat(HAIRCUT)
    asked = t.say("补充一下 要剪短点")
    assert asked.state == State.CHANGE_CONFIRM and "加上“要剪短点”" in (asked.reply or "")
    t.say("1")
    assert _edit(t).data == {"order": 12, "field": "details", "value": {"text": "要剪短点", "add": True}}


def test_the_content_said_anew_replaces_it() -> None:
    t = _chat(HAIRCUT)
    assert "内容改成“剪短一点 两边推平”" in (t.say("内容改成剪短一点 两边推平").reply or "")
    t.say("是的")
    assert _edit(t).data["value"] == {"text": "剪短一点 两边推平", "add": False}


def test_another_service_by_the_way_may_be_its_own_order() -> None:
    t = _chat(HAIRCUT)
    asked = t.say("再加一样 顺便换个灯泡")
    assert "【维修服务】" in (asked.reply or "") and "回复 2" in (asked.reply or "")
    res = t.say("2")
    assert res.state in (State.ORDER_TIME, State.ORDER_ADDRESS) and "维修服务" in (res.reply or "")
    assert not [a for a in t.actions() if a.name == changing.EDIT_ACTION]


def test_more_to_do_once_a_volunteer_took_it_is_passed_on() -> None:
    t = _chat(TAKEN)
    asked = t.say("再加一样 顺便帮俺把胡子刮刮")
    assert asked.state == State.CHANGE_CONFIRM and "转告接单的志愿者" in (asked.reply or "")
    t.say("1")
    assert _edit(t).data["field"] == "details" and _edit(t).data["value"]["text"] == "把胡子刮刮"


def test_with_two_open_orders_which_one_is_asked() -> None:
    t = _chat(HAIRCUT, MEALS)
    res = t.say("还要帮俺刮个胡子")
    assert res.state == State.CHANGE_PICK and "订单12" in (res.reply or "") and "订单15" in (res.reply or "")
    assert t.say("1").state == State.CHANGE_CONFIRM
    t.say("1")
    assert _edit(t).data["order"] == 12


def test_a_question_by_the_way_a_time_or_no_open_order_is_no_content_change() -> None:
    t = _chat(HAIRCUT)
    assert t.say("顺便问下 你们几点下班").state != State.CHANGE_CONFIRM
    t = _chat(HAIRCUT)
    res = t.say("不是明天是后天")
    assert res.state == State.CHANGE_CONFIRM and "时间" in (res.reply or "")
    t = _chat()
    assert t.say("不是理发 是修水管").state != State.CHANGE_CONFIRM
