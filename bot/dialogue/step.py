"""The conversation core: a pure step function over rule and state tables (no Flask, SQL, network or clock).

step(state, slots, message, context) -> Result(new state, slots, passive reply, outbox, effects, actions)

Events go through RULES; text goes through global commands (valid in every state), then the
handler of the current state (STATE_HANDLERS), then the idle handler. Actions are requests to
the domain (submit an order, accept one...) that the edge performs in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.dialogue import changing, followups, ordering, registration, safety, volunteering
from bot.dialogue.core import (
    CALLOUT_ANSWERS,
    CALLOUT_SLOT,
    CLICK_KEYS,
    LABEL_CHARS,
    MENU_ACTIONS,
    MENU_ITEMS,
    Action,
    Context,
    Effect,
    Handler,
    OpenOrder,
    Result,
    State,
    StateHandler,
    clean,
    idle,
    is_volunteer,
    kept,
    menu_for,
    menu_lines,
    merge_tables,
    result,
)
from bot.dialogue.messages import Incoming
from intents.commands import NAMES as COMMAND_NAMES
from intents.commands import SMALL_TALK_KINDS, CancelRequest, split_call_off

IDLE, HUMAN = State.IDLE, State.HUMAN


# Every dialogue state's handler, from the flows; each state has exactly one (checked below).
STATE_HANDLERS: dict[str, StateHandler] = merge_tables(
    "dialogue states", ordering.STATE_HANDLERS, registration.STATE_HANDLERS, volunteering.STATE_HANDLERS,
    changing.STATE_HANDLERS)
_unhandled = set(State) - {IDLE, HUMAN} - set(STATE_HANDLERS)
if _unhandled:
    raise ValueError(f"dialogue states without a handler: {sorted(_unhandled)}")

# -- events -------------------------------------------------------------------------------------


def on_subscribe(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    text = "您好，感谢关注！" + menu_for(ctx)
    own = _volunteer_scene(state, slots, inc, ctx)  # a volunteer or merchant QR code starts its dialogue
    if own is not None:
        return replace(own, reply=f"您好，感谢关注{ctx.hub_name}！\n{own.reply or ''}".rstrip(),
                       effects=(Effect("subscribed", {"scene": inc.scene}),))
    return idle(text, effects=(Effect("subscribed", {"scene": inc.scene}),), actions=_event_scene(inc))


def _event_scene(inc: Incoming) -> tuple[Action, ...]:
    """Issue 6: a QR code with an "event..." scene (posters for 雷锋一条街) opts the person in to event reminders."""
    if inc.scene and inc.scene.startswith("event"):
        return (Action("subscribe_events", {"source": f"qr:{inc.scene}"[:100]}),)
    return ()


def on_unsubscribe(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return idle(None, effects=(Effect("unsubscribed"),))


def _volunteer_scene(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result | None:
    """Issue 5: "volunteer..." scenes start registration; "merchant_redeem_<id>" starts a redemption there."""
    if inc.scene and inc.scene.startswith("volunteer"):
        return registration.start(slots, ctx, source=f"qr:{inc.scene}"[:100])
    code = volunteering.scanned_code(inc.scene)
    if code is not None:
        return volunteering.start_code_scan(slots, code)
    merchant = volunteering.scanned_merchant(inc.scene)
    return None if merchant is None else volunteering.start_scan_redeem(slots, ctx, merchant)


def on_scan(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    own = _volunteer_scene(state, slots, inc, ctx)
    if own is not None:
        return own
    if _event_scene(inc):  # an event poster's code answers with the subscription, not the menu
        return result(state, {**slots, "last_scene": inc.scene}, None, actions=_event_scene(inc))
    return result(state, {**slots, "last_scene": inc.scene}, f"已收到扫码（{inc.scene}）。" + menu_for(ctx))


def on_template_finish(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(state, slots, None, effects=(Effect("template_result", {"status": inc.event_key}),))


def on_location(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    label = (inc.label or "")[:LABEL_CHARS] or None  # a place name; a longer one is not echoed or kept whole
    loc = {"lat": inc.latitude, "lng": inc.longitude, "label": label}
    new_slots = {**slots, "location": loc}
    if inc.kind == "event":  # periodic location report: remember silently
        return result(state, new_slots, None)
    if state == ordering.ASK_ADDRESS:  # the address question answered with a location
        return ordering.fill_location(new_slots, inc, ctx)
    where = label or "您发送的位置"
    return result(state, new_slots, f"收到位置：{where}。下单时会用这个地址。")


def on_voice_unreadable(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(state, slots, "抱歉，这段语音没有听清楚。您可以再说一遍，或者回复数字：\n"
                  + menu_lines())


def on_media(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    what = {"image": "图片", "video": "视频", "link": "链接"}.get(inc.kind, "消息")
    return result(state, slots, f"已收到您的{what}。需要帮忙的话，请用文字或语音说一下，或回复“菜单”。")


def on_unknown(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(state, slots, "这种消息暂时看不懂，请发文字或语音，或回复“菜单”。")


def on_silent(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(state, slots, None)


def text_of(inc: Incoming) -> str:
    if inc.kind == "event" and inc.event == "click":
        return CLICK_KEYS.get(inc.event_key or "", "菜单")
    return clean(inc.text or "")


# -- text ---------------------------------------------------------------------------------------


def hand_over(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, prefix: str = "",
              complaint: str = "", order: Any = None, topic: str = "投诉") -> Result:
    if followups.after_hours(ctx.office_hours, ctx.now):  # at night: said when staff will answer, not "请稍候"
        text = (f"好的，已为您转给社区工作人员。现在不是上班时间，工作人员会在上班时间（{ctx.office_hours}）回复您。"
                "有急事请直接打电话求助。回复“菜单”可回到自助服务。")
    else:
        text = "好的，已为您转接社区工作人员，请稍候。回复“菜单”可回到自助服务。"
    said = prefix + (text.removeprefix("好的，") if prefix else text)
    # what staff are told it is about: the words (a complaint, a wish to change the volunteer) and the order
    about = {"complaint": complaint[:200], "topic": topic, **({"order": order} if order else {})} \
        if complaint else {}
    return result(HUMAN, slots, said, actions=(Action("human_handover", {"at": inc.create_time, **about}),))


@dataclass(frozen=True)
class Turn:
    """One text message in one state: what every command row is asked about."""

    state: str
    slots: Mapping[str, Any]
    inc: Incoming
    ctx: Context
    text: str

    @property
    def in_dialogue(self) -> bool:
        return self.state not in (IDLE, HUMAN)


@dataclass(frozen=True)
class Command:
    """One row of the global commands: valid in every state, tried in table order.

    `applies` says whether the text is this command (returning what it found, or None); `run` acts on it and
    may still decline (None: the message goes on to the state's handler, then the idle handler).
    """

    name: str
    applies: Callable[[Turn], Any]
    run: Callable[[Turn, Any], Result | None]


def _callout_answer(t: Turn) -> bool | None:
    # "到"/"收到" always go to the call-out action (it finds the person's open call-out, or says there is none);
    # "1" only while a call-out waits for them and no dialogue is under way, so it stays menu choice 1 otherwise.
    if t.text in CALLOUT_ANSWERS and (t.text != "1" or (t.slots.get(CALLOUT_SLOT) and not t.in_dialogue)):
        return True
    # "收到 俺十分钟后到" / "马上到" / "我这就去": a yes in the volunteer's own words, while a call-out waits for them
    if t.slots.get(CALLOUT_SLOT) and _CALLOUT_YES.match(t.text.strip()):
        return True
    return None


_CALLOUT_YES = re.compile(r"(?:好的?|好嘞|行|嗯|收到)?[ ，,]*(?:我|俺|咱)?(?:这边|现在)?[ ，,]*"  # 我马上到 (out10)
                          r"(?:收到|马上到|马上去|马上来|马上过去|马上出发|立刻到|立刻去|这就去|这就来|这就到|去|来|能去|"
                          r"在路上|已出发|出发了|可以去|\d+分钟(?:就|能|后)?到|[一二三四五六七八九十半]+(?:个)?(?:分钟|小时)(?:就|能|后)?到)"
                          r"(?!不|没|了不)")  # not 我去不了


def _answer_callout(t: Turn, _: Any) -> Result:
    rest = {k: v for k, v in t.slots.items() if k != CALLOUT_SLOT}
    return result(t.state, rest, None, actions=(Action("callout_answer", {"callout": t.slots.get(CALLOUT_SLOT),
                                                                            "text": t.text}),))


def _give_back(t: Turn, back: tuple[int, str]) -> Result:
    mine = t.ctx.my_tasks
    if back[1] or (mine is not None and back[0] not in {o.id for o in mine}):  # not theirs: refused at once
        return idle(None, t.slots, actions=(Action("give_back", {"order": back[0], "reason": back[1]}),))
    return result(ordering.ASK_GIVEBACK_REASON, {**t.slots, "order": back[0]}, f"请说一下退订单{back[0]}的原因：")


_HELP_WORDS = frozenset({"help", "帮助", "?", "？", "求助", "怎么用", "怎么弄"})


def _help(t: Turn, arg: int | None) -> Result:
    if t.state in ordering.HELP_KEEPS and ordering.making_order(t.state, t.slots) and t.text.lower() in _HELP_WORDS:
        # "help" / "帮助" mid-order: what to do, and nothing lost ("菜单" still leaves the order for the menu)
        return ordering.next_question(t.slots, t.ctx, prefix=ordering.help_mid_order(t.slots, t.ctx))
    note = "（刚才的操作已取消）\n" if t.in_dialogue else ""
    return idle(note + menu_for(t.ctx), t.slots)


def _cancel(t: Turn, arg: int | None) -> Result:
    if t.state in changing.STATE_HANDLERS:  # "算了" at a change's question: the change dropped, not the order
        return changing.called_off(t.slots, t.ctx)
    if t.in_dialogue or t.state == HUMAN:
        return idle("好的，已取消。需要时再找我，回复“菜单”看看能做什么。", t.slots)
    return idle("现在没有要取消的操作。要取消订单请回复“取消订单 编号”，回复“我的订单”查看编号。", t.slots)


def _accept(t: Turn, arg: int | None) -> Result:
    if arg is None and is_volunteer(t.ctx) and not t.in_dialogue:
        return volunteering.which_to_accept(t.slots)
    if arg is None:
        return result(t.state, t.slots, "请带上订单编号，比如“接单 12”。")
    return idle(None, t.slots, actions=(Action("accept", {"order": arg}),))


def _complete(t: Turn, arg: int | None) -> Result:
    if arg is None:
        return result(t.state, t.slots, "请带上订单编号，比如“完成 12 2”（12号订单，服务2小时）。")
    return result(ordering.ASK_HOURS, {**t.slots, "order": arg, "misses": 0},
                  f"订单{arg}服务了几个小时？回复数字，比如“2”或“1.5”。")


def _domain_action(name: str) -> Callable[[Turn, int | None], Result]:
    """A named command that the domain answers (an action with its number, if one was given)."""
    def run(t: Turn, arg: int | None) -> Result:
        return idle(None, t.slots, actions=(Action(name, {"arg": arg} if arg is not None else {}),))

    return run


def _my_orders(t: Turn) -> Result:
    """"我的订单": a volunteer's tasks first (what they took), then any orders of their own as a resident (said only
    if there are some); a resident's orders."""
    if is_volunteer(t.ctx):
        return idle(None, t.slots, actions=(Action("my_tasks"), Action("my_orders", {"only_if_any": True})))
    asked = {"by_family": True} if followups.by_family(t.text) else {}  # "我闺女给我约了陪诊 是哪天来"
    return idle(None, t.slots, actions=(Action("my_orders", asked),))


