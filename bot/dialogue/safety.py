"""What the bot says first when a message is about an emergency (pure): the number to call now and one or two
safety steps, short and plain. Recognising the emergency is intents.emergency's job; alerting staff is the
community's (bot/community/incidents.py), through the "emergency" action this module asks for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue import ordering
from bot.dialogue.core import AFTER_EMERGENCY_SLOT, Action, Context, Result, State, idle, kept
from intents.emergency import Emergency, prepare

# The numbers to call by kind; a hub overrides them in its settings ("hotlines"), e.g. the local gas company.
# A gas leak has no national number (119 is the fire brigade, not the gas company): without the hub's "gas" line the
# reply says where the resident finds theirs (GAS_COMPANY); 119 only for a fire, 120 for someone who passed out.
DEFAULT_HOTLINES: Mapping[str, str] = {
    "medical": "120",
    "fire": "119",
    "gas": "",
    "crime": "110",
    "self_harm": "12356",
    "water": "119",
}
STAFF_TOLD = "已经通知社区值班人员，会尽快联系您。"
# A crime that is a fraud (被骗 / 转账 / 冒充公安) gets its own steps: the anti-fraud hotline (a hub may set its own
# under "fraud" in its hotlines), stop paying, the bank to stop the payment, the records kept. It stays a "crime"
# emergency (110 first, the same staff alert); the flavour is derived here from the detector's cue and the words.
FRAUD = "fraud"
FRAUD_HOTLINE = "96110"
_FRAUD_WORDS = re.compile(r"骗|诈骗|冒充|转账|转钱|转了钱|汇款|打款|打钱|验证码|银行卡|安全账户|刷单|中奖|"
                          r"洗钱|公检法|退款.{0,6}(?:客服|链接)|贷款.{0,6}(?:解冻|保证金)|"
                          r"(?:转|汇|打|交|给)(?:了)?.{0,4}[\d一二两三四五六七八九十百千万几]+(?:万|千|百|块|元)|"
                          r"(?:派出所|公安局|警察|法院).{0,10}(?:抓|关|拘留|要(?:我|你|俺)?(?:交|转|打))")


# A lure or a threat to the person (被骗出去 现在不让我走): their safety first, the crime answer as it is.
_IN_DANGER = re.compile(r"不让(?:我|他|她|人)?(?:走|离开|出|回)|关起来|关在|锁在|扣着|打我|打人|抢|刀|跟踪|跟着我|"
                        r"拉走|带走|骗(?:出去|走|到)|威胁")


# A household water incident (a burst pipe, a drain backing up, an overflowing toilet) where nobody is trapped and the
# water is not deep or rising: the safety steps (shut the main valve, the mains if water nears the sockets), then an
# urgent repair order, not "go to high ground". A flood (people trapped, water deep or rising, rain, the street,
# the cellar), hot water (scalds) or sparks keep the full water emergency answer.
HOUSEHOLD = "household"
_FIXTURE = re.compile(r"水管|管子|管道|下水道|下水|地漏|马桶|水龙头|龙头|水表|水阀|阀门|水池|洗手池|洗菜池|洗衣机|"
                      r"卫生间|厕所|洗手间|厨房|楼上.{0,4}(?:漏|渗|滴)")
_DRAIN = re.compile(r"下水道|下水|地漏|马桶|反水|返水|倒灌|堵")
_FLOOD = re.compile(r"被困|困在|困住|围住|出不来|出不去|走不了|越来越(?:深|高|大|多)|越涨越|越积越|还在涨|"
                    r"往上涨|涨上来|漫上来|涨水|水(?:好|很|太|特别)?深|膝盖|齐腰|到腰|没过|淹到|胸口|淹死|落水|溺水|洪水|大水|发水|山洪|暴雨|大雨|"
                    r"河水|江水|决堤|冲走|救命|塌|触电|电到|漏电|冒火|火花|冒烟|着火|开水|热水|暖气|烫|"
                    r"车库|地下室|隧道|桥洞|马路|街上|路上|村里|楼道|电梯|"
                    r"(?:老人|孩子|小孩|人).{0,6}(?:困|出不|走不|动不了|起不来|摔)")


# Sub-kinds whose first steps differ from their kind's (out9, 2026-12-04): a choking, a scald, a wound or bite, a
# home oxygen machine stopped; a person in the water; someone shut in a lift. Each is still its kind's emergency
# (the same number first, the same alert), worded for what helps in the first minutes.
CHOKING, BURN, WOUND, BITE, OXYGEN, DROWNING, LIFT = "choking", "burn", "wound", "bite", "oxygen", "drowning", "lift"
_SUBS: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = (
    (LIFT, frozenset({"medical", "fire", "water", "crime"}),
     re.compile(r"电梯.{0,12}(?:困|卡住|卡在|关在|关住|出不来|出不去|停住|停在半|打不开|掉下)|困在电梯|关在电梯|卡在电梯")),
    (CHOKING, frozenset({"medical"}),
     re.compile(r"噎|卡住(?:了)?(?:喉咙|嗓子|气管)|(?:喉咙|嗓子|气管).{0,4}卡|呛住|卡着(?:喉咙|嗓子)")),
    (BURN, frozenset({"medical"}), re.compile(r"烫(?:伤|着|到|了)|开水.{0,6}(?:浇|泼|洒|倒)|烧伤|油溅")),
    # a bite before a wound: only a bite gets the rabies step (out10: a head wound after a fall got it)
    (BITE, frozenset({"medical"}), re.compile(r"(?:狗|猫|蛇|老鼠)(?:给|把)?.{0,3}咬|咬伤|被咬")),
    (WOUND, frozenset({"medical"}), re.compile(r"流血|出血|血流|冒血|割(?:伤|破|到)|划(?:伤|破)|伤口")),
    (OXYGEN, frozenset({"medical"}), re.compile(r"制氧机|呼吸机|氧气机|吸氧机")),
    (DROWNING, frozenset({"water", "medical"}),
     re.compile(r"掉(?:进|到)?(?:了)?(?:水|河|湖|塘|池塘|江|井|水库|鱼塘)(?:里|中)?|落水|溺水|淹(?:着|到)(?:人|孩子|小孩)|"
                r"(?:河|湖|塘|江|水库)里.{0,6}(?:人|孩子|小孩|老人)")),
)


def household(kind: str, cue: str, text: str, after_household: bool = False) -> bool:
    """A water emergency that is a household incident: a pipe, drain or fixture at home, nobody trapped, the water
    neither deep nor rising. ``after_household``: the last emergency was one (what follows needs no fixture named)."""
    if kind != "water":
        return False
    words = text + " " + prepare(text)[1]
    if _FLOOD.search(words):
        return False
    return after_household or bool(_FIXTURE.search(words) or _FIXTURE.search(cue))


def flavour(kind: str, cue: str, text: str, after_household: bool = False) -> str:
    """The sub-kind of an emergency the reply is worded for: "fraud" for a crime that is a scam (money or codes, no
    one holding or threatening the person), "household" for water at home that needs a plumber (:func:`household`),
    else ""."""
    for sub, kinds, words in _SUBS:
        if kind in kinds and words.search(text):
            return sub
    if kind == "crime" and (_FRAUD_WORDS.search(cue) or _FRAUD_WORDS.search(text)) and not _IN_DANGER.search(text):
        return FRAUD
    if household(kind, cue, text, after_household):
        return HOUSEHOLD
    return ""


def hotline(kind: str, hotlines: Mapping[str, str] | None) -> str:
    return (hotlines or {}).get(kind) or DEFAULT_HOTLINES[kind]


def fraud_hotline(hotlines: Mapping[str, str] | None) -> str:
    return (hotlines or {}).get(FRAUD) or FRAUD_HOTLINE


GAS_COMPANY = "燃气公司抢修电话（燃气卡或账单上有）"


def gas_line(hotlines: Mapping[str, str] | None) -> str:
    """The gas company's repair line: the hub's, else where the resident finds it."""
    number = hotline("gas", hotlines)
    return f"燃气公司抢修电话 {number}" if number else GAS_COMPANY


def household_steps(text: str, hotlines: Mapping[str, str] | None = None) -> str:
    """One or two steps for water at home, and when to call the fire brigade after all."""
    first = "先别再用水、别冲马桶" if _DRAIN.search(text) and not re.search(r"水管|管子|爆|裂", text) \
        else "先关上家里的总水阀（多在水表旁边）"
    return (f"{first}；水流到插座、电器附近的话，先把电闸拉下来，别踩着水去碰电器。\n"
            f"有人被困或水越来越深，请马上拨打 {hotline('water', hotlines)}。")


# The first steps of each sub-kind, as rows: (the kinds it words, or None for any; the steps). {number} is the kind's
# hotline, {fire} / {medical} / {fraud} those lines; STAFF_TOLD follows.
SUB_STEPS: Mapping[str, tuple[frozenset[str] | None, str]] = {
    LIFT: (None, "被困电梯：请按电梯里的警铃或对讲按钮，打电梯里贴的救援电话或 96333；"
                 "联系不上、有人不舒服，请马上拨打 {fire}。\n不要扒门、不要撬门，待在电梯里等救援。"),
    DROWNING: (None, "有人落水请马上拨打 {fire} 和 {medical}，大声喊人帮忙！\n"
                     "不会游泳不要下水，把绳子、竹竿、救生圈或能漂的东西递过去、扔过去。"),
    CHOKING: (frozenset({"medical"}), "噎住了：还能咳嗽就让他用力咳；咳不出、说不出话、脸发紫，请马上拨打 {number}！\n"
                                      "站到他身后，双手抱住他的腰，一手握拳放在肚脐上方，另一只手包住拳头，快速向里向上冲压，"
                                      "直到东西吐出来（海姆立克法）。"),
    BURN: (frozenset({"medical"}), "烫伤了：马上用凉的流水冲烫伤的地方15到30分钟，不要涂牙膏、酱油，起的泡不要挑破；"
                                   "烫伤面积大、是小孩或老人、烫到脸，请马上拨打 {number}。"),
    WOUND: (frozenset({"medical"}), "流血请用干净的布或毛巾用力按住伤口止血；血止不住、伤口很深、头上受伤，"
                                    "请马上拨打 {number}！摔倒后受伤的人不要随意搬动。"),
    BITE: (frozenset({"medical"}), "被咬伤：用肥皂水和流动的清水冲洗伤口15分钟，流血就用干净的布按住；"
                                   "血止不住、伤口很深或被蛇咬，请马上拨打 {number}。"
                                   "被狗、猫咬伤要尽快去医院打狂犬疫苗。"),
    OXYGEN: (frozenset({"medical"}), "喘不上气、嘴唇发紫，请马上拨打 {number} 急救电话！\n"
                                     "有备用氧气瓶或氧气袋先用上，让他坐起来、别走动；停电请打供电抢修 95598。"),
    FRAUD: (frozenset({"crime"}), "被骗了请马上拨打 {number} 报警，也可以打全国反诈专线 {fraud}！\n"
                                  "马上停止转账、挂断对方的电话，不要再打钱、不要说验证码；立刻打银行客服电话，要求冻结账户、"
                                  "止付刚转出的钱。\n聊天记录、转账记录、对方的电话和账号都留着，不要删。"),
}


def emergency_reply(kind: str, hotlines: Mapping[str, str] | None = None, sub: str = "") -> str:
    """The passive reply: call this number now, then these steps. Never a menu, never an appointment time.
    ``sub``: the flavour (:func:`flavour`, SUB_STEPS), "fraud" for a scam."""
    number = hotline(kind, hotlines)
    row = SUB_STEPS.get(sub)
    if row is not None and (row[0] is None or kind in row[0]):
        return row[1].format(number=number, fire=hotline("fire", hotlines), medical=hotline("medical", hotlines),
                             fraud=fraud_hotline(hotlines)) + "\n" + STAFF_TOLD
    if kind == "medical":
        return (f"这可能是急症，请马上拨打 {number} 急救电话！\n"
                "说清地址和病人情况。摔倒或昏迷的人不要随意搬动，侧躺保持呼吸通畅。\n" + STAFF_TOLD)
    if kind == "fire":
        return (f"着火了请马上拨打 {number}！\n"
                "先带家人离开，用湿毛巾捂住口鼻、弯腰走楼梯，不要坐电梯，不要回去拿东西。\n" + STAFF_TOLD)
    if kind == "gas":
        return ("闻到燃气味：不要开关电灯电器、不要点火，马上开窗，关掉燃气阀门，"
                f"到室外再打{gas_line(hotlines)}。\n"
                f"着火了请马上打 {hotline('fire', hotlines)}；有人晕倒请马上打 {hotline('medical', hotlines)}。\n"
                + STAFF_TOLD)
    if kind == "crime":
        return (f"请先保证自己安全，马上拨打 {number} 报警！\n"
                "躲到安全的地方、锁好门，不要和对方硬碰硬。\n" + STAFF_TOLD)
    if kind == "self_harm":
        return ("听到您这样说，我们很担心您，您不是一个人。\n"
                f"请现在就拨打心理援助热线 {number}（24小时有人接），有危险请马上打 120 或 110。\n"
                "社区工作人员会马上联系您，愿意的话也可以一直跟我说。")
    if kind == "water" and sub == HOUSEHOLD:
        return household_steps("", hotlines) + "\n" + STAFF_TOLD
    if kind == "water":
        return ("请先到高处或安全的地方，远离电源插座，能关总水阀就关上。\n"
                f"有人被困或水很深，请马上拨打 {number}。\n" + STAFF_TOLD)
    raise ValueError(f"unknown emergency kind {kind!r}")


# After an emergency answer, a message about it ("那现在咋办啊", "火灭了 吓死我了", "还是喘不上气", after self-harm talk
# anything but a request) gets a caring answer that repeats the number, not a catch-all or an order form; thanks
# ("好的 谢谢") get a short calm word; a rating, an order or any other request is handled as always. Staff hear of
# what is said next at most once in RE_ALERT_FOR, and the reply says so only then.
FOLLOW_UPS = 3
FOLLOW_UP_FOR = timedelta(minutes=30)
RE_ALERT_FOR = timedelta(minutes=10)
TOLD_AT = "told_at"  # in the after-emergency slot: when staff were last passed what the person said next
DRAFT_KEPT = "draft"  # in the after-emergency slot: the order that was being made when the alarm came

# "没事了 是锅糊了 虚惊一场" / "搞错了" / "误会": the alarm called off by the person who raised it.
_CALLED_OFF = re.compile(r"虚惊一场|虚惊|搞错了|弄错了|误报|报错了|按错了|点错了|说错了|是误会|误会了|误会一场|"
                         r"^(?:哦|噢|嗯|好)?\s*没事(?:了|儿了|啦)|没事了|没事儿了|没什么事了|不要紧了|没有事了|"
                         r"不是(?:着火|火灾|急病|急症|漏气)")
CALLED_OFF_REPLY = ("没事就好，您没事我们就放心了！我已经告诉社区值班人员，这次是虚惊一场，"
                    "他们可能还会打电话跟您确认一下。")


def called_off(text: str) -> bool:
    """The person says the emergency was a false alarm ("没事了 是锅糊了 虚惊一场", "搞错了")."""
    return bool(_CALLED_OFF.search(text))


def recent(slots: Mapping[str, Any], now: datetime) -> Mapping[str, Any] | None:
    """The last emergency's record while it is still recent (a few messages, half an hour), else None."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    return after if _still_about_it(after, now) and isinstance(after, Mapping) else None


