"""The tuned corpus: short conversations as residents and volunteers write them (typos, dialect, no punctuation,
voice transcripts), every one of which must pass. Times are on Monday 2026-11-23 in Shanghai, at each `at`.

The held-out part (corpus_heldout.py) was written first and is never tuned on; this part was written alongside the
dialogue and may be.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.dialogue.core import Result, State
from intents.timeparse import SHANGHAI
from tests.bot.dialogue.corpus import (
    REG_AT_TIMES,
    TO_CONFIRM,
    Check,
    Conv,
    CorpusTranscript,
    act,
    any_of,
    avail,
    conv,
    draft,
    draft_has,
    draft_lacks,
    future,
    never,
    no_act,
    no_avail,
    not_ordering,
    reg,
    says,
    says_any,
    silent,
    state,
    urgent,
    when,
)

PAST = "这个时间已经过去了，请说"
VOLUNTEER = frozenset({"volunteer"})
REG = {"state": State.REG_TIMES, "slots": REG_AT_TIMES}
HAIRCUTS = ({"id": 4, "service": "haircut", "when": "11月24日(周二) 09:00"},
            {"id": 9, "service": "haircut", "when": "11月28日(周六) 14:00"})
REPAIR = ({"id": 21, "service": "repair", "when": "尽快（13:00前）"},
          {"id": 22, "service": "haircut", "when": "11月25日(周三) 10:00"})
RATING = {"state": State.RATE, "slots": {"rate_order": 31}}

# -- 1. times as people say them ----------------------------------------------------------------------
TIMES: list[Conv] = [
    conv("t-today-morning", ("我想理发",), ("今天", never(PAST), when(0), future), at="08:00"),
    conv("t-today-ba", ("帮我剪个头发",), ("今天吧", never(PAST), when(0), future), at="15:00"),
    conv("t-just-today", ("想找个人修一下灯",), ("就今天", when(0), future), at="11:00"),
    conv("t-jinr", ("我要理发",), ("今儿", when(0), future), at="09:30"),
    conv("t-today-noon", ("我要理发",), ("今天中午", when(0, (11, 12)))),
    conv("t-zhongwutou", ("我要理发",), ("今儿个中午头", when(0, (11, 12)))),
    conv("t-today-pm-ba", ("我要理发",), ("今天下午吧", when(0, (13, 13)))),
    conv("t-today-230", ("我要理发",), ("今天下午两点半", when(0, (14, 14), 30))),
    conv("t-hour-ba", ("帮我修下门锁",), ("一个钟头以后吧", when(0, (15, 15))), at="14:00"),
    conv("t-two-hours-after", ("我要理发",), ("两个钟头之后", when(0, (11, 11))), at="09:00"),
    conv("t-guo-one-hour", ("我要理发",), ("过一个小时来", when(0, (17, 17))), at="16:00"),
    conv("t-half-zhongtou", ("我要理发",), ("半个钟头以后", when(0, (10, 10), 30))),
    conv("t-zai-guo-half", ("我要理发",), ("再过半小时", when(0, (13, 13), 30)), at="13:00"),
    conv("t-twenty-min", ("我要理发",), ("过二十分钟", when(0, (10, 10), 20))),
    conv("t-hour-and-half", ("我要理发",), ("一个半小时以后", when(0, (11, 11), 30))),
    conv("t-pm-early-lai", ("我要理发",), ("下午早点来", when(0, (13, 13))), at="09:00"),
    conv("t-pm-early-yidian", ("我要理发",), ("下午早一点", when(0, (13, 13)))),
    conv("t-am-late", ("我要理发",), ("上午晚点", when(0, (10, 10))), at="08:00"),
    conv("t-asap-a", ("水龙头坏了要修",), ("越快越好啊", urgent)),
    conv("t-asap-ba", ("水龙头坏了要修",), ("尽快吧", urgent)),
    conv("t-mashang", ("水龙头坏了要修",), ("马上", urgent)),
    conv("t-ji", ("下水道堵了找人通一下",), ("急 越快越好", urgent)),
    conv("t-now", ("下水道堵了找人通一下",), ("现在就来", urgent)),
    conv("t-ganjin", ("下水道堵了找人通一下",), ("赶紧的", urgent)),
    conv("t-deng会", ("我要理发",), ("等会儿来吧", urgent)),
    conv("t-asap-submit", ("水管漏了 越快越好 幸福小区3栋 13800138000", says("尽快"), urgent),
         ("1", act("submit_order", time_kind="asap"), urgent)),
    conv("t-past-ten", ("我要理发",), ("今天上午十点", says("现在已经过了"), never(PAST), state(State.ORDER_TIME)),
         ("2", when(1, (10, 10))), at="15:00"),
    conv("t-past-eight", ("我要理发",), ("今天早上八点", says("现在已经过了", "1", "2")), ("1", future, when(0))),
    conv("t-past-pm-evening", ("我要理发",), ("今天下午", says("已经过去了")), ("2", when(1, (13, 13))), at="20:30"),
    conv("t-past-late-today", ("我要理发",), ("今天", says("明天")), ("好", when(1)), at="23:30"),
    conv("t-past-other-time", ("我要理发",), ("今天上午", says_any("今天", "明天")), ("明天上午九点", when(1, (9, 9))),
         at="15:00"),
    conv("t-past-one-shot", ("今天上午九点来帮我理发", says("现在已经过了"), state(State.ORDER_TIME)),
         ("1", future), at="15:00"),
    conv("t-tomorrow", ("我要理发",), ("明天", when(1))),
    conv("t-houtian-3", ("我要理发",), ("后天下午三点", when(2, (15, 15)))),
    conv("t-saturday", ("我要理发",), ("周六上午", when(5, (8, 8)))),
    conv("t-next-monday", ("我要理发",), ("下礼拜一", when(7))),
    conv("t-mingr-yizao", ("我要理发",), ("明儿个一早", when(1, (7, 7)))),
    conv("t-three-oclock", ("我要理发",), ("三点钟", when(0, (15, 15)))),
    conv("t-no-hurry", ("我要理发",), ("不着急 明天下午都行", when(1, (13, 13)))),
    conv("t-houshang", ("我要理发",), ("明天后晌", when(1, (13, 13)))),
    conv("t-today-summary", ("今天下午来帮我理发 幸福小区3栋 13800138000", says("11月23日", "请核对"))),
    conv("t-gibberish-time", ("我要理发",), ("随便吧看你们", says("没太明白")), ("明天上午", when(1, (8, 8)))),
]

# -- 2. corrections and slots from run-on text ----------------------------------------------------
CORRECTIONS: list[Conv] = [
    conv("c-addr-wrong-is", TO_CONFIRM, ("地址错了 是幸福小区5栋", draft(address="幸福小区5栋"), says("已修改"))),
    conv("c-addr-written-wrong", TO_CONFIRM, ("地址写错了 应该是向阳新村2栋", draft(address="向阳新村2栋"))),
    conv("c-addr-comma", TO_CONFIRM, ("地址不对，是阳光花园3栋1单元202", draft(address="阳光花园3栋1单元202"))),
    conv("c-addr-door-only", TO_CONFIRM, ("不对 是4栋", draft(address="幸福小区4栋"))),
    conv("c-phone-wrong", TO_CONFIRM, ("电话号码错了 是13912345678", draft(phone="13912345678"))),
    conv("c-phone-spaces", TO_CONFIRM, ("手机号改成138 0000 1111", draft(phone="13800001111"))),
    conv("c-phone-another", TO_CONFIRM, ("电话换一个 13700001111", draft(phone="13700001111"))),
    conv("c-phone-spoken", TO_CONFIRM, ("换个电话 幺三九幺二三四五六七八", draft(phone="13912345678"))),
    conv("c-time-change", TO_CONFIRM, ("时间改成后天下午", when(2, (13, 13)))),
    conv("c-time-saturday", TO_CONFIRM, ("改到周六上午", when(5, (8, 8)))),
    conv("c-not-but-dahoutian", TO_CONFIRM, ("不是明天 是大后天", when(3))),
    conv("c-tomorrow-no-good", TO_CONFIRM, ("明天不行 改后天吧", when(2))),
    conv("c-time-should-be", TO_CONFIRM, ("时间不对 应该是明天下午三点", when(1, (15, 15)))),
    conv("c-time-past", TO_CONFIRM, ("时间改成今天早上八点", says("现在已经过了")), ("2", when(1, (8, 8)))),
    conv("c-addr-in-phone-q", ("明天上午来幸福小区3栋帮我理发",),
         ("地址不对 是幸福小区6栋", draft(address="幸福小区6栋"), says("电话"), state(State.ORDER_PHONE))),
    conv("c-phone-in-time-q", ("我要理发 电话13800138000",),
         ("电话换成13912345678", draft(phone="13912345678"), state(State.ORDER_TIME))),
    conv("c-time-in-address-q", ("明天上午帮我理发",), ("不是明天 是后天", when(2), state(State.ORDER_ADDRESS))),
    conv("c-addr-wrong-no-value", TO_CONFIRM, ("地址不对", state(State.ORDER_ADDRESS), says("地址"))),
    conv("c-phone-wrong-no-value", TO_CONFIRM, ("电话错了", state(State.ORDER_PHONE))),
    conv("c-service-wrong", TO_CONFIRM, ("不是理发 是修水管", draft(service="repair"))),
    conv("c-edit-menu-address", TO_CONFIRM, ("2", state(State.ORDER_EDIT)), ("4", state(State.ORDER_ADDRESS)),
         ("幸福小区10栋", draft(address="幸福小区10栋"), state(State.ORDER_CONFIRM))),
    conv("c-edit-menu-free", TO_CONFIRM, ("2",), ("地址改成幸福小区11栋", draft(address="幸福小区11栋"))),
    conv("c-runon-one", ("我要理发 明天上午十点 幸福小区2栋301 电话13800138000", draft(address="幸福小区2栋301",
                                                                                   phone="13800138000"),
                         when(1, (10, 10)), state(State.ORDER_CONFIRM))),
    conv("c-runon-voice", ("嗯那个我想找个人帮我修一下水龙头就明天下午吧我家住在阳光花园5栋2单元",
                           draft(address="阳光花园5栋2单元"), when(1, (13, 13)),
                           draft_lacks("details", "住在", "阳光"))),
    conv("c-runon-mother", ("帮我妈理个发她住幸福小区8栋 后天上午", draft(address="幸福小区8栋"),
                            draft_lacks("details", "幸福小区", "后天"))),
    conv("c-addr-answer-road", ("我要理发",), ("明天上午",), ("地址是解放路25号", draft(address="解放路25号"))),
    conv("c-addr-spoken-room", ("我要理发",), ("明天上午",), ("幸福小区三栋二单元五零一",
                                                           draft(address="幸福小区三栋二单元五零一"))),
    conv("c-addr-jia-zai", ("我要理发",), ("明天上午",), ("我家在向阳新村7栋", draft(address="向阳新村7栋"))),
    conv("c-same-last-1", ("我要理发",), ("明天上午",), ("跟上次一样", says("幸福小区3栋2单元501")),
         ("1", draft(address="幸福小区3栋2单元501")), ctx={"last_address": "幸福小区3栋2单元501"}),
    conv("c-laodifang", ("我要理发",), ("明天上午",), ("还是老地方", says("向阳新村9栋")),
         ("对的", draft(address="向阳新村9栋")), ctx={"last_address": "向阳新村9栋"}),
    conv("c-same-in-one-shot", ("明天上午来理发 地址和上回一样", says("向阳新村9栋"), state(State.ORDER_PHONE),
                                 draft(address="向阳新村9栋")), ctx={"last_address": "向阳新村9栋"}),  # (r5b: at once)
    conv("c-same-then-new", ("我要理发",), ("明天上午",), ("跟上回一样",),
         ("不是 我搬了 住幸福小区9栋", draft(address="幸福小区9栋")), ctx={"last_address": "向阳新村9栋"}),
    conv("c-same-at-summary", TO_CONFIRM, ("地址跟上次一样", draft(address="向阳新村9栋")),
         ctx={"last_address": "向阳新村9栋"}),
    conv("c-details-no-address", ("明天上午九点来帮我打扫一下卫生 我住向阳新村5栋",
                                  draft(address="向阳新村5栋"), draft_lacks("details", "我住", "向阳", "明天"))),
    conv("c-details-no-phone", ("电话13800138000 明天下午来修灯", draft(phone="13800138000"),
                                draft_lacks("details", "电话", "138"))),
    conv("c-proxy-correction", ("帮我妈下单",), ("王奶奶",), ("13900001111",), ("理发",), ("明天上午",),
         ("幸福小区3栋", state(State.ORDER_PHONE), says("您自己的电话")),
         ("不用", state(State.ORDER_CONFIRM), says("王奶奶")),
         ("地址不对 是幸福小区7栋", draft(address="幸福小区7栋"))),
]

# -- 3. yes, no, cancel and commands in many phrasings ------------------------------------------------
YES_AT_SUMMARY = ["对的", "确认", "是的", "好", "好的 谢谢", "可以", "可以的", "没问题", "行", "行的", "嗯", "对头",
                  "好嘞", "ok", "嗯嗯 对的", "没错", "确定", "就这样吧", "对对对", "是滴", "提交吧", "确认无误"]
CANCEL_AT_SUMMARY = ["算了", "不要了", "算了吧不要了", "我不要了", "不用了谢谢", "那算了", "哎算了算了", "先不弄了",
                     "取消",
                     "改天再说吧"]
COMMANDS: list[Conv] = [
    *(conv(f"y-{i}-{word}", TO_CONFIRM, (word, act("submit_order"))) for i, word in enumerate(YES_AT_SUMMARY)),
    *(conv(f"n-{i}-{word}", TO_CONFIRM, (word, no_act("submit_order"), state(State.IDLE)))
      for i, word in enumerate(CANCEL_AT_SUMMARY)),
    conv("n-zero", TO_CONFIRM, ("0", says("没有提交"), state(State.IDLE))),
    conv("n-budui-budui", TO_CONFIRM, ("不对不对", state(State.ORDER_EDIT))),
    conv("n-buxing", TO_CONFIRM, ("不行", state(State.ORDER_EDIT), no_act())),
    conv("n-cuole", TO_CONFIRM, ("错了", state(State.ORDER_EDIT))),
    conv("n-cancel-in-time", ("我要理发",), ("不要了", state(State.IDLE), says("取消"))),
    conv("n-cancel-registration", ("注册志愿者",), ("算了不报了", state(State.IDLE))),
    conv("o-cancel-order-4", ("取消订单4", act("cancel_order", order=4))),
    conv("o-revoke-4", ("撤销4号订单", act("cancel_order", order=4))),
    conv("o-ba-5", ("把5号单子取消了", act("cancel_order", order=5))),
    conv("o-12-no", ("12号订单不要了", act("cancel_order", order=12))),
    conv("o-third", ("取消第3单", act("cancel_order", order=3))),
    conv("o-woyao", ("我要取消4号订单", act("cancel_order", order=4))),
    # the order being made stays (out11: it was thrown away when a submitted one was cancelled by its number)
    conv("o-in-dialogue", ("我要理发",), ("取消订单 7", act("cancel_order", order=7), state(State.ORDER_TIME))),
    conv("o-repair-one", ("修水管那个不要了", says("21"), no_act("cancel_order")), ("1", act("cancel_order", order=21)),
         ctx={"open_orders": REPAIR}),
    conv("o-haircut-pick", ("取消理发的订单", says("哪一个", "1", "2")), ("1", act("cancel_order", order=4)),
         ctx={"open_orders": HAIRCUTS}),
    conv("o-haircut-by-number", ("那个理发的不要了",), ("9", act("cancel_order", order=9)),
         ctx={"open_orders": HAIRCUTS}),
    conv("o-haircut-keep", ("那个理发的不要了",), ("0", says("保留"), no_act(), state(State.IDLE)),
         ctx={"open_orders": HAIRCUTS}),
    conv("o-keep-said-no", ("理发的订单不要了",), ("不", no_act(), state(State.IDLE)),
         ctx={"open_orders": REPAIR}),
    conv("o-none-of-that", ("陪诊那个取消", says("没有找到"), no_act(), not_ordering), ctx={"open_orders": REPAIR}),
    conv("o-unknown-orders", ("那个理发的不要了", act("my_orders"), says("取消订单"), not_ordering)),
    conv("o-in-making", ("我要理发",), ("明天上午",), ("理发那个不要了", state(State.IDLE), no_act())),
    conv("o-old-clothes", ("旧衣服不要了", no_act("cancel_order", "my_orders"))),
    conv("s-orders-ne", ("我的订单呢", act("my_orders"))),
    conv("s-dan-where", ("单子到哪了", act("my_orders"))),
    conv("s-that-dan", ("我那个单子怎么样了", act("my_orders"))),
    conv("s-anyone", ("有人接单了吗", act("my_orders"))),
    conv("s-when-come", ("志愿者什么时候来", act("my_orders"))),
    conv("s-no-one", ("怎么还没人来啊", act("my_orders"))),
    conv("s-check", ("查一下我的订单", act("my_orders"))),
    conv("p-zhuan", ("转人工", act("human_handover"), state(State.HUMAN))),
    conv("p-staff", ("我要找工作人员", act("human_handover"))),
    conv("p-zhenren", ("找真人", act("human_handover"))),
    conv("p-call-staff", ("叫你们工作人员来", act("human_handover"))),
    conv("p-no-robot", ("我不想跟机器人说", act("human_handover"))),
    conv("p-talk-to-person", ("能不能跟人说话", act("human_handover"))),
    conv("p-in-registration", ("注册志愿者",), ("我要跟人说", act("human_handover"))),
    conv("p-companion-is-service", ("我想找个人陪我聊聊天", no_act("human_handover"))),
    conv("pt-mine", ("我的积分", act("points")), roles=VOLUNTEER),
    conv("pt-jifen", ("还有几分", act("points")), roles=VOLUNTEER),
    conv("pt-how-many", ("积分有多少", act("points")), roles=VOLUNTEER),
    conv("pt-saved", ("我攒了多少积分", act("points")), roles=VOLUNTEER),
    conv("pt-minutes-are-time", ("我要理发",), ("过十分钟", no_act("points"), when(0, (10, 10), 10))),
    conv("st-thanks-a", ("谢谢啊", says("不客气"))),
    conv("st-duoxie", ("多谢多谢", says("不客气"))),
    conv("st-taiganxie", ("太感谢了", says("不客气"))),
    conv("st-xinku", ("辛苦了", says("不客气"))),
    conv("st-thanks-you-thanks", ("谢谢你 谢谢", says("不客气"))),
    conv("st-nihao", ("您好", says("请回复数字"))),
    conv("st-zaima", ("在吗", says("请回复数字"))),
    conv("st-morning", ("早上好", says("请回复数字"))),
    conv("st-robot", ("你是机器人吗", says("小助手"), says("1"))),
    conv("st-what-do", ("你们是干什么的", says("雷锋超市", "志愿者"))),
    conv("st-bye", ("再见", says("再见"))),
    conv("st-ok", ("好的", says("好的"), not_ordering)),
    conv("st-thanks-order", ("谢谢 明天上午来帮我理发", state(State.ORDER_ADDRESS), never("不客气"))),
    conv("st-menu", ("菜单", says("请回复数字"))),
    conv("st-what-can", ("你能做什么", says("请回复数字"))),
]

# -- 5. registration: availability said completely ----------------------------------------------------
AVAILABILITY: list[Conv] = [
    conv("a-mon-fri-pm", ("周一至周五下午", avail("一二三四五", "下午")), **REG),
    conv("a-tue-thu-am", ("周二到周四上午", avail("二三四", "上午")), **REG),
    conv("a-every-weekend", ("每个周末", avail("六日", "全天")), **REG),
    conv("a-sat-sun-ok", ("周六日都行", avail("六日", "全天")), **REG),
    conv("a-mwf-am", ("星期一 星期三 星期五 上午", avail("一三五", "上午")), **REG),
    conv("a-workday-pm-eve", ("工作日下午和晚上", avail("一二三四五", "下午", ("一二三四五", "晚上"))), **REG),
    conv("a-usually-eve", ("平常晚上有空", avail("一二三四五", "晚上")), **REG),
    conv("a-daily-am", ("天天上午", avail("一二三四五六日", "上午")), **REG),
    conv("a-except-weekend", ("除了周末", avail("一二三四五", "全天")), **REG),
    conv("a-sat-am-sun-pm", ("周六上午 周日下午", avail("六", "上午", ("日", "下午"))), **REG),
    conv("a-weekend-am", ("周末上午", avail("六日", "上午")), **REG),
    conv("a-anytime", ("随时都可以", says("记下了"), state(State.REG_PHONE)), **REG),
    conv("a-depends", ("看情况", no_avail, says("没太明白")), **REG),
    conv("a-not-sure", ("不一定", no_avail, state(State.REG_TIMES)), **REG),
    conv("a-partly", ("周一上午 其他看情况", no_avail, says("周一上午"), state(State.REG_TIMES)),
         ("1", avail("一", "上午"), state(State.REG_PHONE)), **REG),
    conv("a-evening-seven", ("周一到周五晚上七点以后", says("周一至周五晚上")), ("对", avail("一二三四五", "晚上")),
         **REG),
    conv("a-partly-again", ("周一上午 其他看情况",), ("周一上午和周三下午", avail("一", "上午", ("三", "下午"))),
         **REG),
    conv("a-pm-only", ("下午", avail("一二三四五六日", "下午")), **REG),
    conv("a-weekend-daytime", ("周末白天", avail("六日", "上午", ("六日", "下午"))), **REG),
    conv("a-shuangxiu", ("双休日全天", avail("六日", "全天")), **REG),
    conv("a-libai-range", ("礼拜一到礼拜五上午", avail("一二三四五", "上午")), **REG),
    conv("a-except-wed-am", ("除了周三上午都行", avail("一二四五六日", "全天", ("三", "下午"), ("三", "晚上"))), **REG),
    conv("a-said-back", ("周一到周五上午", says("记下了：周一至周五上午")), **REG),
    conv("a-profile", ("我的资料",), ("2",), ("周一到周五晚上", act("update_profile", field="availability")),
         roles=VOLUNTEER),
]

# -- whole conversations: ordering from the menu, proxies, volunteers, ratings, safety ---------------------------
FLOWS: list[Conv] = [
    conv("f-clarify-one", ("帮我修下灯", says("您是要【维修服务】吗")),
         ("1", state(State.ORDER_TIME), draft(service="repair"))),
    conv("f-menu-order", ("1", state(State.ORDER_SERVICE)), ("理发",), ("明天上午",), ("幸福小区3栋",),
         ("13800138000", state(State.ORDER_CONFIRM)), ("对", act("submit_order", service="haircut"))),
    conv("f-phone-on-file", ("明天上午来幸福小区3栋帮我理发",),
         ("嗯", draft(phone="13811112222"), state(State.ORDER_CONFIRM)),
         phone="13811112222"),
    conv("f-proxy", ("帮我妈下单", state(State.PROXY_NAME)), ("王奶奶",), ("13900001111",), ("陪她去医院看病",),
         ("后天上午",), ("幸福小区2栋", says("您自己的电话")), ("13812345678", says("您的电话：13812345678")),
         ("好的", act("submit_order"))),
    conv("f-volunteer-accept", ("接单 12", act("accept", order=12)), roles=VOLUNTEER),
    conv("f-volunteer-complete", ("完成 12 2", act("complete", order=12, hours=2.0)), roles=VOLUNTEER),
    conv("f-volunteer-tasks", ("我的任务", act("my_tasks")), roles=VOLUNTEER),
    conv("f-rate-hearts", ("五颗心", act("rate", order=31, hearts=5)), **RATING),
    conv("f-rate-word", ("挺满意的", act("rate", order=31, hearts=4)), **RATING),
    conv("f-rate-no-comment", ("满意",), ("不用了", says("谢谢"), state(State.IDLE)), **RATING),
    conv("f-emergency-first", TO_CONFIRM, ("我老伴摔倒了起不来", act("emergency"), no_act("submit_order"))),
    conv("f-expired-then-new", ("我要理发",), ("明天上午",), ("取消",), ("你好", says("请回复数字"))),
    conv("f-callout", ("到", act("callout_answer")), roles=VOLUNTEER, slots={"callout": 3}),
    conv("f-human-quiet", ("转人工",), ("喂 有人吗", silent)),
]

# -- a second round, written after the first passed: more of the same, said differently ----------------------
MORE: list[Conv] = [
    conv("m-tomorrow-830", ("我要理发",), ("明天早上8点半", when(1, (8, 8), 30))),
    conv("m-next-wed-span", ("我要理发",), ("下周三下午两点到四点", when(9, (14, 14)))),
    conv("m-this-sat", ("我要理发",), ("这周六", when(5))),
    conv("m-tonight-7", ("我要理发",), ("今天晚上七点", when(0, (19, 19)))),
    conv("m-evening-ba", ("我要理发",), ("晚上吧", when(0, (18, 18)))),
    conv("m-jinr-2pm", ("我要理发",), ("今儿下午两点钟", when(0, (14, 14)))),
    conv("m-1-hour-digits", ("我要理发",), ("1小时以后", when(0, (11, 11)))),
    conv("m-two-hours", ("我要理发",), ("两小时后来", when(0, (12, 12)))),
    conv("m-half-ge-hour", ("我要理发",), ("半个小时以后", when(0, (10, 10), 30))),
    conv("m-guo-yihuir", ("我要理发",), ("过一会儿", urgent)),
    conv("m-yue-zao", ("我要理发",), ("越早越好", urgent)),
    conv("m-libaitian", ("我要理发",), ("礼拜天上午", when(6, (8, 8)))),
    conv("m-3-hao", ("我要理发",), ("下个月3号", when(10))),
    conv("m-noon-passing", ("我要理发",), ("今天中午", says("已经过去了")), ("1", future), at="12:30"),
    conv("m-afternoon-instead", TO_CONFIRM, ("改成下午", when(1, (13, 13)))),
    conv("m-afternoon-3-instead", TO_CONFIRM, ("时间改到下午三点", when(1, (15, 15)))),
    conv("m-day-keeps-part", ("明天下午来帮我理发 幸福小区3栋 13800138000",), ("不是明天 是后天", when(2, (13, 13)))),
    conv("m-part-on-its-day", TO_CONFIRM, ("改成上午", when(1, (8, 8)))),
    conv("m-back-to-today", ("明天下午来帮我理发 幸福小区3栋 13800138000",), ("时间改成今天", when(0, (13, 13)))),
    conv("m-phone-should", TO_CONFIRM, ("电话不对 应该是13912345678", draft(phone="13912345678"))),
    conv("m-addr-i-live", TO_CONFIRM, ("地址不对 我住向阳新村5栋", draft(address="向阳新村5栋"))),
    conv("m-door-wrong", TO_CONFIRM, ("门牌号错了 是502", draft(address="幸福小区3栋502"))),
    conv("m-building-wrong", TO_CONFIRM, ("楼号错了 是5栋", draft(address="幸福小区5栋"))),
    conv("m-time-gaocuo", TO_CONFIRM, ("时间搞错了 是后天", when(2))),
    conv("m-landline", ("明天上午来幸福小区3栋帮我理发",),
         ("我没有手机 座机0731-88123456", draft(phone="073188123456"))),
    conv("m-sons-phone", ("明天上午来幸福小区3栋帮我理发",), ("用我儿子的电话13900001111", draft(phone="13900001111"))),
    # an estate with no door (outside tester round 3, #9): the door asked for, "就这样" keeps it as it is
    conv("m-estate-only", ("我要理发",), ("明天上午",), ("幸福小区", says("几栋几单元几号")),
         ("就这样", draft(address="幸福小区"))),
    conv("o3-door-in-two-messages", ("明天上午理发",), ("白莲小区", says("几栋几单元几号")),
         ("3栋", draft(address="白莲小区3栋"))),
    conv("o3-east-door-kept", ("明天上午理发",),
         ("幸福里小区12号楼 一楼东户", draft(address="幸福里小区12号楼 一楼东户"))),
    conv("o3-story-address-capped", ("明天上午理发",),
         ("我跟你说 我住在这个白莲小区十栋二单元六零一已经好几年了孩子们都在外地 平时就我一个人 腿脚也不好",
          draft(address="白莲小区十栋二单元六零一"))),
    conv("m-haohao", TO_CONFIRM, ("好的好的", act("submit_order"))),
    conv("m-keyi-keyi", TO_CONFIRM, ("可以可以", act("submit_order"))),
    conv("m-no-problem-de", TO_CONFIRM, ("没问题的", act("submit_order"))),
    conv("m-enna", TO_CONFIRM, ("嗯呐", act("submit_order"))),
    conv("m-haoya", TO_CONFIRM, ("好呀", act("submit_order"))),
    conv("m-ok-de", TO_CONFIRM, ("OK的", act("submit_order"))),
    conv("m-xiadan", TO_CONFIRM, ("确认下单", act("submit_order"))),
    conv("m-dingle", TO_CONFIRM, ("就这么定了", act("submit_order"))),
    conv("m-not-redeem", ("不换了", state(State.IDLE), no_act()), roles=VOLUNTEER, state=State.REDEEM_CONFIRM,
         slots={"merchant": 2, "points": 30}),
    conv("m-redeem-yes", ("嗯 确定", act("redeem_at_merchant", merchant=2, points=30)), roles=VOLUNTEER,
         state=State.REDEEM_CONFIRM, slots={"merchant": 2, "points": 30}),
    conv("m-repair-buyong", ("我那个修水管的不用来了", says("21")), ("确认", act("cancel_order", order=21)),
         ctx={"open_orders": REPAIR}),
    conv("m-cancel-diao-4", ("取消掉4号", act("cancel_order", order=4))),
    conv("m-4hao-no", ("4号不要了", act("cancel_order", order=4))),
    conv("m-chacha", ("帮我查查订单", act("my_orders"))),
    conv("m-anyone-mei", ("我订的单有人接了没", act("my_orders"))),
    conv("m-complain", ("我要投诉", act("human_handover"))),
    conv("m-points-how", ("积分怎么查", act("points")), roles=VOLUNTEER),
    conv("m-haolei-thanks", ("好嘞谢谢", says("不客气"))),
    conv("m-zaibuzai", ("在不在啊", says("请回复数字"))),
    conv("m-weiwei", ("喂喂", says("请回复数字"))),
    conv("m-hello-haircut", ("你好 请问你们这能理发吗", never("请回复数字"), draft(service="haircut"))),
    conv("m-avail-weekdays", ("周一到周五", avail("一二三四五", "全天")), **REG),
    conv("m-avail-sat-sun-am", ("周六周日上午都有空", avail("六日", "上午")), **REG),
    conv("m-avail-after-3", ("星期二下午三点以后", says("周二下午"), state(State.REG_TIMES)),
         ("是的", avail("二", "下午")),
         **REG),
    conv("m-avail-usually-weekend", ("一般周末有空", avail("六日", "全天")), **REG),
    conv("m-avail-holidays", ("节假日", no_avail, state(State.REG_TIMES)), **REG),
    conv("m-registration-yes-phone", ("注册志愿者",), ("李红梅",), ("2",), ("56岁", state(State.REG_ID)),
         phone="13811112222"),
]

# -- a third round (issue 15, item by item), written after an outside probe: phrasings the first two rounds lacked -----
LAST = {"last_address": "向阳新村9栋"}
HAIR = ("我要理发",)
ROUND3_TIMES: list[Conv] = [  # 1. times as people say them: dialect days and parts, 俩钟头, "now" said alone
    conv("r3-t-xiazhou-four", ("想找人来修下灯泡",), ("今天下昼四点", when(0, (16, 16)))),
    conv("r3-t-shangwutou", HAIR, ("晌午头吧", when(0, (11, 12)))),
    conv("r3-t-lia-zhongtou", ("帮我修个水龙头",), ("过俩钟头", when(0, (12, 12)))),
    conv("r3-t-jinge-pm3", HAIR, ("今个下午三点", when(0, (15, 15)))),
    conv("r3-t-asap-oneshot", ("厕所堵了快点来人通一下越快越好向阳新村3栋13800138000", urgent, never(PAST),
                               draft_lacks("details", "快点", "越快越好"))),
    conv("r3-t-daihuir", HAIR, ("待会儿吧", urgent)),
    conv("r3-t-jinwan-8", HAIR, ("今晚八点", when(0, (20, 20)))),
    conv("r3-t-noon-half", HAIR, ("中午十二点半", when(0, (12, 12), 30))),
    conv("r3-t-pm-two-ish", HAIR, ("下午两点左右", when(0, (14, 14)))),
    conv("r3-t-past-today-am", HAIR, ("今早", never(PAST), says_any("今天", "明天")), at="15:00"),
    conv("r3-t-mingzao-8", HAIR, ("明早八点", when(1, (8, 8)))),
    conv("r3-t-yige-zhong-hou", HAIR, ("一个钟后", when(0, (11, 11)))),
    conv("r3-t-mingge-pm", HAIR, ("明个下午", when(1, (13, 13)))),
    conv("r3-t-houerge-am", HAIR, ("后儿个上午", when(2, (8, 8)))),
    conv("r3-t-jinr-shangwu", HAIR, ("今儿晌午", when(0, (11, 12)))),
    conv("r3-t-sandian-laizhong", HAIR, ("下午三点来钟", when(0, (15, 15)))),
    conv("r3-t-sandian-duo", HAIR, ("下午三点多", when(0, (15, 15)))),
    conv("r3-t-libai3-zaoshang", HAIR, ("礼拜三早上", when(2, (7, 7)))),
    conv("r3-t-xia-libai2-pm", HAIR, ("下个礼拜二下午", when(8, (13, 13)))),
    conv("r3-t-dengxia", HAIR, ("等下", urgent)),
    conv("r3-t-yihuir-jiulai", HAIR, ("一会儿就来", urgent)),
    conv("r3-t-xianzai", HAIR, ("现在", urgent)),
    conv("r3-t-kuaidian", HAIR, ("快点", urgent)),
    conv("r3-t-neng-jintian", HAIR, ("能不能今天来", when(0), never(PAST))),
    conv("r3-t-shidian-zhong", HAIR, ("十点钟", when(0, (10, 10))), at="08:00"),
    conv("r3-t-930-colon", HAIR, ("明天上午9:30", when(1, (9, 9), 30))),
    conv("r3-t-9ban-zuoyou", HAIR, ("明天9点半左右", when(1, (9, 9), 30))),
    conv("r3-t-zhe-libai6", HAIR, ("这礼拜六", when(5))),
    conv("r3-t-past-three", HAIR, ("今天下午三点", never(PAST), says("已经过")), at="16:00"),
    conv("r3-t-guo-yige-zhongtou", HAIR, ("过一个钟头", when(0, (11, 11)))),
    conv("r3-t-zao-730-past", HAIR, ("早上七点半", never(PAST)), at="08:00"),
    conv("r3-t-between", HAIR, ("上午十点到十一点之间", when(0, (10, 10))), at="08:00"),
    conv("r3-t-xingqi5-pm-ba", HAIR, ("星期五下午吧", when(4, (13, 13)))),
    conv("r3-t-wan-6ban-yihou", HAIR, ("晚上六点半以后", when(0, (18, 18), 30))),
    conv("r3-t-not-now-inside", ("我现在一个人住 想找人明天上午来打扫一下", when(1, (8, 8)))),
    conv("r3-t-past-noon-today", HAIR, ("今儿个中午", says_any("今天", "明天"), never(PAST)), at="14:00"),
    conv("r3-t-asap-window", ("水龙头坏了 尽快来修 幸福小区3栋 13800138000", urgent),
         ("好的", act("submit_order", time_kind="asap"))),
    conv("r3-t-xiawu-zaodian", HAIR, ("下午早点吧", when(0, (13, 13)))),
    conv("r3-t-one-hour-later", HAIR, ("一个小时后来", when(0, (11, 11)))),
    conv("r3-t-mingtian-bangwan", HAIR, ("明天傍晚", when(1, (17, 17)))),
    conv("r3-t-houtian-zhongwu", HAIR, ("后天中午十二点", when(2, (12, 12)))),
    conv("r3-t-zhouwu-9", HAIR, ("周五早上9点", when(4, (9, 9)))),
    conv("r3-t-28hao", HAIR, ("28号上午", when(5, (8, 8)))),
    conv("r3-t-dec-1", HAIR, ("12月1号下午", when(8, (13, 13)))),
    conv("r3-t-zhoumo", HAIR, ("周末吧", when(5))),
    conv("r3-t-xia-zhoumo-am", HAIR, ("下周末上午", when(12, (8, 8)))),
    conv("r3-t-zhoumo-runon", ("我周末有空 想找人来家里打扫一下 幸福小区3栋", draft(service="housekeeping"), when(5))),
    conv("r3-t-houri", HAIR, ("后日下昼", when(2, (13, 13)))),
    conv("r3-t-mingzhao", HAIR, ("明朝上昼九点", when(1, (9, 9)))),
    conv("r3-t-shenme-shihou", HAIR, ("啥时候都行", urgent)),
    conv("r3-e-jinwan-at-21", HAIR, ("今晚", never(PAST)), at="21:00"),
    conv("r3-e-jinwan-at-2130", HAIR, ("今晚", never(PAST), says_any("明天", "今天")), at="21:30"),
    conv("r3-e-hour-at-2330", HAIR, ("一个钟头以后", never(PAST)), at="23:30"),
    conv("r3-e-xiawu-at-1730", HAIR, ("今天下午", never(PAST)), at="17:30"),
    conv("r3-e-shangwu-at-1130", HAIR, ("上午", never(PAST)), at="11:30"),
    conv("r3-e-zhongwu-at-1230", HAIR, ("中午", never(PAST)), at="12:30"),
    conv("r3-e-now-at-22", HAIR, ("马上", urgent), at="22:00"),
    conv("r3-e-8dian-at-9", HAIR, ("8点", never(PAST)), at="09:00"),
    conv("r3-e-jiudian-at-10", HAIR, ("九点", never(PAST)), at="10:00"),
    conv("r3-e-xiawu2-at-15", HAIR, ("下午两点", never(PAST)), at="15:00"),
    conv("r3-e-past-pick-2", HAIR, ("今天上午十点", says("现在已经过了")), ("明天吧", when(1, (10, 10))), at="15:00"),
    conv("r3-e-past-pick-other", HAIR, ("今天上午十点",), ("那就下午四点", when(0, (16, 16))), at="15:00"),
]
ROUND3_CORRECTIONS: list[Conv] = [  # 2. corrections and run-on slots
    conv("r3-c-addr-nospace", TO_CONFIRM, ("地址不对应该是阳光花园8栋3单元", draft(address="阳光花园8栋3单元"))),
    conv("r3-c-phone-typed-wrong", TO_CONFIRM, ("电话打错了 13512345678", draft(phone="13512345678"))),
    conv("r3-c-time-houtian-10", TO_CONFIRM, ("时间改到后天上午十点", when(2, (10, 10), 0))),
    conv("r3-c-not-am-pm3", TO_CONFIRM, ("不是上午是下午三点", when(1, (15, 15)))),
    conv("r3-c-runon-escort", ("喂 我想找人陪我去医院看病 后天上午八点 我住和平里小区5号楼3门 电话13698765432",
                               draft(address="和平里小区5号楼3门", phone="13698765432"), when(2, (8, 8)),
                               draft_lacks("details", "住", "和平里", "电话"))),
    conv("r3-c-same-yiqian", HAIR, ("明天上午",), ("地址跟以前一样", says("向阳新村9栋")),
         ("对", draft(address="向阳新村9栋")), ctx=LAST),
    conv("r3-c-phone-spoken", TO_CONFIRM, ("手机号不对 是一三八零零零零二二二二", draft(phone="13800002222"))),
    conv("r3-c-addr-typo-zhi", TO_CONFIRM, ("地扯错了 是幸福小区6栋", draft(address="幸福小区6栋"))),
    conv("r3-c-phone-gaixia", TO_CONFIRM, ("改下电话13612345678", draft(phone="13612345678"))),
    conv("r3-c-time-mingtian-bu", TO_CONFIRM, ("明天没空 换成周五下午", when(4, (13, 13)))),
    conv("r3-c-addr-nospace-601", TO_CONFIRM,
         ("地址写错了是幸福小区3栋2单元601", draft(address="幸福小区3栋2单元601"))),
    conv("r3-c-phone-bushi", TO_CONFIRM, ("电话号是13812345678不是那个", draft(phone="13812345678"))),
    conv("r3-c-haoma-gai", TO_CONFIRM, ("号码改一下 13712345678", draft(phone="13712345678"))),
    conv("r3-c-time-wrong-houtian", TO_CONFIRM, ("时间错了后天", when(2))),
    conv("r3-c-not-houtian", ("后天上午来帮我理发 幸福小区3栋 13800138000",),
         ("不是后天是明天下午", when(1, (13, 13)))),
    conv("r3-c-menpai-602", TO_CONFIRM, ("门牌号是602", draft(address="幸福小区3栋602"))),
    conv("r3-c-phone-labelled", TO_CONFIRM, ("电话：13912345678", draft(phone="13912345678"))),
    conv("r3-c-addr-labelled-in-time-q", ("我要理发",), ("地址是向阳新村2栋", draft(address="向阳新村2栋"),
                                                         state(State.ORDER_TIME))),
    conv("r3-c-ba-addr", TO_CONFIRM, ("把地址改成向阳新村8栋", draft(address="向阳新村8栋"))),
    conv("r3-c-daughter", TO_CONFIRM, ("地址换成我女儿家 阳光花园5栋", draft(address="阳光花园5栋"))),
    conv("r3-c-runon-live-first", ("我是幸福小区3栋的想找人帮我打扫卫生明天上午来吧电话13812345678",
                                   draft(service="housekeeping", address="幸福小区3栋", phone="13812345678"),
                                   when(1, (8, 8)))),
    conv("r3-c-runon-mother", ("麻烦帮我妈理个发她腿脚不好 住光明小区6栋1单元 周六上午",
                               draft(service="haircut", address="光明小区6栋1单元"), when(5, (8, 8)),
                               draft_lacks("details", "光明", "周六"))),
    conv("r3-c-same-place", HAIR, ("明天上午",), ("跟上次一样的地方", says("向阳新村9栋")),
         ("是的", draft(address="向阳新村9栋")), ctx=LAST),
    conv("r3-c-lao-dizhi", HAIR, ("明天上午",), ("老地址", says("向阳新村9栋")), ("对", draft(address="向阳新村9栋")),
         ctx=LAST),
    conv("r3-c-time-gai-xiawu3", TO_CONFIRM, ("改成下午三点吧", when(1, (15, 15)))),
    conv("r3-c-phone-in-addr", HAIR, ("明天上午",), ("电话号码错了应该是13912345678", draft(phone="13912345678"),
                                                     state(State.ORDER_ADDRESS))),
    conv("r3-c-time-in-addr", ("明天上午帮我理发",), ("时间不对 改后天", when(2), state(State.ORDER_ADDRESS))),
    conv("r3-c-village-group", ("王家村3组15号 想找人帮忙打扫 明天上午", draft(address="王家村3组15号"),
                                when(1, (8, 8)))),
    conv("r3-c-sub-area", ("我住东风小区北区5栋 后天上午陪我去医院", draft(address="东风小区北区5栋", service="escort"),
                           draft_lacks("details", "北区"))),
    conv("r3-c-label-space", ("帮我修下马桶 地址 阳光花园 7-2-301 明天上午", draft(address="阳光花园 7-2-301"),
                              draft_lacks("details", "地址"))),
    conv("r3-c-street-lane", HAIR, ("明天上午",), ("红旗街道长青里14号楼", draft(address="红旗街道长青里14号楼"))),
    conv("r3-c-phase-block", HAIR, ("明天上午",), ("翠苑三期5栋", draft(address="翠苑三期5栋"))),
    conv("r3-c-runon-approx", ("明天上午那个十点左右吧来帮我看一下电视我住在光明小区5号楼501电话一三九零零零零一一一一",
                               draft(address="光明小区5号楼501", phone="13900001111"), when(1, (10, 10)),
                               draft_lacks("details", "左右", "吧", "住在", "光明"))),
    conv("r3-c-runon-labels", ("帮我家老人理个发，地址：向阳新村5栋3单元101，时间：周六上午，电话：13800001111",
                               draft(address="向阳新村5栋3单元101", phone="13800001111"), when(5, (8, 8)),
                               draft_lacks("details", "时间", "地址", "电话", "：", "，"))),
    conv("r3-c-runon-duxing", ("我妈腿脚不好想请人上门理个发 周六上午都行 地址幸福小区8栋1单元202",
                               draft(address="幸福小区8栋1单元202"), when(5, (8, 8)),
                               draft_lacks("details", "都行", "周六", "地址"))),
    conv("r3-c-runon-youkong", ("水龙头一直漏水 今天下午有空 幸福小区3栋 电话13800138000 麻烦了",
                                draft(service="repair", phone="13800138000"), when(0, (13, 13)),
                                draft_lacks("details", "有空", "麻烦"))),
    conv("r3-c-runon-songdao", ("嗯 你好 就是 我想订一下那个老年餐 明天中午送到幸福小区9栋 谢谢",
                                draft(service="meals", address="幸福小区9栋"), when(1, (11, 12)),
                                draft_lacks("details", "送到", "谢谢", "你好"))),
    conv("r3-c-runon-asap-lai", ("家里灯泡坏了够不着 尽快来 幸福小区6栋 电话13800138000", urgent,
                                 draft(details="家里灯泡坏了够不着"))),
    conv("r3-c-runon-we-live", ("我老伴要去医院复查 后天早上七点 人民医院 我们住幸福小区2栋",
                                draft(address="幸福小区2栋", service="escort"), when(2, (7, 7)),
                                draft_lacks("details", "我们", "幸福"))),
]
R3_YES = ["嗯嗯好的", "中", "要得", "莫得问题", "对对 就这样", "嗯呢", "对滴", "是嘞", "好滴好滴", "可以噻", "没得问题",
          "要得要得", "妥了", "OK", "好👍", "确认确认", "嗯 可以", "对的没错"]
R3_CANCEL = ["不弄了不弄了", "不要啦", "算了下次吧", "不了不了", "先不要了", "不弄咯", "算啦", "不用啦谢谢",
             "暂时不要了"]
ROUND3_COMMANDS: list[Conv] = [  # 3. yes, no, cancel, status, people, points, small talk
    *(conv(f"r3-y-{i}", TO_CONFIRM, (word, act("submit_order"))) for i, word in enumerate(R3_YES)),
    *(conv(f"r3-n-{i}", TO_CONFIRM, (word, no_act("submit_order"), state(State.IDLE)))
      for i, word in enumerate(R3_CANCEL)),
    conv("r3-o-repair-wobuyao", ("那个修水管的单子我不要了", says("21")), ("嗯", act("cancel_order", order=21)),
         ctx={"open_orders": REPAIR}),
    conv("r3-o-cancel-9-yixia", ("取消一下9号单", act("cancel_order", order=9))),
    conv("r3-o-8-de", ("取消8号的单子", act("cancel_order", order=8))),
    conv("r3-o-8-dan-no", ("8号单不要了", act("cancel_order", order=8))),
    conv("r3-o-che-8", ("撤了吧 8号", act("cancel_order", order=8))),
    conv("r3-s-di-danzi", ("我滴单子咋样了", act("my_orders"))),
    conv("r3-s-meiren", ("我的单有人接没", act("my_orders"))),
    conv("r3-s-jidian", ("师傅几点到啊", act("my_orders"))),
    conv("r3-s-shashi", ("啥时候来人啊", act("my_orders"))),
    conv("r3-p-zhuan-ge", ("帮我转个人工", act("human_handover"))),
    conv("r3-p-renggong-kefu", ("有没有人工客服", act("human_handover"))),
    conv("r3-p-shequ-ren", ("我要找社区的人", act("human_handover"))),
    conv("r3-p-rg-rg", ("人工人工", act("human_handover"))),
    conv("r3-p-jiao-ge-ren", ("叫个人来跟我说", act("human_handover"))),
    conv("r3-pt-sheng-ji-fen", ("我还剩几分", act("points")), roles=VOLUNTEER),
    conv("r3-pt-duoshao-le", ("我积分多少了", act("points")), roles=VOLUNTEER),
    conv("r3-pt-sheng", ("积分还剩多少", act("points")), roles=VOLUNTEER),
    conv("r3-st-xiele", ("谢了", says("不客气"))),
    conv("r3-st-shei-ya", ("你是谁呀", says("小助手"))),
    conv("r3-st-xinku-la", ("谢谢你们啊辛苦了", says("不客气"))),
    conv("r3-st-xxzs", ("谢谢小助手", says("不客气"))),
    conv("r3-st-robot-bu", ("你是机器人不", says("小助手"))),
    conv("r3-st-jiaosha", ("你叫啥", says("小助手"))),
    conv("r3-o-also", ("理发那个单子也不要了", says("哪一个")), ("2", act("cancel_order", order=9)),
         ctx={"open_orders": HAIRCUTS}),
    conv("r3-o-no-number", ("取消订单", not_ordering, no_act("submit_order"))),
    conv("r3-s-haircut-when", ("我订的理发什么时候来", act("my_orders"), not_ordering)),
    conv("r3-s-paidan", ("派单了没有", act("my_orders"))),
    conv("r3-st-newbie", ("你好 我是新来的", says("请回复数字"))),
    conv("r3-st-zaoshanghao-a", ("早上好啊", says("请回复数字"))),
    conv("r3-st-which-unit", ("你们是哪个单位的", says("雷锋超市"))),
    conv("r3-st-thanks-shifu", ("谢谢师傅", says("不客气"))),
    conv("r3-y-xing-ba", TO_CONFIRM, ("行吧", act("submit_order"))),
    conv("r3-y-ok-thx", TO_CONFIRM, ("ok谢谢", act("submit_order"))),
    conv("r3-y-dui-mei-wenti", TO_CONFIRM, ("对 没问题 提交吧", act("submit_order"))),
    conv("r3-n-wo-zai-xiang", TO_CONFIRM, ("算了 我再想想", no_act("submit_order"), state(State.IDLE))),
    conv("r3-k-ganxie-ni-men", ("太感谢你们了", says("不客气"))),
    conv("r3-k-xiexie-la", ("谢谢啦", says("不客气"))),
    conv("r3-k-xiexie-nin", ("谢谢您嘞", says("不客气"))),
    conv("r3-k-duo-xie", ("多谢了", says("不客气"))),
    conv("r3-k-ni-shi-sha", ("你是啥", says("小助手"))),
    conv("r3-k-ni-shi-shui-a", ("请问你是谁啊", says("小助手"))),
    conv("r3-k-zhe-shi-sha", ("这是干啥的", says("小助手"))),
    conv("r3-k-jiqiren-ma", ("是机器人吗", says("小助手"))),
    conv("r3-k-zhenren", ("你是真人吗", says("小助手"))),
    conv("r3-k-haode-xiexie", ("好的谢谢", says("不客气"))),
    conv("r3-k-bye-la", ("拜拜啦", says("再见"))),
    conv("r3-k-mingbai", ("明白了", not_ordering)),
    conv("r3-k-zhidao-le", ("知道了谢谢", not_ordering)),
    conv("r3-k-s-zenme-hai-mei", ("咋还没人来", act("my_orders"))),
    conv("r3-k-s-dingdan-ne", ("订单呢", act("my_orders"))),
    conv("r3-k-s-jieguo", ("我那个单子有结果没", act("my_orders"))),
    conv("r3-k-p-rengong-fuwu", ("我要人工服务", act("human_handover"))),
    conv("r3-k-p-dadianhua", ("能打电话给我吗", not_ordering)),
    conv("r3-k-pt-wode-fen", ("查下我的分", act("points")), roles=VOLUNTEER),
    conv("r3-k-pt-jifen-ji", ("积分有几分了", act("points")), roles=VOLUNTEER),
    conv("r3-n-buyongle-xiexie-ni", TO_CONFIRM, ("不用了 谢谢你啊", no_act("submit_order"), state(State.IDLE))),
]
ROUND3_AVAILABILITY: list[Conv] = [  # 5. registration keeps what was said
    conv("r3-a-weekday-am-dekong", ("周一到周五上午都得空", avail("一二三四五", "上午")), **REG),
    conv("r3-a-gongzuori-wan", ("工作日晚上", avail("一二三四五", "晚上")), **REG),
    conv("r3-a-weekend-yizheng", ("周末一整天", avail("六日", "全天")), **REG),
    conv("r3-a-pingshi-wan", ("平时晚上", avail("一二三四五", "晚上")), **REG),
    conv("r3-a-135-pm", ("星期一三五下午", avail("一三五", "下午")), **REG),
    conv("r3-a-libai-liu-tian", ("礼拜六礼拜天全天", avail("六日", "全天")), **REG),
    conv("r3-a-135-wan", ("周一周三周五晚上", avail("一三五", "晚上")), **REG),
    conv("r3-a-24-pm", ("每周二四下午", avail("二四", "下午")), **REG),
    conv("r3-a-6am-7all", ("周六上午周日全天", avail("六", "上午", ("日", "全天"))), **REG),
    conv("r3-a-except-2", ("除了周二 其他都行", avail("一三四五六日", "全天")), **REG),
    conv("r3-a-xiaban", ("工作日下班后", avail("一二三四五", "晚上")), **REG),
    conv("r3-a-weekend-suishi", ("周末随时", avail("六日", "全天")), **REG),
    conv("r3-a-weekend-dexian", ("周末得闲", avail("六日", "全天")), **REG),
    conv("r3-a-holiday", ("节假日全天", no_avail, state(State.REG_TIMES)), **REG),
    conv("r3-a-weekday-ampm", ("周一到周五 上午下午都行", avail("一二三四五", "上午", ("一二三四五", "下午"))), **REG),
    conv("r3-a-24-all", ("周二 周四 全天", avail("二四", "全天")), **REG),
    conv("r3-a-eve-all", ("晚上都有空", avail("一二三四五六日", "晚上")), **REG),
    conv("r3-a-combo", ("周末上午 平时晚上", avail("六日", "上午", ("一二三四五", "晚上"))), **REG),
    conv("r3-a-xingqi-range", ("星期一到星期三下午", avail("一二三", "下午")), **REG),
    conv("r3-a-day-list-spaces", ("每周一 三 五", avail("一三五", "全天")), **REG),
    conv("r3-a-day-list-dun", ("周一、三、五上午", avail("一三五", "上午")), **REG),
    conv("r3-a-pingri-wan", ("平日晚上", avail("一二三四五", "晚上")), **REG),
    conv("r3-a-xiaban-yihou", ("工作日下班以后", avail("一二三四五", "晚上")), **REG),
    conv("r3-a-retired", ("退休了天天都有空", avail("一二三四五六日", "全天")), **REG),
    conv("r3-a-one-whole-day", ("周三一天都行", avail("三", "全天")), **REG),
    conv("r3-a-sunday-whole", ("星期天 一整天", avail("日", "全天")), **REG),
    conv("r3-a-clock-not-a-day", ("周五 三点以后", says("周五全天", "没听懂"), no_avail, state(State.REG_TIMES)),
         **REG),
]

# Registration at the team question, with the hub's own teams (what the edge puts in ctx.teams).
REG_AT_TEAM = {"state": State.REG_TEAM, "slots": {**REG_AT_TIMES, "reg": {
    **REG_AT_TIMES["reg"], "skills": ["repair"], "availability": [], "phone": "13811112222"}}}
HUB_TEAMS = {"teams": ({"code": "hair", "name": "阳光理发队", "services": ("haircut",)},
                       {"code": "fix", "name": "阳光维修队", "services": ("repair",)})}
TEAMS: list[Conv] = [
    conv("team-hub-own", ("1", says("同意"), state(State.REG_CONSENT)), ctx=HUB_TEAMS, **REG_AT_TEAM),
    conv("team-hub-saved", ("1",), ("同意", says("阳光维修队")), ctx=HUB_TEAMS, **REG_AT_TEAM),
    conv("team-hub-by-name", ("阳光维修队", state(State.REG_CONSENT)), ("同意", says("8 服务队：阳光维修队")),
         ctx=HUB_TEAMS, **REG_AT_TEAM),
    conv("team-any", ("0",), ("同意", says("不限")), ctx=HUB_TEAMS, **REG_AT_TEAM),
    conv("team-catalogue-without-hub", ("1",), ("同意", says("水电维修服务队")), **REG_AT_TEAM),
]

ROUND3_TEAMS: list[Conv] = [  # 5. the hub's own team, named by a part of its name
    conv("r3-team-by-short", ("维修队吧", state(State.REG_CONSENT)), ("同意", says("阳光维修队")), ctx=HUB_TEAMS,
         **REG_AT_TEAM),
    conv("r3-team-join-words", ("我要加入维修的那个", state(State.REG_CONSENT)), ("同意", says("阳光维修队")),
         ctx=HUB_TEAMS, **REG_AT_TEAM),
]
R3_RATING = {"state": State.RATE, "slots": {"rate_order": 31}}
ROUND3_OFFERS: list[Conv] = [  # 2./3. what was offered (the last address, the phone on file), taken in many words
    conv("r3-f-offer-duitou", HAIR, ("明天上午",), ("跟上次一样",), ("对头", draft(address="向阳新村9栋")), ctx=LAST),
    conv("r3-f-offer-jiu-na", HAIR, ("明天上午",), ("老地方",), ("嗯 就那", draft(address="向阳新村9栋")), ctx=LAST),
    conv("r3-f-offer-yuanlai", HAIR, ("明天上午",), ("还是原来的地址",), ("是的", draft(address="向阳新村9栋")),
         ctx=LAST),
    conv("r3-f-offer-no-new", HAIR, ("明天上午",), ("老地方",),
         ("不是 搬家了 现在住幸福小区2栋", draft(address="幸福小区2栋")), ctx=LAST),
    conv("r3-f-phone-jiu-zhe", ("明天上午来幸福小区3栋帮我理发",), ("嗯 就这个号", draft(phone="13811112222")),
         phone="13811112222"),
    conv("r3-f-phone-yong-zhe", ("明天上午来幸福小区3栋帮我理发",), ("用这个吧", draft(phone="13811112222")),
         phone="13811112222"),
    conv("r3-f-phone-other", ("明天上午来幸福小区3栋帮我理发",),
         ("不用这个 换成13912345678", draft(phone="13912345678")), phone="13811112222"),
    conv("r3-f-rate-manyi-de", ("很满意 谢谢你们", act("rate", order=31)), **R3_RATING),
    conv("r3-f-rate-5", ("5分", act("rate", order=31, hearts=5)), **R3_RATING),
    conv("r3-f-rate-yiban", ("一般般吧", act("rate", order=31)), **R3_RATING),
    conv("r3-f-rate-bad", ("不满意 来晚了", act("rate", order=31)), **R3_RATING),
    conv("r3-f-details-q", ("我要找人帮忙",), ("帮我换个灯泡", draft(service="repair"))),
    conv("r3-f-service-q-number", ("1",), ("2", state(State.ORDER_SERVICE, State.ORDER_TIME, State.ORDER_DETAILS))),
    conv("r3-f-clarify-pick-name", ("帮我修下灯",), ("维修", draft(service="repair"))),
]
R3_LEGAL = ({"id": 30, "service": "legal", "when": "11月25日(周三) 10:00"},)
ROUND3_CANCELS: list[Conv] = [  # 3. calling off an order by what it was for, by its day, or the one being made
    conv("r3-g-legal-no", ("法律那个不要了", not_ordering, no_act("submit_order")), ctx={"open_orders": R3_LEGAL}),
    conv("r3-g-legal-no-unknown", ("法律咨询那个不要了", not_ordering)),
    conv("r3-g-repair-buyongle", ("修水管的不用来了",), ("对", act("cancel_order", order=21)),
         ctx={"open_orders": REPAIR}),
    conv("r3-g-haircut-mingtian", ("明天那个理发的取消", says("4")), ("对的", act("cancel_order", order=4)),
         ctx={"open_orders": HAIRCUTS}),
    conv("r3-g-haircut-zhouliu", ("取消周六的理发", says("9")), ("嗯", act("cancel_order", order=9)),
         ctx={"open_orders": HAIRCUTS}),
    conv("r3-g-all-haircuts", ("理发的都不要了", says("哪一个")), ctx={"open_orders": HAIRCUTS}),
    conv("r3-g-cancel-mid-other", HAIR, ("明天上午",), ("修水管那个单子取消", says("21")), ctx={"open_orders": REPAIR}),
    conv("r3-g-buyao-zhege", TO_CONFIRM, ("这个不要了", no_act("submit_order"), state(State.IDLE))),
    conv("r3-g-bu-xiang-yao", TO_CONFIRM, ("不想要了", no_act("submit_order"), state(State.IDLE))),
    conv("r3-g-xian-bu-yong", ("我要理发",), ("先不用了", state(State.IDLE))),
    conv("r3-g-cancel-in-address", ("明天上午帮我理发",), ("算了算了不弄了", state(State.IDLE))),
    conv("r3-g-cancel-in-phone", ("明天上午来幸福小区3栋帮我理发",), ("不要了谢谢", state(State.IDLE))),
]
ROUND3_TYPED: list[Conv] = [  # 7. as typed: full-width digits, traditional characters, emoji, homophone typos
    conv("r3-d-fullwidth", HAIR, ("明天下午３点", when(1, (15, 15)))),
    conv("r3-d-trad", ("我想理髮",), ("明天上午十點", when(1, (10, 10)))),
    conv("r3-d-emoji", ("🙏🙏想找人修下水龙头🙏",), ("明天上午", when(1, (8, 8)))),
    conv("r3-d-typo-minggtian", HAIR, ("明天下五三点", when(1, (15, 15)))),
    conv("r3-d-typo-shangwu", HAIR, ("明天上五", when(1, (8, 8)))),
    conv("r3-d-liangdian-ban", HAIR, ("两点半", when(0, (14, 14), 30))),
    conv("r3-d-shier-dian", HAIR, ("中午12点", when(0, (12, 12)))),
    conv("r3-d-xiawu-4-dian-zuoyou", HAIR, ("下午4点钟左右吧", when(0, (16, 16)))),
    conv("r3-d-houtian-zaoshang-ba", HAIR, ("后天早上八点吧", when(2, (8, 8)))),
    conv("r3-d-zhou6-shangwu-10", HAIR, ("周六上午10点", when(5, (10, 10)))),
    conv("r3-d-time-then-addr", HAIR, ("明天上午 我住幸福小区3栋", when(1, (8, 8)), draft(address="幸福小区3栋"))),
    conv("r3-d-addr-phone-one", HAIR, ("明天上午",),
         ("幸福小区3栋 电话13800138000", draft(address="幸福小区3栋", phone="13800138000"))),
    conv("r3-d-addr-jiu", HAIR, ("明天上午",), ("就在幸福小区3栋2单元", draft(address="幸福小区3栋2单元"))),
    conv("r3-d-addr-road-num", HAIR, ("明天上午",), ("人民路123号", draft(address="人民路123号"))),
    conv("r3-d-phone-dashes", HAIR, ("明天上午",), ("幸福小区3栋",), ("138-0013-8000", draft(phone="13800138000"))),
    conv("r3-d-phone-spaces", HAIR, ("明天上午",), ("幸福小区3栋",), ("138 0013 8000", draft(phone="13800138000"))),
    conv("r3-d-phone-cn", HAIR, ("明天上午",), ("幸福小区3栋",),
         ("幺三八零零幺三八零零零", draft(phone="13800138000"))),
    conv("r3-d-yes-1-ge", TO_CONFIRM, ("1", act("submit_order"))),
    conv("r3-d-yes-fullwidth-1", TO_CONFIRM, ("１", act("submit_order"))),
    conv("r3-d-edit-2-then-time", TO_CONFIRM, ("2",), ("时间",), ("后天上午", when(2, (8, 8)))),
    conv("r3-d-cancel-0", TO_CONFIRM, ("0", state(State.IDLE))),
    conv("r3-d-service-only-then", ("修水管",), ("明天下午两点", when(1, (14, 14)))),
    conv("r3-d-menu-1-then", ("1",), ("理个头",), ("明天上午", when(1, (8, 8)))),
    conv("r3-d-menu-1-then-zan", ("1",), ("俺想剃个头",), ("明天上午", when(1, (8, 8)))),
    conv("r3-d-haircut-xiu", ("想修修头发",), ("明天上午", when(1, (8, 8)))),
    conv("r3-d-haircut-jianjian", ("头发太长了 想剪剪",), ("明天上午", when(1, (8, 8)))),
    conv("r3-d-xizao", ("老人想洗个澡 没人帮",), ("明天上午", when(1, (8, 8)))),
    conv("r3-d-liaotian", ("想找人聊个天",), ("明天下午", when(1, (13, 13)))),
    conv("r3-d-st-haha", ("哈哈", not_ordering)),
    conv("r3-d-st-ok-emoji", ("👌", not_ordering)),
    conv("r3-d-st-xiexie-emoji", ("谢谢🌹", says("不客气"))),
    conv("r3-d-status-trad", ("我的訂單", act("my_orders"))),
    conv("r3-d-human-trad", ("轉人工", act("human_handover"))),
    conv("r3-d-cancel-space-num", ("取消 订单 7", act("cancel_order", order=7))),
    conv("r3-d-cancel-di", ("取消第7号订单", act("cancel_order", order=7))),
    conv("r3-d-v-jiedan-fw", ("接单１２", act("accept", order=12)), roles=VOLUNTEER),
    conv("r3-d-v-complete-fw", ("完成１２ ２", act("complete", order=12, hours=2.0)), roles=VOLUNTEER),
]
ROUND3_WHOLE: list[Conv] = [  # 7. whole conversations as voice transcripts and dialect, start to end
    conv("r3-w-laotouzi", ("喂喂 你好 我家老头子腿脚不方便 想请个人上门给他理个发 明天下午三点 光明小区2栋401 "
                           "电话13700001111",
                           draft(service="haircut", address="光明小区2栋401", phone="13700001111"), when(1, (15, 15)),
                           state(State.ORDER_CONFIRM)), ("对的对的", act("submit_order"))),
    conv("r3-w-pipe-drip", ("卫生间水管裂了在滴水能派个师傅来吗急", no_act("emergency"), draft(service="repair"),
                            urgent)),
    conv("r3-w-an-titou", ("俺想剃个头",), ("明儿个上午九点", when(1, (9, 9))), ("幸福小区3栋",), ("13800138000",),
         ("中", act("submit_order", service="haircut"))),
    conv("r3-w-flood-stays", ("我家水管爆了水漫得满地都是", act("emergency"))),
    conv("r3-w-wiring-stays", ("水管爆了一直滴水 滴到插座上了", act("emergency"))),
    conv("r3-w-alagua", ("阿拉姆妈想剪个头发后天下午", draft(service="haircut"), when(2, (13, 13)))),
    conv("r3-w-laotaitai", ("喂 那个 我想问一下 明天能不能来个人给我家老太太剪剪头发 我们住在幸福小区7栋3单元",
                            draft(service="haircut", address="幸福小区7栋3单元"), when(1),
                            draft_lacks("details", "住在", "幸福"))),
    conv("r3-w-aircon", ("帮我叫个师傅来看下空调 不制冷了 今天下午有空", draft(service="repair"), when(0, (13, 13)))),
    conv("r3-w-toilet-phone", ("我们家马桶堵了 麻烦明天早上派个人 电话是一三九一二三四五六七八",
                               draft(service="repair", phone="13912345678"), when(1, (7, 7)))),
    conv("r3-w-lock", ("明天上午九点钟 来修下门锁 地址是向阳新村12栋", draft(service="repair", address="向阳新村12栋"),
                       when(1, (9, 9)))),
    conv("r3-w-escort", ("要个人陪我去医院 周三 早上七点半 挂号", draft(service="escort"), when(2, (7, 7), 30))),
    conv("r3-w-proxy-laoniang", ("帮我老娘下个单", state(State.PROXY_NAME)), ("张桂兰",), ("13900002222",),
         ("她想理个头",), ("明儿个上午",), ("幸福小区4栋",), ("不用了",),
         ("要得", act("submit_order", service="haircut"))),
    conv("r3-w-proxy-jia-laoren", ("帮我家老人下个单", state(State.PROXY_NAME))),
    conv("r3-w-proxy-yue", ("帮我奶奶约一下", state(State.PROXY_NAME))),
    conv("r3-w-zan-ligetou", ("咱想理个头 明天上午十点 幸福小区5栋 13800138000", draft(service="haircut"),
                              when(1, (10, 10)), state(State.ORDER_CONFIRM)), ("要得", act("submit_order"))),
]

TUNED: list[Conv] = [*TIMES, *CORRECTIONS, *COMMANDS, *AVAILABILITY, *FLOWS, *MORE, *TEAMS, *ROUND3_TIMES,
                     *ROUND3_CORRECTIONS, *ROUND3_COMMANDS, *ROUND3_AVAILABILITY, *ROUND3_TEAMS, *ROUND3_WHOLE,
                     *ROUND3_TYPED, *ROUND3_OFFERS, *ROUND3_CANCELS]

# outside tester 2026-12-02 (H): the findings of /tmp/outside/report.md about cancels, menu words mid-dialogue,
# emergency follow-ups, status questions, ratings and small talk, each as the tester wrote it.
_H_ONE_MEAL = {"open_orders": ({"id": 423476, "service": "meals", "when": "12月3日(周四) 08:00-12:00"},)}
_H_NONE = {"open_orders": ()}
_H_RATE_DONE = {"state": State.RATE_COMMENT, "slots": {"rate_order": 31, "rated": 4}}
OUTSIDE_H: list[Conv] = [
    # 2. "取消订单" without a number said 「好的，已取消。」 and cancelled nothing; "不要了 取消吧" found nothing to
    # cancel
    conv("oh-quxiao-dingdan-one", ("取消订单", says("423476"), never("已取消"), state(State.CANCEL_PICK)),
         ("1", act("cancel_order", order=423476)), ctx=_H_ONE_MEAL),
    conv("oh-buyaole-quxiaoba-one", ("不要了 取消吧", says("423476"), state(State.CANCEL_PICK)),
         ("对", act("cancel_order", order=423476)), ctx=_H_ONE_MEAL),
    conv("oh-quxiao-after-menu-1", ("1", state(State.ORDER_SERVICE)),
         ("取消订单", says("423476"), never("已取消"), state(State.CANCEL_PICK)), ctx=_H_ONE_MEAL),
    conv("oh-quxiao-dingdan-none", ("取消订单", says("没有"), never("已取消"), no_act()), ctx=_H_NONE),
    conv("oh-quxiao-dingdan-two", ("取消订单", says("4", "9", "哪一个"), state(State.CANCEL_PICK)),
         ("2", act("cancel_order", order=9)), ctx={"open_orders": HAIRCUTS}),
    conv("oh-quxiao-draft-truthful", ("我想理发 明天上午十点",), ("取消", says("没有提交"), state(State.IDLE),
                                                            no_act("cancel_order")), ctx=_H_NONE),
    # 6. a menu word mid-dialogue kept (and said it kept) the half-made order or registration
    conv("oh-my-orders-mid-order", ("我想理发 明天上午十点", state(State.ORDER_ADDRESS)),
         ("我的订单", act("my_orders"), act("note"), state(State.ORDER_ADDRESS)),
         ("幸福小区3栋201", state(State.ORDER_PHONE))),
    conv("oh-haircut-status-mid-order", ("我想找人礼发 明天下午三点", state(State.ORDER_ADDRESS)),
         ("我那个剪头发的单子有人接了没", act("my_orders"), state(State.ORDER_ADDRESS))),
    conv("oh-points-mid-registration", ("积分", act("points"), act("note"), state(State.REG_TIMES)), **REG),
    conv("oh-tasks-mid-registration", ("有什么任务", state(State.REG_TIMES), says("报名")), **REG),
    # 7. what is said right after an emergency answer gets care, the number again and "staff were told"
    conv("oh-after-fall-zanban", ("我想找人来打扫卫生",), ("明天上午",), ("哎呀我老伴摔了起不来了", act("emergency")),
         ("那现在咋办啊", says("120", "值班"), never("帮不上忙"), not_ordering, act("emergency_followup"))),
    conv("oh-after-fire-scared", ("不好了厨房着火了 锅里的油烧起来了", act("emergency")),
         ("火灭了 吓死我了", says("119", "值班"), never("帮不上忙"), not_ordering)),
    conv("oh-after-selfharm-son", ("活着也没啥意思了 不想活了", act("emergency")),
         ("我儿子也不来看我", says("12356"), not_ordering, never("什么时间"))),
    conv("oh-alert-has-draft-phone", ("帮我修水管 幸福小区3栋201 电话13912345678",),
         ("哎呀我老伴摔了起不来了", act("emergency", phone="13912345678", address="幸福小区3栋201"))),
    # 8. questions about one's own order go to its status, never start a new order
    conv("oh-status-again-nobody", ("我那个理发的咋又没人了", act("my_orders"), not_ordering)),
    conv("oh-status-come-or-not", ("那到底还来不来啊", act("my_orders"), not_ordering)),
    conv("oh-status-when-come", ("啥时候来啊", act("my_orders"), not_ordering)),
    # 9. no rating inferred from praise: ask; "给他五颗心" is 5 hearts, not a comment
    conv("oh-rate-praise-asks", ("师傅来过了 修得挺好", no_act("rate"), state(State.RATE), says("0", "5")),
         ("给他五颗心", act("rate", order=31, hearts=5)), **RATING),
    conv("oh-rate-five-hearts", ("给他五颗心", act("rate", order=31, hearts=5)), **RATING),
    conv("oh-rate-haoping", ("好评", act("rate", order=31, hearts=5)), **RATING),
    conv("oh-rate-after-rated", ("给他五颗心", no_act("comment"), says("4颗心")), **_H_RATE_DONE),
    # also: thanks and praise get a warm answer; "要钱不" is answered, not ordered
    conv("oh-thanks-long", ("谢谢你们啊 你们真好 辛苦了", says("不客气"), never("帮不上忙"), not_ordering)),
    conv("oh-haode-haode", ("好的好的", never("帮不上忙"), not_ordering)),
    conv("oh-praise-volunteer", ("那个师傅人真好 下回还找他", never("帮不上忙"), not_ordering)),
    conv("oh-cost-haircut", ("理发要钱不", says("免费"), not_ordering)),
    conv("oh-cost-repair", ("修水管收费吗", says("免费"), not_ordering)),
]
TUNED.extend(OUTSIDE_H)
_H_AT_SKILLS = {"reg": {"source": "chat", "name": "王建国", "gender": "男", "age_said": 41, "birth": "1985-06-15",
                        "id_gender": "男", "id_masked": "110***********0014"}, "id_enc": "x", "id_hash": "y"}
OUTSIDE_H_MORE: list[Conv] = [  # outside tester 2026-12-02 (H), continued
    conv("oh-cost-with-request", ("我想理发 要钱吗", says("免费"), state(State.ORDER_TIME, State.ORDER_DETAILS))),
    conv("oh-selfharm-three-followups", ("不想活了",), ("我儿子也不来看我", says("12356")), ("没人管我", says("12356")),
         ("他们都忙", says("12356"))),
    conv("oh-fall-then-my-orders", ("我老伴摔倒了起不来", act("emergency")), ("我的订单", act("my_orders"))),
    conv("oh-reg-three-misses-still-asks", ("啊啊",), ("嗯嗯嗯",), ("哦哦哦", says("人工", "编号")),
         ("2", state(State.REG_TIMES)), state=State.REG_SKILLS, slots=_H_AT_SKILLS),
    conv("oh-pick-bu-quxiao", ("取消订单", state(State.CANCEL_PICK)), ("不取消", says("保留"), no_act()),
         ctx=_H_ONE_MEAL),
    conv("oh-pick-suanle", ("取消订单",), ("算了", says("保留"), no_act()), ctx=_H_ONE_MEAL),
    conv("oh-pick-buyaole-asks", ("取消订单",), ("不要了", state(State.CANCEL_PICK), no_act()),
         ("1", act("cancel_order")), ctx=_H_ONE_MEAL),
    conv("oh-what-do-you-do", ("那你们都能干些啥", says("小助手"), not_ordering)),
]
TUNED.extend(OUTSIDE_H_MORE)

# outside tester 2026-12-02 (F, the dialogue/intents parsers): addresses, corrections and times of
# /tmp/outside/report.md, each as the tester wrote it.
OUTSIDE_F: list[Conv] = [
    conv("f-out-r02-self-correct", ("家里灯不亮了",), ("今天下午吧 哦不对 明天上午", when(1, (8, 8)))),
    conv("f-out-r02-men", ("家里灯不亮了",), ("明天上午",),
         ("和平里小区12号楼1门402", draft(address="和平里小区12号楼1门402"))),
    conv("f-out-r04-not-8", ("我屋头水管子漏水了 你们喊个师傅来看一哈嘛",), ("要得 越快越好",),
         ("锦江小区8栋2单元101",), ("15800001111",),
         ("不对不对 地址说错了 是9栋不是8栋", draft(address="锦江小区9栋2单元101"))),
    conv("f-out-r05-zuo", ("唔该 我想搵人陪我去医院睇医生",), ("听日朝早九点",),
         ("翠苑小区3座12楼B", draft_has("address", "翠苑小区3座12楼"))),
    conv("f-out-r14-details", ("我给我妈点个单 她住在幸福小区6栋101 想找人陪她去医院复查 周五上午 她电话13800001111",
                               draft(address="幸福小区6栋101", phone="13800001111"),
                               draft_lacks("details", " 她 ", "她住"))),
    conv("f-out-r16-laoganbu", ("我想问问遗嘱咋写 能不能找个律师给咨询咨询",), ("不着急 下礼拜一上午吧",),
         ("我就在社区旁边的老干部楼2楼", draft(address="社区旁边的老干部楼2楼"))),
    conv("f-out-r19-at-phone", ("我想找人帮我理个发 下礼拜三下午 我住幸福小区8栋1单元101",),
         ("哎呀说错了 是18栋 不是8栋", draft(address="幸福小区18栋1单元101"), state(State.ORDER_PHONE))),
    conv("f-out-r21-time-at-addr", ("能给我送个饭不 中午的",),
         ("就明天中午", when(1, (11, 12)), state(State.ORDER_ADDRESS))),
    conv("f-out-chunhui", HAIR, ("明天上午",), ("春晖园1栋602", draft(address="春晖园1栋602"))),
    conv("f-out-laoganbu-unit", ("明天上午理发 老干部楼2单元301 电话13800000002", draft(address="老干部楼2单元301"))),
    conv("f-out-guangmingli", ("明天上午理发 光明里5号 电话13800000003", draft(address="光明里5号"))),
    conv("f-out-lijiacun", ("明天上午理发 李家村东头第三家 电话13800000004", draft(address="李家村东头第三家"),
                            draft_lacks("details", "东头"))),
    conv("f-out-r18-one-choice", ("明天下午两点来帮我修下洗衣机地址和平里小区4栋2单元302电话13700003333",
                                  draft(service="repair", address="和平里小区4栋2单元302"),
                                  state(State.ORDER_CONFIRM))),
    # nothing else said: still asked
    conv("f-out-one-choice-no-slot", ("帮我修下灯", says("您是要【维修服务】吗"))),
    conv("f-out-guoliangtian", ("过两天来理发 幸福小区1栋101 13800138000", when(2))),
    conv("f-out-zhoumo", ("周末理发 幸福小区1栋101 13800138000", when(5))),
    conv("f-out-xiaban", ("俺想叫恁帮俺打扫打扫屋子 俺腿脚不好使",),
         ("等俺儿子下班回来", says("几点"), never("没太明白")),
         ("晚上六点多", when(0, (18, 18)))),
]
TUNED.extend(OUTSIDE_F)

# outside tester round 2 (J): what /tmp/outside/report.md still found after (F)–(H), each in the tester's words and
# one or two variants.
OUTSIDE_J: list[Conv] = [
    # R09: a change of mind to another service switches the draft and says so; what was said stays
    conv("j-r09-suanle", ("我想理个发",),
         ("算了不要理发了 我要修水龙头", says("维修服务"), draft(service="repair"), never("没太明白")),
         ("后天上午",), ("春晖园1栋602", draft(address="春晖园1栋602")), ("13722223333", says("维修服务")),
         ("1", act("submit_order", service="repair"))),
    conv("j-r09-bushi-shi", ("我想理个发",), ("明天上午",),
         ("不是理发 是修水龙头", says("维修服务"), draft(service="repair"), when(1, (8, 8)), state(State.ORDER_ADDRESS),
          draft_lacks("address", "修"))),
    conv("j-r09-huancheng-at-summary", TO_CONFIRM, ("换成修水龙头", says("维修服务"), draft(service="repair"),
                                                        state(State.ORDER_CONFIRM))),
    # R20: how to use the bot is help, not an order; 怎么弄 is no address; the need inside a run-on is the request
    conv("j-r20-how-to-use", ("我不会用这个 怎么弄啊", says("1 "), not_ordering, no_act()),
         ("我也不知道要啥 就是家里下水道堵了", draft(service="repair", details="家里下水道堵了", address=None)),
         ("越快越好",), ("建设新村5幢203室", draft(address="建设新村5幢203室"), state(State.ORDER_PHONE))),
    conv("j-r20-zayong", ("这个咋用啊", says("直接"), not_ordering)),
    conv("j-r20-teach-phone-still-order", ("我不会用手机 想找人教教", draft(service="digital"))),
    # R21: no phone at the phone question: the order goes on without one, and the resident is told how
    conv("j-r21-no-phone", ("能给我送个饭不 中午的",), ("明天中午",), ("幸福小区1栋101",),
         ("俺没手机 就这个微信", state(State.ORDER_CONFIRM), says("公众号"), never("没太明白")),
         ("1", act("submit_order"))),
    conv("j-r21-mei-dianhua", HAIR, ("明天上午",), ("幸福小区1栋101",),
         ("没有电话", state(State.ORDER_CONFIRM), says("公众号"))),
    # R03: a phone at the time(-offer) question is kept, and the time asked again
    conv("j-r03-phone-at-offer", ("我想找人礼发 礼拜一上午 阳光花园2号楼301", state(State.ORDER_TIME)),
         ("13600001234", says("电话记下了", "改成"), draft(phone="13600001234"), state(State.ORDER_TIME)),
         ("1", state(State.ORDER_CONFIRM), draft(phone="13600001234", address="阳光花园2号楼301")), at="14:00"),
    conv("j-r03-phone-at-time", HAIR, ("13600001234", says("电话记下了", "什么时间"), draft(phone="13600001234"))),
    # R02: a 12-digit number: said plainly that it has too many digits
    conv("j-r02-twelve-digits", HAIR, ("明天上午",), ("幸福小区1栋101",),
         ("138001380001", says("12位", "多了"), never("没太明白"), state(State.ORDER_PHONE)),
         ("13800138001", draft(phone="13800138001"))),
    # 快来人修: someone to repair, not a cry for help
    conv("j-kuailairen-xiu", ("水管爆了 滴滴答答的 快来人修", no_act("emergency"), draft(service="repair"))),
    conv("j-kuailairen-still-help", ("快来人啊 救命", act("emergency"))),
]
TUNED.extend(OUTSIDE_J)

# outside tester round 3 (K): several services in one voice message, another service named mid-order, changing a
# rating, a phone with digits missing, and small talk; each in the tester's words and a few variants.
THREE = "那个 我想找人明天来修一下水管 顺便帮我理个发 再把油烟机洗一洗 我住幸福小区3栋"


def more(*codes: str) -> Check:
    """The services kept to be ordered after this one, in this order."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        kept = [m.get("service") for m in t.slots.get("more") or []]
        return None if kept == list(codes) else f"services to come {kept}, expected {list(codes)}"
    return check


