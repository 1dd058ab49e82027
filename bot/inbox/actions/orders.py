"""The service loop's chat actions: submit, accept, complete, give back, cancel, rate, my orders and tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from bot.inbox.actions.context import ActionContext, Run, order_number
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop import edits, orders, records
from bot.serviceloop.dispatch import HELD_STATES
from storage.models import Membership, Order, User, Volunteer


def _service_of(ac: ActionContext, order_id: int) -> orders.ServiceInfo:
    order = orders._get_order(ac.s, ac.hub_id, order_id)
    return ac.service(order.service_code)


# the sender's row with how many open orders they have in the hub (the limit) and the hub's settings (the limit's
# value, the services that need support), in one statement
_USER_WITH_OPEN_ORDERS = select(User, orders.OPEN_ORDERS, records.HUB_SETTINGS).where(User.id == bindparam("user_id"))


def submit_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    service = ac.service(str(data["service"]))
    user, open_orders, settings = ac.s.execute(_USER_WITH_OPEN_ORDERS,
                                               {"hub_id": ac.hub_id, "user_id": ac.user_id}).one()
    ac.held(user)
    records.remember_settings(ac.s, ac.hub_id, settings)
    # dispatched by the worker within seconds, not inside this passive reply (it tells them if nobody is free)
    order = orders.submit_order(ac.s, hub_id=ac.hub_id, user=ac.user, data=data, service=service, now=ac.now,
                                dispatch_now=False, open_orders=int(open_orders or 0))
    status = "正在为您联系志愿者，有人接单会马上告诉您。"
    return (f"订单{order.ref}已提交：{service.name}，{orders.when_text(order)}。\n{status}\n"
            f"查看进度回复“我的订单”，取消回复“取消订单 {order.ref}”。")


# the orders a volunteer holds (max_open_tasks counts them), counted for the sender's volunteer in every hub
_HELD = aliased(Order, name="held")
_OPEN_TASKS = (select(func.count(_HELD.id)).where(_HELD.volunteer_id == User.volunteer_id,
                                                 _HELD.state.in_(HELD_STATES))
               .correlate(User).scalar_subquery())
# The sender's row with their membership of the hub (bot.people.volunteers.membership_of: by the user's volunteer
# id) in one statement; for 接单 also their volunteer row and their open tasks. Built once.
_MEMBER = and_(Membership.hub_id == bindparam("hub_id"), Membership.volunteer_id == User.volunteer_id)
_USER_WITH_MEMBER = (select(User, Membership).outerjoin(Membership, _MEMBER)
                     .where(User.id == bindparam("user_id")))
_USER_WITH_VOLUNTEER = (select(User, Membership, Volunteer, _OPEN_TASKS).outerjoin(Membership, _MEMBER)
                        .outerjoin(Volunteer, Volunteer.id == Membership.volunteer_id)
                        .where(User.id == bindparam("user_id")))


def _member(ac: ActionContext) -> Membership | None:
    """The sender's membership of this hub, read with their user row (held for `ac.user`)."""
    user, member = ac.s.execute(_USER_WITH_MEMBER, {"hub_id": ac.hub_id, "user_id": ac.user_id}).one()
    ac.held(user)
    return member


def _member_with_volunteer(ac: ActionContext) -> tuple[Membership | None, int]:
    """The sender's membership of this hub with their volunteer row and how many tasks they hold, read with their
    user row in one statement: 接单 needs them all (the volunteer's age and name, the task limit), and holding the
    rows here keeps them in the session's identity map for orders.accept's s.get."""
    user, member, vol, open_tasks = ac.s.execute(_USER_WITH_VOLUNTEER,
                                                 {"hub_id": ac.hub_id, "user_id": ac.user_id}).one()
    ac.held(user)
    if vol is not None:
        ac.named.append(vol)
    return member, int(open_tasks or 0)


