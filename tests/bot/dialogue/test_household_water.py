"""Outside tester (w2em): water at home (a burst pipe, a drain backing up) gets its safety steps and an urgent repair
order, a flood the full water answer; what is said after an emergency is handled by what it is, staff hear of it
again at most once in a short window; a gas leak names the gas company's line, 119 only for a fire."""

from __future__ import annotations

import pytest

from bot.dialogue import ordering, safety
from bot.dialogue.core import State
from tests.bot.dialogue.transcript import Transcript

HOME = ["水管爆了 到处是水", "我家下水道堵了 水漫出来了", "卫生间下水道反水 水漫出来了", "俺家水管子崩了 水哗哗的",
        "厕所马桶往外冒水 满地都是", "水管爆了一直滴水 滴到插座上了"]
FLOODS = ["有人被困 水漫进屋 越来越深", "老人困在家里出不来 水漫进来了", "家里进水了 水越来越深 我妈出不来",
          "下大雨 小区里淹了", "地下室进水了", "暖气管爆了 热水往外喷"]


@pytest.mark.parametrize("text", HOME)
def test_water_at_home_is_a_household_incident(text: str) -> None:
    res = Transcript().say(text)
    [alert] = [a for a in res.actions if a.name == "emergency"]
    assert alert.data["kind"] == "water" and alert.data["sub"] == safety.HOUSEHOLD
    assert res.state in ordering.ORDERING and res.slots["draft"]["service"] == "repair"
    assert res.slots["draft"]["time_kind"] == "asap"  # nothing said of the time: urgent
    assert res.reply is not None and "电闸" in res.reply and "到高处" not in res.reply


@pytest.mark.parametrize("text", FLOODS)
def test_a_flood_keeps_the_full_water_answer(text: str) -> None:
    res = Transcript().say(text)
    assert res.reply == safety.emergency_reply("water") and res.state == State.IDLE
    assert [a.name for a in res.actions] == ["emergency"] and "sub" not in res.actions[0].data


@pytest.mark.parametrize("state", list(State))
def test_a_burst_pipe_is_answered_first_in_every_state(state: State) -> None:
    roles = frozenset({"volunteer"}) if state.name.startswith(("PROFILE", "REDEEM", "MERCHANT", "VOL")) else frozenset()
    t = Transcript(state=state, slots={"draft": {"service": "haircut", "details": "理发"}, "reg": {"name": "王"}},
                   roles=roles)
    res = t.say("水管爆了 到处是水")
    assert res.actions[0].name == "emergency" and res.reply is not None and res.reply.startswith("先关上家里的总水阀")
    if state == State.HUMAN:  # staff are answering: no order started under their feet
        assert res.state == State.IDLE and "draft" not in res.slots
    else:
        assert res.slots["draft"]["service"] == "repair" and "reg" not in res.slots
        assert res.slots[safety.AFTER_EMERGENCY_SLOT][safety.DRAFT_KEPT]["service"] == "haircut"


def test_staff_hear_of_what_is_said_next_at_most_once_in_ten_minutes() -> None:
    t = Transcript()
    t.say("我爸喘不上气了")
    first = t.say("还是喘不上气")
    assert [a.name for a in first.actions] == ["emergency_followup"] and "转告" in (first.reply or "")
    t.wait(minutes=5)
    quiet = t.say("救护车怎么还没来")
    assert quiet.actions == () and "120" in (quiet.reply or "") and "转告" not in (quiet.reply or "")
    t.wait(minutes=6)
    again = t.say("还是喘不上气 越来越厉害")
    assert [a.name for a in again.actions] == ["emergency_followup"] and "转告" in (again.reply or "")


def test_thanks_and_requests_after_an_emergency_are_no_follow_up() -> None:
    t = Transcript()
    t.say("有人被困 水漫进屋 越来越深")
    for said in ("好的 谢谢", "嗯嗯 知道了", "谢谢你们 辛苦了"):
        res = t.say(said)
        assert res.actions == () and "不客气" in (res.reply or "") and "值班" not in (res.reply or ""), said
    assert not safety.acknowledges("好的 水还在涨") and safety.about_it("水还在涨")
    res = t.say("明天上午来帮我理发")
    assert res.slots["draft"]["service"] == "haircut" and res.actions == ()


def test_a_gas_leak_names_the_gas_company_not_the_fire_brigade() -> None:
    plain = safety.emergency_reply("gas")
    assert safety.GAS_COMPANY in plain and "抢修 119" not in plain and "着火了请马上打 119" in plain
    assert "有人晕倒请马上打 120" in plain
    local = safety.emergency_reply("gas", {"gas": "96777", "fire": "119"})
    assert "燃气公司抢修电话 96777" in local
    assert "燃气公司抢修电话 96777" in safety.follow_up_reply("gas", {"gas": "96777"})
    assert "抢修 119" not in safety.follow_up_reply("gas") and safety.GAS_COMPANY in safety.follow_up_reply("gas")