def noted(*words: str) -> Check:
    """A note after the action's own reply (what the resident is offered next) says these words."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        notes = " ".join(str(a.data.get("text")) for a in res.actions if a.name == "note")
        missing = [w for w in words if w not in notes]
        return f"note {notes!r} lacks {missing}" if missing else None
    return check


_K_REG_SLOTS = {**REG_AT_TIMES, "reg": {**REG_AT_TIMES["reg"], "availability": [{"weekday": 5, "period": "am"}]}}
OUTSIDE_K: list[Conv] = [
    # 1. three services in one message: the first is this order, the others told and offered after it
    conv("k-three-voice", (THREE, says("三件事", "先帮您下【维修服务】", "义务理发", "家政保洁"),
                           draft(service="repair", address="幸福小区3栋"), when(1), more("haircut", "housekeeping"),
                           state(State.ORDER_PHONE)),
         ("13800138000", says("接着帮您下"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order", service="repair"), noted("还要下【义务理发】的单吗", "回复 1"), state(State.IDLE)),
         ("1", draft(service="haircut", address="幸福小区3栋", phone="13800138000"), when(1),
          state(State.ORDER_CONFIRM), says("跟上一单一样", "家政保洁")),
         ("好的", act("submit_order", service="haircut"), noted("家政保洁")),
         ("嗯", draft(service="housekeeping", details="把油烟机洗一洗"), state(State.ORDER_CONFIRM)),
         ("对", act("submit_order", service="housekeeping"), no_act("note"))),
    conv("k-three-then-no", (THREE,), ("13800138000",), ("1", act("submit_order")),
         ("不用了", says("先不下"), not_ordering, no_act()), ("1", state(State.ORDER_SERVICE))),
    conv("k-two-shunbian-oneshot", ("明天上午来理发 顺便帮我修下水管 幸福小区5栋 13800138000", says("两件事"),
                                    draft(service="haircut"), more("repair"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order", service="haircut"), noted("维修服务")),
         ("0", says("先不下"), not_ordering)),
    conv("k-list-dunhao", ("修水管、理发", says("两件事"), draft(service="repair"), more("haircut"))),
    conv("k-he-runon", ("帮我修水管和理发 后天下午 向阳新村2栋 13900001111", draft(service="repair"), when(2, (13, 13)),
                        more("haircut"), state(State.ORDER_CONFIRM))),
    conv("k-then-meal", ("明天下午帮我打扫一下卫生 然后再送个午饭 我住向阳新村2栋",
                         draft(service="housekeeping", address="向阳新村2栋"), more("meals"))),
    conv("k-another-word-drops-offer", (THREE,), ("13800138000",), ("1",), ("我的订单", act("my_orders")),
         ("1", state(State.ORDER_SERVICE))),
    conv("k-several-cancelled", (THREE,), ("取消", says("没有提交"), state(State.IDLE)),
         ("1", state(State.ORDER_SERVICE))),
    conv("k-several-at-service-q", ("1",), ("理发 顺便把厨房打扫一下", says("两件事"), draft(service="haircut"),
                                            more("housekeeping"))),
    conv("k-one-thing-two-clauses", ("我家水管坏了 然后厨房也漏水", draft(service="repair"), never("两件事"), more())),
    conv("k-escort-back-home", ("陪我去医院 然后再送我回来", draft(service="escort"), never("两件事"))),
    conv("k-me-and-laoban", ("帮我和老伴理发", draft(service="haircut"), never("两件事"))),
    # 2. another service named mid-order: asked whether this order changes, both are wanted, or neither
    conv("k-bare-other-at-address", ("我想理发",), ("明天上午",),
         ("我要修水管", state(State.ORDER_SWITCH), says("改成【维修服务】", "1", "2", "0"), never("没太明白"),
          draft_lacks("address", "修")),
         ("1", draft(service="repair"), when(1, (8, 8)), state(State.ORDER_ADDRESS)),
         ("幸福小区3栋", state(State.ORDER_PHONE))),
    conv("k-bare-other-both", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("2", draft(service="haircut"), more("repair"), state(State.ORDER_ADDRESS)),
         ("幸福小区3栋",), ("13800138000", says("接着帮您下【维修服务】")),
         ("1", act("submit_order", service="haircut"), noted("维修服务")),
         ("1", draft(service="repair", address="幸福小区3栋"), when(1, (8, 8)))),
    conv("k-bare-other-keep", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("不用了", says("还是【义务理发】"), draft(service="haircut"), state(State.ORDER_ADDRESS), no_act())),
    conv("k-bare-other-zero", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("0", draft(service="haircut"), state(State.ORDER_ADDRESS))),
    conv("k-bare-other-then-address", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("幸福小区3栋", draft(service="haircut", address="幸福小区3栋"), state(State.ORDER_PHONE))),
    conv("k-bare-other-haishi", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("还是理发吧", draft(service="haircut", address=None), state(State.ORDER_ADDRESS))),
    conv("k-bare-other-douyao", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("都要", more("repair"), state(State.ORDER_ADDRESS))),
    conv("k-bare-other-gaiba", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("改吧", draft(service="repair"), state(State.ORDER_ADDRESS))),
    conv("k-bare-other-huancheng", ("我想理发",), ("明天上午",), ("我要修水管",),
         ("换成修水管", draft(service="repair"), state(State.ORDER_ADDRESS))),
    conv("k-bare-at-time", HAIR, ("帮我修下水管", state(State.ORDER_SWITCH), never("没太明白"))),
    conv("k-bare-at-phone", ("明天上午来幸福小区3栋帮我理发",), ("修水龙头", state(State.ORDER_SWITCH)),
         ("1", draft(service="repair", address="幸福小区3栋"), state(State.ORDER_PHONE))),
    conv("k-bare-at-summary", TO_CONFIRM, ("修水管", state(State.ORDER_SWITCH)),
         ("1", draft(service="repair", address="幸福小区3栋", phone="13800138000"), state(State.ORDER_CONFIRM))),
    conv("k-bare-dialect", ("俺想剃个头",), ("明儿个上午",), ("俺要修水管子", state(State.ORDER_SWITCH))),
    conv("k-also-at-address", ("我想理发",), ("明天上午",),
         ("还要修一下水龙头", more("repair"), draft(service="haircut"), state(State.ORDER_ADDRESS),
          says("接着帮您下"))),
    conv("k-same-service-again", ("我想理发",), ("明天上午",),
         ("我要理发", says("正在帮您下【义务理发】"), state(State.ORDER_ADDRESS), never("没太明白"),
          draft_lacks("address", "理发"))),
    conv("k-jiali-not-address", ("我想修水管",), ("明天上午",),
         ("我家里水管又坏了", state(State.ORDER_ADDRESS), draft_lacks("address", "水管"))),
    # 3. a rating given cannot be changed in chat: said plainly, with 人工
    conv("k-rerate-idle-five", ("我想改成五颗心", says("不能", "人工"), not_ordering, no_act())),
    conv("k-rerate-idle-wrong", ("刚才评错了", says("人工"), not_ordering, no_act()),
         ("人工", act("human_handover"))),
    conv("k-rerate-dafen", ("打错分了 应该给五颗心", says("人工"), no_act())),
    conv("k-rerate-chongxin", ("我要重新评一下", says("人工"), no_act())),
    conv("k-rerate-neng-gai", ("评价能不能改一下", says("人工"), no_act())),
    conv("k-rerate-comment-wrong", ("刚才评错了", says("4颗心", "人工"), no_act("comment"), state(State.IDLE)),
         **_H_RATE_DONE),
    conv("k-rerate-comment-five", ("我想改成五颗心", says("4颗心", "人工"), no_act("comment", "rate")), **_H_RATE_DONE),
    conv("k-rerate-before-rating", ("刚才评错了", state(State.RATE), says("还没打分", "0-5")),
         ("5", act("rate", order=31, hearts=5)), **RATING),
    conv("k-not-rerate-time", ("改到星期六", never("评价"))),
    # 4. a phone with digits missing: said how many, in every state that asks a phone
    conv("k-short-7", HAIR, ("明天上午",), ("幸福小区1栋101",),
         ("1381234", says("少了", "11位"), never("没太明白"), state(State.ORDER_PHONE)),
         ("13812345678", draft(phone="13812345678"), state(State.ORDER_CONFIRM))),
    conv("k-short-6", HAIR, ("明天上午",), ("幸福小区1栋101",), ("138123", says("少了", "11位"))),
    conv("k-short-spoken", HAIR, ("明天上午",), ("幸福小区1栋101",), ("幺三八幺二三四", says("少了"))),
    conv("k-short-three-times", HAIR, ("明天上午",), ("幸福小区1栋101",), ("1381234",), ("1381234",),
         ("1381234", says("少了", "人工"))),
    # (w2res1: a landline without its area code is the contact phone, as the outside tester asked; no 区号 question)
    conv("k-landline-no-area", HAIR, ("明天上午",), ("幸福小区1栋101",),
         ("83456789", draft(phone="83456789"), state(State.ORDER_CONFIRM), never("区号"))),
    conv("k-short-proxy", ("帮我妈下单",), ("王奶奶",), ("1390000", says("少了"), state(State.PROXY_PHONE))),
    conv("k-short-correction", TO_CONFIRM, ("电话换成1381234", says("少了"), state(State.ORDER_PHONE)),
         ("13912345678", draft(phone="13912345678"), state(State.ORDER_CONFIRM))),
    conv("k-short-correction-elsewhere", HAIR, ("明天上午",),
         ("电话换成1381234", says("少了"), state(State.ORDER_PHONE))),
    conv("k-short-reg", ("1381234", says("少了", "11位"), state(State.REG_PHONE)), state=State.REG_PHONE,
         slots=_K_REG_SLOTS),
    conv("k-short-guardian", ("139123", says("少了"), state(State.REG_GUARDIAN_PHONE)), state=State.REG_GUARDIAN_PHONE,
         slots=_K_REG_SLOTS),
    # small talk the tester tried: an answer, never "帮不上忙"; in the middle of a question, the question again
    conv("k-talk-nishui", ("你谁啊", says("小助手"), not_ordering)),
    conv("k-talk-ganma", ("你们是干嘛的", says("小助手"), not_ordering)),
    conv("k-talk-youren", ("有人在吗", says("请回复数字"), never("帮不上忙"))),
    conv("k-talk-zai", ("在", says("请回复数字"))),
    conv("k-talk-wenyixia", ("您好 我想问一下", says("请回复数字"), never("帮不上忙"))),
    conv("k-talk-mid-thanks", ("我想理发",), ("谢谢", says("不客气", "什么时间"), never("没太明白"),
                                               state(State.ORDER_TIME))),
    conv("k-talk-mid-zaima", ("我想理发",), ("明天上午",), ("在吗", says("在的", "地址"), state(State.ORDER_ADDRESS),
                                                      draft_lacks("address", "在"))),
    conv("k-talk-mid-who", ("我想理发",), ("你是谁", says("小助手", "什么时间"), state(State.ORDER_TIME))),
    conv("k-talk-confirm-haode-xiexie", TO_CONFIRM, ("好的 谢谢", act("submit_order"))),
    conv("k-talk-rate-thanks", ("谢谢", says("不客气", "0-5"), state(State.RATE), no_act()), **RATING),
]
TUNED.extend(OUTSIDE_K)

# -- outside tester, round 4 (2026-12-03): written as residents write, no punctuation, dialect ----------------------
_R4_NIGHT = {"office_hours": "周一至周五 8:30-17:30"}
_R4_PHONE_ASKED = (("我想理发",), ("明天上午",), ("幸福小区3栋",))


def _for(name: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        d = t.slots.get("draft") or {}
        for a in res.actions:
            if a.name == "submit_order":
                d = a.data
        got = (d.get("for") or {}).get("name")
        return None if got == name else f"the order is for {got!r}, expected {name!r}"
    return check


OUTSIDE_R4: list[Conv] = [
    # 1. a family member by surname: 刘阿姨 is served, the caller's phone is the contact
    conv("r4-proxy-xing-liu", ("帮我妈约个理发 她姓刘", _for("刘阿姨"), says("刘阿姨"), state(State.ORDER_TIME)),
         ("明天上午",), ("幸福小区3栋", says("138****8000")),
         ("1", draft(phone="13800138000"), _for("刘阿姨"), state(State.ORDER_CONFIRM), never("未留")),
         ("1", act("submit_order", service="haircut", phone="13800138000"), _for("刘阿姨")), phone="13800138000"),
    conv("r4-proxy-wo-ma-xing", ("帮我妈下单",),
         ("我妈姓刘", says("刘阿姨"), _for("刘阿姨"), state(State.PROXY_PHONE))),
    conv("r4-proxy-nainai-ta", ("帮我奶奶下个单",), ("她姓王", says("王奶奶"), _for("王奶奶"))),
    conv("r4-proxy-name-first", ("我妈姓刘 帮她约个理发", _for("刘阿姨"), draft(service="haircut"),
                                 draft_lacks("details", "姓刘"))),
    conv("r4-proxy-nainai-jiantoufa", ("帮俺奶奶剪个头发 俺奶奶姓王", _for("王奶奶"), draft(service="haircut"))),
    conv("r4-proxy-own-phone", ("帮我妈下单",), ("刘阿姨", says("回复 1")),
         ("1", draft(phone="13800138000"), never("没太明白")), phone="13800138000"),
    conv("r4-proxy-phone-says-order", ("帮我妈下单",), ("刘阿姨",),
         ("她要理发 后天上午", draft(service="haircut"), when(2, (8, 12)), never("没太明白", "号码"), _for("刘阿姨"))),
    conv("r4-phone-step-says-time", *_R4_PHONE_ASKED,
         ("她要理发 后天上午", when(2, (8, 12)), draft(service="haircut"), state(State.ORDER_PHONE),
          never("没太明白"))),
    # 2. complaints: sorry, and to staff; never small talk or a new order
    conv("r4-complain-meilairen", ("根本没来人", says("对不起"), act("human_handover"), state(State.HUMAN),
                                   never("帮不上忙"), no_act("submit_order"))),
    conv("r4-complain-yikexin", ("一颗心都不给", says("对不起"), act("human_handover"), never("帮不上忙"))),
    conv("r4-complain-dengle", ("等了一上午也没人来", says("对不起"), act("human_handover"), not_ordering)),
    conv("r4-complain-ban-tian", ("俺等了半天都没人影", says("对不起"), act("human_handover"))),
    conv("r4-complain-at-rating", ("一颗心都不给", act("rate", order=31, hearts=0)), **RATING),
    conv("r4-complain-at-rating-nobody", ("根本就没来人啊", says("对不起"), act("human_handover"), no_act("rate"),
                                          state(State.HUMAN)), **RATING),
    # 3. ratings in words; with praise no second question
    conv("r4-rate-haixing", ("还行吧", act("rate", order=31, hearts=3), never("没太明白")), **RATING),
    conv("r4-rate-haikeyi", ("还可以", act("rate", order=31, hearts=3)), **RATING),
    conv("r4-rate-yibanban", ("一般般", act("rate", order=31, hearts=3)), **RATING),
    conv("r4-rate-mamahuhu", ("马马虎虎吧", act("rate", order=31, hearts=3)), **RATING),
    conv("r4-rate-praise", ("5颗心 师傅很好", act("rate", order=31, hearts=5), act("comment", order=31),
                            state(State.IDLE)), **RATING),
    conv("r4-rate-praise-dialect", ("五颗星 小伙子人老好了 谢谢", act("rate", hearts=5), act("comment"),
                                    state(State.IDLE)), **RATING),
    conv("r4-rate-plain-asks-comment", ("5", act("rate", hearts=5), no_act("comment"), state(State.RATE_COMMENT)),
         **RATING),
    conv("r4-rate-guess-still-asks", ("修得挺好", state(State.RATE), no_act()), **RATING),
    conv("r4-rate-already-rated", ("评价 31", says("已经评价过了", "4颗心", "人工"), no_act(), state(State.IDLE)),
         ctx={"order_ratings": {31: 4}}),
    conv("r4-rate-already-rated-with-hearts", ("评价31 5分", says("已经评价过了", "人工"), no_act("rate")),
         ctx={"order_ratings": {31: 4}}),
    conv("r4-rate-not-yet-rated", ("评价 31", state(State.RATE), says("0-5")), ctx={"order_ratings": {}}),
    # 4. help
    conv("r4-qiuzhu", ("求助", says("1 我要找志愿者帮忙"), not_ordering, never("帮不上忙"))),
    conv("r4-wo-yao-qiuzhu", ("我要求助", says("1 我要找志愿者帮忙"), not_ordering)),
    conv("r4-bangzhu", ("帮助", says("请回复数字"), not_ordering)),
    conv("r4-zenmeyong", ("怎么用", says("请回复数字"), not_ordering)),
    conv("r4-qiuzhu-need", ("求助 我想修水管", draft(service="repair"), state(State.ORDER_TIME))),
    conv("r4-qiuzhu-emergency", ("求助 我爸摔倒了起不来", says("120"), act("emergency"), not_ordering)),
    # 5. emoji
    conv("r4-emoji-thumb", ("👍", says("收到"), not_ordering, never("帮不上忙"))),
    conv("r4-emoji-pray", ("🙏🙏", says("收到"), not_ordering)),
    conv("r4-emoji-smile", ("😊", says("收到"), not_ordering)),
    conv("r4-emoji-cry", ("😭", says("怎么了"), not_ordering, never("帮不上忙"))),
    conv("r4-emoji-sad", ("😢😢", says("怎么了"), not_ordering)),
    conv("r4-kule", ("我哭了", says("怎么了"), not_ordering)),
    conv("r4-emoji-mid-order", ("我想理发",), ("👍", says("什么时间"), state(State.ORDER_TIME), never("没太明白"))),
    # 6. a phone of 10 or 12 digits: how long a phone is, said plainly
    conv("r4-phone-10", *_R4_PHONE_ASKED, ("1380013800", says("11位"), never("没太明白"), state(State.ORDER_PHONE))),
    conv("r4-phone-12", *_R4_PHONE_ASKED, ("138001380001", says("11位", "区号"), never("没太明白"))),
    conv("r4-phone-proxy-12", ("帮我妈下单",), ("刘阿姨",), ("139123456789", says("11位"), state(State.PROXY_PHONE))),
    # 7. a person at night: when staff answer; "有人吗": the bot is here
    conv("r4-human-night", ("人工", says("上班时间", "8:30-17:30"), act("human_handover"), state(State.HUMAN)),
         at="21:30", ctx=_R4_NIGHT),
    conv("r4-zhenren-night", ("找个真人", says("上班时间"), act("human_handover")), at="06:40", ctx=_R4_NIGHT),
    conv("r4-human-day", ("人工", says("请稍候"), never("上班时间")), at="10:00", ctx=_R4_NIGHT),
    conv("r4-human-no-hours", ("人工", says("请稍候"), never("上班时间")), at="23:00"),
    conv("r4-youren", ("有人吗", says("在的", "人工", "请回复数字"), not_ordering)),
    conv("r4-you-mei-you-ren", ("有没有人啊", says("在的", "人工"), not_ordering, never("帮不上忙"))),
    # 8. the same order twice: asked, and when not wanted, no "next order" as if it went through
    conv("r4-same-twice", TO_CONFIRM, ("1", act("submit_order")), TO_CONFIRM,
         ("1", says("约过了"), no_act("submit_order")), ("0", says("不再重复"), no_act(), never("还要下"))),
    conv("r4-same-twice-yes", TO_CONFIRM, ("1",), TO_CONFIRM, ("1", says("约过了")),
         ("再下一单", act("submit_order", service="haircut"))),
    # an emergency in the middle of a draft: the emergency first, the draft kept for later
    conv("r4-emergency-mid-draft", ("我想理发",), ("明天上午",),
         ("我妈摔倒了 起不来了", says("120"), act("emergency"), no_act("submit_order")),
         ("虚惊一场 没事了", says("义务理发"), state(State.ORDER_ADDRESS), draft(service="haircut"))),
    conv("r4-emergency-mid-draft-continue", ("我想理发",), ("明天上午",), ("我妈摔倒了 起不来了", says("120")),
         # (fixA: the address the kept order waited for resumes it, as the outside tester expects)
         ("幸福小区3栋", draft(service="haircut", address="幸福小区3栋"), never("回复“继续”"), no_act("submit_order")),
         ("13812345678", state(State.ORDER_CONFIRM), no_act("submit_order"))),
    # cancelling the draft
    conv("r4-suanle-buyaole", ("我想理发",), ("明天上午",),
         ("算了不要了", says("已取消"), not_ordering, no_act())),
    conv("r4-buyaole-at-summary", TO_CONFIRM, ("不要了 算了", not_ordering, no_act("submit_order"))),
]
TUNED.extend(OUTSIDE_R4)

# -- the saved address offered at the address question ("还是送到…吗？"), answered as residents type ------------------
SAVED = {"last_address": "幸福小区3栋2单元301"}
SAVED_ADDRESS: list[Conv] = [
    conv("sa-offered", HAIR, ("明天上午", says("还是送到 幸福小区3栋2单元301 吗"), state(State.ORDER_ADDRESS)),
         ctx=SAVED),
    conv("sa-laodifang", HAIR, ("明天上午",),
         ("老地方", draft(address="幸福小区3栋2单元301"), state(State.ORDER_PHONE)), ctx=SAVED),
    conv("sa-haishi-na", HAIR, ("明天上午",), ("还是那 ", draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("sa-dui-jiu-na", HAIR, ("明天上午",), ("对就那", draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("sa-en", HAIR, ("明天上午",), ("嗯", draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("sa-shangui-typo", HAIR, ("明天上午",), ("跟上会一样", draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("sa-hai-zhu-na", HAIR, ("明天上午",), ("俺还住那", draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("sa-one-shot", ("明儿上午来给俺理个发", says("还是送到 幸福小区3栋2单元301 吗")),
         ("是的", draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("sa-new", HAIR, ("明天上午",), ("向阳新村9栋1单元202", draft(address="向阳新村9栋1单元202")), ctx=SAVED),
    conv("sa-moved", HAIR, ("明天上午",),
         ("不是 俺搬了 住向阳新村9栋", draft(address="向阳新村9栋", service="haircut")), ctx=SAVED),
    conv("sa-fix-building", HAIR, ("明天上午",),
         ("不是 是6号楼", draft(address="幸福小区6号楼"), says("幸福小区6号楼")), ctx=SAVED),
    conv("sa-fix-swap", HAIR, ("明天上午",), ("不是3栋是5栋", draft(address="幸福小区5栋2单元301")), ctx=SAVED),
    conv("sa-no", HAIR, ("明天上午",), ("不是的", says("服务地址是哪里"), never("幸福小区3栋"), draft(address=None)),
         ctx=SAVED),
    conv("sa-proxy-none", ("帮我妈下单",), ("王奶奶",), ("13900001111",), ("理发",),
         ("明天上午", state(State.ORDER_ADDRESS), never("幸福小区3栋")), ctx=SAVED),
]
TUNED.extend(SAVED_ADDRESS)

# -- changing an order already submitted (bot/dialogue/changing.py), as elderly residents type it ---------------------
_ED_HAIR = {"id": 12, "service": "haircut", "when": "11月24日(周二) 09:00", "time_kind": "point",
            "start": "2026-11-24T01:00:00+00:00", "end": None, "address": "幸福小区3号楼2单元301"}
_ED_MEALS = {"id": 15, "service": "meals", "when": "11月25日(周三) 11:00", "time_kind": "point",
             "start": "2026-11-25T03:00:00+00:00", "end": None, "address": "幸福小区3号楼2单元301"}
_ED_ONE = {"open_orders": (_ED_HAIR,)}
_ED_TWO = {"open_orders": (_ED_HAIR, _ED_MEALS)}
_ED_NONE = {"open_orders": ()}
EDIT_SUBMITTED: list[Conv] = [
    conv("ed-time-ba", ("改下时间 后天上午吧", says("订单12", "改成11月25日"), state(State.CHANGE_CONFIRM), no_act()),
         ("好的", act("edit_order", order=12, field="time"), not_ordering), ctx=_ED_ONE),
    conv("ed-time-named", ("12号订单时间改到后天上午", says("从11月24日(周二) 09:00改成")),
         ("1", act("edit_order", order=12, field="time")), ctx=_ED_TWO),
    conv("ed-time-ask", ("我想改个时间", says("什么时间"), state(State.CHANGE_ASK)),
         ("后天下午吧", says("13:00")), ("嗯", act("edit_order", field="time")), ctx=_ED_ONE),
    conv("ed-aiya-houtian", ("哎呀 不是明天 是后天", says("改成11月25日(周三) 09:00")),
         ("对的", act("edit_order", order=12)), ctx=_ED_TWO),
    conv("ed-danzi-saturday", ("12号单子改到周六下午", says("11月28日")), ("是的", act("edit_order", order=12)),
         ctx=_ED_ONE),
    # (a partial correction replaces only the building: the unit and room stay, the confirmation shows them)
    conv("ed-address-gao-cuo", ("地址搞错了 是6号楼", says("幸福小区6号楼2单元301"), state(State.CHANGE_CONFIRM)),
         ("是", act("edit_order", field="address", value="幸福小区6号楼2单元301")), ctx=_ED_ONE),
    conv("ed-address-swap", ("地址错了 是6号楼不是3号楼", says("幸福小区6号楼2单元301")),
         ("1", act("edit_order", field="address", value="幸福小区6号楼2单元301")), ctx=_ED_ONE),
    conv("ed-phone-budui", ("电话不对 换成13912345678", says("13912345678"), state(State.CHANGE_CONFIRM)),
         ("好", act("edit_order", field="phone", value="13912345678")), ctx=_ED_ONE),
    conv("ed-phone-short", ("电话不对 换成1391234", says("少了4位"), state(State.CHANGE_ASK), no_act()),
         ("13912345678", says("13912345678")), ("1", act("edit_order", value="13912345678")), ctx=_ED_ONE),
    conv("ed-phone-ask", ("改下电话", says("新电话")), ("13912345678",), ("1", act("edit_order", field="phone")),
         ctx=_ED_ONE),
    conv("ed-which", ("改一下时间", says("要改哪一个", "订单12", "订单15"), state(State.CHANGE_PICK)),
         ("2", says("订单15", "什么时间")), ("周六中午", says("11月28日")), ("1", act("edit_order", order=15)),
         ctx=_ED_TWO),
    conv("ed-which-none", ("改一下时间", says("都不改")), ("0", says("没有改"), no_act(), not_ordering), ctx=_ED_TWO),
    conv("ed-buggai", ("电话换成13912345678",), ("不改了", says("没有改"), no_act(), not_ordering), ctx=_ED_ONE),
    conv("ed-no-orders", ("改一下时间", says("没有进行中的订单"), no_act(), not_ordering), ctx=_ED_NONE),
    conv("ed-past", ("时间改到今天早上八点", says("已经过了"), no_act()), ("后天上午", says("改成")), ctx=_ED_ONE),
    conv("ed-not-mine", ("99号订单时间改到后天上午", act("edit_order", order=99)), ctx=_ED_ONE),
]
TUNED.extend(EDIT_SUBMITTED)

# -- r4a: the outside tester's ordering failures (round 4), as elderly residents type them -----------------------------
_R4A_HAIRCUT = "帮我约个理发 幸福小区1栋101 电话13600001234 明天下午"
_R4A_MOM = "帮我妈约个修水管 她住幸福小区3栋101 电话13700003333 明天上午"
R4A: list[Conv] = [
    # #2: details said at the "which service?" question are kept, and not asked again after the pick
    conv("r4a-menu-time-kept", ("帮我修下灯", says("您是要【维修服务】吗")),
         ("明天上午", says("记下了", "维修服务"), state(State.ORDER_SERVICE), when(1, (8, 12))),
         ("是", state(State.ORDER_ADDRESS), draft(service="repair"), when(1, (8, 12)))),
    conv("r4a-menu-address-kept", ("家里电视看不了了",), ("俺住幸福小区5栋1单元302", says("记下了")),
         ("明天下午", state(State.ORDER_SERVICE)),
         ("1", state(State.ORDER_PHONE), draft(service="repair", address="幸福小区5栋1单元302"), when(1, (13, 18)))),
    conv("r4a-menu-names-it", ("帮我修下灯",), ("修灯 后天上午", state(State.ORDER_ADDRESS), draft(service="repair"),
                                               when(2, (8, 12)))),
    conv("r4a-menu-no", ("帮我修下灯",), ("不是", says("您需要什么服务"), state(State.ORDER_SERVICE)),
         ("理发", draft(service="haircut"))),
    conv("r4a-menu-out-of-range", ("帮我修下灯",), ("9", says("您是要【维修服务】吗"), state(State.ORDER_SERVICE)),
         ("1", draft(service="repair"))),
    # #3: a new request on the summary is asked about, never written over the draft
    conv("r4a-confirm-new-request", (_R4A_HAIRCUT, state(State.ORDER_CONFIRM)),
         (_R4A_MOM, says("要把这单改成【维修服务】，还是两个都要"), state(State.ORDER_SWITCH),
          draft(service="haircut", address="幸福小区1栋101", phone="13600001234")),
         ("1", state(State.ORDER_CONFIRM), draft(service="repair", address="幸福小区3栋101", phone="13700003333"),
          when(1, (8, 12)))),
    conv("r4a-confirm-both", (_R4A_HAIRCUT,), (_R4A_MOM, state(State.ORDER_SWITCH)),
         ("两个都要", state(State.ORDER_CONFIRM), draft(service="haircut", address="幸福小区1栋101")),
         ("1", act("submit_order", service="haircut", address="幸福小区1栋101")),
         ("1", state(State.ORDER_CONFIRM), draft(service="repair", address="幸福小区3栋101", phone="13700003333"),
          when(1, (8, 12)))),
    conv("r4a-confirm-keep", (_R4A_HAIRCUT,), (_R4A_MOM,),
         ("0", says("还是【义务理发】"), draft(service="haircut", address="幸福小区1栋101"))),
    # #4: 一晚上 / 一整天 / 一宿 are how long, not when
    conv("r4a-voice-yi-wanshang",
         ("喂喂那个俺是王奶奶俺家水笼头坏了滴滴答答一晚上睡不着明天上午能来个人不俺住幸福小区5栋1单元302电话13900002222",
          when(1, (8, 12)), draft(address="幸福小区5栋1单元302", phone="13900002222"),
          draft_has("details", "一晚上睡不着"), draft_lacks("details", "一睡不着", "上午"))),
    conv("r4a-yi-zheng-tian", ("等了一整天没人来 俺要理发 后天下午 幸福小区2栋201 电话13900002223", when(2, (13, 18)))),
    conv("r4a-yi-xiu", ("一宿没睡好 腰疼 想找人陪我去医院", never("晚上"))),
    # #5: 理个发 typed as 李个发 / 礼个发 / 李发
    conv("r4a-li-ge-fa", ("明天上午来帮俺李个发 幸福小区6栋101 电话13900006666", state(State.ORDER_CONFIRM),
                          draft(service="haircut", address="幸福小区6栋101"), when(1, (8, 12)))),
    conv("r4a-li-ge-fa-2", ("礼个发", draft(service="haircut"))),
    conv("r4a-li-fa", ("俺想李发", draft(service="haircut"))),
    # #13: "help" in the middle of an order keeps the order
    conv("r4a-help-keeps", ("幫我修水龍頭", state(State.ORDER_TIME)),
         ("help", never("已取消"), state(State.ORDER_TIME), draft(service="repair")),
         ("明天上午", state(State.ORDER_ADDRESS), when(1, (8, 12)))),
    conv("r4a-bangzhu-confirm", (_R4A_HAIRCUT,), ("帮助", state(State.ORDER_CONFIRM), says("请核对"), never("已取消"))),
    # #14: a question about the street's events is the events listing
    conv("r4a-events-when", ("啥时候有一条街活动", act("events"), not_ordering)),
    conv("r4a-events-when-2", ("一条街活动什么时候搞啊", act("events"), not_ordering)),
    conv("r4a-events-mid-order", ("帮俺修水龙头",), ("一条街活动啥时候有啊", act("events"), state(State.ORDER_TIME)),
         ("明天上午", state(State.ORDER_ADDRESS), draft(service="repair"))),
    # #15a: a number not on the menu
    conv("r4a-menu-9", ("9", says("请回复 0-5 之间的数字"), not_ordering)),
    conv("r4a-menu-minus-1", ("-1", says("请回复 0-5 之间的数字"), not_ordering)),
]
TUNED.extend(R4A)

# -- r4b: the outside tester's rating, hand-over and after-order failures (round 4) ----------------------------------
_R4B_RATE = {"state": State.RATE, "slots": {"rate_order": 455858}}
_R4B_WAITING = {"unrated_orders": (455858,)}
_R4B_ACCEPTED = {"open_orders": ({"id": 549365, "service": "haircut", "when": "尽快（20:43前）"},)}
_R4B_PHONE = {"office_phone": "0571-88886666", "office_hours": "周一至周五 8:30-17:30"}
R4B: list[Conv] = [
    # #6 "评价 5": hearts for the order waiting, not order no. 5
    conv("r4b-rate-5-asked", ("评价 5", act("rate", order=455858, hearts=5), never("订单5")), **_R4B_RATE),
    conv("r4b-rate-4-later", ("评价 4", act("rate", order=455858, hearts=4), never("订单4")), ctx=_R4B_WAITING),
    conv("r4b-rate-stars-later", ("★★★★", act("rate", order=455858, hearts=4)), ctx=_R4B_WAITING),
    conv("r4b-rate-hearts-later", ("5颗心", act("rate", order=455858, hearts=5)), ctx=_R4B_WAITING),
    conv("r4b-rate-5-no-wait", ("评价 5", says("没有要评价的订单"), never("订单5"), no_act("rate")),
         ctx={"unrated_orders": ()}),  # (r5b: 5 is hearts, never a 6-digit order number)
    conv("r4b-rate-5-marked", ("评价 5号订单", says("订单5"), no_act("rate")), ctx=_R4B_WAITING),
    conv("r4b-rate-two-waiting", ("评价 5", says("455858", "455901", "评价 订单号"), no_act("rate")),
         ctx={"unrated_orders": (455858, 455901)}),
    conv("r4b-rate-menu-1-stays", ("1", no_act("rate"), state(State.ORDER_SERVICE)), ctx=_R4B_WAITING),
    conv("r4b-rate-stars-asked", ("★★★★", act("rate", order=455858, hearts=4)), **_R4B_RATE),
    # #7 everyday ratings
    conv("r4b-rate-tinghao-five", ("挺好的 五颗心", act("rate", order=455858, hearts=5)), **_R4B_RATE),
    conv("r4b-rate-manfen", ("挺好 俺给个满分", act("rate", order=455858, hearts=5)), **_R4B_RATE),
    conv("r4b-rate-buzadi", ("不咋地", act("rate", order=455858, hearts=2)), **_R4B_RATE),
    conv("r4b-rate-buzayang", ("不咋样", act("rate", order=455858, hearts=2)), **_R4B_RATE),
    # words and number disagree: the number is taken (round 7, fixB), the words kept as the comment
    conv("r4b-rate-bad-but-five", ("很差 五颗心", act("rate", hearts=5)), **_R4B_RATE),
    conv("r4b-rate-buyongle", ("不用了", says("评价 455858 几颗心", "积分"), never("已取消"), no_act("rate"),
                               state(State.IDLE)), **_R4B_RATE),
    conv("r4b-rate-quxiao", ("取消", says("评价 455858"), never("已取消"), no_act("rate")), **_R4B_RATE),
    conv("r4b-rate-suanle", ("算了", says("评价 455858")), **_R4B_RATE),
    # #9 after an emergency: over, and the request taken
    conv("r4b-emer-over-haircut", ("我妈摔倒了起不来", says("120")),
         ("刚才那个已经好了 谢谢 还能约理发吗", act("emergency_called_off"), never("120"), says("义务理发"),
          state(State.ORDER_TIME))),
    conv("r4b-emer-over-only", ("我妈摔倒了起不来",), ("已经好了 谢谢", act("emergency_called_off"), never("120"),
                                                 not_ordering)),
    conv("r4b-emer-not-over", ("我妈摔倒了起不来",),
         ("还没好 怎么办", never("没事就好"), no_act("emergency_called_off"))),
    # #11 who comes, with an order under way
    conv("r4b-who-haircut", ("谁来给俺理发", act("my_orders"), not_ordering), ctx=_R4B_ACCEPTED),
    # (w2res2: who comes with the phone masked, and the relay offered: bot.serviceloop.nudges)
    conv("r4b-who-phone", ("师傅电话多少", act("volunteer_contact"), not_ordering), ctx=_R4B_ACCEPTED),
    conv("r4b-who-when", ("师傅啥时候来", act("my_orders"), not_ordering), ctx=_R4B_ACCEPTED),
    conv("r4b-who-name", ("师傅叫什么", act("my_orders"), not_ordering), ctx=_R4B_ACCEPTED),
    conv("r4b-who-taken", ("有人接单了吗", act("my_orders"), not_ordering), ctx=_R4B_ACCEPTED),
    conv("r4b-who-no-order", ("谁来给俺理发", no_act("my_orders"), state(State.ORDER_TIME, State.ORDER_SERVICE)),
         ctx={"open_orders": ()}),  # no order under way: a request (the model may ask "您是要【义务理发】吗")
    # #12 a person, and the office's phone
    conv("r4b-living-person", ("有没有活人啊", act("human_handover"), state(State.HUMAN))),
    conv("r4b-real-person", ("找个真人", act("human_handover"), state(State.HUMAN))),
    conv("r4b-office-phone", ("社区电话多少", says("0571-88886666", "8:30-17:30"), not_ordering), ctx=_R4B_PHONE),
    conv("r4b-call-community", ("打电话给社区", says("0571-88886666"), not_ordering), ctx=_R4B_PHONE),
    conv("r4b-office-phone-none", ("社区电话多少", no_act("human_handover"), says("还没有登记", "回复“人工”")),
         ("人工", act("human_handover"), says("转接"))),  # only a number asked for: a person offered, not imposed
    # #8 registration with 志愿者 mistyped
    conv("r4b-reg-zhiyuanzhe-typo", ("注册志原者", says("欢迎报名"), state(State.REG_NAME)),
         ("李强", state(State.REG_GENDER), not_ordering)),
    conv("r4b-reg-ziyuanzhe", ("我想当自愿者", says("欢迎报名"), state(State.REG_NAME))),
    conv("r4b-reg-zhiyuanzhao", ("报名志愿着", says("欢迎报名"), state(State.REG_NAME))),
    conv("r4b-reg-answers-not-orders", ("注册志原者",), ("李强",), ("男的",), ("35岁",),
         ("修水管 修电", no_act("submit"), never("为您安排"))),
]
TUNED.extend(R4B)


# -- r5a: outside tester round 5 (2026-12-03), changing a submitted order: items 1, 4, 5, 6 -------------------------
_R5A_OPEN = ({"id": 254623, "service": "repair", "when": "11月24日(周二) 09:00", "time_kind": "point",
              "start": "2026-11-24T01:00:00+00:00", "address": "幸福小区6号楼101", "state": "dispatched"},)
_R5A_UNDER_WAY = ({"id": 254623, "service": "repair", "when": "尽快（12:00前）", "time_kind": "asap",
                   "start": "2026-11-23T01:50:00+00:00", "end": "2026-11-23T04:00:00+00:00",
                   "address": "幸福小区6号楼101", "state": "accepted"},)
_R5A_DRAFT = ("后天上午来修下门 幸福小区6号楼101 电话13800138000", state(State.ORDER_CONFIRM))
R5A = [
    # #1 a named open order said while another is being made: that order, the draft kept
    conv("r5a-named-at-confirm", _R5A_DRAFT,
         ("254623号订单地址错了 是6号楼102", state(State.CHANGE_CONFIRM), says("订单254623", "先给您留着"),
          never("已修改")),
         ("1", act("edit_order", order=254623, field="address", value="幸福小区6号楼102"),
          state(State.ORDER_CONFIRM)), ctx={"open_orders": _R5A_OPEN}),
    conv("r5a-named-time-at-confirm", _R5A_DRAFT,
         ("254623号订单时间改到大后天上午", state(State.CHANGE_CONFIRM), says("订单254623", "11月26日"),
          never("已修改")),
         ctx={"open_orders": _R5A_OPEN}),
    conv("r5a-named-at-question", ("后天上午来修下门", state(State.ORDER_ADDRESS)),
         ("254623号订单时间改到大后天上午", state(State.CHANGE_CONFIRM), says("先给您留着")),
         ("0", says("没有改", "正在填的"), no_act("edit_order"), state(State.ORDER_ADDRESS)),
         ctx={"open_orders": _R5A_OPEN}),
    conv("r5a-unnamed-fixes-draft", _R5A_DRAFT,
         ("地址错了 是6号楼102", no_act("edit_order"), draft_has("address", "102"), state(State.ORDER_CONFIRM)),
         ctx={"open_orders": _R5A_OPEN}),
    # #4 a second change at the confirmation: both in one question, both made
    conv("r5a-two-changes", ("地址错了 是6号楼102", state(State.CHANGE_CONFIRM)),
         ("电话换成13900139002", says("地址改成幸福小区6号楼102", "电话", "13900139002")),
         ("1", act("edit_order", field="address", value="幸福小区6号楼102"),
          act("edit_order", field="phone", value="13900139002")), ctx={"open_orders": _R5A_OPEN}),
    # #5 an order under way: said before any 1, an address passed to its volunteer and staff
    conv("r5a-under-way-address", ("254623号订单地址错了 是6号楼102", says("已经开始了", "转告"), never("确认修改")),
         ("1", act("edit_order", order=254623, field="address", hand_over=True)), ctx={"open_orders": _R5A_UNDER_WAY}),
    conv("r5a-under-way-time", ("254623号订单时间改到明天上午", says("已经开始了", "人工"), no_act("edit_order"),
                                state(State.IDLE)), ctx={"open_orders": _R5A_UNDER_WAY}),
    # #6 "算了不要了" at a change: the change dropped, the order kept and said so
    conv("r5a-suanle-buyaole", ("地址错了 是6号楼102",),
         ("算了不要了", says("不改了", "订单254623还在", "取消订单 254623"), never("已取消"), no_act()),
         ctx={"open_orders": _R5A_OPEN}),
    conv("r5a-suanle-at-ask", ("改一下时间", state(State.CHANGE_ASK)),
         ("算了不要了", says("订单254623还在"), never("已取消"), no_act()), ctx={"open_orders": _R5A_OPEN}),
]
TUNED.extend(R5A)


# -- r5b: outside tester round 5 (#2 phone after a comma, #7 what was asked, #8-9 ratings, #10 老地方, #11 领导) ----
_R5B_NONE_WAITING = {"unrated_orders": ()}
R5B: list[Conv] = [
    conv("r5b-phone-after-comma", HAIR, ("明天上午",),
         ("幸福小区9号楼101，13800138061", draft(phone="13800138061"), state(State.ORDER_CONFIRM), never("联系电话"))),
    conv("r5b-phone-1-is-no-miss", HAIR, ("明天上午",), ("幸福小区9号楼101", state(State.ORDER_PHONE)),
         ("1", says("还差一个联系电话"), state(State.ORDER_PHONE)), ("1", state(State.ORDER_PHONE), never("人工")),
         ("13800138061", state(State.ORDER_CONFIRM))),
    conv("r5b-details-door", ("后天上午来修下门", draft(details="修下门"))),
    conv("r5b-details-lamp", ("尽快来修下灯", draft(details="修下灯"))),
    conv("r5b-details-pipe", ("尽快来修水管", draft(details="修水管"))),
    conv("r5b-rate-tinghao", ("挺好", act("rate", order=31, hearts=4)), **RATING),
    conv("r5b-rate-tinghao-kind-words", ("挺好的 小伙子很热情", act("rate", order=31, hearts=4),
                                         act("comment", comment="挺好的 小伙子很热情")), **RATING),
    conv("r5b-rate-chaping", ("差评", act("rate", order=31, hearts=1)), **RATING),
    conv("r5b-rate-feichanghao", ("非常好 十分感谢", act("rate", order=31, hearts=5),
                                  act("comment", comment="非常好 十分感谢")), **RATING),
    conv("r5b-rate-praise-of-visit-still-asks", ("师傅来过了 修得挺好", no_act("rate"), state(State.RATE)), **RATING),
    conv("r5b-rate-5-nothing-waits", ("评价 5", says("没有要评价的订单"), never("订单5"), no_act("rate")),
         ctx=_R5B_NONE_WAITING),
    conv("r5b-rate-5-new-resident", ("评价 5", says("没有要评价的订单"), no_act("rate"))),  # no orders read at all
    conv("r5b-laodifang-first-message", ("明天上午老地方来理发", draft(address="向阳新村9栋"), says("向阳新村9栋"),
                                         never("还是送到"), state(State.ORDER_PHONE)), ctx=LAST),
    conv("r5b-same-as-last-at-time", HAIR, ("明天上午 跟上回一样", draft(address="向阳新村9栋"), never("还是送到")),
         ctx=LAST),
    conv("r5b-leader", ("找你们领导", act("human_handover"), state(State.HUMAN))),
]
TUNED.extend(R5B)


# -- fix15a: outside tester round 6 (#1 a new request at the phone question, #2 老地方 with nothing on file, #3 a
# rating corrected right after it, #4 fraud) -------------------------------------------------------------------
_DOOR_AT_PHONE = ("明天上午来幸福小区3栋101帮我修下门", state(State.ORDER_PHONE))
_HAIR_AT_PHONE = ("明天上午来幸福小区3栋101帮我理发", state(State.ORDER_PHONE))
_RATED_LONG_AGO = {"state": State.IDLE,
                   "slots": {"last_rating": {"order": 31, "hearts": 4, "at": "2026-11-23T00:00:00+00:00"}}}
_FRAUD = ("96110", "110", "停止转账", "银行", "冻结", "记录")
FIX15A: list[Conv] = [
    # #1 a new request at the phone question: not a phone; the order kept, what happens with the request said
    conv("f15a-phone-pipe-too", _DOOR_AT_PHONE,
         ("另外家里水管也漏了 能修吗", says("也记在这单【维修服务】"), never("没太明白", "号码"),
          draft_has("details", "修下门", "水管"), state(State.ORDER_PHONE)),
         ("13800138000", state(State.ORDER_CONFIRM), says("水管"))),
    conv("f15a-phone-haircut-next", _DOOR_AT_PHONE,
         ("我还想找人理个发", says("接着帮您下【义务理发】"), never("没太明白", "号码"), state(State.ORDER_PHONE)),
         ("13800138000", state(State.ORDER_CONFIRM), says("接着帮您下【义务理发】"))),
    conv("f15a-phone-groceries-next", _HAIR_AT_PHONE,
         ("顺便问下 能帮我买点菜吗", says("接着帮您下【代购代办】"), never("没太明白", "号码"),
          state(State.ORDER_PHONE)),
         ("1", says("还差一个联系电话")), ("13912345678", state(State.ORDER_CONFIRM))),
    conv("f15a-phone-dialect-lamp", _HAIR_AT_PHONE,
         ("还有俺家灯也坏了 能不能顺便修下", says("【维修服务】"), never("没太明白", "号码"),
          state(State.ORDER_PHONE, State.ORDER_SWITCH))),
    conv("f15a-phone-question-not-service", _HAIR_AT_PHONE,
         # the office's hours answered (fixdlg), the order kept
         ("对了 问下你们几点下班", says("上班时间", "义务理发订单还没提交，已经给您留着"), never("没太明白", "号码"),
          state(State.ORDER_PHONE)),
         ("顺便问问 能不能帮我问问物业", never("人工", "没太明白"), state(State.ORDER_PHONE)),
         ("13800138000", state(State.ORDER_CONFIRM))),
    conv("f15a-phone-digits-still-checked", _HAIR_AT_PHONE,
         ("我还想找人理个发 电话1380013", says("少了4位"), state(State.ORDER_PHONE))),
    conv("f15a-phone-said-in-words", _HAIR_AT_PHONE, ("我手机是13800138000", draft(phone="13800138000"),
                                                     state(State.ORDER_CONFIRM))),
    # #2 "跟上回一样" / "老地方" with no address on file: said plainly, the address asked again, no 人工
    conv("f15a-same-as-last-nothing-on-file", HAIR, ("明天上午",),
         ("跟上回一样", says("没有您以前留过的地址"), state(State.ORDER_ADDRESS), never("人工")),
         ("老地方", says("没有您以前留过的地址"), state(State.ORDER_ADDRESS), never("人工")),
         ("还是上次那个地址", says("没有您以前留过的地址"), never("人工")),
         ("幸福小区3栋101", state(State.ORDER_PHONE))),
    conv("f15a-laodifang-first-message-nothing", ("明天上午老地方来理发", says("没有您以前留过的地址"),
                                                  state(State.ORDER_ADDRESS), draft_lacks("address", "老地方"))),
    conv("f15a-same-as-last-at-time-nothing", ("帮我修下水龙头",),
         ("明早 还是上次那个地址", says("没有您以前留过的地址"), state(State.ORDER_ADDRESS), when(1))),
    conv("f15a-laodifang-with-saved-still-taken", ("明天上午老地方来理发", draft(address="向阳新村9栋"),
                                                   never("没有您以前留过")), ctx=LAST),
    # #3 a rating corrected soon after it (within the hour, once); the domain makes the points follow
    conv("f15a-rerate-tinghao-five", ("挺好", act("rate", order=31, hearts=4, guessed=True)),
         ("不对 五颗星", act("rerate", order=31, hearts=5, was=4), state(State.IDLE)), **RATING),
    conv("f15a-rerate-chaping-three", ("差评", act("rate", order=31, hearts=1, guessed=True)),
         ("打错了 是3", act("rerate", order=31, hearts=3, was=1), no_act("comment")), **RATING),
    conv("f15a-rerate-after-comment", ("挺好的",), ("师傅人挺实在的", act("comment")),
         ("我想给5分", act("rerate", order=31, hearts=5)), **RATING),
    conv("f15a-rerate-gaicheng", ("挺好",), ("改成5星", act("rerate", order=31, hearts=5)), **RATING),
    conv("f15a-rerate-manyi-words", ("差评",), ("点错了 应该是满意", act("rerate", order=31, hearts=4)), **RATING),
    conv("f15a-rerate-only-once", ("挺好",), ("改成5星", act("rerate")),
         ("打错了 是3", says("改过一次", "人工"), no_act("rerate")), **RATING),
    conv("f15a-rerate-same-hearts", ("挺好",), ("不对 是4颗心", says("就是4颗心"), no_act("rerate")), **RATING),
    conv("f15a-rerate-too-late", ("改成5星", says("超过一个小时", "人工"), no_act("rerate")), **_RATED_LONG_AGO),
    conv("f15a-rate-number-no-hint", ("5", act("rate", order=31, hearts=5, guessed=None)), **RATING),
    conv("f15a-rerate-not-an-address-fix", ("挺好",), ("不对 是3号楼", no_act("rerate")), **RATING),
    # #4 fraud: 110 now, 96110, stop paying, the bank, keep the records; a burglary keeps its own answer
    conv("f15a-fraud-money", ("我的钱被骗了", act("emergency", kind="crime", sub="fraud"), says(*_FRAUD),
                              never("锁好门")),
         ("那现在咋办啊", says("96110", "银行"), act("emergency_followup"))),
    conv("f15a-fraud-twenty-thousand", ("刚被骗了两万块", says(*_FRAUD), act("emergency", kind="crime"))),
    conv("f15a-fraud-transfer", ("被人骗着转账了", says(*_FRAUD))),
    conv("f15a-fraud-dialect", ("俺刚才叫骗子骗了钱 咋整", says("96110", "110"))),
    conv("f15a-fraud-under-way", ("有人冒充公安让我往安全账户转钱 我正在转", says("110", "96110", "停止转账", "挂断"),
                                  act("emergency", kind="crime"))),
    conv("f15a-burglary-not-fraud", ("我家被偷了", says("110", "锁好门"), never("96110"))),
    conv("f15a-fraud-hub-number", ("我的钱被骗了", says("96110", "110")), ctx={"hotlines": {"crime": "110"}}),
]
TUNED.extend(FIX15A)

# -- edit15: what a submitted order is for, or what is to be done, changed in chat (changing.content_asked), as elderly
# residents type it: typos, dialect, no punctuation --------------------------------------------------------------------
_EC_HAIR = {**_ED_HAIR, "state": "dispatched"}
_EC_TAKEN = {**_ED_HAIR, "state": "accepted"}
_EC_ONE = {"open_orders": (_EC_HAIR,)}
_EC_TWO = {"open_orders": (_EC_HAIR, _ED_MEALS)}
_EC_HELD = {"open_orders": (_EC_TAKEN,)}
EDIT_CONTENT: list[Conv] = [
    conv("ec-libfa-shuiguan", ("不是礼发 是修水管", says("【义务理发】改成【维修服务】"), state(State.CHANGE_CONFIRM),
                               no_act()),
         ("好的", act("edit_order", order=12, field="service", value="repair"), not_ordering), ctx=_EC_ONE),
    conv("ec-no-space", ("不是理发是修水龙头", says("维修服务")),
         ("1", act("edit_order", field="service", value="repair")), ctx=_EC_ONE),
    conv("ec-an-bu-lifa", ("俺不理发了 改成修下水管", says("改成【维修服务】")),
         ("中", act("edit_order", value="repair")), ctx=_EC_ONE),
    conv("ec-gaocuo-dasao", ("搞错了 不是理发 是打扫卫生", says("订单12", "家政保洁")),
         ("对", act("edit_order", order=12, value="housekeeping")), ctx=_EC_TWO),
    conv("ec-danzi-named", ("12号单子改成打扫卫生", says("家政保洁")), ("是的", act("edit_order", order=12)),
         ctx=_EC_ONE),
    conv("ec-xiujiao-none", ("不是理发 是修脚", says("没有“修脚”这项服务", "没有改"), no_act(), not_ordering),
         ctx=_EC_ONE),
    conv("ec-held-declined", ("不是理发 是修水管", says("已经有志愿者接了", "取消订单 12", "重新下一单"), no_act(),
                              not_ordering), ctx=_EC_HELD),
    conv("ec-buchong", ("补充一下 要剪短点", says("加上“要剪短点”"), state(State.CHANGE_CONFIRM)),
         ("1", act("edit_order", field="details", value={"text": "要剪短点", "add": True})), ctx=_EC_ONE),
    conv("ec-neirong", ("内容改成剪短一点 两边推平", says("内容改成")),
         ("嗯", act("edit_order", field="details", value={"text": "剪短一点 两边推平", "add": False})), ctx=_EC_ONE),
    conv("ec-dengpao-own-order", ("再加一样顺便换个灯泡", says("换个灯泡", "【维修服务】", "回复 2")),
         ("2", says("维修服务"), no_act("edit_order")), ctx=_EC_ONE),
    conv("ec-dengpao-added", ("顺带帮俺把灯泡换了", says("把灯泡换了")), ("1", act("edit_order", field="details")),
         ctx=_EC_ONE),
    conv("ec-huzi-held", ("再加一样 顺便帮俺把胡子刮刮", says("转告接单的志愿者")),
         ("1", act("edit_order", field="details")), ctx=_EC_HELD),
    conv("ec-which", ("还要帮俺刮个胡子", says("要改哪一个", "订单12", "订单15"), state(State.CHANGE_PICK)),
         ("1", says("刮个胡子")), ("1", act("edit_order", order=12, field="details")), ctx=_EC_TWO),
    conv("ec-meals-named", ("15号订单补充一下 饭要软一点", says("订单15", "饭要软一点")),
         ("好", act("edit_order", order=15, field="details")), ctx=_EC_TWO),
    conv("ec-question-by-the-way", ("顺便问下 你们几点下班", no_act("edit_order"), never("加上")), ctx=_EC_ONE),
    conv("ec-bugai", ("不是理发 是修水管",), ("不改了", says("没有改"), no_act(), not_ordering), ctx=_EC_ONE),
]
TUNED.extend(EDIT_CONTENT)


# -- outside tester (w2em): water at home is an urgent repair after the safety steps, not a flood; what is said after
# an emergency is handled by what it is; a gas leak names the gas company's line, not 119 ---------------------------
_W_ADDR, _W_PHONE = "幸福小区3号楼2单元501", "13812345678"
W2EM: list[Conv] = [
    conv("w2em-pipe-order", (f"水管爆了 越快越好 {_W_ADDR} 电话{_W_PHONE}", says("总水阀", "电闸", "119"),
                             never("到高处"),
                             act("emergency", kind="water", sub="household", address=_W_ADDR, phone=_W_PHONE),
                             state(State.ORDER_CONFIRM), draft(service="repair"), urgent),
         ("1", act("submit_order", service="repair", time_kind="asap", address=_W_ADDR, phone=_W_PHONE))),
    conv("w2em-drain-overflow", ("我家下水道堵了 水漫出来了", says("别冲马桶", "电闸"), never("到高处"),
                                 act("emergency", sub="household"), draft(service="repair"), urgent),
         ("幸福小区3栋2单元501 13812345678", state(State.ORDER_CONFIRM)), ("1", act("submit_order", service="repair"))),
    conv("w2em-fanshui", ("卫生间下水道反水 水漫出来了", never("到高处"), draft(service="repair"), urgent)),
    conv("w2em-pipe-everywhere", ("水管爆了 到处是水", says("总水阀"), draft(service="repair"), urgent,
                                  state(State.ORDER_ADDRESS))),
    conv("w2em-typo-bao", ("水管报了 满地都是水 快来人", draft(service="repair"), act("emergency"))),
    conv("w2em-an-guanzi-beng", ("俺家水管子崩了 水哗哗的", draft(service="repair"), never("到高处"))),
    conv("w2em-mattong-phone", ("厕所马桶往外冒水 满地都是 电话13812345678", draft(service="repair", phone=_W_PHONE))),
    conv("w2em-upstairs-rain", ("楼上漏水 漏得像下雨一样 越快越好", draft(service="repair"), urgent)),
    conv("w2em-said-again-mid-order", ("水管爆了 到处是水",),
         ("水管爆了 水还在喷 幸福小区3栋2单元501", no_act("emergency"), act("emergency_followup"),
          draft(service="repair"), draft_has("address", "幸福小区3栋"), state(State.ORDER_PHONE))),
    conv("w2em-mid-haircut", ("我想理发",), ("明天上午",),
         ("水管爆了 到处是水", act("emergency"), draft(service="repair"))),
    conv("w2em-handed-over-no-order",
         ("水管爆了 到处是水", act("emergency"), says("总水阀"), never("核对", "地址是哪里")), state=State.HUMAN),
    # real floods keep the full answer
    conv("w2em-flood-trapped", ("有人被困 水漫进屋 越来越深", says("到高处", "119"), not_ordering,
                                act("emergency", kind="water"), no_act("submit_order"))),
    conv("w2em-flood-elder", ("老人困在家里出不来 水漫进来了", says("到高处"), not_ordering)),
    conv("w2em-flood-mom", ("家里进水了 水越来越深 我妈出不来", says("到高处"), not_ordering)),
    # after it: thanks get a calm word, requests and ratings their answer, only more about it the follow-up
    conv("w2em-thanks-after-flood", ("有人被困 水漫进屋 越来越深",),
         ("好的 谢谢", says("不客气", "119"), never("值班", "别着急"), no_act())),
    conv("w2em-en-zhidaole", ("我爸喘不上气了",), ("嗯嗯 知道了", says("不客气"), no_act())),
    conv("w2em-praise-after", ("有人被困 水漫进屋 越来越深",),
         ("师傅来得挺快的 修得也好 就是地上弄得有点脏", never("119", "值班", "别着急"), no_act("emergency_followup"))),
    conv("w2em-hearts-after", ("有人被困 水漫进屋 越来越深",),
         ("五颗心吧", act("rate", order=31, hearts=5), never("119")), ctx={"unrated_orders": (31,)}),
    conv("w2em-order-after", ("有人被困 水漫进屋 越来越深",),
         ("明天上午帮我理发 幸福小区3栋201", draft(service="haircut"), no_act("emergency_followup"))),
    conv("w2em-worse-after", ("有人被困 水漫进屋 越来越深",),
         ("水越来越深了 咋办", says("119", "转告"), act("emergency_followup"))),
    conv("w2em-still-breathless", ("我爸喘不上气了", act("emergency")),
         ("还是喘不上气", says("120", "转告"), act("emergency_followup"), no_act("emergency")),
         ("救护车还没来", says("120"), never("转告"), no_act("emergency_followup", "emergency"))),
    conv("w2em-selfharm-thanks", ("活着也没啥意思了 不想活了",), ("好的 谢谢", says("12356"), no_act())),
    # a gas leak: the gas company's line (the hub's, else where to find it); 119 for a fire
    conv("w2em-gas-no-119", ("厨房燃气泄漏了 好大的味", says("燃气公司抢修电话", "燃气卡或账单"), never("抢修 119")),
         ("那现在咋办", says("燃气公司"), never("抢修 119"), act("emergency_followup"))),
    conv("w2em-gas-hub-line", ("家里煤气味好大 头有点晕", says("燃气公司抢修电话 96777")),
         ctx={"hotlines": {"gas": "96777"}}),
]
TUNED.extend(W2EM)


# -- w2res2: outside testers (2026-12-03): a comment is no re-rating, a partial address fix keeps the door, what the
# volunteer reads is tidy, 催单 and the volunteer's phone, points asked about, 代点单 said in one breath --------------
def _for_phone(phone: str) -> Check:
    """The order is for someone whose own phone is `phone` (the contact the volunteer calls)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        d = t.slots.get("draft") or {}
        for a in res.actions:
            if a.name == "submit_order":
                d = a.data
        got = (d.get("for") or {}).get("phone")
        return None if got == phone else f"the relative's phone is {got!r}, expected {phone!r}"
    return check