def accept(ac: ActionContext, data: Mapping[str, Any]) -> str:
    member, open_tasks = _member_with_volunteer(ac)
    if member is None or member.status not in ACTIVE_STATUSES:
        raise orders.NotAVolunteerError()  # before the order is looked up: its number says nothing to a stranger
    oid = order_number(ac, data)
    service = _service_of(ac, oid)
    order = orders.accept(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, now=ac.now, service=service,
                          member=member, open_tasks=open_tasks)
    return (f"接单成功！订单{order.ref}：{service.name}\n时间：{orders.when_text(order)}\n"
            f"地址：{order.address or '待确认'}\n"
            f"联系人：{order.resident_name or '居民'} 电话：{order.phone or '未留'}\n"
            f"完成后回复：完成 {order.ref} 小时数（如“完成 {order.ref} 2”）。有事去不了回复：退单 {order.ref}")


def complete(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = order_number(ac, data)
    hours = float(data["hours"])
    member = _member(ac)
    order = orders.complete(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, hours=hours, now=ac.now,
                            service=_service_of(ac, oid), member=member, member_known=True)
    return f"辛苦了！订单{order.ref}已记录服务{hours:g}小时，等居民确认评价后计入时长和积分。"


def give_back(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = order_number(ac, data)
    reason = str(data.get("reason", ""))
    member = _member(ac)
    order = orders.give_back(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, reason=reason, now=ac.now,
                             service=_service_of(ac, oid), dispatch_now=False,  # offered again by the worker
                             member=member, member_known=True)
    return f"已退单（原因：{reason}）。订单{order.ref}会重新派给其他志愿者。"


def cancel_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    order = orders.cancel(ac.s, hub_id=ac.hub_id, order_id=order_number(ac, data), actor=ac.user.openid,
                          reason="居民取消", now=ac.now, user=ac.user)
    return f"订单{order.ref}已取消。"


def edit_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """The resident's change of a submitted order's time, address or phone (confirmed in the dialogue)."""
    oid = order_number(ac, data)
    field = str(data.get("field") or "")
    done = edits.edit_order(ac.s, hub_id=ac.hub_id, user=ac.sender, order_id=oid, field=field,
                            value=data.get("value"), now=ac.now, service=_service_of(ac, oid),
                            hand_over=bool(data.get("hand_over")))
    if done.handed_over:
        return (f"好的，订单{done.order.ref}的新地址{done.new}已经转告接单的志愿者了，"
                "也告诉了社区工作人员，他们会跟您确认。")
    changed = f"好的，订单{done.order.ref}的{edits.FIELDS[field]}已改为{done.new}。"  # (their own address and phone)
    if data.get("more"):  # another change of the same order follows: what comes next is said once, after it
        return changed
    if done.volunteer_told:
        return changed + "已经告诉接单的志愿者了。"
    return changed + "正在为您联系志愿者，有人接单会马上告诉您。"


def rate(ac: ActionContext, data: Mapping[str, Any]) -> str:
    oid = order_number(ac, data)
    hearts = int(data["hearts"])
    orders.rate(ac.s, hub_id=ac.hub_id, user=ac.sender, order_id=oid, hearts=hearts, now=ac.now,
                service=_service_of(ac, oid))
    if data.get("commented"):  # "5颗心 师傅很好": the words came with the hearts (the comment action follows)
        return f"谢谢您的评价（{hearts}颗心）！"
    return f"谢谢您的评价（{hearts}颗心）！还想对志愿者说点什么吗？直接回复；不用的话回复“不用了”。"


def comment(ac: ActionContext, data: Mapping[str, Any]) -> str:
    orders.add_comment(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=order_number(ac, data),
                       comment=str(data.get("comment", "")), now=ac.now)
    return "收到您的留言，谢谢！"


def human_handover(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """Tell the hub's staff that someone asked for a person; the dialogue already answered them."""
    orders.notify_staff(ac.s, ac.hub_id, f"居民{ac.nickname or ''}请求人工服务，请到管理后台的“人工服务”里回复。",
                        ac.now, key=f"human:{ac.openid}:{data.get('at', '')}")
    return ""


ACTIONS: dict[str, Run] = {
    "submit_order": submit_order,
    "accept": accept,
    "complete": complete,
    "give_back": give_back,
    "cancel_order": cancel_order,
    "edit_order": edit_order,
    "rate": rate,
    "comment": comment,
    "human_handover": human_handover,
}
