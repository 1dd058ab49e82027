"""Held-out part v5: conversations written blind, from the README and DESIGN.md only (never from the bot's code or the
other corpora), every expectation written before the first run and none changed after it. People write as an elderly
resident types or speaks into voice input: run-on, no punctuation, pinyin typos, dialect (俺, 咋, 啥, 晌午, 今儿个).

The day is Monday 2026-11-23 in Shanghai (see `corpus.Conv`), 10:00 unless a conversation says otherwise. Order
numbers are 单号 (six random digits), as residents and volunteers see them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue.core import Result, State
from intents.timeparse import SHANGHAI
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
    never,
    no_act,
    not_ordering,
    reg,
    says,
    says_any,
    state,
    urgent,
    when,
)
from tests.bot.dialogue.corpus import all_of as both
from tests.bot.dialogue.corpus import answered as replied
from tests.bot.dialogue.corpus import any_of as either
from tests.bot.dialogue.corpus import in_an_order as in_order

# -- my own small checks, built on the corpus's -------------------------------------------------------------------










def _draft_of(res: Result, t: CorpusTranscript) -> Mapping[str, Any]:
    for a in res.actions:
        if a.name == "submit_order":
            return a.data
    return dict(t.slots.get("draft") or {})


def holds(*words: str) -> Check:
    """The order being made (or just submitted) holds these words somewhere (whatever the slot is called)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        text = str(dict(_draft_of(res, t)))
        missing = [w for w in words if w not in text]
        return f"order {text[:300]} lacks {missing}" if missing else None
    return check


