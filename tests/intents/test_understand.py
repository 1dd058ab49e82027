"""One-shot understanding of a whole message."""

from __future__ import annotations

from intents.commands import Command
from intents.matcher import Matcher
from intents.understand import understand
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
