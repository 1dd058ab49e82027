"""The resident's ordering and rating dialogue, and the volunteer's follow-up questions (pure).

The draft order lives in slots["draft"]. Whatever the first message already says (service, time,
address, phone) is kept, each slot from its own words (intents.understand.extract_slots), and the
request is stored without them; the dialogue asks only for what is missing, then shows a summary to
confirm. A correction that names a slot ("地址不对 是…", "电话换成…", "不是明天 是后天") is applied at the
summary and in any question; a time that has passed gets the nearest future ones offered; a confusing
answer is asked again at most twice, then the bot offers staff (人工).

Several services in one message ("修一下水管 顺便帮我理个发") make this order of the first and keep the others
(slots[MORE]), each offered as the next order once this one is submitted (slots[NEXT_ORDER], same time, place and
phone). Another service named mid-order without a change word ("我要理发") asks whether this order changes, both are
wanted, or neither (SWITCH).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue.core import (
    LABEL_CHARS,
    LAST_RATING_SLOT,
    SUBMITTED_SLOT,
    Action,
    Context,
    Result,
    State,
    StateHandler,
    ask_phone_again,
    idle,
    kept,
    result,
    retry,
    said_no,
    said_yes,
    wrong_phone_words,
)
from bot.dialogue.followups import asks_hurry, relative_name, relative_phones
from bot.dialogue.messages import Incoming
from bot.dialogue.volunteering import GIVEBACK_KEYS, giveback_answer
from intents.address import MAX_SPAN, has_door, looks_like_address, names_place
from intents.masking import mask_phone, scrub
from intents.matcher import pinyin_syllables
from intents.phone import parse_phone_answer
from intents.rating import RATING_WORDS, SCALE_WORDS, parse_rating
from intents.timeparse import (
    SHANGHAI,
    TimeResult,
    at_night,
    day_only,
    future_options,
    is_past,
    on_day,
    spoken,
    urgent_spoken,
)
from intents.timeparse import when_text as appointment_text

ASK_SERVICE = State.ORDER_SERVICE
ASK_DETAILS = State.ORDER_DETAILS
ASK_TIME = State.ORDER_TIME
ASK_ADDRESS = State.ORDER_ADDRESS
ASK_PHONE = State.ORDER_PHONE
CONFIRM = State.ORDER_CONFIRM
EDIT = State.ORDER_EDIT
SWITCH = State.ORDER_SWITCH
CANCEL_PICK = State.CANCEL_PICK
PROXY_NAME = State.PROXY_NAME
PROXY_PHONE = State.PROXY_PHONE
RATE = State.RATE
RATE_COMMENT = State.RATE_COMMENT
ASK_HOURS = State.VOL_HOURS
ASK_GIVEBACK_REASON = State.VOL_GIVEBACK

EDIT_CHOICES: dict[int, tuple[str, str]] = {1: ("service", "服务"), 2: ("details", "内容"), 3: ("time", "时间"),
                                            4: ("address", "地址"), 5: ("phone", "电话")}
NO_CHANGE = frozenset({"2", "修改", "改", "改一下", "不对"})
ABORT = frozenset({"0"})
USE_OFFERED = frozenset({"用这个", "就这个", "用这个地址", "就用这个", "就这里", "就是这里", "用它", "就那", "就那个",
                         "就那里", "就那儿", "那个地址", "就那个地址", "还是那", "还是那里", "一样", "还是一样", "没变",
                         "这个号", "就这个号", "这个号码", "就这个号码", "用这个号码", "就用这个号码", "原来的",
                         "用原来的", "就原来的", "还用这个"})
# Around a use-it answer: 嗯 就那 / 就这个号吧 / 对 用原来的.
_OFFER_AROUND = re.compile(r"^(?:嗯+|对|是的?|好的?|行|可以)?[\s,，]*|[\s,，]*(?:吧|啊|呀|哈|的|就行|就好|可以)*$")
# "俺没手机 就这个微信" at the phone question: no phone; the volunteer is put in touch through the account.
_NO_PHONE = re.compile(r"没(?:有)?(?:手机|电话)|不用手机|不会用手机|只有微信|就(?:这个|用)微信|微信联系|没号码")
NO_PHONE_LABEL = "无（志愿者通过本公众号联系您，需要时社区工作人员帮忙安排）"
# 代点单 with the relative's phone said: the caller's own asked for once, and may be left out.
OWN_PHONE_QUESTION = "您自己的电话也留一个吧，方便联系；不留回复“不用”。"
_NO_OWN_PHONE = re.compile(r"^\s*(?:不用|不留|不要|不必|没有|没|算了|就留(?:她|他|老人)的|用(?:她|他|老人)的|"
                           r"1|就这样|继续|下一步)(?:了|啦|吧|留|电话)*[\s。.!！]*$")  # (out9: "1" to go on)
OWN_NOT_LEFT = "不留（联系老人家的电话）"


def declines_own_phone(slots: Mapping[str, Any], text: str) -> bool:
    """"不用" / "不用了" to OWN_PHONE_QUESTION: the caller leaves no phone of their own (the relative's is the
    contact); never a call-off of the order."""
    draft = slots.get("draft") or {}
    return bool((draft.get("for") or {}).get("phone")) and not draft.get("phone") and \
        _NO_OWN_PHONE.match(text) is not None
# The states of making an order: a "那个理发的不要了" in one of them ends it.
ORDERING = frozenset({ASK_SERVICE, ASK_DETAILS, ASK_TIME, ASK_ADDRESS, ASK_PHONE, CONFIRM, EDIT, SWITCH, PROXY_NAME,
                      PROXY_PHONE})
# The other services asked for with this order ("…修水管 顺便帮我理个发"): [{"service", "details"}], ordered next.
MORE = "more"
# After an order with more to come is submitted: the next one offered ({"more", "from": the slots it keeps, "at"}).
NEXT_ORDER = "next_order"
# What the next of several orders keeps of the one before: the same time, place, phone and person.
CARRIED = ("time_kind", "start", "end", "address", "lat", "lng", "phone", "no_phone", "for", "repeat")
# A visit said to repeat ("每周三", intents.timeparse.repeat_said): the first is booked, staff are told the rest.
REPEAT = "repeat"
# Slots of the draft that a new time replaces together.
TIME_KEYS = ("time_kind", "start", "end")
# The last answers' loose ends, dropped once the question they belonged to is answered.
OFFER_KEYS = ("time_offers", "time_passed", "address_offer", "saved_offered")
# The resident's saved address (ctx.last_address, read by the edge) was offered at this order's address question:
# not offered again once it was declined or another address was said.
SAVED_OFFERED = "saved_offered"
# "跟上回一样" / "老地方" from a resident with no saved address and no earlier order: told so plainly, the address
# question asked again (never counted as a miss: no 人工 after one try).
NO_SAVED = "no_saved_address"
NO_SAVED_WORDS = "我这里没有您以前留过的地址（还没有上次的订单），没法用“上次的”。\n"
# The states in which the saved address may be asked for or used: an order's (its address question, a correction
# "地址跟上次一样") and the idle state (a one-message request goes straight to the address question). The edge
# reads the address only in these (bot.inbox.handler).
USES_SAVED_ADDRESS = frozenset({State.IDLE, State.ORDER_SERVICE, State.ORDER_DETAILS, State.ORDER_TIME,
                                State.ORDER_ADDRESS, State.ORDER_PHONE, State.ORDER_CONFIRM, State.ORDER_EDIT,
                                State.ORDER_SWITCH, State.PROXY_NAME, State.PROXY_PHONE})


# -- asking -------------------------------------------------------------------------------------


def when_text(draft: Mapping[str, Any]) -> str:
    start, end = draft.get("start"), draft.get("end")
    return appointment_text(draft.get("time_kind"), datetime.fromisoformat(start) if start else None,
                            datetime.fromisoformat(end) if end else None)


def summary(draft: Mapping[str, Any], ctx: Context, more: Sequence[Mapping[str, Any]] = ()) -> str:
    lines = ["请核对您的订单："]
    proxy = draft.get("for")
    if proxy:
        lines.append(f"为谁：{proxy.get('name')}（{mask_phone(proxy.get('phone'))}）" if proxy.get("phone")
                     else f"为谁：{proxy.get('name')}（联系电话用下面这个）")
    lines += [f"服务：{ctx.nlu.service_name(draft['service'])}", f"内容：{draft.get('details') or '无'}",
              f"时间：{_urgent_at_night(draft, ctx) or when_text(draft)}" + _repeat_note(draft)
              + _small_hours_note(draft, ctx),
              f"地址：{draft.get('address')}",
              f"{'您的电话' if proxy and proxy.get('phone') else '电话'}："
              f"{_phone_shown(draft.get('phone')) or _no_phone_label(proxy)}"]
    if more:
        lines.append(f"（这单确认后，接着帮您下{_names(more, ctx)}的单。）")
    lines.append("回复 1 确认，2 修改，0 取消")
    return "\n".join(lines)


SMALL_HOURS_END = 5  # before 05:00 "明天" may mean the day that has already begun (out10, out11)


def _small_hours_note(draft: Mapping[str, Any], ctx: Context) -> str:
    """In the small hours, an order for the calendar's tomorrow says which day that is, and how to change it: "明天"
    said at 2 a.m. often means the coming daytime, which is today."""
    start = draft.get("start")
    now = ctx.now.astimezone(SHANGHAI)
    if draft.get("time_kind") == "asap" or not start or now.hour >= SMALL_HOURS_END:
        return ""
    day = datetime.fromisoformat(str(start)).astimezone(SHANGHAI).date()
    if day != now.date() + timedelta(days=1):
        return ""
    return (f"\n（现在是凌晨{now.hour}点，订单是{day.month}月{day.day}日的；如果您说的“明天”是指今天白天，"
            "请回复 2 修改时间。）")


def _repeat_note(draft: Mapping[str, Any]) -> str:
    """What the summary says of a visit said to repeat: this order is the first; the rest are staff's to arrange."""
    repeat = draft.get(REPEAT)
    return f"\n（您说{repeat}都来：这一单先约最近一次，以后的提交后社区工作人员会和您商量。）" if repeat else ""


def _no_phone_label(proxy: Mapping[str, Any] | None) -> str:
    """The phone line of an order with no phone: for 代点单 with the relative's phone, the caller's own not left."""
    return OWN_NOT_LEFT if proxy and proxy.get("phone") else NO_PHONE_LABEL


def _urgent_at_night(draft: Mapping[str, Any], ctx: Context) -> str | None:
    """An urgent order said at night as the resident is told it ("尽快（明早9点前）"), or None for any other time."""
    start, end = draft.get("start"), draft.get("end")
    if draft.get("time_kind") != "asap" or not start or not end \
            or not at_night(datetime.fromisoformat(str(start)), ctx.urgent_night):
        return None
    return urgent_spoken(datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end)), ctx.now,
                         ctx.urgent_night)


NIGHT_TOLD = "night_told"  # an urgent order at night: the resident was told once that volunteers come in the morning


def _night_note(slots: Mapping[str, Any], draft: Mapping[str, Any], ctx: Context) -> str:
    said = _urgent_at_night(draft, ctx)
    if said is None or slots.get(NIGHT_TOLD):
        return ""
    return f"现在是夜里，志愿者多半要等到早上才能上门，订单时间写作“{said}”。\n"


def _phone_shown(phone: Any) -> str:
    """A phone as the resident reads it back: a landline with its area code split off (0731-22881234)."""
    digits = str(phone or "")
    if re.fullmatch(r"0[12]\d{9}", digits):
        return f"{digits[:3]}-{digits[3:]}"
    if re.fullmatch(r"0[3-9]\d{9,10}", digits):
        return f"{digits[:4]}-{digits[4:]}"
    return digits


def _names(more: Sequence[Mapping[str, Any]], ctx: Context) -> str:
    """"【义务理发】和【家政保洁】": the services still to come, as said in one breath."""
    names = [f"【{ctx.nlu.service_name(str(m['service']))}】" for m in more]
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "和" + names[-1]


def _time_question(slots: Mapping[str, Any]) -> str:
    offers = list(slots.get("time_offers") or [])
    if not offers:
        return "什么时间方便？比如“明天上午九点”“周六下午”，或者说“越快越好”。"
    passed = str(slots.get("time_passed") or "这个时间已经过去了。")
    if len(offers) == 1:
        return f"{passed}改成{offers[0]['label']}可以吗？回复 1 可以，或者说一个别的时间。"
    lines = [f"{passed}改成哪个时间？"] + [f"{i} {o['label']}" for i, o in enumerate(offers, 1)]
    lines.append("回复数字，或者说一个别的时间。")
    return "\n".join(lines)


def next_question(slots: Mapping[str, Any], ctx: Context, prefix: str = "") -> Result:
    """Ask for the first missing slot, or show the summary when nothing is missing."""
    draft = dict(slots.get("draft") or {})
    slots = {**slots, "draft": draft, "misses": 0}
    no_saved = bool(slots.get(NO_SAVED))  # "老地方" said with no address on file: said plainly once, when asked
    slots = {k: v for k, v in slots.items() if k != NO_SAVED}
    if slots.get(SAVED_TAKEN):  # "老地方" said before the address question: the address taken is said back once
        prefix += f"地址用上回的：{slots[SAVED_TAKEN]}（不对的话，核对订单时回复 2 修改）。\n"
        slots = {k: v for k, v in slots.items() if k != SAVED_TAKEN}
    if not draft.get("service"):
        return result(ASK_SERVICE, slots, prefix + "您需要什么服务？直接说就行，比如“理发”“修水管”“陪我去医院”。")
    if not draft.get("details"):
        return result(ASK_DETAILS, slots, prefix + "请简单说说具体要做什么，比如“卫生间水管漏水”。")
    if not draft.get("time_kind"):
        return result(ASK_TIME, slots, prefix + _time_question(slots))
    slots = {k: v for k, v in slots.items() if k not in ("time_offers", "time_passed")}
    night = _night_note(slots, draft, ctx)  # 尽快 at 22:20: said plainly that volunteers come in the morning
    if night:
        prefix, slots = prefix + night, {**slots, NIGHT_TOLD: True}
    if not draft.get("address"):
        if not slots.get("address_offer") and _offers_saved(slots, draft, ctx):
            slots = {**slots, "address_offer": ctx.last_address, SAVED_OFFERED: True}
        offer = slots.get("address_offer")
        if offer:
            return result(ASK_ADDRESS, slots, prefix + offer_question(str(offer)))
        text = prefix + (NO_SAVED_WORDS if no_saved else "") + "服务地址是哪里？请说小区、楼栋和门牌号，" \
            "也可以发送位置。"
        loc = slots.get("location")
        if loc and loc.get("label"):
            text += f"\n回复 1 使用您刚发的位置：{loc['label']}"
        return result(ASK_ADDRESS, slots, text)
    slots = {k: v for k, v in slots.items() if k != "address_offer"}
    address = str(draft.get("address") or "")
    if not has_door(address) and not slots.get(DOOR_ASKED):
        # "白莲小区" alone, or a location sent (a place's name, no door): the volunteer cannot find the door; the
        # rest asked for, what was said (and where the location is) kept
        draft.pop("address", None)
        asked = {**slots, "draft": draft, ADDRESS_PART: address, DOOR_ASKED: True}
        return result(ASK_ADDRESS, asked, prefix + f"好的，{address}。几栋几单元几号？"
                      "（比如“3栋2单元501”；没有门牌号的话回复“就这样”）")
    if not draft.get("phone") and not draft.get("no_phone") and (draft.get("for") or {}).get("phone"):
        if ctx.phone_on_file:  # 代点单 with the relative's phone: the caller's own is the one on file
            draft["phone"] = ctx.phone_on_file
        else:  # the caller's own, asked for once (optional: the relative's is the contact)
            return result(ASK_PHONE, slots, prefix + OWN_PHONE_QUESTION)
    if not draft.get("phone") and not draft.get("no_phone"):
        phone = ctx.phone_on_file if not (draft.get("for") or {}).get("phone") else None  # (for 刘阿姨: the caller's)
        text = prefix + "请留一个联系电话。"
        if phone:
            text += f"\n回复 1 使用 {mask_phone(phone)}，或直接发新号码。"
        return result(ASK_PHONE, slots, text)
    return result(CONFIRM, slots, prefix + summary(draft, ctx, slots.get(MORE) or ()))


