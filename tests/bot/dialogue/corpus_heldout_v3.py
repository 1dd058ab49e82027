"""Held-out part v3 of the transcript corpus: written blind (without reading the other parts), never tuned on.

Residents and volunteers as they really write: dialect, pinyin typos, no punctuation, run-on voice text. Every
expectation was written before the conversations were first run; a conversation that fails stays as written.
Themes (issue 15): times, corrections and extraction, yes/no/cancel, commands and small talk (with ordering for a
parent), volunteers' own menu, registration.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.dialogue.core import Result, State
from tests.bot.dialogue.corpus import (
    REG_AT_TIMES,
    TO_CONFIRM,
    Check,
    Conv,
    CorpusTranscript,
    act,
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
    state,
    urgent,
    when,
)
from tests.bot.dialogue.corpus import all_of as both
from tests.bot.dialogue.corpus import any_of as either

# -- checks of this part ------------------------------------------------------------------------------






def not_state(*states: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        return f"still in {res.state}" if res.state in states else None
    return check


def _all_actions(t: CorpusTranscript) -> list[Any]:
    return [a for r in t.results for a in r.actions]


def sent(*checks: Check) -> Check:
    """Somewhere in the conversation exactly one order was submitted, and it passes the checks."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        subs = [a for a in _all_actions(t) if a.name == "submit_order"]
        if len(subs) != 1:
            return f"{len(subs)} orders submitted, expected 1"
        done = Result(state=res.state, slots={}, reply=res.reply, actions=(subs[0],))
        wrongs = [w for w in (c(done, t) for c in checks) if w]
        return "; ".join(wrongs) if wrongs else None
    return check


def nothing_sent(res: Result, t: CorpusTranscript) -> str | None:
    subs = [a for a in _all_actions(t) if a.name == "submit_order"]
    return f"{len(subs)} order(s) submitted" if subs else None


def ever(name: str, **data: Any) -> Check:
    """Somewhere in the conversation the action was asked for, with this data; and no other of its name."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        mine = [a for a in _all_actions(t) if a.name == name]
        if not mine:
            return f"no action {name} in the conversation"
        wrong = [dict(a.data) for a in mine if any(a.data.get(k) != v for k, v in data.items())]
        return f"{name} with {wrong}, expected {data}" if wrong else None
    return check


def for_whom(name: str) -> Check:
    """The order is for someone else, named so."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        d: Any = None
        for a in res.actions:
            if a.name == "submit_order":
                d = a.data
        d = d if d is not None else (t.slots.get("draft") or {})
        who = dict(d.get("for") or {})
        return None if who.get("name") == name else f"the order is for {who}, expected {name}"
    return check


def helped(res: Result, t: CorpusTranscript) -> str | None:
    """Some reply, and not the "can't help" one."""
    if not res.reply:
        return "no reply"
    return "answered as not understood" if "帮不上" in res.reply or "没太明白" in res.reply else None


HANDED_OVER = either(state(State.HUMAN), act("human_handover"))
IDLE_NOTHING = both(state(State.IDLE), nothing_sent)
VOL = frozenset({"volunteer"})
PHONE = "13800138000"

# -- times as people say them ---------------------------------------------------------------------------

