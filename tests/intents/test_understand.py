"""One-shot understanding of a whole message."""

from __future__ import annotations

import pytest

from intents.commands import Command
from intents.matcher import Matcher
from intents.understand import Correction, extract_slots, parse_correction, understand
from tests.intents.time_cases import NOW, at


def test_fills_every_slot_from_one_message(matcher: Matcher) -> None:
    u = understand(matcher, "明天下午三点来给我老伴理个发，地址幸福小区3栋2单元501，电话13812345678", NOW)
    assert u.match.service == "haircut" and u.match.decision == "accept"
    assert (u.time.kind, u.time.start) == ("point", at(3, 19, 15))
    assert u.address == "幸福小区3栋2单元501"
    assert u.phone == "13812345678"
    assert u.command is None


def test_spoken_request_with_asap(matcher: Matcher) -> None:
    u = understand(matcher, "嗯那个俺家水管漏水了，越快越好，电话幺三八幺二三四五六七八", NOW)
    assert u.match.service == "repair"
    assert u.time.kind == "asap"
    assert u.phone == "13812345678"
    assert u.address is None


def test_commands_and_choices(matcher: Matcher) -> None:
    assert understand(matcher, "取消", NOW).command == Command("cancel")
    assert understand(matcher, "第二个", NOW, menu_size=3).choice == 2
    assert understand(matcher, "第二个", NOW).choice is None


def test_address_words_do_not_pose_as_a_service(matcher: Matcher) -> None:
    u = understand(matcher, "想理发，地址修理厂路8号", NOW)
    assert u.match.service == "haircut"
    assert u.address == "修理厂路8号"


@pytest.mark.parametrize(("text", "address", "phone", "rest"), [
    ("一趟就是上午八点吧我住幸福小区3栋", "幸福小区3栋", None, "一趟"),
    ("喂 你好 我想明天下午叫个人来给我理发 我住在阳光花园2栋1单元201 电话13800138000", "阳光花园2栋1单元201",
     "13800138000", "我想叫个人来给我理发"),
    ("我住在向阳新村3栋 明天上午来帮我打扫卫生", "向阳新村3栋", None, "来帮我打扫卫生"),
    ("明天下午三点来给我老伴理个发，地址幸福小区3栋2单元501，电话13812345678", "幸福小区3栋2单元501", "13812345678",
     "来给我老伴理个发"),
    ("想理发，地址修理厂路8号", "修理厂路8号", None, "想理发"),
    ("家里水管漏了 越快越好", None, None, "家里水管漏了"),
])
def test_each_slot_takes_its_own_words_and_the_request_is_what_is_left(
        text: str, address: str | None, phone: str | None, rest: str) -> None:
    found = extract_slots(text, NOW)
    assert (found.address, found.phone, found.rest) == (address, phone, rest)


def test_the_time_is_taken_out_where_it_was_said_not_everything_between() -> None:
    found = extract_slots("明天帮我理发下午三点", NOW)
    assert (found.time.start, found.rest) == (at(3, 19, 15), "帮我理发")


def test_same_as_last_time() -> None:
    assert extract_slots("跟上回一样", NOW).same_address_as_last
    assert extract_slots("明天上午来理发 地址和上次一样", NOW).same_address_as_last
    assert not extract_slots("幸福小区3栋", NOW).same_address_as_last


@pytest.mark.parametrize(("text", "expected"), [
    ("地址不对 是向阳新村7栋2单元302", Correction("address", "向阳新村7栋2单元302")),
    ("不对 地址错了 应该是6号楼", Correction("address", "6号楼")),
    ("电话换成13912345678", Correction("phone", "13912345678")),
    ("手机号码不对 是139 1234 5678", Correction("phone", "139 1234 5678")),
    ("时间改到后天上午", Correction("time", "后天上午")),
    ("不是明天 是后天", Correction(None, "后天", "明天")),
    ("明天不行 改后天吧", Correction(None, "后天", "明天")),
    ("不是理发是修水管", Correction(None, "修水管", "理发")),
    ("改地址 幸福小区9栋", Correction("address", "幸福小区9栋")),
    ("地址改成改革路5号", Correction("address", "改革路5号")),
    ("地址错了", Correction("address", "")),
    ("改革路5号", None),  # a street, not a correction
    ("后天上午", None),
    ("好的", None),
])
def test_corrections_name_their_slot_and_the_new_value(text: str, expected: Correction | None) -> None:
    assert parse_correction(text) == expected
