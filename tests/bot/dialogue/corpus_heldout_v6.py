"""Held-out corpus v6, written blind by an outside test writer ("dlg6") from /work/shared/DESIGN.md and the README
only (plus the check API in corpus.py / transcript.py and the dataclass definitions of Context, State, Result,
OpenOrder and TeamChoice). No other corpus, test or the dialogue's code was read. Every expectation was written
before anything was run.

The day is Conv's default: Monday 2026-11-23 in Shanghai, 10:00 unless a conversation says `at=`.
Residents write as elderly people type or dictate: run-on, no punctuation, pinyin typos, dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogue.core import State
from tests.bot.dialogue.corpus import (
    REG_AT_TIMES,
    TO_CONFIRM,
    Check,
    Conv,
    CorpusTranscript,
    Result,
    act,
    answered,
    any_of,
    avail,
    conv,
    draft,
    draft_has,
    draft_lacks,
    future,
    in_an_order,
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

# -- the writer's own checks (meaning, without knowing the edge's action names) --------------------------------------


def _flat(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [x for v in value.values() for x in _flat(v)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [x for v in value for x in _flat(v)]
    return [value]


def _mentions(data: Mapping[str, Any], value: Any) -> bool:
    return any(str(v) == str(value) or (isinstance(value, str) and value in str(v)) for v in _flat(data))


def acts_on(order_id: int) -> Check:
    """This turn asks the domain for something about this order (accept, finish, give back, cancel, change...)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        ok = any(a.name != "submit_order" and _mentions(a.data, order_id) for a in res.actions)
        return None if ok else f"no action about order {order_id}"
    return check


def acted_on_so_far(order_id: int) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        ok = any(a.name != "submit_order" and _mentions(a.data, order_id) for a in t.actions())
        return None if ok else f"no action so far about order {order_id}"
    return check


def not_acts_on(order_id: int) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        bad = [a.name for a in res.actions if _mentions(a.data, order_id)]
        return f"acted on order {order_id}: {bad}" if bad else None
    return check


submitted = act("submit_order")
no_submit = no_act("submit_order")


def never_submitted(res: Result, t: CorpusTranscript) -> str | None:
    """No order was submitted at any turn of this conversation."""
    return "an order was submitted" if any(a.name == "submit_order" for a in t.actions()) else None