TIMES: list[Conv] = [
    conv("h3_time_jinr_xiawu_clean",
         ("今儿下午来个人帮我打扫下卫生", when(0, (12, 18)), future, draft(service="housekeeping"))),
    conv("h3_time_one_zhongtou_later",
         ("一个钟头以后来帮我理个发", when(0, (11, 11)), future, draft(service="haircut"))),
    conv("h3_time_guo_lia_hours", ("过俩小时过来修下水管子", when(0, (16, 16)), future, draft(service="repair")),
         at="14:00"),
    conv("h3_time_jinkuai_tap", ("尽快 家里水龙头坏了哗哗流水", urgent, draft(service="repair"))),
    conv("h3_time_yuekuaiyuehao_escort", ("越快越好 想找人陪我去医院拿药", urgent, draft(service="escort"))),
    conv("h3_time_mashang_lock", ("马上来个人帮我修下门锁 锁芯坏了打不开", urgent, draft(service="repair"))),
    conv("h3_time_xia_libai_san_shangwu",
         ("下礼拜三晌午帮我送个饭", when(9, (11, 13)), draft(service="meals"))),
    conv("h3_time_houtian_ba_dian_duo", ("后天早上八点多来给我理发", when(2, (8, 8)), draft(service="haircut"))),
    conv("h3_time_jintian_shangwu_past_offer",
         ("今天上午十点来给我理发 幸福小区3栋 电话13800138000", helped, not_state(State.IDLE)),
         ("行",),
         ("确认", sent(future, draft(service="haircut"))),
         at="15:00"),
    conv("h3_time_xiawu_san_dian_past_at_night",
         ("今天下午三点帮我修下灯 光明路88号2楼 电话13912345678", helped, not_state(State.IDLE)),
         ("可以",),
         ("对", sent(future, draft(service="repair"))),
         at="20:00"),
    conv("h3_time_jintian_shangwu_jinr_ge", ("今儿个晌午来帮我理个发", when(0, (11, 13)), future)),
    conv("h3_time_jintian_late_afternoon", ("今天来个人帮我修下灯泡", when(0), future), at="16:00"),
    conv("h3_time_minger_yizao", ("明儿一早来帮我理发", when(1, (6, 9)))),
    conv("h3_time_zhouwu_xiawu_sandianban", ("周五下午三点半帮我打扫卫生", when(4, (15, 15), 30))),
    conv("h3_time_ban_ge_zhongtou", ("半个钟头后来人帮我修下门", when(0, (10, 10)), future)),
    conv("h3_time_xiawu_zaodian", ("下午早点来给我理个发", when(0, (12, 15)), future)),
    conv("h3_time_jinr_ge_wanshang_liudianban", ("今儿个晚上六点半来陪我说说话", when(0, (18, 18), 30))),
    conv("h3_time_bare_three_oclock", ("三点来帮我修下水龙头", when(0, (15, 15)), future)),
    conv("h3_time_zhe_libai_liu", ("这礼拜六上午来帮我打扫打扫", when(5, (8, 12)))),
    conv("h3_time_date_28hao", ("28号下午两点来理发", when(5, (14, 14)))),
    conv("h3_time_answer_to_question",
         ("明天帮我理个发 幸福小区3栋 电话13800138000",),
         ("上午吧 九点多", when(1, (9, 9)))),
]

# -- corrections and extraction ---------------------------------------------------------------------------

