"""The conversation core: a pure step function over rule and state tables (no Flask, SQL, network or clock).

step(state, slots, message, context) -> Result(new state, slots, passive reply, outbox, effects, actions)

Events go through RULES; text goes through global commands (valid in every state), then the
handler of the current state (STATE_HANDLERS), then the idle handler. Actions are requests to
the domain (submit an order, accept one...) that the edge performs in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.messages import Incoming

IDLE = "IDLE"
HUMAN = "HUMAN"  # handed over to staff: the bot stays quiet except for 菜单/取消


@dataclass(frozen=True)
class Out:
    """A message for the outbox (someone other than the sender, or anything not needed at once)."""

    to: str
    text: str
    channel: str = "wechat"
    key: str | None = None  # idempotency key: the same key is never queued twice


@dataclass(frozen=True)
class Effect:
    """A change to the sender's own record that the edge applies in the same transaction."""

    name: str  # subscribed | unsubscribed | template_result
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A request to the domain (orders, volunteers...), performed by the edge; its text is the reply."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    hub_name: str
    now: datetime
    nlu: Any = None  # bot.nlu.Understanding (pure)
    roles: frozenset[str] = frozenset()
    phone_on_file: str | None = None
    timeout: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Result:
    state: str
    slots: Mapping[str, Any]
    reply: str | None
    outbox: tuple[Out, ...] = ()
    effects: tuple[Effect, ...] = ()
    actions: tuple[Action, ...] = ()


MENU_ITEMS: tuple[tuple[str, str], ...] = (
    ("1", "我要找志愿者帮忙（点单）"),
    ("2", "我的订单"),
    ("3", "注册志愿者"),
    ("4", "雷锋一条街活动"),
    ("5", "积分查询"),
    ("0", "人工服务"),
)
MENU_ACTIONS: Mapping[str, str] = {"2": "my_orders", "3": "register_volunteer", "4": "events", "5": "points"}

CLICK_KEYS: Mapping[str, str] = {
    "MENU_ORDER": "1", "MENU_MY_ORDERS": "2", "MENU_VOLUNTEER": "3",
    "MENU_EVENTS": "4", "MENU_POINTS": "5", "MENU_HUMAN": "0", "MENU_HELP": "菜单",
}

Handler = Callable[[str, Mapping[str, Any], Incoming, Context], Result]


def menu_text(hub_name: str) -> str:
    lines = [f"欢迎来到{hub_name}！请回复数字："]
    lines += [f"{n} {label}" for n, label in MENU_ITEMS]
    lines.append("也可以直接说您需要什么，比如“明天上午来帮我修水管”。")
    return "\n".join(lines)


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().strip("。.!！~")


def result(state: str, slots: Mapping[str, Any], reply: str | None, **kw: Any) -> Result:
    return Result(state=state, slots=slots, reply=reply, **kw)


# Slots that outlive a finished dialogue: the last location, and a call-out waiting for this person's answer.
KEEP_SLOTS = ("location", "callout")
# Emergency call-out (一呼百应, issue 6): bot/callouts.py sets slots["callout"] for every member called.
CALLOUT_SLOT = "callout"
CALLOUT_ANSWERS = ("到", "收到", "1")


def idle(reply: str | None, slots: Mapping[str, Any] | None = None, **kw: Any) -> Result:
    keep = {k: v for k, v in (slots or {}).items() if k in KEEP_SLOTS}
    return Result(state=IDLE, slots=keep, reply=reply, **kw)


# -- events -------------------------------------------------------------------------------------


