"""Outside tester round 3: several services in one message, another service named mid-order, changing a rating,
a phone with digits missing, small talk in the middle of a question (the pure step, driven directly)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dialogue import followups, ordering, step
from bot.dialogue.core import CALLOUT_SLOT, KEEP_SLOTS, State, wrong_phone_words
from tests.bot.dialogue.transcript import Transcript, text

THREE = "那个 我想找人明天来修一下水管 顺便帮我理个发 再把油烟机洗一洗 我住幸福小区3栋"


def _submitted_with_more() -> Transcript:
    """A transcript right after the first of three orders was submitted (the second one offered)."""
    t = Transcript()
    t.say(THREE)
    t.say("13800138000")
    res = t.say("1")
    assert [a.name for a in res.actions] == ["submit_order", "note"] and t.state == State.IDLE
    return t


def test_each_service_said_with_its_own_words_in_the_order_said() -> None:
    ctx = Transcript().context()
    assert ordering.services_said(THREE, ctx) == [("repair", "我想找人来修一下水管"), ("haircut", "帮我理个发"),
                                                  ("housekeeping", "把油烟机洗一洗")]
    assert ordering.services_said("明天上午来帮我理发 幸福小区3栋", ctx) == []
    assert ordering.services_said("家里水管坏了 然后厨房也漏水", ctx) == []  # one service, said twice


def test_the_order_submitted_is_the_first_and_the_others_wait_in_the_slots() -> None:
    t = Transcript()
    res = t.say(THREE)
    assert t.slots["draft"]["service"] == "repair" and "义务理发" not in t.slots["draft"]["details"]
    assert [m["service"] for m in t.slots[ordering.MORE]] == ["haircut", "housekeeping"]
    assert "先帮您下【维修服务】" in (res.reply or "")
    summary = t.say("13800138000").reply or ""
    assert "接着帮您下【义务理发】和【家政保洁】的单" in summary
    res = t.say("1")
    submitted = res.actions[0].data
    assert submitted["service"] == "repair" and ordering.MORE not in submitted  # the order itself carries no extra
    assert "还要下【义务理发】的单吗" in str(res.actions[1].data["text"])


def test_the_next_order_keeps_time_place_and_phone_and_offers_the_one_after() -> None:
    t = _submitted_with_more()
    first = dict(t.results[-1].actions[0].data)
    t.say("1")
    draft = t.slots["draft"]
    assert draft["service"] == "haircut" and draft["details"] == "帮我理个发"
    assert all(draft.get(k) == first.get(k) for k in ("start", "end", "address", "phone"))
    assert [m["service"] for m in t.slots[ordering.MORE]] == ["housekeeping"]


def test_the_offer_lapses_after_the_dialogue_timeout() -> None:
    t = _submitted_with_more()
    t.wait(minutes=31)
    res = t.say("1")
    assert res.state == State.ORDER_SERVICE and not (t.slots.get("draft") or {}).get("service")  # menu choice 1


def test_an_answer_to_a_call_out_is_not_taken_for_the_next_order() -> None:
    t = _submitted_with_more()
    t.slots[CALLOUT_SLOT] = 7
    res = t.say("1")
    assert [a.name for a in res.actions] == ["callout_answer"]


def test_a_menu_click_after_the_offer_is_the_menus() -> None:
    t = _submitted_with_more()
    click = replace(text("", at=t.now), kind="event", event="click", event_key="MENU_ORDER", msg_id=None)
    res = step.step(t.state, t.slots, click, t.context())
    assert res.state == State.ORDER_SERVICE and ordering.NEXT_ORDER not in res.slots


def test_an_emergency_after_the_offer_drops_it() -> None:
    t = _submitted_with_more()
    res = t.say("救命 我老伴摔倒了起不来")
    assert any(a.name == "emergency" for a in res.actions) and set(res.slots) <= KEEP_SLOTS


def test_the_switch_question_without_what_it_asked_goes_on_with_the_order() -> None:
    """A conversation stored in ORDER_SWITCH without its "switch" slot (another version, a lost write) is no crash."""
    t = Transcript(state=State.ORDER_SWITCH, slots={"draft": {"service": "haircut", "details": "理发"}})
    res = t.say("1")
    assert res.state == State.ORDER_TIME


def test_switching_keeps_what_was_said_and_drops_the_service_from_those_to_come() -> None:
    t = Transcript()
    t.say(THREE)
    assert t.say("我要理发").state == State.ORDER_SWITCH  # at the phone question: haircut is asked about
    t.say("1")
    assert t.slots["draft"]["service"] == "haircut" and t.slots["draft"]["address"] == "幸福小区3栋"
    assert [m["service"] for m in t.slots[ordering.MORE]] == ["housekeeping"]


@pytest.mark.parametrize(("text", "rerate"), [
    ("我想改成五颗心", True), ("刚才评错了", True), ("分打错了 应该是5分", True), ("能改评价吗", True),
    ("我要重新评一下", True), ("我给了差评 后悔了", True), ("打错分了", True),
    ("改到星期六", False), ("时间改成5点", False), ("评价 12", False), ("五颗心", False), ("改成五分钟以后", False),
])
def test_changing_a_rating_is_recognised(text: str, rerate: bool) -> None:
    assert followups.asks_rerate(text) is rerate


def test_wrong_length_phone_words() -> None:
    assert wrong_phone_words("1381234") == "电话号码只有7位，少了4位。手机号是11位，请再说一遍，比如 13800138000。"
    assert "12位" in (wrong_phone_words("138001380001") or "") and "多了" in (wrong_phone_words("138001380001") or "")
    assert "区号" in (wrong_phone_words("83456789") or "")
    assert wrong_phone_words("13812345678") is None and wrong_phone_words("3栋501") is None
