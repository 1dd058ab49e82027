"""Volunteers' own menu (recognised by role) and the resident menu kept as it was; rating an order by its number."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dialogue import step
from bot.dialogue.core import VOLUNTEER_MENU_ITEMS, State, menu_text, volunteer_menu_text
from bot.dialogue.messages import Incoming
from tests.bot.dialogue.transcript import START, Transcript

HUB = "阳光社区雷锋超市"
VOLUNTEER = frozenset({"volunteer"})

# The resident menu, pinned word for word: volunteers got a menu of their own, residents keep this one.
RESIDENT_MENU = ("欢迎来到阳光社区雷锋超市！请回复数字：\n"
                 "1 我要找志愿者帮忙（点单）\n"
                 "2 我的订单\n"
                 "3 注册志愿者\n"
                 "4 雷锋一条街活动\n"
                 "5 积分查询\n"
                 "0 人工服务\n"
                 "也可以直接说您需要什么，比如“明天上午来帮我修水管”。")


def test_the_resident_menu_is_unchanged() -> None:
    assert menu_text(HUB) == RESIDENT_MENU
    for said in ("菜单", "你好", "帮助"):
        assert Transcript().say(said).reply == RESIDENT_MENU
    for roles in (frozenset({"applicant"}), frozenset({"suspended"}), frozenset({"staff"})):
        assert Transcript(roles=roles).say("菜单").reply == RESIDENT_MENU


@pytest.mark.parametrize("said", ["菜单", "你好", "帮助", "功能", "在吗"])
def test_a_volunteer_gets_their_own_menu(said: str) -> None:
    res = Transcript(roles=VOLUNTEER).say(said)
    assert res.reply == volunteer_menu_text(HUB) and res.state == State.IDLE and not res.actions


def test_the_volunteer_menu_says_how_to_say_each_thing_and_each_works() -> None:
    menu = volunteer_menu_text(HUB)
    wanted = {"有什么任务": "open_tasks", "接单 12": "accept", "我的任务": "my_tasks", "完成 12 2": "complete",
              "积分": "points", "活动": "events", "我的资料": "profile"}
    for say, _what in VOLUNTEER_MENU_ITEMS:
        assert f"“{say}”" in menu
        res = Transcript(roles=VOLUNTEER).say(say)
        if say in wanted:
            assert [a.name for a in res.actions] == [wanted[say]], (say, res)
        else:  # 退单 12 asks for the reason first
            assert res.state == State.VOL_GIVEBACK and "原因" in (res.reply or "")
    assert "回复 1 点单" in menu and "2 我的订单" in menu and "0 人工服务" in menu


def test_subscribe_and_the_menu_button_show_the_volunteer_menu() -> None:
    t = Transcript(roles=VOLUNTEER)
    follow = Incoming(kind="event", openid="o-vol", account="gh_hub", create_time=int(START.timestamp()),
                      event="subscribe")
    assert volunteer_menu_text(HUB) in (step.step(State.IDLE, {}, follow, t.context()).reply or "")
    click = replace(follow, event="click", event_key="MENU_HELP")
    assert step.step(State.IDLE, {}, click, t.context()).reply == volunteer_menu_text(HUB)


def test_open_tasks_is_asked_of_the_domain_and_a_stranger_is_told_how_to_join() -> None:
    assert [a.name for a in Transcript(roles=VOLUNTEER).say("有什么任务").actions] == ["open_tasks"]
    res = Transcript().say("有什么任务")
    assert not res.actions and "注册志愿者" in (res.reply or "") and res.state == State.IDLE


def test_rating_an_order_by_its_number() -> None:
    t = Transcript()
    res = t.say("评价 12")
    assert res.state == State.RATE and t.slots["rate_order"] == 12 and "订单12" in (res.reply or "")
    res = t.say("5")
    assert [(a.name, dict(a.data)) for a in res.actions] == [("rate", {"order": 12, "hearts": 5})]
    assert res.state == State.RATE_COMMENT
    res = Transcript().say("给3号订单打4分")
    assert [(a.name, dict(a.data)) for a in res.actions] == [("rate", {"order": 3, "hearts": 4})]
    assert "评价 12" in (Transcript().say("我要评价").reply or "")
