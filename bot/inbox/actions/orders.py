"""The service loop's chat actions: submit, accept, complete, give back, cancel, rate, my orders and tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.inbox.actions.context import ActionContext, Run, order_number
from bot.people.volunteers import ACTIVE_STATUSES, membership_of
from bot.serviceloop import orders


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
    oid = order_number(data)
    member = membership_of(ac.s, ac.hub_id, ac.user)
    if member is None or member.status not in ACTIVE_STATUSES:
        return orders.NOT_A_VOLUNTEER
    return orders.accept(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, now=ac.now, service=_service_of(ac, oid))


def complete(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = order_number(data)
    return orders.complete(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, hours=float(data["hours"]),
                           now=ac.now, service=_service_of(ac, oid))


def give_back(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = order_number(data)
    return orders.give_back(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, reason=str(data.get("reason", "")),
                            now=ac.now, service=_service_of(ac, oid))


def cancel_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return orders.cancel(ac.s, hub_id=ac.hub_id, order_id=order_number(data), actor=ac.user.openid,
                         reason="居民取消", now=ac.now, user=ac.user)


def rate(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = order_number(data)
    return orders.rate(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, hearts=int(data["hearts"]), now=ac.now,
                       service=_service_of(ac, oid))


def comment(ac: ActionContext, data: Mapping[str, Any]) -> str:
    return orders.add_comment(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=order_number(data),
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


ACTIONS: dict[str, Run] = {
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
}
