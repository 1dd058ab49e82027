"""Global commands and numbered menu choices."""

from __future__ import annotations

import pytest

from intents.commands import (
    CancelRequest,
    Command,
    _longest,
    is_cancel,
    parse_cancel_order,
    parse_choice,
    parse_command,
    parse_small_talk,
    parse_yes_no,
)


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
        ("算了算了", Command("cancel")),
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


@pytest.mark.parametrize(("text", "expected"), [
    ("我的单子咋样了", Command("my_orders")),
    ("订单到哪了", Command("my_orders")),
    ("有人接单了吗", Command("my_orders")),
    ("志愿者什么时候来", Command("my_orders")),
    ("找个真人说话", Command("human")),
    ("我要跟人说", Command("human")),
    ("我不想跟机器人说", Command("human")),
    ("我有多少分", Command("points")),
    ("积分还剩多少", Command("points")),
    ("算了不要了", Command("cancel")),
    ("那算了吧", Command("cancel")),
    ("不用了谢谢", Command("cancel")),
    ("我想找个人陪我聊聊天", None),  # a companion visit, not staff
    ("找个人来修水管", None),
    ("过几分钟", None),  # a time, not points
])
def test_more_ways_of_saying_commands(text: str, expected: Command | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["对", "对的", "对 确认", "嗯嗯", "恩恩", "好的呀", "没问题 就这样", "可以", "行",
                                  "中",
                                  "要得", "好嘞", "ok", "是滴", "对对对", "好的谢谢", "确认无误"])
def test_yes(text: str) -> None:
    assert parse_yes_no(text) == "yes"


@pytest.mark.parametrize("text", ["不对", "不行", "不是", "不好", "错了", "不对不对"])
def test_no(text: str) -> None:
    assert parse_yes_no(text) == "no"


@pytest.mark.parametrize("text", ["不好意思", "好多人", "对面", "明天上午", "中午", "不要了", ""])
def test_neither_yes_nor_no(text: str) -> None:
    assert parse_yes_no(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("取消4号订单", CancelRequest(order=4)),
    ("取消订单 4", CancelRequest(order=4)),
    ("4号单子不要了", CancelRequest(order=4)),
    ("第四单不要了", CancelRequest(order=4)),
    ("把4号订单取消", CancelRequest(order=4)),
    ("我要取消12号订单", CancelRequest(order=12)),
    ("那个理发的不要了", CancelRequest(what="理发")),
    ("理发那个单子我不要了", CancelRequest(what="理发")),
    ("法律那个不要了", CancelRequest(what="法律")),
    ("取消明天的理发", CancelRequest(what="理发")),
    ("我不要理发了", CancelRequest(what="理发", marked=False)),
    ("旧衣服不要了", CancelRequest(what="旧衣服", marked=False)),  # only if such an order exists
    ("取消订阅", None),
    ("算了不要了", None),
    ("取消", None),
    ("旧衣服不要了想捐", None),
])
def test_cancel_an_order_by_number_or_by_what_it_was_for(text: str, expected: CancelRequest | None) -> None:
    assert parse_cancel_order(text) == expected


@pytest.mark.parametrize(("text", "kind"), [
    ("谢谢", "thanks"), ("谢谢你啊小助手", "thanks"), ("多谢多谢", "thanks"), ("辛苦了", "thanks"),
    ("你是谁", "who"), ("你们是干什么的", "who"), ("你是机器人吗", "who"),
    ("你好", "greeting"), ("您好啊", "greeting"), ("在吗", "greeting"), ("再见", "bye"), ("好的", "ack"),
    ("谢谢 明天来帮我理发", None), ("你好 我要理发", None),
    # outside tester round 3: 你谁啊 / 干嘛的 / 有人在吗 / 在 / 您好 我想问一下
    ("你谁啊", "who"), ("你是干嘛的", "who"), ("你们是干嘛的", "who"), ("有人在吗", "greeting"), ("有人没", "greeting"),
    ("在", "greeting"), ("在嘛", "greeting"), ("您好请问在吗", "greeting"), ("你好我想问一下", "greeting"),
    ("在家", None), ("在幸福小区", None), ("在吗 我想理发", None), ("你们谁能来修水管", None),
])
def test_small_talk_is_a_whole_message(text: str, kind: str | None) -> None:
    assert parse_small_talk(text) == kind


def test_each_vocabulary_is_measured_once() -> None:
    """The longest word of a yes/no/cancel vocabulary is computed once, not on every message (it was hot)."""
    parse_yes_no("对 确认")
    is_cancel("算了不要了")
    before = _longest.cache_info()
    for text in ("嗯嗯", "好的呀", "不行", "算了吧", "不用了谢谢", "那我先不弄了", "明天上午来理发"):
        parse_yes_no(text)
        is_cancel(text)
    after = _longest.cache_info()
    assert after.misses == before.misses and after.hits > before.hits
    assert parse_yes_no("嗯 对 就这样吧") == "yes" and parse_yes_no("不对的") == "no" and is_cancel("算了下次吧")
    assert parse_yes_no("好的 谢谢") == "yes" and not is_cancel("明天上午来理发")
