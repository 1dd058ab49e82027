"""Global commands and numbered menu choices."""

from __future__ import annotations

import pytest

from intents.commands import Command, parse_choice, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("帮助", Command("help")),
        ("菜单", Command("help")),
        ("功能", Command("help")),
        ("？", Command("help")),
        ("有什么功能", Command("help")),
        ("取消", Command("cancel")),
        ("不要了", Command("cancel")),
        ("算了算了", None),
        ("算了", Command("cancel")),
        ("我想取消明天的理发", Command("cancel")),
        ("我的订单", Command("my_orders")),
        ("查订单", Command("my_orders")),
        ("请帮我查一下我的订单吧", Command("my_orders")),
        ("我的任务", Command("my_tasks")),
        ("接单 12", Command("accept", 12)),
        ("接 3", Command("accept", 3)),
        ("我接 123", Command("accept", 123)),
        ("接单１２", Command("accept", 12)),
        ("接单十二", Command("accept", 12)),
        ("接单", Command("accept")),
        ("完成 12", Command("complete", 12)),
        ("做完了 5", Command("complete", 5)),
        ("12号完成了", Command("complete", 12)),
        ("积分", Command("points")),
        ("查积分", Command("points")),
        ("我的积分", Command("points")),
        ("我还有多少积分？", Command("points")),
        ("兑换", Command("redeem")),
        ("积分兑换", Command("redeem")),
        ("注册志愿者", Command("register_volunteer")),
        ("我要当志愿者", Command("register_volunteer")),
        ("我想成为一名志愿者！", Command("register_volunteer")),
        ("订阅活动", Command("subscribe_events")),
        ("订阅活动提醒", Command("subscribe_events")),
        ("退订", Command("unsubscribe")),
        ("取消订阅", Command("unsubscribe")),
        ("人工", Command("human")),
        ("转人工", Command("human")),
        ("找客服", Command("human")),
        ("活动", Command("events")),
        ("雷锋一条街", Command("events")),
        ("最近有什么活动", Command("events")),
        ("我的存折", Command("passbook")),
        ("我的存摺", Command("passbook")),
    ],
)
def test_commands(text: str, expected: Command | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "帮我修一下水管",
        "能帮我取一下快递",
        "帮我买点菜",
        "想学人工智能",
        "社区有没有文体活动",
        "旧衣服不要了想捐",
        "接孩子放学",
        "能接我去医院吗",
        "菜刀钝了",
        "1",
        "想理发",
        "",
        "🙏",
    ],
)
def test_ordinary_messages_are_not_commands(text: str) -> None:
    assert parse_command(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("１", 1),
        ("一", 1),
        ("第一个", 1),
        ("第2个", 2),
        ("选3", 3),
        ("选第三个", 3),
        ("2号", 2),
        ("就1吧", 1),
        (" 3 ", 3),
        ("0", None),
        ("4", None),
        ("第五个", None),
        ("理发", None),
        ("1和2", None),
        ("", None),
    ],
)
def test_choice_from_a_three_item_menu(text: str, expected: int | None) -> None:
    assert parse_choice(text, count=3) == expected


def test_choice_without_menu_size() -> None:
    assert parse_choice("第十二个") == 12