def offer_question(address: str) -> str:
    return f"还是送到 {address} 吗？回复“是”，或者直接告诉我新地址。"


def _offers_saved(slots: Mapping[str, Any], draft: Mapping[str, Any], ctx: Context) -> bool:
    """Whether the address question offers the resident's saved address: once an order, never for somebody else
    (a family member's order gets no address of theirs; the edge never reads another resident's), not over a
    location just sent or a door being asked for."""
    loc = slots.get("location")
    return bool(ctx.last_address) and "for" not in draft and not slots.get(SAVED_OFFERED) \
        and not slots.get(DOOR_ASKED) and not (loc and loc.get("label"))


def ask_service(slots: Mapping[str, Any], ctx: Context) -> Result:
    return next_question({**_without_offers(slots), "draft": {}}, ctx)


def _without_offers(slots: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in slots.items() if k not in OFFER_KEYS}


# -- filling ------------------------------------------------------------------------------------


def _time_slots(when: TimeResult) -> dict[str, Any]:
    # an urgent order keeps the end of its window: it is not "past" before volunteers could have come
    has_end = when.kind in ("span", "asap") and when.end is not None and when.end != when.start
    return {"time_kind": when.kind, "start": when.start.isoformat() if when.start else None,
            "end": when.end.isoformat() if has_end and when.end else None}


def _offer_times(slots: dict[str, Any], when: TimeResult, ctx: Context) -> dict[str, Any]:
    """A time that has passed: keep the nearest future ones to offer, and what to say about it."""
    options = future_options(when, ctx.now)
    offers = [{**_time_slots(o), "label": spoken(o, ctx.now)} for o in options]
    return {**slots, "time_offers": offers, "time_passed": _passed_words(when, ctx)}


def _passed_words(when: TimeResult, ctx: Context) -> str:
    said = spoken(when, ctx.now)
    if when.kind == "point":
        return f"现在已经过了{said}。"
    if said == "今天" or said.startswith("今天（"):
        return "今天已经很晚了。"
    return f"{said.split('（')[0]}已经过去了。"


def _offer_instead(slots: Mapping[str, Any], when: TimeResult, ctx: Context) -> dict[str, Any]:
    """A time that cannot be booked as said ("一个钟头以后" at 23:00, the middle of the night): the one the parser
    offers instead (the morning) kept to offer, with why; the slots as they were when there is none."""
    instead = when.instead
    if instead is None:
        return dict(slots)
    offer = {**_time_slots(instead), "label": spoken(instead, ctx.now)}
    return {**slots, "time_offers": [offer], "time_passed": instead.question or "这个时间不好约。"}


def _take_time(slots: dict[str, Any], draft: dict[str, Any], when: TimeResult, ctx: Context) -> dict[str, Any]:
    """A time said in this message: into the draft, or, if it has passed (or falls in the night), the offers of
    nearer ones."""
    if not when.is_clear:
        return _offer_instead(slots, when, ctx)
    if is_past(when, ctx.now):
        for key in TIME_KEYS:
            draft.pop(key, None)
        return _offer_times(slots, when, ctx)
    draft.update(_time_slots(when))
    return {k: v for k, v in slots.items() if k not in ("time_offers", "time_passed")}


def _fill(slots: dict[str, Any], draft: dict[str, Any], text: str, ctx: Context,
          loose_address: bool = False, at_address: bool = False) -> tuple[dict[str, Any], str]:
    """Take whatever this message says for the missing slots (never overwriting with nothing); slots and the rest."""
    found = ctx.read_slots(text, loose_address)
    if len(found.repeat) > len(draft.get(REPEAT) or ""):  # 每个礼拜 … then 每周三下午: the day said later
        draft[REPEAT] = found.repeat
    if not draft.get("time_kind") and (found.time.is_clear or found.time.instead is not None):
        slots = _take_time(slots, draft, found.time, ctx)
    if not draft.get("address"):
        if found.address:
            draft["address"] = found.address[:200]
        elif found.same_address_as_last and ctx.last_address and at_address:
            # "跟上回一样" answering the address question: the last order's address (the edge reads it into
            # ctx.last_address), said back to confirm
            slots = {**slots, "address_offer": ctx.last_address}
        elif found.same_address_as_last and ctx.last_address:
            # "明天上午老地方来理发" before the address question: taken at once (the summary shows it, 2 changes it)
            draft["address"] = ctx.last_address[:200]
            slots = {**slots, SAVED_TAKEN: draft["address"]}
        elif found.same_address_as_last and not at_address:
            slots = {**slots, NO_SAVED: True}  # "老地方" with no address on file: said at the address question
    if not draft.get("phone") and found.phone:
        draft["phone"] = found.phone
    return slots, found.rest


def _with_service(slots: Mapping[str, Any], code: str, text: str, ctx: Context, prefix: str | None = None) -> Result:
    draft = dict(slots.get("draft") or {})
    draft["service"] = code
    new_slots, rest = _fill(dict(slots), draft, text, ctx)
    if pinyin_syllables(rest) is not None:  # "zhao ren xiu shui guan": the volunteer reads the service's name
        rest = ""
    if not draft.get("details"):
        draft["details"] = rest if len(rest) > 4 else _short_request(rest) or ctx.nlu.service_name(code)
    draft["details"] = (tidy_details(scrub(draft["details"], draft.get("address"), draft.get("phone")))
                        or ctx.nlu.service_name(code))[:200]
    name = ctx.nlu.service_name(code)
    said = f"好的，为您安排【{name}】。\n" if prefix is None else prefix
    return next_question({**new_slots, "draft": draft, "candidates": []}, ctx, prefix=said)


# Several services asked for in one message ("修一下水管 顺便帮我理个发 再把油烟机洗一洗"): the request is cut at the
# words that join requests, and each part matched on its own. The first service is this order; the others are kept
# (slots[MORE]) and offered, one by one, once it is submitted.
_JOIN = re.compile(r"顺便|顺带|另外|还有|还要|还想|然后|以及|并且|同时|外加|加上|也要|也想|和|"
                   r"再(?=[把帮给来找请叫弄修理剪洗擦送陪教做搞打扫])")
_PARTS = re.compile(r"[\s,，。；;、!！?？]+")
_COUNT = {2: "两", 3: "三", 4: "四", 5: "五"}


def services_said(text: str, ctx: Context) -> list[tuple[str, str]]:
    """(service, the words that asked for it) for each service a message asks for, in the order said, when it asks
    for two or more joined by 顺便 / 再 / 还有 / 和 … (or listed with 、); else []."""
    rest = ctx.read_slots(text).rest
    if not _JOIN.search(rest) and "、" not in text:
        return []
    found: dict[str, list[str]] = {}
    for part in _PARTS.split(_JOIN.sub(" ", rest)):
        if len(part) < 2:
            continue
        code = named_service(part, ctx, lone_question=True)
        if code:
            found.setdefault(code, []).append(part)
    if len(found) < 2:
        return []
    return [(code, "，".join(parts)) for code, parts in found.items()]


def _with_several(slots: Mapping[str, Any], several: list[tuple[str, str]], text: str, ctx: Context) -> Result:
    """This order for the first service said; the others kept, and the resident told plainly what comes when."""
    (first, words), others = several[0], [{"service": c, "details": w[:200]} for c, w in several[1:]]
    base = {**slots, "draft": {**(slots.get("draft") or {}), "details": words}, MORE: others}
    count = _COUNT.get(len(several), str(len(several)))
    prefix = (f"您说了{count}件事：先帮您下【{ctx.nlu.service_name(first)}】的单，"
              f"{_names(others, ctx)}等这单下好了，我接着帮您下。\n")
    return _with_service(base, first, text, ctx, prefix=prefix)


# What a run-on message leaves of a slot once its value is taken out: the label ("时间：", "电话") and a lone
# pronoun before the address (…人民医院 我们|住幸福小区2栋).
_LEFT_LABEL = re.compile(r"(?:^|(?<=[\s，,。；;]))(?:时间|日期|地址|住址|电话|手机|手机号|联系方式|联系电话)"
                         r"\s*[:：]?\s*(?=$|[\s，,。；;])")
_LEFT_PRONOUN = re.compile(r"(?:^|[\s，,。；;]+)(?:我们家|我们|我家|我|俺|她|他)\s*$")
_LONE_PRONOUN = re.compile(r"(?:^|(?<=[\s，,]))(?:我们家|我们|我家|我|俺|她|他)(?:[\s，,]+)")
# …周六上午都行 / …今天下午有空 / …送到幸福小区9栋 / …尽快来: the words that went with a taken-out time or address,
# left alone at the end of a clause.
_LEFT_WORDS = re.compile(r"[\s，,]+(?:都行|都可以|都有空|有空|有时间|就行|可以|送到|送去|送过来|到|去|在|来|过来)"
                         r"[\s，,。；;]*$")

# 我也不知道要啥 就是家里下水道堵了: the request is what follows 就是.
_REQUEST_FILLER = re.compile(r"^(?:请|麻烦|帮我|帮忙|给我|来人|来|过来|上门|到家)+|(?:吧|啊|呀|哈|一下)+$")


def _short_request(rest: str) -> str:
    """What a short request asks for once the time and the place are taken out ("后天上午来修下门" -> "修下门",
    "尽快来修下灯" -> "修下灯"): the volunteer must tell a door from a lamp; "" when only filler is left."""
    core = _REQUEST_FILLER.sub("", re.sub(r"[\s，,。.!！?？]+", "", rest))
    return core if len(re.findall(r"[\u4e00-\u9fff]", core)) >= 2 else ""


_NOT_SURE = re.compile(r"^.{0,8}?(?:不知道|不晓得|说不清|说不好|不清楚)[^\s，,。]{0,6}[\s，,。]*"
                       r"(?:就是|反正|其实)(?=.{2})")


def tidy_details(text: str) -> str:
    """The request as said, without what its slots left behind (a label, a pronoun, doubled commas)."""
    text = _LEFT_WORDS.sub("", _LEFT_PRONOUN.sub("", _LONE_PRONOUN.sub("", _LEFT_LABEL.sub("", text))))
    text = _NOT_SURE.sub("", text)
    text = re.sub(r"^[\s，,]*(?:吧|啊|呀|嘛)+(?=\s*[\u4e00-\u9fff])", "", text)  # 十点左右|吧来帮我…
    text = re.sub(r"\s*[，,]\s*(?:[，,]\s*)+", "，", text)
    return text.strip(" ，,。；;:：")


def menu_question(codes: Sequence[str], ctx: Context) -> str:
    """"您要的是哪一项？" with the numbered services; with one service only, a yes-or-no question about it."""
    if len(codes) == 1:
        return f"您是要【{ctx.nlu.service_name(codes[0])}】吗？回复 是，或者说说您要什么。"
    lines = ["您要的是哪一项？"] + [f"{i} {ctx.nlu.service_name(c)}" for i, c in enumerate(codes, 1)]
    lines.append("回复数字；都不是的话，换个说法再说一次。")
    return "\n".join(lines)


def menu_codes(m: Any, text: str, ctx: Context) -> list[str]:
    """The services to offer for a clarify: its first three; only the first when the keyword matcher alone is sure of
    it (the semantic layer's second thoughts are asked about as yes or no, never with unrelated services: 修水笼头
    offered 义务理发)."""
    codes = [c for c, _ in m.candidates[:3]]
    if len(codes) > 1:
        rest = ctx.read_slots(text).rest or text
        lexical = ctx.nlu.matcher.match(rest)
        if lexical.decision == "accept" and lexical.service == codes[0]:
            return codes[:1]
    return codes


def named_service(text: str, ctx: Context, lone_question: bool = False) -> str | None:
    """The one service a phrase names: the matcher's accept, or the keyword matcher's own accept that the semantic
    layer asks about first (:func:`menu_codes`), and with ``lone_question`` a question of one service. For a second
    request or a change of mind inside an order, where that question would break the order's flow: with the model on,
    "来理发 顺便帮我修下水管" was asked "which one?" instead of taken as two services."""
    m = ctx.nlu.match(text)
    if m.decision == "accept" and m.service:
        return str(m.service)
    if m.decision == "clarify" and m.candidates:
        if len(m.candidates) == 1:
            return str(m.candidates[0][0]) if lone_question else None
        codes = menu_codes(m, text, ctx)
        if len(codes) == 1:
            return codes[0]
    return None


def _clarify(slots: Mapping[str, Any], codes: list[str], text: str, ctx: Context) -> Result:
    draft = dict(slots.get("draft") or {})
    new_slots, rest = _fill(dict(slots), draft, text, ctx)
    draft["details"] = tidy_details(rest) or text
    return result(ASK_SERVICE, {**new_slots, "draft": draft, "candidates": codes, "misses": 0},
                  menu_question(codes, ctx))


def _match(text: str, ctx: Context) -> Any:
    """The service of a request, matched on the request without its time, address and phone (a street name or a
    time word cannot pose as a service), or on the whole text when that reads better."""
    rest = ctx.read_slots(text).rest
    first = ctx.nlu.match(rest) if rest else ctx.nlu.match(text)
    if first.decision == "accept" or not rest or rest == text:
        return first
    whole = ctx.nlu.match(text)
    rank = {"accept": 0, "clarify": 1}
    return whole if rank.get(whole.decision, 2) < rank.get(first.decision, 2) else first


def _says_a_slot(text: str, ctx: Context) -> bool:
    found = ctx.read_slots(text)
    return found.time.is_clear or bool(found.address) or bool(found.phone)


def service_asked(text: str, ctx: Context) -> str | None:
    """The one service a message clearly asks for ("我要找人修水管", "理发 尽快 白莲小区9栋140号"), or None."""
    m = _match(text, ctx)
    return str(m.service) if m.decision == "accept" and m.service else None


_ASKS = re.compile(r"我要|我想|想要|需要|找人|找个|帮我|给我|麻烦|能不能|能否|可不可以|可以.{0,12}吗|请.{0,4}来|"
                   r"来个|派个|师傅|志愿者|上门")


