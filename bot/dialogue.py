"""The conversation core: a pure step function driven by a rule table (no Flask, SQL, network or clock)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.messages import Incoming


class State(StrEnum):
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
    """A change to a user's record that the edge applies in the same transaction."""

    name: str  # subscribed | unsubscribed | template_result | location
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    hub_name: str
    now: datetime
    roles: frozenset[str] = frozenset()
    staff_openids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    state: State
    slots: Mapping[str, Any]
    reply: str | None
    outbox: tuple[Out, ...] = ()
    effects: tuple[Effect, ...] = ()


MENU_ITEMS: tuple[tuple[str, str], ...] = (
    ("1", "我要找志愿者帮忙（点单）"),
    ("2", "我的订单"),
    ("3", "注册志愿者"),
    ("4", "雷锋一条街活动"),
    ("5", "积分查询"),
    ("0", "人工服务"),
)

CLICK_KEYS: Mapping[str, str] = {
    "MENU_ORDER": "1", "MENU_MY_ORDERS": "2", "MENU_VOLUNTEER": "3",
    "MENU_EVENTS": "4", "MENU_POINTS": "5", "MENU_HUMAN": "0", "MENU_HELP": "菜单",
}

HELP_WORDS = frozenset({"菜单", "帮助", "功能", "help", "menu", "?", "？", "你好", "您好", "在吗"})


def menu_text(hub_name: str) -> str:
    lines = [f"欢迎来到{hub_name}！请回复数字："]
    lines += [f"{n} {label}" for n, label in MENU_ITEMS]
    lines.append("也可以直接说您需要什么，比如“明天上午来帮我修水管”。")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).strip("。.!！~")


Handler = Callable[[State, Mapping[str, Any], Incoming, Context], Result]


def _same(state: State, slots: Mapping[str, Any], reply: str | None, *, effects: tuple[Effect, ...] = (),
          outbox: tuple[Out, ...] = ()) -> Result:
    return Result(state=state, slots=slots, reply=reply, effects=effects, outbox=outbox)


def on_subscribe(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    text = "您好，感谢关注！" + menu_text(ctx.hub_name)
    if inc.scene and inc.scene.startswith("volunteer"):
        text += "\n您是扫志愿者码来的：回复“注册志愿者”即可报名。"
    return _same(State.IDLE, {}, text, effects=(Effect("subscribed", {"scene": inc.scene}),))


def on_unsubscribe(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return _same(State.IDLE, {}, None, effects=(Effect("unsubscribed"),))


def on_scan(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return _same(state, {**slots, "last_scene": inc.scene}, f"已收到扫码（{inc.scene}）。" + menu_text(ctx.hub_name))


def on_template_finish(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return _same(state, slots, None, effects=(Effect("template_result", {"status": inc.event_key}),))


def on_location(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    loc = {"lat": inc.latitude, "lng": inc.longitude, "label": inc.label}
    new_slots = {**slots, "location": loc}
    if inc.kind == "event":  # periodic location report: remember silently
        return _same(state, new_slots, None)
    where = inc.label or "您发送的位置"
    return _same(state, new_slots, f"收到位置：{where}。下单时会用这个地址。")


def on_voice_unreadable(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return _same(state, slots, "抱歉，这段语音没有听清楚。您可以再说一遍，或者回复数字：\n"
                 + "\n".join(f"{n} {label}" for n, label in MENU_ITEMS))


def on_media(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    what = {"image": "图片", "video": "视频", "link": "链接"}.get(inc.kind, "消息")
    return _same(state, slots, f"已收到您的{what}。需要帮忙的话，请用文字或语音说一下，或回复“菜单”。")


def on_unknown(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return _same(state, slots, "这种消息暂时看不懂，请发文字或语音，或回复“菜单”。")


def on_silent(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    return _same(state, slots, None)


def _text_of(inc: Incoming) -> str:
    if inc.kind == "event" and inc.event == "click":
        return CLICK_KEYS.get(inc.event_key or "", "菜单")
    return _clean(inc.text or "")


def on_human(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    notes = tuple(Out(to=o, text=f"居民 {inc.openid} 请求人工服务，请尽快在后台回复。",
                      key=f"human:{inc.openid}:{inc.create_time}:{o}") for o in ctx.staff_openids)
    return _same(State.HUMAN, slots, "好的，已为您转接社区工作人员，请稍候。回复“菜单”可回到自助服务。", outbox=notes)


def on_text(state: State, slots: Mapping[str, Any], inc: Incoming, ctx: Context) -> Result:
    text = _text_of(inc)
    if text in HELP_WORDS or text in {"取消", "退出"}:
        return _same(State.IDLE, {k: v for k, v in slots.items() if k == "location"}, menu_text(ctx.hub_name))
    if state is State.HUMAN:
        return _same(state, slots, None)  # staff are answering; the bot stays out of the way
    if text in {"0", "人工", "转人工", "人工服务"}:
        return on_human(state, slots, inc, ctx)
    choices = dict(MENU_ITEMS)
    if text in choices:
        return _same(state, {**slots, "menu_choice": text},
                     f"您选择了：{choices[text]}。请直接用一句话说明需要什么帮助、时间和地址，我们会为您安排。")
    return _same(state, slots, "收到您的留言。" + menu_text(ctx.hub_name))


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
    """(state, slots, message, context) -> new state, slots, passive reply, outbox messages, effects."""
    try:
        current = State(state)
    except ValueError:
        current = State.IDLE  # a state from a newer/older version: start over rather than crash
    for rule in rules:
        if inc.kind in rule.kinds and (rule.events is None or inc.event in rule.events) and rule.when(inc):
            result = rule.handler(current, dict(slots), inc, ctx)
            return replace(result, slots=dict(result.slots))
    if inc.kind == "event":
        return on_silent(current, slots, inc, ctx)
    return on_unknown(current, slots, inc, ctx)
