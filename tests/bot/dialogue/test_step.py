"""The pure dialogue step, driven directly (no Flask, no database): tables, kept slots, today's replies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dialogue import core, step, volunteering
from bot.dialogue.core import KEEP_SLOTS, State, kept
from tests.bot.dialogue.transcript import Transcript, text, verify_dialog

LOCATION = {"lat": 28.2, "lng": 112.9, "label": "幸福小区"}


def test_every_state_has_exactly_one_handler_and_names_equal_values() -> None:
    assert set(step.STATE_HANDLERS) == set(State) - {State.IDLE, State.HUMAN}
    assert all(s.name == s.value for s in State)
    assert State.of("ORDER_CONFIRM") is State.ORDER_CONFIRM and State.of("NO_SUCH_STATE") is None
    assert step.STATE_HANDLERS["ORDER_CONFIRM"] is step.STATE_HANDLERS[State.ORDER_CONFIRM]  # stored strings work


def test_the_command_table_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        step._check_commands(step.COMMANDS + step.COMMANDS[:1])
    assert [row.name for row in step.COMMANDS][0] == "callout_answer"  # "到" wins over everything else


def test_kept_slots_have_one_definition() -> None:
    assert KEEP_SLOTS == {"location", core.CALLOUT_SLOT}
    assert kept({"location": LOCATION, "callout": 7, "draft": {"service": "haircut"}, "misses": 2}) == {
        "location": LOCATION, "callout": 7}


def test_a_merchant_qr_scan_keeps_a_pending_call_out() -> None:
    """It used to keep only the location: a volunteer called out who then scanned a counter's code lost the call-out
    and "1" stopped counting as an answer."""
    slots = {"location": LOCATION, "callout": 7, "draft": {"service": "haircut"}}
    ctx = Transcript(roles=frozenset({"volunteer"})).context()
    res = volunteering.start_scan_redeem(slots, ctx, merchant_id=3)
    assert res.slots["callout"] == 7 and res.slots["location"] == LOCATION and "draft" not in res.slots
    res = volunteering.start_code_scan(slots, "ABC123")
    assert res.slots["callout"] == 7


def test_an_expired_dialogue_keeps_the_call_out_so_1_still_answers_it() -> None:
    t = Transcript(roles=frozenset({"volunteer"}))
    t.say("明天上午来帮我理发")
    assert t.state != State.IDLE
    t.slots["callout"] = 9  # a call-out reached this person meanwhile
    t.wait(hours=2)
    res = t.say("1")
    assert res.reply is not None and res.reply.startswith("上次的对话时间太久")
    assert [a.name for a in res.actions] == ["callout_answer"] and res.actions[0].data["callout"] == 9


def test_a_state_from_another_version_of_the_code_starts_over() -> None:
    t = Transcript(state="SOME_OLD_STATE", slots={"x": 1})
    res = t.say("菜单")
    assert res.state == State.IDLE and "请回复数字" in (res.reply or "")


def test_today_replies_for_the_menu_cancel_and_a_one_sentence_order() -> None:
    t = Transcript()
    verify_dialog(t, [
        ("你好", ""),
        ("菜单", "欢迎来到阳光社区雷锋超市！请回复数字："),
        ("取消", "现在没有要取消的操作。"),
        ("明天上午九点来幸福小区3栋帮我理发 电话13800138000", "请核对您的订单："),
        ("取消", "好的，已取消。"),
    ])
    assert t.state == State.IDLE


def test_call_out_answers_go_to_the_call_out_action_in_any_state() -> None:
    t = Transcript(roles=frozenset({"volunteer"}))
    t.say("我要理发")
    res = t.say("收到")
    assert [a.name for a in res.actions] == ["callout_answer"]
    # "1" is a menu choice for everyone without a pending call-out
    t2 = Transcript()
    res = t2.say("1")
    assert res.state == State.ORDER_SERVICE and not res.actions


def test_step_never_sees_the_database_or_flask() -> None:
    res = step.step(State.IDLE, {}, replace(text("你好"), kind="image"), Transcript().context())
    assert res.reply and "图片" in res.reply
