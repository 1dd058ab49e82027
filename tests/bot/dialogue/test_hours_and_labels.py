"""How long a service took, as volunteers say it; a slot named with its value; a team named by part of its name."""

from __future__ import annotations

import pytest

from bot.dialogue.nlu import labelled_value, read_hours
from bot.dialogue.registration import team_named


@pytest.mark.parametrize(("text", "hours"), [
    ("2", 2.0), ("1.5", 1.5), ("2小时", 2.0), ("一个半小时", 1.5), ("半个钟头", 0.5), ("1小时20分钟", 1.33),
    ("90分钟", 1.5), ("两个钟头左右", 2.0), ("一个半 小时", 1.5),
])
def test_hours_said(text: str, hours: float) -> None:
    assert read_hours(text) == hours


@pytest.mark.parametrize("text", ["2 20", "好的", "", "两点"])
def test_no_hours(text: str) -> None:
    assert read_hours(text) is None


@pytest.mark.parametrize(("text", "slot", "value"), [
    ("门牌号是602", "address", "602"), ("电话：13912345678", "phone", "13912345678"),
    ("时间是明天上午", "time", "明天上午"), ("地址是解放路25号", "address", "解放路25号"),
])
def test_a_slot_named_with_its_value(text: str, slot: str, value: str) -> None:
    found = labelled_value(text)
    assert found is not None and (found.slot, found.value) == (slot, value)


@pytest.mark.parametrize("text", ["地方是", "我是李大爷", "明天上午"])
def test_no_slot_named(text: str) -> None:
    assert labelled_value(text) is None


TEAMS = ["阳光理发队", "阳光维修队"]


@pytest.mark.parametrize(("text", "team"), [
    ("阳光维修队", "阳光维修队"), ("维修队", "阳光维修队"), ("加入维修队吧", "阳光维修队"),
    ("理发的那个", "阳光理发队"), ("我要进理发队", "阳光理发队"),
])
def test_team_named_by_part_of_its_name(text: str, team: str) -> None:
    assert team_named(text, TEAMS) == team


@pytest.mark.parametrize("text", ["阳光", "队", "水电维修服务队"])
def test_team_not_named(text: str) -> None:
    assert team_named(text, TEAMS) is None


@pytest.mark.parametrize(("text", "tidy"), [
    ("帮我家老人理个发，时间:", "帮我家老人理个发"),
    ("我老伴要去医院复查 人民医院 我们", "我老伴要去医院复查 人民医院"),
    ("吧来帮我看一下电视", "来帮我看一下电视"),
    ("帮帮我", "帮帮我"),
    ("电话坏了要修", "电话坏了要修"),
    ("了解一下", "了解一下"),
    ("我妈腿脚不好想请人上门理个发 都行", "我妈腿脚不好想请人上门理个发"),
    ("我想订一下那个老年餐 送到", "我想订一下那个老年餐"),
    ("想请人 上门 理发", "想请人 上门 理发"),  # 上门 is what is asked, not a leftover
])
def test_details_without_what_the_slots_left(text: str, tidy: str) -> None:
    from bot.dialogue.ordering import tidy_details

    assert tidy_details(text) == tidy


@pytest.mark.parametrize("text", ["帮我老娘下个单", "给我妈点个单", "帮我家老人下个单", "帮我奶奶约一下", "代我妈下单"])
def test_an_order_for_somebody_else(text: str) -> None:
    from bot.dialogue.nlu import load_understanding

    assert load_understanding().is_proxy(text)


def test_a_request_for_somebody_else_is_a_request() -> None:
    from bot.dialogue.nlu import load_understanding

    assert not load_understanding().is_proxy("帮我妈理发")