def on_subscribe(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    text = "您好，感谢关注！" + menu_text(ctx.hub_name)
    own = _volunteer_scene(state, slots, inc, ctx)  # issue 5: a volunteer or merchant QR code starts its dialogue
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
    from bot import registration, volunteer_flow

    if inc.scene and inc.scene.startswith("volunteer"):
        return registration.start(slots, ctx, source=f"qr:{inc.scene}"[:100])
    code = volunteer_flow.scanned_code(inc.scene)
    if code is not None:
        return volunteer_flow.start_code_scan(slots, code)
    merchant = volunteer_flow.scanned_merchant(inc.scene)
    return None if merchant is None else volunteer_flow.start_scan_redeem(slots, ctx, merchant)


def on_scan(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    own = _volunteer_scene(state, slots, inc, ctx)
    if own is not None:
        return own
    if _event_scene(inc):  # issue 6: an event poster's code answers with the subscription, not the menu
        return result(state, {**slots, "last_scene": inc.scene}, None, actions=_event_scene(inc))
    return result(state, {**slots, "last_scene": inc.scene}, f"已收到扫码（{inc.scene}）。" + menu_text(ctx.hub_name))


def on_template_finish(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(state, slots, None, effects=(Effect("template_result", {"status": inc.event_key}),))


def on_location(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    loc = {"lat": inc.latitude, "lng": inc.longitude, "label": inc.label}
    new_slots = {**slots, "location": loc}
    if inc.kind == "event":  # periodic location report: remember silently
        return result(state, new_slots, None)
    from bot import order_flow

    if state == order_flow.ASK_ADDRESS:  # the address question answered with a location
        return order_flow.fill_location(new_slots, inc, ctx)
    where = inc.label or "您发送的位置"
    return result(state, new_slots, f"收到位置：{where}。下单时会用这个地址。")


def on_voice_unreadable(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(state, slots, "抱歉，这段语音没有听清楚。您可以再说一遍，或者回复数字：\n"
                  + "\n".join(f"{n} {label}" for n, label in MENU_ITEMS))


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


def hand_over(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return result(HUMAN, slots, "好的，已为您转接社区工作人员，请稍候。回复“菜单”可回到自助服务。",
                  actions=(Action("human_handover", {"at": inc.create_time}),))


def global_command(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result | None:
    """Commands that work in every state. None when the text is not one."""
    from bot import order_flow

    nlu = ctx.nlu
    in_dialogue = state not in (IDLE, HUMAN)
    # Call-out answers (issue 6): "到"/"收到" always go to the call-out action (it finds the person's open
    # call-out, or says there is none); "1" only while a call-out waits for them and no dialogue is under way,
    # so it stays menu choice 1 for everyone else.
    if text in CALLOUT_ANSWERS and (text != "1" or (slots.get(CALLOUT_SLOT) and not in_dialogue)):
        rest = {k: v for k, v in slots.items() if k != CALLOUT_SLOT}
        return result(state, rest, None, actions=(Action("callout_answer", {"callout": slots.get(CALLOUT_SLOT),
                                                                            "text": text}),))
    if state == order_flow.RATE_COMMENT and nlu.is_no(text):
        return None  # "不用了" answers "anything to add?", it does not cancel anything
    order_id = nlu.cancel_order(text)
    if order_id is not None:
        return idle(None, slots, actions=(Action("cancel_order", {"order": order_id}),))
    back = nlu.give_back(text)
    if back is not None:
        if back[1]:
            return idle(None, slots, actions=(Action("give_back", {"order": back[0], "reason": back[1]}),))
        return result(order_flow.ASK_GIVEBACK_REASON, {**slots, "order": back[0]}, f"请说一下退订单{back[0]}的原因：")
    done = nlu.complete_with_hours(text)
    if done is not None:
        return idle(None, slots, actions=(Action("complete", {"order": done[0], "hours": done[1]}),))
    if nlu.is_proxy(text):
        return order_flow.start_proxy(slots, ctx)
    from bot import registration, volunteer_flow  # issue 5: volunteers' own commands

    own = volunteer_flow.command(state, slots, inc, ctx, text)
    if own is not None:
        return own
    cmd = nlu.command(text)
    if cmd is None:
        return None
    name, arg = cmd.name, cmd.arg
    if name == "register_volunteer":
        return registration.start(slots, ctx)
    if name == "help":
        note = "（刚才的操作已取消）\n" if in_dialogue else ""
        return idle(note + menu_text(ctx.hub_name), slots)
    if name == "cancel":
        if in_dialogue or state == HUMAN:
            return idle("好的，已取消。需要时再找我，回复“菜单”看看能做什么。", slots)
        return idle("现在没有要取消的操作。要取消订单请回复“取消订单 编号”，回复“我的订单”查看编号。", slots)
    if name == "human":
        return hand_over(state, slots, inc, ctx)
    if name == "accept":
        if arg is None:
            return result(state, slots, "请带上订单编号，比如“接单 12”。")
        return idle(None, slots, actions=(Action("accept", {"order": arg}),))
    if name == "complete":
        if arg is None:
            return result(state, slots, "请带上订单编号，比如“完成 12 2”（12号订单，服务2小时）。")
        return result(order_flow.ASK_HOURS, {**slots, "order": arg, "misses": 0},
                      f"订单{arg}服务了几个小时？回复数字，比如“2”或“1.5”。")
    if name in ("my_orders", "my_tasks", "points", "redeem", "register_volunteer", "subscribe_events",
                "unsubscribe", "events", "passbook"):
        return idle(None, slots, actions=(Action(name, {"arg": arg} if arg is not None else {}),))
    return None


def on_text(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    from bot import flows

    text = text_of(inc)
    prefix = ""
    if state != IDLE and _expired(slots, ctx):
        prefix = "上次的对话时间太久，已帮您取消了。\n"
        state, slots = IDLE, {k: v for k, v in slots.items() if k in KEEP_SLOTS}
    if not text:
        return _prefixed(prefix, result(state, slots, "请用文字或语音告诉我您需要什么，或回复“菜单”。"))
    res = global_command(state, slots, inc, ctx, text)
    if res is None and state == HUMAN:
        return result(state, slots, None)  # staff are answering; the bot stays out of the way
    if res is None and state in flows.STATE_HANDLERS:
        res = flows.STATE_HANDLERS[state](state, slots, inc, ctx, text)
    if res is None:
        res = on_idle_text(slots, inc, ctx, text)
    return _prefixed(prefix, _touch(res, ctx))


def on_idle_text(slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    from bot import order_flow

    choice = ctx.nlu.choice(text) if len(text) <= 4 else None
    if choice is not None and str(choice) in dict(MENU_ITEMS):
        key = str(choice)
        if key == "1":
            return order_flow.ask_service(slots, ctx)
        if key == "0":
            return hand_over(IDLE, slots, inc, ctx)
        if key == "3":  # issue 5: registration is a dialogue, not a one-shot action
            from bot import registration

            return registration.start(slots, ctx)
        return idle(None, slots, actions=(Action(MENU_ACTIONS[key]),))
    return order_flow.start_from_text(slots, inc, ctx, text)


def _expired(slots: Mapping[str, Any], ctx: Context) -> bool:
    last = slots.get("last_at")
    if not last:
        return False
    try:
        return ctx.now - datetime.fromisoformat(str(last)) > ctx.timeout
    except (TypeError, ValueError):
        return True


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
    from bot import flows

    if state not in (IDLE, HUMAN) and state not in flows.STATE_HANDLERS:
        state, slots = IDLE, {}  # a state from another version of the code: start over rather than crash
    for rule in rules:
        if inc.kind in rule.kinds and (rule.events is None or inc.event in rule.events) and rule.when(inc):
            res = rule.handler(state, dict(slots), inc, ctx)
            return replace(res, slots=dict(res.slots))
    if inc.kind == "event":
        return on_silent(state, slots, inc, ctx)
    return on_unknown(state, slots, inc, ctx)
