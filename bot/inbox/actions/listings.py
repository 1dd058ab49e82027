"""Chat actions that show the service loop: my orders, my tasks, and the open tasks that fit a volunteer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.inbox.actions.context import ActionContext, Run
from bot.serviceloop import listings, nudges
from bot.serviceloop.records import when_text
from intents.masking import coarse_address


def my_orders(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """"我的订单"; with ``only_if_any`` (a volunteer's, after their tasks) nothing at all when they ordered nothing."""
    if data.get("only_if_any"):
        found = listings.my_orders(ac.s, ac.hub_id, ac.user, ac.now)
        if not found.in_progress and not found.finished:
            return ""
    return listings.open_orders_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now,
                                     by_family=bool(data.get("by_family")))


def my_tasks(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return listings.tasks_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now)


def open_tasks(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """"有什么任务"; with ``service`` ("我来接那个陪老人聊天的单") only the open tasks of that service, if there are."""
    service = data.get("service")
    if service:
        found = listings.open_tasks(ac.s, ac.hub_id, ac.user, ac.now)
        names = ac.names()
        mine = [o for o in found.orders if o.service_code == service] if not found.at_limit else []
        if mine:
            lines = [f"订单{o.ref} {names.get(o.service_code, o.service_code)} {when_text(o)} "
                     f"{coarse_address(o.address)}：回复“接单 {o.ref}”" for o in mine]
            return "\n".join([*lines, "接下后会告诉您详细地址和联系电话。"])
    return listings.open_tasks_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now, numbered=bool(data.get("numbered")))


def note(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """A line the dialogue adds after what an action showed (the half-made order is kept...); none when it was
    said for an action the domain refused in this message (``unless_refused``)."""
    if data.get("unless_refused") in ac.refused:
        return ""
    return str(data.get("text") or "")


def nudge_volunteer(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """"催一下" / "师傅怎么还没来": the volunteer holding the sender's order nudged (nudges.py); with no order held, how
    the orders stand."""
    done = nudges.nudge(ac.s, hub_id=ac.hub_id, user=ac.sender, now=ac.now, names=ac.names())
    if done:
        return nudges.nudge_words(done)
    found = listings.my_orders(ac.s, ac.hub_id, ac.user, ac.now)
    if not found.in_progress:
        return listings.open_orders_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now)
    return nudges.NOT_HELD + "\n" + listings.open_orders_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now)


def volunteer_contact(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """"给我王师傅的电话": who holds the order (the phone masked) and the relay; else how the orders stand."""
    held = nudges.held_orders(ac.s, ac.hub_id, ac.sender)
    if held:
        return nudges.contact_words(held)
    return listings.open_orders_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now)


ACTIONS: dict[str, Run] = {
    "nudge_volunteer": nudge_volunteer,
    "volunteer_contact": volunteer_contact,
    "my_orders": my_orders,
    "my_tasks": my_tasks,
    "open_tasks": open_tasks,
    "note": note,
}
