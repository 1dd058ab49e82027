"""A second held-out probe, written after the dialogue was changed (so it is a check of how far the changes carry to
phrasings nobody tuned for), and never tuned on. Its first-run pass rate is what the report gives."""

from __future__ import annotations

from bot.dialogue.core import State
from tests.bot.dialogue.corpus import (
    REG_AT_TIMES,
    TO_CONFIRM,
    act,
    avail,
    conv,
    draft,
    draft_lacks,
    future,
    never,
    no_act,
    not_ordering,
    says,
    says_any,
    state,
    urgent,
    when,
)

REG = {"state": State.REG_TIMES, "slots": REG_AT_TIMES}
VOLUNTEER = frozenset({"volunteer"})
PAST = "这个时间已经过去了，请说"

PROBE = [
    conv("p-jintian-ba-an", ("俺想理个头",), ("今儿个吧", never(PAST), when(0)), at="16:00"),
    conv("p-xiawu-liangdian-ban", ("俺想理个头",), ("下昼两点半", when(0, (14, 14)))),
    conv("p-guo-ge-ban-xiaoshi", ("家里马桶堵了",), ("过个把小时", future)),
    conv("p-asap-voice-long", ("喂你好我们家厨房的水管爆了一直在滴水能不能快点派个师傅过来越快越好",
                               urgent, draft_lacks("details", "越快越好"))),
    conv("p-tomorrow-evening", ("想找人帮我打扫一下屋子",), ("明晚七点以后", when(1, (19, 19)))),
    conv("p-past-morning-choice", ("我要理发",), ("今天早上", says_any("今天", "明天"), never(PAST)), ("2", future),
         at="14:00"),
    conv("p-past-then-tomorrow", ("我要理发",), ("今天九点", never(PAST)), ("明天九点吧", when(1, (9, 9)))),
    conv("p-addr-typo", TO_CONFIRM, ("地止不对 是幸福小区7栋", draft(address="幸福小区7栋"))),
    conv("p-addr-no-space", TO_CONFIRM, ("地址错了应该是和平里小区4号楼", draft(address="和平里小区4号楼"))),
    conv("p-phone-mine-is", TO_CONFIRM, ("号码不对我的是13698765432", draft(phone="13698765432"))),
    conv("p-time-move-day", TO_CONFIRM, ("改成大后天吧", when(3))),
    conv("p-not-am-pm", TO_CONFIRM, ("不是上午 是下午", when(1, (13, 13)))),
    conv("p-runon-name-place", ("我是三号楼的王大爷明天下午想找人陪我去医院复查 我住光明小区三号楼",
                                draft(address="光明小区三号楼"), when(1, (13, 13)))),
    conv("p-laodifang-unknown", ("我要理发",), ("明天上午",), ("老地方", says_any("地址", "小区"),
                                                          draft_lacks("address", "老地方"))),
    conv("p-yes-dui-mei-cuo", TO_CONFIRM, ("对没错", act("submit_order"))),
    conv("p-yes-xing-a", TO_CONFIRM, ("行啊", act("submit_order"))),
    conv("p-yes-ke-yi-ya", TO_CONFIRM, ("可以呀 谢谢", act("submit_order"))),
    conv("p-no-suanle-ba", TO_CONFIRM, ("算了吧", no_act("submit_order"), state(State.IDLE))),
    conv("p-no-bu-yong-le-a", TO_CONFIRM, ("不用了啊", no_act("submit_order"), state(State.IDLE))),
    conv("p-cancel-order-space", ("取消 8号订单", act("cancel_order", order=8))),
    conv("p-cancel-that-repair", ("修水管的那个单子取消吧", not_ordering, no_act("submit_order"))),
    conv("p-status-how", ("我下的单怎么样了", act("my_orders"))),
    conv("p-status-volunteer-coming", ("师傅什么时候到", act("my_orders"))),
    conv("p-human-please", ("麻烦转一下人工", act("human_handover"))),
    conv("p-points-jifen-ne", ("我的积分呢", act("points")), roles=VOLUNTEER),
    conv("p-thanks-volunteer", ("谢谢你们志愿者", says("不客气"))),
    conv("p-who-are-you-ni", ("你是哪位", says("小助手"))),
    conv("p-avail-weekday-nights", ("周一到周四晚上", avail("一二三四", "晚上")), **REG),
    conv("p-avail-weekends-am-pm", ("周六周日上午下午都行", avail("六日", "上午", ("六日", "下午"))), **REG),
    conv("p-avail-all-but-sunday", ("除了礼拜天都可以", avail("一二三四五六", "全天")), **REG),
]