def reg_holds(*words: str) -> Check:
    """The registration under way holds these words somewhere."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        text = str(dict(t.slots.get("reg") or {}))
        missing = [w for w in words if w not in text]
        return f"registration {text[:300]} lacks {missing}" if missing else None
    return check


def did(*fragments: str) -> Check:
    """Some action whose name carries one of these fragments (I do not know the handlers' exact names)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        names = [a.name for a in res.actions]
        return None if any(f in n for n in names for f in fragments) else f"no action like {fragments} in {names}"
    return check


def did_with(fragments: tuple[str, ...], value: Any) -> Check:
    """Some action named like one of `fragments` carrying `value` (an order number, hours...)."""
    def same(v: Any) -> bool:
        if isinstance(v, bool):
            return False
        if isinstance(value, (int, float)) and isinstance(v, (int, float)):
            return float(v) == float(value)
        return str(v) == str(value)

    def check(res: Result, t: CorpusTranscript) -> str | None:
        for a in res.actions:
            if any(f in a.name for f in fragments) and any(same(v) for v in a.data.values()):
                return None
        return f"no action like {fragments} with {value!r}: {[(a.name, dict(a.data)) for a in res.actions]}"
    return check


def hearts(lo: int, hi: int) -> Check:
    """A rating action with between lo and hi hearts (the order number is never taken for the hearts)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        for a in res.actions:
            if "rat" not in a.name:
                continue
            for k, v in a.data.items():
                if "order" in k or k in ("id", "ref") or isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                if lo <= v <= hi:
                    return None
        return f"no rating of {lo}..{hi} hearts: {[(a.name, dict(a.data)) for a in res.actions]}"
    return check


def leads_with(number: str, within: int = 40) -> Check:
    """The emergency number comes first: within the reply's first characters."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        reply = res.reply or ""
        at = reply.find(number)
        if at < 0:
            return f"reply lacks {number}"
        return None if at < within else f"{number} only at character {at}"
    return check


def ends_next_morning(hour: int) -> Check:
    """An urgent order asked for at night runs to `hour` o'clock the next morning."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        end = _draft_of(res, t).get("end")
        if not end:
            return "the order has no end"
        e = datetime.fromisoformat(str(end)).astimezone(SHANGHAI)
        want = t.now.astimezone(SHANGHAI).date() + timedelta(days=1)
        return None if (e.date(), e.hour) == (want, hour) else f"ends {e:%m-%d %H:%M}, expected {want} {hour}:00"
    return check


SUBMIT = act("submit_order")
NO_SUBMIT = no_act("submit_order")
CONFIRMING = state(State.ORDER_CONFIRM)
IDLE = state(State.IDLE)
HAIRCUT = either(draft(service="haircut"), says("理发"))

ACCEPT = ("accept", "take", "claim", "grab")
COMPLETE = ("complete", "finish", "done", "hours")
CANCEL = ("cancel",)
CHANGE = ("change", "edit", "update", "amend", "modify")
GIVEBACK = ("give", "back", "release", "return", "drop")
LISTING = ("task", "list", "offer", "open")

VOL = frozenset({"volunteer"})
ON_FILE = "13800138000"
SAVED = "幸福小区3栋2单元301"


def _order(ref: int, service: str, when_text: str, start: str, address: str = "幸福小区3栋301",
           order_state: str = "accepted") -> dict[str, Any]:
    return {"id": ref, "service": service, "when": when_text, "time_kind": None, "start": start, "end": None,
            "address": address, "state": order_state}


HAIRCUT_ORDER = _order(159422, "义务理发", "11月24日 09:00", "2026-11-24T09:00:00+08:00")
PIPE_ORDER = _order(273816, "水电维修", "11月25日 14:00", "2026-11-25T14:00:00+08:00", order_state="waiting")
TASK_NOW = _order(159422, "义务理发", "今天 07:00", "2026-11-23T07:00:00+08:00")
TASK_OFFER = _order(384120, "陪诊", "明天 08:00", "2026-11-24T08:00:00+08:00", "光明小区2栋101", "waiting")
TASK_OFFER2 = _order(402266, "义务理发", "明天 15:00", "2026-11-24T15:00:00+08:00", "和平里6号楼", "waiting")
TEAMS = ({"code": "haircut", "name": "爱心理发队", "services": ("haircut",)},
         {"code": "repair", "name": "水电维修队", "services": ("repair",)})

# -- 1. times as people say them ----------------------------------------------------------------------------------

TIMES = [
    conv("h5_time_jinr_shangwu",
         ("帮俺理个发 今儿个晌午 幸福小区5栋2单元301 电话13912345678", CONFIRMING, when(0, (11, 13)),
          draft(phone="13912345678"))),
    conv("h5_time_one_hour_later",
         ("一个钟头以后来给俺理个发 光明小区2栋101 电话13912345678", CONFIRMING, when(0, (11, 11)))),
    conv("h5_time_two_hours_later",
         ("俺想理发", in_order),
         ("过两个小时吧", in_order, when(0, (12, 12)))),
    conv("h5_time_asap_day",
         ("家里灯不亮了 尽快来人修一下 光明小区2栋101 电话13912345678", in_order, urgent, when(0)),
         at="14:00"),
    conv("h5_time_asap_night",
         ("灯泡坏了黑咕隆咚的 尽快来人换一个 光明小区2栋101 电话13912345678", in_order, urgent,
          ends_next_morning(9), says("9"), says_any("明天", "明早", "明日")),
         at="22:30"),
    conv("h5_time_past_today",
         ("俺想理发", in_order),
         ("今天上午九点", state(State.ORDER_TIME), says_any("过了", "已过", "已经过")),
         at="15:00"),
    conv("h5_time_next_wednesday",
         ("我要理发", in_order),
         ("下礼拜三上午", in_order, when(9, (8, 12)))),
    conv("h5_time_houtian_afternoon",
         ("俺想理个发", in_order),
         ("后天下午两点", in_order, when(2, (14, 14)))),
    conv("h5_time_minger_half_past",
         ("俺要理发", in_order),
         ("明儿早上八点半", in_order, when(1, (8, 8), 30))),
    conv("h5_time_bare_three",
         ("俺想理发", in_order),
         ("三点", in_order, when(0, (15, 15)))),
    conv("h5_time_this_saturday",
         ("俺想理发", in_order),
         ("这礼拜六上午十点", in_order, when(5, (10, 10)))),
    conv("h5_time_date_month_day",
         ("我要理发", in_order),
         ("12月1号下午两点", in_order, when(8, (14, 14)))),
    conv("h5_time_tonight_seven",
         ("理发 今晚上七点 和平里6号楼 电话13612345678", CONFIRMING, when(0, (19, 19)))),
]

# -- 2. corrections, at the summary and in any slot ---------------------------------------------------------------

CORRECTIONS = [
    conv("h5_fix_address_at_summary",
         (TO_CONFIRM[0], CONFIRMING),
         ("地址不对 是幸福小区5栋", CONFIRMING, draft_has("address", "5栋"), draft_lacks("address", "3栋")),
         ("对", SUBMIT, draft_has("address", "5栋"))),
    conv("h5_fix_phone_at_summary",
         (TO_CONFIRM[0], CONFIRMING),
         ("电话换成13911112222", CONFIRMING, draft(phone="13911112222")),
         ("确认", SUBMIT, draft(phone="13911112222"))),
    conv("h5_fix_day_at_summary",
         (TO_CONFIRM[0], CONFIRMING),
         ("不是明天 是后天", CONFIRMING, when(2, (9, 9)), NO_SUBMIT)),
    conv("h5_fix_hour_at_summary",
         (TO_CONFIRM[0], CONFIRMING),
         ("时间不对 改成下午三点", CONFIRMING, when(1, (15, 15)), NO_SUBMIT)),
    conv("h5_fix_room_number",
         ("明天上午九点 幸福小区3栋201 帮我理发 电话13800138000", CONFIRMING),
         ("门牌号错了 是301", CONFIRMING, draft_has("address", "幸福小区", "301"), draft_lacks("address", "201"))),
    conv("h5_fix_time_at_address_question",
         ("俺要理发", in_order),
         ("明天上午十点", in_order),
         ("哦不对 是后天 地址是和平里6号楼", in_order, when(2, (10, 10)), draft_has("address", "和平里6号楼"))),
    conv("h5_fix_address_at_phone_question",
         ("俺要理发", in_order),
         ("明天下午三点", in_order),
         ("和平里6号楼", in_order),
         ("哎 楼号说错了 是7号楼", in_order, draft_has("address", "7号楼"), draft_lacks("address", "6号楼")),
         ("13612345678", CONFIRMING, draft_has("address", "7号楼"), draft(phone="13612345678"))),
    conv("h5_fix_submitted_time",
         ("159422号订单时间改到后天上午", state(State.CHANGE_CONFIRM), says_any("后天", "25")),
         ("对", did(*CHANGE), IDLE),
         ctx={"open_orders": [HAIRCUT_ORDER]}),
    conv("h5_fix_submitted_address",
         ("地址错了 是6号楼", state(State.CHANGE_CONFIRM, State.CHANGE_PICK), says("6号楼"), NO_SUBMIT),
         ctx={"open_orders": [HAIRCUT_ORDER]}),
    conv("h5_fix_service_at_summary",
         (TO_CONFIRM[0], CONFIRMING),
         ("说错了 不是理发 是修水管", NO_SUBMIT, in_order, says_any("水管", "维修", "水电"))),
    conv("h5_fix_phone_to_landline",
         (TO_CONFIRM[0], CONFIRMING),
         ("电话改成座机66881234", CONFIRMING, draft_has("phone", "66881234"))),
]

# -- 3. run-on voice text with every slot -------------------------------------------------------------------------

RUNON = [
    conv("h5_runon_filler_haircut",
         ("那个啥 俺想找人来家里理个发 明天上午九点吧 俺家在幸福小区3栋2单元301 电话是13800138000 就这些",
          CONFIRMING, when(1, (9, 9)), draft(phone="13800138000"), draft_has("address", "幸福小区3栋"))),
    conv("h5_runon_spoken_phone",
         ("你好 我要预约理发 后天下午两点 阳光花园8栋502 我手机号幺三九幺二三四五六七八",
          CONFIRMING, when(2, (14, 14)), draft(phone="13912345678"), draft_has("address", "阳光花园8栋502"))),
    conv("h5_runon_dripping_tap",
         ("嗯 就是那个 家里水龙头坏了一直滴答滴答的 明天下午来修一下吧 地址和平里6号楼3单元402 电话13612345678",
          CONFIRMING, when(1, (12, 18)), draft_has("address", "和平里6号楼"), draft(phone="13612345678"))),
    conv("h5_runon_escort_doctor",
         ("喂喂 能听见不 俺腿脚不好想让人陪俺去医院看病 礼拜四早上八点 俺住光明小区2栋101 电话13712345678",
          in_order, when(3, (8, 8)), draft(phone="13712345678"), says_any("陪诊", "就医", "陪同"))),
    conv("h5_runon_phone_on_file",
         ("俺想理发 明天上午十点 幸福小区3栋", CONFIRMING, when(1, (10, 10)), draft(phone=ON_FILE)),
         phone=ON_FILE),
    conv("h5_runon_cleaning",
         ("帮我找个人来打扫打扫卫生 大后天上午 新华路12号院3号楼 电话13512345678 谢谢啊",
          CONFIRMING, when(3, (8, 12)), draft(phone="13512345678"))),
    conv("h5_runon_then_confirm",
         ("俺要理发 就明天上午九点 地方是幸福小区3栋2单元301 电话13800138000", CONFIRMING),
         ("对对对 就这样", SUBMIT, when(1, (9, 9)), draft(phone="13800138000"))),
    conv("h5_runon_tv_after_three",
         ("我跟你说 我这个电视机啊不出影了 你们能来人看看不 明天下午三点以后都在家 地址幸福小区9栋101 号码13812341234",
          CONFIRMING, when(1, (15, 18)), draft(phone="13812341234"))),
    conv("h5_runon_fullwidth_digits",
         ("明天上午九点 幸福小区３栋 理发 电话１３８００１３８０００", CONFIRMING, draft(phone="13800138000"),
          when(1, (9, 9)))),
    conv("h5_runon_lock_today",
         ("就是那个啥呢 俺想修修门锁 锁芯坏了打不开 今天下午四点 幸福小区3栋2单元301 电话13800138000",
          CONFIRMING, when(0, (16, 16)), draft_has("address", "幸福小区3栋"))),
    conv("h5_runon_trailing_ok",
         ("明儿晌午来个人给俺理发 和平里6号楼 电话13612345678 呃 就这样 好", in_order, when(1, (11, 13)),
          NO_SUBMIT)),
]

# -- 4. yes, no and cancel in many phrasings ------------------------------------------------------------------------

CONFIRMS = [
    conv("h5_yes_en_en", (TO_CONFIRM[0], CONFIRMING), ("嗯嗯", SUBMIT, IDLE)),
    conv("h5_yes_zhong", (TO_CONFIRM[0], CONFIRMING), ("中", SUBMIT)),
    conv("h5_yes_xinglei", (TO_CONFIRM[0], CONFIRMING), ("行嘞", SUBMIT)),
    conv("h5_yes_yaode", (TO_CONFIRM[0], CONFIRMING), ("要得", SUBMIT)),
    conv("h5_yes_duitou", (TO_CONFIRM[0], CONFIRMING), ("对头", SUBMIT)),
    conv("h5_yes_haodi", (TO_CONFIRM[0], CONFIRMING), ("好滴好滴", SUBMIT)),
    conv("h5_yes_enna", (TO_CONFIRM[0], CONFIRMING), ("嗯呐", SUBMIT)),
    conv("h5_yes_number_one", (TO_CONFIRM[0], CONFIRMING), ("1", SUBMIT)),
    conv("h5_no_suanle", (TO_CONFIRM[0], CONFIRMING), ("算了不要了", NO_SUBMIT, not_ordering, replied)),
    conv("h5_no_next_time", (TO_CONFIRM[0], CONFIRMING), ("先不弄了 下回再说吧", NO_SUBMIT, not_ordering)),
    conv("h5_no_budui", (TO_CONFIRM[0], CONFIRMING),
         ("不对", NO_SUBMIT, state(State.ORDER_EDIT, State.ORDER_CONFIRM), replied)),
    conv("h5_cancel_by_number",
         ("取消159422号订单", either(did_with(CANCEL, 159422), both(says("159422"), says_any("确认", "吗", "？")))),
         ctx={"open_orders": [HAIRCUT_ORDER, PIPE_ORDER]}),
    conv("h5_cancel_by_service",
         ("那个理发的不要了", not_ordering,
          either(did_with(CANCEL, 159422), both(says_any("159422", "理发"), never("273816")))),
         ctx={"open_orders": [HAIRCUT_ORDER, PIPE_ORDER]}),
]

# -- 5. status, points, a real person, small talk -------------------------------------------------------------------

INFO = [
    conv("h5_info_thanks", ("谢谢你啊 好人一生平安", says_any("不客气", "不用谢"), not_ordering)),
    conv("h5_info_who_are_you", ("你是谁呀 是机器人不", replied, says_any("雷锋", "助手", "机器人"), not_ordering)),
    conv("h5_info_real_person", ("俺要找真人说话 不跟机器说", state(State.HUMAN))),
    conv("h5_info_zhuan_rengong", ("转人工", state(State.HUMAN))),
    conv("h5_info_office_phone", ("社区电话多少啊", says("88886666"), not_ordering),
         ctx={"office_phone": "0731-88886666"}),
    conv("h5_info_my_orders", ("我的订单", says("理发"), not_ordering), ctx={"open_orders": [HAIRCUT_ORDER]}),
    conv("h5_info_order_status_words", ("俺那个理发的单子咋样了 有人接没", says("理发"), not_ordering),
         ctx={"open_orders": [HAIRCUT_ORDER]}),
    conv("h5_info_points", ("俺的积分有多少", either(says("积分"), did("point")), not_ordering), roles=VOL),
    conv("h5_info_hello", ("你好", replied, says_any("回复", "1"), not_ordering)),
    conv("h5_info_events", ("啥时候有活动啊", says_any("一条街", "活动"), not_ordering)),
    conv("h5_info_chitchat", ("早上好 吃了没", replied, not_ordering)),
    conv("h5_info_human_mid_order",
         ("我要理发", in_order),
         ("俺不会弄 找个人工吧", state(State.HUMAN), NO_SUBMIT)),
]

# -- 6. ordering for a relative (代点单) ------------------------------------------------------------------------------

PROXY = [
    conv("h5_proxy_mom_all_at_once",
         ("帮我妈约个理发 她姓刘 明天上午九点 幸福小区3栋301 她电话13712345678", in_order, says("刘"),
          holds("13712345678"), when(1, (9, 9))),
         phone=ON_FILE),
    conv("h5_proxy_mom_named_escort",
         ("我妈叫刘桂芬 她电话13712345678 帮她约个陪诊 后天早上八点 光明小区2栋101", in_order, holds("刘桂芬"),
          draft(phone="13712345678"), when(2, (8, 8))),
         phone=ON_FILE),
    conv("h5_proxy_dad_step_by_step",
         ("给俺爹订个理发 他腿脚不好 明天下午三点 和平里6号楼", in_order),
         ("他叫王大山 电话13612345678", in_order, draft(phone="13612345678"), holds("王大山")),
         phone=ON_FILE),
    conv("h5_proxy_neighbour_grandma",
         ("帮隔壁李奶奶点个买菜的 她不会用手机", in_order, says("李")),
         phone=ON_FILE),
    conv("h5_proxy_submit_keeps_parent_phone",
         ("帮我妈约个理发 她叫刘桂芬 明天上午九点 幸福小区3栋301 她电话13712345678", in_order),
         ("对 就这样", SUBMIT, draft(phone="13712345678"), holds("刘桂芬")),
         phone=ON_FILE),
    conv("h5_proxy_grandpa_blood_pressure",
         ("替我家老爷子约个上门量血压 他叫赵德福 电话13512345678 明天上午十点 光明小区2栋101", in_order,
          says("赵"), draft(phone="13512345678")),
         phone=ON_FILE),
    conv("h5_proxy_mom_no_phone",
         ("帮我妈约个理发 明天上午九点 幸福小区3栋301", in_order),
         ("她叫刘桂芬", in_order),
         ("她没有手机 打我的就行", in_order, draft(phone=ON_FILE), never("格式")),
         phone=ON_FILE),
    conv("h5_proxy_mother_in_law",
         ("给我婆婆预约一下上门理发 老太太姓孙 电话13312345678 大后天上午十点 阳光花园8栋502", in_order,
          when(3, (10, 10)), draft(phone="13312345678"), says("孙")),
         phone=ON_FILE),
    conv("h5_proxy_spoken_phone",
         ("帮俺娘约个理发 俺娘叫周秀英 她电话幺三七幺二三四五六七八 明儿上午十点 幸福小区3栋", in_order,
          draft(phone="13712345678"), holds("周秀英")),
         phone=ON_FILE),
    conv("h5_proxy_then_called_off",
         ("帮我妈约个理发 她叫刘桂芬 明天上午九点 幸福小区3栋301 她电话13712345678", in_order),
         ("算了 俺妈说不用了", NO_SUBMIT, not_ordering),
         phone=ON_FILE),
]

# -- 7. volunteers' own menu ------------------------------------------------------------------------------------------

VOLUNTEER = [
    conv("h5_vol_what_tasks", ("有什么任务", either(did(*LISTING), says("接单")), not_ordering), roles=VOL),
    conv("h5_vol_any_work", ("有啥活不", either(did(*LISTING), says("接单")), not_ordering), roles=VOL),
    conv("h5_vol_any_orders_now", ("现在有单子吗", either(did(*LISTING), says("接单")), not_ordering), roles=VOL),
    conv("h5_vol_accept_number", ("接单 384120", did_with(ACCEPT, 384120), not_ordering), roles=VOL,
         ctx={"offered_tasks": [TASK_OFFER]}),
    conv("h5_vol_bare_jie", ("接", did_with(ACCEPT, 384120)), roles=VOL, ctx={"offered_tasks": [TASK_OFFER]}),
    conv("h5_vol_hao_wo_qu", ("好 我去", did_with(ACCEPT, 384120), not_ordering), roles=VOL,
         ctx={"offered_tasks": [TASK_OFFER]}),
    conv("h5_vol_pick_from_two",
         ("接单", state(State.VOL_ACCEPT), says("384120"), says("402266")),
         ("1", did_with(ACCEPT, 384120)),
         roles=VOL, ctx={"offered_tasks": [TASK_OFFER, TASK_OFFER2]}),
    conv("h5_vol_done_two_hours", ("完成 2小时", did_with(COMPLETE, 2)), roles=VOL, ctx={"my_tasks": [TASK_NOW]}),
    conv("h5_vol_done_words_one_hour", ("做完了 干了一个钟头", did_with(COMPLETE, 1)), roles=VOL,
         ctx={"my_tasks": [TASK_NOW]}),
    conv("h5_vol_done_then_hours",
         ("完成", state(State.VOL_HOURS), says("小时")),
         ("一个半钟头", did_with(COMPLETE, 1.5)),
         roles=VOL, ctx={"my_tasks": [TASK_NOW]}),
    conv("h5_vol_give_back", ("这单俺去不了了 家里有事",
                              either(state(State.VOL_GIVEBACK), did(*GIVEBACK)), not_ordering),
         roles=VOL, ctx={"my_tasks": [TASK_NOW]}),
    conv("h5_vol_menu", ("菜单", says("接单"), not_ordering), roles=VOL),
]

# -- 8. volunteer registration: availability and teams -----------------------------------------------------------

REGISTRATION = [
    conv("h5_reg_start", ("注册志愿者", state(State.REG_NAME))),
    conv("h5_reg_start_words", ("俺也想当志愿者 咋报名啊", state(State.REG_NAME))),
    conv("h5_reg_name", ("注册志愿者", state(State.REG_NAME)), ("俺叫张建国", reg(name="张建国"),
                                                             state(State.REG_GENDER))),
    conv("h5_reg_weekday_mornings", ("周一到周五上午", avail("一二三四五", "上午")),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_weekend_all_day", ("礼拜六礼拜天一整天都有空", avail("六日", "全天")),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_evenings_and_weekend_pm", ("工作日晚上 周末下午", avail("一二三四五", "晚上", ("六日", "下午"))),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_every_morning", ("每天上午都行", avail("一二三四五六日", "上午")),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_tue_thu_afternoon", ("礼拜二礼拜四下午", avail("二四", "下午")),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_mixed_days", ("一三五上午 二四六下午", avail("一三五", "上午", ("二四六", "下午"))),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_mon_to_wed_all_day", ("星期一至星期三全天", avail("一二三", "全天")),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_sunday_two_parts", ("星期天上午和晚上", avail("日", "上午", ("日", "晚上"))),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_anytime", ("啥时候都行 随叫随到", avail("一二三四五六日", "全天")),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_reg_to_team",
         ("周末全天", avail("六日", "全天"), state(State.REG_PHONE, State.REG_TEAM)),
         ("13800138000", state(State.REG_TEAM), says("爱心理发队")),
         ("理发那个队", reg_holds("haircut"), state(State.REG_CONSENT, State.REG_CONFIRM)),
         state=State.REG_TIMES, slots=REG_AT_TIMES, ctx={"teams": TEAMS}),
    conv("h5_reg_minor_needs_guardian",
         ("注册志愿者", state(State.REG_NAME)),
         ("王小明", state(State.REG_GENDER)),
         ("男的", reg(gender="男")),
         ("俺今年15岁", either(state(State.REG_GUARDIAN_NAME), says_any("监护人", "家长")))),
]

# -- 9. ratings, hearts in words -------------------------------------------------------------------------------------

UNRATED = {"unrated_orders": (159422,)}


def rate(name: str, words: str, lo: int, hi: int) -> Conv:
    return conv(name, ("评价 159422", state(State.RATE)), (words, hearts(lo, hi)), ctx=UNRATED)


RATINGS = [
    rate("h5_rate_five_hearts", "五颗心", 5, 5),
    rate("h5_rate_tinghao", "挺好", 4, 4),
    rate("h5_rate_very_satisfied", "很满意 师傅手艺真好", 5, 5),
    rate("h5_rate_so_so", "一般般吧", 3, 3),
    rate("h5_rate_not_great", "不咋地 来晚了", 1, 2),
    rate("h5_rate_stars_symbols", "★★★", 3, 3),
    rate("h5_rate_full_marks", "给满分", 5, 5),
    rate("h5_rate_number_with_gripe", "5心 就是来晚了一点", 5, 5),
    rate("h5_rate_zero_no_show", "零颗心 人压根没来", 0, 0),
    rate("h5_rate_four_stars_words", "四颗星星吧", 4, 4),
    conv("h5_rate_direct_with_number", ("给159422号打五颗心", hearts(5, 5), not_ordering), ctx=UNRATED),
]

# -- 10. emergencies in the middle of a dialogue ---------------------------------------------------------------------

EMERGENCY = [
    conv("h5_sos_fall_at_address",
         ("俺要理发", in_order), ("明天上午", in_order),
         ("俺老伴摔倒了叫不醒", leads_with("120"), not_ordering, never("地址", "电话号码"), NO_SUBMIT)),
    conv("h5_sos_chest_pain_at_time",
         ("家里水管漏水了 来个人修修", in_order),
         ("俺胸口疼得厉害 喘不上气来", leads_with("120"), not_ordering, never("什么时间", "几点"))),
    conv("h5_sos_fire_at_summary",
         (TO_CONFIRM[0], CONFIRMING),
         ("厨房着火了 烟老大了", leads_with("119"), not_ordering, NO_SUBMIT)),
    conv("h5_sos_gas_smell",
         ("我要理发", in_order),
         ("屋里一股煤气味儿 呛得慌", says("燃气"), never("119"), not_ordering)),
    conv("h5_sos_burglar",
         ("俺想理发", in_order),
         ("有人撬俺家门 就在外头呢", leads_with("110"), not_ordering)),
    conv("h5_sos_scam_call",
         ("我要理发", in_order),
         ("刚才有人打电话说俺孙子出事了 让俺赶紧转钱", says("110", "96110"), not_ordering)),
    conv("h5_sos_self_harm_in_registration",
         ("活着没啥意思了 不想活了", says("12356"), IDLE),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h5_sos_flood_trapped",
         ("水漫进屋了 俺出不去了", says_any("119", "110"), not_ordering)),
    conv("h5_sos_burst_pipe_goes_on",
         ("家里水管爆了 哗哗往外喷水 幸福小区3栋301", says_any("阀", "总闸"), in_order, urgent,
          draft_has("address", "幸福小区3栋"))),
    conv("h5_sos_fire_typo",
         ("我要理发", in_order),
         ("着伙了 快来人啊", leads_with("119"), not_ordering)),
    conv("h5_sos_volunteer_mid_hours",
         ("完成", state(State.VOL_HOURS)),
         ("老人突然晕倒了 没反应了", leads_with("120"), IDLE),
         roles=VOL, ctx={"my_tasks": [TASK_NOW]}),
    conv("h5_sos_stroke_signs",
         ("俺想理发", in_order),
         ("俺老头子突然说不出话 嘴都歪了", leads_with("120"), not_ordering)),
]

# -- 11. the saved address, 跟上回一样 --------------------------------------------------------------------------------

SAVED_CTX = {"last_address": SAVED}

SAVED_ADDRESS = [
    conv("h5_saved_offered_and_taken",
         ("俺想理发", in_order), ("明天上午九点", says("幸福小区3栋")),
         ("对", CONFIRMING, draft_has("address", "幸福小区3栋")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_laodifang",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("还是老地方", CONFIRMING, draft_has("address", "幸福小区3栋")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_daughters_home",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("不是 这回在俺闺女家 阳光花园8栋502", in_order, draft_has("address", "阳光花园8栋502"),
          draft_lacks("address", "幸福小区")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_same_as_last_time",
         ("跟上回一样 理个发 明天上午十点", CONFIRMING, draft_has("address", "幸福小区3栋"), when(1, (10, 10))),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_enna_jiuna",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("嗯呐 就那", CONFIRMING, draft_has("address", "幸福小区3栋")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_address_same_words",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("地址跟上回一样", CONFIRMING, draft_has("address", "幸福小区3栋")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_one_shot_old_place",
         ("我要理发 明天上午九点 还送到老地方", CONFIRMING, draft_has("address", "幸福小区3栋")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_none_kept",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("跟上回一样", state(State.ORDER_ADDRESS), never("幸福小区"))),
    conv("h5_saved_new_address_given",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("和平里6号楼2单元", CONFIRMING, draft_has("address", "和平里6号楼"), draft_lacks("address", "幸福小区")),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_through_to_submit",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("是的是的", CONFIRMING),
         ("中", SUBMIT, draft_has("address", "幸福小区3栋"), draft(phone=ON_FILE)),
         phone=ON_FILE, ctx=SAVED_CTX),
    conv("h5_saved_that_place_building",
         ("俺想理发", in_order), ("明天上午九点", in_order),
         ("还是那个地方 3栋那个", CONFIRMING, draft_has("address", "幸福小区3栋")),
         phone=ON_FILE, ctx=SAVED_CTX),
]

# -- 12. dialect and pinyin typos everywhere ------------------------------------------------------------------------

DIALECT = [
    conv("h5_dia_titou", ("俺想剃个头", in_order, HAIRCUT)),
    conv("h5_dia_lifa_typo", ("想礼发 家里来个人", in_order, HAIRCUT)),
    conv("h5_dia_peizhen_typo", ("俺想找人陪俺去医院 配诊", in_order, says_any("陪诊", "就医", "陪同"))),
    conv("h5_dia_traditional", ("幫我理髮 明天上午", in_order, HAIRCUT, when(1, (8, 12)))),
    conv("h5_dia_tap_typo", ("水笼头坏了 一直漏水", in_order, says_any("维修", "水电", "水管", "水龙头"))),
    conv("h5_dia_light_dialect", ("灯不亮咧 帮俺瞅瞅咋回事", in_order, says_any("电", "维修", "灯"))),
    conv("h5_dia_phone_teaching", ("俺不会耍智能手机 谁能教教俺", in_order, says("手机"))),
    conv("h5_dia_door_haircut", ("想剪个头发 俺走不动道 能上门不", in_order, HAIRCUT)),
    conv("h5_dia_groceries", ("帮俺买点菜 俺下不了楼", in_order, says_any("代购", "买菜", "跑腿"))),
    conv("h5_dia_shangwu_typo", ("俺要理发", in_order), ("明天上五九点", in_order, when(1, (9, 9)))),
    conv("h5_dia_spoken_phone_at_question",
         ("俺要理发", in_order), ("明天上午九点", in_order), ("幸福小区3栋301", in_order),
         ("幺三八零零幺三八零零零", CONFIRMING, draft(phone="13800138000"))),
    conv("h5_dia_houshang", ("俺要理发", in_order), ("明个儿后晌", in_order, when(1, (12, 18)))),
]

PARTS: dict[str, list[Conv]] = {
    "times": TIMES,
    "corrections": CORRECTIONS,
    "runon": RUNON,
    "confirm_refuse_cancel": CONFIRMS,
    "status_points_human_smalltalk": INFO,
    "proxy": PROXY,
    "volunteer_menu": VOLUNTEER,
    "registration": REGISTRATION,
    "ratings": RATINGS,
    "emergency_mid_dialogue": EMERGENCY,
    "saved_address": SAVED_ADDRESS,
    "dialect_typos": DIALECT,
}

HELDOUT_V5: list[Conv] = [c for part in PARTS.values() for c in part]
THEMES: dict[str, list[str]] = {theme: [c.name for c in part] for theme, part in PARTS.items()}