# What a command word (intents.commands) does; a name missing here is not a command of the dialogue.
NAMED: Mapping[str, Callable[[Turn, int | None], Result]] = {
    "register_volunteer": lambda t, arg: registration.start(t.slots, t.ctx),
    "help": _help,
    "cancel": _cancel,
    "human": lambda t, arg: hand_over(t.state, t.slots, t.inc, t.ctx),
    "accept": _accept,
    "complete": _complete,
    **{name: _domain_action(name) for name in ("my_orders", "my_tasks", "points", "redeem", "subscribe_events",
                                               "unsubscribe", "events", "passbook")},
    "my_orders": lambda t, arg: _my_orders(t),
}


def _check_named(named: Mapping[str, Any]) -> None:
    """Every command word intents.commands can give has an answer here."""
    missing = COMMAND_NAMES - set(named)
    if missing:
        raise ValueError(f"command words without an answer in the dialogue: {sorted(missing)}")


_check_named(NAMED)


# A call-off that is more than "no thanks": 取消 / 不要了 / 撤单 / 不来了 (while "不用了", "算了", "没事了" alone,
# with no dialogue under way, only close the conversation).
_STRONG_CANCEL = re.compile(r"取消|不要|撤|退掉|不约|不修|不剪|不理|不来|不做|不办|不弄|不去|不想要|不需要|"
                            r"不用(?:再)?(?:来|过来|派人|上门)|别(?:再)?(?:来|过来|派人|上门)")