CORRECTIONS: list[Conv] = [
    conv("h3_fix_address_budui_shi",
         TO_CONFIRM,
         ("地址不对 是向阳新村7栋2单元302", draft_has("address", "向阳新村", "7栋2单元302"),
          draft_lacks("address", "不对", "是向", "地址"), state(State.ORDER_CONFIRM)),
         ("对", sent(draft_has("address", "向阳新村7栋"), draft_lacks("address", "不对")))),
    conv("h3_fix_address_cuole_yinggai",
         TO_CONFIRM,
         ("地址错了 应该是和平里小区4号楼", draft_has("address", "和平里小区4号楼"),
          draft_lacks("address", "错了", "应该"))),
    conv("h3_fix_address_just_building",
         TO_CONFIRM,
         ("不对 地址错了 是6号楼", draft_has("address", "6号楼"), draft_lacks("address", "错了", "不对"))),
    conv("h3_fix_address_daughters_place",
         TO_CONFIRM,
         ("换个地方 到我闺女家 光明路88号", draft_has("address", "光明路88号"), draft_lacks("address", "换个地方"))),
    conv("h3_fix_phone_huancheng",
         TO_CONFIRM,
         ("电话换成13912345678", draft(phone="13912345678"), state(State.ORDER_CONFIRM)),
         ("嗯", sent(draft(phone="13912345678")))),
    conv("h3_fix_phone_spaces", TO_CONFIRM, ("手机号写错了 是139 1234 5678", draft(phone="13912345678"))),
    conv("h3_fix_phone_da_zhege", TO_CONFIRM, ("电话不是这个 打这个13600001234", draft(phone="13600001234"))),
    conv("h3_fix_time_gaidao_houtian", TO_CONFIRM,
         ("时间改到后天上午", when(2, (8, 12)), state(State.ORDER_CONFIRM))),
    conv("h3_fix_time_bushi_mingtian", TO_CONFIRM, ("不是明天 是后天", when(2, (8, 10)))),
    conv("h3_fix_time_gaicheng_xiawu", TO_CONFIRM, ("改成下午三点吧", when(1, (15, 15)))),
    conv("h3_fix_time_nuo_libaisan", TO_CONFIRM, ("把时间挪到礼拜三上午", when(2, (8, 12)))),
    conv("h3_fix_service_not_haircut", TO_CONFIRM,
         ("弄错了 不是理发 是修水管", draft(service="repair"), not_state(State.IDLE)), ),
    conv("h3_fix_time_at_address_question",
         ("明天上午九点帮我理个发 电话13800138000",),
         ("哦不对 是后天 我住幸福小区3栋", when(2, (9, 9)), draft_has("address", "幸福小区3栋"),
          draft_lacks("address", "后天", "不对"))),
    conv("h3_fix_via_edit_menu",
         TO_CONFIRM,
         ("不对", state(State.ORDER_EDIT), nothing_sent),
         ("地址",),
         ("向阳新村5栋101", draft_has("address", "向阳新村5栋101"), state(State.ORDER_CONFIRM))),
    conv("h3_extract_same_as_last_time",
         ("明天上午十点来帮我理发 地址跟上回一样 电话13800138000", draft_lacks("address", "上回", "一样")),
         ("对",),
         ("对", sent(draft(address="幸福小区3栋2单元501"))),
         ctx={"last_address": "幸福小区3栋2单元501"}),
    conv("h3_extract_runon_voice_haircut",
         ("喂你好我想找个人来给我家老头子理个发明天上午九点左右吧我家住在幸福小区5栋3单元201电话是13800138000",
          draft(service="haircut", phone=PHONE), when(1, (9, 9)), draft_has("address", "幸福小区5栋3单元201"),
          draft_lacks("address", "九点", "明天", "住在", "电话"), draft_lacks("details", "我家住在", "13800138000"))),
    conv("h3_extract_runon_voice_cleaning",
         ("那个我要打扫卫生啊后天下午两点你们来人到光明路88号3楼电话是一三九一二三四五六七八",
          draft(service="housekeeping", phone="13912345678"), when(2, (14, 14)),
          draft_has("address", "光明路88号"), draft_lacks("address", "下午", "两点", "电话", "来人"))),
    conv("h3_extract_runon_repair_then_yes",
         ("后天上午十点家里厨房水管漏水了帮忙来修一下地址是和平里小区4号楼2单元302手机13711112222",
          draft(service="repair", phone="13711112222"), when(2, (10, 10)),
          draft_has("address", "和平里小区4号楼2单元302"), draft_lacks("address", "手机", "上午"),
          draft_lacks("details", "地址是", "13711112222")),
         ("中", sent(draft(service="repair"), draft_has("address", "和平里小区4号楼")))),
    conv("h3_extract_no_punct_typo_lifa",
         ("明天下午两点来给我礼发幸福小区3栋电话13800138000", draft(service="haircut"), when(1, (14, 14)),
          draft_has("address", "幸福小区3栋"), draft_lacks("address", "礼发", "下午"))),
]

# -- yes, no, cancel ----------------------------------------------------------------------------------------


def _yes(name: str, word: str) -> Conv:
    return conv(name, TO_CONFIRM, (word, act("submit_order"), sent(draft(service="haircut"), when(1, (9, 9)))))


def _cancel(name: str, word: str) -> Conv:
    return conv(name, TO_CONFIRM, (word, IDLE_NOTHING, no_act("submit_order")))