def submitted_mentions(*words: str) -> Check:
    """This turn submits an order whose data contains these texts (a phone, a name) somewhere."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        subs = [a for a in res.actions if a.name == "submit_order"]
        if not subs:
            return "no order submitted"
        text = " ".join(str(v) for v in _flat(subs[0].data))
        missing = [w for w in words if w not in text]
        return f"submitted order lacks {missing}" if missing else None
    return check


_RATING_KEYS = ("heart", "star", "rating", "score")


def _ratings(t: CorpusTranscript) -> list[int]:
    out = []
    for a in t.actions():
        for k, v in a.data.items():
            if any(w in k.lower() for w in _RATING_KEYS) and isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(int(v))
    return out


def rated(lo: int, hi: int | None = None) -> Check:
    """The latest rating asked of the domain so far in this conversation is between lo and hi hearts."""
    hi = lo if hi is None else hi

    def check(res: Result, t: CorpusTranscript) -> str | None:
        got = _ratings(t)
        if not got:
            return "no rating recorded so far"
        return None if lo <= got[-1] <= hi else f"rating {got[-1]}, expected {lo}..{hi}"
    return check


def rating_pending_or(lo: int, hi: int | None = None) -> Check:
    """Either the rating is recorded already, or the bot went on to ask for a comment."""
    return any_of(rated(lo, hi), state(State.RATE_COMMENT))


def hours_so_far(hours: float) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        for a in t.actions():
            for k, v in a.data.items():
                if "hour" in k.lower() and isinstance(v, (int, float)) and abs(float(v) - hours) < 0.01:
                    return None
        return f"no {hours} hours recorded so far"
    return check


def reg_skill(code: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        skills = list(dict(t.slots.get("reg") or {}).get("skills") or [])
        return None if code in skills else f"skills {skills}, expected {code} among them"
    return check


def reg_moved_on(res: Result, t: CorpusTranscript) -> str | None:
    """The registration went on past the availability question."""
    s = str(res.state)
    if s == State.REG_TIMES:
        return "still asking the available times"
    return None if s.startswith("REG_") else f"state {s}, expected the registration to go on"


def service_is_not(code: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        d = dict(t.slots.get("draft") or {})
        for a in res.actions:
            if a.name == "submit_order":
                d = dict(a.data)
        return f"service is still {code}" if d.get("service") == code else None
    return check


def not_past(res: Result, t: CorpusTranscript) -> str | None:
    """If the order has a time, it is not in the past (asking again is fine)."""
    d = dict(t.slots.get("draft") or {})
    for a in res.actions:
        if a.name == "submit_order":
            d = dict(a.data)
    if not d.get("start") and not d.get("end"):
        return None
    return future(res, t)


def answer_or_act(res: Result, t: CorpusTranscript) -> str | None:
    """The person gets an answer: the dialogue's own reply, or an action whose text the edge sends as the reply
    (core.Action: "its text is the reply"). Fix after the one run: `answered` alone misread the API."""
    return None if (res.reply or "").strip() or res.actions else "no reply and no action"


def not_state(*states: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        return f"state {res.state}" if res.state in states else None
    return check


CONFIRMING = state(State.ORDER_CONFIRM)
HAIRCUT = draft(service="haircut")
IDLE = state(State.IDLE)
REG_STATES = tuple(s for s in State if s.name.startswith("REG_"))
not_registering = not_state(*REG_STATES)
VOL = frozenset({"volunteer"})
PHONE = "13800138000"
ADDR_FULL = "幸福小区3栋2单元301"

# an ID number with a correct GB 11643 check digit


def _id_number(area: str, birth: str, seq: str) -> str:
    body = area + birth + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


ID_MAN_62 = _id_number("110105", "19640315", "123")  # born 1964-03-15, a man (odd 17th digit): 62 on 2026-11-23
ID_WOMAN_58 = _id_number("510104", "19680702", "244")  # born 1968-07-02, a woman: 58

REG_AT_SKILLS: Mapping[str, Any] = {
    "reg": {k: v for k, v in dict(REG_AT_TIMES["reg"]).items() if k != "skills"},
    "id_enc": "x", "id_hash": "y",
}

ONE_TASK = ({"id": 482913, "service": "haircut", "when": "11月23日(周一) 09:00", "state": "accepted",
             "address": "幸福小区3栋2单元301", "time_kind": "at", "start": "2026-11-23T09:00:00+08:00",
             "end": "2026-11-23T10:00:00+08:00"},)
OFFERED_ONE = ({"id": 615027, "service": "haircut", "when": "11月24日(周二) 09:00"},)
OFFERED_TWO = ({"id": 615027, "service": "haircut", "when": "11月24日(周二) 09:00"},
               {"id": 615388, "service": "haircut", "when": "11月25日(周三) 15:00"})
OPEN_ONE = ({"id": 731204, "service": "haircut", "when": "11月24日(周二) 09:00", "time_kind": "at",
             "start": "2026-11-24T09:00:00+08:00", "end": "2026-11-24T10:00:00+08:00",
             "address": "幸福小区3栋2单元301", "state": "submitted"},)
OPEN_TWO = (OPEN_ONE[0],
            {"id": 731288, "service": "haircut", "when": "11月27日(周五) 15:00", "time_kind": "at",
             "start": "2026-11-27T15:00:00+08:00", "end": "2026-11-27T16:00:00+08:00",
             "address": "幸福小区3栋2单元301", "state": "submitted"})
OPEN_ACCEPTED = ({**OPEN_ONE[0], "state": "accepted"},)
UNRATED = {"unrated_orders": (518203,)}
OFFICE = {"office_phone": "0731-88886666", "office_hours": "周一至周五 8:30-17:30"}


# -- parts ------------------------------------------------------------------------------------------------------------

TIMES = [
    conv("h6_time_today_three_ish", ("我要理发 今儿下午三点多", in_an_order, HAIRCUT, when(0, (15, 15)))),
    conv("h6_time_in_an_hour", ("想找人来理个发 过一个钟头来", in_an_order, when(0, (11, 11))), at="10:00"),
    conv("h6_time_in_an_hour_afternoon", ("理发 过一个钟头吧", in_an_order, when(0, (15, 15))), at="14:00"),
    conv("h6_time_half_hour", ("理发 半个钟头以后来", in_an_order, when(0, (10, 10), 30))),
    conv("h6_time_in_a_bit", ("等会儿来给俺理个发", in_an_order, any_of(urgent, when(0, (10, 13))))),
    conv("h6_time_shangwu_noon", ("晌午来帮我理发", in_an_order, HAIRCUT, when(0, (11, 13)))),
    conv("h6_time_houshang", ("今儿个后晌来理发中不", in_an_order, HAIRCUT, when(0, (13, 18)))),
    conv("h6_time_tomorrow_houshang_three", ("理发 明儿后晌三点", in_an_order, when(1, (15, 15)))),
    conv("h6_time_bare_three", ("我要理发 三点", in_an_order, when(0, (15, 15)))),
    conv("h6_time_tonight_seven", ("理发 今晚上七点", in_an_order, when(0, (19, 19)))),
    conv("h6_time_houerge", ("后儿个上午来理发", in_an_order, when(2, (6, 12)))),
    conv("h6_time_da_houtian", ("理发 大后天下午两点", in_an_order, when(3, (14, 14)))),
    conv("h6_time_next_wednesday", ("下礼拜三上午来给我理发", in_an_order, when(9, (6, 12)))),
    conv("h6_time_this_sunday", ("礼拜天上午十点理发", in_an_order, when(6, (10, 10)))),
    conv("h6_time_dec_first", ("12月1号下午两点理发", in_an_order, when(8, (14, 14)))),
    conv("h6_time_tomorrow_half_seven", ("理发 明天早上七点半", in_an_order, when(1, (7, 7), 30))),
    conv("h6_time_past_afternoon", ("理发 下午三点", in_an_order, not_past), at="16:00"),
    conv("h6_time_asked_then_given",
         ("我要理发", in_an_order, HAIRCUT),
         ("今儿下午两点半", in_an_order, when(0, (14, 14), 30))),
]

URGENT = [
    conv("h6_urgent_asap_words", ("水龙头坏了 越快越好", in_an_order, urgent)),
    conv("h6_urgent_come_now", ("马上来人帮我修水龙头", in_an_order, urgent)),
    conv("h6_urgent_right_now", ("现在就要 家里灯不亮了 来个人看看", in_an_order, urgent)),
    conv("h6_urgent_ganjin", ("赶紧的 下水道堵了 快来人", in_an_order, urgent)),
    conv("h6_urgent_asked_time",
         ("我要修水龙头", in_an_order),
         ("越快越好", in_an_order, urgent)),
    conv("h6_urgent_asked_time_dialect",
         ("帮我通下下水道", in_an_order),
         ("立马 急得很", in_an_order, urgent)),
    conv("h6_urgent_cantonese", ("快啲嚟人帮我整水喉啊", in_an_order, urgent)),
    conv("h6_urgent_night", ("尽快来人帮我通下水道 越快越好", in_an_order, urgent,
                             says_any("9:00", "09:00", "九点", "明早", "明天早上", "明天上午")), at="22:30"),
    conv("h6_urgent_early_morning", ("下水道堵了 尽快", in_an_order, urgent), at="06:30"),
    conv("h6_urgent_evening", ("马上来人修下灯", in_an_order, urgent), at="20:30"),
    conv("h6_urgent_then_confirm",
         ("水龙头坏了 马上来 幸福小区3栋2单元301 电话13800138000", in_an_order, urgent),
         ("对", submitted, urgent)),
    conv("h6_urgent_earlier_the_better", ("越早越好 帮我剪个头", in_an_order, HAIRCUT, urgent)),
]

CORRECTIONS = [
    conv("h6_fix_time_at_summary", (*TO_CONFIRM, CONFIRMING),
         ("时间改成后天上午九点", in_an_order, no_submit, when(2, (9, 9)), HAIRCUT)),
    conv("h6_fix_hour_keeps_day", (*TO_CONFIRM, CONFIRMING),
         ("不对 是下午三点", in_an_order, no_submit, when(1, (15, 15)))),
    conv("h6_fix_day_keeps_hour", (*TO_CONFIRM, CONFIRMING),
         ("不是明天 是后天", in_an_order, no_submit, when(2, (9, 9)))),
    conv("h6_fix_building", (*TO_CONFIRM, CONFIRMING),
         ("地址错了 是6号楼", in_an_order, no_submit, draft_has("address", "幸福小区", "6"),
          draft_lacks("address", "3栋"))),
    conv("h6_fix_whole_address", (*TO_CONFIRM, CONFIRMING),
         ("改一下 地址是和平里小区8号楼1单元502", in_an_order, no_submit, draft_has("address", "和平里"),
          draft_lacks("address", "幸福小区"))),
    conv("h6_fix_phone", (*TO_CONFIRM, CONFIRMING),
         ("电话错了 是13912345678", in_an_order, no_submit, draft_has("phone", "13912345678"))),
    conv("h6_fix_then_confirm", (*TO_CONFIRM, CONFIRMING),
         ("时间改到后天上午十点", in_an_order, no_submit),
         ("对 就这样", submitted, when(2, (10, 10)), HAIRCUT)),
    conv("h6_fix_an_hour_earlier", (*TO_CONFIRM, CONFIRMING),
         ("早一个钟头 八点", in_an_order, no_submit, when(1, (8, 8)))),
    conv("h6_fix_service_at_summary", (*TO_CONFIRM, CONFIRMING),
         ("不要理发了 换成打扫卫生", in_an_order, no_submit, service_is_not("haircut"))),
    conv("h6_fix_mid_day",
         ("我要理发 明天上午十点", in_an_order, when(1, (10, 10))),
         ("哦不对 是后天", in_an_order, no_submit, when(2, (10, 10)))),
    conv("h6_fix_mid_address",
         ("我要理发 明天上午十点", in_an_order),
         ("幸福小区3栋2单元301", in_an_order),
         ("哎呀地址说错了 是4栋", in_an_order, no_submit, draft_has("address", "4"), draft_lacks("address", "3栋"),
          when(1, (10, 10)))),
    conv("h6_fix_to_afternoon", (*TO_CONFIRM, CONFIRMING),
         ("改成下午吧", in_an_order, no_submit, when(1, (12, 18)))),
    conv("h6_change_submitted_time",
         ("731204号订单时间改到后天上午", not_ordering, no_submit, state(State.CHANGE_CONFIRM, State.CHANGE_ASK)),
         ctx={"open_orders": OPEN_ONE}),
    conv("h6_change_submitted_address",
         ("我那个理发的单子地址错了 是6号楼", not_ordering, no_submit,
          state(State.CHANGE_CONFIRM, State.CHANGE_ASK, State.CHANGE_PICK)),
         ctx={"open_orders": OPEN_ONE}),
]

RUNON = [
    conv("h6_run_haircut_full",
         ("俺想找人来家里理个发明天上午九点幸福小区3栋2单元301电话13800138000", CONFIRMING, HAIRCUT,
          when(1, (9, 9)), draft_has("address", "幸福小区", "301"), draft_has("phone", PHONE))),
    conv("h6_run_tap",
         ("我家水龙头坏了后天下午两点来修和平里小区8号楼1单元502手机13912345678", CONFIRMING, when(2, (14, 14)),
          draft_has("address", "和平里"), draft_has("phone", "13912345678"))),
    conv("h6_run_escort",
         ("帮我约个陪诊明天早上七点半去人民医院我住幸福小区5栋101电话13700001111", CONFIRMING,
          when(1, (7, 7), 30), draft_has("phone", "13700001111"))),
    conv("h6_run_voice_greeting",
         ("喂你好我是幸福小区3栋2单元的老王啊我想明天下午三点钟找个人来给我理个发我电话是13800138000",
          in_an_order, HAIRCUT, when(1, (15, 15)), draft_has("phone", PHONE))),
    conv("h6_run_spoken_phone",
         ("理发 明天上午十点 幸福小区3栋201 电话幺三八零零幺三八零零零", CONFIRMING, draft_has("phone", PHONE),
          when(1, (10, 10)))),
    conv("h6_run_landline",
         ("打扫卫生 后天上午十点 幸福小区7栋302 座机66881234", CONFIRMING, draft_has("phone", "66881234"),
          when(2, (10, 10)))),
    conv("h6_run_cantonese",
         ("听日下昼三点上门剪头发 幸福小区3栋201 电话13800138000", in_an_order, HAIRCUT, when(1, (15, 15)))),
    conv("h6_run_sichuan",
         ("明天下午三点帮我屋头通下下水道嘛 和平里小区2栋3单元401 13912345678", CONFIRMING, when(1, (15, 15)),
          draft_has("address", "和平里"))),
    conv("h6_run_phone_on_file",
         ("明天上午九点来幸福小区3栋2单元301理发", CONFIRMING, HAIRCUT, when(1, (9, 9))), phone=PHONE),
    conv("h6_run_then_yes",
         ("后天下午两点帮我理个发幸福小区3栋2单元301电话13800138000", CONFIRMING),
         ("对", submitted, HAIRCUT, when(2, (14, 14)), draft_has("address", "幸福小区"))),
    conv("h6_run_backwards",
         ("电话13800138000 幸福小区3栋2单元301 明天上午十点 理发", CONFIRMING, HAIRCUT, when(1, (10, 10)))),
    conv("h6_run_last_address",
         ("明天上午十点理发 还是老地方", in_an_order, HAIRCUT, when(1, (10, 10)), draft_has("address", "幸福小区")),
         ctx={"last_address": ADDR_FULL}, phone=PHONE),
]

YESNO = [
    conv("h6_yes_digit", (*TO_CONFIRM, CONFIRMING), ("1", submitted, HAIRCUT, when(1, (9, 9)))),
    conv("h6_yes_duide", (*TO_CONFIRM, CONFIRMING), ("对的对的", submitted)),
    conv("h6_yes_shide", (*TO_CONFIRM, CONFIRMING), ("是的", submitted)),
    conv("h6_yes_en", (*TO_CONFIRM, CONFIRMING), ("嗯", submitted)),
    conv("h6_yes_enen", (*TO_CONFIRM, CONFIRMING), ("嗯嗯 好", submitted)),
    conv("h6_yes_xing", (*TO_CONFIRM, CONFIRMING), ("行", submitted)),
    conv("h6_yes_zhong", (*TO_CONFIRM, CONFIRMING), ("中", submitted)),
    conv("h6_yes_yaode", (*TO_CONFIRM, CONFIRMING), ("要得", submitted)),
    conv("h6_yes_enna", (*TO_CONFIRM, CONFIRMING), ("嗯呐", submitted)),
    conv("h6_yes_hai_a", (*TO_CONFIRM, CONFIRMING), ("系啊 唔该", submitted)),
    conv("h6_yes_no_problem", (*TO_CONFIRM, CONFIRMING), ("没问题", submitted)),
    conv("h6_yes_confirm_word", (*TO_CONFIRM, CONFIRMING), ("确认", submitted)),
    conv("h6_yes_polite", (*TO_CONFIRM, CONFIRMING), ("好的 麻烦你们了", submitted)),
    conv("h6_yes_ok", (*TO_CONFIRM, CONFIRMING), ("ok", submitted)),
    conv("h6_yes_delei", (*TO_CONFIRM, CONFIRMING), ("得嘞", submitted)),
    conv("h6_yes_right_as_is", (*TO_CONFIRM, CONFIRMING), ("没错 就这么办", submitted)),
    conv("h6_no_budui", (*TO_CONFIRM, CONFIRMING), ("不对", no_submit, in_an_order)),
    conv("h6_no_cuole", (*TO_CONFIRM, CONFIRMING), ("错了", no_submit, in_an_order)),
    conv("h6_no_wait", (*TO_CONFIRM, CONFIRMING), ("等一下 我再想想", no_submit)),
    conv("h6_no_then_yes", (*TO_CONFIRM, CONFIRMING), ("不对", no_submit, in_an_order),
         ("时间改成明天下午三点", no_submit, in_an_order, when(1, (15, 15))),
         ("对了", submitted, when(1, (15, 15)))),
]

CANCEL = [
    conv("h6_cancel_bunong", ("我要理发", in_an_order), ("不弄了", IDLE, no_submit)),
    conv("h6_cancel_suanle", ("我要理发 明天上午", in_an_order), ("算了算了", IDLE, no_submit)),
    conv("h6_cancel_at_summary", (*TO_CONFIRM, CONFIRMING), ("不要了", not_ordering, never_submitted)),
    conv("h6_cancel_word", ("修水龙头", in_an_order), ("取消", IDLE, no_submit)),
    conv("h6_cancel_later", ("我要理发 明天上午十点", in_an_order),
         ("先不弄了 改天再说吧", not_ordering, never_submitted)),
    conv("h6_cancel_polite_at_summary", (*TO_CONFIRM, CONFIRMING), ("不用了 谢谢", not_ordering, never_submitted)),
    conv("h6_cancel_an_bu_yao", ("帮俺剃个头", in_an_order), ("俺不要了 取消吧", IDLE, no_submit)),
    conv("h6_cancel_then_new", ("我要理发", in_an_order), ("不弄了", IDLE),
         ("我要修水龙头", in_an_order, service_is_not("haircut"))),
    conv("h6_cancel_that_one", ("那个不要了", not_ordering, no_submit,
                                any_of(acts_on(731204), state(State.CANCEL_PICK))),
         ctx={"open_orders": OPEN_ONE}),
    conv("h6_cancel_haircut_one", ("理发那个单子不要了", not_ordering, no_submit,
                                   any_of(acts_on(731204), state(State.CANCEL_PICK))),
         ctx={"open_orders": OPEN_ONE}),
    conv("h6_cancel_by_number", ("把731204那单退了", not_ordering, no_submit,
                                 any_of(acts_on(731204), state(State.CANCEL_PICK))),
         ctx={"open_orders": OPEN_ONE}),
    conv("h6_cancel_the_friday_one", ("礼拜五那个理发不要了", not_ordering, no_submit, not_acts_on(731204),
                                      any_of(acts_on(731288), state(State.CANCEL_PICK))),
         ctx={"open_orders": OPEN_TWO}),
    conv("h6_cancel_pick_then_confirm",
         ("那个单子取消了吧", not_ordering, no_submit),
         ("1", acted_on_so_far(731204), never_submitted, not_ordering),
         ctx={"open_orders": OPEN_ONE}),  # one open order: "1" picks it or confirms its cancellation
]

STATUS = [
    conv("h6_status_my_orders", ("我的订单", not_ordering, no_submit, answer_or_act), ctx={"open_orders": OPEN_ONE}),
    conv("h6_status_anyone_took", ("我那个理发的单子有人接了没", not_ordering, no_submit, answer_or_act),
         ctx={"open_orders": OPEN_ONE}),
    conv("h6_status_nudge", ("催一下", not_ordering, no_submit, answer_or_act), ctx={"open_orders": OPEN_ACCEPTED}),
    conv("h6_points_volunteer", ("我有多少积分", not_ordering, no_submit, answer_or_act, not_registering), roles=VOL),
    conv("h6_points_short", ("积分", not_ordering, no_submit, answer_or_act)),
    conv("h6_human_word", ("人工", state(State.HUMAN), no_submit)),
    conv("h6_human_real_person", ("有没有真人啊 我跟机器说不明白", state(State.HUMAN), no_submit)),
    conv("h6_human_staff", ("叫你们工作人员来跟我说", state(State.HUMAN))),
    conv("h6_human_mid_order", ("我要理发", in_an_order), ("转人工", state(State.HUMAN), no_submit)),
    conv("h6_small_hello", ("你好", not_ordering, answered)),
    conv("h6_small_thanks", ("谢谢你们啊 辛苦了", not_ordering, answered,
                             says_any("不客气", "不用谢", "应该的", "客气"))),
    conv("h6_small_robot", ("你是机器人吗", not_ordering, answered)),
    conv("h6_small_eaten", ("吃了没", not_ordering, answered, no_submit)),
    conv("h6_office_phone", ("社区电话多少", says("88886666"), not_ordering), ctx=OFFICE),
    conv("h6_office_hours", ("你们礼拜六上班不", says_any("周一至周五", "8:30", "17:30"), not_ordering), ctx=OFFICE),
    conv("h6_office_phone_mid_order", ("我要理发", in_an_order),
         ("社区电话多少", says("88886666"), in_an_order, no_submit), ctx=OFFICE),
    conv("h6_events", ("雷锋一条街啥时候搞活动", not_ordering, answer_or_act)),
    conv("h6_menu", ("菜单", not_ordering, answered, says("回复"))),
]

RELATIVE = [
    conv("h6_rel_mom_haircut", ("帮我妈约个理发 她姓刘", in_an_order, no_submit)),
    conv("h6_rel_daughter_cleaning", ("我是她闺女 帮俺娘叫个人来打扫卫生", in_an_order)),
    conv("h6_rel_grandma_typing", ("我帮我奶奶问一下 她想理发 她腿脚不方便 能上门吗", in_an_order, HAIRCUT)),
    conv("h6_rel_dad_escort_runon",
         ("给我爸约个陪诊 明天上午九点 他住幸福小区5栋101 他叫张德山 电话13700001111", in_an_order,
          when(1, (9, 9)), no_submit)),
    conv("h6_rel_neighbour", ("给隔壁张奶奶叫个人来理发 她一个人住", in_an_order)),
    conv("h6_rel_spouse", ("替我老伴儿约个理发 明天上午十点", in_an_order, HAIRCUT, when(1, (10, 10)))),
    conv("h6_rel_full_flow",
         ("帮我妈约个理发 她叫刘桂芬", in_an_order),
         ("明天上午十点", in_an_order, when(1, (10, 10))),
         ("幸福小区2栋1单元101", in_an_order),
         ("她电话13611112222", in_an_order),
         ("对", submitted_mentions("13611112222"), HAIRCUT, when(1, (10, 10))),
         phone=PHONE),
    conv("h6_rel_name_and_phone_together",
         ("给我妈约个理发 后天上午 幸福小区2栋101", in_an_order),
         ("我妈叫刘桂芬 她电话13611112222", in_an_order, no_submit)),
    conv("h6_rel_emergency_inside",
         ("帮我爸约个陪诊", in_an_order),
         ("等下 我爸突然晕倒了 叫不醒", says("120"), not_ordering, never_submitted)),
    conv("h6_rel_cancel", ("帮我妈约个理发", in_an_order), ("算了 我妈说不用了", not_ordering, never_submitted)),
    conv("h6_rel_son_types_for_father",
         ("我爸不会打字 我替他说 他想明天下午两点找人理发 住和平里小区8号楼502", in_an_order, HAIRCUT,
          when(1, (14, 14)))),
]

VOLUNTEER = [
    conv("h6_vol_what_work", ("有啥活", not_ordering, no_submit, answer_or_act, not_registering), roles=VOL),
    conv("h6_vol_any_orders", ("现在有单子没", not_ordering, no_submit, answer_or_act, not_registering), roles=VOL),
    conv("h6_vol_accept_number", ("接单 615027", acts_on(615027), no_submit, not_ordering), roles=VOL,
         ctx={"offered_tasks": OFFERED_ONE}),
    conv("h6_vol_accept_glued", ("接单615027", acts_on(615027), no_submit, not_ordering), roles=VOL,
         ctx={"offered_tasks": OFFERED_ONE}),
    conv("h6_vol_bare_accept_one", ("接单", no_submit, not_ordering,
                                    any_of(acts_on(615027), state(State.VOL_ACCEPT))), roles=VOL,
         ctx={"offered_tasks": OFFERED_ONE}),
    conv("h6_vol_ok_i_go", ("好 我去", no_submit, not_ordering,
                            any_of(acts_on(615027), state(State.VOL_ACCEPT))), roles=VOL,
         ctx={"offered_tasks": OFFERED_ONE}),
    conv("h6_vol_bare_accept_two", ("接单", state(State.VOL_ACCEPT), no_submit),
         ("1", acts_on(615027), not_acts_on(615388), no_submit), roles=VOL, ctx={"offered_tasks": OFFERED_TWO}),
    conv("h6_vol_done_hours_one_line", ("干完了 干了俩钟头", hours_so_far(2), acted_on_so_far(482913), no_submit),
         roles=VOL, ctx={"my_tasks": ONE_TASK}, at="12:00"),
    conv("h6_vol_done_then_hours",
         ("干完了", no_submit, any_of(state(State.VOL_HOURS), acts_on(482913))),
         ("一个半小时", hours_so_far(1.5), acted_on_so_far(482913), no_submit),
         roles=VOL, ctx={"my_tasks": ONE_TASK}, at="12:00"),
    conv("h6_vol_done_command", ("完成 2小时", hours_so_far(2), acted_on_so_far(482913), no_submit),
         roles=VOL, ctx={"my_tasks": ONE_TASK}, at="12:00"),
    conv("h6_vol_arrived_fixed", ("到了 弄好了", no_submit, not_ordering,
                                  any_of(state(State.VOL_HOURS), acts_on(482913))),
         roles=VOL, ctx={"my_tasks": ONE_TASK}, at="12:00"),
    conv("h6_vol_give_back",
         ("退单", no_submit, not_ordering, any_of(state(State.VOL_GIVEBACK), acts_on(482913))),
         ("家里临时有事去不了", acted_on_so_far(482913), never_submitted, not_ordering),
         roles=VOL, ctx={"my_tasks": ONE_TASK}, at="08:00"),
    conv("h6_vol_cant_go_tomorrow", ("明天去不了了", no_submit, not_ordering,
                                     any_of(state(State.VOL_GIVEBACK), acts_on(615027))),
         roles=VOL, ctx={"my_tasks": ({**OFFERED_ONE[0], "state": "accepted"},)}),
    conv("h6_vol_menu", ("菜单", not_ordering, answered, says_any("接单", "任务")), roles=VOL),
    conv("h6_vol_my_orders", ("我的订单", not_ordering, answer_or_act, no_submit), roles=VOL),
    conv("h6_vol_dialect_work", ("今儿个有活儿干不", not_ordering, no_submit, answer_or_act, not_registering),
         roles=VOL),
]

REGISTRATION = [
    conv("h6_reg_start_word", ("注册志愿者", state(State.REG_NAME), not_ordering)),
    conv("h6_reg_start_how", ("我想当志愿者 咋报名啊", state(State.REG_NAME)),
         ("俺叫李秀英", reg(name="李秀英"), state(State.REG_GENDER))),
    conv("h6_reg_steps",
         ("俺也想参加志愿者", state(State.REG_NAME)),
         ("王建国", reg(name="王建国"), state(State.REG_GENDER)),
         ("男的", reg(gender="男"), state(State.REG_BIRTH)),
         ("六十二了", reg(age_said=62), state(State.REG_ID)),
         (ID_MAN_62, reg(birth="1964-03-15"), state(State.REG_SKILLS))),
    conv("h6_reg_woman",
         ("注册志愿者", state(State.REG_NAME)),
         ("我姓张 叫张淑芬", reg(name="张淑芬")),
         ("女", reg(gender="女")),
         ("58岁", reg(age_said=58)),
         (ID_WOMAN_58, reg(birth="1968-07-02"), state(State.REG_SKILLS))),
    conv("h6_reg_skill_haircut", ("会理发 还能陪老人去医院", reg_skill("haircut"), state(State.REG_TIMES)),
         state=State.REG_SKILLS, slots=REG_AT_SKILLS),
    conv("h6_avail_weekdays_am", ("周一到周五上午", avail("一二三四五", "上午"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_weekend_allday", ("周末全天都行", avail("六日", "全天"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_every_afternoon", ("每天下午都有空", avail("一二三四五六日", "下午"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_workday_evening", ("工作日晚上", avail("一二三四五", "晚上"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_mixed", ("一三五上午 二四下午", avail("一三五", "上午", ("二四", "下午")), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_libai", ("礼拜六礼拜天上午", avail("六日", "上午"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_tue_thu", ("周二到周四下午", avail("二三四", "下午"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_except_sunday", ("除了礼拜天 每天上午都有空", avail("一二三四五六", "上午"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_one_evening", ("星期三晚上", avail("三", "晚上"), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_mon_sat_am_pm", ("周一至周六 上午下午都行",
                                    avail("一二三四五六", "上午", ("一二三四五六", "下午")), reg_moved_on),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_avail_vague", ("看情况吧", no_avail, state(State.REG_TIMES)),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
]

RATINGS = [
    conv("h6_rate_command_five", ("评价 518203", state(State.RATE)),
         ("挺好的 五颗心", rating_pending_or(5)), ("没啥说的", rated(5)), ctx=UNRATED),
    conv("h6_rate_idle_five", ("挺好的 五颗心", rating_pending_or(5), not_ordering), ("没有了", rated(5)),
         ctx=UNRATED),
    conv("h6_rate_soso", ("评价 518203", state(State.RATE)), ("一般般吧", rating_pending_or(3)),
         ("不说了", rated(3)), ctx=UNRATED),
    conv("h6_rate_not_great", ("评价 518203", state(State.RATE)), ("不咋地", rating_pending_or(1, 2)),
         ("来晚了一个钟头", rated(1, 2)), ctx=UNRATED),
    conv("h6_rate_ting_hao", ("评价 518203", state(State.RATE)), ("挺好", rating_pending_or(4)),
         ("没了", rated(4)), ctx=UNRATED),
    conv("h6_rate_very_satisfied", ("评价 518203", state(State.RATE)), ("非常满意", rating_pending_or(5)),
         ("小伙子人很好", rated(5)), ctx=UNRATED),
    conv("h6_rate_stars", ("评价 518203", state(State.RATE)), ("★★★★", rating_pending_or(4)),
         ("没有", rated(4)), ctx=UNRATED),
    conv("h6_rate_zero", ("评价 518203", state(State.RATE)), ("零颗心 人压根没来", rating_pending_or(0)),
         ("等了一上午", rated(0)), ctx=UNRATED),
    conv("h6_rate_digit", ("评价 518203", state(State.RATE)), ("4", rating_pending_or(4)),
         ("不用了", rated(4)), ctx=UNRATED),
    conv("h6_rate_number_in_comment_keeps",
         ("评价 518203", state(State.RATE)), ("5", rating_pending_or(5)),
         ("就是来晚了3分钟 别的都好", rated(5)), ctx=UNRATED),
    conv("h6_rate_cantonese", ("评价 518203", state(State.RATE)), ("好正 五粒心", rating_pending_or(5)),
         ("冇嘢讲", rated(5)), ctx=UNRATED),
    conv("h6_rate_full_marks", ("评价 518203", state(State.RATE)), ("满分 给他五星", rating_pending_or(5)),
         ("没有了", rated(5)), ctx=UNRATED),
    conv("h6_rate_correct_once", ("评价 518203", state(State.RATE)), ("三颗心", rating_pending_or(3)),
         ("没了", rated(3)), ("不对 五颗星", rated(5)), ctx=UNRATED),
]

EMERGENCY = [
    conv("h6_emg_faint_mid_order",
         ("我要理发", in_an_order), ("明天上午", in_an_order),
         ("哎呀老伴儿晕倒了 叫不醒", says("120"), not_ordering, never_submitted),
         ("幸福小区3栋", never_submitted)),
    conv("h6_emg_breath_at_summary", (*TO_CONFIRM, CONFIRMING),
         ("等等 俺家老头子喘不上气了", says("120"), not_ordering, never_submitted),
         ("1", never_submitted)),
    conv("h6_emg_fire", ("厨房着火了 烟好大", says("119"), not_ordering, no_submit)),
    conv("h6_emg_fire_sichuan", ("我要修水龙头", in_an_order), ("屋头起火了 快点", says("119"), not_ordering,
                                                               never_submitted)),
    conv("h6_emg_gas_mid_order", ("我要修水龙头 明天上午", in_an_order),
         ("闻到好大一股煤气味", says("燃气"), never("119"), not_ordering, never_submitted)),
    conv("h6_emg_burglar", ("有人撬我家门 是小偷", says("110"), not_ordering, no_submit)),
    conv("h6_emg_scam", ("接到电话说我儿子出事了要我转钱 我转了五万", says("110", "96110"), not_ordering, no_submit)),
    conv("h6_emg_choking", ("老伴儿吃汤圆噎住了", says("120"), says_any("海姆立克", "腹部"), not_ordering)),
    conv("h6_emg_selfharm", ("活着没意思 我不想活了", says("12356"), not_ordering, no_submit)),
    conv("h6_emg_lift", ("电梯卡住了 我妈在里面出不来", says("96333"), not_ordering, no_submit)),
    conv("h6_emg_water", ("楼下有个小孩掉河里了", says_any("119", "120"), not_ordering, no_submit)),
    conv("h6_emg_chest_dialect", ("俺爹心口疼得厉害 满头大汗", says("120"), not_ordering, no_submit)),
    conv("h6_emg_oxygen", ("制氧机停电了 老头喘不上来", says("120", "95598"), not_ordering)),
    conv("h6_emg_fall_typo", ("我要理发", in_an_order), ("老伴摔到了 头出血了", says("120"), not_ordering,
                                                       never_submitted)),
    conv("h6_emg_in_registration", ("哎呀 我老伴儿晕倒了", says("120"), not_registering),
         state=State.REG_TIMES, slots=REG_AT_TIMES),
    conv("h6_emg_while_handed_over", ("老伴儿晕过去了 叫不醒", says("120")), state=State.HUMAN),
    conv("h6_emg_not_an_escort", ("帮我约个陪诊 去医院复查", in_an_order, never("120", "119"))),
    conv("h6_emg_burst_pipe",
         ("家里水管爆了 水哗哗的流 幸福小区3栋2单元301 电话13800138000", says("阀"), in_an_order, urgent)),
]

ODD = [
    conv("h6_odd_weekly_cleaning", ("每个礼拜三上午来帮我打扫一下卫生", in_an_order, when(2, (6, 12)))),
    conv("h6_odd_monthly_haircut", ("以后每个月都来给我理一次发", in_an_order, HAIRCUT)),
    conv("h6_odd_matchmaking", ("给我介绍个老伴儿", not_ordering, answered, no_submit)),
    conv("h6_odd_borrow_money", ("借我五百块钱", not_ordering, answered, no_submit)),
    conv("h6_odd_stocks", ("能帮我炒股吗", not_ordering, answered, no_submit)),
    conv("h6_odd_repeated_word", ("理发 理发 理发", in_an_order, HAIRCUT)),
    conv("h6_odd_dots", ("。。。", not_ordering, answered)),
    conv("h6_odd_question_mark", ("？", not_ordering, answered)),
    conv("h6_odd_hello_hello", ("喂 喂 听得见吗", not_ordering, answered)),
    conv("h6_odd_same_again", ("我要理发", in_an_order), ("我要理发", in_an_order, HAIRCUT, no_submit)),
    conv("h6_odd_thumbs_up", ("👍", answered, no_submit)),
    conv("h6_odd_chatter_then_ask",
         ("我跟你说啊我家那口子昨天又跟我吵架了 不说这个了 我想剪个头", in_an_order, HAIRCUT)),
    conv("h6_odd_yesterday", ("昨天下午帮我理发", not_past, no_submit)),
    conv("h6_odd_price", ("理发多少钱", answered, no_submit)),
]

DIALECT = [
    conv("h6_dia_lifa_typo", ("俺想礼发", in_an_order, HAIRCUT)),
    conv("h6_dia_peizhen_typo", ("帮我约个配诊", in_an_order, service_is_not("haircut"))),
    conv("h6_dia_mingrge_shangwu", ("剪头发 明儿个晌午", in_an_order, HAIRCUT, when(1, (11, 13)))),
    conv("h6_dia_northeast_titou", ("整个人来给俺剃个头呗", in_an_order, HAIRCUT)),
    conv("h6_dia_cantonese_haircut", ("我想揾人上门剪头发 唔该", in_an_order, HAIRCUT)),
    conv("h6_dia_zazheng_tap", ("俺家水龙头坏了 咋整", in_an_order, service_is_not("haircut"))),
    conv("h6_dia_voice_fillers", ("那个 嗯 就是 我想 想那个 理个发", in_an_order, HAIRCUT)),
    conv("h6_dia_traditional", ("我想理髮", in_an_order, HAIRCUT)),
    conv("h6_dia_fullwidth", ("我要理发　明天上午９点", in_an_order, HAIRCUT, when(1, (9, 9)))),
    conv("h6_dia_pinyin", ("我要lifa", in_an_order, HAIRCUT)),
    conv("h6_dia_shangwu_typo", ("理发 明天上五九点", in_an_order, when(1, (9, 9)))),
    conv("h6_dia_lifa_fa", ("理法", in_an_order, HAIRCUT)),
    conv("h6_dia_spouse_houshang", ("帮俺老伴儿理理发 后晌", in_an_order, HAIRCUT, when(0, (13, 18)))),
    conv("h6_dia_sichuan_haircut", ("想搞个人来屋头帮我剪下头发嘛", in_an_order, HAIRCUT)),
    conv("h6_dia_step_by_step_dialect",
         ("俺要理发", in_an_order, HAIRCUT),
         ("明儿前晌九点", in_an_order, when(1, (9, 9))),
         ("幸福小区3栋2单元301", in_an_order, draft_has("address", "幸福小区")),
         ("幺三八零零幺三八零零零", CONFIRMING, draft_has("phone", PHONE)),
         ("中", submitted)),
]

PARTS: dict[str, list[Conv]] = {
    "today and relative times": TIMES,
    "urgent": URGENT,
    "corrections": CORRECTIONS,
    "run-on requests": RUNON,
    "yes and no": YESNO,
    "cancelling": CANCEL,
    "status, points, human, small talk": STATUS,
    "for a relative": RELATIVE,
    "volunteers' own menu": VOLUNTEER,
    "volunteer registration and availability": REGISTRATION,
    "ratings": RATINGS,
    "emergencies": EMERGENCY,
    "recurring and odd requests": ODD,
    "dialect and typos": DIALECT,
}

HELDOUT_V6 = [c for part in PARTS.values() for c in part]
THEMES = {theme: [c.name for c in part] for theme, part in PARTS.items()}

assert len({c.name for c in HELDOUT_V6}) == len(HELDOUT_V6), "conversation names must be unique"
assert all(c.name.startswith("h6_") for c in HELDOUT_V6)