_KEEP_IT = re.compile(r"(?:不|别|不要|不用|先不|暂时不|还是不)(?:取消|撤|退)")


def _open_line(o: OpenOrder, ctx: Context) -> str:
    return f"订单{o.id}（{ctx.nlu.service_name(o.service)}，{o.when}）" if o.when else \
        f"订单{o.id}（{ctx.nlu.service_name(o.service)}）"


def _pick_open_order(t: Turn, mine: tuple[OpenOrder, ...], note: str) -> Result:
    """Which of the open orders to cancel: the one to confirm, or the list to pick from (CANCEL_PICK)."""
    base = {**kept(t.slots), "cancel_pick": [o.id for o in mine], "misses": 0}
    if len(mine) == 1:
        return result(ordering.CANCEL_PICK, base, f"{note}要取消{_open_line(mine[0], t.ctx)}吗？\n"
                      "回复 1 确认取消，0 不取消。")
    lines = [f"{note}您有{len(mine)}个订单还没完成，要取消哪一个？"]
    lines += [f"{i} {_open_line(o, t.ctx)}" for i, o in enumerate(mine, 1)]
    lines.append("回复数字；0 都不取消。")
    return result(ordering.CANCEL_PICK, base, "\n".join(lines))


def _cancel_open(t: Turn, says_order: bool) -> Result:
    """A cancel naming no order ("取消订单", "不要了 取消吧"): the half-made order or registration if one is under way
    and the words are not about an order; else exactly the one open order (to confirm), "which one?" when there are
    several, and the plain truth when there is none. Never "已取消" for something that was not cancelled."""
    if t.state == ordering.CANCEL_PICK:  # "要取消订单X吗？" answered "不取消" / "算了": kept; "不要了": asked again
        if _STRONG_CANCEL.search(t.text) and not _KEEP_IT.search(t.text):
            return ordering.on_cancel_pick(t.state, t.slots, t.inc, t.ctx, t.text)
        if t.slots.get(ordering.CANCEL_BACK) and (t.slots.get("draft") or {}).get("service"):
            return ordering.back_to_draft(t.slots, t.ctx, "好的，订单保留，没有取消。")
        return idle("好的，订单保留，没有取消。", t.slots)
    mine = t.ctx.open_orders
    making = t.state in ordering.ORDERING and bool((t.slots.get("draft") or {}).get("service"))
    if (t.state == HUMAN or (t.in_dialogue and (t.state not in ordering.ORDERING or not making))) and not says_order:
        return _cancel(t, None)  # the registration, the hand-over, an order not yet begun ... is what is called off
    if making and not (says_order and mine):
        told = "好的，已取消正在填的这张订单（还没有提交，不会派人来）。"
        if mine:
            return idle(told + "\n您之前提交的" + "、".join(_open_line(o, t.ctx) for o in mine)
                        + "还在，要取消请回复“取消订单 编号”。", t.slots)
        return idle(told + "需要时再找我，回复“菜单”看看能做什么。", t.slots)
    if not t.in_dialogue and not says_order and not _STRONG_CANCEL.search(t.text):
        return idle("好的。需要时再找我，回复“菜单”看看能做什么。", t.slots)
    note = "（刚才的操作已取消）\n" if making or (t.in_dialogue and t.state not in ordering.ORDERING) else ""
    if mine is None:  # the edge did not read the open orders: the domain lists them
        return idle(note + "要取消哪一个订单？请回复“取消订单 编号”，比如“取消订单 12”。", t.slots,
                    actions=(Action("my_orders"),))
    if not mine:
        return idle(note + "您现在没有进行中的订单，不用取消。需要帮忙直接说，或回复“菜单”。", t.slots)
    return _pick_open_order(t, mine, note)


def _cancel_order(t: Turn, req: CancelRequest) -> Result | None:
    """"取消4号订单" asks the domain at once; "那个理发的不要了" finds which order is meant (or ends the order dialogue
    for that service); "取消订单" / "不要了" with neither: _cancel_open. None when the words name no service after
    all."""
    if req.order is not None:
        cancel = Action("cancel_order", {"order": req.order})
        if ordering.making_order(t.state, t.slots):  # a submitted order named mid-order: the one being made stays
            res = ordering.next_question(t.slots, t.ctx,
                                         prefix="（正在填的这张订单还留着，接着回答下面的问题就行。）\n")
            return replace(res, actions=(cancel,))
        return idle(None, t.slots, actions=(cancel,))
    if not req.what:
        return _cancel_open(t, req.marked)
    m = t.ctx.nlu.match(req.what)
    if m.decision == "accept" and m.service:
        codes = [m.service]
    elif m.decision == "clarify" and m.candidates:
        codes = [c for c, _ in m.candidates[:3]]
    else:
        return None
    draft = t.slots.get("draft") or {}
    if t.in_dialogue and (draft.get("service") in codes or not draft.get("service")) and t.state in ordering.ORDERING:
        return _cancel(t, None)  # the order being made is the one no longer wanted
    back = t.state if ordering.making_order(t.state, t.slots) else None  # the order being made stays
    return ordering.cancel_by_service(t.slots, t.ctx, codes, req.marked, said=t.text, back=back)


# Rating an order from "我的订单" (评价 12 / 给12号订单打分 / 评价12 5分): the rating dialogue for that order.
_RATE_VERB = r"(?:评价|打分|评分|打个分|评个分|点评|打(?P<given>[0-5零一二两三四五])(?:分|颗心|星))"
RATE_ORDER = (
    re.compile(r"^(?:我要|我想|我想要|帮我|麻烦)?(?:给|对|为)\s*(?:第)?\s*(?:订单)?\s*(?P<order>\d{1,19})(?!\d)\s*号?\s*"
               r"(?:订单|单子|单)?\s*" + _RATE_VERB + r"\s*(?P<rest>.{0,20})$"),
    re.compile(r"^(?:我要|我想|我想要)?(?:评价|打分|评分)\s*(?:一下)?\s*(?:第)?\s*(?:订单)?\s*(?P<order>\d{1,19})(?!\d)\s*号?\s*"
               r"(?:订单|单子|单)?\s*(?P<rest>.{0,20})$"),
)
RATE_WHICH = re.compile(r"^(?:我要|我想|我想要|我来|帮我)?(?:评价|打分|评分|打个分|评个分)(?:一下)?$")
RATE_QUESTION = "请给订单{order}打分：回复 0-5（5 颗心最满意），也可以说“满意”“一般”“不满意”。"


may_rate_waiting = followups.may_rate_waiting  # (the edge asks before reading the orders waiting for a rating)


