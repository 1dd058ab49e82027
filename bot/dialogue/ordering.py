"""The resident's ordering and rating dialogue, and the volunteer's follow-up questions (pure).

The draft order lives in slots["draft"]. Whatever the first message already says (service, time,
address, phone) is kept; the dialogue asks only for what is missing, then shows a summary to
confirm. Every question accepts a correction of its own slot; a confusing answer is asked again
at most twice, then the bot offers staff (人工).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.dialogue.core import YES, Action, Context, Result, State, StateHandler, idle, result, retry
from bot.dialogue.messages import Incoming
from intents.masking import mask_phone, scrub
from intents.timeparse import when_text as appointment_text

ASK_SERVICE = State.ORDER_SERVICE
ASK_DETAILS = State.ORDER_DETAILS
ASK_TIME = State.ORDER_TIME
ASK_ADDRESS = State.ORDER_ADDRESS
ASK_PHONE = State.ORDER_PHONE
CONFIRM = State.ORDER_CONFIRM
EDIT = State.ORDER_EDIT
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
USE_OFFERED = frozenset({"1", "是", "是的", "对", "好", "好的", "用这个", "可以", "嗯", "就这个"})


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
              f"时间：{when_text(draft)}", f"地址：{draft.get('address')}", f"电话：{draft.get('phone')}",
              "回复 1 确认，2 修改，0 取消"]
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
        return result(ASK_TIME, slots, prefix + "什么时间方便？比如“明天上午九点”“周六下午”，或者说“越快越好”。")
    if not draft.get("address"):
        text = prefix + "服务地址是哪里？请说小区、楼栋和门牌号，也可以发送位置。"
        loc = slots.get("location")
        if loc and loc.get("label"):
            text += f"\n回复 1 使用您刚发的位置：{loc['label']}"
        return result(ASK_ADDRESS, slots, text)
    if not draft.get("phone"):
        phone = ctx.phone_on_file if not draft.get("for") else None
        text = prefix + "请留一个联系电话。"
        if phone:
            text += f"\n回复 1 使用 {mask_phone(phone)}，或直接发新号码。"
        return result(ASK_PHONE, slots, text)
    return result(CONFIRM, slots, prefix + summary(draft, ctx))


def ask_service(slots: Mapping[str, Any], ctx: Context) -> Result:
    return next_question({**slots, "draft": {}}, ctx)


# -- filling ------------------------------------------------------------------------------------


def _fill_from_text(draft: dict[str, Any], text: str, ctx: Context) -> dict[str, Any]:
    """Take whatever else this message says: time, address, phone (never overwriting with nothing)."""
    nlu = ctx.nlu
    if not draft.get("time_kind"):
        when = nlu.time(text, ctx.now)
        if when.kind != "unclear":
            draft.update(_time_slots(when))
    if not draft.get("address"):
        addr = nlu.address(text)
        if addr:
            draft["address"] = addr
    if not draft.get("phone"):
        phone = nlu.phone(text)
        if phone:
            draft["phone"] = phone
    return draft


def _time_slots(when: Any) -> dict[str, Any]:
    end = when.end if when.kind == "span" and when.end != when.start else None
    return {"time_kind": when.kind, "start": when.start.isoformat() if when.start else None,
            "end": end.isoformat() if end else None}


def _with_service(slots: Mapping[str, Any], code: str, text: str, ctx: Context) -> Result:
    draft = dict(slots.get("draft") or {})
    draft["service"] = code
    if not draft.get("details"):
        draft["details"] = text if len(text) > 4 else ctx.nlu.service_name(code)
    draft = _fill_from_text(draft, text, ctx)
    draft["details"] = scrub(draft["details"], draft.get("address"), draft.get("phone")) or ctx.nlu.service_name(code)
    name = ctx.nlu.service_name(code)
    return next_question({**slots, "draft": draft, "candidates": []}, ctx, prefix=f"好的，为您安排【{name}】。\n")


def _clarify(slots: Mapping[str, Any], codes: list[str], text: str, ctx: Context) -> Result:
    lines = ["您要的是哪一项？"] + [f"{i} {ctx.nlu.service_name(c)}" for i, c in enumerate(codes, 1)]
    lines.append("回复数字；都不是的话，换个说法再说一次。")
    draft = {**(slots.get("draft") or {}), "details": text}
    return result(ASK_SERVICE, {**slots, "draft": draft, "candidates": codes, "misses": 0}, "\n".join(lines))


def start_from_text(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    """Free text in the idle state: a request for a service, or not."""
    m = ctx.nlu.match(text)
    base = {**slots, "draft": {}}
    if m.decision == "accept" and m.service:
        return _with_service(base, m.service, text, ctx)
    if m.decision == "clarify" and m.candidates:
        return _clarify(base, [c for c, _ in m.candidates[:3]], text, ctx)
    return idle("这个我可能帮不上忙。需要志愿者帮忙的话，请直接说要做什么，比如“明天上午来修水管”；"
                "或回复“菜单”看看能做什么。", slots)


def start_proxy(slots: Mapping[str, Any], ctx: Context) -> Result:
    return result(PROXY_NAME, {**slots, "draft": {"for": {}}, "misses": 0},
                  "好的，帮家人下单。请问老人家怎么称呼？（如“王奶奶”）")


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
        if pick is not None and 1 <= pick <= len(codes):
            return _with_service(slots, codes[pick - 1], str((slots.get("draft") or {}).get("details") or ""), ctx)
    m = ctx.nlu.match(text)
    if m.decision == "accept" and m.service:
        return _with_service({**slots, "draft": {**(slots.get("draft") or {}), "details": None}}, m.service, text, ctx)
    if m.decision == "clarify" and m.candidates:
        return _clarify(slots, [c for c, _ in m.candidates[:3]], text, ctx)
    return retry(state, slots, ctx, "您需要什么服务？比如“理发”“修水管”“陪我去医院”。")


def on_details(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if len(text.strip()) < 2:
        return retry(state, slots, ctx, "请简单说说具体要做什么。")
    draft = {**(slots.get("draft") or {}), "details": text.strip()[:200]}
    return next_question({**slots, "draft": draft}, ctx)


def on_time(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    when = ctx.nlu.time(text, ctx.now)
    if when.kind == "unclear":
        return retry(state, slots, ctx, "什么时间方便？比如“明天上午九点”“周六下午三点”，或“越快越好”。")
    if when.start is not None and when.start < ctx.now:
        return retry(state, slots, ctx, "这个时间已经过去了，请说一个以后的时间。")
    draft = {**(slots.get("draft") or {}), **_time_slots(when)}
    draft = _fill_from_text(draft, text, ctx)
    return next_question({**slots, "draft": draft}, ctx)


def fill_location(slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    draft = {**(slots.get("draft") or {}), "address": inc.label or f"位置({inc.latitude},{inc.longitude})",
             "lat": inc.latitude, "lng": inc.longitude}
    return next_question({**slots, "draft": draft}, ctx, prefix="收到位置。")


def on_address(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    loc = slots.get("location")
    if loc and loc.get("label") and text.strip() in USE_OFFERED:
        draft = {**(slots.get("draft") or {}), "address": loc["label"], "lat": loc.get("lat"), "lng": loc.get("lng")}
        return next_question({**slots, "draft": draft}, ctx)
    addr = ctx.nlu.address(text) or (text.strip() if len(text.strip()) >= 4 and not text.strip().isdigit() else None)
    if not addr:
        return retry(state, slots, ctx, "请说详细地址：小区、楼栋、门牌号，比如“幸福小区3栋2单元501”。")
    draft = _fill_from_text({**(slots.get("draft") or {}), "address": addr[:200]}, text, ctx)
    return next_question({**slots, "draft": draft}, ctx)


def on_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if ctx.phone_on_file and text.strip() in USE_OFFERED and not (slots.get("draft") or {}).get("for"):
        phone: str | None = ctx.phone_on_file
    else:
        phone = ctx.nlu.phone(text)
    if not phone:
        return retry(state, slots, ctx, "请发一个手机或座机号码，比如 13800138000。")
    draft = {**(slots.get("draft") or {}), "phone": phone}
    return next_question({**slots, "draft": draft}, ctx)


def on_confirm(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    word = text.strip()
    if word in YES:
        return idle(None, slots, actions=(Action("submit_order", dict(slots.get("draft") or {})),))
    if word in NO_CHANGE:
        return result(EDIT, {**slots, "misses": 0}, "要改哪一项？\n" + "\n".join(
            f"{n} {label}" for n, (_k, label) in EDIT_CHOICES.items()))
    if word in ABORT:
        return idle("好的，订单已取消，没有提交。", slots)
    # a correction said straight out ("改成后天上午", "地址是…"): apply what can be read from it
    draft = dict(slots.get("draft") or {})
    changed = _apply_correction(draft, word, ctx)
    if changed:
        return next_question({**slots, "draft": draft}, ctx, prefix="已修改。")
    return retry(state, slots, ctx, "请回复 1 确认，2 修改，0 取消。")


def _apply_correction(draft: dict[str, Any], text: str, ctx: Context) -> bool:
    body = re.sub(r"^(改成|改为|换成|改到|不是|应该是)", "", text)
    changed = False
    when = ctx.nlu.time(body, ctx.now)
    if when.kind != "unclear" and (when.start is None or when.start >= ctx.now):
        draft.update(_time_slots(when))
        changed = True
    addr = ctx.nlu.address(body)
    if addr:
        draft["address"] = addr
        changed = True
    phone = ctx.nlu.phone(body)
    if phone:
        draft["phone"] = phone
        changed = True
    return changed


def on_edit(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    pick = ctx.nlu.choice(text)
    if pick is None:
        for n, (_k, label) in EDIT_CHOICES.items():
            if label in text:
                pick = n
    if pick not in EDIT_CHOICES:
        return retry(state, slots, ctx, "请回复 1-5 选择要改的项目。")
    key, _label = EDIT_CHOICES[pick]
    draft = dict(slots.get("draft") or {})
    if key == "time":
        for k in ("time_kind", "start", "end"):
            draft.pop(k, None)
    else:
        draft.pop(key, None)
    if key == "service":
        draft.pop("details", None)
        return result(ASK_SERVICE, {**slots, "draft": draft, "candidates": [], "misses": 0},
                      "请说您需要什么服务，比如“理发”“修水管”。")
    return next_question({**slots, "draft": draft}, ctx)


# -- rating (评单) and the volunteer's follow-ups ---------------------------------------------------


def on_rate(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    order = slots.get("rate_order")
    hearts = ctx.nlu.rating(text)
    if order is None:
        return idle(None, slots)
    if hearts is None:
        return retry(state, slots, ctx, "请回复 0 到 5 的数字（5 颗心最满意），也可以说“满意”“一般”“不满意”。")
    return result(RATE_COMMENT, {**slots, "misses": 0}, None,
                  actions=(Action("rate", {"order": order, "hearts": hearts}),))


def on_rate_comment(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    order = slots.get("rate_order")
    clean_slots = {k: v for k, v in slots.items() if k not in ("rate_order", "misses")}
    if order is None or ctx.nlu.is_no(text):
        return idle("好的，谢谢您！", clean_slots)
    return idle(None, clean_slots, actions=(Action("comment", {"order": order, "comment": text}),))


def on_hours(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    hours = ctx.nlu.hours(text)
    if hours is None or hours <= 0:
        return retry(state, slots, ctx, "服务了几个小时？回复数字，比如“2”或“1.5”。")
    return idle(None, slots, actions=(Action("complete", {"order": slots.get("order"), "hours": hours}),))


def on_giveback_reason(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if len(text.strip()) < 2:
        return retry(state, slots, ctx, "请简单说一下退单原因，比如“临时生病”。")
    return idle(None, slots, actions=(Action("give_back", {"order": slots.get("order"), "reason": text.strip()}),))


STATE_HANDLERS: dict[str, StateHandler] = {
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
