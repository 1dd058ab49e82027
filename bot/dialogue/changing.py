"""Changing an order already submitted, in chat (pure): which order, the new time, address or phone, confirmed.

"12号订单时间改到后天上午", "地址错了 是6号楼不是3号楼", "电话换成139…", "不是明天 是后天" said with no order being
made: the change is read with the ordering dialogue's own correction and slot parsers, the order found (the number
said, the only open one, or one picked from the list), the change shown and confirmed, then asked of the domain
(Action "edit_order": order, field, value). Whether the order may still change is the domain's to say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.dialogue import ordering
from bot.dialogue.core import (
    Action,
    Context,
    OpenOrder,
    Result,
    State,
    StateHandler,
    idle,
    kept,
    result,
    retry,
    said_no,
    said_yes,
    wrong_phone_words,
)
from bot.dialogue.messages import Incoming

PICK, ASK, CONFIRM = State.CHANGE_PICK, State.CHANGE_ASK, State.CHANGE_CONFIRM
CHANGE = "change"  # slots[CHANGE]: the order (its ref and what it was), the field, what was said, the new value
FIELDS: Mapping[str, str] = {"time": "时间", "address": "地址", "phone": "电话"}
FIELD_CHOICES: Mapping[int, str] = {1: "time", 2: "address", 3: "phone"}
EDIT_ACTION = "edit_order"

# "12号订单" / "第12号单子" / "订单 490454" / "单号490454": the order named by its number (not "3单元", "6号楼")
_ORDER_NAMED = re.compile(r"(?:第\s*)?(?P<a>\d{1,19})\s*号?\s*(?:订单|单子|单(?![元位]))|"
                          r"(?:订单|单子|单号)\s*(?:号|#)?\s*(?P<b>\d{1,19})\s*号?")
# what is left of "我要改一下订单的时间" once the change words are gone: nothing new said yet
_CHANGE_WORDS = re.compile(r"我要|我想|想要|帮我|麻烦|能不能|可以|可不可以|要|想|把|给|改一下|改下|改个|改改|修改|"
                           r"更改|变更|换一下|换下|换个|改|换|一下|我的|那个|刚才的?|订单|单子|的|时间|日子|地址|住址|电话|手机号?|号码|"
                           r"[\s,，。.!！?？吗呢吧啊呀]")


def names_an_order(text: str) -> bool:
    """"12号订单时间改到后天上午": a change of an order named by its number, heard even while a rating waits."""
    return named_order(text)[0] is not None

_SIGH = re.compile(r"^(?:哎呀|哎哟|哎|唉|哦|噢|嗯|呃|啊|那个)+[\s,，。]*")


def named_order(text: str) -> tuple[int | None, str]:
    """The order number said with its order word ("12号订单"), and the text without it."""
    m = _ORDER_NAMED.search(text)
    if m is None:
        return None, text
    number = int(m.group("a") or m.group("b"))
    return number, (text[:m.start()] + " " + text[m.end():]).strip()


def _line(o: Mapping[str, Any], ctx: Context, when: bool = True) -> str:
    name = ctx.nlu.service_name(str(o.get("service"))) if o.get("service") else ""
    what = "，".join(x for x in (name, str(o.get("when") or "") if when else "") if x)
    return f"订单{o['id']}（{what}）" if what else f"订单{o['id']}"


def _order_data(o: OpenOrder) -> dict[str, Any]:
    return {"id": o.id, "service": o.service, "when": o.when, "time_kind": o.time_kind, "start": o.start,
            "end": o.end, "address": o.address, "state": o.state}


HELD = frozenset({"accepted", "supported"})  # a volunteer holds it (serviceloop.edits.HELD)


def _under_way(order: Mapping[str, Any], ctx: Context) -> bool:
    """A volunteer holds the order and its time has come (an accepted 尽快 order at once): the domain would refuse
    a change, so it is said before any question (the edge read the state with the open orders)."""
    if order.get("state") not in HELD or not order.get("start"):
        return False
    try:
        return datetime.fromisoformat(str(order["start"])) <= ctx.now
    except ValueError:
        return False


def _read(text: str, ctx: Context, slot: str | None) -> tuple[str | None, str, str]:
    """(the field, the new value as said, the old one as said) of a change's words; the value "" when none."""
    text = _SIGH.sub("", text) or text  # "哎呀 不是明天 是后天"
    fix = ctx.nlu.correction(text)
    if fix is not None:
        field = fix.slot or slot or (ordering._slot_of(fix.value, ctx) if fix.value else None)
        value = fix.value
        if value and field is not None and field in FIELDS and not _reads_as(field, value, ctx):
            value = ""  # "改一下时间": the words of the change, no new time
        return field, value, fix.old
    rest = _CHANGE_WORDS.sub("", text)
    if rest and slot is None:
        slot = ordering._slot_of(rest, ctx)
    value = text if rest and slot is not None and slot in FIELDS and _reads_as(slot, text, ctx) else ""
    return slot, value, ""