def rate_order_named(text: str) -> int | None:
    """The order "评价 12" / "给12号打分" names, or None: the edge reads whether that order is rated already."""
    said = re.sub(r"[,，。.!！?？、:：]+", " ", text).strip()
    for pattern in RATE_ORDER:
        m = pattern.match(said)
        if m:
            return int(m.group("order"))
    return None


def _rate_request(t: Turn) -> tuple[int | None, int | None] | None:
    """(order, hearts) of "评价 12 5"; (None, None) for "我要评价" said outside the rating dialogue; else None."""
    text = re.sub(r"[,，。.!！?？、:：]+", " ", t.text).strip()
    for pattern in RATE_ORDER:
        m = pattern.match(text)
        if m:
            said = m.groupdict().get("given") or m.group("rest").strip()
            hearts = t.ctx.nlu.rating(said) if said else None
            order = int(m.group("order"))
            if hearts is None and followups.hearts_not_order(t.text, order):  # "评价 5": hearts, if an order waits
                waiting = _waiting_ratings(t)
                if waiting:
                    return -1, order
                return -2, order  # none waits (or the sender has no orders at all); 5 is no 6-digit order number
            return order, hearts
    if t.state not in (ordering.RATE, ordering.RATE_COMMENT) and RATE_WHICH.match(text.replace(" ", "")):
        return None, None
    return None


def _waiting_ratings(t: Turn) -> tuple[int, ...]:
    """The orders waiting for the sender's rating: the one the rating question asks about, else what the edge read."""
    if t.state == ordering.RATE and t.slots.get("rate_order") is not None:
        return (int(t.slots["rate_order"]),)
    return tuple(t.ctx.unrated_orders or ()) if t.state == IDLE else ()


def _rate(t: Turn, request: tuple[int | None, int | None]) -> Result:
    order, hearts = request
    if order == -1 and hearts is not None:  # hearts for the order waiting (_rate_request)
        res = followups.rate_waiting(t.slots, _waiting_ratings(t), hearts)
        rated = next((a for a in res.actions if a.name == "rate"), None)  # remembered for a correction soon after
        return res if rated is None else \
            replace(res, slots=ordering.rated_now(res.slots, rated.data["order"], hearts, t.ctx))
    if order == -2:  # "评价 5" with nothing to rate (_rate_request)
        return idle("您现在没有要评价的订单。服务完成后我会请您评价；回复“我的订单”可以查看订单。", t.slots)
    if order is None:
        return idle("请带上订单编号，比如“评价 12”。回复“我的订单”可以查看编号。", t.slots)
    if order in t.ctx.orders_not_mine:  # neither confirms nor denies that someone else has such an order
        return idle(f"没有编号为 {order} 的订单，请核对编号。回复“我的订单”可以查看您的订单编号。", t.slots)
    given = (t.ctx.order_ratings or {}).get(order)
    if given is not None:  # rated already (the edge read it): said at once, with the way to correct it
        return idle(f"订单{order}已经评价过了（{given}颗心），谢谢您！要更正请回复“人工”，社区工作人员帮您改。",
                    t.slots)
    slots = {**kept(t.slots), "rate_order": order, "misses": 0}
    if hearts is None:
        return result(ordering.RATE, slots, RATE_QUESTION.format(order=order))
    return result(ordering.RATE_COMMENT, {**ordering.rated_now(slots, order, hearts, t.ctx), "rated": hearts}, None,
                  actions=(Action("rate", {"order": order, "hearts": hearts}),))


def _rerate(t: Turn) -> Result | None:
    """A rating said to be wrong or to be changed. In the rating question itself a rating said is that rating (None:
    the rating dialogue takes it); after it, the plain truth and 人工."""
    order, rated = t.slots.get("rate_order"), t.slots.get("rated")
    hearts = t.ctx.nlu.rating(t.text)
    if t.state == ordering.RATE:
        if hearts is not None or order is None:
            return None
        return result(t.state, t.slots, f"订单{order}还没打分呢。{followups.RERATE_BEFORE}\n"
                      + RATE_QUESTION.format(order=order))
    fixed = ordering.rerate_said(t.slots, t.text, t.ctx)  # "不对 五颗星" soon after the rating: corrected
    if fixed is not None:
        return ordering.rerate(t.slots, t.ctx, fixed, t.text)
    refused = ordering.rerate_refused(t.slots, t.ctx.now)  # in chat: how to say it, corrected once, too late
    if refused is not None:
        return refused
    rest = {k: v for k, v in t.slots.items() if k not in ("rate_order", "misses", "rated")}
    if t.state == ordering.RATE_COMMENT and order is not None and rated is not None:
        if hearts is not None and int(rated) == hearts:
            return idle(f"好的，就是{hearts}颗心，已经记下了，谢谢您！", rest)
        return idle(f"订单{order}刚才已经记为{rated}颗心。{followups.RERATE_REPLY}", rest)
    return idle(followups.RERATE_REPLY, rest)


def _start_proxy(t: Turn) -> Result:
    """"帮我妈下单": the proxy dialogue, the family word kept for the name ("姓刘" -> 刘阿姨)."""
    res = ordering.start_proxy(t.slots, t.ctx)
    title = followups.relation_title(t.text)
    return replace(res, slots={**res.slots, ordering.PROXY_TITLE: title}) if title else res


def _office_phone(t: Turn) -> Result:
    """The hub's office phone and hours (HubSettings); with no phone set, that said and a person offered (they only
    asked for a number: not put in the staff queue unasked)."""
    if t.state == HUMAN:  # waiting for staff: the number answered, the handover kept
        words = followups.office_phone_reply(t.ctx.office_phone, t.ctx.office_hours) if t.ctx.office_phone \
            else "社区的电话这里还没有登记。工作人员看到后会在这里回复您；有急事请直接拨打 110 或 120。"
        return result(HUMAN, t.slots, words)
    if t.ctx.office_phone:  # asked in the middle of an order or a registration: answered, the work kept
        return _answered_keeping(t, followups.office_phone_reply(t.ctx.office_phone, t.ctx.office_hours))
    return _answered_keeping(t, "社区的电话这里还没有登记。要找社区工作人员，请回复“人工”，我帮您转接。")


def _office_hours(t: Turn) -> Result:
    words = followups.office_hours_reply(t.ctx.office_hours, t.ctx.office_phone)
    if t.state == HUMAN:  # waiting for staff: answered, the handover kept
        return result(HUMAN, t.slots, words)
    return _answered_keeping(t, words)


def _answered_keeping(t: Turn, words: str) -> Result:
    """`words` said, and the dialogue under way kept (said so), or the person back at rest."""
    kept_what = followups.what_is_kept(t.state, t.slots, t.ctx) if t.in_dialogue else None
    if kept_what is None:
        return idle(words, t.slots)
    return result(t.state, t.slots, f"{words}\n{followups.kept_note(kept_what)}")


