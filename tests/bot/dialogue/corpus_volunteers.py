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
    silent,
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
    # -- a third round (issue 15 item 4): the volunteer's own words for tasks, taking, finishing, giving back -------
    conv("vt3-jintian-you-dan", ("今天有没有单", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt3-mode-renwu", ("有莫得任务", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt3-kan-neng-jie", ("帮我看下有没有能接的活", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("vt3-you-danzi-ma", ("有单子吗", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-xin-dan", ("有没有新单", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-shazi-renwu", ("有啥子任务", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-jie-12-hao", ("接12号单", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-wo-jie-12", ("我接12号", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-12-wo-jie-le", ("12号我接了", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-wo-jie-le-12", ("我接了12号", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-12-zuowanle", ("12号做完了", state(State.VOL_HOURS)),
         ("一个半钟头", act("complete", order=12, hours=1.5)), roles=VOLUNTEER),
    conv("vt3-complete-hours", ("完成12号 1个半小时", act("complete", order=12, hours=1.5)), roles=VOLUNTEER),
    conv("vt3-12-done-2h", ("完成了12号单 2个钟头", act("complete", order=12, hours=2.0)), roles=VOLUNTEER),
    conv("vt3-hours-q", ("完成 12", state(State.VOL_HOURS)), ("两个半小时", act("complete", order=12, hours=2.5)),
         roles=VOLUNTEER),
    conv("vt3-hours-minutes", ("完成 12", state(State.VOL_HOURS)), ("90分钟", act("complete", order=12, hours=1.5)),
         roles=VOLUNTEER),
    conv("vt3-tuidan-reason", ("退单12 临时有事去不了", act("give_back", order=12)), roles=VOLUNTEER),
    conv("vt3-tuidan-ill", ("退单 12 生病了", act("give_back", order=12)), roles=VOLUNTEER),
    conv("vt3-12-qubu", ("12号我去不了了", says("原因")), ("家里临时有事", act("give_back", order=12)),
         roles=VOLUNTEER),
    conv("vt3-wo-jie-de", ("我接的单子", act("my_tasks")), roles=VOLUNTEER),
    conv("vt3-jie-le-naxie", ("我接了哪些单", act("my_tasks")), roles=VOLUNTEER),
    conv("vt3-points", ("我有多少积分", act("points")), roles=VOLUNTEER),
    conv("vt3-huodong-mei", ("最近有啥活动没", act("events")), roles=VOLUNTEER),
    conv("vt3-menu-hi", ("你好啊", says(*VOLUNTEER_MENU)), roles=VOLUNTEER),
    conv("vt3-huolu", ("今天有啥子活路", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-jiedan-12hao", ("接单12号", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-jie-space", ("接 12", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-12-wojie", ("12 我接", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-wolai-jie", ("我来接12", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-gaoding-2h", ("12搞定了 2小时", act("complete", order=12, hours=2.0)), roles=VOLUNTEER),
    conv("vt3-12-wancheng-yongle", ("12号完成 用了两个小时", act("complete", order=12, hours=2.0)), roles=VOLUNTEER),
    conv("vt3-points-fen", ("我的积分有多少分", act("points")), roles=VOLUNTEER),
    conv("vt3-events-when", ("活动啥时候", act("events")), roles=VOLUNTEER),
    conv("vt3-tui-danzi", ("12号单子退了吧 有事", act("give_back", order=12)), roles=VOLUNTEER),
    conv("vt3-v-meide-huo", ("有没得活干", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-v-sha-renwu-typo", ("有啥任物", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-v-jintian-huor", ("今天有活儿吗", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-v-fujin", ("附近有需要帮忙的吗", act("open_tasks")), roles=VOLUNTEER),
    conv("vt3-v-kan-renwu", ("看看任务", act("my_tasks")), roles=VOLUNTEER),
    conv("vt3-v-woyao-jiedan", ("我要接单", act("open_tasks", numbered=True)), roles=VOLUNTEER),
    conv("vt3-v-jiedan-di12", ("接第12单", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-v-qiang-12", ("抢单12", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-v-12-hao-wo-lai", ("12号我来", act("accept", order=12)), roles=VOLUNTEER),
    conv("vt3-v-done-12-h", ("12号搞定了", state(State.VOL_HOURS)),
         ("差不多两个钟头", act("complete", order=12, hours=2.0)), roles=VOLUNTEER),
    conv("vt3-v-done-half", ("完成 12", state(State.VOL_HOURS)),
         ("半小时", act("complete", order=12, hours=0.5)), roles=VOLUNTEER),
    conv("vt3-v-done-40min", ("完成 12", state(State.VOL_HOURS)),
         ("40分钟", act("complete", order=12, hours=0.67)), roles=VOLUNTEER),
    conv("vt3-v-tui-12-reason", ("退单12 家里老人住院了", act("give_back", order=12)), roles=VOLUNTEER),
    conv("vt3-v-fangqi-12", ("放弃12号", says("原因")), roles=VOLUNTEER),
    conv("vt3-v-points-jige", ("我有几个积分", act("points")), roles=VOLUNTEER),
    conv("vt3-v-shichang", ("我的服务时长", act("passbook")), roles=VOLUNTEER),
    conv("vt3-v-menu", ("志愿者菜单", says("有什么任务")), roles=VOLUNTEER),
    # -- (item 6) "我的订单" said as residents say it, and the street's events ------------------------------------
    conv("vt3-o-douyou", ("我的订单都有哪些", act("my_orders"))),
    conv("vt3-o-yiqian", ("看看我以前的订单", act("my_orders"), not_ordering)),
    conv("vt3-o-shangzhou", ("上周那个服务记录", act("my_orders"))),
    conv("vt3-o-last-month", ("我上个月的订单", act("my_orders"))),
    conv("vt3-o-kanxia", ("看下我的单子", act("my_orders"))),
    conv("vt3-e-zuijin-ma", ("最近有什么活动吗", act("events"))),
    conv("vt3-e-zhegeyue", ("这个月有活动没", act("events"))),
    conv("vt3-e-yitiaojie-sha", ("雷锋一条街啥时候办", act("events"))),
    conv("vt3-e-naxie", ("活动有哪些", act("events"))),
    conv("vt3-e-shequ-sha", ("最近社区有啥活动", act("events"))),
    conv("vt3-e-not-a-body", ("我腿脚不好活动不方便 想找人陪我去医院", no_act("events"))),
]


# outside tester 2026-12-02 (H): volunteers' own words got the residents' reply (finding 10)
_H_REG_SKILLS = {"state": State.REG_SKILLS, "slots": {
    "reg": {"source": "chat", "name": "王建国", "gender": "男", "age_said": 41, "birth": "1985-06-15",
            "id_gender": "男", "id_masked": "110***********0014"}, "id_enc": "x", "id_hash": "y"}}
_H_ONE_TASK = {"my_tasks": ({"id": 520348, "service": "haircut", "when": "12月3日(周四) 10:00"},)}
OUTSIDE_H_VOLUNTEERS: list[Conv] = [
    conv("oh-vol-my-orders", ("我的订单", act("my_tasks")), roles=VOLUNTEER),
    conv("oh-vol-cant-go", ("不好意思 明天临时有事去不了了", act("my_tasks"), says("退单"), not_ordering),
         roles=VOLUNTEER),
    conv("oh-vol-done-hours-words", ("完成 320193 一个半小时", act("complete", order=320193, hours=1.5)),
         roles=VOLUNTEER),
    conv("oh-vol-arrived-fixed", ("到了 修好了", act("my_tasks"), says("完成"), not_ordering), roles=VOLUNTEER),
    conv("oh-vol-take-chat", ("我来接那个陪老人聊天的单", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("oh-reg-skills-words", ("会修水电 也会修家电", state(State.REG_TIMES)), **_H_REG_SKILLS),
    conv("oh-reg-skills-names", ("理发 陪诊", state(State.REG_TIMES)), **_H_REG_SKILLS),
    conv("oh-vol-stars", ("我现在是几星", act("points")), roles=VOLUNTEER),
    conv("oh-vol-cant-go-one", ("不好意思 明天临时有事去不了了", says("520348", "原因"), state(State.VOL_GIVEBACK)),
         ("1", act("give_back", order=520348, reason="不好意思 明天临时有事去不了了")), roles=VOLUNTEER,
         ctx=_H_ONE_TASK),
    conv("oh-vol-cant-go-keep", ("明天去不了了",), ("0", says("没有退"), no_act()), roles=VOLUNTEER, ctx=_H_ONE_TASK),
    conv("oh-vol-cant-go-other-reason", ("我去不了了",), ("家里老人住院了", act("give_back", reason="家里老人住院了")),
         roles=VOLUNTEER, ctx=_H_ONE_TASK),
    conv("oh-vol-cant-go-none", ("明天临时有事去不了了", says("没有接下"), no_act()), roles=VOLUNTEER,
         ctx={"my_tasks": ()}),
    conv("oh-vol-fixed-one", ("到了 修好了", says("520348", "几个小时"), state(State.VOL_HOURS)),
         ("一个半小时", act("complete", order=520348, hours=1.5)), roles=VOLUNTEER, ctx=_H_ONE_TASK),
    conv("oh-vol-fixed-two", ("修好了", says("完成 编号", "520348", "564540"), no_act()), roles=VOLUNTEER,
         ctx={"my_tasks": (*_H_ONE_TASK["my_tasks"], {"id": 564540, "service": "repair", "when": "尽快"})}),
]
TUNED_VOLUNTEERS.extend(OUTSIDE_H_VOLUNTEERS)

# outside tester round 3 (K): a volunteer asking who the bot is gets the volunteer's own menu; a phone with digits
# missing in the profile is told how many.
OUTSIDE_K_VOLUNTEERS: list[Conv] = [
    conv("k-vol-who", ("你是谁", says("小助手", "有什么任务"), never("3 注册志愿者"), not_ordering), roles=VOLUNTEER),
    conv("k-vol-shui-a", ("你谁啊", says("有什么任务")), roles=VOLUNTEER),
    conv("k-vol-youren", ("有人在吗", says("有什么任务")), roles=VOLUNTEER),
    conv("k-vol-tasks-ne", ("现在有啥任务没", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("k-vol-profile-short", ("1381234", says("少了", "11位"), state(State.PROFILE_PHONE), no_act()),
         ("13812345678", act("update_profile", field="phone", value="13812345678")), roles=VOLUNTEER,
         state=State.PROFILE_PHONE),
]
TUNED_VOLUNTEERS.extend(OUTSIDE_K_VOLUNTEERS)

# outside tester round 4: volunteers' typos of 接单 / 完成 (homophones, unconverted pinyin, no spaces), "做完了" with
# the tasks in progress read (one: its hours asked; several: which one; none: said plainly), "我的任务" / "我的订单",
# 退单 and 接单 of a cancelled order (the domain answers; tests/bot/serviceloop/test_r4_giveback_cancel.py).
_R4_ONE = {"my_tasks": ({"id": 730215, "service": "haircut", "when": "12月4日(周五) 14:00"},)}
_R4_TWO = {"my_tasks": (*_R4_ONE["my_tasks"], {"id": 730388, "service": "repair", "when": "尽快"})}
R4_VOLUNTEERS: list[Conv] = [
    # -- typos of 接单 N ------------------------------------------------------------------------------------------
    conv("r4-vol-jie-dan-homophone", ("接但 3", act("accept", order=3), not_ordering), roles=VOLUNTEER),
    conv("r4-vol-jie-dan-homophone-nospace", ("接但730215", act("accept", order=730215)), roles=VOLUNTEER),
    conv("r4-vol-jie-dan-egg", ("接蛋 12号", act("accept", order=12)), roles=VOLUNTEER),
    conv("r4-vol-jie-dan-pinyin", ("jie dan 3", act("accept", order=3), not_ordering), roles=VOLUNTEER),
    conv("r4-vol-jiedan-stuck", ("jiedan3", act("accept", order=3)), roles=VOLUNTEER),
    conv("r4-vol-jiedan-caps", ("Jiedan 730215", act("accept", order=730215)), roles=VOLUNTEER),
    conv("r4-vol-jie-dan-no-number", ("jie dan", act("open_tasks", numbered=True), no_act("accept")),  # (r5b: listed)
         roles=VOLUNTEER),
    # -- typos of 完成 -------------------------------------------------------------------------------------------
    conv("r4-vol-wan-cheng-one", ("wan cheng", says("730215", "几个小时"), state(State.VOL_HOURS)),
         ("2", act("complete", order=730215, hours=2.0)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-wan-cheng-city", ("完城", says("730215", "几个小时"), state(State.VOL_HOURS)),
         ("一个半小时", act("complete", order=730215, hours=1.5)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-wan-cheng-le", ("完城了", says("730215"), state(State.VOL_HOURS), never("带上订单编号")),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-zuo-wan-le", ("做完le", says("730215"), state(State.VOL_HOURS)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-wancheng-hours", ("完城 730215 2", act("complete", order=730215, hours=2.0)), roles=VOLUNTEER),
    conv("r4-vol-wan-cheng-hours-pinyin", ("wan cheng 730215 1.5", act("complete", order=730215, hours=1.5)),
         roles=VOLUNTEER),
    conv("r4-vol-wan-cheng-number", ("完城730215", says("订单730215", "几个小时"), state(State.VOL_HOURS)),
         ("3", act("complete", order=730215, hours=3.0)), roles=VOLUNTEER),
    # -- 做完了 / 弄好了 / 搞定了 with no number -------------------------------------------------------------------
    conv("r4-vol-done-one", ("做完了", says("订单730215", "几个小时"), state(State.VOL_HOURS)),
         ("2个小时", act("complete", order=730215, hours=2.0)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-done-nong-hao", ("弄好了", says("730215"), state(State.VOL_HOURS)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-done-gao-ding", ("搞定了", says("730215"), state(State.VOL_HOURS)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-vol-done-gao-ding-la", ("搞定啦 ", says("730215"), state(State.VOL_HOURS)), roles=VOLUNTEER,
         ctx=_R4_ONE),
    conv("r4-vol-done-wo-zuo-wan", ("我做完了", says("730215"), state(State.VOL_HOURS)), roles=VOLUNTEER,
         ctx=_R4_ONE),
    conv("r4-vol-done-two", ("做完了", says("哪一个", "730215", "730388", "完成 编号"), no_act(), state(State.IDLE)),
         ("完成 730388 1", act("complete", order=730388, hours=1.0)), roles=VOLUNTEER, ctx=_R4_TWO),
    conv("r4-vol-done-two-gao-ding", ("搞定了", says("2个任务", "730215", "730388"), no_act()), roles=VOLUNTEER,
         ctx=_R4_TWO),
    conv("r4-vol-done-none", ("做完了", says("没有进行中的任务"), never("带上订单编号"), no_act()), roles=VOLUNTEER,
         ctx={"my_tasks": ()}),
    conv("r4-vol-done-none-nong-hao", ("弄好了", says("没有进行中的任务"), no_act()), roles=VOLUNTEER,
         ctx={"my_tasks": ()}),
    conv("r4-vol-done-unread", ("做完了", act("my_tasks"), says("完成 编号 小时数")), roles=VOLUNTEER),
    conv("r4-vol-done-bare-wancheng", ("完成", says("730215"), state(State.VOL_HOURS)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4-resident-done-words", ("做完了", no_act("my_tasks"), never("没有进行中的任务"))),
    # -- 我的任务 / 我的订单: the domain lists the tasks in progress and the finished ones with points ----------------
    conv("r4-vol-my-tasks", ("我的任务", act("my_tasks"), not_ordering), roles=VOLUNTEER),
    conv("r4-vol-my-orders", ("我的订单", act("my_tasks"), act("my_orders")), roles=VOLUNTEER),
    conv("r4-vol-my-tasks-cha", ("查下我的任务", act("my_tasks")), roles=VOLUNTEER),
    conv("r4-vol-my-jie-de", ("我接的单", act("my_tasks")), roles=VOLUNTEER),
    # -- 退单, and 接单 of an order the resident cancelled (the domain says so) -----------------------------------
    conv("r4-vol-give-back-reason",
         ("退单 730215 家里老人住院了", act("give_back", order=730215, reason="家里老人住院了")), roles=VOLUNTEER),
    conv("r4-vol-accept-cancelled", ("接单730215", act("accept", order=730215)), roles=VOLUNTEER),
]
TUNED_VOLUNTEERS.extend(R4_VOLUNTEERS)

# -- r4b: 退单 of an order the volunteer does not hold (outside tester round 4, #10) ----------------------------------
R4B_VOLUNTEERS: list[Conv] = [
    # the edge read the volunteer's tasks: not theirs -> the domain refuses at once ("不是您接的"), no reason asked
    conv("r4b-vol-give-back-not-mine", ("退单 553800", act("give_back", order=553800), never("原因"),
                                        state(State.IDLE)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r4b-vol-give-back-none-held", ("退单 395055", act("give_back", order=395055), never("原因")),
         roles=VOLUNTEER, ctx={"my_tasks": ()}),
    conv("r4b-vol-give-back-after-not-mine", ("553800号我去不了了", act("give_back", order=553800), never("原因")),
         roles=VOLUNTEER, ctx=_R4_ONE),
    # their own: the reason is asked first, as before
    conv("r4b-vol-give-back-mine", ("退单 730215", says("原因"), no_act("give_back"),
                                    state(State.VOL_GIVEBACK)),
         ("家里临时有事", act("give_back", order=730215, reason="家里临时有事")), roles=VOLUNTEER, ctx=_R4_ONE),
    # the tasks not read (the pure step alone): the reason is asked and the domain decides after it
    conv("r4b-vol-give-back-unread", ("退单 553800", says("原因")), roles=VOLUNTEER),
]
TUNED_VOLUNTEERS.extend(R4B_VOLUNTEERS)


# -- r5b: outside tester round 5 (#3 bare 退单, #11 我的人物 and 完成 with the digits run together) ---------------
R5B_VOLUNTEERS: list[Conv] = [
    # (round 7, fixB: the one task held is asked about, no number needed)
    conv("r5b-vol-give-back-bare-one", ("退单", says("退订单730215", "回复 1"), never("要退哪一单", "法律咨询"),
                                        no_act("give_back"), state(State.VOL_GIVEBACK)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r5b-vol-give-back-bare-two", ("我要退单", says("730215", "730388"), no_act("give_back")),
         roles=VOLUNTEER, ctx=_R4_TWO),
    conv("r5b-vol-give-back-bare-none", ("退单", says("您现在没有接下的任务"), no_act("give_back")),
         roles=VOLUNTEER, ctx={"my_tasks": ()}),
    conv("r5b-vol-my-renwu-typo", ("我的人物", act("my_tasks")), roles=VOLUNTEER),
    conv("r5b-vol-done-run-together", ("完成1311321.5小时", says("是订单131132，1.5小时吗"), no_act("complete")),
         ("对", act("complete", order=131132, hours=1.5)), roles=VOLUNTEER),
    conv("r5b-vol-done-run-together-no", ("完成1311321.5小时",),
         ("不对", says("完成 订单号 小时数"), no_act("complete")), roles=VOLUNTEER),
]
TUNED_VOLUNTEERS.extend(R5B_VOLUNTEERS)
R5B_ACCEPT: list[Conv] = [  # #3 "接单" with no number: the orders on offer listed, each with its "接单 N" (r6: and
    # its number, which the next reply may give: VOL_ACCEPT)
    conv("r5b-vol-accept-bare", ("接单", act("open_tasks", numbered=True), no_act("accept"),
                                 state(State.VOL_ACCEPT)),
         roles=VOLUNTEER),
    conv("r5b-vol-accept-bare-typo", ("街单", act("open_tasks", numbered=True), no_act("accept")),
         roles=VOLUNTEER),
]
TUNED_VOLUNTEERS.extend(R5B_ACCEPT)


# -- r6: outside tester round 6 (w2vol): one-tap 接单, volunteers' own words, 完成 with the hours and no number, the
# ID question answered with words ---------------------------------------------------------------------------------
_R6_OFFER = {"offered_tasks": ({"id": 890499, "service": "haircut", "when": "12月4日(周五) 09:00"},)}
_R6_OFFERS = {"offered_tasks": (*_R6_OFFER["offered_tasks"], {"id": 890512, "service": "repair", "when": "尽快"})}
_R6_REG_ID = {"state": State.REG_ID, "slots": {
    "reg": {"source": "chat", "name": "李建军", "gender": "男", "age_said": 46}}}
R6_VOLUNTEERS: list[Conv] = [
    # -- one order offered to them: the bare words take it ---------------------------------------------------------
    conv("r6-vol-jie-one", ("接", act("accept", order=890499), not_ordering), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-jiedan-one", ("接单", act("accept", order=890499), never("要接哪一单")), roles=VOLUNTEER,
         ctx=_R6_OFFER),
    conv("r6-vol-hao-wo-qu", ("好 我去", act("accept", order=890499), not_ordering), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-wo-jie-le", ("我接了", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-hao-de-wo-lai", ("好的我来", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-zhe-dan-wo-jie", ("这单我接了", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-jiedan-typo-one", ("接但", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFER),
    # "我去" alone may be an exclamation: asked first, "1" / "对" takes it, "不接" leaves it
    conv("r6-vol-wo-qu-asked", ("我去", says("是接订单890499", "回复 1"), no_act(), state(State.VOL_ACCEPT)),
         ("1", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-wo-qu-dui", ("我去",), ("对", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFER),
    conv("r6-vol-wo-qu-bu-jie", ("我去",), ("不接", says("没有接"), no_act(), state(State.IDLE)), roles=VOLUNTEER,
         ctx=_R6_OFFER),
    conv("r6-vol-wo-qu-nothing", ("我去", no_act("accept"), never("是接")), roles=VOLUNTEER,
         ctx={"offered_tasks": ()}),
    # -- two offered: listed by number, "2" / "第一个" / the number right after takes that one ---------------------
    conv("r6-vol-two-listed", ("接单", says("890499", "890512", "1 订单890499", "2 订单890512"), no_act("accept"),
                               state(State.VOL_ACCEPT)), ("2", act("accept", order=890512), not_ordering),
         roles=VOLUNTEER, ctx=_R6_OFFERS),
    conv("r6-vol-two-first", ("接",), ("第一个", act("accept", order=890499)), roles=VOLUNTEER, ctx=_R6_OFFERS),
    conv("r6-vol-two-by-ref", ("接单",), ("890512", act("accept", order=890512)), roles=VOLUNTEER, ctx=_R6_OFFERS),
    conv("r6-vol-two-then-order", ("接单",),
         ("我要理发", no_act("accept"), state(State.ORDER_TIME, State.ORDER_DETAILS)), roles=VOLUNTEER, ctx=_R6_OFFERS),
    # -- none offered: the domain's numbered list, and "1" right after is its first, never the resident's 点单 ------
    conv("r6-vol-none-offered-listed", ("接单", act("open_tasks", numbered=True), never("要接哪一单")),
         ("1", act("accept", listed=1), not_ordering, never("您需要什么服务")), roles=VOLUNTEER,
         ctx={"offered_tasks": ()}),
    conv("r6-vol-none-offered-2", ("接",), ("2", act("accept", listed=2), not_ordering), roles=VOLUNTEER,
         ctx={"offered_tasks": ()}),
    conv("r6-resident-jie", ("接单", no_act("accept"), never("要接哪一单"))),
    # -- a volunteer's own words are the volunteer menu's, not a resident's order ----------------------------------
    conv("r6-vol-you-sha-huo-typo", ("有啥火", act("open_tasks"), not_ordering, never("安全检查")), roles=VOLUNTEER),
    conv("r6-vol-you-sha-huo-ma", ("今天有啥火没", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("r6-vol-shifu-sichuan", ("我是修水管的师傅，有啥子活路没得", act("open_tasks"), not_ordering,
                                  never("维修服务")), roles=VOLUNTEER),
    conv("r6-vol-shifu-nospace", ("我是理发师傅有活没", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("r6-vol-volunteer-intro", ("你好我是志愿者 有没有任务", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("r6-vol-my-stars", ("我的星级", act("points"), not_ordering), roles=VOLUNTEER),
    conv("r6-vol-stars-cha", ("查下我的星级", act("points")), roles=VOLUNTEER),
    conv("r6-vol-stars-ji-xing", ("我几星", act("points")), roles=VOLUNTEER),
    # -- 完成 with the hours and no order number ---------------------------------------------------------------------
    conv("r6-vol-done-2h-none", ("完成 2小时", says("没有进行中的任务"), act("my_tasks"), no_act("complete"),
                                 not_ordering), roles=VOLUNTEER, ctx={"my_tasks": ()}),
    conv("r6-vol-done-2h-one", ("完成 2小时", act("complete", order=730215, hours=2.0)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r6-vol-done-2h-nospace", ("完成2个小时", act("complete", order=730215, hours=2.0)), roles=VOLUNTEER,
         ctx=_R4_ONE),
    conv("r6-vol-done-words-hour", ("做完了 干了一个小时", act("complete", order=730215, hours=1.0), not_ordering),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r6-vol-done-gaoding-ban", ("搞定了，一个半钟头", act("complete", order=730215, hours=1.5)), roles=VOLUNTEER,
         ctx=_R4_ONE),
    conv("r6-vol-done-words-none", ("做完了 干了一个小时", says("没有进行中的任务"), no_act("complete"),
                                    not_ordering), roles=VOLUNTEER, ctx={"my_tasks": ()}),
    conv("r6-vol-done-1-is-hours", ("完成 1", act("complete", order=730215, hours=1.0), never("订单1")),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r6-vol-done-2h-two", ("完成 2小时", says("730215", "730388", "完成 编号 2"), no_act("complete")),
         roles=VOLUNTEER, ctx=_R4_TWO),
    conv("r6-vol-done-ref-unchanged", ("完成 730215", says("订单730215", "几个小时"), state(State.VOL_HOURS)),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r6-vol-done-ref-hours-unchanged", ("完成 730215 2", act("complete", order=730215, hours=2.0)),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("r6-resident-done-2h", ("完成 2小时", no_act("complete"), no_act("my_tasks"))),
    # -- the ID question answered with words: explained once, no digits counted, and the ways out work ------------
    conv("r6-reg-id-words", ("修水管 通下水道", says("身份证号", "18位", "取消"), never("您输入的是"),
                             state(State.REG_ID)), **_R6_REG_ID),
    conv("r6-reg-id-words-twice", ("修水管 通下水道",),
         ("会修水电", says("18位"), never("您输入的是", "这一步要填的是"), state(State.REG_ID)), **_R6_REG_ID),
    conv("r6-reg-id-words-cancel", ("修水管 通下水道",), ("取消", says("已取消"), state(State.IDLE)), **_R6_REG_ID),
    conv("r6-reg-id-words-human", ("我不知道身份证号",), ("人工", state(State.HUMAN)), **_R6_REG_ID),
    conv("r6-reg-id-words-menu", ("修水管 通下水道",), ("菜单", state(State.IDLE)), **_R6_REG_ID),
    conv("r6-reg-id-short-still-counted", ("1101011990", says("18位", "10位"), state(State.REG_ID)), **_R6_REG_ID),
]
TUNED_VOLUNTEERS.extend(R6_VOLUNTEERS)


# -- outside tester round 7 (fixB): a bare 退单 with one task asks only about that task (1 / a reason goes on), with
# several lists them by number (1 / 2 picks); a bare 接单 with nothing open lets the domain's list speak alone
FIXB_VOLUNTEERS: list[Conv] = [
    conv("b7-vol-tuidan-one-1", ("退单", says("退订单730215"), never("要退哪一单", "您需要什么服务")),
         ("1", says("原因"), never("您需要什么服务"), state(State.VOL_GIVEBACK), no_act("give_back")),
         ("临时有事去不了", act("give_back", order=730215)), roles=VOLUNTEER, ctx=_R4_ONE),
    conv("b7-vol-tuidan-one-reason", ("我要退单",), ("临时有事", act("give_back", order=730215, reason="临时有事")),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("b7-vol-tuidan-one-dui", ("退单",), ("对", says("原因"), no_act("give_back")), ("家里有事",
                                                                                     act("give_back", order=730215)),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("b7-vol-tuidan-one-keep", ("退单",), ("0", says("没有退单"), no_act("give_back"), state(State.IDLE)),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("b7-vol-tuidan-one-buletui", ("退单",), ("算了不退了", no_act("give_back"), state(State.IDLE)),
         roles=VOLUNTEER, ctx=_R4_ONE),
    conv("b7-vol-tuidan-two-pick-2", ("退单", says("1 订单730215", "2 订单730388", "序号")),
         ("2", says("退订单730388的原因"), no_act("give_back")), ("身体不舒服", act("give_back", order=730388)),
         roles=VOLUNTEER, ctx=_R4_TWO),
    conv("b7-vol-tuidan-two-pick-1", ("俺要退单",), ("1",), ("有事", act("give_back", order=730215)),
         roles=VOLUNTEER, ctx=_R4_TWO),
    conv("b7-vol-tuidan-two-by-ref", ("退单",), ("730388", says("730388")),
         ("临时加班", act("give_back", order=730388)),
         roles=VOLUNTEER, ctx=_R4_TWO),
    conv("b7-vol-tuidan-two-words", ("退单",), ("哪个都行", says("序号"), no_act("give_back"),
                                                state(State.VOL_GIVEBACK)), roles=VOLUNTEER, ctx=_R4_TWO),
    conv("b7-vol-tuidan-two-keep", ("退单",), ("0", says("没有退单"), state(State.IDLE)), roles=VOLUNTEER, ctx=_R4_TWO),
    conv("b7-vol-jiedan-none-open", ("接单", act("open_tasks", numbered=True), silent, state(State.VOL_ACCEPT)),
         roles=VOLUNTEER, ctx={"offered_tasks": ()}),
]
TUNED_VOLUNTEERS.extend(FIXB_VOLUNTEERS)