def _reads_as(field: str, value: str, ctx: Context) -> bool:
    if field == "time":
        return bool(ctx.read_time(value).is_clear)
    if field == "phone":
        return bool(ctx.nlu.phone(value)) or wrong_phone_words(value) is not None
    return bool(ctx.nlu.address(value, loose=True)) or bool(re.search(r"\d", value))


BACK = "change_back"  # slots[BACK]: the order being made when a submitted one was named for a change (kept)


def names_open_order(text: str, ctx: Context) -> bool:
    """"254623号订单地址错了" said while another order is being made: that number is one of the sender's open
    orders, so the change is of it, not of the draft (a correction without a number still corrects the draft)."""
    number = named_order(text)[0]
    return number is not None and any(o.id == number for o in ctx.open_orders or ())


def _end(slots: Mapping[str, Any], ctx: Context, told: str | None, actions: tuple[Action, ...] = ()) -> Result:
    """The change over (made, or not): back to the order being made if one was kept, else idle."""
    back = slots.get(BACK)
    if isinstance(back, Mapping) and back.get("slots"):
        return ordering.back_to_draft(dict(back["slots"]), ctx, told or "", actions)
    rest = {k: v for k, v in slots.items() if k not in (CHANGE, "misses", BACK)}
    return idle(told, rest, actions=actions)


def called_off(slots: Mapping[str, Any], ctx: Context) -> Result:
    """"算了不要了" at a change's question: the change is dropped, never the order (said plainly, with the way to
    cancel it)."""
    order = dict((slots.get(CHANGE) or {}).get("order") or {})
    if order.get("id"):
        told = f"好的，不改了，订单{order['id']}还在。要取消整个订单请回复“取消订单 {order['id']}”。"
    else:
        told = "好的，订单都没有改。要取消订单请回复“取消订单 编号”。"
    return _end(slots, ctx, told)


def start(slots: Mapping[str, Any], ctx: Context, text: str, slot: str | None, number: int | None,
          state: str | None = None) -> Result:
    """A change of a submitted order asked for (ordering.change_asked found it); `state`: the order being made
    when one is (its draft kept for after the change)."""
    if state is not None and state in ordering.ORDERING and (slots.get("draft") or {}).get("service"):
        draft_kept = {**kept(slots), BACK: {"slots": dict(slots)}}
        res = start(draft_kept, ctx, text, slot, number)
        if res.state in STATE_HANDLERS:
            name = ctx.nlu.service_name(str(slots["draft"]["service"]))
            note = f"（正在填的【{name}】订单先给您留着，改完接着填。）\n"
            return result(res.state, res.slots, note + (res.reply or ""), actions=res.actions)
        return _end(draft_kept, ctx, res.reply, res.actions) if res.reply or res.actions else res
    said_number, rest = named_order(text)
    field, value, old = _read(rest, ctx, slot)
    if said_number is not None or (number is not None and str(number) in value):
        number = said_number  # "电话换成1391234": the digits are the new phone, not an order's number
    if field is not None and field not in FIELDS:  # what the order is for or what to do: changed here, if it reads
        content = content_asked(text, ctx)
        if content is not None:
            return start_content(slots, ctx, content)
        return ordering.change_reply(slots, ctx, field, number)
    change: dict[str, Any] = {"field": field, "said": value, "old": old, "text": rest}
    base = {**kept(slots), **({BACK: slots[BACK]} if slots.get(BACK) else {})}
    mine = ctx.open_orders
    found = next((o for o in mine or () if o.id == number), None) if number is not None else None
    if found is not None:
        return _advance(base, ctx, {**change, "order": _order_data(found)})
    if number is not None:  # not among the sender's open orders: the domain says why (done, cancelled, not theirs)
        return idle(None, slots, actions=(Action(EDIT_ACTION, {"order": number, "field": field,
                                                               "value": _plain_value(field, value, ctx)}),))
    if mine is None:  # the edge did not read the open orders: the domain lists them
        return idle("要改哪个订单？请带上订单编号说，比如“12号订单时间改到后天上午”。", slots,
                    actions=(Action("my_orders"),))
    if not mine:
        return idle("您现在没有进行中的订单，不用改。需要帮忙直接说，比如“明天上午来修水管”。", slots)
    picks = list(mine)
    if len(picks) > 1 and old and field == "time":  # "不是明天 是后天": the order of tomorrow
        picks = ordering._on_the_day_said(picks, old, ctx)
    if len(picks) == 1:
        return _advance(base, ctx, {**change, "order": _order_data(picks[0])})
    lines = [f"您有{len(picks)}个订单还没完成，要改哪一个？"]
    lines += [f"{i} {_line(_order_data(o), ctx)}" for i, o in enumerate(picks, 1)]
    lines.append("回复数字；0 都不改。")
    picked = {**change, "picks": [_order_data(o) for o in picks]}
    return result(PICK, {**base, CHANGE: picked, "misses": 0}, "\n".join(lines))