def _named(t: Turn) -> tuple[str, int | None] | None:
    cmd = t.ctx.nlu.command(t.text)
    return None if cmd is None or cmd.name not in NAMED else (cmd.name, cmd.arg)


COMMANDS: tuple[Command, ...] = (
    Command("callout_answer", _callout_answer, _answer_callout),
    # "不用了" answers "anything to add?" after a rating: it cancels nothing, so no command may take it
    Command("no_comment", lambda t: True if t.state == ordering.RATE_COMMENT and t.ctx.nlu.is_no(t.text) else None,
            lambda t, _: None),
    # "不用了" / "取消" at the rating question: not dropped silently, the way to rate later said
    Command("rate_later", lambda t: followups.rate_later(t.state, t.slots, t.ctx.nlu, t.text), lambda t, res: res),
    # "不用了" / "不要了" answers "要把这单改成理发吗？" (keep this one): the order being made is not called off
    Command("keep_service", lambda t: True if t.state == ordering.SWITCH and t.ctx.nlu.is_no(t.text)
            and "取消" not in t.text else None, lambda t, _: None),
    # "不用了" answers "您自己的电话也留一个吧" (代点单 with the relative's phone): the order goes on without it
    Command("no_own_phone", lambda t: True if t.state == ordering.ASK_PHONE
            and ordering.declines_own_phone(t.slots, t.text) else None, lambda t, _: None),
    Command("cancel_order", lambda t: t.ctx.nlu.cancel_order(t.text), _cancel_order),
    Command("give_back", lambda t: t.ctx.nlu.give_back(t.text), _give_back),
    Command("complete_with_hours", lambda t: t.ctx.nlu.complete_with_hours(t.text),
            lambda t, done: idle(None, t.slots, actions=(Action("complete", {"order": done[0], "hours": done[1]}),))),
    Command("rate_order", _rate_request, _rate),
    # "★★★★" / "5颗心" with no question asked: hearts for the one order waiting for a rating
    Command("rate_waiting", lambda t: followups.bare_rating(t.text, t.ctx.nlu) if t.state == IDLE
            and t.ctx.unrated_orders else None,
            lambda t, hearts: followups.rate_waiting(t.slots, tuple(t.ctx.unrated_orders or ()), hearts)),
    # "我想改成五颗心" / "打错了 是3": within an hour of a rating given in chat, corrected once (ordering.rerate);
    # otherwise said plainly, with the way to staff
    Command("rerate", lambda t: True if t.state in (IDLE, ordering.RATE, ordering.RATE_COMMENT)
            and (followups.asks_rerate(t.text)
                 or ordering.rerate_said(t.slots, t.text, t.ctx, any_age=True) is not None)
            else None, lambda t, _: _rerate(t)),
    Command("proxy", lambda t: True if t.ctx.nlu.is_proxy(t.text) else None, lambda t, _: _start_proxy(t)),
    Command("volunteer", lambda t: volunteering.command(t.state, t.slots, t.inc, t.ctx, t.text),
            lambda t, res: res),
    # "志愿者咋还没来 催一下" / "催催": the volunteer holding the order nudged; "给我王师傅的电话": who comes (the phone
    # masked) and that relay (the edge: bot.serviceloop.nudges)
    Command("nudge", lambda t: ("nudge_volunteer" if followups.asks_hurry(t.text) else "volunteer_contact"
                                if followups.asks_volunteer_phone(t.text) else None) if t.state == IDLE else None,
            lambda t, name: idle(None, t.slots, actions=(Action(name),))),
    Command("named", _named, lambda t, cmd: NAMED[cmd[0]](t, cmd[1])),
    # "积分怎么换东西" / "你们那个积分是干啥用的": what points are, how to become a volunteer, a volunteer's balance
    Command("points_question", lambda t: True if t.state == IDLE and followups.asks_points(t.text) else None,
            lambda t, _: idle(None, t.slots, actions=(Action("points_info"),))),
    # "注册志原者" (志愿者 mistyped): registration; "有没有活人啊": a person; "社区电话多少": the office's phone
    Command("register_typo", lambda t: True if t.state == IDLE and registration.asked_with_typo(t.text) else None,
            lambda t, _: registration.start(t.slots, t.ctx)),
    Command("person", lambda t: True if t.state != HUMAN and followups.asks_for_person(t.text) else None,
            lambda t, _: hand_over(t.state, t.slots, t.inc, t.ctx)),
    Command("office_phone", lambda t: True if followups.asks_office_phone(t.text) else None,
            lambda t, _: _office_phone(t)),
    # "我不要这个师傅了 能换一个吗": staff choose who goes (the console's 改派), told the words
    Command("other_volunteer", lambda t: True if t.state != HUMAN and followups.asks_other_volunteer(t.text)
            else None,
            lambda t, _: hand_over(t.state, kept(t.slots), t.inc, t.ctx, prefix=followups.OTHER_VOLUNTEER_REPLY,
                                   complaint=t.text, topic="要求换志愿者")),
    # "能借我点钱吗": no service; said kindly with the way to staff, the work kept
    Command("money", lambda t: True if t.state != HUMAN and followups.asks_for_money(t.text) else None,
            lambda t, _: _answered_keeping(t, followups.MONEY_REPLY)),
    # "另外 你们周末上班吗" (at any question): the office's hours, the work kept; never read as the order's time
    Command("office_hours", lambda t: True if followups.asks_office_hours(t.text) else None,
            lambda t, _: _office_hours(t)),
    # a volunteer's plain words: "明天临时有事去不了了", "到了 修好了", "我来接那个陪老人聊天的单"
    Command("volunteer_words", lambda t: followups.volunteer_words(t.text, t.slots, t.ctx), lambda t, res: res),
    # "不是理发 是修水管" / "再加一样 顺便换个灯泡" with open orders and no order being made: what a submitted order is
    # for, or what is to be done, changed (changing.py), never taken for a new order
    Command("change_content", lambda t: changing.content_asked(t.text, t.ctx) if t.state == IDLE else None,
            lambda t, found: changing.start_content(t.slots, t.ctx, found)),
    # "12号订单时间改到后天上午" / "不是明天 是后天" with no order being made: the submitted order changed (changing.py)
    Command("change_order", lambda t: ordering.change_asked(t.text, t.ctx) if t.state == IDLE or (
        t.state in (ordering.RATE, ordering.RATE_COMMENT) and changing.names_an_order(t.text)) or (
        t.state in ordering.ORDERING and changing.names_open_order(t.text, t.ctx)) else None,
            lambda t, found: changing.start(t.slots, t.ctx, t.text, found[0], found[1], t.state)),
    # "啥时候来啊" / "那到底还来不来啊" / "我那个理发的咋又没人了": the status of one's own order, never a new one
    Command("order_status", lambda t: True if t.state == IDLE and (followups.asks_status(t.text) or
                                                                 followups.asks_who_comes(t.text, t.ctx.open_orders))
            else None,
            lambda t, _: _my_orders(t)),
)


