"""The tuned corpus of volunteers' own chat and "我的订单": written alongside the dialogue (the held-out part,
corpus_volunteers_heldout.py, was written first and is never tuned on). Every conversation here must pass.

`python -m tests.bot.dialogue.corpus_report` prints the pass rates of both parts (and of the other corpora).
"""

from __future__ import annotations

from bot.dialogue.core import State
from tests.bot.dialogue.corpus import (
    TO_CONFIRM,
    Conv,
    act,
    conv,
    never,
    no_act,
    not_ordering,
    says,
    state,
)
from tests.bot.dialogue.corpus_volunteers_heldout import VOLUNTEER_MENU

VOLUNTEER = frozenset({"volunteer"})
SUSPENDED = frozenset({"suspended"})
RATING = {"state": State.RATE, "slots": {"rate_order": 31}}

TUNED_VOLUNTEERS: list[Conv] = [
    # -- the volunteer's menu, and the resident's unchanged ------------------------------------------------
    conv("vt-menu-nin-hao", ("您好", says(*VOLUNTEER_MENU)), roles=VOLUNTEER),
    conv("vt-menu-zai-ma", ("在吗", says(*VOLUNTEER_MENU)), roles=VOLUNTEER),
    conv("vt-menu-what-can", ("你能做什么", says(*VOLUNTEER_MENU)), roles=VOLUNTEER),
    conv("vt-menu-numbers-still", ("菜单", says("回复 1 点单")), ("2", act("my_orders")), roles=VOLUNTEER),
    conv("vt-menu-order-still", ("菜单",), ("1", state(State.ORDER_SERVICE)), roles=VOLUNTEER),
    conv("vt-menu-mid-order", ("我要理发",), ("菜单", says("刚才的操作已取消", "有什么任务"), state(State.IDLE)),
         roles=VOLUNTEER),
    conv("vt-menu-suspended-resident", ("菜单", says("1 我要找志愿者帮忙"), never("有什么任务")), roles=SUSPENDED),
    conv("vt-menu-resident-hello", ("你好呀", says("请回复数字", "3 注册志愿者"), never("退单"))),
    # -- open tasks, said the ways volunteers say it ---------------------------------------------------------
    conv("vt-tasks-sha-renwu", ("有啥任务", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-ma", ("有任务吗", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-mei", ("今天有活没", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-new", ("有新任务吗？", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-what-danzi", ("有什么单子", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-danzi-take", ("有没有单子可以接", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-can-take", ("我能接什么单", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-waiting", ("待接任务", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-anyone-needs", ("有没有人需要帮忙", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-what-can-i-do", ("有什么我能做的", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-typo-renwu-ma", ("现在有人物吗", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-traditional", ("有什麼任務", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt-tasks-at-summary", TO_CONFIRM, ("有什么任务", act("open_tasks"), no_act("submit_order")),
         roles=VOLUNTEER),
    conv("vt-tasks-suspended-asks-domain", ("有什么任务", act("open_tasks")), roles=SUSPENDED),
    conv("vt-tasks-resident", ("有没有活干", says("注册志愿者"), no_act("open_tasks"), not_ordering)),
    conv("vt-tasks-then-take", ("有啥活", act("open_tasks")), ("接单 5", act("accept", order=5)), roles=VOLUNTEER),
    # -- a call-off and then another request, in one message ----------------------------------------------------
    conv("vt-calloff-then-points", ("我要理发", state(State.ORDER_TIME, State.ORDER_DETAILS)),
         ("不弄了 我的积分", act("points"), not_ordering), roles=VOLUNTEER),
    conv("vt-calloff-then-my-orders", ("想找人修一下水管",), ("不要了，我的订单呢", act("my_orders"), not_ordering)),
    conv("vt-calloff-then-human", ("我想理发",), ("算了吧 转人工", state(State.HUMAN))),
    conv("vt-calloff-then-tasks-idle", ("算了算了 现在有单子吗", act("open_tasks"), never("刚才的操作已取消")),
         roles=VOLUNTEER),
    conv("vt-calloff-alone-still-cancels", ("我要理发",), ("算了不要了", no_act("open_tasks"), state(State.IDLE))),
    # -- what is not "有什么任务" -----------------------------------------------------------------------------
    conv("vt-not-events", ("最近有啥活动", act("events"), no_act("open_tasks")), roles=VOLUNTEER),
    conv("vt-not-my-tasks", ("我的任务", act("my_tasks"), no_act("open_tasks")), roles=VOLUNTEER),
    conv("vt-not-a-request", ("明天上午来帮我修水管", no_act("open_tasks"), state(State.ORDER_ADDRESS,
                                                                                 State.ORDER_PHONE,
                                                                                 State.ORDER_CONFIRM)),
         roles=VOLUNTEER),
    conv("vt-not-status", ("我的单子有人接了吗", act("my_orders"), no_act("open_tasks"))),
    # -- rating an order named by its number -----------------------------------------------------------------
    conv("vt-rate-named", ("评价 7", state(State.RATE), says("订单7")), ("满意", act("rate", order=7))),
    conv("vt-rate-give-five", ("给7号订单打5分", act("rate", order=7, hearts=5), state(State.RATE_COMMENT)),
         ("不用了", says("谢谢"), state(State.IDLE))),
    conv("vt-rate-comma", ("评价7，五颗心", act("rate", order=7, hearts=5))),
    conv("vt-rate-no-number", ("打分", says("评价 12"), not_ordering)),
    conv("vt-rate-in-rating-dialogue", ("打分", state(State.RATE)), ("4", act("rate", order=31, hearts=4)), **RATING),
    conv("vt-my-orders-in-rating", ("我的订单", act("my_orders")), **RATING),
]