def request_after_emergency(text: str, ctx: Context) -> bool:
    """A message right after an emergency answer that is plainly a service request: a service with a request's
    words or with a time, place or phone ("我要找人修水管", "理发 尽快 白莲小区9栋140号"), not "我儿子也不来看我"."""
    return service_asked(text, ctx) is not None and (bool(_ASKS.search(text)) or _says_a_slot(text, ctx))


_GO_ON = re.compile(r"继续|接着|还要|还是要|要的|照常|接着下|单子|订单")


def resumes(text: str, draft: Mapping[str, Any], ctx: Context) -> bool:
    """Whether a message takes up the order kept from before ("继续", "刚才那个打扫卫生的单子还要")."""
    if len(text) <= 6 and (said_yes(text, ctx) or _GO_ON.search(text)):
        return True
    code = service_asked(text, ctx)
    return bool(_GO_ON.search(text) and code in (None, draft.get("service"))) or \
        (code is not None and code == draft.get("service"))


def resume_draft(slots: Mapping[str, Any], draft: Mapping[str, Any], text: str, ctx: Context,
                 prefix: str = "") -> Result:
    """The order kept from before (an alarm, a cancel) taken up again: what this message adds kept, and its next
    question asked."""
    draft = dict(draft)
    new_slots, _rest = _fill({**_without_offers(slots), "candidates": []}, draft, text, ctx)
    name = ctx.nlu.service_name(str(draft.get("service")))
    return next_question({**new_slots, "draft": draft}, ctx, prefix=prefix + f"好的，接着下刚才【{name}】的单。\n")


# Messages in a row the idle state did not understand: the second gets a short numbered menu of common services and
# 人工, never the same sentence again.
NOT_UNDERSTOOD = "not_understood"
COMMON_SERVICES = ("repair", "housekeeping", "haircut", "escort", "meals", "errands")


def _not_understood(slots: Mapping[str, Any], text: str, ctx: Context) -> Result:
    missed = int(slots.get(NOT_UNDERSTOOD) or 0) + 1
    if missed < 2:
        return result(State.IDLE, {**kept(slots), NOT_UNDERSTOOD: missed},
                      "这个我可能帮不上忙。需要志愿者帮忙的话，请直接说要做什么，比如“明天上午来修水管”；"
                      "或回复“菜单”看看能做什么。")
    codes = [c for c in COMMON_SERVICES if c in ctx.nlu.catalogue]
    base = {k: v for k, v in _without_offers(slots).items() if k != NOT_UNDERSTOOD}
    asked = _clarify({**base, "draft": {}}, codes, text, ctx)
    lines = ["还是没太明白。常用的服务有这些，您要哪一项？"] + \
        [f"{i} {ctx.nlu.service_name(c)}" for i, c in enumerate(codes, 1)]
    lines.append("回复数字；都不是的话，回复“人工”找工作人员。")
    return result(ASK_SERVICE, asked.slots, "\n".join(lines))