def _plain_value(field: str | None, said: str, ctx: Context) -> Any:
    """A change read without the order's own data (an order not among the sender's open ones): on its own."""
    if not said or field not in FIELDS:
        return None
    resolved = _resolve({"field": field, "said": said, "text": said, "order": {}}, ctx)
    return resolved[0] if isinstance(resolved, tuple) else None


def _resolve(change: Mapping[str, Any], ctx: Context) -> tuple[Any, str] | str | None:
    """The new value and how it reads, from what was said and the order's own; a str: why it cannot be taken
    (a time past, a phone with digits missing); None: nothing readable."""
    field, said, order = change.get("field"), str(change.get("said") or ""), dict(change.get("order") or {})
    if field == "time":
        when = ctx.read_time(said)
        if not when.is_clear:
            return None
        draft = {k: order.get(k) for k in ordering.TIME_KEYS if order.get(k)}
        scratch = ordering._apply_time({}, draft, when, ctx)
        if not draft.get("time_kind"):
            passed = str(scratch.get("time_passed") or "这个时间已经过去了。")
            return f"{passed}请说一个以后的时间，比如“后天上午”。"
        value = {k: draft.get(k) for k in ordering.TIME_KEYS}
        return value, ordering.when_text(draft)
    if field == "address":
        if change.get("base"):  # said again at the confirmation: read against the new address being confirmed
            order = {**order, "address": change["base"]}
        door: dict[str, Any] = {"address": order["address"]} if order.get("address") else {}
        swapped = ordering._swapped_address(str(change.get("text") or said), door, ctx)
        if swapped is not None:
            return swapped[:200], swapped[:200]
        _s, changed = ordering._apply_slot({}, door, "address", said, ctx)
        if not changed:
            return None
        address = str(door["address"])
        part = ctx.nlu.address(said, loose=True)  # "是3号楼": only the building changes, its unit and room stay
        if part and order.get("address") and not ctx.nlu.same_address_as_last(said):
            address = ctx.nlu.merge_address(str(order["address"]), part, keep_lower=True)[:200]
        return address, address
    if field == "phone":
        phone = ctx.nlu.phone(said)
        if phone:
            return phone, phone
        return wrong_phone_words(said)
    return None


def _question(field: str, order: Mapping[str, Any], ctx: Context) -> str:
    if field == "time":
        return f"{_line(order, ctx)}要改到什么时间？比如“后天上午”“周六下午三点”。"
    if field == "address":
        return f"{_line(order, ctx)}的新地址是哪里？请说小区、楼栋和门牌号。"
    return f"{_line(order, ctx)}的新电话号码是多少？"


def _fields_question(order: Mapping[str, Any], ctx: Context) -> str:
    lines = [f"{_line(order, ctx)}要改什么？"] + [f"{n} {FIELDS[f]}" for n, f in FIELD_CHOICES.items()]
    lines.append("回复数字，或直接说，比如“时间改到后天上午”。")
    return "\n".join(lines)


