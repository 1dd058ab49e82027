"""Phrasings residents and volunteers use that the parsers learnt for issue 15's third round: 俩钟头, "现在" said
alone, an entrance (3门) in an address, call-offs with 啦/咯, numbers said before the verb."""

from __future__ import annotations

from datetime import datetime

import pytest

from intents.address import extract_address
from intents.commands import Command, is_cancel, parse_cancel_order, parse_command, parse_yes_no
from intents.timeparse import SHANGHAI, parse_time

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "hour"), [("过俩钟头", 12), ("俩小时以后", 12), ("仨钟头后", 13)])
def test_lia_and_sa_count_hours(text: str, hour: int) -> None:
    result = parse_time(text, NOW)
    assert result.kind == "point" and result.start is not None and result.start.hour == hour


@pytest.mark.parametrize("text", ["现在", "等下", "一会儿就来", "快点", "现在吧", "这会儿"])
def test_now_said_alone_is_urgent(text: str) -> None:
    assert parse_time(text, NOW).kind == "asap"


@pytest.mark.parametrize("text", ["我现在一个人住", "等下我问问我女儿"])
def test_now_inside_a_sentence_is_no_time(text: str) -> None:
    assert parse_time(text, NOW).kind == "unclear"


def test_every_urgent_phrase_is_a_span_to_take_out() -> None:
    result = parse_time("能不能快点派个师傅过来越快越好", NOW)
    said = "能不能快点派个师傅过来越快越好"
    assert result.kind == "asap" and {said[a:b] for a, b in result.spans} == {"快点", "越快越好"}


@pytest.mark.parametrize("text", ["明个下午", "明个儿下午"])
def test_mingge_is_tomorrow(text: str) -> None:
    result = parse_time(text, NOW)
    assert result.start is not None and result.start.day == 24 and result.start.hour == 13


@pytest.mark.parametrize(("text", "address"), [
    ("我住和平里小区5号楼3门", "和平里小区5号楼3门"),
    ("光明小区2号门洞302", "光明小区2号门洞302"),
    ("幸福小区东门", "幸福小区"),
])
def test_an_entrance_is_part_of_the_door(text: str, address: str) -> None:
    assert extract_address(text) == address


@pytest.mark.parametrize("text", ["不要啦", "算了下次吧", "不弄咯", "算啦", "不用啦谢谢", "不了不了", "不要"])
def test_call_offs_with_their_particles(text: str) -> None:
    assert is_cancel(text)


@pytest.mark.parametrize("text", ["下次", "改天吧", "等等", "来不了"])
def test_putting_off_alone_is_no_call_off(text: str) -> None:
    assert not is_cancel(text)


@pytest.mark.parametrize("text", ["可以噻", "没得问题", "妥了", "莫得问题"])
def test_dialect_yes(text: str) -> None:
    assert parse_yes_no(text) == "yes"


def test_no_thanks_is_not_that_is_wrong() -> None:
    assert parse_yes_no("不了不了") is None
    assert parse_yes_no("不对") == "no"


@pytest.mark.parametrize(("text", "number"), [("取消一下9号单", 9), ("取消8号的单子", 8), ("撤了吧 8号", 8)])
def test_cancel_by_number_said_loosely(text: str, number: int) -> None:
    request = parse_cancel_order(text)
    assert request is not None and request.order == number


@pytest.mark.parametrize(("text", "command"), [
    ("12号我接了", Command("accept", 12)),
    ("我接了12号", Command("accept", 12)),
    ("我接了哪些单", Command("my_tasks")),
    ("啥时候来人啊", Command("my_orders")),
    ("看看我以前的订单", Command("my_orders")),
    ("上周那个服务记录", Command("my_orders")),
    ("看下我的单子", Command("my_orders")),
    ("叫个人来跟我说", Command("human")),
    ("这个月有活动没", Command("events")),
    ("活动有哪些", Command("events")),
])
def test_commands_said_as_people_say_them(text: str, command: Command) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize("text", ["我腿脚最近有活动不便", "12号我去医院", "我以前住幸福小区"])
def test_look_alikes_are_no_command(text: str) -> None:
    found = parse_command(text)
    assert found is None or found.name not in ("events", "accept", "my_orders")


@pytest.mark.parametrize(("text", "hour"), [("明天下五三点", 15), ("明天上五", 8), ("中伍12点", 12)])
def test_wu_typed_as_its_homophone(text: str, hour: int) -> None:
    result = parse_time(text, NOW)
    assert result.start is not None and result.start.hour == hour


def test_a_floor_is_no_noon() -> None:
    assert parse_time("下五楼", NOW).kind == "unclear"


@pytest.mark.parametrize(("text", "address"), [
    ("王家村3组15号 想找人帮忙打扫", "王家村3组15号"),
    ("我住东风小区北区5栋", "东风小区北区5栋"),
    ("帮我修下马桶 地址 阳光花园 7-2-301", "阳光花园 7-2-301"),
    ("我家是红旗街道长青里14号楼", "红旗街道长青里14号楼"),
    ("翠苑三期5栋", "翠苑三期5栋"),
    ("幸福小区在路边", "幸福小区"),
])
def test_addresses_as_said(text: str, address: str) -> None:
    assert extract_address(text) == address


@pytest.mark.parametrize("text", ["我家里3个人", "我在家里等"])
def test_at_home_is_no_address(text: str) -> None:
    assert extract_address(text) is None


def test_a_village_group_number_is_no_day() -> None:
    assert parse_time("王家村3组15号", NOW).kind == "unclear"


@pytest.mark.parametrize(("text", "said"), [
    ("十点左右吧", "十点左右"), ("三点来钟", "三点来钟"), ("两点多来", "两点多"),
])
def test_approximate_clock_words_belong_to_the_time(text: str, said: str) -> None:
    result = parse_time(text, NOW)
    assert result.kind == "point" and "".join(text[a:b] for a, b in result.spans) == said


@pytest.mark.parametrize(("text", "day"), [("周末", 28), ("这周末", 28), ("下周末", 5), ("后日", 25), ("明朝上午", 24)])
def test_weekend_and_southern_day_words(text: str, day: int) -> None:
    result = parse_time(text, NOW)
    assert result.kind == "span" and result.start is not None and result.start.day == day


def test_weekend_on_a_sunday_is_today() -> None:
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
    result = parse_time("周末", sunday)
    assert result.start is not None and result.start.date() == sunday.date()


@pytest.mark.parametrize("text", ["随便什么时候都行", "啥时候都行"])
def test_any_time_is_as_soon_as_possible(text: str) -> None:
    assert parse_time(text, NOW).kind == "asap"


@pytest.mark.parametrize(("text", "command"), [
    ("查下我的分", Command("points")),
    ("我那个单子有结果没", Command("my_orders")),
    ("志愿者菜单", Command("help")),
])
def test_more_commands_said_loosely(text: str, command: Command) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize("text", ["是机器人吗", "你是真人吗", "你是不是机器人"])
def test_asking_what_the_bot_is(text: str) -> None:
    from intents.commands import parse_small_talk

    assert parse_small_talk(text) == "who"