def _check_commands(rows: tuple[Command, ...]) -> None:
    names = [row.name for row in rows]
    if len(names) != len(set(names)):
        raise ValueError("duplicate command names in the dialogue's COMMANDS table")


_check_commands(COMMANDS)


def global_command(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result | None:
    """The first COMMANDS row that applies, run; None when the text is no command (or the row declined)."""
    turn = Turn(state, slots, inc, ctx, text)
    for row in COMMANDS:
        found = row.applies(turn)
        if found is not None:
            res = row.run(turn, found)
            # "我的订单" / "积分" in the middle of an order or a registration: answered, and the work kept
            keep = res is not None and turn.in_dialogue and not split_call_off(text)  # "算了 我的积分": not kept
            kept_too = followups.keep_work(state, slots, ctx, res) if keep and res is not None else None
            return kept_too or res
    # "算了 有啥任务没": what was under way is called off, and the request after it answered as if said alone
    for rest in split_call_off(text):
        then = Turn(IDLE, kept(slots), inc, ctx, rest)
        for row in COMMANDS:
            found = row.applies(then)
            res = row.run(then, found) if found is not None else None
            if res is not None:
                note = "（刚才的操作已取消）" if turn.in_dialogue else ""
                return replace(res, reply="\n".join(r for r in (note, res.reply) if r) or None)
    return None


def on_text(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    text = text_of(inc)
    found = ctx.nlu.emergency(text) if text else None
    if found is not None:  # safety first: in every state, before commands, timeouts and dialogues
        return safety.respond(state, found, slots, text, ctx)
    if state == IDLE and ordering.NEXT_ORDER in slots:  # "还要下理发的单吗？" after an order of several
        offer, slots = slots[ordering.NEXT_ORDER], {k: v for k, v in slots.items() if k != ordering.NEXT_ORDER}
        answers = text and inc.kind != "event" and not slots.get(CALLOUT_SLOT)  # (a menu click is the menu's)
        taken = ordering.next_order(offer, slots, text, ctx) if answers else None
        if taken is not None:
            return _touch(taken, ctx)
    prefix = ""
    if state != IDLE and TIMEOUT.expired(slots, ctx):
        prefix = TIMEOUT.notice
        state, slots = IDLE, kept(slots)
    if not text:
        return _prefixed(prefix, result(state, slots, "请用文字或语音告诉我您需要什么，或回复“菜单”。"))
    res = global_command(state, slots, inc, ctx, text)
    if res is None and state == HUMAN:
        return result(state, slots, None)  # staff are answering; the bot stays out of the way
    if res is None:  # "给五颗心" with no rating asked: the one order waiting rated, else said when, never a service
        res = _early_rating(state, slots, ctx, text)
    if res is None and followups.asks_events(text):  # "啥时候有一条街活动": the events listing, not a 文体活动 order
        shown = idle(None, slots, actions=(Action("events"),))
        res = (followups.keep_work(state, slots, ctx, shown) if state != IDLE else None) or shown
    if res is None and state in ordering.ORDERING:  # 算了不要理发了 我要修水龙头: the draft takes the new service
        res = ordering.changed_service(state, slots, text, ctx)
    if res is None and state in ordering.SWITCH_FROM:  # "帮我妈约个修水管 她住…" on the summary: change it, or both?
        res = ordering.new_request(state, slots, text, ctx)
    if res is None and state == ordering.ASK_ADDRESS:  # "我要理发" is no address: asked about before it is one
        res = ordering.other_service(state, slots, text, ctx, first=True)
    if res is None:  # "谢谢" / "在吗" / "你是谁" in the middle of a question: answered, and the question asked again
        res = _small_talk_mid(state, slots, ctx, text)
    if res is None and state == ordering.RATE and ctx.nlu.rating(text) is None and followups.complains(text):
        # "根本没来人" asked to rate a service: no rating, the complaint to staff
        res = hand_over(state, kept(slots), inc, ctx, prefix=followups.COMPLAINT_REPLY + "\n", complaint=text,
                        order=slots.get("rate_order"))
    if res is None and state in STATE_HANDLERS:
        res = STATE_HANDLERS[state](state, slots, inc, ctx, text)
        if state in ordering.SWITCH_FROM and _missed(res, state, slots):  # a bare "我要理发" mid-order: change it?
            res = ordering.other_service(state, slots, text, ctx) or res
    if res is None:
        res = on_idle_text(slots, inc, ctx, text)
    return _prefixed(prefix, _touch(res, ctx))


def _missed(res: Result | None, state: str, slots: Mapping[str, Any]) -> bool:
    """The state's question was not answered by the message (asked again, one more miss counted)."""
    return res is not None and res.state == state and int(res.slots.get("misses", 0)) > int(slots.get("misses", 0))


_MENU_ZERO = re.compile(r"\s*(?:选|选择|我选)?\s*[0０零〇]\s*(?:号|个)?\s*")


def on_idle_text(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    taken = _kept_answered(slots, inc, ctx, text)  # the order kept over an emergency, answered or asked about
    if taken is not None:
        return taken
    choice = ctx.nlu.choice(text) if len(text) <= 4 else None
    if choice is None and _MENU_ZERO.fullmatch(text):  # "0 人工服务" (a choice is counted from 1)
        choice = 0
    if choice is not None and str(choice) in dict(MENU_ITEMS):
        key = str(choice)
        if key == "1":
            return ordering.ask_service(slots, ctx)
        if key == "0":
            return hand_over(IDLE, slots, inc, ctx)
        if key == "3":  # registration is a dialogue, not a one-shot action
            return registration.start(slots, ctx)
        return idle(None, slots, actions=(Action(MENU_ACTIONS[key]),))
    if _BARE_NUMBER.fullmatch(text) and not is_volunteer(ctx):  # "9" / "-1": not on the menu
        return idle(f"请回复 0-{len(MENU_ITEMS) - 1} 之间的数字：\n" + menu_lines(), slots)
    after = _after_emergency(slots, inc, ctx, text)
    if after is not None:
        return after
    if followups.asks_anyone(text) and not is_volunteer(ctx):  # "有人吗": the bot is here, and 人工 for a person
        return idle(followups.anyone_reply(ctx.hub_name) + "\n" + menu_lines(), slots)
    talk = ctx.nlu.small_talk(text)
    if talk is not None:
        return idle(SMALL_TALK[talk](ctx), slots)
    if followups.asks_for_help(text):  # "求助" alone: the help menu (with a need after it, the need)
        return idle(followups.HELP_TEXT + "\n" + menu_lines(), slots)
    feeling = followups.emoji_talk(text)  # 👍 / 😭: a warm word or a kind question, never an order
    if feeling is not None:
        return idle(feeling, slots)
    if followups.complains(text):  # "根本没来人": sorry, and to staff (the complaint path: 投诉 -> 人工)
        return hand_over(IDLE, slots, inc, ctx, prefix=followups.COMPLAINT_REPLY + "\n", complaint=text)
    if followups.asks_what_you_do(text):
        return idle(_who_am_i(ctx), slots)
    if followups.asks_how_to_use(text):
        return idle(followups.HOW_TO_TEXT + "\n" + menu_lines(), slots)
    warm = followups.warm_answer(text)
    if warm is not None:
        return idle(warm, slots)
    if followups.asks_cost(text):
        if not followups.also_asks_for_it(text):
            return followups.cost_reply(text, slots, ctx)
        res = ordering.start_from_text(slots, inc, ctx, text)  # "我想理发 要钱吗": answered, and the order begun
        return replace(res, reply="\n".join(r for r in (followups.FREE, res.reply) if r))
    named = followups.relation_title(text) and followups.relative_name(text)  # "帮我妈约个理发 她姓刘"
    asked = followups.without_surname(text) if named else text
    res = ordering.start_from_text(slots, inc, ctx, asked)
    return followups.for_relative(res, text, lambda asked: ordering.next_question(asked, ctx))


_BARE_NUMBER = re.compile(r"[-－—]?\d{1,3}")


def _after_emergency(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result | None:
    """Right after an emergency answer: "虚惊一场" calls it off (staff told), a clear request is taken as one, the
    order being made before the alarm is taken up again; anything else gets care and the number again."""
    recent = safety.recent(slots, ctx.now)
    draft = safety.kept_draft(slots, ctx.now)
    over, asked = followups.all_clear(text) if recent is not None else (False, text)
    if over and not safety.called_off(text):  # "刚才那个已经好了 谢谢 还能约理发吗": staff told, the request taken
        off, told = safety.call_off(safety.without_kept_draft(slots), text)
        said = "太好了，没事就好！我已经告诉社区值班人员，刚才的事已经过去了。"
        if not asked or not ordering.service_asked(asked, ctx):
            return idle(said + "\n需要志愿者帮忙的话，直接跟我说就行。", off, actions=(told,))
        res = ordering.start_from_text(off, inc, ctx, asked)
        return replace(res, reply="\n".join(r for r in (said, res.reply) if r), actions=(told, *res.actions))
    if recent is not None and safety.called_off(text):
        off, told = safety.call_off(slots, text)
        if draft is None:
            return idle(safety.CALLED_OFF_REPLY + "\n需要志愿者帮忙的话，直接跟我说就行。", off, actions=(told,))
        res = ordering.resume_draft(safety.without_kept_draft(off), draft, "", ctx,
                                    prefix=safety.CALLED_OFF_REPLY + "\n")
        return replace(res, actions=(told,))
    if draft is not None and ordering.resumes(text, draft, ctx):
        return ordering.resume_draft(safety.without_kept_draft(slots), draft, text, ctx)
    if recent is None:
        return None
    name = ctx.nlu.service_name(str(draft["service"])) if draft else None
    calm = safety.arrived(slots, ctx.now, ctx.hotlines, text, order_name=name)  # "医生到了": calm, no new alert
    if calm is not None:
        return calm
    if ordering.request_after_emergency(text, ctx):  # the emergency was answered: a request is a request
        return ordering.start_from_text(safety.without_kept_draft(slots), inc, ctx, text)
    if ctx.nlu.address(text, loose=True) or ctx.nlu.phone(text):  # where they are, a phone: to staff, on the incident
        placed = safety.place_told(slots, ctx.hotlines, text)
        if placed is not None:
            return placed
    return safety.follow_up(slots, ctx.now, ctx.hotlines, text, order_name=name)


# A rating said when no rating question is asked ("挺好的 小伙子手艺不错 给五颗心" while an order is being made):
# hearts for the order waiting for a rating, else when the rating comes; never read as a service ("技能培训").
_RATING_WORDS = re.compile(r"[0-5零一二两三四五]\s*(?:颗|个)?(?:心|星)|[★⭐]|好评|差评|评价|打分|评分|满分")
_ASKS_ORDER = re.compile(r"我要|我想|帮我|预约|下单|约个|找人|找个")
RATE_WHEN_DONE = "谢谢您！服务完成后我会请您打分，到时候再给就行。"


def _early_rating(state: str, slots: Mapping[str, Any], ctx: Context, text: str) -> Result | None:
    if state in (ordering.RATE, ordering.RATE_COMMENT) or not _RATING_WORDS.search(text) \
            or _ASKS_ORDER.search(text) or followups.complains(text):  # "一颗心都不给": a complaint
        return None
    waiting = tuple(ctx.unrated_orders or ()) if state == IDLE else ()
    hearts = ctx.nlu.rating(text)
    if waiting and hearts is not None:
        return followups.rate_waiting(slots, waiting, hearts)
    if state in _ASKED_AGAIN:
        return ordering.next_question(slots, ctx, prefix=RATE_WHEN_DONE + "\n")
    return idle(RATE_WHEN_DONE, slots) if state == IDLE else None


_SHORT_YES = frozenset({"1", "好", "好的", "对", "对的", "是", "是的", "确认", "可以", "行", "嗯", "没错"})


def _kept_answered(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result | None:
    """The order kept over an emergency, taken up: asked about ("那修水管的事呢") or a bare "1", its pending question
    asked again; its pending question answered (a phone when it waited for the phone, an address, a time, "1"/"好"
    at its summary), the answer taken. None for anything else (the kept order stays kept)."""
    draft = safety.kept_draft(slots, ctx.now)
    if draft is None:
        return None
    waiting = ordering.resume_draft(safety.without_kept_draft(slots), draft, "", ctx)
    said = ctx.read_slots(text)
    word = text.strip()
    answered: dict[str, bool] = {ordering.ASK_PHONE: bool(said.phone), ordering.ASK_ADDRESS: bool(said.address),
                                 ordering.ASK_TIME: said.time.is_clear}
    # never a "1" at the summary: right after an emergency answer it may be anything but "submit it"; the summary is
    # shown again (below) and a second yes submits it (blind held-out v6)
    answers = answered.get(str(waiting.state), False)
    handler = STATE_HANDLERS.get(waiting.state)
    if answers and handler is not None:
        res = handler(waiting.state, waiting.slots, inc, ctx, text)
        if res is not None:
            name = ctx.nlu.service_name(str(draft.get("service")))
            return replace(res, reply="\n".join(r for r in (f"好的，接着下刚才【{name}】的单。", res.reply) if r))
    if word == "1" or safety.asks_kept(text) or (waiting.state == ordering.CONFIRM and word in _SHORT_YES):
        return waiting
    return None


def _who_am_i(ctx: Context) -> str:
    name = ctx.hub_name if "雷锋超市" in ctx.hub_name else f"{ctx.hub_name}（雷锋超市）"
    if is_volunteer(ctx):  # a volunteer is told what to say for tasks, not the resident's numbers
        return f"我是{name}的小助手，帮志愿者接单、报完成、查积分，也帮居民找志愿者。\n" + menu_for(ctx)
    return (f"我是{name}的小助手。您有事需要帮忙，我帮您找社区志愿者（理发、修水管、陪诊、送餐……），"
            "也能查订单、报名当志愿者、看活动。请回复数字：\n" + menu_lines())


# Small talk while a question waits (the question is asked again after it, nothing is counted as a miss).
_TALK_MID: Mapping[str, str] = {"thanks": "不客气！", "greeting": "在的，我在听。",
                                "who": "我是{hub}的小助手，正在帮您办这件事。"}
_ASKED_AGAIN = frozenset({ordering.ASK_DETAILS, ordering.ASK_TIME, ordering.ASK_ADDRESS, ordering.ASK_PHONE,
                          ordering.CONFIRM})


def _small_talk_mid(state: str, slots: Mapping[str, Any], ctx: Context, text: str) -> Result | None:
    if state not in _ASKED_AGAIN and state != ordering.RATE:
        return None
    if state == ordering.RATE and ctx.nlu.rating(text) is not None:  # "★★★★" asked to rate: 4 hearts, not an emoji
        return None
    talk = ctx.nlu.small_talk(text)
    feeling = followups.emoji_talk(text)
    if feeling is not None:  # 👍 / 😭 while a question waits: a word back, and the question again
        said = "好的！" if feeling == followups.EMOJI_REPLY else "怎么了？需要帮忙可以直接说。"
    elif talk not in _TALK_MID or ctx.nlu.yes_no(text) is not None:  # "好的 谢谢" at the summary is a yes
        return None
    else:
        said = _TALK_MID[talk].format(hub=ctx.hub_name)
    if state == ordering.RATE:
        order = slots.get("rate_order")
        return None if order is None else result(state, slots, f"{said}\n" + RATE_QUESTION.format(order=order))
    return ordering.next_question(slots, ctx, prefix=said + "\n")


# Small talk in the idle state: a warm, short answer, and the way to the menu (intents.commands says which kind).
SMALL_TALK: Mapping[str, Callable[[Context], str]] = {
    "greeting": menu_for,
    "who": _who_am_i,
    "thanks": lambda ctx: "不客气！能帮上您我们很高兴。还需要帮忙的话，直接说，或回复“菜单”。",
    "bye": lambda ctx: "再见，祝您身体健康！有需要随时找我。",
    "ack": lambda ctx: "好的。还需要帮忙的话，直接说要做什么，或回复“菜单”。",
}
if set(SMALL_TALK) != SMALL_TALK_KINDS:
    raise ValueError(f"small talk without an answer: {sorted(SMALL_TALK_KINDS - set(SMALL_TALK))}")


def _expired(slots: Mapping[str, Any], ctx: Context) -> bool:
    last = slots.get("last_at")
    if not last:
        return False
    try:
        return ctx.now - datetime.fromisoformat(str(last)) > ctx.timeout
    except (TypeError, ValueError):
        return True


@dataclass(frozen=True)
class Timeout:
    """The TIMEOUT pseudo-row: a dialogue idle for longer than ctx.timeout ends (kept slots stay) with a notice."""

    expired: Callable[[Mapping[str, Any], Context], bool]
    notice: str


TIMEOUT = Timeout(_expired, "上次的对话时间太久，已帮您取消了。\n")


def _touch(res: Result, ctx: Context) -> Result:
    if res.state in (IDLE, HUMAN):
        return res
    return replace(res, slots={**res.slots, "last_at": ctx.now.isoformat()})


def _prefixed(prefix: str, res: Result) -> Result:
    if not prefix:
        return res
    return replace(res, reply=prefix + (res.reply or ""))


@dataclass(frozen=True)
class Rule:
    """One row of the dispatch table: which incoming messages it takes, and the handler."""

    name: str
    kinds: frozenset[str]
    events: frozenset[str] | None
    handler: Handler
    when: Callable[[Incoming], bool] = lambda inc: True


RULES: tuple[Rule, ...] = (
    Rule("subscribe", frozenset({"event"}), frozenset({"subscribe"}), on_subscribe),
    Rule("unsubscribe", frozenset({"event"}), frozenset({"unsubscribe"}), on_unsubscribe),
    Rule("scan", frozenset({"event"}), frozenset({"scan"}), on_scan),
    Rule("template", frozenset({"event"}), frozenset({"templatesendjobfinish"}), on_template_finish),
    Rule("location_event", frozenset({"event"}), frozenset({"location"}), on_location),
    Rule("click", frozenset({"event"}), frozenset({"click"}), on_text),
    Rule("view", frozenset({"event"}), frozenset({"view"}), on_silent),
    Rule("location", frozenset({"location"}), None, on_location),
    Rule("voice_unreadable", frozenset({"voice"}), None, on_voice_unreadable, lambda inc: not inc.text),
    Rule("text", frozenset({"text", "voice"}), None, on_text),
    Rule("media", frozenset({"image", "video", "link"}), None, on_media),
)


def _check_rules(rules: tuple[Rule, ...]) -> None:
    names = [r.name for r in rules]
    if len(names) != len(set(names)):
        raise ValueError("duplicate rule names in the dialogue table")


_check_rules(RULES)


def step(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context,
         rules: tuple[Rule, ...] = RULES) -> Result:
    """(state, slots, message, context) -> new state, slots, passive reply, outbox, effects, actions."""
    known = State.of(state)
    if known is None:
        known, slots = IDLE, {}  # a state from another version of the code: start over rather than crash
    state = known
    for rule in rules:
        if inc.kind in rule.kinds and (rule.events is None or inc.event in rule.events) and rule.when(inc):
            res = rule.handler(state, dict(slots), inc, ctx)
            return replace(res, slots=dict(res.slots))
    if inc.kind == "event":
        return on_silent(state, slots, inc, ctx)
    return on_unknown(state, slots, inc, ctx)