def start_from_text(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    """Free text in the idle state: a request for a service, or not."""
    slots_in, slots = slots, {k: v for k, v in slots.items() if k != NOT_UNDERSTOOD}
    base = {**_without_offers(slots), "draft": {}}
    several = services_said(text, ctx)
    if several:
        return _with_several(base, several, text, ctx)
    m = _match(text, ctx)
    if m.decision == "accept" and m.service:
        return _with_service(base, m.service, text, ctx)
    codes = menu_codes(m, text, ctx) if m.decision == "clarify" else []
    if len(codes) == 1 and _says_a_slot(text, ctx):
        # one service fits a message that also says when, where or a phone: an order; asking "1 维修服务?" is a
        # step for nothing (the summary shows the service, and 2 changes it)
        return _with_service(base, codes[0], text, ctx)
    if codes:
        return _clarify(base, codes, text, ctx)
    return _not_understood(slots_in, text, ctx)


def next_order(offer: Mapping[str, Any], slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """The answer to "还要下理发的单吗？" after an order of several was submitted: yes starts it (the same time, place
    and phone, to confirm), no says so; None for anything else (the offer is dropped, the message read as usual)."""
    at = offer.get("at")
    more = [dict(m) for m in offer.get("more") or [] if m.get("service")]
    try:
        fresh = at is not None and ctx.now - datetime.fromisoformat(str(at)) <= ctx.timeout
    except (TypeError, ValueError):
        fresh = False
    if not fresh or not more:
        return None
    word = text.strip()
    name = ctx.nlu.service_name(str(more[0]["service"]))
    if word in ABORT or said_no(word, ctx) or ctx.nlu.is_no(word):
        return idle(f"好的，{name}先不下了。需要时直接说，或回复“菜单”。", slots)
    if not (said_yes(word, ctx) or word in ("要", "还要", "接着下", "下吧", "要的")):
        return None
    own = dict(more[0].get(OWN) or {})  # said with its own time, address or phone (new_request): those, not the first's
    draft = {**dict(offer.get("from") or {}), **own, "service": more[0]["service"],
             "details": more[0].get("details") or name}
    latest = draft.get("end") or draft.get("start")
    if latest and datetime.fromisoformat(str(latest)) <= ctx.now:  # the time has passed meanwhile: asked again
        for key in TIME_KEYS:
            draft.pop(key, None)
    same = "按您说的时间、地址和电话" if own else "时间、地址和电话跟上一单一样"
    return next_question({**_without_offers(slots), "draft": draft, MORE: more[1:], "candidates": []}, ctx,
                         prefix=f"好的，接着下【{name}】的单，{same}。\n")


PROXY_TITLE = "proxy_title"  # 阿姨 / 奶奶 / 叔叔 / 爷爷 from the words that began the proxy order ("帮我妈下单")


def said_at_phone(slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """"她要理发 后天上午" typed at a phone question: the service (when none yet) and the time it says are taken and
    the order goes on; None when it says neither (or names another service: the switch question is for that)."""
    if wrong_phone_words(text) is not None:
        return None
    draft = dict(slots.get("draft") or {})
    m = _match(text, ctx)
    service = m.service if m.decision == "accept" and m.service else None
    when = ctx.read_slots(text).time
    if not draft.get("service"):
        return None if service is None else _with_service(slots, service, text, ctx, prefix="好的，记下了。\n")
    if (service is not None and service != draft.get("service")) or not when.is_clear:
        return None
    new_slots = _apply_time(dict(slots), draft, when, ctx)  # "还是后天吧" keeps the part of the day already said
    if not draft.get("time_kind"):
        return None
    return next_question({**new_slots, "draft": draft}, ctx, prefix=f"好的，时间是{when_text(draft)}。\n")


def start_proxy(slots: Mapping[str, Any], ctx: Context) -> Result:
    return result(PROXY_NAME, {**_without_offers(slots), "draft": {"for": {}}, "misses": 0},
                  "好的，帮家人下单。请问老人家怎么称呼？（如“王奶奶”）")


# A change of mind to another service in the middle of an order: 算了不要理发了 我要修水龙头 / 不是理发 是修水龙头 /
# 换成修水龙头. The words for the service no longer wanted are taken out; what is left must name another service.
_MIND_MARK = re.compile(r"算了|不要|不用|不想|不理|不剪|不是|换成|改成|改为|换个|还是")
_MIND_OLD = re.compile(r"(?:不要|不用|不想|不是|别)[^\s,，。；;]{0,8}?(?:了|啦|的|吧)+|"
                       r"(?:不要|不用|不想|不是|别)[^\s,，。；;是]{1,8}|不[\u4e00-\u9fff]{1,2}了|算了|罢了")
_MIND_LEAD = re.compile(r"^[\s,，。；;]*(?:那|那就|就)?(?:是|我要|我想要|我想|要|换成|改成|改为|换个|还是|帮我|给我)*")


def changed_service(state: str, slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """The draft switched to the service a change of mind names, keeping its time, address and phone; or None."""
    slots = {k: v for k, v in slots.items() if k != "switch"}  # (a change of mind also answers "要改成X吗？")
    draft = dict(slots.get("draft") or {})
    old = draft.get("service")
    if not old or state == ASK_SERVICE or not _MIND_MARK.search(text) or _moved_to(text, ctx):
        return None
    rest = _MIND_LEAD.sub("", _MIND_OLD.sub(" ", text).strip()).strip(" ，,。；;")
    if len(rest) < 2:
        return None
    code = named_service(rest, ctx)
    if not code or code == old:
        return None
    name, old_name = ctx.nlu.service_name(code), ctx.nlu.service_name(old)
    draft = {k: v for k, v in draft.items() if k != "details"}
    draft["service"] = code
    new_slots, left = _fill({**slots, "candidates": [], MORE: _more_without(slots, code)}, draft, rest, ctx)
    draft["details"] = (tidy_details(left) if len(left) > 2 else "") or name
    return next_question({**new_slots, "draft": draft}, ctx, prefix=f"好的，不要{old_name}了，改成【{name}】。\n")


def _more_without(slots: Mapping[str, Any], code: str) -> list[dict[str, Any]]:
    return [dict(m) for m in slots.get(MORE) or [] if m.get("service") != code]


# Another service named mid-order without a change word ("我要理发" while asked for the address): asked whether this
# order becomes that one, both are wanted, or neither; said with 还要 / 也要 / 顺便 it is one more, ordered next.
SWITCH_FROM = frozenset({ASK_TIME, ASK_ADDRESS, ASK_PHONE, CONFIRM, EDIT})
_ALSO = re.compile(r"还要|也要|也想|还想|顺便|顺带|另外|再(?=[把帮给来找请叫弄修理剪洗送陪教做搞])")
_BOTH = re.compile(r"^(?:两个|两样|两件|都)(?:都)?(?:要|下|做|弄|办)|^也要|^还要|^一起")
_CHANGE_IT = re.compile(r"^(?:改|换|改吧|换吧|改成|换成|改了吧|要改|就改|行 ?改)")
_KEEP_IT_WORDS = re.compile(r"^(?:不改|不换|不用改|不用换|别改|不要改|还是原来|原来的|不变|就原来)")


# How a request starts ("我要…", "帮我…", "还想…"): at the address question, where any words could be a place, only such
# a message is read as a service before the address question reads it.
_REQUEST_CUE = re.compile(r"^(?:那|那就|就|嗯|哦)?(?:我|俺|咱)?(?:还|也)?(?:要|想|想要|需要|得)|"
                          r"帮我|给我|找人|找个|来个|派个|麻烦|顺便|另外")


_PLACE = re.compile(r"栋|幢|楼|号|室|单元|小区|村|路|街|院|苑|园|巷|弄|区|大厦|公寓|宿舍")


def other_service(state: str, slots: Mapping[str, Any], text: str, ctx: Context, first: bool = False) -> Result | None:
    """A bare request for another service mid-order: the question (SWITCH), or with 还要 / 也要 one more; or None.

    Asked after the state's own question missed (the answer read as no time, no phone...); at the address question
    also ``first``, before it, for a message that starts as a request or has no word of a place, and names none."""
    draft = dict(slots.get("draft") or {})
    old = draft.get("service")
    if not old or state not in SWITCH_FROM or len(text) > 24 or ctx.nlu.phone(text) \
            or (state == ASK_PHONE and wrong_phone_words(text) is not None):  # a phone attempt: the phone check's
        return None
    if state == ASK_ADDRESS and first and (not (_REQUEST_CUE.search(text) or not _PLACE.search(text))
                                           or ctx.nlu.address(text, loose=True)):
        return None
    found = ctx.read_slots(text)
    if found.time.is_clear or found.address or found.phone or found.same_address_as_last:
        return None  # an answer with a service word in it, read as the answer
    code = named_service(text, ctx)
    if not code:
        return None
    name, old_name = ctx.nlu.service_name(code), ctx.nlu.service_name(str(old))
    if code == old:  # "我要理发" said again: the order under way is that one
        return next_question(slots, ctx, prefix=f"好的，正在帮您下【{name}】的单。\n")
    details = tidy_details(found.rest) if len(found.rest) > 2 else name
    if _ALSO.search(text):
        return _also(slots, code, details, ctx)
    back = state if state != EDIT else CONFIRM
    asked = {**slots, "switch": {"to": code, "details": details[:200], "back": str(back)}, "misses": 0}
    return result(SWITCH, asked, f"您正在下【{old_name}】的单。要把这单改成【{name}】吗？\n"
                  f"回复 1 改成{name}；2 两个都要（这单下好了接着下{name}）；0 不改，还是{old_name}。")


# A whole new request on the summary (or at a question) naming another service: "帮我妈约个修水管 她住幸福小区3栋101
# 电话… 明天上午" while a haircut waits to be confirmed. Never taken as corrections of this order (another person's
# address on it); the switch question, its own time, address and phone kept for whichever order it becomes.
OWN = "own"


def new_request(state: str, slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """The switch question for a request of another service said with a request's words ("帮我…", "我要…") and its own
    details (or at length); None for anything else (a correction, an answer to the question asked)."""
    draft = dict(slots.get("draft") or {})
    old = draft.get("service")
    if not old or state not in SWITCH_FROM or wrong_phone_words(text) is not None:
        return None
    found = ctx.read_slots(text)
    says = found.time.is_clear or bool(found.address) or bool(found.phone)
    if not (_ASKS.search(found.rest) or _REQUEST_CUE.search(found.rest)) or _moved_to(text, ctx) \
            or ctx.nlu.correction(text) is not None or _FIX_WORDS.search(text):  # "手机号改成138…": a correction
        return None
    m = _match(text, ctx)
    codes = [str(m.service)] if m.decision == "accept" and m.service else \
        menu_codes(m, text, ctx) if m.decision == "clarify" else []
    if len(codes) == 1 and codes[0] == old and state == CONFIRM and says:
        return _another_of_the_same(slots, draft, found, ctx)
    if len(codes) != 1 or codes[0] == old or (not says and len(text) <= 24):
        return None  # (a short bare "我要理发" is other_service's question, after the state's own answer)
    code = codes[0]
    own = _own_slots(found, ctx)
    name, old_name = ctx.nlu.service_name(code), ctx.nlu.service_name(str(old))
    rest = tidy_details(scrub(found.rest, own.get("address"), own.get("phone")))
    details = (rest if len(rest) > 2 else name)[:200]
    back = state if state != EDIT else CONFIRM
    asked = {**slots, "switch": {"to": code, "details": details, "back": str(back), OWN: own}, "misses": 0}
    return result(SWITCH, asked, f"您正在下【{old_name}】的单。要把这单改成【{name}】，还是两个都要？\n"
                  f"回复 1 改成{name}；2 两个都要（这单下好了接着下{name}）；0 不改，还是{old_name}。")


def _own_slots(found: Any, ctx: Context) -> dict[str, Any]:
    """The time, address and phone a new request said of its own (for the order it may become)."""
    own: dict[str, Any] = {}
    if found.time.is_clear and not is_past(found.time, ctx.now):
        own.update(_time_slots(found.time))
    if found.address:
        own["address"] = found.address[:200]
    if found.phone:
        own["phone"] = found.phone
    return own


_REQUEST_WORDS = re.compile(r"^(?:请|麻烦|能不能|能|可以|想|我想|我要|要|帮我|给我|帮忙|来|再|还)+")


def _another_of_the_same(slots: Mapping[str, Any], draft: Mapping[str, Any], found: Any,
                         ctx: Context) -> Result | None:
    """At the summary, a request of the same service with other things to do and its own time or place ("后天上午
    帮我修门锁 幸福小区1栋" while "帮我修水管" waits): asked whether it is a second order, never taken as a change of
    the one waiting (out9: the pipe job moved to the other day and the lock was lost)."""
    own = _own_slots(found, ctx)
    rest = tidy_details(scrub(found.rest, own.get("address"), own.get("phone")))
    core, old_core = _REQUEST_WORDS.sub("", rest), _REQUEST_WORDS.sub("", str(draft.get("details") or ""))
    if len(core) < 2 or core in old_core or old_core in core:
        return None  # the same thing said again with a new time or place: a change, as before
    code = str(draft.get("service"))
    asked = {**slots, "switch": {"to": code, "details": rest[:200], "back": CONFIRM, OWN: own}, "misses": 0}
    return result(SWITCH, asked, f"您正在下的这单是【{ctx.nlu.service_name(code)}】：{draft.get('details')}。"
                  f"“{rest}”是另一件事吗？\n回复 2 两个都要（这单下好了接着下一单）；"
                  f"1 把这单改成“{rest}”；0 不改。")


def _also(slots: Mapping[str, Any], code: str, details: str, ctx: Context,
          own: Mapping[str, Any] | None = None) -> Result:
    entry: dict[str, Any] = {"service": code, "details": details[:200], **({OWN: dict(own)} if own else {})}
    more = [*_more_without(slots, code), entry]
    old_name = ctx.nlu.service_name(str((slots.get("draft") or {}).get("service")))
    return next_question({**slots, MORE: more}, ctx, prefix=f"好的，先把这单【{old_name}】下好，接着帮您下"
                         f"【{ctx.nlu.service_name(code)}】。\n")


def on_switch(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    """The answer to "要把这单改成X吗？": 1 changed (time, address and phone kept), 2 both, 0 neither; anything else is
    taken as the answer to the question asked before."""
    switch = dict(slots.get("switch") or {})
    rest = {k: v for k, v in slots.items() if k != "switch"}
    code = switch.get("to")
    draft = dict(rest.get("draft") or {})
    if not code or not draft.get("service"):
        return next_question(rest, ctx)
    word = text.strip()
    pick = ctx.nlu.choice(word) if len(word) <= 5 else None
    name, old_name = ctx.nlu.service_name(str(code)), ctx.nlu.service_name(str(draft["service"]))
    named = ctx.nlu.match(word) if pick is None else None
    named_code = named.service if named is not None and named.decision == "accept" else None
    own = dict(switch.get(OWN) or {})  # the new request's own time, address and phone (new_request)
    if pick == 2 or _BOTH.search(word):
        return _also(rest, str(code), str(switch.get("details") or name), ctx, own)
    if word in ABORT or _KEEP_IT_WORDS.search(word) or said_no(word, ctx) or ctx.nlu.is_no(word) \
            or named_code == draft["service"]:  # "还是理发吧"
        return next_question(rest, ctx, prefix=f"好的，还是【{old_name}】。\n")
    if pick == 1 or said_yes(word, ctx) or _CHANGE_IT.search(word) or named_code == code:
        draft.update(service=code, details=switch.get("details") or name)
        if own:  # what the new request said replaces this order's (a phone or an address of its own)
            draft = {k: v for k, v in draft.items() if not (k in ("lat", "lng") and "address" in own)}
            draft.update(own)
            said = f"好的，这单改成【{name}】，按您刚才说的时间、地址和电话。\n"
        else:
            said = f"好的，这单改成【{name}】，已经说好的时间、地址和电话都留着。\n"
        return next_question({**rest, "draft": draft, MORE: _more_without(rest, str(code))}, ctx, prefix=said)
    if named_code is not None:  # a third service: the question again
        return retry(state, slots, ctx, f"要把这单改成【{name}】，回复 1；两个都要回复 2；不改回复 0。")
    back = str(switch.get("back") or CONFIRM)
    if back in STATE_HANDLERS and back != SWITCH:
        return STATE_HANDLERS[back](back, rest, inc, ctx, text) or next_question(rest, ctx)
    return next_question(rest, ctx)


def on_proxy_name(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    # "我妈姓刘" / "她姓刘": 刘阿姨 (the family word said when the proxy order began gives the title)
    name = relative_name(text, slots.get(PROXY_TITLE)) or text.strip()
    if not 1 <= len(name) <= 20 or ctx.nlu.phone(name):
        return retry(state, slots, ctx, "请说老人家的称呼，比如“王奶奶”。")
    draft = dict(slots.get("draft") or {})
    draft["for"] = {"name": name}
    mine = f"\n用您自己的号码（{mask_phone(ctx.phone_on_file)}）请回复 1。" if ctx.phone_on_file else ""
    return result(PROXY_PHONE, {**slots, "draft": draft, "misses": 0}, f"{name}的联系电话是多少？{mine}")


def on_proxy_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    phone = ctx.nlu.phone(text) or parse_phone_answer(text)
    if not phone and ctx.phone_on_file and text.strip() == "1":  # the caller's own number, offered
        phone = ctx.phone_on_file
    if not phone:
        said = said_at_phone(slots, text, ctx) or _request_at_phone(state, slots, text, ctx) \
            or kept_aside(state, slots, text, ctx, "phone")
        if said is not None:  # "她要理发 后天上午": the order, the phone asked later; another request; an address
            return said
        return ask_phone_again(state, slots, ctx, text, "请发一个手机或座机号码，比如 13800138000。")
    draft = dict(slots.get("draft") or {})
    draft["for"] = {**draft.get("for", {}), "phone": phone}
    if phone == ctx.phone_on_file:  # (the caller's own number given as the contact: theirs too)
        draft["phone"] = phone
    return next_question({**slots, "draft": draft}, ctx, prefix="记下了。")


def on_service(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    codes: list[str] = list(slots.get("candidates") or [])
    if codes:
        pick = ctx.nlu.choice(text) if len(text) <= 5 else None
        if pick is None and len(codes) == 1 and said_yes(text, ctx):
            pick = 1
        if pick is not None and 1 <= pick <= len(codes):
            return _with_service(slots, codes[pick - 1], str((slots.get("draft") or {}).get("details") or ""), ctx)
        if text.strip() in ABORT:  # "0": no service after all
            return idle("好的，先不下单了。需要时再找我，回复“菜单”看看能做什么。", slots)
        if _OUT_OF_RANGE.fullmatch(text.strip()):  # "9" / "-1" to a menu of three
            return retry(state, slots, ctx, f"请回复 1-{len(codes)} 之间的数字；都不是的话，换个说法再说一次。"
                         if len(codes) > 1 else menu_question(codes, ctx))
        if len(codes) == 1 and len(text.strip()) <= 4 and said_no(text, ctx):  # "您是要【维修服务】吗？" "不是"
            return result(state, {**slots, "candidates": [], "misses": 0},
                          "好的。您需要什么服务？直接说就行，比如“理发”“修水管”“陪我去医院”。")
    several = services_said(text, ctx)
    if several:
        return _with_several({**slots, "draft": {**(slots.get("draft") or {}), "details": None}}, several, text, ctx)
    m = _match(text, ctx)
    offered = menu_codes(m, text, ctx) if m.decision == "clarify" else []
    if (m.decision == "accept" and m.service) or (len(offered) == 1 and _says_a_slot(text, ctx)):
        # the service named, with what this message says replacing what was kept (its own address, not the last)
        found = ctx.read_slots(text)
        said = {*(TIME_KEYS if found.time.is_clear else ()), *(("address", "lat", "lng") if found.address else ()),
                *(("phone",) if found.phone else ())}
        draft = {k: v for k, v in (slots.get("draft") or {}).items() if k not in said}
        return _with_service({**slots, "draft": {**draft, "details": None}}, str(m.service or offered[0]), text, ctx)
    if codes:
        kept_too = _kept_at_menu(state, slots, codes, text, ctx)
        if kept_too is not None:
            return kept_too
    if offered:
        return _clarify(slots, offered, text, ctx)
    aside = kept_aside(state, slots, text, ctx, "service")  # "幸福小区3栋101" asked for the service: kept
    if aside is not None:
        return aside
    return retry(state, slots, ctx, "您需要什么服务？比如“理发”“修水管”“陪我去医院”。")


_OUT_OF_RANGE = re.compile(r"[-－—]?\d{1,3}")


def _kept_at_menu(state: str, slots: Mapping[str, Any], codes: list[str], text: str, ctx: Context) -> Result | None:
    """At "您要的是哪一项？", an answer that says a time, an address or a phone ("明天上午"), or corrects one ("地址错了
    是幸福小区6栋105"): kept in the draft, and the service asked again in a word; None when it says none."""
    if not (_says_a_slot(text, ctx) or ctx.nlu.correction(text) is not None):
        return None
    draft = dict(slots.get("draft") or {})
    new_slots, changed = _apply_correction(dict(slots), draft, text, ctx)
    if not changed:
        return None
    new_slots = {**new_slots, "draft": draft, "misses": 0}
    if draft.get("service"):  # the correction named the service too
        return next_question({**new_slots, "candidates": []}, ctx, prefix="好的，记下了。\n")
    return result(state, new_slots, "好的，记下了。还要问一下：" + menu_question(codes, ctx))


def on_details(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if len(text.strip()) < 2:
        return retry(state, slots, ctx, "请简单说说具体要做什么。")
    corrected = _correct_elsewhere(state, slots, text, ctx, "details")
    if corrected is not None:
        return corrected
    # only an address, a phone or a time: kept
    if len(ctx.read_slots(text).rest) < 2:
        aside = kept_aside(state, slots, text, ctx, "details")
        if aside is not None:
            return aside
    draft = dict(slots.get("draft") or {})
    new_slots, rest = _fill(dict(slots), draft, text, ctx)
    draft["details"] = (rest if len(rest) >= 2 else text.strip())[:200]
    return next_question({**new_slots, "draft": draft}, ctx)


def on_time(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    offers = list(slots.get("time_offers") or [])
    if offers:
        pick = ctx.nlu.choice(text) if len(text) <= 5 else None
        if pick is None and len(offers) == 1 and said_yes(text, ctx):
            pick = 1
        if pick is not None and 1 <= pick <= len(offers):
            chosen = {k: v for k, v in offers[pick - 1].items() if k != "label"}
            draft = {**(slots.get("draft") or {}), **chosen}
            return next_question({**slots, "draft": draft}, ctx)
    corrected = _correct_elsewhere(state, slots, text, ctx, "time")
    if corrected is not None:
        return corrected
    body = _corrected_value(text, ctx, lambda said: ctx.read_time(said).is_clear)
    draft = dict(slots.get("draft") or {})
    when = ctx.read_time(body)
    if not when.is_clear:
        aside = kept_aside(state, slots, text, ctx, "time")  # an address or a phone said at the time question: kept
        if aside is not None:
            return aside
        if _WAITING_FOR.search(text):  # 等俺儿子下班回来: a time, but not one a volunteer can come at
            return result(state, slots, "好的。大概几点呢？比如“今天晚上六点”或“明天下午三点”。")
        if when.instead is not None:  # 一个钟头以后 at night: the morning offered ("改成明天上午可以吗？")
            offered = {**_offer_instead(slots, when, ctx), "misses": 0}
            return result(state, offered, _time_question(offered))
        if when.question:  # 昨天 / 下周 / 月初 / a day word typed wrong: its own question
            return result(state, slots, when.question)
        return retry(state, slots, ctx, "什么时间方便？比如“明天上午九点”“周六下午三点”，或“越快越好”。")
    same_day = _offer_on_day(offers, when)
    if same_day is not None:  # "明天吧" after "现在已经过了今天10:00": the offer of that day, at the time said
        return next_question({**slots, "draft": {**draft, **same_day}}, ctx)
    for key in TIME_KEYS:
        draft.pop(key, None)
    new_slots, _rest = _fill(dict(slots), draft, body, ctx)
    return next_question({**new_slots, "draft": draft}, ctx)


# A time said by what happens then (等儿子下班回来, 吃完饭以后, 忙完了): ask for the hour.
_WAITING_FOR = re.compile(r"下班|放学|回来|回家|吃完|吃过|忙完|办完|睡醒|午觉|有人在家")


def _offer_on_day(offers: list[dict[str, Any]], when: TimeResult) -> dict[str, Any] | None:
    """The one offered time on the day a day-only answer names ("明天吧"), or None."""
    if not offers or not day_only(when) or when.start is None:
        return None
    day = when.start.astimezone(SHANGHAI).date()
    fits = [o for o in offers if o.get("start") and datetime.fromisoformat(str(o["start"])).astimezone(SHANGHAI).date()
            == day]
    return {k: v for k, v in fits[0].items() if k != "label"} if len(fits) == 1 else None


def fill_location(slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    address = (inc.label or "")[:LABEL_CHARS] or f"位置({inc.latitude},{inc.longitude})"
    draft = {**(slots.get("draft") or {}), "address": address, "lat": inc.latitude, "lng": inc.longitude}
    return next_question({**slots, "draft": draft}, ctx, prefix="收到位置。")


def _accepts_offer(text: str, ctx: Context) -> bool:
    return said_yes(text, ctx) or text.strip() in USE_OFFERED or _OFFER_AROUND.sub("", text.strip()) in USE_OFFERED


ADDRESS_PART = "address_part"  # an address said without its door ("白莲小区"): the door asked for next
DOOR_ASKED = "door_asked"  # the door was asked for once: what is said next is taken as the address
_AS_IS = re.compile(r"^(?:就这样|就这些|就这|就是这|就是这样|没有|没了|没有了|没门牌|没有门牌|不知道|就这个|就写这个|"
                    r"这就是|就行|可以了|好了)")


def _door_answer(slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """The answer to "几栋几单元几号？" after an address without its door: the door added ("3栋"), the address as
    it was ("就这样"), or a whole new address (None: read as usual)."""
    part = str(slots.get(ADDRESS_PART) or "")
    if not part:
        return None
    rest = {k: v for k, v in slots.items() if k != ADDRESS_PART}
    draft = dict(slots.get("draft") or {})
    word = text.strip()
    if re.fullmatch(r"\d{1,4}", word):  # "1" here may be 1栋 or a door, not "yes": asked, nothing taken
        return result(ASK_ADDRESS, slots, f"“{word}”是{word}栋（{word}号楼），还是门牌号？请说完整一点，比如"
                      f"“{word}栋2单元301”；没有门牌号的话回复“就这样”。")
    if _AS_IS.match(word) or said_no(word, ctx) or (said_yes(word, ctx) and len(word) <= 4):
        return next_question({**rest, "draft": {**draft, "address": part}}, ctx)
    door = ctx.nlu.address(word, loose=True)
    if door and not names_place(door) and len(door) <= MAX_SPAN:
        phone = ctx.nlu.phone(word)  # "八栋三单元六零二 电话是幺三九…": the phone said with it is kept (out10)
        if phone and not draft.get("phone"):
            draft["phone"] = phone
        return next_question({**rest, "draft": {**draft, "address": ctx.nlu.merge_address(part, door)[:200]}}, ctx)
    return None


# At the offered address, the same place in words USE_OFFERED lacks: 还送那 / 对的就那里 / 送原来那 / 俺还住那 /
# 地址没变 / 跟上会一样 (上回 typed with a homophone).
_SAME_PLACE = re.compile(r"^(?:嗯+|对的?|是的?|好的?|行)?[\s,，]*(?:我|俺|咱)?(?:还是|还|就是|就)?(?:送|去|来|住)?"
                         r"(?:到|在)?(?:那|那里|那儿|那边|那个地方|原来那|原来那里|原来的地方|以前那|上次那|上回那)"
                         r"(?:里|儿|边|个)?[\s,，]*(?:吧|啊|呀|的|就行|就好)*$|"
                         r"^(?:地址|地方|住的地方)?(?:没变|没换|不变|没搬|没搬家)(?:的|了|呀|啊)*$|"
                         r"^(?:跟|和|同)?(?:上会|上回|上次|上一回|上一次)(?:的|那个)?(?:一样|那样|那里|那儿)(?:的|吧|啊)*$")


# "不是的 换个地方" / "不在那了" / "换地方了": the offered address declined, no new one said yet.
_NOT_THERE = re.compile(r"^(?:不是|不对|不要|不用|不在|不住|换|别)")


def _offer_answer(slots: Mapping[str, Any], offer: str, text: str, ctx: Context) -> Result | None:
    """The answer to "还是送到…吗？": yes in any words ("是", "老地方", "跟上回一样", "对就那") takes the offered
    address, a correction of part of it ("不是 是6号楼", "不是3栋是6栋") changes it as at the summary; None for
    anything else (a new address said, a no: read as usual)."""
    draft = dict(slots.get("draft") or {})
    if _accepts_offer(text, ctx) or ctx.nlu.same_address_as_last(text) or _SAME_PLACE.match(text.strip()):
        # taken as the resident knows it: no door asked for again (it was, when it was first given); a phone said
        # with the yes ("跟上回一样 电话138…") kept too
        phone = None if draft.get("phone") else ctx.nlu.phone(text)
        taken = {**slots, DOOR_ASKED: True, "draft": {**draft, "address": offer, **({"phone": phone} if phone else {})}}
        return next_question(taken, ctx, prefix=f"好的，就送到{offer}。\n")
    door = ctx.nlu.address(text, loose=True)
    fixes = ctx.nlu.correction(text) is not None or bool(_SWAP.search(text.strip()))
    if not fixes and door and not names_place(door) and len(text.strip()) <= MAX_SPAN and not ctx.nlu.phone(text) \
            and not ctx.read_time(text).is_clear:
        text, fixes = f"不对 是{door}", True  # "6号楼" alone: a part of the offered address, changed
    if not fixes:
        return None
    # "不是 是6号楼" / "不是3栋是6栋" / "门牌是302": the offered address with that part changed, as at the summary
    offered = {**draft, "address": offer}
    new_slots, changed = _apply_correction(dict(slots), offered, text, ctx)
    if not changed or offered.get("address") == offer or not has_door(str(offered.get("address") or "")):
        return None
    fixed = str(offered["address"])
    return next_question({**new_slots, "draft": offered}, ctx, prefix=f"好的，地址改成{fixed}。\n")


# "不是 我搬了 住幸福小区9栋" / "搬家了 现在住…": the resident has moved; the place said is the address (the saved
# one, or one just taken, is out of date), never a request for the moving service.
_MOVED = re.compile(r"搬家了|搬了家|我搬了|搬了|搬走了|搬过来了|搬过去了|现在住|新家在|换地方了|不住那")


def _moved_to(text: str, ctx: Context) -> str | None:
    """The new home a message about having moved names (an estate or a street, not only a door), or None."""
    if not _MOVED.search(text):
        return None
    address = ctx.nlu.address(text)
    return address if address and names_place(address) else None


def _moved_address(slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """"搬家了 现在住幸福小区2栋" after the address was taken (asked for the phone): the address replaced."""
    moved = _moved_to(text, ctx)
    draft = dict(slots.get("draft") or {})
    if moved is None or not draft.get("address") or ctx.nlu.phone(text):
        return None
    draft = {k: v for k, v in draft.items() if k not in ("lat", "lng")}
    draft["address"] = moved[:200]
    return next_question({**slots, "draft": draft}, ctx, prefix=f"好的，地址改成{moved[:200]}。\n")


def on_address(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    door = _door_answer(slots, text, ctx)
    if door is not None:
        return door
    asked = slots  # (with the estate whose door was asked for: asked again after a phone said instead)
    slots = {k: v for k, v in slots.items() if k != ADDRESS_PART}
    offer = slots.get("address_offer")
    if offer:
        answered = _offer_answer(slots, str(offer), text, ctx)
        if answered is not None:
            return answered
    if offer and (said_no(text, ctx) or (_NOT_THERE.match(text.strip()) and not ctx.nlu.address(text, loose=True))):
        return next_question({k: v for k, v in slots.items() if k != "address_offer"}, ctx, prefix="好的。")
    loc = slots.get("location")
    if not offer and loc and loc.get("label") and _accepts_offer(text, ctx):
        draft = {**(slots.get("draft") or {}), "address": loc["label"], "lat": loc.get("lat"), "lng": loc.get("lng")}
        return next_question({**slots, "draft": draft}, ctx)
    if not ctx.nlu.address(text, loose=True):  # a phone said at the address question: kept, the address asked again
        aside = kept_aside(state, asked, text, ctx, "address")
        if aside is not None:
            return aside
    corrected = _correct_elsewhere(state, slots, text, ctx, "address")
    if corrected is not None:
        return corrected
    when = ctx.read_time(text)
    if when.is_clear and (slots.get("draft") or {}).get("time_kind") and not ctx.nlu.address(text, loose=True):
        # "就明天中午" asked for the address: the time said again, changed; the address is still to come
        draft = dict(slots.get("draft") or {})
        new_slots = _apply_time(dict(slots), draft, when, ctx)
        return next_question({**new_slots, "draft": draft}, ctx, prefix="好的，时间改了。")
    body = _corrected_value(text, ctx, lambda said: bool(ctx.nlu.address(said)))
    draft = dict(slots.get("draft") or {})
    new_slots, rest = _fill(dict(slots), draft, body, ctx, loose_address=True, at_address=True)
    if not draft.get("address") and ctx.nlu.same_address_as_last(body):
        if new_slots.get("address_offer"):
            return next_question({**new_slots, "draft": draft}, ctx)
        return result(state, {**new_slots, "draft": draft}, NO_SAVED_WORDS + "请说一下小区、楼栋和门牌号，"
                      "比如“幸福小区3栋2单元501”，也可以发送位置。")
    if not draft.get("address"):
        guess = rest.strip()
        if MAX_SPAN >= len(guess) >= 4 and not guess.isdigit() and ctx.nlu.yes_no(guess) is None \
                and looks_like_address(guess):
            draft["address"] = guess[:200]
    if not draft.get("address"):
        return _not_an_address(state, asked, text, ctx)
    return next_question({**new_slots, "draft": draft}, ctx)


ADDRESS_AGAIN = "请说详细地址：小区、楼栋、门牌号，比如“幸福小区3栋2单元501”。"
# A question said at the address question ("那现在怎么办", "要多久"): answered shortly, the address asked again.
_QUESTION = re.compile(r"怎么办|怎么弄|咋办|咋弄|怎么|咋|啥|什么|为什么|多久|多少|哪|吗|呢$|[?？]")


def _not_an_address(state: str, slots: Mapping[str, Any], text: str, ctx: Context) -> Result:
    """Words at the address question that are no address ("咋还没来 催一下", "谢谢 那现在怎么办"): never sent to a
    volunteer as one. A nudge is passed on (for an order already sent), a question answered shortly, and the address
    asked again, counted as a miss."""
    part = str(slots.get(ADDRESS_PART) or "")  # the estate said before, its door asked for: kept, asked again
    again = f"{part}几栋几单元几号？（没有门牌号的话回复“就这样”）" if part else ADDRESS_AGAIN
    asked = retry(state, slots, ctx, again)
    service = (slots.get("draft") or {}).get("service")
    this = f"这张{ctx.nlu.service_name(str(service))}订单" if service else "这张订单"
    if asks_hurry(text):
        note = f"（{this}还没提交，要先说地址才能派人。{again}）"
        return result(asked.state, asked.slots, None,
                      actions=(Action("nudge_volunteer"), Action("note", {"text": note})))
    if _QUESTION.search(text):
        said = f"{this}还没提交：说一下地址和电话，提交后就派志愿者上门；别的事想问工作人员，回复“人工”。\n"
        return replace(asked, reply=said + str(asked.reply).removeprefix("没太明白。"))
    return asked


# A new request typed at a phone question ("另外家里水管也漏了 能修吗", "顺便问下 能帮我买点菜吗"): not a phone. As at
# the address, time and summary questions, the order under way is kept and the resident is told what happens with the
# request: another service is ordered next (or asked about: other_service), more of the same service goes into this
# order's 内容, and anything else is for after this order; the phone is asked again, no miss counted. A message with
# a run of digits is a phone attempt and goes to the phone check.
_ASKS_TOO = re.compile(r"还有|还想|也想|也要|也漏|也坏|也堵|也得|也需要|^还要|能.{0,10}吗|可以.{0,10}吗|行不行|"
                       r"问(?:一)?下|问问|对了")
_SAME_MORE = re.compile(r"另外|顺便|顺带|还有|也")  # more of the same service: "另外家里水管也漏了" at a repair
_DIGITS = re.compile(r"[0-9０-９]{3,}")


def _request_at_phone(state: str, slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """The answer to a new request said at a phone question (the order kept, the phone asked again); None when the
    text is no request or is a phone attempt."""
    draft = dict(slots.get("draft") or {})
    old = draft.get("service")
    if not old or _DIGITS.search(text) or wrong_phone_words(text) is not None:
        return None
    if not (_REQUEST_CUE.search(text) or _ASKS.search(text) or _ALSO.search(text) or _ASKS_TOO.search(text)):
        return None
    code = named_service(text, ctx)
    old_name = ctx.nlu.service_name(str(old))
    if code is not None and code != old:
        if state == ASK_PHONE and not _ALSO.search(text):
            return None  # "我想理个发" alone: other_service asks whether this order becomes that one
        details = (tidy_details(text) if len(text) > 2 else "") or ctx.nlu.service_name(code)
        if state == ASK_PHONE:
            return _also(slots, code, details, ctx)
        more = [*_more_without(slots, code), {"service": code, "details": details[:200]}]
        return _phone_again(state, {**slots, MORE: more}, ctx,
                            f"好的，先把这单【{old_name}】下好，接着帮您下【{ctx.nlu.service_name(code)}】。\n")
    if code == old and _SAME_MORE.search(text):
        added = tidy_details(text)
        details = str(draft.get("details") or old_name)
        if added and added not in details:
            draft["details"] = f"{details}；{added}"[:200]
        return _phone_again(state, {**slots, "draft": draft}, ctx,
                            f"好的，这件事也记在这单【{old_name}】里，志愿者上门时一起看。\n")
    if code == old:
        return None
    return _phone_again(state, slots, ctx, f"好的，您说的这件事，等这单【{old_name}】下好后再跟我说一遍，我接着帮您办；"
                        "这单不会丢。\n")


def _phone_again(state: str, slots: Mapping[str, Any], ctx: Context, prefix: str) -> Result:
    """The phone question asked again after something else was answered (no miss counted)."""
    if state == PROXY_PHONE:
        name = ((slots.get("draft") or {}).get("for") or {}).get("name") or "老人家"
        return result(state, {**slots, "misses": 0}, f"{prefix}现在还差{name}的联系电话，请发手机或座机号码。")
    return next_question(slots, ctx, prefix=prefix)


def on_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    proxy_phone = ((slots.get("draft") or {}).get("for") or {}).get("phone")
    if ctx.phone_on_file and _accepts_offer(text, ctx) and not proxy_phone:
        phone: str | None = ctx.phone_on_file
    else:
        corrected = _correct_elsewhere(state, slots, text, ctx, "phone") or _moved_address(slots, text, ctx)
        if corrected is not None:
            return corrected
        phone = ctx.nlu.phone(text) or parse_phone_answer(text)  # (a landline without its area code: 66881234)
    proxy: Mapping[str, Any] = (slots.get("draft") or {}).get("for") or {}
    theirs, own = relative_phones(text) if proxy and not proxy_phone else (None, None)
    if theirs:  # 代点单, "她电话是139…": the relative's contact; the caller's own is the file's or asked once
        draft = {k: v for k, v in (slots.get("draft") or {}).items() if k != "phone"}
        draft["for"] = {**proxy, "phone": theirs}
        if own or ctx.phone_on_file:
            draft["phone"] = own or ctx.phone_on_file
        who = proxy.get("name") or "老人家"
        return next_question({**slots, "draft": draft}, ctx, prefix=f"记下了，{who}的电话。\n")
    if not phone and declines_own_phone(slots, text):  # 代点单: the caller's own phone not left
        draft = {**(slots.get("draft") or {}), "no_phone": True}
        return next_question({**slots, "draft": draft}, ctx, prefix="好的，就用老人家的电话联系。\n")
    if not phone and _NO_PHONE.search(text) and not (slots.get("draft") or {}).get("for"):
        draft = {**(slots.get("draft") or {}), "no_phone": True}
        return next_question({**slots, "draft": draft}, ctx,
                             prefix="没关系，不留电话也可以。志愿者会通过这个公众号给您发消息，需要时社区工作人员帮忙安排。\n")
    if not phone:
        door = _more_door(slots, text, ctx) or said_at_phone(slots, text, ctx) \
            or kept_aside(state, slots, text, ctx, "phone")  # an address said again at the phone question: kept
        if door is not None:
            return door
        if re.fullmatch(r"\s*(?:[0-9]|好|好的|确认|对|是|可以|行)\s*", text):  # "1" as if confirming: not a miss
            return result(state, slots, "还差一个联系电话，订单才能提交。请发手机或座机号码，比如 13800138000；"
                          "没有电话也可以，回复“没有电话”。")
        asked = _request_at_phone(state, slots, text, ctx)  # "另外家里水管也漏了 能修吗": a request, not a phone
        if asked is not None:
            return asked
        return ask_phone_again(state, slots, ctx, text, "请发一个手机或座机号码，比如 13800138000。")
    draft = {k: v for k, v in (slots.get("draft") or {}).items() if k != "no_phone"}
    draft["phone"] = phone
    return next_question({**slots, "draft": draft}, ctx)


SAVED_TAKEN = "saved_taken"  # the saved address taken from "老地方" before the address question (said back once)
DUP_OF = "dup_of"  # the open order the one being confirmed repeats: "再下一单吗？" was asked


SUBMITTED_KEPT = 3  # how many of the last submitted orders the dialogue remembers


def _submitted(slots: Mapping[str, Any], draft: Mapping[str, Any]) -> list[dict[str, str]]:
    """The remembered submissions with this draft's added (the newest last)."""
    mine = [dict(x) for x in slots.get(SUBMITTED_SLOT) or [] if isinstance(x, Mapping)]
    return [*mine, {"service": str(draft.get("service")), "when": when_text(draft)}][-SUBMITTED_KEPT:]


def _same_order(slots: Mapping[str, Any], draft: Mapping[str, Any], ctx: Context) -> tuple[int | None, str] | None:
    """The sender's open order for the same service at the same time as the draft: (its number, its time); the
    number None when the edge did not read the open orders and the dialogue only remembers submitting one. None:
    no such order."""
    when = when_text(draft)
    if ctx.open_orders is not None:
        same = next((o for o in ctx.open_orders if o.service == draft.get("service") and o.when == when), None)
        return None if same is None else (same.id, same.when)
    said = any(x.get("service") == draft.get("service") and x.get("when") == when
               for x in slots.get(SUBMITTED_SLOT) or [] if isinstance(x, Mapping))
    return (None, when) if said else None


def _on_duplicate(slots: Mapping[str, Any], ctx: Context, word: str) -> Result | None:
    """The answer to "您已经约过了…还要再下一单吗？": 1 submits it, 0 keeps only the first; else None."""
    dup = slots.get(DUP_OF)
    if dup is None:
        return None
    rest = {k: v for k, v in slots.items() if k != DUP_OF}
    if word in ABORT or said_no(word, ctx) or ctx.nlu.is_no(word):
        first = f"订单{dup}" if dup else "之前那一单"
        return idle(f"好的，不再重复下单了。{first}还在，有志愿者接单会马上告诉您。", rest)
    if said_yes(word, ctx) or word in ("再下", "再下一单", "还要", "要"):
        return _submit({**rest, "dup_ok": True}, ctx, dict(rest.get("draft") or {}))
    return None


def _more_door(slots: Mapping[str, Any], text: str, ctx: Context) -> Result | None:
    """"3栋" sent right after the address (asked for the phone): the rest of the address, added to it."""
    draft = dict(slots.get("draft") or {})
    address = str(draft.get("address") or "")
    door = ctx.nlu.address(text.strip(), loose=True) if len(text) <= 20 else None
    if not address or not door or names_place(door) or door in address or ctx.nlu.phone(text):
        return None
    merged = ctx.nlu.merge_address(address, door)[:200]
    return next_question({**slots, "draft": {**draft, "address": merged}}, ctx, prefix=f"好的，地址是{merged}。\n")


def on_confirm(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    word = text.strip()
    dup = _on_duplicate(slots, ctx, word)
    if dup is not None:
        return dup
    if said_yes(word, ctx):
        draft = dict(slots.get("draft") or {})
        same = None if slots.get("dup_ok") else _same_order(slots, draft, ctx)
        if same is not None:  # the same order twice in a row (a resend, a second try): asked, never silently
            name = ctx.nlu.service_name(str(draft.get("service")))
            which = f"订单{same[0]}" if same[0] is not None else "同样的单"
            return result(state, {**slots, DUP_OF: same[0] or 0, "misses": 0},
                          f"您已经约过了（{which}：{name}，{same[1]}），还要再下一单吗？\n"
                          "回复 1 再下一单，0 不用了。")
        return _submit(slots, ctx, draft)
    return _not_yes(state, slots, ctx, word)


def _submit(slots: Mapping[str, Any], ctx: Context, draft: dict[str, Any]) -> Result:
    """The order sent to the domain; with more services said, the next one offered after it."""
    submit = Action("submit_order", draft)
    slots = {**slots, SUBMITTED_SLOT: _submitted(slots, draft)}
    more = list(slots.get(MORE) or [])
    if not more:
        return idle(None, slots, actions=(submit,))
    offer = {"more": more, "from": {k: draft[k] for k in CARRIED if k in draft}, "at": ctx.now.isoformat()}
    first = ctx.nlu.service_name(str(more[0]["service"]))
    later = f"（之后还有{_names(more[1:], ctx)}。）" if len(more) > 1 else ""
    same = "用您说的那个时间、地址和电话" if more[0].get(OWN) else "时间、地址和电话跟这单一样"
    ask = f"还要下【{first}】的单吗？{same}。回复 1 接着下，0 不用了。{later}"
    return result(State.IDLE, {**kept(slots), NEXT_ORDER: offer}, None,
                  actions=(submit, Action("note", {"text": ask, "unless_refused": "submit_order"})))


_CALLED_OFF = re.compile(r"(?:(?:不要了|算了|不下了|不约了|不弄了|取消吧?)[\s,，。!！吧啊呀]*){2,}")


def _not_yes(state: str, slots: Mapping[str, Any], ctx: Context, word: str) -> Result:
    """The summary answered with anything but yes: 2 edit, 0 cancel, or a correction said straight out."""
    if word in NO_CHANGE or said_no(word, ctx):
        return result(EDIT, {**slots, "misses": 0}, "要改哪一项？\n" + "\n".join(
            f"{n} {label}" for n, (_k, label) in EDIT_CHOICES.items()))
    if word in ABORT or _CALLED_OFF.fullmatch(word):  # "不要了 算了": called off in more than one word
        return idle("好的，订单已取消，没有提交。", slots)
    # a correction said straight out ("地址不对 是…", "改成后天上午", "不是明天 是后天"): apply what can be read from it
    draft = dict(slots.get("draft") or {})
    fix = ctx.nlu.correction(word)
    if fix is not None and fix.slot in ("address", "phone", "time", "details") and not fix.value:
        return next_question({**slots, "draft": _forgotten(draft, str(fix.slot))}, ctx, prefix="好的，")
    if fix is not None and fix.slot == "phone" and not ctx.nlu.phone(fix.value):
        wrong = _wrong_phone(slots, fix.value)
        if wrong is not None:
            return wrong
    new_slots, changed = _apply_correction(dict(slots), draft, word, ctx)
    if changed:
        return next_question({**new_slots, "draft": draft}, ctx, prefix="已修改。")
    return retry(state, slots, ctx, "请回复 1 确认，2 修改，0 取消。")


# -- corrections -------------------------------------------------------------------------------------


# "是9栋不是8栋" / "不是8栋 是18栋": one part of the door said wrong; the rest of the address stays.
_SWAP = re.compile(r"(?:^|[\s,，])是?(?P<new>[^\s,，]+?)[\s,，]*(?:而)?不是(?P<old>[^\s,，]+?)"
                   r"[\s,，]*(?:吧|啊|呀|了)?$|"
                   r"不是(?P<old2>[^\s,，]+?)[\s,，]*(?:而)?是(?P<new2>[^\s,，]+?)[\s,，]*(?:吧|啊|呀|了)?$")


def _swapped_address(text: str, draft: Mapping[str, Any], ctx: Context) -> str | None:
    """The draft's address with the part said wrong replaced ("是9栋不是8栋"), or None."""
    address = str(draft.get("address") or "")
    m = _SWAP.search(text.strip())
    if not address or not m:
        return None
    new, old = (m.group("new"), m.group("old")) if m.group("new") else (m.group("new2"), m.group("old2"))
    if not new or not old or old not in address or not ctx.nlu.address(new, loose=True):
        return None
    if ctx.read_time(new).is_clear \
            and not re.search(r"栋|幢|楼|单元|室|号院|座|门", new):
        return None
    return address.replace(old, new, 1)


def _correct_elsewhere(state: str, slots: Mapping[str, Any], text: str, ctx: Context, asking: str) -> Result | None:
    """In a question about one slot, a correction that names another ("电话换成…" while asked for the address), or
    says what it is not ("不是明天 是后天" while asked for the address, "是18栋 不是8栋" while asked for the phone)."""
    draft = dict(slots.get("draft") or {})
    swapped = _swapped_address(text, draft, ctx) if asking != "address" else None
    if swapped is not None:
        return next_question({**slots, "draft": {**draft, "address": swapped[:200]}}, ctx, prefix="已修改。")
    fix = ctx.nlu.correction(text)
    if fix is None or not fix.value:
        return None
    slot = fix.slot or (_slot_of(fix.value, ctx) if fix.old else None)
    if slot in (None, asking):
        return None
    draft = dict(slots.get("draft") or {})
    new_slots, changed = _apply_slot(dict(slots), draft, str(slot), fix.value, ctx)
    if not changed:
        return _wrong_phone(slots, fix.value) if slot == "phone" else None
    return next_question({**new_slots, "draft": draft}, ctx, prefix="已修改。")


_SLOT_WORDS_SAID = {"address": "地址", "phone": "电话", "time": "时间"}


def kept_aside(state: str, slots: Mapping[str, Any], text: str, ctx: Context, asking: str) -> Result | None:
    """At any question, an answer that is plainly another slot (an address at the time question, a phone at the
    address question, "不对 是6号楼" after the address was given): kept for that slot, said so in a word ("地址记下了"),
    and the question asked again (no miss counted; an offer made stays offered). None when the text says no other
    slot. ``asking``: the slot of the question ("service" and "details" ask for none of these)."""
    if asking == "phone" and wrong_phone_words(text) is not None:  # a phone with digits missing: said so first
        return None
    draft = dict(slots.get("draft") or {})
    found = ctx.read_slots(text)
    new_slots = dict(slots)
    kept: list[str] = []
    changed: list[str] = []
    if asking != "address":
        old = str(draft.get("address") or "")
        address = found.address
        fix = ctx.nlu.correction(text) if not address and old else None
        if not address and fix is not None and fix.value and fix.slot in (None, "address") \
                and _slot_of(fix.value, ctx) == "address":  # "不对 是6号楼": part of the address given, changed
            address = ctx.nlu.merge_address(old, ctx.nlu.address(fix.value, loose=True) or fix.value)
        if address:
            draft = {k: v for k, v in draft.items() if k not in ("lat", "lng")}
            draft["address"] = address[:200]
            (changed if old and old != draft["address"] else kept).append("address")
    if asking != "phone" and found.phone:
        (changed if draft.get("phone") and draft["phone"] != found.phone else kept).append("phone")
        draft = {k: v for k, v in draft.items() if k != "no_phone"}
        draft["phone"] = found.phone
    if asking != "time" and found.time.is_clear and not is_past(found.time, ctx.now):
        (changed if draft.get("time_kind") else kept).append("time")
        new_slots = _apply_time(new_slots, draft, found.time, ctx)
    if not kept and not changed:
        return None
    words = [f"{_SLOT_WORDS_SAID[k]}记下了" for k in kept[:1]] if len(kept) == 1 else \
        ["、".join(_SLOT_WORDS_SAID[k] for k in kept) + "都记下了"] if kept else []
    words += [f"地址改成{draft['address']}" if k == "address" else f"{_SLOT_WORDS_SAID[k]}改了" for k in changed]
    prefix = "好的，" + "，".join(words) + "。\n"
    new_slots = {**new_slots, "draft": draft, "misses": 0}
    if state == PROXY_PHONE:
        return _phone_again(state, new_slots, ctx, prefix)
    if state == ASK_ADDRESS and slots.get(ADDRESS_PART):  # "几栋几单元几号？" asked again, the estate kept
        return result(state, new_slots, prefix + f"{slots[ADDRESS_PART]}几栋几单元几号？"
                      "（比如“3栋2单元501”；没有门牌号的话回复“就这样”）")
    if state == ASK_SERVICE:
        return result(state, new_slots, prefix + (menu_question(list(slots.get("candidates") or []), ctx)
                      if slots.get("candidates") else "您需要什么服务？直接说就行，比如“理发”“修水管”“陪我去医院”。"))
    if state == ASK_DETAILS:
        return result(state, new_slots, prefix + "请简单说说具体要做什么，比如“卫生间水管漏水”。")
    return next_question(new_slots, ctx, prefix=prefix)


def _wrong_phone(slots: Mapping[str, Any], said: str) -> Result | None:
    """"电话换成1381234": a new phone with digits missing (or too many) is asked for again, at the phone question."""
    words = wrong_phone_words(said)
    if words is None:
        return None
    draft = _forgotten(dict(slots.get("draft") or {}), "phone")
    return result(ASK_PHONE, {**slots, "draft": draft, "misses": 1}, words)


def _corrected_value(text: str, ctx: Context, reads: Callable[[str], bool]) -> str:
    """What to read the asked slot from: a correction's new value when it says what the slot is not ("不是明天 是后天")
    or when the whole text does not read as the slot; the whole text otherwise (改革路5号 is a street, not 改)."""
    fix = ctx.nlu.correction(text)
    if fix is None or not fix.value:
        return text
    if fix.old or not reads(text):
        return str(fix.value)
    return text


def _slot_of(value: str, ctx: Context) -> str | None:
    """Which slot a bare value fills: a time, a phone or a door ("4栋")."""
    if ctx.read_time(value).is_clear:
        return "time"
    if ctx.nlu.phone(value):
        return "phone"
    if ctx.nlu.address(value, loose=True):
        return "address"
    return None


def _apply_correction(slots: dict[str, Any], draft: dict[str, Any], text: str,
                      ctx: Context) -> tuple[dict[str, Any], bool]:
    swapped = _swapped_address(text, draft, ctx)
    if swapped is not None:
        draft["address"] = swapped[:200]
        return slots, True
    fix = ctx.nlu.correction(text)
    if fix is not None and fix.slot is not None:
        if not fix.value:
            return slots, False
        return _apply_slot(slots, draft, fix.slot, fix.value, ctx)
    body = fix.value if fix is not None and fix.value else re.sub(r"^(改成|改为|换成|改到|不是|应该是)", "", text)
    changed = False
    found = ctx.read_slots(body)
    if found.time.is_clear:
        slots, changed = _apply_time(slots, draft, found.time, ctx), True
    if found.address:
        draft["address"] = ctx.nlu.merge_address(draft.get("address"), found.address)[:200]
        draft.pop("lat", None)
        draft.pop("lng", None)
        changed = True
    elif found.same_address_as_last and ctx.last_address:  # "地址跟上次一样"
        draft["address"] = ctx.last_address
        changed = True
    if found.phone:
        draft["phone"] = found.phone
        changed = True
    if not changed and fix is not None and _slot_of(body, ctx) == "address":  # "不对 是4栋"
        slots, changed = _apply_slot(slots, draft, "address", body, ctx)
    if not changed and fix is not None:
        m = ctx.nlu.match(body)
        if m.decision == "accept" and m.service and m.service != draft.get("service"):
            draft["service"] = m.service
            draft["details"] = body[:200]
            changed = True
    return slots, changed


def _apply_slot(slots: dict[str, Any], draft: dict[str, Any], slot: str, value: str,
                ctx: Context) -> tuple[dict[str, Any], bool]:
    """Put a corrected value into the slot the correction named; False when the value is no such thing."""
    if slot == "address":
        if ctx.nlu.same_address_as_last(value) and ctx.last_address:
            address: str | None = ctx.last_address
        else:
            address = ctx.nlu.address(value, loose=True) or (value if len(value) >= 2 else None)
        if not address:
            return slots, False
        draft["address"] = ctx.nlu.merge_address(draft.get("address"), address)[:200]
        draft.pop("lat", None)
        draft.pop("lng", None)
        return slots, True
    if slot == "phone":
        phone = ctx.nlu.phone(value)
        if not phone:
            return slots, False
        draft["phone"] = phone
        return slots, True
    if slot == "time":
        when = ctx.read_time(value)
        if not when.is_clear:
            return slots, False
        return _apply_time(slots, draft, when, ctx), True
    if slot == "details":
        draft["details"] = value[:200]
        return slots, True
    if slot == "service":
        m = ctx.nlu.match(value)
        if m.decision != "accept" or not m.service:
            return slots, False
        draft["service"] = m.service
        return slots, True
    return slots, False


def _draft_time(draft: Mapping[str, Any]) -> TimeResult | None:
    """The draft's time as a TimeResult (a point or span with a day), or None."""
    kind, start, end = draft.get("time_kind"), draft.get("start"), draft.get("end")
    if kind not in ("point", "span") or not start:
        return None
    begin = datetime.fromisoformat(str(start))
    return TimeResult(kind, begin, datetime.fromisoformat(str(end)) if end else begin, dated=True)


def _whole_day(when: TimeResult) -> bool:
    if when.start is None or when.end is None:
        return False
    start, end = when.start.astimezone(SHANGHAI), when.end.astimezone(SHANGHAI)
    return end.time() == start.time() == datetime.min.time() or end - start >= (end - end.replace(hour=0, minute=0))


def _forgotten(draft: Mapping[str, Any], slot: str) -> dict[str, Any]:
    """A slot said to be wrong without the right value ("地址不对"): taken out, so that it is asked for again."""
    keys = TIME_KEYS if slot == "time" else (slot, "lat", "lng") if slot == "address" else (slot,)
    return {k: v for k, v in draft.items() if k not in keys}


def _apply_time(slots: dict[str, Any], draft: dict[str, Any], when: TimeResult, ctx: Context) -> dict[str, Any]:
    """A corrected time; without a day of its own ("改成下午") it stays on the order's day, and a day on its own
    ("不是明天 是后天") keeps the order's time of day."""
    old = _draft_time(draft)
    if old is not None and old.start is not None:
        moved = None
        if not when.dated and when.kind in ("point", "span"):
            moved = on_day(when, old.start.astimezone(SHANGHAI).date(), ctx.now)
        elif day_only(when) and when.start is not None and not _whole_day(old):
            moved = on_day(old, when.start.astimezone(SHANGHAI).date(), ctx.now)
        if moved is not None and not is_past(moved, ctx.now):
            when = moved
    for key in TIME_KEYS:
        draft.pop(key, None)
    return _take_time(slots, draft, when, ctx)


def on_edit(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    pick = ctx.nlu.choice(text)
    if pick is None:  # the new value said straight away ("地址改成幸福小区11栋")
        fix = ctx.nlu.correction(text)
        if fix is not None and fix.value:
            draft = dict(slots.get("draft") or {})
            new_slots, changed = _apply_correction(dict(slots), draft, text, ctx)
            if changed:
                return next_question({**new_slots, "draft": draft}, ctx, prefix="已修改。")
        for n, (_k, label) in EDIT_CHOICES.items():
            if label in text:
                pick = n
    if pick not in EDIT_CHOICES:
        return retry(state, slots, ctx, "请回复 1-5 选择要改的项目。")
    key, _label = EDIT_CHOICES[pick]
    draft = dict(slots.get("draft") or {})
    if key == "time":
        for k in TIME_KEYS:
            draft.pop(k, None)
    else:
        draft.pop(key, None)
    if key == "service":
        draft.pop("details", None)
        return result(ASK_SERVICE, {**slots, "draft": draft, "candidates": [], "misses": 0},
                      "请说您需要什么服务，比如“理发”“修水管”。")
    return next_question({**slots, "draft": draft}, ctx)


# -- cancelling an order by what it was for --------------------------------------------------------


CANCEL_BACK = "cancel_back"  # the order being made while another one is cancelled: its question is asked after


# "help" / "帮助" while an order is being made: said what to do, and the question asked again (the draft kept).
HELP_KEEPS = frozenset({ASK_DETAILS, ASK_TIME, ASK_ADDRESS, ASK_PHONE, CONFIRM})


def help_mid_order(slots: Mapping[str, Any], ctx: Context) -> str:
    name = ctx.nlu.service_name(str((slots.get("draft") or {}).get("service")))
    return (f"我正在帮您下【{name}】的单，已经说的都记着。回答下面的问题就行；"
            "不想下了回复“取消”，找社区工作人员回复“人工”。\n")


def making_order(state: str, slots: Mapping[str, Any]) -> bool:
    """An order is being made (a draft with its service) in one of the ordering states."""
    return state in ORDERING and bool((slots.get("draft") or {}).get("service"))


def back_to_draft(slots: Mapping[str, Any], ctx: Context, told: str,
                  actions: tuple[Action, ...] = ()) -> Result:
    """After cancelling (or keeping) another order: the order being made is still there, and its question asked
    again; the domain's answer (``actions``) comes first, then ``told`` and the question (a note)."""
    rest = {k: v for k, v in slots.items() if k not in ("cancel_pick", CANCEL_BACK)}
    name = ctx.nlu.service_name(str((rest.get("draft") or {}).get("service")))
    res = next_question(rest, ctx, prefix=f"{told}正在填的【{name}】订单还在，接着来：\n")
    if not actions:
        return res
    return result(res.state, res.slots, None, actions=(*actions, Action("note", {"text": res.reply or ""})))


def cancel_by_service(slots: Mapping[str, Any], ctx: Context, codes: list[str], marked: bool,
                      said: str = "", back: str | None = None) -> Result | None:
    """"那个理发的不要了": the open orders of that service (ctx.open_orders), to confirm or to pick from; a day said
    with it ("明天那个理发的取消", "取消周六的理发") picks the order of that day when there is one.

    Without the open orders (the edge did not read them) the domain lists them, with how to cancel one.
    None: not a cancel after all (an unmarked "旧衣服不要了" with no such order).
    """
    names = "、".join(ctx.nlu.service_name(c) for c in codes)
    if ctx.open_orders is None:
        if not marked:
            return None
        return idle(f"您要取消哪一个{names}订单？请回复“取消订单 编号”，比如“取消订单 12”。", slots,
                    actions=(Action("my_orders"),))
    mine = _on_the_day_said([o for o in ctx.open_orders if o.service in codes], said, ctx)
    if not mine:
        if not marked:
            return None
        return idle(f"没有找到您的{names}订单。回复“我的订单”看看您的全部订单。", slots)
    base = {**_without_offers(slots), "cancel_pick": [o.id for o in mine], "misses": 0}
    if back is not None:
        base[CANCEL_BACK] = str(back)
    if len(mine) == 1:
        o = mine[0]
        return result(CANCEL_PICK, base, f"要取消订单{o.id}（{ctx.nlu.service_name(o.service)}，{o.when}）吗？\n"
                      "回复 1 确认取消，0 不取消。")
    lines = [f"您有{len(mine)}个{names}订单，要取消哪一个？"]
    lines += [f"{i} 订单{o.id}（{ctx.nlu.service_name(o.service)}，{o.when}）" for i, o in enumerate(mine, 1)]
    lines.append("回复数字；0 都不取消。")
    return result(CANCEL_PICK, base, "\n".join(lines))


def _on_the_day_said(orders: list[Any], said: str, ctx: Context) -> list[Any]:
    """The orders on the day the words name (明天, 周六, 11月28日), when some are; else all of them."""
    if len(orders) < 2 or not said:
        return orders
    when = ctx.read_time(said)
    if not when.dated or when.start is None:
        return orders
    day = when.start.astimezone(SHANGHAI)
    label = f"{day.month}月{day.day}日"
    fits = [o for o in orders if str(o.when or "").startswith(label)]
    return fits or orders


def on_cancel_pick(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    ids = [int(i) for i in slots.get("cancel_pick") or []]
    rest = {k: v for k, v in slots.items() if k != "cancel_pick"}
    making = bool(rest.get(CANCEL_BACK)) and bool((rest.get("draft") or {}).get("service"))
    if text.strip() == "0" or said_no(text, ctx):
        return back_to_draft(rest, ctx, "好的，订单保留，没有取消。") if making else \
            idle("好的，订单保留，没有取消。", rest)
    pick = ctx.nlu.choice(text) if len(text) <= 12 else None
    if pick is None and len(ids) == 1 and said_yes(text, ctx):
        pick = 1
    if pick is not None and not 1 <= pick <= len(ids) and pick in ids:
        pick = ids.index(pick) + 1  # the order's own number ("9" for 订单9)
    if pick is not None and 1 <= pick <= len(ids):
        cancel = Action("cancel_order", {"order": ids[pick - 1]})
        return back_to_draft(rest, ctx, "", actions=(cancel,)) if making else idle(None, rest, actions=(cancel,))
    if len(ids) == 1:
        return retry(state, slots, ctx, "要取消请回复 1，不取消回复 0。")
    return retry(state, slots, ctx, f"请回复 1 到 {len(ids)} 选一个订单，0 都不取消。")


# -- changing an order already submitted ------------------------------------------------------------------

# "我要改一下订单的时间" / "修改订单 490454" / "订单电话要换一下": a change of an order already submitted.
_CHANGE_ORDER = re.compile(r"(?:改|修改|更改|变更|换)(?:一下|下)?(?:我的|那个|刚才的?)?(?:订单|单子)|"
                           r"(?:订单|单子)(?:的|里的?)?(?:时间|电话|地址|号码)?(?:要|想|能|能不能|可以)?(?:改|修改|换)|"
                           # "改下时间 后天上午吧" / "改个电话" / "地址搞错了": one of its details, with no order word
                           r"^(?:我|俺)?(?:要|想|得)?(?:改|换|修改|更改)(?:一下|下|个|改)?(?:订单的?)?"
                           r"(?:时间|日子|地址|住址|电话|手机号?|号码)|"
                           r"^(?:时间|地址|住址|电话|手机号?|号码)(?:要|想|得)?(?:改|换)(?:一下|下)?$|"
                           r"^(?:时间|地址|住址|电话|手机号?|号码)(?:搞|弄|写|填|说)?(?:错了|不对)|"
                           # "不好意思又要改，我妈说周三上午十点比较好" (out11): a change said again, its value after
                           r"^(?:不好意思|抱歉|对不起|麻烦(?:你们?|您)?)?[,，。\s]*(?:又|还|再)(?:要|得|想)?改(?:一下|下|一次)?")
_ORDER_REF = re.compile(r"(?<!\d)(\d{3,19})(?!\d)")
_SLOT_WORDS = (("time", re.compile(r"时间|日子|哪天|几点|改到|改成.{0,4}[天日号午点]|明天|后天|今天|周|礼拜|星期")),
               ("phone", re.compile(r"电话|手机|号码")), ("address", re.compile(r"地址|住址|门牌|栋|单元|小区")))
_SLOT_NAMES = {"time": "时间", "phone": "电话", "address": "地址"}


_FIX_WORDS = re.compile(r"不是|换成|改成|改到|改为|错了|不对|换一下|换个")


def may_ask_change(text: str) -> bool:
    """A cheap first look for the edge (whether to read the open orders): the words of a change at all."""
    return bool(_CHANGE_ORDER.search(text) or _FIX_WORDS.search(text) or _MORE_WORDS.search(text))


# "再加一样 顺便换个灯泡" / "内容改成…": more to do on a submitted order (changing.content_asked reads it)
_MORE_WORDS = re.compile(r"顺便|顺带|再加|还加|加一[样项个]|补充|内容|要做的事|另外|(?:再|也|还要|还得)帮")


def change_asked(text: str, ctx: Context) -> tuple[str | None, int | None] | None:
    """A change of a submitted order, said with no order being made: (which slot, the order number said), or None.
    Explicit ("修改订单 490454", "我要改一下订单的时间") or a bare correction ("不是明天 是后天", "电话换成139…")."""
    ref = _ORDER_REF.search(text)
    number = int(ref.group(1)) if ref and not ctx.nlu.phone(text) else None
    slot = next((name for name, words in _SLOT_WORDS if words.search(text)), None)
    named = _ORDER_BY_WHAT.match(text.strip())
    if named is not None and ctx.open_orders and number is None:  # "我那个理发的单子地址错了": that order's address
        number = _open_order_for(named.group("what"), ctx)
    if _CHANGE_ORDER.search(text):
        return slot, number
    if named is not None and ctx.open_orders:  # what is wrong with it, read without the order's name
        text = text.strip()[named.end():]
    fix = ctx.nlu.correction(text)
    if fix is None or not fix.value or fix.slot == "service" or service_asked(text, ctx) is not None:
        return None
    said = fix.slot if fix.slot in _SLOT_NAMES else _slot_of(str(fix.value), ctx)
    return (said, number) if said in _SLOT_NAMES else None


# "我那个理发的单子" / "俺刚下的修水管那个订单": a submitted order named by what it is for, before what is wrong with it
_ORDER_BY_WHAT = re.compile(r"^(?:我|俺|咱)?(?:的)?(?:那个|这个|刚才那个|刚才的|刚下的|上次那个|之前那个)?"
                            r"(?P<what>[\u4e00-\u9fff]{1,8}?)(?:的)?(?:那个)?(?:单子|订单|那单|这单)[\s,，]*")


def _open_order_for(what: str, ctx: Context) -> int | None:
    """The one open order for the service `what` names ("理发"), or None (none, several, or not a service)."""
    code = service_asked(what, ctx)
    found = [o.id for o in ctx.open_orders or () if code is not None and o.service == code]
    return found[0] if len(found) == 1 else None


def change_reply(slots: Mapping[str, Any], ctx: Context, slot: str | None, number: int | None) -> Result:
    """How to change a submitted order, naming it: in chat only by cancelling and ordering again, or through 人工
    (a volunteer may already have planned for the time and place)."""
    what = _SLOT_NAMES.get(slot or "", "内容")
    mine = list(ctx.open_orders or ())
    if number is not None:
        mine = [o for o in mine if o.id == number] or mine
    how = (f"已经提交的订单，在这里还改不了{what}。")
    if ctx.open_orders is not None and not mine:
        return idle("您现在没有进行中的订单。需要帮忙直接说，比如“明天上午来修水管”。", slots)
    if len(mine) == 1:
        o = mine[0]
        line = f"订单{o.id}（{ctx.nlu.service_name(o.service)}，{o.when}）" if o.when else f"订单{o.id}"
        return idle(f"{how}要改{line}，可以：\n1. 回复“取消订单 {o.id}”，再重新下一单；\n"
                    "2. 回复“人工”，请社区工作人员帮您改（如果已有志愿者接单，工作人员会通知他）。", slots)
    listed = "、".join(f"订单{o.id}（{ctx.nlu.service_name(o.service)}）" for o in mine)
    which = f"您的{listed}都还没完成。" if mine else ""
    return idle(f"{how}{which}可以回复“取消订单 编号”再重新下一单，或回复“人工”请社区工作人员帮您改。", slots)


# -- rating (评单) and the volunteer's follow-ups ---------------------------------------------------


def on_rate(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    order = slots.get("rate_order")
    hearts = ctx.nlu.rating(text)
    if order is None:
        return idle(None, slots)
    if hearts is None and VERDICT_FIRST.match(text.strip()) and ctx.nlu.rating_guessed(text):
        hearts = parse_rating(text)  # "挺好" / "非常好 十分感谢" answering the question: 4 / 5, said back in the reply
    if hearts is None and ctx.nlu.rating_guessed(text):  # "师傅来过了 修得挺好": thanks, and ask; never a guess
        return result(state, slots, "谢谢您告诉我们！请再回复一个 0 到 5 的数字，给志愿者几颗心（5 颗心最满意），"
                      "也可以说“满意”“一般”“不满意”。")
    if hearts is None:
        return retry(state, slots, ctx, "请回复 0 到 5 的数字（5 颗心最满意），也可以说“满意”“一般”“不满意”。")
    guessed = {"guessed": True} if not _A_NUMBER.search(text) else {}  # "挺好" / "差评": how to change it is said
    slots = rated_now(slots, order, hearts, ctx, guessed=bool(guessed))
    rate = Action("rate", {"order": order, "hearts": hearts, **guessed})
    if said_more(text):  # "5颗心 师傅很好": the rating and the comment in one message; not asked for a comment again
        return idle(None, slots, actions=(Action("rate", {"order": order, "hearts": hearts, "commented": True,
                                                          **guessed}),
                                         Action("comment", {"order": order,
                                                            "comment": comment_of(text, hearts)[:500]})))
    return result(RATE_COMMENT, {**slots, "misses": 0, "rated": hearts}, None, actions=(rate,))


_HEARTS_SAID = re.compile(r"(?:给他|给她|给个|给|打)?[0-9零〇一二两三四五]\s*(?:颗|个)?\s*(?:心|星|分(?!钟))|[★☆⭐❤♥]+")


_ASPECT_PRAISE = re.compile(r"(?:态度|手艺|技术|人品|速度)(?:是|也|都|绝对|真)?"
                            r"[0-9零〇一二两三四五]\s*(?:颗|个)?\s*(?:心|星)")


def comment_of(text: str, hearts: int) -> str:
    """What a rating message says besides its hearts, for staff: "一般般吧 来得太晚了 两颗心" (2 hearts) ->
    "来得太晚了". The number and the scale's words that disagree with it go, and a clause left with only fillers;
    a clause with nothing taken out is kept as said ("挺好的 小伙子很热情")."""
    kept = []
    for clause in re.split(r"[\s,，。.!！~～、;；]+", text.strip()):
        if _ASPECT_PRAISE.search(clause):  # "态度五星": praise of one side of the service, kept as said
            kept.append(clause)
            continue
        cut = _HEARTS_SAID.sub("", clause)
        for word, value in RATING_WORDS:
            if value != hearts and word in SCALE_WORDS and word in cut:
                cut = cut.replace(word, "")
        if cut == clause or said_more(cut):
            kept.append(cut)
    return " ".join(k for k in kept if k) or text.strip()


# -- a rating corrected right after it was given ("不对 五颗星", "改成5星", "我想给5分", "打错了 是3") ----------------
# Within RERATE_FOR of giving it (whatever was said between), once: the rating is changed by the domain
# (bot.serviceloop.rerating, which holds the same window and makes the points follow); later, or a second time, the
# plain truth and 人工.
RERATE_FOR = timedelta(hours=1)
RERATE_TOLD_FOR = timedelta(days=1)  # after the window, a correction of that rating is still answered plainly
RERATE_LATE = "评价超过一个小时就不能在这里改了。要更正请回复“人工”，社区工作人员帮您改。"
_A_NUMBER = re.compile(r"[0-9０-９零一二两三四五]|★|☆|⭐|❤|♥")
_FIXING = re.compile(r"不对|错了|打错|评错|点错|按错|说错|搞错|弄错|改成|改为|改一下|改下|换成|应该是|应该给|"
                     r"我想给|想给|重新|本来是|本来想")
_FIX_WORDS_RATING = re.compile(r"不对|错了|打错了?|评错了?|点错了?|按错了?|说错了?|搞错了?|弄错了?|改成|改为|改一下|"
                               r"改下|换成|应该是|应该给|我想给|想给|重新|本来是|本来想给?|给他|给她|给|是|吧|啊|呀|了|的|"
                               r"[\s,，。.!！~]")


def rated_now(slots: Mapping[str, Any], order: Any, hearts: int, ctx: Context,
              guessed: bool = False) -> dict[str, Any]:
    """The slots with the rating just given remembered (a kept slot), for a correction soon after; ``guessed``: read
    from words ("挺好"), which words may correct ("点错了 应该是满意"); a rating given as a number only a number."""
    last = {"order": order, "hearts": hearts, "at": ctx.now.isoformat(), **({"guessed": True} if guessed else {})}
    return {**slots, LAST_RATING_SLOT: last}


# A number of hearts in a correction ("改成3颗心", "不对 是5颗", "打错了 是3", "★★★★★"): a lone digit 0-5, or a Chinese
# one with its heart word or at the end; "来晚了20分钟", "一个小时就修好了" say no hearts.
_HEARTS_NUMBER = re.compile(r"(?<![0-9０-９])[0-5０-５](?![0-9０-９.])|[零一二两三四五](?:颗|个|星|心|分|$)|"
                            r"[零一二两三四五](?=[\s,，。!！吧啊呀的]*$)|★|☆|⭐|❤|♥")


def says_hearts(text: str) -> bool:
    """Whether a text gives a number of hearts (a correction or a rating said again), not only words (一般般, 还行)."""
    return bool(_HEARTS_NUMBER.search(text.strip()))


def recent_rating(slots: Mapping[str, Any], now: datetime) -> Mapping[str, Any] | None:
    """The rating given in chat within RERATE_FOR (and not corrected yet), else None."""
    last = slots.get(LAST_RATING_SLOT)
    if not isinstance(last, Mapping) or last.get("order") is None or last.get("hearts") is None \
            or last.get("corrected"):
        return None
    return last if _within(last, now, RERATE_FOR) else None


def _within(last: Mapping[str, Any], now: datetime, span: timedelta) -> bool:
    try:
        return now - datetime.fromisoformat(str(last.get("at"))) <= span
    except (TypeError, ValueError):
        return False


def rerate_said(slots: Mapping[str, Any], text: str, ctx: Context, any_rating: bool = False,
                any_age: bool = False) -> int | None:
    """The hearts a correction of the recent rating gives ("不对 五颗星" -> 5, "打错了 是3" -> 3); None when there is
    no recent rating or the text is no correction. ``any_rating``: a rating said alone counts (asked for a comment,
    "给他五颗心" right after "挺好"); ``any_age``: of any rating given in chat (a late one is answered plainly)."""
    last = slots.get(LAST_RATING_SLOT) if any_age else recent_rating(slots, ctx.now)
    if not isinstance(last, Mapping) or len(text.strip()) > 20 or not _within(last, ctx.now, RERATE_TOLD_FOR):
        return None
    fixing = bool(_FIXING.search(text))
    if not (fixing or any_rating):
        return None
    # a comment is a comment ("服务一般般，来晚了"): only a number changes the hearts, or words that say it is wrong
    # of a rating itself read from words ("差评" then "点错了 应该是满意"); more words than the correction's
    # ("5颗心 师傅很好", "时间不对 一般般") make it a comment
    rest = _FIX_WORDS_RATING.sub("", text)
    if not (says_hearts(text) or (fixing and last.get("guessed"))):
        return None
    if said_more(rest) and not (fixing and says_hearts(text)):  # "不对 给四颗心吧 来晚了": 4, the rest a comment
        return None
    hearts = ctx.nlu.rating(text)
    if hearts is None:
        hearts = ctx.nlu.rating(rest) if rest else None
    return None if hearts is None else int(hearts)


def rerate(slots: Mapping[str, Any], ctx: Context, hearts: int, text: str = "") -> Result:
    """The recent rating corrected to ``hearts`` (the domain changes it and says so), or kept when it is the same;
    what ``text`` (the correction) says besides ("不对 给四颗心吧 来晚了": 来晚了) saved as a comment."""
    last = recent_rating(slots, ctx.now) or {}
    rest = {k: v for k, v in slots.items() if k not in ("rate_order", "misses", "rated")}
    said = rerate_comment(text, hearts)
    noted = (Action("comment", {"order": last.get("order"), "comment": said[:500]}),) if said else ()
    if int(last.get("hearts", -1)) == hearts:
        return idle(None if noted else f"好的，就是{hearts}颗心，已经记下了，谢谢您！", rest, actions=noted)
    done = {**rest, LAST_RATING_SLOT: {**last, "hearts": hearts, "corrected": True}}  # once: a second one is told so
    return idle(None, done, actions=(Action("rerate", {"order": last.get("order"), "hearts": hearts,
                                                       "was": last.get("hearts")}), *noted))


def rerate_comment(text: str, hearts: int) -> str | None:
    """What a correction of a rating says besides the correction and its hearts ("来晚了"), or None."""
    if not said_more(_FIX_WORDS_RATING.sub("", text)):
        return None
    clauses = comment_of(text, hearts).split(" ")
    said = " ".join(c for c in clauses if _FIX_WORDS_RATING.sub("", c) and not _FIXING.fullmatch(c))
    return said or None


def rerate_refused(slots: Mapping[str, Any], now: datetime | None = None) -> Result | None:
    """A correction of a rating given in chat that is no longer possible here (corrected once, or too late): the
    plain truth and 人工; within the hour ("刚才评错了", no number said) how to say the new hearts; None when no rating
    was given in chat."""
    last = slots.get(LAST_RATING_SLOT)
    if not isinstance(last, Mapping) or last.get("order") is None:
        return None
    rest = {k: v for k, v in slots.items() if k not in ("rate_order", "misses", "rated")}
    if now is not None and recent_rating(slots, now) is not None:
        return idle(f"订单{last['order']}现在是{last.get('hearts')}颗心。要改成几颗心？请直接说，比如“改成5颗心”"
                    "（只能改一次）。", rest)
    if last.get("corrected"):
        return idle(f"订单{last['order']}的评价已经改为{last.get('hearts')}颗心。这一单的评价已经改过一次了，"
                    "还要更正请回复“人工”，社区工作人员帮您改。", rest)
    return idle(f"订单{last['order']}已经评为{last.get('hearts')}颗心。{RERATE_LATE}", rest)


# The answer opens with a verdict ("挺好", "挺好的 小伙子很热情", "非常好 十分感谢"): the rating asked for, taken (the
# thanks say how many hearts); "师傅来过了 修得挺好" only describes the visit, and the number is asked for.
VERDICT_FIRST = re.compile(r"^(?:真|确实)?(?:挺好|很好|非常好|特别好|太好了|不错|挺不错|很不错|很差|太差|非常差|"
                           r"还行|还可以|凑合|马马虎虎)")


_RATING_PART = re.compile(r"不满意|不咋地|不咋的|不咋滴|不咋样|不怎么样|不怎么地|俺|个|"
                          r"满意|满分|好评|差评|一般般?|还行|还可以|凑合|马马虎虎|"
                          r"[0-5零一二两三四五](?:颗|个)?(?:心|星|分)?|非常|特别|十分|比较|很|挺|给|打|吧|了|的|啊|呀|哈|啦|嘛|我|就|都|也|不|颗|心|星|分")


def said_more(text: str) -> bool:
    """The rating came with words of its own ("5颗心 师傅很好", "满意 谢谢你们"): a comment to keep."""
    rest = _RATING_PART.sub("", re.sub(r"[\s,，。.!！?？~～、]+", "", text))
    return len(re.findall(r"[\u4e00-\u9fff]", rest)) >= 2


def on_rate_comment(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    order = slots.get("rate_order")
    clean_slots = {k: v for k, v in slots.items() if k not in ("rate_order", "misses", "rated")}
    if order is None or ctx.nlu.is_no(text):
        return idle("好的，谢谢您！", clean_slots)
    fixed = rerate_said(slots, text, ctx, any_rating=True)  # "不对 五颗星" / "打错了 是3": the rating corrected
    if fixed is not None:
        return rerate(slots, ctx, fixed, text)
    again = ctx.nlu.rating(text) if len(text.strip()) <= 12 and says_hearts(text) and not said_more(text) else None
    if again is not None and slots.get("rated") is not None:  # "给他五颗心" is a rating, not a comment
        if int(slots["rated"]) == again:
            return idle(f"好的，就是{again}颗心，已经记下了，谢谢您！", clean_slots)
        return idle(f"这一单刚才已经记为{slots['rated']}颗心，评价提交后不能在这里改了。"
                    "要更正请回复“人工”，社区工作人员帮您处理。", clean_slots)
    return idle(None, clean_slots, actions=(Action("comment", {"order": order, "comment": text}),))


def on_hours(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    said = slots.get("hours_said")  # "完成1311321.5小时" split and asked back (volunteering._run_together)
    if said is not None:
        slots = {k: v for k, v in slots.items() if k != "hours_said"}
        if said_yes(text, ctx):
            return idle(None, slots, actions=(Action("complete", {"order": slots.get("order"), "hours": said}),))
        if said_no(text, ctx):
            return idle("好的，请重新回复“完成 订单号 小时数”，中间空一格，比如“完成 123456 1.5”。", slots)
    hours = ctx.nlu.hours(text)
    if hours is None or hours <= 0:
        return retry(state, slots, ctx, "服务了几个小时？回复数字，比如“2”或“1.5”。")
    return idle(None, slots, actions=(Action("complete", {"order": slots.get("order"), "hours": hours}),))


def on_giveback_reason(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if any(slots.get(k) for k in GIVEBACK_KEYS):  # a bare 退单's question ("退订单…吗？", the list, the reason)
        answered = giveback_answer(slots, ctx, text)
        if answered is not None:
            return answered
    said = slots.get("giveback_said")  # "明天临时有事去不了了": the reason already said, to confirm
    if said:
        rest = {k: v for k, v in slots.items() if k != "giveback_said"}
        if text.strip() == "0" or said_no(text, ctx):
            return idle(f"好的，订单{slots.get('order')}没有退，请按约定时间去服务。", rest)
        if said_yes(text, ctx):
            return idle(None, rest, actions=(Action("give_back", {"order": slots.get("order"), "reason": said}),))
        slots = rest
    if len(text.strip()) < 2:
        return retry(state, slots, ctx, "请简单说一下退单原因，比如“临时生病”。")
    return idle(None, slots, actions=(Action("give_back", {"order": slots.get("order"), "reason": text.strip()}),))


STATE_HANDLERS: dict[str, StateHandler] = {
    CANCEL_PICK: on_cancel_pick,
    ASK_SERVICE: on_service,
    ASK_DETAILS: on_details,
    ASK_TIME: on_time,
    ASK_ADDRESS: on_address,
    ASK_PHONE: on_phone,
    CONFIRM: on_confirm,
    EDIT: on_edit,
    SWITCH: on_switch,
    PROXY_NAME: on_proxy_name,
    PROXY_PHONE: on_proxy_phone,
    RATE: on_rate,
    RATE_COMMENT: on_rate_comment,
    ASK_HOURS: on_hours,
    ASK_GIVEBACK_REASON: on_giveback_reason,
}
assert State.IDLE not in STATE_HANDLERS
