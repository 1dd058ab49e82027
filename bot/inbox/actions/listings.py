"""Chat actions that show the service loop: my orders, my tasks, and the open tasks that fit a volunteer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.inbox.actions.context import ActionContext, Run
from bot.serviceloop import listings


def my_orders(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return listings.open_orders_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now)


def my_tasks(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return listings.tasks_text(ac.s, ac.hub_id, ac.user, ac.names())


def open_tasks(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return listings.open_tasks_text(ac.s, ac.hub_id, ac.user, ac.names(), ac.now)


ACTIONS: dict[str, Run] = {
    "my_orders": my_orders,
    "my_tasks": my_tasks,
    "open_tasks": open_tasks,
}
