"""Chat actions of the community: the next street event, opting in and out of reminders, answering a call-out."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bot.community import callouts, events, incidents
from bot.config import load_config
from bot.inbox.actions.context import ActionContext, Run
from bot.serviceloop.orders import settings_for


@lru_cache(maxsize=1)
def _settings() -> events.EventSettings:
    # ActionContext carries no Config, so the chat uses the process's LEIFENG_* settings (time zone, public
    # URL for calendar links), read once on first use rather than at import time.
    return events.EventSettings.from_config(load_config())


def show_events(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return events.next_event_text(ac.s, ac.hub_id, ac.user, ac.now, _settings(), dict(ac.names()))


def subscribe_events(ac: ActionContext, data: Mapping[str, Any]) -> str:
    source = str(data.get("source") or "chat")
    changed = events.set_subscription(ac.s, ac.hub_id, ac.user, True, source, ac.now)
    head = "好的，已为您订阅活动提醒。" if changed else "您已经订阅过活动提醒了。"
    nxt = events.upcoming(ac.s, ac.hub_id, ac.now, limit=1)
    tail = f"\n下一次：{events.describe(ac.s, nxt[0], _settings())}" if nxt else ""
    return head + "活动前一天傍晚和当天早上会提醒您，不想收了回复“退订”。" + tail


def unsubscribe(ac: ActionContext, data: Mapping[str, Any]) -> str:
    changed = events.set_subscription(ac.s, ac.hub_id, ac.user, False, "chat", ac.now)
    if not changed:
        return "您现在没有订阅活动提醒，不会收到提醒和群发通知。想订阅回复“订阅活动提醒”。"
    return "好的，已退订活动提醒和群发通知。想再订阅回复“订阅活动提醒”。"


def callout_answer(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return callouts.answer(ac.s, hub_id=ac.hub_id, user=ac.user, now=ac.now, callout_id=data.get("callout"),
                           answer=str(data.get("text") or "到"))


def emergency(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """The resident was already told whom to call (the passive reply); record it and alert staff at once. With no
    address or no phone said nor on file, the reply asks for them (staff cannot find or call back otherwise)."""
    # read once: the alert's numbers to call and the reply's question for what is missing
    address, phone = incidents.contact(ac.s, ac.hub_id, ac.user, str(data["phone"]) if data.get("phone") else None,
                                       str(data["address"]) if data.get("address") else None)
    incidents.report(ac.s, hub_id=ac.hub_id, user=ac.user, kind=str(data["kind"]), text=str(data.get("text", "")),
                     cue=str(data["cue"]) if data.get("cue") else None, now=ac.now,
                     settings=settings_for(ac.s, ac.hub_id), phone=phone, address=address,
                     sub=str(data["sub"]) if data.get("sub") else None)
    return incidents.missing_contact(address, phone)


def emergency_place(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """Where the resident is (or a phone), said right after an emergency: onto the incident and to staff now."""
    incidents.place_given(ac.s, hub_id=ac.hub_id, user=ac.user, text=str(data.get("text", "")), now=ac.now)
    return ""


def emergency_followup(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """What was said right after an emergency: the resident got a caring answer; staff get the words too. When staff
    have already marked that incident handled (or there is none open), the words are a new alert: the resident may
    be in danger again, and a note on a closed incident would reach nobody."""
    text = str(data.get("text", ""))
    if incidents.follow_up(ac.s, hub_id=ac.hub_id, user=ac.user, text=text, now=ac.now) is None and data.get("kind"):
        incidents.report(ac.s, hub_id=ac.hub_id, user=ac.user, kind=str(data["kind"]), text=text, cue=None,
                         now=ac.now, settings=settings_for(ac.s, ac.hub_id))
    return ""


def emergency_called_off(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """The resident says the emergency was a false alarm: the resident was answered; staff are told to check."""
    incidents.called_off(ac.s, hub_id=ac.hub_id, user=ac.user, text=str(data.get("text", "")), now=ac.now)
    return ""


ACTIONS: dict[str, Run] = {
    "emergency": emergency,
    "emergency_called_off": emergency_called_off,
    "emergency_followup": emergency_followup,
    "emergency_place": emergency_place,
    "events": show_events,
    "subscribe_events": subscribe_events,
    "unsubscribe": unsubscribe,
    "callout_answer": callout_answer,
}