_W2_DOOR = {"open_orders": ({"id": 12, "service": "haircut", "when": "11月24日(周二) 09:00", "time_kind": "point",
                             "start": "2026-11-24T01:00:00+00:00", "end": None, "address": "幸福小区2号楼1单元302"},)}
_W2_TANG = "我在上海 给我妈约个陪她聊天的 她叫张桂兰 住幸福小区3栋201 明天下午 她电话13512345678 我电话13912345678"
W2RES2: list[Conv] = [
    # 1. words in a comment never change a rating given as a number; only a number said as a correction does
    conv("w2-comment-yibanban", ("2", act("rate", order=31, hearts=2)),
         ("服务一般般，来晚了", act("comment", order=31), no_act("rerate"), never("改为")), **RATING),
    conv("w2-comment-yibanban-nopunct", ("2",), ("服务一般般 来晚了", act("comment"), no_act("rerate")), **RATING),
    conv("w2-comment-haixing", ("2",), ("还行吧 就是来的晚", act("comment"), no_act("rerate")), **RATING),
    conv("w2-comment-tinghao", ("4",), ("挺好 师傅人实在", act("comment"), no_act("rerate")), **RATING),
    conv("w2-comment-bucuo-haoping", ("2",), ("态度不错 给个好评 就是来晚了", act("comment"), no_act("rerate")),
         **RATING),
    conv("w2-comment-minutes", ("3",), ("来晚了20分钟 一般般", act("comment"), no_act("rerate")), **RATING),
    conv("w2-comment-shijian-budui", ("挺好",), ("时间不对 一般般", act("comment"), no_act("rerate")), **RATING),
    conv("w2-comment-five-with-words", ("3",), ("5颗心 师傅很好", act("comment"), no_act("rerate")), **RATING),
    conv("w2-rerate-gaicheng-3", ("2",), ("改成3颗心", act("rerate", order=31, hearts=3, was=2), no_act("comment")),
         **RATING),
    conv("w2-rerate-budui-5ke", ("2",), ("不对 是5颗", act("rerate", hearts=5, was=2)), **RATING),
    conv("w2-rerate-dacuo-3", ("1",), ("打错了 是3", act("rerate", hearts=3, was=1)), **RATING),
    conv("w2-rerate-how", ("2",), ("刚才评错了", says("2颗心", "改成5颗心"), no_act("rerate"), never("超过一个小时")),
         **RATING),
    # 2. a submitted order's address corrected in part: only that part, the whole new address shown
    conv("w2-door-building", ("地址错了 是3号楼", says("幸福小区3号楼1单元302", "单元、门牌"),
                              state(State.CHANGE_CONFIRM), no_act()),
         ("1", act("edit_order", order=12, field="address", value="幸福小区3号楼1单元302")), ctx=_W2_DOOR),
    conv("w2-door-dong", ("地址不对 应该是3栋", says("幸福小区3栋1单元302")),
         ("对", act("edit_order", value="幸福小区3栋1单元302")), ctx=_W2_DOOR),
    conv("w2-door-room", ("门牌号错了 是402", says("幸福小区2号楼1单元402"), never("单元、门牌")),
         ("是的", act("edit_order", value="幸福小区2号楼1单元402")), ctx=_W2_DOOR),
    conv("w2-door-unit-too", ("地址错了 是3号楼",), ("单元也变了 是2单元402", says("幸福小区3号楼2单元402")),
         ("好", act("edit_order", value="幸福小区3号楼2单元402")), ctx=_W2_DOOR),
    conv("w2-door-whole", ("地址错了 在阳光小区5栋101", says("阳光小区5栋101"), never("单元、门牌")),
         ("1", act("edit_order", value="阳光小区5栋101")), ctx=_W2_DOOR),
    # 3. what the volunteer reads: no leftovers of the time and address taken out
    conv("w2-details-woshide", ("我是幸福小区3栋的 我家电视没信号了 你们谁能来给弄弄 今天 不 明天下午",
                                draft(address="幸福小区3栋"), draft_has("details", "电视没信号", "弄弄"),
                                draft_lacks("details", "我是的", "今天", " 不"))),
    conv("w2-details-laozhang", ("我是幸福小区5栋的老张啊就是我家那个马桶不下水了嗯来明天上午",
                                 draft(address="幸福小区5栋"), draft_has("details", "老张", "马桶不下水了"),
                                 draft_lacks("details", "我是的", "嗯来"))),
    conv("w2-details-bushi-jintian", ("修水管 不是今天 明天上午", draft(details="修水管"))),
    conv("w2-details-wozhu-de", ("我住幸福小区3栋的 水管漏了 明天来", draft(details="水管漏了"))),
    conv("w2-details-nage-en", ("我是阳光小区的 明天上午 那个 嗯 帮我修下门", draft_lacks("details", "那个", "嗯"),
                                draft_has("details", "修下门"))),
    # 4. hurrying the volunteer, and the volunteer's phone asked for
    conv("w2-cui-yixia", ("志愿者咋还没来 催一下", act("nudge_volunteer"), not_ordering)),
    conv("w2-cui-cui", ("催催", act("nudge_volunteer"))),
    conv("w2-zenme-hai-meilai", ("师傅怎么还没来啊", act("nudge_volunteer"), no_act("my_orders"))),
    conv("w2-zan-hai-meiren", ("咋还没人来", act("my_orders"), no_act("nudge_volunteer"))),  # nobody yet: the status
    conv("w2-bang-wo-cui", ("帮我催一下师傅", act("nudge_volunteer"), not_ordering)),
    conv("w2-wang-shifu-phone", ("给我王师傅的电话", act("volunteer_contact"), never("帮不上忙"))),
    conv("w2-how-reach", ("怎么联系志愿者", act("volunteer_contact"))),
    conv("w2-when-still-status", ("啥时候来啊", act("my_orders"), no_act("nudge_volunteer"))),
    # 5. points asked about by a resident
    conv("w2-points-huan", ("积分怎么换东西", act("points_info"), never("帮不上忙"))),
    conv("w2-points-voice", ("嗯 你们那个积分是干啥用的", act("points_info"))),
    conv("w2-points-youshayong", ("积分有啥用啊", act("points_info"))),
    conv("w2-points-typo", ("积份咋来的", act("points_info"))),
    conv("w2-points-an-ye", ("俺也想攒积分咋弄", act("points_info"), not_ordering)),
    conv("w2-points-plain", ("积分", act("points"))),
    # 6. 代点单 said in one breath: 为谁 shown, the relative's phone the contact, the caller's kept as theirs
    conv("w2-proxy-shanghai", (_W2_TANG, says("为谁：张桂兰", "135****5678", "您的电话：13912345678"),
                               state(State.ORDER_CONFIRM), draft(phone="13912345678"), _for("张桂兰"),
                               _for_phone("13512345678"), draft_lacks("details", "张桂兰")),
         ("1", act("submit_order", phone="13912345678"), _for("张桂兰"), _for_phone("13512345678"))),
    conv("w2-proxy-waidi-wang", ("我在外地 帮我妈约个陪诊 明天上午 幸福小区2栋101 她姓王 电话13812345678",
                                 says("为王阿姨安排", "为谁：王阿姨"), state(State.ORDER_CONFIRM), _for("王阿姨"))),
    conv("w2-proxy-laoren-liu", ("我家老人要理发，明天下午，我妈叫刘桂芬", says("为刘桂芬安排"), _for("刘桂芬")),
         ("幸福小区1栋101",), ("13812345678", says("为谁：刘桂芬"), state(State.ORDER_CONFIRM))),
    conv("w2-proxy-an-niang", ("帮俺娘约个理发 她叫王秀英 明儿上午 幸福小区4栋302 俺电话13912345678",
                               says("为谁：王秀英"), _for("王秀英"), draft(phone="13912345678"))),
    conv("w2-proxy-not-self", ("我叫张桂兰 明天上午来理发 幸福小区4栋302 13912345678", never("为谁"),
                               draft_lacks("for", "张桂兰"))),
]
TUNED.extend(W2RES2)


