"""The pure dialogue step, driven directly (no Flask, no database): tables, kept slots, today's replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

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
    assert KEEP_SLOTS == {"location", core.CALLOUT_SLOT, core.AFTER_EMERGENCY_SLOT, core.SUBMITTED_SLOT,
                          core.LAST_RATING_SLOT}
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
        ("取消", "要取消哪一个订单？"),  # the open orders were not read: the domain lists them (a my_orders action)
        ("明天上午九点来幸福小区3栋帮我理发 电话13800138000", "请核对您的订单："),
        ("取消", "已取消正在填的这张订单（还没有提交"),  # the truth: what was cancelled had not been submitted
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


def test_every_command_word_has_an_answer() -> None:
    step._check_named(step.NAMED)
    with pytest.raises(ValueError, match="without an answer"):
        step._check_named({k: v for k, v in step.NAMED.items() if k != "points"})


def test_small_talk_is_warm_short_and_points_to_the_menu() -> None:
    t = Transcript()
    verify_dialog(t, [
        ("谢谢", "不客气！能帮上您我们很高兴。还需要帮忙的话，直接说，或回复“菜单”。"),
        ("你是谁", "我是阳光社区雷锋超市的小助手。"),
        ("你好", "欢迎来到阳光社区雷锋超市！请回复数字："),
        ("再见", "再见，祝您身体健康！"),
    ])
    assert "1 我要找志愿者帮忙（点单）" in (t.say("你是干什么的").reply or "")
    assert t.state == State.IDLE and not t.actions()


def test_a_time_that_has_passed_is_offered_nearer_ones_not_refused() -> None:
    t = Transcript()
    t.say("我要理发")
    res = t.say("今天上午九点")
    assert res.reply == ("现在已经过了今天上午9点。改成哪个时间？\n1 今天上午（12:00前）\n2 明天上午9点\n"
                         "回复数字，或者说一个别的时间。")
    res = t.say("2")
    assert res.state == State.ORDER_ADDRESS and t.slots["draft"]["start"] == "2026-11-24T09:00:00+08:00"
    assert "time_offers" not in t.slots


def test_an_urgent_order_keeps_its_window() -> None:
    t = Transcript()
    res = t.say("水管漏了 越快越好 幸福小区3栋 13800138000")
    assert "时间：尽快（13:00前）" in (res.reply or "")
    [submit] = t.say("对").actions
    assert submit.data["time_kind"] == "asap" and submit.data["end"] == "2026-11-23T13:00:00+08:00"


def test_the_urgent_window_comes_from_the_context() -> None:
    t = Transcript()
    ctx = replace(t.context(), urgent_window=timedelta(hours=1))
    res = step.step(State.IDLE, {}, text("水管漏了 越快越好 幸福小区3栋 13800138000"), ctx)
    assert "尽快（11:00前）" in (res.reply or "")


@pytest.mark.parametrize("said", ["4829137", "4829137号", "2"])
def test_cancel_pick_takes_a_long_order_number_or_the_line(said: str) -> None:
    """A hub past 9,000 orders has 7-digit 单号: typing the order's own number still picks it."""
    t = Transcript()
    ctx = replace(t.context(), open_orders=(core.OpenOrder(512377, "haircut"), core.OpenOrder(4829137, "haircut")))
    res = step.step(State.IDLE, {}, text("那个理发的不要了"), ctx)
    assert res.state == State.CANCEL_PICK and "订单4829137" in (res.reply or "")
    res = step.step(res.state, res.slots, text(said), ctx)
    assert [(a.name, a.data) for a in res.actions] == [("cancel_order", {"order": 4829137})]


def test_cancel_by_service_without_the_open_orders_asks_the_domain_to_list_them() -> None:
    res = Transcript().say("那个理发的不要了")
    assert res.reply == "您要取消哪一个义务理发订单？请回复“取消订单 编号”，比如“取消订单 12”。"
    assert [a.name for a in res.actions] == ["my_orders"] and res.state == State.IDLE