def _advance(slots: Mapping[str, Any], ctx: Context, change: Mapping[str, Any], prefix: str = "") -> Result:
    """Ask for what the change still lacks (which field, the new value), else show it and ask to confirm."""
    change = {k: v for k, v in change.items() if k != "picks"}
    if change.get("field") in CONTENT:
        return _advance_content(slots, ctx, change)
    order = dict(change.get("order") or {})
    base = {**kept(slots), **({BACK: slots[BACK]} if slots.get(BACK) else {}), CHANGE: change, "misses": 0}
    field = change.get("field")
    under_way = _under_way(order, ctx)
    if under_way and field != "address":  # only a wrong door is passed on once the service began
        return _end(slots, ctx, f"{prefix}订单{order['id']}的服务已经开始了，不能再改。要帮忙请回复“人工”。")
    if field not in FIELDS:
        return result(ASK, base, prefix + _fields_question(order, ctx))
    if not change.get("said"):
        return result(ASK, base, prefix + _question(str(field), order, ctx))
    resolved = _resolve(change, ctx)
    if not isinstance(resolved, tuple):
        again = {**base, CHANGE: {**change, "said": ""}}
        return result(ASK, again, prefix + (resolved or "没太明白。") + ("" if resolved else
                                                                      _question(str(field), order, ctx)))
    value, shown = resolved
    if field == "time":
        was = str(order.get("when") or "")
    else:
        was = str(order.get("address") or "") if field == "address" else ""
    if was and was == shown:
        return _end(slots, ctx, f"{_line(order, ctx)}的{FIELDS[str(field)]}本来就是{shown}，不用改。")
    change = {**change, "value": value, "shown": shown}
    what = f"{_line(order, ctx, when=field != 'time')}的{FIELDS[str(field)]}" + (f"从{was}" if was else "")
    more = [e for e in change.get("more", ()) if e["field"] != field]
    if more:  # an earlier change of another field still waiting: both in one question
        what = f"{_line(order, ctx, when=False)}的" + "，".join(f"{FIELDS[e['field']]}改成{e['shown']}" for e in more)
        what += f"，{FIELDS[str(field)]}"
    change = {**change, "more": more}
    if under_way:
        change = {**change, "more": [], "hand_over": True}
        began = f"{prefix}订单{order['id']}的服务已经开始了，志愿者可能已经在路上。"
        return result(CONFIRM, {**base, CHANGE: change},
                      f"{began}要把新地址{shown}马上转告接单的志愿者和社区工作人员吗？\n回复 1 转告，0 不用。")
    return result(CONFIRM, {**base, CHANGE: change}, f"{prefix}要把{what}改成{shown}吗？\n"
                  + _kept_door_note(field, order, change, ctx) + "回复 1 确认修改，0 不改。")


def _kept_door_note(field: Any, order: Mapping[str, Any], change: Mapping[str, Any], ctx: Context) -> str:
    """When a partial correction kept the old unit or room ("是3号楼" of …2号楼1单元302), a line saying so."""
    part = ctx.nlu.address(str(change.get("said") or ""), loose=True) if field == "address" else None
    old = change.get("base") or order.get("address")
    if not part or not old:
        return ""
    if ctx.nlu.merge_address(str(old), part) == str(change.get("value") or ""):
        return ""
    return "（单元、门牌按原来的填了；如果也变了，请直接说完整的新地址。）\n"