# -- w2res1: the outside testers' time, slot-order, landline and night-urgent failures, as elderly residents type ------
def _ends(day: int, hour: int, minute: int = 0) -> Check:
    """The order's time ends `day` days after the conversation's day, at hour:minute (Shanghai)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        d = dict(t.slots.get("draft") or {})
        for a in res.actions:
            if a.name == "submit_order":
                d = dict(a.data)
        end = d.get("end")
        if not end:
            return f"the order's time has no end: {d}"
        got = datetime.fromisoformat(str(end)).astimezone(SHANGHAI)
        today = t.now.astimezone(SHANGHAI).date()
        if got.date() != today + timedelta(days=day) or (got.hour, got.minute) != (hour, minute):
            return f"ends {got:%m-%d %H:%M}, expected day +{day} {hour:02d}:{minute:02d}"
        return None
    return check


_W1_FIX = "帮俺修下水龙头"
_W1_PHONE_ASKED = (HAIR, ("明天上午",), ("幸福小区3栋101",))
_W1_AM = (("理发 明天上午",), ("幸福小区3栋101",))
W2RES1: list[Conv] = [
    # 1. a time counted from now, in hours or minutes, Chinese numerals, 钟头 / 小时 / 分钟 (and their typos)
    conv("w1-yige-zhongtou-yihou", HAIR, ("一个钟头以后", when(0, (11, 11), 0), state(State.ORDER_ADDRESS),
                                          never("没太明白"))),
    conv("w1-guo-liangge-xiaoshi", ("俺想剪个头",), ("过两个小时吧", when(0, (12, 12), 0), never("没太明白"))),
    conv("w1-ban-ge-zhongtou-hou", (_W1_FIX,), ("半个钟头后来", when(0, (10, 10), 30))),
    conv("w1-liangge-duo-xiaoshi", HAIR, ("两个多小时以后", when(0, (12, 12), 0), _ends(0, 13), never("没太明白"))),
    conv("w1-yiliangge-zhongtou", HAIR, ("一两个钟头后吧", when(0, (11, 11)), _ends(0, 12))),
    conv("w1-zhongtou-typo", HAIR, ("一个种头以后", when(0, (11, 11)), never("没太明白"))),
    conv("w1-one-and-half", HAIR, ("1.5小时后", when(0, (11, 11), 30))),
    conv("w1-ershi-fenzhong", HAIR, ("二十分钟以后来就行", when(0, (10, 10), 20))),
    conv("w1-one-shot-voice", ("喂 俺家水龙头坏了 一个钟头以后能来不 俺住幸福小区5栋1单元302", when(0, (11, 11)),
                               draft(address="幸福小区5栋1单元302"), state(State.ORDER_PHONE))),
    conv("w1-evening-ok", HAIR, ("一个钟头以后", when(0, (21, 21)), state(State.ORDER_ADDRESS)), at="20:00"),
    # … at night: the morning offered, and a yes takes it (never "没太明白")
    conv("w1-night-offer", ("帮我修水龙头 一个钟头以后", says("半夜", "改成明天上午可以吗"), state(State.ORDER_TIME)),
         ("好", when(1, (8, 8)), state(State.ORDER_ADDRESS), never("没太明白")), at="22:48"),
    conv("w1-night-at-question", HAIR, ("一个钟头以后", says("半夜", "明天上午")),
         ("行 就明天上午吧", when(1, (8, 8)), state(State.ORDER_ADDRESS)), at="22:48"),
    conv("w1-after-midnight", (_W1_FIX,), ("过两个小时", says("今天上午")), ("1", when(0, (8, 8))), at="00:30"),
    # 2. only the day changed: the part of the day (or the hour) already said is kept; a new part replaces it
    conv("w1-houtian-keeps-am", *_W1_AM, ("算了 还是后天吧", when(2, (8, 8)), _ends(2, 12), never("全天"),
                                          state(State.ORDER_PHONE))),
    conv("w1-houtian-voice", *_W1_AM, ("哎呀俺说错了不是明天是后天", when(2, (8, 8)), never("全天"))),
    conv("w1-zhouwu-keeps-am", *_W1_AM, ("改到周五", when(4, (8, 8)), never("全天"))),
    conv("w1-houtian-at-address", ("理发 明天上午",), ("算了 还是后天吧", when(2, (8, 8)), state(State.ORDER_ADDRESS))),
    conv("w1-houtian-at-confirm", TO_CONFIRM, ("不是明天 是后天", when(2, (9, 9)), state(State.ORDER_CONFIRM))),
    conv("w1-houtian-hour-kept", ("理发 明天上午9点",), ("幸福小区3栋101",), ("还是后天吧", when(2, (9, 9), 0))),
    conv("w1-houtian-pm-replaces", *_W1_AM, ("还是后天下午吧", when(2, (13, 13)), _ends(2, 18))),
    # 3. a slot said out of turn is kept, said so, and the question asked again; the same rule at every question
    conv("w1-address-at-time", ("我想理发",),
         ("幸福小区3号楼2单元501", says("地址记下了", "什么时间"), draft(address="幸福小区3号楼2单元501"),
          state(State.ORDER_TIME), never("没太明白")),
         ("明天上午", state(State.ORDER_PHONE), never("服务地址"))),
    conv("w1-address-fixed-at-time", HAIR, ("白莲路88号院5号楼", says("地址记下了")),
         ("不对 是6号楼", says("白莲路88号院6号楼"), draft(address="白莲路88号院6号楼"), state(State.ORDER_TIME),
          never("没太明白")),
         ("明天上午", state(State.ORDER_PHONE))),
    conv("w1-phone-at-address", HAIR, ("明天上午",),
         ("13812345678", says("电话记下了", "服务地址"), draft(phone="13812345678"), state(State.ORDER_ADDRESS),
          never("没太明白")),
         ("幸福小区3栋101", state(State.ORDER_CONFIRM))),
    conv("w1-phone-at-time", HAIR, ("13812345678", says("电话记下了"), state(State.ORDER_TIME))),
    conv("w1-both-at-time", ("俺要理发",), ("俺住幸福小区3号楼2单元501 电话13812345678", says("记下了"),
                                           draft(address="幸福小区3号楼2单元501", phone="13812345678"),
                                           state(State.ORDER_TIME)),
         ("明天上午", state(State.ORDER_CONFIRM))),
    conv("w1-address-at-night-offer", ("帮我修一下水龙头，漏水了，今天下午", says("改成明天下午可以吗")),
         ("白莲小区5号楼1单元302", says("地址记下了", "改成明天下午可以吗"), draft(address="白莲小区5号楼1单元302"),
          state(State.ORDER_TIME), never("没太明白")),
         ("1", when(1, (13, 13)), state(State.ORDER_PHONE)), at="22:30"),
    conv("w1-address-at-service", ("1", state(State.ORDER_SERVICE)),
         ("幸福小区3栋101", says("地址记下了"), state(State.ORDER_SERVICE), never("没太明白")),
         ("理发",), ("明天上午", state(State.ORDER_PHONE), draft(address="幸福小区3栋101"))),
    conv("w1-address-at-proxy-phone", ("帮我妈下单",), ("刘阿姨",),
         ("她住幸福小区3栋101", says("地址记下了", "联系电话"), state(State.PROXY_PHONE), never("没太明白"))),
    conv("w1-new-address-at-phone", *_W1_PHONE_ASKED,
         ("向阳新村9栋1单元202", says("地址改成向阳新村9栋1单元202"), draft(address="向阳新村9栋1单元202"),
          state(State.ORDER_PHONE), never("没太明白"))),
    conv("w1-phone-at-door-question", ("修水龙头 明天上午",), ("白莲小区", says("几栋")),
         ("13812345678", says("电话记下了", "白莲小区几栋"), state(State.ORDER_ADDRESS)),
         ("5号楼1单元302", draft(address="白莲小区5号楼1单元302", phone="13812345678"), state(State.ORDER_CONFIRM))),
    conv("w1-phone-at-saved-offer", HAIR, ("明天上午", says("还是送到")),
         ("13812345678", says("电话记下了", "还是送到"), draft(phone="13812345678"), state(State.ORDER_ADDRESS)),
         ("是", state(State.ORDER_CONFIRM), draft(address="幸福小区3栋2单元301")), ctx=SAVED),
    conv("w1-saved-yes-with-phone", HAIR, ("明天上午",),
         ("跟上回一样 电话13812345678", draft(address="幸福小区3栋2单元301", phone="13812345678"),
          state(State.ORDER_CONFIRM)), ctx=SAVED),
    conv("w1-short-phone-with-address", *_W1_PHONE_ASKED, ("1381234 幸福小区3栋101", says("少了4位"))),
    # 4. a landline is the contact phone, with or without its area code
    conv("w1-zuoji-no-area", *_W1_PHONE_ASKED,
         ("俺没有手机 就座机 66881234", draft(phone="66881234"), says("电话：66881234"), never("不留电话", "电话：无"),
          state(State.ORDER_CONFIRM))),
    conv("w1-landline-bare", *_W1_PHONE_ASKED, ("6688 1234", draft(phone="66881234"), state(State.ORDER_CONFIRM))),
    conv("w1-landline-area", *_W1_PHONE_ASKED, ("0731-22881234", draft(phone="073122881234"),
                                                says("电话：0731-22881234"))),
    conv("w1-landline-spoken", *_W1_PHONE_ASKED, ("俺家座机是八八六六一二三四", draft(phone="88661234"))),
    conv("w1-landline-one-shot", ("修水龙头 明天上午 幸福小区3栋101 座机66881234",
                                  draft(address="幸福小区3栋101", phone="66881234"), state(State.ORDER_CONFIRM),
                                  draft_lacks("details", "机"))),
    conv("w1-landline-door-then-area", ("水龙头漏了 明天上午 幸福小区3栋101 0731-22881234",
                                        draft(address="幸福小区3栋101", phone="073122881234"),
                                        draft_lacks("details", "身份证"))),
    conv("w1-landline-proxy", ("帮我妈下单",), ("刘阿姨",), ("66881234", draft(phone=None), says("记下了"),
                                                          draft(**{"for": {"name": "刘阿姨", "phone": "66881234"}}))),
    conv("w1-landline-offered-masked", HAIR, ("明天上午",), ("幸福小区3栋101", says("****1234"), never("66881234")),
         ("1", draft(phone="66881234")), phone="66881234"),
    conv("w1-mobile-short-still-asked", *_W1_PHONE_ASKED, ("1381234", says("少了"), state(State.ORDER_PHONE))),
    # 5. 尽快 at night: said plainly that volunteers come in the morning, the window to 9 the next morning
    conv("w1-asap-night", HAIR, ("尽快", says("夜里", "明早9点前"), urgent, _ends(1, 9), never("01:20")),
         ("幸福小区3栋101",), ("13812345678", says("尽快（明早9点前）"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order", time_kind="asap")), at="22:20"),
    conv("w1-asap-night-one-shot", ("水龙头漏了 赶紧派个人来 幸福小区3栋101 电话13812345678",
                                    says("尽快（明早9点前）", "早上"), _ends(1, 9), state(State.ORDER_CONFIRM)),
         at="22:20"),
    conv("w1-asap-after-midnight", (_W1_FIX,), ("越快越好", says("今天上午9点前"), _ends(0, 9)), at="00:30"),
    conv("w1-asap-early-morning", (_W1_FIX,), ("马上来", _ends(0, 9, 30)), at="06:30"),
    conv("w1-asap-day-unchanged", HAIR, ("尽快", never("夜里", "明早"), _ends(0, 13))),
]
TUNED.extend(W2RES1)

# -- fixA: after an emergency the kept order is resumed by the answer to its question; help arriving gets a calm
# word, no second staff alert; a rating given before the job is done is never a service -----------------------------
_FA_PIPE = ("帮我修水管 明天上午 幸福小区12栋101", says("联系电话"))
_FA_SCAM = ("刚接到个电话说是公安局的让我转账", act("emergency"), says("96110"))
FIXA: list[Conv] = [
    conv("fa-kept-phone-answers", _FA_PIPE, _FA_SCAM,
         ("13811118888", state(State.ORDER_CONFIRM), draft(phone="13811118888", address="幸福小区12栋101"),
          never("回复“继续”")),
         ("1", act("submit_order"), never("您需要什么服务"))),
    conv("fa-kept-asked-shuiguan", _FA_PIPE, _FA_SCAM,
         ("好 我挂了 那修水管的事呢", state(State.ORDER_PHONE), says("联系电话"), never("回复“继续”")),
         ("13811118888", state(State.ORDER_CONFIRM))),
    conv("fa-kept-asked-danzi", _FA_PIPE, _FA_SCAM,
         ("刚才那个单子呢", state(State.ORDER_PHONE), draft(service="repair"))),
    conv("fa-kept-jiezhe", _FA_PIPE, _FA_SCAM, ("接着下", state(State.ORDER_PHONE))),
    conv("fa-kept-jixu", _FA_PIPE, _FA_SCAM, ("继续", state(State.ORDER_PHONE))),
    conv("fa-kept-one-not-dropped", _FA_PIPE, _FA_SCAM, ("1", state(State.ORDER_PHONE), never("您需要什么服务"),
                                                         draft(service="repair", address="幸福小区12栋101"))),
    conv("fa-kept-address-answers", ("俺要理发 明天下午",), ("我老伴摔倒了起不来", act("emergency")),
         ("幸福小区3栋101", draft(address="幸福小区3栋101", service="haircut"), never("回复“继续”"))),
    conv("fa-kept-confirm-hao", ("修水龙头 明天上午 幸福小区3栋101 电话13812345678", state(State.ORDER_CONFIRM)),
         # right after the emergency answer "好" acknowledges the safety steps: the summary is shown again (blind
         # held-out v6 expected no order from it), and a second yes submits it
         ("家里煤气漏气了 味好大", act("emergency")),
         ("好", says("接着下刚才【维修服务】的单", "请核对"), no_act("submit_order"), state(State.ORDER_CONFIRM)),
         ("好", act("submit_order"))),
    conv("fa-ambulance-came", ("我老伴晕倒了叫不醒", act("emergency")),
         ("救护车来了 谢谢你们", says("医生"), never("如果还没打", "转告"), no_act("emergency", "emergency_followup"))),
    conv("fa-doctor-came", ("俺老头子晕过去了 叫不醒", act("emergency")),
         ("医生到了", says("医生"), no_act("emergency_followup"), not_ordering)),
    conv("fa-still-out", ("我老伴晕倒了叫不醒",), ("救护车来了 可还是叫不醒", says("120"))),
    conv("fa-gas-valve-shut", ("家里煤气漏气了 味好大", act("emergency")),
         ("关了阀门了 谢谢", says("做得对"), no_act("emergency", "emergency_followup"), never("转告"))),
    conv("fa-gas-window-out", ("家里煤气漏气了 味好大",),
         ("窗户开了 人出来了", no_act("emergency", "emergency_followup"), not_ordering, never("转告"))),
    conv("fa-fire-brigade", ("不好了厨房着火了", act("emergency")),
         ("消防队来了", says("消防"), no_act("emergency", "emergency_followup"), never("转告"))),
    conv("fa-police-came", ("有人撬我家门 吓死了", act("emergency")),
         ("警察来了", says("警察"), no_act("emergency", "emergency_followup"), never("转告"))),
    conv("fa-rate-mid-order", ("帮我修水管",), ("挺好的 小伙子手艺不错 给五颗心", says("服务完成后"),
                                                state(State.ORDER_TIME), never("技能培训"), no_act("rate"))),
    conv("fa-rate-idle-nothing", ("挺好的 小伙子手艺不错 给五颗心", says("服务完成后"), never("技能培训"),
                                  not_ordering), ctx={"unrated_orders": ()}),
    conv("fa-rate-idle-one", ("挺好的 小伙子手艺不错 给五颗心", act("rate", order=31, hearts=5), never("技能培训")),
         ctx={"unrated_orders": (31,)}),
    conv("fa-rate-haoping-mid", ("俺要理发 明天上午",), ("师傅不错 给个好评", says("服务完成后"), never("改成"))),
]
TUNED.extend(FIXA)


# -- outside tester round 7 (fixB): an answer at the address question is an address only if it looks like one; 我住
# 3号楼2单元501 in a one-message order is the address; the hearts given win over words, the rest is the comment; a
# corrected rating with a comment takes the number and keeps the comment
_B7_AT_ADDRESS = (HAIR, ("明天上午", state(State.ORDER_ADDRESS)))
FIXB_RESIDENTS: list[Conv] = [
    conv("b7-addr-cui", *_B7_AT_ADDRESS, ("咋还没来 催一下", act("nudge_volunteer"), act("note"), draft(address=None),
                                          state(State.ORDER_ADDRESS)),
         ("幸福小区3栋101", draft(address="幸福小区3栋101"), state(State.ORDER_PHONE))),
    conv("b7-addr-cuicui-no-door-asked", *_B7_AT_ADDRESS, ("师傅咋还没来啊 催催", never("几栋几单元"),
                                                           draft(address=None))),
    conv("b7-addr-question", *_B7_AT_ADDRESS, ("谢谢 那现在怎么办", says("还没提交", "详细地址"), never("几栋几单元"),
                                               draft(address=None), state(State.ORDER_ADDRESS))),
    conv("b7-addr-question-counted", *_B7_AT_ADDRESS, ("那现在咋办",), ("要等多久啊",),
         ("还要多久", says("人工"), draft(address=None), state(State.ORDER_ADDRESS))),
    conv("b7-addr-words-no-place", *_B7_AT_ADDRESS, ("我也不太清楚了", says("没太明白", "详细地址"),
                                                     draft(address=None))),
    conv("b7-addr-human", *_B7_AT_ADDRESS, ("转人工吧", state(State.HUMAN))),
    conv("b7-addr-cancel", *_B7_AT_ADDRESS, ("不弄了 取消", says("已取消"), state(State.IDLE))),
    conv("b7-addr-after-door-asked", *_B7_AT_ADDRESS, ("白莲小区", says("几栋几单元")),
         ("谢谢 那现在怎么办", draft(address=None), state(State.ORDER_ADDRESS)),
         ("3栋2单元501", draft(address="白莲小区3栋2单元501"))),
    conv("b7-addr-village-words", *_B7_AT_ADDRESS, ("东风村老王家隔壁", says("东风村", "几栋几单元"))),
    conv("b7-addr-units-alone", *_B7_AT_ADDRESS, ("3号楼2单元501", draft(address="3号楼2单元501"),
                                                  state(State.ORDER_PHONE))),
    conv("b7-one-shot-wozhu-pipe", ("我家水管漏了 明天上午来修一下 我住3号楼2单元501 电话13812345678",
                                    draft(address="3号楼2单元501", phone="13812345678"),
                                    draft_lacks("details", "3号楼", "我住"),
                                    never("服务地址是哪里"), state(State.ORDER_CONFIRM))),
    conv("b7-one-shot-wozhu-tv", ("帮我修电视 我住3号楼2单元501 电话13812345678", draft(address="3号楼2单元501"),
                                  draft_lacks("details", "501"), never("服务地址是哪里"))),
    conv("b7-one-shot-anzhu", ("俺住5栋301 明儿下午来个人理发", draft(address="5栋301"), never("服务地址是哪里"))),
    conv("b7-zhuyuan-no-address", ("我住院了 想找人陪护", draft(address=None))),
    conv("b7-rate-words-and-hearts", ("一般般吧 来得太晚了 两颗心", act("rate", order=31, hearts=2),
                                      act("comment", order=31, comment="来得太晚了"), never("没太明白")), **RATING),
    conv("b7-rate-stars-after-words", ("还行 就是来晚了20分钟 三颗星", act("rate", hearts=3), act("comment"),
                                       never("没太明白")), **RATING),
    conv("b7-rate-good-words-low-number", ("挺满意的 师傅人好 给一颗心吧", act("rate", hearts=1), act("comment")),
         **RATING),
    conv("b7-rerate-with-comment", ("5颗心",), ("不对 给四颗心吧 来晚了", act("rerate", order=31, hearts=4, was=5),
                                              act("comment", order=31, comment="来晚了"), never("要改成几颗心")),
         **RATING),
    conv("b7-rerate-with-comment-digit", ("5",), ("打错了 4颗心 师傅迟到了", act("rerate", hearts=4),
                                                 act("comment", comment="师傅迟到了")), **RATING),
    conv("b7-rerate-plain-unchanged", ("5颗心",), ("不对 给四颗心吧", act("rerate", hearts=4), no_act("comment")),
         **RATING),
]
TUNED.extend(FIXB_RESIDENTS)


# -- outside tester (fixC): 代点单's phones, the one served asking, pinyin typed alone ---------------------------------
# 1. "她电话137…" is the relative's contact phone, never also the caller's: the caller's own asked for once (or the
# one on file taken), "不用" leaves it out
_FIXC_ZHAO = "帮我妈约个陪诊 明天上午 幸福小区3栋101 她电话13700004321 她姓赵"
FIXC: list[Conv] = [
    conv("fixc-proxy-her-phone", (_FIXC_ZHAO, says("赵阿姨", "您自己的电话也留一个吧", "不用"),
                                  state(State.ORDER_PHONE), draft(phone=None), never("您的电话：13700004321")),
         ("13911112222", says("为谁：赵阿姨（137****4321）", "您的电话：13911112222"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order", phone="13911112222"))),
    conv("fixc-proxy-her-phone-buyong", (_FIXC_ZHAO,),
         ("不用了", says("为谁：赵阿姨", "您的电话：不留"), never("已取消"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order"))),
    conv("fixc-proxy-her-phone-on-file", (_FIXC_ZHAO, says("为谁：赵阿姨（137****4321）", "您的电话：13911112222"),
                                          never("您自己的电话也留"), state(State.ORDER_CONFIRM)),
         phone="13911112222"),
    conv("fixc-proxy-wo-ma-dianhua", ("给我妈约个理发 后天上午 向阳新村2栋302 我妈电话13700005555 她姓钱",
                                      says("钱阿姨", "您自己的电话"), draft(phone=None))),
    conv("fixc-proxy-both-phones", ("帮我妈约个陪诊 明天上午 幸福小区3栋101 她电话13700004321 我电话13911112222 她姓赵",
                                    says("为谁：赵阿姨（137****4321）", "您的电话：13911112222"),
                                    never("您自己的电话也留"), state(State.ORDER_CONFIRM))),
    conv("fixc-proxy-stepwise", ("帮我妈下单",), ("刘阿姨",), ("13700006666", draft(phone=None)), ("理发",),
         ("明天上午",), ("幸福小区3栋101", says("您自己的电话也留一个吧")),
         ("13911112222", says("为谁：刘阿姨（137****6666）", "您的电话：13911112222"))),
    # 2. the one served asks from her own WeChat: her orders listed (the edge says plainly when it cannot see them)
    conv("fixc-family-asks", ("我闺女给我约了陪诊 是哪天来", act("my_orders", by_family=True))),
    # outside tester round 7, left by fixC: 帮我 here is what the son did, not a new request
    conv("lead-family-son-helped",
         ("我儿子帮我下了个单 啥时候来啊", act("my_orders", by_family=True), no_act("submit_order"))),
    conv("lead-family-grandson-meal", ("俺孙子给俺订了个助餐 啥时候送", act("my_orders", by_family=True))),
    conv("lead-not-family-new-request", ("帮我约个理发 啥时候来都行", no_act("my_orders"))),
    conv("fixc-own-orders", ("我的订单", act("my_orders"), no_act("rate"))),
    # 3. pinyin typed without characters, and two messages in a row not understood
    conv("fixc-pinyin-lifa", ("lifa", draft(service="haircut"), state(State.ORDER_TIME), never("帮不上忙")),
         ("明天", state(State.ORDER_ADDRESS)), ("幸福小区3栋101",), ("13811113333", state(State.ORDER_CONFIRM))),
    conv("fixc-pinyin-spaced", ("zhao ren xiu shui guan", draft(service="repair", details="维修服务"),
                                never("帮不上忙"))),
    conv("fixc-pinyin-tones", ("lǐ fà", draft(service="haircut"))),
    conv("fixc-pinyin-tone-digits", ("xiu3 shui3 guan3", draft(service="repair"))),
    conv("fixc-two-misses", ("asdfgh", says("帮不上忙")),
         ("qwerty zxc", says("1 维修服务", "回复“人工”找工作人员"), never("帮不上忙"), state(State.ORDER_SERVICE)),
         ("1", draft(service="repair"))),
    conv("fixc-miss-then-understood", ("asdfgh", says("帮不上忙")), ("理发", draft(service="haircut")),
         ("不要了", state(State.IDLE)), ("xyzw qq", says("帮不上忙"), never("找工作人员"))),
]
TUNED.extend(FIXC)

# outside tester out9: "每周三…" booked one visit and said nothing of the rest. The first visit is booked, the
# summary says the rest are staff's to arrange (they are told on submit), the 每 is not left in the request.
_REPEATS = dict(phone="13800138000")
REPEATS = [
    conv("rep-meizhousan", ("每周三上午帮我打扫下卫生 幸福小区3栋301",), ("1",
         says("您说每周三都来", "先约最近一次"), draft(details="帮我打扫下卫生", repeat="每周三"),
         when(2, (8, 12))), **_REPEATS),
    conv("rep-libai-then-day", ("俺想每个礼拜来个人陪俺唠唠嗑",), ("每周三下午", draft(repeat="每周三")),
         ("幸福小区3栋301",), ("1", says("您说每周三都来")), ("1", act("submit_order")), **_REPEATS),
    conv("rep-tiantian-meals", ("天天中午给俺送个饭 幸福小区3栋301",), ("1", says("您说每天都来"), when(0, (11, 13))),
         **_REPEATS),
    conv("rep-weekdays-two", ("每周二和周四下午来个人量血压 幸福小区3栋301",), ("1", says("每周二和周四")),
         **_REPEATS),
    conv("rep-fortnight-haircut", ("隔一个礼拜来给俺理个发 幸福小区3栋301",), ("明天上午",),
         ("1", says("您说每两周都来")),
         **_REPEATS),
    # look-alikes: a description of every day is no repeat, 每次 is no repeat
    conv("rep-not-alone-every-day", ("我每天都一个人在家 想找人陪陪 明天下午 幸福小区3栋301",), ("1",
         never("都来："), draft(repeat=None)), **_REPEATS),
    conv("rep-not-every-time", ("每次都麻烦你们 明天上午帮我理个发 幸福小区3栋301",), ("1", never("都来：")),
         **_REPEATS),
]
TUNED.extend(REPEATS)

# What the blind held-out part v6 found, mended and checked here with other words (v6 itself is left as written):
# a yes right after an emergency answer, a bare 快来人 beside a blocked drain, "except Sunday" availability, names
# with their lead-in, Cantonese 听日 / 嚟 / 水喉 / 粒, the office phone mid-order, 俩钟头, polite and dialect yeses,
# an order cancelled by its number with 那单, 参加志愿者, 有没有真人 with more said, a relative's call-off, and a
# submitted order named by what it is for.
_V6F_ONE_TASK = {"my_tasks": ({"id": 630127, "service": "repair", "when": "11月23日(周一) 09:00"},)}
_V6F_OPEN = {"open_orders": ({"id": 741852, "service": "escort", "when": "11月25日(周三) 上午", "state": "dispatched"},
                             {"id": 741853, "service": "repair", "when": "11月24日(周二) 上午", "state": "dispatched"})}
V6FIX = [
    conv("v6f-yes-after-emergency-shows-summary", ("明天下午三点来修水龙头 幸福小区5栋102 电话13812340000",
                                                   state(State.ORDER_CONFIRM)),
         ("等一下 我老伴突然倒了 叫不醒", act("emergency")),
         ("1", says("接着下刚才【维修服务】的单", "请核对"), no_act("submit_order"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order"))),
    conv("v6f-kuailairen-toilet", ("快来人啊 马桶又堵了 屋里都是味", no_act("emergency"), draft(service="repair"))),
    conv("v6f-kuailairen-light-after", ("灯不亮了 快来人", no_act("emergency"),
                                        any_of(draft(service="repair"), says("维修服务")))),
    conv("v6f-kuailairen-still-an-emergency", ("马桶堵了 我爸在厕所滑倒了起不来 快来人", act("emergency"))),
    conv("v6f-avail-except-wednesday", ("除了周三 其他天下午都有空", avail("一二四五六日", "下午")), **REG),
    conv("v6f-avail-except-weekend-evenings", ("除了周六周日，晚上都行", avail("一二三四五", "晚上")), **REG),
    conv("v6f-reg-name-jiao", ("俺叫王桂兰", reg(name="王桂兰")), state=State.REG_NAME,
         slots={"reg": {"source": "chat"}}),
    conv("v6f-reg-name-surname-then", ("免贵姓刘 叫刘德福", reg(name="刘德福")), state=State.REG_NAME,
         slots={"reg": {"source": "chat"}}),
    conv("v6f-reg-name-given-only", ("我姓陈 名字叫秀兰", reg(name="陈秀兰")), state=State.REG_NAME,
         slots={"reg": {"source": "chat"}}),
    conv("v6f-tingri", ("听日上午十点来帮我修下灯 幸福小区3栋201 电话13812340000", when(1, (10, 10)))),
    conv("v6f-office-phone-at-address", ("明天上午帮我理个发",), ("办公室电话是多少", says("0731-22334455"),
         state(State.ORDER_ADDRESS)), ctx={"office_phone": "0731-22334455"}),
    conv("v6f-vol-gaoding-lia", ("搞定了 弄了俩小时", act("complete", order=630127, hours=2.0)),
         roles=VOLUNTEER, ctx=_V6F_ONE_TASK, at="12:00"),
    conv("v6f-yes-mafan-nin", TO_CONFIRM, ("行 麻烦您了", act("submit_order"))),
    conv("v6f-yes-deleier", TO_CONFIRM, ("得勒", act("submit_order"))),
    conv("v6f-yes-cantonese-hai", TO_CONFIRM, ("系呀 多谢", act("submit_order"))),
    conv("v6f-delezba-not-yes", TO_CONFIRM, ("得了吧", no_act("submit_order"))),
    conv("v6f-cancel-nadan", ("帮我把741853那个单子撤了", any_of(act("cancel_order"), state(State.CANCEL_PICK)),
                              not_ordering), ctx=_V6F_OPEN),
    conv("v6f-register-canjia", ("俺想参加你们的志愿者队伍", state(State.REG_NAME))),
    conv("v6f-register-not-the-event", ("我想参加志愿者活动", never("您的姓名"))),
    conv("v6f-human-say-more", ("有没有真人在 我跟机器人说不清楚", state(State.HUMAN))),
    conv("v6f-relative-calls-off", ("帮我约个陪诊",),
         ("算了 俺老伴说不要了", state(State.IDLE), no_act("submit_order"))),
    conv("v6f-rate-li", ("四粒星", state(State.RATE_COMMENT)), **RATING),
    conv("v6f-cantonese-pipe", ("唔该快啲嚟人整下水喉", draft(service="repair"), urgent)),
    conv("v6f-change-named-by-service", ("俺那个修水管的订单时间不对 改到后天上午",
                                        says("741853"), state(State.CHANGE_CONFIRM)), ctx=_V6F_OPEN),
    conv("v6f-repeat-monthly-li-yici", ("以后每个月都来给我剪一次头", draft(service="haircut", repeat="每月"))),
]
TUNED.extend(V6FIX)

# outside tester out10: a call-out answered "我马上到" was read as a service request (陈医生 stayed 未响应)
CALLOUT_WORDS = [
    conv("co-wo-mashang-dao", ("我马上到", act("callout_answer")), roles=VOLUNTEER, slots={"callout": 3}),
    conv("co-shi-fenzhong", ("收到 十分钟到", act("callout_answer")), roles=VOLUNTEER, slots={"callout": 3}),
    conv("co-an-zhejiu-qu", ("俺这就去", act("callout_answer")), roles=VOLUNTEER, slots={"callout": 3}),
    conv("co-qu-buliao", ("我去不了 在外地", no_act("callout_answer")), roles=VOLUNTEER, slots={"callout": 3}),
]
TUNED.extend(CALLOUT_WORDS)

# outside tester out10: a question about the street event started a haircut order
EVENT_QUESTIONS = [
    conv("ev-xiageyue-lifa", ("下个月的雷锋活动有理发的吗", act("events"), not_ordering)),
    conv("ev-zhezhou-yizhen", ("这周的活动有义诊没", act("events"), not_ordering)),
    conv("ev-not-the-room", ("活动室几点开门", no_act("events"))),
]
TUNED.extend(EVENT_QUESTIONS)

# outside tester out10: "加入/退出 队名" worked only right after 我的资料 → 4
TEAM_MOVES = [
    conv("tm-join-any-time", ("加入 医疗健康队", act("update_profile", field="join", value="医疗健康队")),
         roles=VOLUNTEER),
    conv("tm-leave-any-time", ("退出爱心理发队", act("update_profile", field="leave", value="爱心理发队")),
         roles=VOLUNTEER),
    conv("tm-not-yet-a-volunteer", ("加入 医疗健康队", says("注册志愿者"), no_act())),
    conv("tm-registration-words", ("加入志愿者队伍", state(State.REG_NAME))),
]
TUNED.extend(TEAM_MOVES)

# outside tester out9: the profile menu (1 技能，2 服务时间，3 电话，4 服务队) answered in words
_PROFILE = dict(roles=VOLUNTEER, state=State.PROFILE_MENU)
PROFILE_IN_WORDS = [
    conv("pm-dianhua", ("改一下电话", state(State.PROFILE_PHONE)), **_PROFILE),
    conv("pm-huan-dui", ("我想换个队", state(State.PROFILE_TEAM)), **_PROFILE),
    conv("pm-shijian", ("有空的时间变了", state(State.PROFILE_TIMES)), **_PROFILE),
    conv("pm-jineng", ("技能要加一个", state(State.PROFILE_SKILLS)), **_PROFILE),
    conv("pm-number-still", ("3", state(State.PROFILE_PHONE)), **_PROFILE),
]
TUNED.extend(PROFILE_IN_WORDS)

# outside tester out9: the age said in words and changed in words at registration
_REG_BIRTH = dict(state=State.REG_BIRTH, slots={"reg": {"source": "chat", "name": "刘桂芳", "gender": "女"}})
AGE_IN_WORDS = [
    conv("age-an-jinnian", ("俺今年68", reg(age_said=68)), **_REG_BIRTH),
    conv("age-wushiba-nian", ("五八年生人", reg(age_said=68)), **_REG_BIRTH),
    conv("age-budui", ("不对 我今年六十八", reg(age_said=68)), **_REG_BIRTH),
    conv("age-edit-in-words", ("年龄不对", state(State.REG_BIRTH)), state=State.REG_EDIT, slots=dict(REG_AT_TIMES)),
    conv("age-edit-phone-words", ("电话要改", state(State.REG_PHONE)), state=State.REG_EDIT,
         slots={**REG_AT_TIMES, "reg": {**REG_AT_TIMES["reg"], "availability": [{"weekday": 0, "period": "am"}],
                                        "phone": "13800138000"}}),
]
TUNED.extend(AGE_IN_WORDS)

# outside tester out11: "取消订单 999999" in the middle of an order threw the half-made order away
KEEP_DRAFT_ON_NAMED_CANCEL = [
    conv("kd-named-cancel-mid-order", ("明天上午帮我理个发",),
         ("取消订单 999999", act("cancel_order", order=999999), state(State.ORDER_ADDRESS), says("还留着")),
         ("幸福小区3栋301", draft(service="haircut", address="幸福小区3栋301")), phone="13800138000"),
]
TUNED.extend(KEEP_DRAFT_ON_NAMED_CANCEL)

# outside testers out10/out11: "明天" said at 2-3 a.m. silently became the day after the one already begun
SMALL_HOURS = [
    conv("sh-mingtian-at-two", ("明天上午来理发 幸福小区3栋301",),
         ("1", says("现在是凌晨2点", "11月24日", "回复 2 修改时间")),
         phone="13800138000", at="02:30"),
    conv("sh-mingtian-at-ten", ("明天上午来理发 幸福小区3栋301",), ("1", never("现在是凌晨")), phone="13800138000"),
    conv("sh-jintian-at-two", ("今天上午来理发 幸福小区3栋301",), ("1", never("现在是凌晨")), phone="13800138000",
         at="02:30"),
]
TUNED.extend(SMALL_HOURS)

# outside tester out11: the one an order was made for asks when it comes, with her name and phone, or the daughter asks
# who comes: the orders, never a second order
WHO_COMES = [
    conv("wc-name-phone-which-day", ("我是刘桂芬 电话13955556666 理发的师傅哪天来", act("my_orders"), not_ordering)),
    conv("wc-mom-who", ("我妈的理发谁来", act("my_orders"), not_ordering)),
    conv("wc-libai-ji", ("师傅礼拜几上门啊", act("my_orders"), not_ordering)),
    conv("wc-still-an-order", ("找个师傅明天来理发", no_act("my_orders"), draft(service="haircut"))),
    # the daughter's second change, said with an apology and her mother's words
    conv("wc-change-again", ("抱歉又要改一下 我妈说礼拜四下午三点好些", state(State.CHANGE_CONFIRM), says("741852")),
         ctx={"open_orders": ({"id": 741852, "service": "haircut", "when": "11月25日(周三) 上午",
                               "state": "dispatched"},)}),
]
TUNED.extend(WHO_COMES)