def kept_draft(slots: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The order that was being made when the alarm came (within half an hour of it), or None."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not isinstance(after, Mapping):
        return None
    draft = after.get(DRAFT_KEPT)
    try:
        fresh = now - datetime.fromisoformat(str(after.get("at"))) <= FOLLOW_UP_FOR
    except (TypeError, ValueError):
        fresh = False
    return dict(draft) if fresh and isinstance(draft, Mapping) and draft.get("service") else None


def without_kept_draft(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The slots with the kept order taken out of the emergency's record (it was taken up again or dropped)."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not isinstance(after, Mapping) or DRAFT_KEPT not in after:
        return dict(slots)
    return {**slots, AFTER_EMERGENCY_SLOT: {k: v for k, v in after.items() if k != DRAFT_KEPT}}


def call_off(slots: Mapping[str, Any], text: str) -> tuple[dict[str, Any], Action]:
    """The slots once the alarm is called off (no more caring follow-ups; a kept order stays), and the action that
    tells staff."""
    after = dict(slots.get(AFTER_EMERGENCY_SLOT) or {})
    kind = after.get("kind")
    after["left"] = 0
    return ({**slots, AFTER_EMERGENCY_SLOT: after},
            Action("emergency_called_off", {"kind": kind, "text": text[:500]}))


def answer(found: Emergency, slots: Mapping[str, Any], text: str, hotlines: Mapping[str, str] | None,
           now: datetime | None = None, sub: str | None = None, typed: Mapping[str, Any] | None = None) -> Result:
    """End whatever dialogue was under way (kept slots stay), answer at once and ask the domain to alert staff,
    with the phone and address of the order being made, if it had them (the staff alert's numbers to call), else
    those ``typed`` in the message itself ("着火了 幸福小区2栋301")."""
    draft = dict(slots.get("draft") or {})
    for key, value in (typed or {}).items():
        if value and not draft.get(key):
            draft[key] = value
    if not draft.get("address") and slots.get("address_part"):  # the place said, its door still being asked
        draft["address"] = f"{slots['address_part']}（门牌号还没说）"
    sub = flavour(found.kind, found.cue, text) if sub is None else sub
    data = _alert(found, text, draft, sub)
    after = _after_record(found.kind, sub, slots, now)
    return idle(emergency_reply(found.kind, hotlines, sub), {**slots, AFTER_EMERGENCY_SLOT: after},
                actions=(Action("emergency", data),))


def respond(state: str, found: Emergency, slots: Mapping[str, Any], text: str, ctx: Context) -> Result:
    """The answer to a message the detector calls an emergency, in any state (before anything else).

    The same emergency said again while it is recent ("还是喘不上气", "救护车还没来") gets the follow-up (the number
    again), staff passed the words at most once in RE_ALERT_FOR, no second incident. A household water incident gets
    its safety steps and goes straight on into an urgent repair order with what was typed (address, phone, 越快越好);
    staff are alerted as for any emergency (an incident row: a burst pipe at an elderly resident's is worth knowing).
    While handed over to staff the answer is the plain one: the bot starts no order under the staff's feet."""
    before = recent(slots, ctx.now)
    same_kind = before is not None and before.get("kind") == found.kind
    sub = flavour(found.kind, found.cue, text, same_kind and before is not None and before.get("sub") == HOUSEHOLD)
    said = ctx.read_slots(text)
    typed = {"address": said.address, "phone": said.phone}
    if state == State.HUMAN:
        return answer(found, slots, text, ctx.hotlines, ctx.now, sub, typed)
    calm = arrived(slots, ctx.now, ctx.hotlines, text)  # "救护车来了 谢谢你们": calm, no second alert
    if calm is not None:
        return _with_kept_draft(calm, slots)
    again = before is not None and same_kind and str(before.get("sub") or "") == sub
    if sub == HOUSEHOLD:
        code = repair_service(ctx)
        if code is not None:
            return _household_order(found, code, slots, text, ctx, again)
    if again:
        res = follow_up(slots, ctx.now, ctx.hotlines, text, known=True)
        if res is not None:
            return _with_kept_draft(res, slots)
    return answer(found, slots, text, ctx.hotlines, ctx.now, sub, typed)


def repair_service(ctx: Context) -> str | None:
    """The hub's catalogue service that fixes a pipe (whatever its code), or None when it has none."""
    return ordering.service_asked("帮我修水管", ctx)


def _household_order(found: Emergency, code: str, slots: Mapping[str, Any], text: str, ctx: Context,
                     again: bool) -> Result:
    """The safety steps, then the urgent repair order (the one under way taken on when it is already the repair)."""
    draft = slots.get("draft") if isinstance(slots.get("draft"), Mapping) else None
    same = dict(draft) if draft and draft.get("service") == code else {}
    after = dict(recent(slots, ctx.now) or {}) if again else _after_record(found.kind, HOUSEHOLD, slots, ctx.now)
    if same:
        if (after.get(DRAFT_KEPT) or {}).get("service") == code:
            del after[DRAFT_KEPT]  # the repair under way goes on: not kept a second time
    elif draft and draft.get("service"):
        after[DRAFT_KEPT] = dict(draft)  # another order was being made: kept, as for any emergency
    may_tell = not again or _may_tell(after, ctx.now)
    if again and may_tell:
        after[TOLD_AT] = ctx.now.isoformat()
    told = "" if not may_tell else "您说的我已经转告社区值班人员了。" if again else "社区值班人员也已经知道了。"
    said = text if ctx.read_time(text).is_clear \
        or same.get("time_kind") \
        else text + " 越快越好"  # nothing said of the time: as soon as possible
    name = ctx.nlu.service_name(code)
    prefix = (household_steps(text, ctx.hotlines) + "\n" + told
              + ("接着帮您办加急报修：\n" if same else f"现在帮您加急报修【{name}】，师傅会尽快上门：\n"))
    base = {**ordering._without_offers(kept(slots)), "candidates": [], AFTER_EMERGENCY_SLOT: after, "draft": same}
    res = ordering._with_service(base, code, said, ctx, prefix=prefix)
    if not may_tell:
        return res
    if again:
        return replace(res, actions=(Action("emergency_followup", {"kind": found.kind, "text": text[:500]}),
                                     *res.actions))
    made = res.slots.get("draft") or {}
    # (an address without its door is asked again)
    typed = ctx.read_slots(text)
    where = {"address": made.get("address") or typed.address, "phone": made.get("phone") or typed.phone}
    return replace(res, actions=(Action("emergency", _alert(found, text, where, HOUSEHOLD)), *res.actions))


def _alert(found: Emergency, text: str, draft: Mapping[str, Any], sub: str) -> dict[str, Any]:
    """The "emergency" action's data: what staff are alerted with."""
    data = {"kind": found.kind, "cue": found.cue, "text": text[:500],
            **{k: str(draft[k]) for k in ("phone", "address") if draft.get(k)}}
    if sub:
        data["sub"] = sub
    return data


def _after_record(kind: str, sub: str, slots: Mapping[str, Any], now: datetime | None) -> dict[str, Any]:
    """The after-emergency slot of a new emergency: its kind, when, the follow-ups left, the order kept."""
    after: dict[str, Any] = {"kind": kind, "left": FOLLOW_UPS, "at": now.isoformat() if now else "",
                             **({"sub": sub} if sub else {})}
    draft = slots.get("draft") or {}
    earlier = slots.get(AFTER_EMERGENCY_SLOT)
    if isinstance(draft, Mapping) and draft.get("service"):
        after[DRAFT_KEPT] = dict(draft)  # the order being made before the alarm: kept, offered once it is over
    elif isinstance(earlier, Mapping) and earlier.get(DRAFT_KEPT):
        after[DRAFT_KEPT] = dict(earlier[DRAFT_KEPT])
    return after


def _with_kept_draft(res: Result, slots: Mapping[str, Any]) -> Result:
    """A follow-up that ended an order being made: the order kept in the emergency's record, as an alarm keeps it."""
    draft = slots.get("draft")
    if not isinstance(draft, Mapping) or not draft.get("service"):
        return res
    after = {**(res.slots.get(AFTER_EMERGENCY_SLOT) or {}), DRAFT_KEPT: dict(draft)}
    return replace(res, slots={**res.slots, AFTER_EMERGENCY_SLOT: after})


def _still_about_it(after: Any, now: datetime) -> bool:
    if not isinstance(after, Mapping) or int(after.get("left") or 0) <= 0 or after.get("kind") not in DEFAULT_HOTLINES:
        return False
    try:
        return now - datetime.fromisoformat(str(after.get("at"))) <= FOLLOW_UP_FOR
    except (TypeError, ValueError):
        return False


def _may_tell(after: Mapping[str, Any], now: datetime) -> bool:
    """Whether what is said next may go to staff now: not passed on yet, or last passed on RE_ALERT_FOR ago."""
    try:
        return now - datetime.fromisoformat(str(after[TOLD_AT])) >= RE_ALERT_FOR
    except (KeyError, TypeError, ValueError):
        return True


def _call_now(kind: str, hotlines: Mapping[str, str] | None, sub: str = "") -> str:
    """Whom to call if it gets worse, in a few words."""
    if kind == "gas":
        return f"打{gas_line(hotlines)}"
    if kind == "crime" and sub == FRAUD:
        return f"打 {hotline(kind, hotlines)} 或反诈专线 {fraud_hotline(hotlines)}"
    return f"拨打 {hotline(kind, hotlines)}"


def follow_up_reply(kind: str, hotlines: Mapping[str, str] | None = None, sub: str = "", told: bool = True) -> str:
    """A caring answer to what someone says about the emergency right after it: the number again, and (``told``)
    that staff were passed what they said."""
    number = hotline(kind, hotlines)
    staff = "我已经把您说的转告社区值班人员了，他们会尽快联系您。" if told else ""
    if kind == "crime" and sub == FRAUD:
        return (f"您别着急，我们在。如果还没报警，请现在就打 {number}，反诈专线 {fraud_hotline(hotlines)} 也可以打；"
                "别再转钱，马上打银行客服电话冻结、止付；聊天和转账记录都留着，不要删。"
                + (f"\n{staff}" if told else ""))
    if kind == "self_harm":
        return ("我在听，谢谢您愿意跟我说这些。您不是一个人，社区工作人员已经知道了，会尽快来联系您、陪陪您。\n"
                f"心里难受的时候，随时可以拨打心理援助热线 {number}（24小时有人接）；有危险请马上打 120 或 110。\n"
                "想说什么都可以接着跟我说。")
    if kind == "water" and sub == HOUSEHOLD:
        return "您别着急，我们在。" + household_steps("", hotlines) + (f"\n{staff}" if told else "")
    steps = {
        "medical": f"如果还没打 {number}，请现在就打，说清地址和病人情况；等救护车时陪在旁边，不要随意搬动病人。",
        "fire": f"人安全最要紧。如果还有明火或烟，请马上打 {number}，不要回去拿东西。",
        "gas": f"先别开关电器、别点火，开着窗在室外等；{gas_line(hotlines)}；着火了打 {hotline('fire', hotlines)}。",
        "crime": f"先保证自己安全，锁好门；有危险马上打 {number}。",
        "water": f"先远离插座和电器，到安全的地方；有人被困请马上打 {number}。",
    }[kind]
    return (f"您别着急，我们在。{steps}\n" + (f"{staff}\n" if told else "")
            + "等安顿下来，需要志愿者上门帮忙的话，直接跟我说就行。")


def place_told(slots: Mapping[str, Any], hotlines: Mapping[str, str] | None, text: str) -> Result | None:
    """An address or a phone said right after an emergency ("我家在宝莲社区", out10: "帮不上忙"): passed to staff
    (the domain puts it on the incident), the person told so with the kind's steps again; None with no emergency
    recent."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not isinstance(after, Mapping) or not after.get("kind"):
        return None
    kind, sub = str(after["kind"]), str(after.get("sub") or "")
    return idle("收到，已经把您说的转告社区值班人员，他们会尽快联系您。\n"
                + follow_up_reply(kind, hotlines, sub, told=False), slots,
                actions=(Action("emergency_place", {"kind": kind, "text": text[:500]}),))


# "好的 谢谢" / "嗯 知道了" / "收到": thanks and acknowledgements, nothing else.
_ACK = re.compile(r"^(?:(?:好的?|好滴|嗯+|恩+|哦+|噢+|喔+|行|中|可以|ok|okay|知道了?|晓得了?|明白了?|懂了|收到了?|了解|"
                  r"谢谢(?:你们?|您|啦|了|侬)?|多谢(?:了)?|感谢(?:你们?|您)?|辛苦(?:你们?|您)?了?|麻烦(?:你们?|您)?了|"
                  r"太好了|那就好|好嘞|好咧|得嘞|啊|呀|哈|吧|的|呢|啦)[\s,，。.!！~～、]*)+$", re.IGNORECASE)
# Words of a message about the emergency itself: it got worse, help has not come, what to do now, fear.
_ABOUT_IT = re.compile(r"还是|还在|还没|没来|怎么还|咋还|更(?:厉害|严重|大|多|疼|难受)|越来越|加重|严重|"
                       r"又(?:开始|来了|摔|晕|烧|冒|漏|喷|疼)|"
                       r"不行了|怎么办|咋办|咋整|怎么弄|咋弄|那现在|现在(?:怎么|咋)|该怎么|要不要|快点|快来|等了|等半天|"
                       r"人呢|到哪|到了没|来了吗|打不通|没人接|打了|报警|救护车|急救|消防|警察|民警|120|119|110|燃气公司|"
                       r"害怕|吓死|吓坏|好怕|慌|着急|急死|担心|一个人|没人管|喘|疼|痛|血|晕|醒|呼吸|心跳|火|烟|味|"
                       r"(?<![客天生运])气|水|漏|淹|电|困|出不来|救|命|死|难受")


def acknowledges(text: str) -> bool:
    """Thanks or an acknowledgement and nothing else ("好的 谢谢", "嗯嗯 知道了")."""
    return bool(_ACK.match(text.strip()))


def about_it(text: str) -> bool:
    """Whether a message right after an emergency is about it (worse, still waiting, what now, fear)."""
    return bool(_ABOUT_IT.search(text + " " + prepare(text)[1]))


def calm_reply(kind: str, hotlines: Mapping[str, str] | None = None, sub: str = "") -> str:
    """The short answer to thanks after an emergency: no alarm, the way back if it gets worse."""
    if kind == "self_harm":
        return f"不客气，我一直在。想说什么随时跟我说；心里难受可以拨打 {hotline(kind, hotlines)}（24小时有人接）。"
    if kind == "water" and sub == HOUSEHOLD:
        return f"不客气。有什么变化随时跟我说；有人被困或水越来越深，请拨打 {hotline(kind, hotlines)}。"
    return f"不客气，您先照顾好自己。有什么变化随时跟我说，危急时请直接{_call_now(kind, hotlines, sub)}。"


def _kept_words(order_name: str) -> str:
    return f"刚才在下的【{order_name}】订单还给您留着，要接着下请回复“继续”。"


def follow_up(slots: Mapping[str, Any], now: datetime, hotlines: Mapping[str, str] | None,
              text: str = "", order_name: str | None = None, known: bool = False) -> Result | None:
    """What is said while the last emergency is still recent (a few messages, half an hour): about it, the caring
    answer (staff passed the words at most once in RE_ALERT_FOR, and told so only then); thanks, a calm word;
    anything else None (handled as always). ``known``: about it for sure (the same emergency again); ``order_name``:
    the service of the order kept from before the alarm."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not _still_about_it(after, now):
        return None
    assert isinstance(after, Mapping)
    kind, sub = str(after["kind"]), str(after.get("sub") or "")
    if not known:
        if acknowledges(text):
            return idle(calm_reply(kind, hotlines, sub), slots)
        if kind != "self_harm" and not about_it(text):  # handled as always; an order kept from before is said
            return idle(_kept_words(order_name), slots) if order_name else None
    left = {**after, "left": int(after.get("left") or 0) - 1}
    told = _may_tell(after, now)
    if told:
        left[TOLD_AT] = now.isoformat()
    reply = follow_up_reply(kind, hotlines, sub, told=told)
    if order_name and kind != "self_harm":
        reply += "\n" + _kept_words(order_name)
    actions = (Action("emergency_followup", {"kind": kind, "text": text[:500]}),) if told else ()
    return idle(reply, {**slots, AFTER_EMERGENCY_SLOT: left}, actions=actions)



# "救护车来了 谢谢你们" / "关了阀门了" / "警察来了": help has come or the safety step is done. A short calm answer that
# fits it, no new staff alert (staff already have the incident; help arriving changes nothing they must do now).
# Words that it is still dangerous ("救护车来了 但还是叫不醒") keep the caring follow-up.
_HELP_CAME = re.compile(r"(?:救护车|急救车|120|医生|大夫|护士|消防(?:队|车|员)?|119|警察|民警|公安|派出所|110|"
                        r"燃气公司|煤气公司|抢修)(?:的人)?(?:已经|都|刚)?(?:来了|到了|过来了|赶到了|在了)|"
                        r"(?:关|拧)(?:了|好了|掉了|上了)(?:燃气|煤气)?(?:的)?(?:阀门|总阀|阀|闸)|"
                        r"(?:阀门|总阀|阀|闸)(?:已经)?(?:关了|关好了|关掉了|关上了)|窗(?:户|子)?(?:都|已经)?(?:开了|打开了)|"
                        r"人(?:都|已经)?(?:出来了|出去了|在外面)|火(?:已经)?(?:灭了|扑灭了)|送(?:到|去)(?:医院|急诊)了?")
_STILL_DANGER = re.compile(r"还是|还没|还在|没来|没到|怎么还|咋还|不行了|不醒|喘不|又(?:开始|来|晕|烧|冒|漏)|越来越|"
                           r"更(?:厉害|严重|大|疼)|严重|怎么办|咋办|咋整|血|疼|痛|昏|出不来|困住|被困|着火|冒烟|味(?:还|好|很|太)|"
                           r"吓死|吓坏|害怕|好怕|怕死|慌")


def help_came(text: str) -> bool:
    """News that help arrived or the safety step was done, with no word that the danger goes on."""
    return bool(_HELP_CAME.search(text)) and not _STILL_DANGER.search(text)


def arrived_reply(kind: str, text: str, hotlines: Mapping[str, str] | None = None, sub: str = "") -> str:
    """The calm answer to "救护车来了" / "关了阀门了": fitting what came, and the way back if it gets worse."""
    more = "需要我们做什么随时说。"
    if re.search(r"救护车|急救车|120|医生|大夫|护士|医院|急诊", text):
        return "好的，有医生在就好，您跟着医生安排就行。" + more
    if re.search(r"消防|119|火", text):
        return "好的，消防队到了就好，听他们安排，先别回屋里拿东西。" + more
    if re.search(r"警察|民警|公安|派出所|110", text):
        bank = "钱的事也记得打银行客服电话止付。" if sub == FRAUD else ""
        return "好的，警察到了就好，跟他们说清楚情况。" + bank + more
    if kind == "gas":
        return ("好的，做得对！先别开关电器、别点火，等燃气公司的人查过再回屋。"
                f"{more}有变化请{_call_now(kind, hotlines, sub)}。")
    if kind == "water" and sub == HOUSEHOLD:
        return "好的，水止住就好，师傅会尽快上门。" + more
    return f"好的，那就好。{more}有变化请{_call_now(kind, hotlines, sub)}。"


def arrived(slots: Mapping[str, Any], now: datetime, hotlines: Mapping[str, str] | None, text: str,
            order_name: str | None = None) -> Result | None:
    """"救护车来了 谢谢你们" while the last emergency is recent: the calm answer (one follow-up used, no staff
    alert), and the order kept from before said; None when it is no such news (or after self-harm talk)."""
    after = recent(slots, now)
    if after is None or after.get("kind") == "self_harm" or not help_came(text):
        return None
    kind, sub = str(after["kind"]), str(after.get("sub") or "")
    reply = arrived_reply(kind, text, hotlines, sub)
    if order_name:
        reply += "\n" + _kept_words(order_name)
    left = {**after, "left": int(after.get("left") or 0) - 1}
    return idle(reply, {**slots, AFTER_EMERGENCY_SLOT: left})


# "那修水管的事呢" / "刚才那个单子呢": the kept order asked about.
_ASKS_KEPT = re.compile(r"(?:的事|那事|那个事|这事|单子|订单|那单|那个单)(?:儿)?"
                        r"(?:呢|咋样|怎么样|怎样|还在|还算|还办|还下)")


def asks_kept(text: str) -> bool:
    """Whether a message asks about the order kept from before the alarm."""
    return bool(_ASKS_KEPT.search(text))