YES_NO_CANCEL: list[Conv] = [
    _yes("h3_yes_zhong", "中"),
    _yes("h3_yes_xingba", "行吧"),
    _yes("h3_yes_ngna", "嗯呐"),
    _yes("h3_yes_duitou", "对头"),
    _yes("h3_yes_haodi", "好滴"),
    _yes("h3_yes_meimaobing", "没毛病"),
    _yes("h3_yes_keyikeyi", "可以可以"),
    _yes("h3_yes_jiuzheme_ding", "嗯 就这么定了"),
    _yes("h3_yes_queren_wuwu", "确认无误"),
    _yes("h3_yes_ok_lower", "ok"),
    _yes("h3_yes_dui_mafan", "对的 麻烦了"),
    _yes("h3_yes_enen_typo", "恩恩"),
    conv("h3_no_budui_edit", TO_CONFIRM, ("不对", state(State.ORDER_EDIT), nothing_sent)),
    conv("h3_no_bushi_zheyang", TO_CONFIRM, ("不是这样的", not_state(State.IDLE), nothing_sent)),
    _cancel("h3_cancel_suanle_suanle", "算了算了"),
    _cancel("h3_cancel_bunongle", "不弄了"),
    _cancel("h3_cancel_buyaole_xiexie", "不要了 谢谢"),
    _cancel("h3_cancel_xianbuzhengle", "先不整了"),
    _cancel("h3_cancel_typo_quxiao", "取笑"),
    _cancel("h3_cancel_zaixiangxiang", "算了 我再想想"),
    conv("h3_cancel_midway_at_time",
         ("明天帮我理个发",),
         ("算了不要了", IDLE_NOTHING)),
    conv("h3_cancel_order_by_number",
         ("取消4号订单",),
         ("是的", ever("cancel_order", order=4), nothing_sent),
         ctx={"open_orders": [{"id": 4, "service": "haircut", "when": "11月24日(周二) 09:00"}]}),
    conv("h3_cancel_the_haircut_one",
         ("那个理发的不要了", not_ordering),
         ("对", ever("cancel_order", order=4)),
         ctx={"open_orders": [{"id": 4, "service": "haircut", "when": "11月24日(周二) 09:00"},
                              {"id": 6, "service": "repair", "when": "11月25日(周三) 14:00"}]}),
    conv("h3_cancel_legal_not_new_order",
         ("法律那个不要了", not_ordering),
         ("嗯", not_ordering, ever("cancel_order", order=9)),
         ctx={"open_orders": [{"id": 9, "service": "legal", "when": "11月26日(周四) 10:00"}]}),
    conv("h3_cancel_ambiguous_asks_which",
         ("理发那个单子取消", state(State.CANCEL_PICK), no_act("cancel_order")),
         ("第二个", ever("cancel_order", order=5)),
         ctx={"open_orders": [{"id": 3, "service": "haircut", "when": "11月24日(周二) 09:00"},
                              {"id": 5, "service": "haircut", "when": "11月26日(周四) 14:00"}]}),
]

# -- commands, small talk, ordering for a parent -------------------------------------------------------------

COMMANDS: list[Conv] = [
    conv("h3_cmd_danzi_zayang", ("我的单子咋样了", act("my_orders"), not_ordering)),
    conv("h3_cmd_an_xia_de_dan", ("俺下的单有人接没", act("my_orders"), not_ordering)),
    conv("h3_cmd_wode_dingdan", ("我的订单", act("my_orders"))),
    conv("h3_cmd_duoshao_fen", ("我有多少分", act("points"), not_ordering)),
    conv("h3_cmd_jifen_haisheng", ("积分还剩多少啊", act("points"))),
    conv("h3_cmd_zhenren", ("找个真人说话", HANDED_OVER)),
    conv("h3_cmd_zhuan_rengong", ("转人工", HANDED_OVER)),
    conv("h3_cmd_gongzuorenyuan", ("叫你们工作人员跟我说", HANDED_OVER)),
    conv("h3_cmd_points_mid_order",
         ("明天上午九点帮我理个发 电话13800138000",),
         ("对了 我有多少分", act("points"))),
    conv("h3_cmd_human_mid_order",
         ("后天帮我打扫卫生",),
         ("找个真人说话", HANDED_OVER, nothing_sent)),
    conv("h3_cmd_huodong", ("最近有啥活动没", act("events"), not_ordering)),
    conv("h3_small_xiexie", ("谢谢", says("不客气"), not_ordering)),
    conv("h3_small_tai_xiexie", ("太谢谢你们了", says("不客气"), not_ordering)),
    conv("h3_small_nishishui",
         ("你是谁", says_any("雷锋超市", "阳光社区"), says_any("点单", "找志愿者"), not_ordering)),
    conv("h3_small_ganshade", ("你们是干啥的", says_any("志愿"), helped, not_ordering)),
    conv("h3_small_nihao_menu", ("你好", says("1"), says_any("点单", "找志愿者"))),
    conv("h3_small_xinkule", ("辛苦了", helped, not_ordering)),
    conv("h3_small_zaima", ("在吗", helped, not_ordering)),
    conv("h3_small_thanks_after_order", TO_CONFIRM, ("好的",), ("谢谢啊", says("不客气"), never("帮不上"))),
    conv("h3_proxy_mom_haircut",
         ("帮我妈约个理发", state(State.PROXY_NAME, State.PROXY_PHONE)),
         ("她叫张秀英", for_whom("张秀英"))),
    conv("h3_proxy_dad_escort_keeps_service",
         ("给我爸点个单 他腿脚不好 要人陪着去医院",),
         ("王建国",),
         ("13712345678", for_whom("王建国"), draft(service="escort"))),
    conv("h3_proxy_laoyezi_full",
         ("替我家老爷子叫个人修下灯", state(State.PROXY_NAME, State.PROXY_PHONE)),
         ("他叫李德福 电话13611112222", for_whom("李德福")),
         ("明天上午十点 向阳新村7栋302",),
         ("对", sent(for_whom("李德福"), draft(service="repair"), when(1, (10, 10))))),
]

