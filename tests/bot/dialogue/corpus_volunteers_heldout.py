"""The held-out corpus of volunteers' own chat and "我的订单": written before the dialogue was changed for them and
never tuned on afterwards. Its pass rate is reported (tests/bot/dialogue/test_corpus_volunteers.py keeps it from
falling); a failure here is a finding, not a case to edit. Times are on Monday 2026-11-23 in Shanghai.
"""

from __future__ import annotations

from bot.dialogue.core import State
from tests.bot.dialogue.corpus import act, conv, never, no_act, not_ordering, says, says_any, state

VOLUNTEER = frozenset({"volunteer"})
APPLICANT = frozenset({"applicant"})
# The words a volunteer's menu must teach (the brief: open tasks, my tasks, complete, give back, points, events).
VOLUNTEER_MENU = ("有什么任务", "接单", "我的任务", "完成", "退单", "积分", "活动")

HELDOUT_VOLUNTEERS = [
    # -- the volunteer's menu ---------------------------------------------------------------------------
    conv("vh-menu-word", ("菜单", says(*VOLUNTEER_MENU)), roles=VOLUNTEER),
    conv("vh-menu-hello", ("你好", says(*VOLUNTEER_MENU)), roles=VOLUNTEER),
    conv("vh-menu-help-voice", ("帮助", says("有什么任务", "接单")), roles=VOLUNTEER),
    conv("vh-menu-resident-unchanged", ("菜单", says("1 我要找志愿者帮忙（点单）", "2 我的订单"),
                                        never("有什么任务", "退单"))),
    conv("vh-menu-applicant-is-resident", ("你好", says("我要找志愿者帮忙"), never("退单")), roles=APPLICANT),
    # -- open tasks that fit me ------------------------------------------------------------------------
    conv("vh-tasks-plain", ("有什么任务", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-sha-huo", ("有啥活", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-can-take", ("有没有任务可以接", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-danzi", ("现在有单子吗", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-help-needed", ("有什么要帮忙的", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-typo-renwu", ("有什么人物", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-voice", ("那个今天有没有什么活儿可以干的", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-need-help-ma", ("有没有需要帮忙的老人啊", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-mid-dialogue", ("我要理发", state(State.ORDER_TIME, State.ORDER_DETAILS)),
         ("算了 有啥任务没", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vh-tasks-stranger", ("有什么任务", says("注册志愿者"), no_act("open_tasks"), not_ordering)),
    conv("vh-events-not-tasks", ("有什么活动", act("events"), no_act("open_tasks")), roles=VOLUNTEER),
    conv("vh-taken-is-status", ("有人接单了吗", act("my_orders"), no_act("open_tasks"))),
    # -- the rest of the volunteer's words -------------------------------------------------------------
    conv("vh-my-tasks", ("我接的单", act("my_tasks")), roles=VOLUNTEER),
    conv("vh-done-hours", ("完成 8 1.5", act("complete", order=8, hours=1.5)), roles=VOLUNTEER),
    conv("vh-give-back", ("退单 8 家里有事去不了", act("give_back", order=8)), roles=VOLUNTEER),
    # -- my orders, and rating one from the list -------------------------------------------------------
    conv("vh-my-orders-dialect", ("俺的单子咋样了", act("my_orders"), not_ordering)),
    conv("vh-rate-from-list", ("给12号订单打分", state(State.RATE), says("0")),
         ("五颗心", act("rate", order=12, hearts=5))),
    conv("vh-rate-with-hearts", ("评价12 5分", act("rate", order=12, hearts=5))),
    conv("vh-rate-asks-which", ("我要评价", says_any("订单", "编号"), not_ordering)),
]