def on_pick(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    change = dict(slots.get(CHANGE) or {})
    picks = list(change.get("picks") or [])
    if text.strip() == "0" or said_no(text, ctx):
        return _end(slots, ctx, "好的，订单都没有改。")
    number, _rest = named_order(text)
    pick = ctx.nlu.choice(text) if len(text) <= 12 else None
    ids = [int(p["id"]) for p in picks]
    if number is not None and number in ids:
        pick = ids.index(number) + 1
    elif pick is not None and not 1 <= pick <= len(ids) and pick in ids:
        pick = ids.index(pick) + 1  # the order's own number ("490454")
    if pick is not None and 1 <= pick <= len(picks):
        return _advance(slots, ctx, {**change, "order": picks[pick - 1]})
    return retry(state, slots, ctx, f"请回复 1 到 {len(picks)} 选一个订单，0 都不改。")


def on_ask(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    change = dict(slots.get(CHANGE) or {})
    order = dict(change.get("order") or {})
    if text.strip() == "0" or said_no(text, ctx) or text.strip() in ("不改了", "不用改了", "算了"):
        return _end(slots, ctx, f"好的，{_line(order, ctx)}没有改。")
    field = change.get("field")
    if field not in FIELDS:
        pick = ctx.nlu.choice(text) if len(text) <= 4 else None
        if pick is not None and pick in FIELD_CHOICES:
            return _advance(slots, ctx, {**change, "field": FIELD_CHOICES[pick]})
        said_field, value, old = _read(text, ctx, None)
        if said_field not in FIELDS:
            return retry(state, slots, ctx, "请回复 1 时间，2 地址，3 电话。")
        return _advance(slots, ctx, {**change, "field": said_field, "said": value, "old": old, "text": text})
    said_field, value, old = _read(text, ctx, str(field))
    if said_field in FIELDS and said_field != field and value:  # "电话换成…" asked for the time: that, then
        return _advance(slots, ctx, {**change, "field": said_field, "said": value, "old": old, "text": text})
    value = value or (text if _reads_as(str(field), text, ctx) else "")
    if not value:
        return retry(state, slots, ctx, _question(str(field), order, ctx))
    return _advance(slots, ctx, {**change, "said": value, "old": old, "text": text})


def on_confirm(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    change = dict(slots.get(CHANGE) or {})
    order = dict(change.get("order") or {})
    word = text.strip()
    if word == "2" and change.get("other"):  # "顺便换个灯泡" is another service: its own order, not this one's
        rest = {k: v for k, v in kept(slots).items() if k not in (CHANGE, "misses", BACK)}
        return ordering.start_from_text(rest, inc, ctx, str(change.get("said") or ""))
    if said_yes(word, ctx) or word in ("确认修改", "改吧", "改", "就这样改", "加上", "转告"):
        edits = [*change.get("more", ()), {"field": change.get("field"), "value": change.get("value")}]
        hand_over = {"hand_over": True} if change.get("hand_over") else {}
        return _end(slots, ctx, None, tuple(Action(EDIT_ACTION, {"order": order.get("id"), "field": e["field"],
                                                                   "value": e["value"], **hand_over,
                                                                   **({"more": True} if i < len(edits) - 1 else {})})
                                            for i, e in enumerate(edits)))
    if word == "0" or said_no(word, ctx) or word in ("不改了", "不用改了", "算了", "不改"):
        return _end(slots, ctx, f"好的，{_line(order, ctx)}没有改。")
    field, value, old = _read(word, ctx, None)  # "不对 是后天下午": the change said again
    if field in FIELDS and value:
        more = [e for e in change.get("more", ()) if e["field"] != field]
        if field != change.get("field"):  # "电话换成139…" after "要把地址改成…吗？": both changes, one confirmation
            more.append({"field": change.get("field"), "value": change.get("value"), "shown": change.get("shown")})
        base = change.get("value") if field == change.get("field") == "address" else None  # "单元也变了 是2单元402"
        return _advance(slots, ctx, {**change, "field": field, "said": value, "old": old, "text": word, "more": more,
                                     "base": base})
    return retry(state, slots, ctx, "要这样改请回复 1，不改回复 0。")


# -- what the order is for, and what to do: "不是理发 是修水管", "再加一样 顺便换个灯泡", "内容改成…" ----------------

CONTENT: Mapping[str, str] = {"service": "服务", "details": "内容"}
# "不是理发 是修水管" / "不要理发了 换成修水管": the service said wrong, the right one after it
_SWAP = re.compile(r"(?:不是|不要|不做|不用|别)(?P<old>[^，,。\s]{1,12}?)了?[\s,，。]*"
                   r"(?:而?是|要|改成|换成|改为|改做|换做)(?P<new>[^，,。]{1,20})$")
# "理发改成修水管" / "订单改成修水管" / "服务换成打扫卫生": what comes after the change word
_TO = re.compile(r"(?:改成|换成|改为|改做|换做|改|换)(?:了|一下|下)?(?:成)?(?P<new>[^，,。]{1,20})$")
_ORDER_WORDS = re.compile(r"订单|单子|服务|项目|预约")
_DROPPED = re.compile(r"(?:不要|不用|不做|不想要|算)了?")
# "内容改成剪短一点" / "要做的事改成…": the content said anew
_CONTENT = re.compile(r"(?:内容|要做的事情?|要干的活|需求|要求)(?:要|想)?(?:改成|换成|改为|是)[:：]?\s*(?P<new>.+)$")
# "再加一样 顺便换个灯泡" / "另外 帮我把窗户擦擦" / "补充一下 要剪短": more to do on the same visit
_ADD = re.compile(r"^(?:(?:再|还|另外|顺便|顺带|然后|也)\s*)*(?:加|添)(?:一样|一项|一个|个|点|上|一点)?"
                  r"(?:东西|事|活)?[\s,，。:：]*|顺便|顺带|补充(?:一下|一句|一点)?[:：]?|另外(?:再)?|"
                  r"(?:再|也|还要|还得)帮(?:我|俺|忙)")
_ADD_FILLER = re.compile(r"^[\s,，。:：]*(?:再|还|也|帮我|帮俺|帮忙|给我|给俺|一下|麻烦)*|[\s,，。!！?？吧啊呀]+$")
# "顺便问下 你们几点下班": a question said by the way, not more to do
_QUESTION = re.compile(r"问一?下|请问|吗|[?？]|几点|多少|怎么|什么|啥时|哪")


# the words of an appointment ("软一点" / "剪短一点" are no time)
_WHEN_WORDS = re.compile(r"今天|明天|后天|上午|下午|晚上|早上|中午|周[一二三四五六日天]|礼拜|星期|"
                         r"\d+\s*[点号:：]|点钟|尽快")


def _new_order_slot(said: str, ctx: Context) -> bool:
    """"顺便帮我约个理发 明天上午 幸福小区6栋": a time, a place or a phone of its own: a new order, not more to do."""
    found = ctx.read_slots(said)
    return bool(found.address) or bool(found.phone) or (found.time.is_clear and bool(_WHEN_WORDS.search(said)))


def content_asked(text: str, ctx: Context) -> dict[str, Any] | None:
    """A change of what a submitted order is for or what is to be done, said with open orders: {"field": "service",
    "new": the code (None: no such service), "said", "old": the code said wrong} or {"field": "details", "said",
    "add"}; with the order's number when one was said. None: not such a change (a time, an address, a new request)."""
    if not ctx.open_orders:
        return None
    text = _SIGH.sub("", text) or text
    number, rest = named_order(text)
    rest = rest.strip()
    m = _CONTENT.search(rest)
    if m is not None:
        said = m.group("new").strip()
        code = ordering.service_asked(said, ctx)
        if code is not None and all(o.service != code for o in ctx.open_orders):
            return {"field": "service", "new": code, "said": said, "old": None, "number": number}
        return {"field": "details", "said": said, "add": False, "number": number} if len(said) >= 2 else None
    m = _SWAP.search(rest)
    if m is not None:
        old, said = m.group("old"), m.group("new").strip()
        old_code, code = ordering.service_asked(old, ctx), ordering.service_asked(said, ctx)
        if old_code is not None and (code is not None or ordering._slot_of(said, ctx) is None):
            return {"field": "service", "new": code, "said": said, "old": old_code, "number": number}
        if old_code is None and ordering._slot_of(old, ctx) is not None:
            return None  # "不是明天 是后天": a time (changing.start reads it)
    m = _TO.search(rest)
    if m is not None and not _ADD.match(rest):
        head, said = rest[:m.start()], m.group("new").strip()
        code = ordering.service_asked(said, ctx)
        head = _DROPPED.sub(" ", head)  # "理发不要了 改成修水管"
        old_code = ordering.service_asked(head, ctx) if head.strip() else None
        if code is not None and code != old_code and (old_code or number is not None or _ORDER_WORDS.search(head)):
            return {"field": "service", "new": code, "said": said, "old": old_code, "number": number}
        return None
    if _ADD.match(rest):  # said first: "我想找人修水管 顺便帮我理个发" is a new request of two services
        said = _ADD_FILLER.sub("", _ADD.sub(" ", rest)).strip()
        if len(said) >= 2 and ctx.nlu.correction(said) is None and not _QUESTION.search(said) \
                and not _new_order_slot(said, ctx):
            return {"field": "details", "said": said, "add": True, "number": number}
    return None


def start_content(slots: Mapping[str, Any], ctx: Context, found: Mapping[str, Any]) -> Result:
    """Which order the service or content change is of (the number said, the one of the service said wrong, the
    only one open, else asked), then `_advance_content`."""
    mine = list(ctx.open_orders or ())
    number = found.get("number")
    change = {k: v for k, v in found.items() if k != "number"}
    base = {**kept(slots), **({BACK: slots[BACK]} if slots.get(BACK) else {})}
    if number is not None:
        picks = [o for o in mine if o.id == number]
        if not picks:
            return _end(slots, ctx, f"您没有还在进行的订单{number}。要看订单编号请回复“我的订单”。")
    else:
        picks = [o for o in mine if o.service == found.get("old")] or mine
    if len(picks) == 1:
        return _advance_content(base, ctx, {**change, "order": _order_data(picks[0])})
    lines = [f"您有{len(picks)}个订单还没完成，要改哪一个？"]
    lines += [f"{i} {_line(_order_data(o), ctx)}" for i, o in enumerate(picks, 1)]
    lines.append("回复数字；0 都不改。")
    return result(PICK, {**base, CHANGE: {**change, "picks": [_order_data(o) for o in picks]}, "misses": 0},
                  "\n".join(lines))


def _advance_content(slots: Mapping[str, Any], ctx: Context, change: Mapping[str, Any]) -> Result:
    """A service change shown and confirmed while nobody holds the order (declined plainly once someone does, with
    the way to cancel and order again); more to do shown and confirmed, to be passed on to whoever does it."""
    order = dict(change.get("order") or {})
    ref, field, said = order.get("id"), change.get("field"), str(change.get("said") or "")
    base = {**kept(slots), **({BACK: slots[BACK]} if slots.get(BACK) else {}), "misses": 0}
    held = order.get("state") in HELD
    name = ctx.nlu.service_name(str(order.get("service"))) if order.get("service") else "原来的服务"
    if _under_way(order, ctx) and field == "service":  # more to do is still passed on to the volunteer (below)
        return _end(slots, ctx, f"订单{ref}的服务已经开始了，不能再改。要帮忙请回复“人工”。")
    if field == "service":
        new = change.get("new")
        if held:
            return _end(slots, ctx, f"订单{ref}（{name}）已经有志愿者接了，不能换成别的服务。\n"
                        f"要换的话，请回复“取消订单 {ref}”，再重新下一单。")
        if not new:
            return _end(slots, ctx, f"我们这里还没有“{said[:10]}”这项服务，订单{ref}还是【{name}】，没有改。\n"
                        "要帮忙请回复“人工”。")
        if new == order.get("service"):
            return _end(slots, ctx, f"订单{ref}本来就是【{name}】，不用改。")
        shown = ctx.nlu.service_name(str(new))
        ready = {**change, "value": new, "shown": shown, "more": []}
        return result(CONFIRM, {**base, CHANGE: ready}, f"要把订单{ref}从【{name}】改成【{shown}】吗？"
                      "改了会重新帮您找志愿者。\n回复 1 确认修改，0 不改。")
    value = {"text": said, "add": bool(change.get("add"))}
    ready = {**change, "value": value, "shown": said, "more": []}
    if held:
        return result(CONFIRM, {**base, CHANGE: ready}, f"订单{ref}（{name}）已经有志愿者接了。"
                      f"要把“{said}”转告接单的志愿者和社区工作人员吗？\n回复 1 转告，0 不用。")
    other = ordering.service_asked(said, ctx) if change.get("add") else None
    doing = f"要在订单{ref}（{name}）里加上" if change.get("add") else f"要把订单{ref}（{name}）的内容改成"
    question = f"{doing}“{said}”吗？\n回复 1 确认，0 不用。"
    if other is not None and other != order.get("service"):
        ready = {**ready, "other": other}
        question += f"\n这是【{ctx.nlu.service_name(other)}】，要另下一单请回复 2。"
    return result(CONFIRM, {**base, CHANGE: ready}, question)


STATE_HANDLERS: dict[str, StateHandler] = {PICK: on_pick, ASK: on_ask, CONFIRM: on_confirm}