# -- volunteers' own menu -----------------------------------------------------------------------------------

ONE_TASK = {"my_tasks": [{"id": 7, "service": "haircut", "when": "11月23日(周一) 08:00"}]}
TWO_TASKS = {"my_tasks": [{"id": 7, "service": "haircut", "when": "11月23日(周一) 08:00"},
                          {"id": 12, "service": "repair", "when": "11月24日(周二) 14:00"}]}

VOLUNTEERS: list[Conv] = [
    conv("h3_vol_menu", ("菜单", says("有什么任务"), not_ordering), roles=VOL),
    conv("h3_vol_you_sha_renwu", ("有啥任务", act("open_tasks"), not_ordering), roles=VOL),
    conv("h3_vol_you_huor_mei", ("有活儿没", act("open_tasks")), roles=VOL),
    conv("h3_vol_xianzai_you_danzi", ("现在有单子可以接吗", act("open_tasks")), roles=VOL),
    conv("h3_vol_jiedan3", ("接单3", act("accept", order=3)), roles=VOL),
    conv("h3_vol_jie_3hao", ("接 3号", act("accept", order=3)), roles=VOL),
    conv("h3_vol_wolai_jie_12", ("我来接12号单", act("accept", order=12)), roles=VOL),
    conv("h3_vol_ganwanle_2_zhongtou", ("我干完了 2个钟头", ever("complete", order=7, hours=2)),
         roles=VOL, ctx=ONE_TASK),
    conv("h3_vol_7hao_yigebanxiaoshi", ("7号单做完了 弄了一个半小时", ever("complete", order=7, hours=1.5)),
         roles=VOL, ctx=TWO_TASKS),
    conv("h3_vol_wancheng_7_3", ("完成 7 3", act("complete", order=7, hours=3)), roles=VOL, ctx=TWO_TASKS),
    conv("h3_vol_qubuliao_one_task",
         ("这单我去不了了", no_act("complete", "accept")),
         ("家里老人住院了", ever("give_back", order=7)),
         roles=VOL, ctx=ONE_TASK),
    conv("h3_vol_12_qubuliao_reason", ("12号单我去不了了 家里有事", ever("give_back", order=12)),
         roles=VOL, ctx=TWO_TASKS),
    conv("h3_vol_wode_renwu", ("我接的单", either(act("my_tasks"), act("my_orders")), not_ordering),
         roles=VOL),
    conv("h3_vol_zan_jifen", ("我攒了多少积分", act("points")), roles=VOL),
    conv("h3_vol_ganwanle_which",
         ("干完了", no_act("complete")),
         ("7号 两个小时", ever("complete", order=7, hours=2)),
         roles=VOL, ctx=TWO_TASKS),
    conv("h3_vol_xiexie", ("谢谢", says("不客气"), not_ordering), roles=VOL),
]

