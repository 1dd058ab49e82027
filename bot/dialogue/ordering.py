"""The resident's ordering and rating dialogue, and the volunteer's follow-up questions (pure).

The draft order lives in slots["draft"]. Whatever the first message already says (service, time,
address, phone) is kept, each slot from its own words (intents.understand.extract_slots), and the
request is stored without them; the dialogue asks only for what is missing, then shows a summary to
confirm. A correction that names a slot ("地址不对 是…", "电话换成…", "不是明天 是后天") is applied at the
summary and in any question; a time that has passed gets the nearest future ones offered; a confusing
answer is asked again at most twice, then the bot offers staff (人工).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.dialogue.core import (
    LABEL_CHARS,
    Action,
    Context,
    Result,
    State,
    StateHandler,
    idle,
    result,
    retry,
    said_no,
    said_yes,
)
from bot.dialogue.messages import Incoming
from intents.masking import mask_phone, scrub
from intents.timeparse import SHANGHAI, TimeResult, day_only, future_options, is_past, on_day, spoken
from intents.timeparse import when_text as appointment_text

ASK_SERVICE = State.ORDER_SERVICE
ASK_DETAILS = State.ORDER_DETAILS
ASK_TIME = State.ORDER_TIME
ASK_ADDRESS = State.ORDER_ADDRESS
ASK_PHONE = State.ORDER_PHONE
CONFIRM = State.ORDER_CONFIRM
EDIT = State.ORDER_EDIT
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
# A phone number said with too many digits (12 or more in a row).
_TOO_LONG_NUMBER = re.compile(r"\d{12,}")
# The states of making an order: a "那个理发的不要了" in one of them ends it.
ORDERING = frozenset({ASK_SERVICE, ASK_DETAILS, ASK_TIME, ASK_ADDRESS, ASK_PHONE, CONFIRM, EDIT, PROXY_NAME,
                      PROXY_PHONE})
# Slots of the draft that a new time replaces together.
TIME_KEYS = ("time_kind", "start", "end")
# The last answers' loose ends, dropped once the question they belonged to is answered.
OFFER_KEYS = ("time_offers", "time_passed", "address_offer")


# -- asking -------------------------------------------------------------------------------------


def when_text(draft: Mapping[str, Any]) -> str:
    start, end = draft.get("start"), draft.get("end")
    return appointment_text(draft.get("time_kind"), datetime.fromisoformat(start) if start else None,
                            datetime.fromisoformat(end) if end else None)


def summary(draft: Mapping[str, Any], ctx: Context) -> str:
    lines = ["请核对您的订单："]
    proxy = draft.get("for")
    if proxy:
        lines.append(f"为谁：{proxy.get('name')}（{mask_phone(proxy.get('phone'))}）")
    lines += [f"服务：{ctx.nlu.service_name(draft['service'])}", f"内容：{draft.get('details') or '无'}",
              f"时间：{when_text(draft)}", f"地址：{draft.get('address')}",
              f"电话：{draft.get('phone') or NO_PHONE_LABEL}",
              "回复 1 确认，2 修改，0 取消"]
    return "\n".join(lines)


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
    if not draft.get("service"):
        return result(ASK_SERVICE, slots, prefix + "您需要什么服务？直接说就行，比如“理发”“修水管”“陪我去医院”。")
    if not draft.get("details"):
        return result(ASK_DETAILS, slots, prefix + "请简单说说具体要做什么，比如“卫生间水管漏水”。")
    if not draft.get("time_kind"):
        return result(ASK_TIME, slots, prefix + _time_question(slots))
    slots = {k: v for k, v in slots.items() if k not in ("time_offers", "time_passed")}
    if not draft.get("address"):
        offer = slots.get("address_offer")
        if offer:
            return result(ASK_ADDRESS, slots,
                          prefix + f"上次的地址是：{offer}\n回复 1 就用这个地址，或者直接说新地址。")
        text = prefix + "服务地址是哪里？请说小区、楼栋和门牌号，也可以发送位置。"
        loc = slots.get("location")
        if loc and loc.get("label"):
            text += f"\n回复 1 使用您刚发的位置：{loc['label']}"
        return result(ASK_ADDRESS, slots, text)
    slots = {k: v for k, v in slots.items() if k != "address_offer"}
    if not draft.get("phone") and not draft.get("no_phone"):
        phone = ctx.phone_on_file if not draft.get("for") else None
        text = prefix + "请留一个联系电话。"
        if phone:
            text += f"\n回复 1 使用 {mask_phone(phone)}，或直接发新号码。"
        return result(ASK_PHONE, slots, text)
    return result(CONFIRM, slots, prefix + summary(draft, ctx))


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


def _take_time(slots: dict[str, Any], draft: dict[str, Any], when: TimeResult, ctx: Context) -> dict[str, Any]:
    """A time said in this message: into the draft, or, if it has passed, the offers of nearer ones."""
    if not when.is_clear:
        return slots
    if is_past(when, ctx.now):
        for key in TIME_KEYS:
            draft.pop(key, None)
        return _offer_times(slots, when, ctx)
    draft.update(_time_slots(when))
    return {k: v for k, v in slots.items() if k not in ("time_offers", "time_passed")}


def _fill(slots: dict[str, Any], draft: dict[str, Any], text: str, ctx: Context,
          loose_address: bool = False) -> tuple[dict[str, Any], str]:
    """Take whatever this message says for the missing slots (never overwriting with nothing); slots and the rest."""
    found = ctx.nlu.slots(text, ctx.now, ctx.urgent_window, loose_address)
    if not draft.get("time_kind") and found.time.is_clear:
        slots = _take_time(slots, draft, found.time, ctx)
    if not draft.get("address"):
        if found.address:
            draft["address"] = found.address[:200]
        elif found.same_address_as_last and ctx.last_address:
            # "跟上回一样": the last order's address (the edge reads it into ctx.last_address), offered to confirm
            slots = {**slots, "address_offer": ctx.last_address}
    if not draft.get("phone") and found.phone:
        draft["phone"] = found.phone
    return slots, found.rest


def _with_service(slots: Mapping[str, Any], code: str, text: str, ctx: Context) -> Result:
    draft = dict(slots.get("draft") or {})
    draft["service"] = code
    new_slots, rest = _fill(dict(slots), draft, text, ctx)
    if not draft.get("details"):
        draft["details"] = rest if len(rest) > 4 else ctx.nlu.service_name(code)
    draft["details"] = (tidy_details(scrub(draft["details"], draft.get("address"), draft.get("phone")))
                        or ctx.nlu.service_name(code))[:200]
    name = ctx.nlu.service_name(code)
    return next_question({**new_slots, "draft": draft, "candidates": []}, ctx, prefix=f"好的，为您安排【{name}】。\n")


# What a run-on message leaves of a slot once its value is taken out: the label ("时间：", "电话") and a lone
# pronoun before the address (…人民医院 我们|住幸福小区2栋).
_LEFT_LABEL = re.compile(r"(?:^|(?<=[\s，,。；;]))(?:时间|日期|地址|住址|电话|手机|手机号|联系方式|联系电话)"
                         r"\s*[:：]?\s*(?=$|[\s，,。；;])")
_LEFT_PRONOUN = re.compile(r"(?:^|[\s，,。；;]+)(?:我们家|我们|我家|我|俺|她|他)\s*$")
_LONE_PRONOUN = re.compile(r"(?<=[\s，,])(?:我们家|我们|我家|我|俺|她|他)(?:[\s，,]+)")
# …周六上午都行 / …今天下午有空 / …送到幸福小区9栋 / …尽快来: the words that went with a taken-out time or address,
# left alone at the end of a clause.
_LEFT_WORDS = re.compile(r"[\s，,]+(?:都行|都可以|都有空|有空|有时间|就行|可以|送到|送去|送过来|到|去|在|来|过来)"
                         r"[\s，,。；;]*$")

# 我也不知道要啥 就是家里下水道堵了: the request is what follows 就是.
_NOT_SURE = re.compile(r"^.{0,8}?(?:不知道|不晓得|说不清|说不好|不清楚)[^\s，,。]{0,6}[\s，,。]*"
                       r"(?:就是|反正|其实)(?=.{2})")


def tidy_details(text: str) -> str:
    """The request as said, without what its slots left behind (a label, a pronoun, doubled commas)."""
    text = _LEFT_WORDS.sub("", _LEFT_PRONOUN.sub("", _LONE_PRONOUN.sub("", _LEFT_LABEL.sub("", text))))
    text = _NOT_SURE.sub("", text)
    text = re.sub(r"^[\s，,]*(?:吧|啊|呀|嘛)+(?=\s*[\u4e00-\u9fff])", "", text)  # 十点左右|吧来帮我…
    text = re.sub(r"\s*[，,]\s*(?:[，,]\s*)+", "，", text)
    return text.strip(" ，,。；;:：")


def _clarify(slots: Mapping[str, Any], codes: list[str], text: str, ctx: Context) -> Result:
    lines = ["您要的是哪一项？"] + [f"{i} {ctx.nlu.service_name(c)}" for i, c in enumerate(codes, 1)]
    lines.append("回复数字；都不是的话，换个说法再说一次。")
    draft = dict(slots.get("draft") or {})
    new_slots, rest = _fill(dict(slots), draft, text, ctx)
    draft["details"] = tidy_details(rest) or text
    return result(ASK_SERVICE, {**new_slots, "draft": draft, "candidates": codes, "misses": 0}, "\n".join(lines))


def _match(text: str, ctx: Context) -> Any:
    """The service of a request, matched on the request without its time, address and phone (a street name or a
    time word cannot pose as a service), or on the whole text when that reads better."""
    rest = ctx.nlu.slots(text, ctx.now, ctx.urgent_window).rest
    first = ctx.nlu.match(rest) if rest else ctx.nlu.match(text)
    if first.decision == "accept" or not rest or rest == text:
        return first
    whole = ctx.nlu.match(text)
    rank = {"accept": 0, "clarify": 1}
    return whole if rank.get(whole.decision, 2) < rank.get(first.decision, 2) else first


def _says_a_slot(text: str, ctx: Context) -> bool:
    found = ctx.nlu.slots(text, ctx.now, ctx.urgent_window)
    return found.time.is_clear or bool(found.address) or bool(found.phone)


def start_from_text(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    """Free text in the idle state: a request for a service, or not."""
    m = _match(text, ctx)
    base = {**_without_offers(slots), "draft": {}}
    if m.decision == "accept" and m.service:
        return _with_service(base, m.service, text, ctx)
    if m.decision == "clarify" and len(m.candidates) == 1 and _says_a_slot(text, ctx):
        # one service fits a message that also says when, where or a phone: an order; asking "1 维修服务?" is a
        # step for nothing (the summary shows the service, and 2 changes it)
        return _with_service(base, m.candidates[0][0], text, ctx)
    if m.decision == "clarify" and m.candidates:
        return _clarify(base, [c for c, _ in m.candidates[:3]], text, ctx)
    return idle("这个我可能帮不上忙。需要志愿者帮忙的话，请直接说要做什么，比如“明天上午来修水管”；"
                "或回复“菜单”看看能做什么。", slots)


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
    draft = dict(slots.get("draft") or {})
    old = draft.get("service")
    if not old or state == ASK_SERVICE or not _MIND_MARK.search(text):
        return None
    rest = _MIND_LEAD.sub("", _MIND_OLD.sub(" ", text).strip()).strip(" ，,。；;")
    if len(rest) < 2:
        return None
    m = ctx.nlu.match(rest)
    if m.decision != "accept" or not m.service or m.service == old:
        return None
    name, old_name = ctx.nlu.service_name(m.service), ctx.nlu.service_name(old)
    draft = {k: v for k, v in draft.items() if k != "details"}
    draft["service"] = m.service
    new_slots, left = _fill({**slots, "candidates": []}, draft, rest, ctx)
    draft["details"] = (tidy_details(left) if len(left) > 2 else "") or name
    return next_question({**new_slots, "draft": draft}, ctx, prefix=f"好的，不要{old_name}了，改成【{name}】。\n")


def on_proxy_name(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    name = text.strip()
    if not 1 <= len(name) <= 20 or ctx.nlu.phone(name):
        return retry(state, slots, ctx, "请说老人家的称呼，比如“王奶奶”。")
    draft = dict(slots.get("draft") or {})
    draft["for"] = {"name": name}
    return result(PROXY_PHONE, {**slots, "draft": draft, "misses": 0}, f"{name}的联系电话是多少？")


def on_proxy_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    phone = ctx.nlu.phone(text)
    if not phone:
        return retry(state, slots, ctx, "请发一个手机或座机号码，比如 13800138000。")
    draft = dict(slots.get("draft") or {})
    draft["for"] = {**draft.get("for", {}), "phone": phone}
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
    m = _match(text, ctx)
    if m.decision == "accept" and m.service:
        return _with_service({**slots, "draft": {**(slots.get("draft") or {}), "details": None}}, m.service, text, ctx)
    if m.decision == "clarify" and m.candidates:
        return _clarify(slots, [c for c, _ in m.candidates[:3]], text, ctx)
    return retry(state, slots, ctx, "您需要什么服务？比如“理发”“修水管”“陪我去医院”。")


def on_details(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if len(text.strip()) < 2:
        return retry(state, slots, ctx, "请简单说说具体要做什么。")
    corrected = _correct_elsewhere(state, slots, text, ctx, "details")
    if corrected is not None:
        return corrected
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
    body = _corrected_value(text, ctx, lambda said: ctx.nlu.time(said, ctx.now, ctx.urgent_window).is_clear)
    draft = dict(slots.get("draft") or {})
    when = ctx.nlu.time(body, ctx.now, ctx.urgent_window)
    if not when.is_clear:
        phone = ctx.nlu.phone(text)
        if phone:  # a phone said at the time question: kept, and the time asked again
            return result(state, {**slots, "draft": {**draft, "phone": phone}, "misses": 0},
                          "电话记下了。" + _time_question(slots))
        if _WAITING_FOR.search(text):  # 等俺儿子下班回来: a time, but not one a volunteer can come at
            return result(state, slots, "好的。大概几点呢？比如“今天晚上六点”或“明天下午三点”。")
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


def on_address(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    offer = slots.get("address_offer")
    if offer and _accepts_offer(text, ctx):
        draft = {**(slots.get("draft") or {}), "address": str(offer)}
        return next_question({**slots, "draft": draft}, ctx)
    if offer and said_no(text, ctx):
        return next_question({k: v for k, v in slots.items() if k != "address_offer"}, ctx, prefix="好的。")
    loc = slots.get("location")
    if not offer and loc and loc.get("label") and _accepts_offer(text, ctx):
        draft = {**(slots.get("draft") or {}), "address": loc["label"], "lat": loc.get("lat"), "lng": loc.get("lng")}
        return next_question({**slots, "draft": draft}, ctx)
    corrected = _correct_elsewhere(state, slots, text, ctx, "address")
    if corrected is not None:
        return corrected
    when = ctx.nlu.time(text, ctx.now, ctx.urgent_window)
    if when.is_clear and (slots.get("draft") or {}).get("time_kind") and not ctx.nlu.address(text, loose=True):
        # "就明天中午" asked for the address: the time said again, changed; the address is still to come
        draft = dict(slots.get("draft") or {})
        new_slots = _apply_time(dict(slots), draft, when, ctx)
        return next_question({**new_slots, "draft": draft}, ctx, prefix="好的，时间改了。")
    body = _corrected_value(text, ctx, lambda said: bool(ctx.nlu.address(said)))
    draft = dict(slots.get("draft") or {})
    new_slots, rest = _fill(dict(slots), draft, body, ctx, loose_address=True)
    if not draft.get("address") and ctx.nlu.same_address_as_last(body):
        if new_slots.get("address_offer"):
            return next_question({**new_slots, "draft": draft}, ctx)
        return result(state, {**new_slots, "draft": draft}, "没找到您上次留的地址。请说一下小区、楼栋和门牌号，"
                      "比如“幸福小区3栋2单元501”，也可以发送位置。")
    if not draft.get("address"):
        guess = rest.strip()
        if len(guess) >= 4 and not guess.isdigit() and ctx.nlu.yes_no(guess) is None:
            draft["address"] = guess[:200]
    if not draft.get("address"):
        return retry(state, slots, ctx, "请说详细地址：小区、楼栋、门牌号，比如“幸福小区3栋2单元501”。")
    return next_question({**new_slots, "draft": draft}, ctx)


def on_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if ctx.phone_on_file and _accepts_offer(text, ctx) and not (slots.get("draft") or {}).get("for"):
        phone: str | None = ctx.phone_on_file
    else:
        corrected = _correct_elsewhere(state, slots, text, ctx, "phone")
        if corrected is not None:
            return corrected
        phone = ctx.nlu.phone(text)
    if not phone and _NO_PHONE.search(text) and not (slots.get("draft") or {}).get("for"):
        draft = {**(slots.get("draft") or {}), "no_phone": True}
        return next_question({**slots, "draft": draft}, ctx,
                             prefix="没关系，不留电话也可以。志愿者会通过这个公众号给您发消息，需要时社区工作人员帮忙安排。\n")
    if not phone:
        long_number = _TOO_LONG_NUMBER.search(re.sub(r"[\s-]", "", text))
        if long_number:
            digits = len(long_number.group())
            return result(state, {**slots, "misses": int(slots.get("misses", 0)) + 1},
                          f"这个号码有{digits}位，位数多了。手机号是11位，请再发一次，比如 13800138000。")
        return retry(state, slots, ctx, "请发一个手机或座机号码，比如 13800138000。")
    draft = {k: v for k, v in (slots.get("draft") or {}).items() if k != "no_phone"}
    draft["phone"] = phone
    return next_question({**slots, "draft": draft}, ctx)


def on_confirm(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    word = text.strip()
    if said_yes(word, ctx):
        return idle(None, slots, actions=(Action("submit_order", dict(slots.get("draft") or {})),))
    if word in NO_CHANGE or said_no(word, ctx):
        return result(EDIT, {**slots, "misses": 0}, "要改哪一项？\n" + "\n".join(
            f"{n} {label}" for n, (_k, label) in EDIT_CHOICES.items()))
    if word in ABORT:
        return idle("好的，订单已取消，没有提交。", slots)
    # a correction said straight out ("地址不对 是…", "改成后天上午", "不是明天 是后天"): apply what can be read from it
    draft = dict(slots.get("draft") or {})
    fix = ctx.nlu.correction(word)
    if fix is not None and fix.slot in ("address", "phone", "time", "details") and not fix.value:
        return next_question({**slots, "draft": _forgotten(draft, str(fix.slot))}, ctx, prefix="好的，")
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
    if ctx.nlu.time(new, ctx.now, ctx.urgent_window).is_clear and not re.search(r"栋|幢|楼|单元|室|号院|座|门", new):
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
        return None
    return next_question({**new_slots, "draft": draft}, ctx, prefix="已修改。")


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
    if ctx.nlu.time(value, ctx.now, ctx.urgent_window).is_clear:
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
    found = ctx.nlu.slots(body, ctx.now, ctx.urgent_window)
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
        when = ctx.nlu.time(value, ctx.now, ctx.urgent_window)
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


def cancel_by_service(slots: Mapping[str, Any], ctx: Context, codes: list[str], marked: bool,
                      said: str = "") -> Result | None:
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
    when = ctx.nlu.time(said, ctx.now, ctx.urgent_window)
    if not when.dated or when.start is None:
        return orders
    day = when.start.astimezone(SHANGHAI)
    label = f"{day.month}月{day.day}日"
    fits = [o for o in orders if str(o.when or "").startswith(label)]
    return fits or orders


def on_cancel_pick(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    ids = [int(i) for i in slots.get("cancel_pick") or []]
    rest = {k: v for k, v in slots.items() if k != "cancel_pick"}
    if text.strip() == "0" or said_no(text, ctx):
        return idle("好的，订单保留，没有取消。", rest)
    pick = ctx.nlu.choice(text) if len(text) <= 12 else None
    if pick is None and len(ids) == 1 and said_yes(text, ctx):
        pick = 1
    if pick is not None and not 1 <= pick <= len(ids) and pick in ids:
        pick = ids.index(pick) + 1  # the order's own number ("9" for 订单9)
    if pick is not None and 1 <= pick <= len(ids):
        return idle(None, rest, actions=(Action("cancel_order", {"order": ids[pick - 1]}),))
    if len(ids) == 1:
        return retry(state, slots, ctx, "要取消请回复 1，不取消回复 0。")
    return retry(state, slots, ctx, f"请回复 1 到 {len(ids)} 选一个订单，0 都不取消。")


# -- rating (评单) and the volunteer's follow-ups ---------------------------------------------------


def on_rate(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    order = slots.get("rate_order")
    hearts = ctx.nlu.rating(text)
    if order is None:
        return idle(None, slots)
    if hearts is None and ctx.nlu.rating_guessed(text):  # "师傅来过了 修得挺好": thanks, and ask; never a guess
        return result(state, slots, "谢谢您告诉我们！请再回复一个 0 到 5 的数字，给志愿者几颗心（5 颗心最满意），"
                      "也可以说“满意”“一般”“不满意”。")
    if hearts is None:
        return retry(state, slots, ctx, "请回复 0 到 5 的数字（5 颗心最满意），也可以说“满意”“一般”“不满意”。")
    return result(RATE_COMMENT, {**slots, "misses": 0, "rated": hearts}, None,
                  actions=(Action("rate", {"order": order, "hearts": hearts}),))


def on_rate_comment(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    order = slots.get("rate_order")
    clean_slots = {k: v for k, v in slots.items() if k not in ("rate_order", "misses", "rated")}
    if order is None or ctx.nlu.is_no(text):
        return idle("好的，谢谢您！", clean_slots)
    again = ctx.nlu.rating(text) if len(text.strip()) <= 12 else None
    if again is not None and slots.get("rated") is not None:  # "给他五颗心" is a rating, not a comment
        if int(slots["rated"]) == again:
            return idle(f"好的，就是{again}颗心，已经记下了，谢谢您！", clean_slots)
        return idle(f"这一单刚才已经记为{slots['rated']}颗心，评价提交后不能在这里改了。"
                    "要更正请回复“人工”，社区工作人员帮您处理。", clean_slots)
    return idle(None, clean_slots, actions=(Action("comment", {"order": order, "comment": text}),))


def on_hours(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    hours = ctx.nlu.hours(text)
    if hours is None or hours <= 0:
        return retry(state, slots, ctx, "服务了几个小时？回复数字，比如“2”或“1.5”。")
    return idle(None, slots, actions=(Action("complete", {"order": slots.get("order"), "hours": hours}),))


def on_giveback_reason(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
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
    PROXY_NAME: on_proxy_name,
    PROXY_PHONE: on_proxy_phone,
    RATE: on_rate,
    RATE_COMMENT: on_rate_comment,
    ASK_HOURS: on_hours,
    ASK_GIVEBACK_REASON: on_giveback_reason,
}
assert State.IDLE not in STATE_HANDLERS
