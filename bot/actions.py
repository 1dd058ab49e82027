"""Perform the dialogue's actions against the domain, inside the message's transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from bot import event_actions, orders, volunteer_actions
from bot.dialogue import Action
from bot.lifecycle import IllegalTransitionError
from bot.nlu import Understanding
from storage.models import User


@dataclass(frozen=True)
class ActionContext:
    s: Session
    hub_id: int
    user_id: int
    openid: str
    now: datetime
    nlu: Understanding
    secret_key: str = ""  # LEIFENG_SECRET_KEY: ID numbers are encrypted and hashed with keys derived from it
    nickname: str | None = None  # as read with the message: enough for a notice; decisions load `user`

    @cached_property
    def user(self) -> User:
        """The sender's row, loaded in the message's transaction the first time an action needs it."""
        return self.s.get_one(User, self.user_id)

    def service(self, code: str) -> orders.ServiceInfo:
        return orders.ServiceInfo(code, self.nlu.service_name(code))

    def names(self) -> Mapping[str, str]:
        return {svc.code: svc.name for svc in self.nlu.catalogue}


def _order_id(data: Mapping[str, Any]) -> int:
    return int(data["order"])


def _service_of(ac: ActionContext, order_id: int) -> orders.ServiceInfo:
    order = orders._get_order(ac.s, ac.hub_id, order_id)
    return ac.service(order.service_code)


def submit_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    service = ac.service(str(data["service"]))
    order = orders.submit_order(ac.s, hub_id=ac.hub_id, user=ac.user, data=data, service=service, now=ac.now)
    status = ("正在为您联系志愿者，有人接单会马上告诉您。" if order.state == "dispatched" and order.dispatch_round
              else "暂时没有空闲的志愿者，已请社区工作人员帮您安排。")
    return (f"订单{order.id}已提交：{service.name}，{orders.when_text(order)}。\n{status}\n"
            f"查看进度回复“我的订单”，取消回复“取消订单 {order.id}”。")


def accept(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = _order_id(data)
    member = orders.membership_of(ac.s, ac.hub_id, ac.user)
    if member is None or member.status not in orders.ACTIVE_MEMBER:
        return orders.NOT_A_VOLUNTEER
    return orders.accept(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, now=ac.now, service=_service_of(ac, oid))


def complete(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = _order_id(data)
    return orders.complete(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, hours=float(data["hours"]),
                           now=ac.now, service=_service_of(ac, oid))


def give_back(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = _order_id(data)
    return orders.give_back(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, reason=str(data.get("reason", "")),
                            now=ac.now, service=_service_of(ac, oid))


def cancel_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return orders.cancel(ac.s, hub_id=ac.hub_id, order_id=_order_id(data), actor=ac.user.openid,
                         reason="居民取消", now=ac.now, user=ac.user)


def rate(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = _order_id(data)
    return orders.rate(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, hearts=int(data["hearts"]), now=ac.now,
                       service=_service_of(ac, oid))


def comment(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return orders.add_comment(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=_order_id(data),
                              comment=str(data.get("comment", "")), now=ac.now)


def my_orders(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return orders.open_orders_text(ac.s, ac.hub_id, ac.user, ac.names())


def my_tasks(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return orders.tasks_text(ac.s, ac.hub_id, ac.user, ac.names())


def human_handover(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """Tell the hub's staff that someone asked for a person; the dialogue already answered them."""
    orders.notify_staff(ac.s, ac.hub_id, f"居民 {ac.nickname or ac.openid} 请求人工服务，请尽快在后台回复。",
                        ac.now, key=f"human:{ac.openid}:{data.get('at', '')}")
    return ""


def not_yet(feature: str) -> Callable[[ActionContext, Mapping[str, Any]], str]:
    def run(ac: ActionContext, data: Mapping[str, Any]) -> str:
        return f"{feature}还没有在微信上开通，请联系社区工作人员办理（回复“人工”）。"

    return run


ACTIONS: dict[str, Callable[[ActionContext, Mapping[str, Any]], str]] = {
    "submit_order": submit_order,
    "accept": accept,
    "complete": complete,
    "give_back": give_back,
    "cancel_order": cancel_order,
    "rate": rate,
    "comment": comment,
    "my_orders": my_orders,
    "my_tasks": my_tasks,
    "human_handover": human_handover,
    # issues 5 and 6 bring these to chat; until then people are pointed to staff, not left hanging
    # issue 5: registration, profile, points, redemption, time bank (bot/volunteer_actions.py)
    **volunteer_actions.ACTIONS,
    # issue 6: street events, reminders and emergency call-outs (bot/event_actions.py)
    "events": event_actions.show_events,
    "subscribe_events": event_actions.subscribe_events,
    "unsubscribe": event_actions.unsubscribe,
    "callout_answer": event_actions.callout_answer,
}


# Actions that only read, or only add outbox rows, and refuse nothing: they cannot leave half their work
# behind, so they skip the savepoint (two statements; two round trips on PostgreSQL). Anything unexpected
# they raise still rolls back the whole message.
NO_PARTIAL_WORK = frozenset({"human_handover", "my_orders", "my_tasks"})


def perform(ac: ActionContext, action: Action) -> str:
    """Run one action; a domain refusal becomes a plain-Chinese reply, anything else propagates."""
    run = ACTIONS.get(action.name)
    if run is None:
        raise KeyError(f"no handler for dialogue action {action.name!r}")
    if action.name in NO_PARTIAL_WORK:
        return run(ac, action.data)
    try:
        with ac.s.begin_nested():  # a refused action leaves nothing behind, the message is still recorded
            return run(ac, action.data)
    except orders.OrderError as exc:
        return str(exc)
    except IllegalTransitionError as exc:
        return f"这个订单现在不能这样操作（{exc}）。"