# -- registration ---------------------------------------------------------------------------------------------

_REG_AT_TEAM = {
    "reg": {**REG_AT_TIMES["reg"], "skills": ["haircut", "repair"], "phone": "13512345678",
            "availability": [{"weekday": 5, "period": "all"}, {"weekday": 6, "period": "all"}]},
    "id_enc": "x", "id_hash": "y",
}
_TEAMS = {"teams": [{"code": "t1", "name": "阳光水电维修队", "services": ("repair",)},
                    {"code": "t2", "name": "巧手理发队", "services": ("haircut",)},
                    {"code": "t3", "name": "夕阳红陪伴队", "services": ("companionship",)}]}


def _times() -> dict[str, Any]:
    """At the availability question, with slots of its own (no conversation shares a nested dict)."""
    return {"state": State.REG_TIMES, "slots": copy.deepcopy(REG_AT_TIMES)}


def _team() -> dict[str, Any]:
    """At the team question, the hub's own three teams; two of them serve the chosen skills."""
    return {"state": State.REG_TEAM, "slots": copy.deepcopy(_REG_AT_TEAM), "ctx": copy.deepcopy(_TEAMS)}


MOVED_ON = not_state(State.REG_TIMES)

REGISTRATION: list[Conv] = [
    conv("h3_reg_gongzuori_wanshang", ("工作日晚上", avail("一二三四五", "晚上"), MOVED_ON), **_times()),
    conv("h3_reg_zhoumo_douxing", ("周末都行", avail("六日", "全天"), MOVED_ON), **_times()),
    conv("h3_reg_pingshi_wanshang",
         ("平时晚上", either(avail("一二三四五", "晚上"), avail("一二三四五六日", "晚上"),
                         both(state(State.REG_TIMES), no_avail))), **_times()),
    conv("h3_reg_zhouyi_dao_zhouwu_shangwu", ("周一到周五上午", avail("一二三四五", "上午"), MOVED_ON), **_times()),
    conv("h3_reg_libailiu_libaitian_xiawu", ("礼拜六礼拜天下午", avail("六日", "下午"), MOVED_ON), **_times()),
    conv("h3_reg_xingqi_er_si_quantian", ("星期二星期四全天", avail("二四", "全天")), **_times()),
    conv("h3_reg_suishi_douxing", ("随时都行", avail("一二三四五六日", "全天")), **_times()),
    conv("h3_reg_chule_zhousan", ("除了周三都行", avail("一二四五六日", "全天")), **_times()),
    conv("h3_reg_wanshang_youkong", ("晚上有空", avail("一二三四五六日", "晚上")), **_times()),
    conv("h3_reg_zhouliu_shangxiawu", ("周六上午和下午", avail("六", "上午", ("六", "下午"))), **_times()),
    conv("h3_reg_zhou_yisanwu_xiawu", ("周一三五下午", avail("一三五", "下午")), **_times()),
    conv("h3_reg_team_by_words", ("维修那个队", reg(team="阳光水电维修队"), not_state(State.REG_TEAM)), **_team()),
    conv("h3_reg_team_by_number", ("2", reg(team="巧手理发队")), **_team()),
    conv("h3_reg_team_dou_keyi", ("都可以", reg(team=""), not_state(State.REG_TEAM)), **_team()),
    conv("h3_reg_team_lifa_ba", ("理发队吧", reg(team="巧手理发队")), **_team()),
    conv("h3_reg_start_dang_zhiyuanzhe", ("我也想当志愿者 咋报名", either(state(State.REG_NAME),
                                                              act("register_volunteer")), not_ordering)),
    conv("h3_reg_name_wojiao", ("我叫刘建军", reg(name="刘建军"), not_state(State.REG_NAME)),
         state=State.REG_NAME, slots={"reg": {"source": "chat"}}),
]

THEMES: dict[str, list[Conv]] = {
    "times": TIMES,
    "corrections": CORRECTIONS,
    "yes-no-cancel": YES_NO_CANCEL,
    "commands-smalltalk": COMMANDS,
    "volunteers": VOLUNTEERS,
    "registration": REGISTRATION,
}
HELDOUT_V3: list[Conv] = [c for part in THEMES.values() for c in part]
