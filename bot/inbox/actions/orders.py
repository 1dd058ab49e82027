"""The service loop's chat actions: submit, accept, complete, give back, cancel, rate, my orders and tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from bot.inbox.actions.context import NOT_READ, ActionContext, NotRead, Run, order_number, ref_of
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop import edits, listings, orders, records, rerating
from bot.serviceloop.dispatch import HELD_STATES
from bot.serviceloop.lifecycle import OPEN_STATES
from storage import conversations, orderrefs
from storage.hot import Hot, as_loaded, width
from storage.models import Membership, Order, User, Volunteer


def _service_of(ac: ActionContext, order_id: int) -> orders.ServiceInfo:
    order = orders._get_order(ac.s, ac.hub_id, order_id)
    return ac.service(order.service_code)


# The sender's rows the order steps read with what they need of them, as Core statements built once (storage.hot):
# the ORM objects are made from the rows (storage.hot.as_loaded), without the ORM's execution and loading.
_USERS, _MEMBERS, _VOLUNTEERS = (cast(Table, m.__table__) for m in (User, Membership, Volunteer))
_ORDERS = cast(Table, Order.__table__)
_N_USER, _N_MEMBER, _N_VOLUNTEER = width(User), width(Membership), width(Volunteer)


def _states(states: Any) -> list[ColumnElement[Any]]:
    """Order states as literals (fixed identifiers): a statement storage.hot runs has no expanding IN parameters."""
    return [literal_column(f"'{state}'") for state in sorted(str(st) for st in states)]


def _sender_rows(s: Session, statement: Hot, params: dict[str, Any]) -> tuple[Any, ...]:
    if s.autoflush:
        s.flush()  # what a query through the session does first
    row = statement.run(s.connection(), params).first()
    assert row is not None  # the sender's row: written before the message's actions run
    return row


# the sender's row with how many open orders they have in the hub (the limit) and the hub's settings (the limit's
# value, the services that need support), in one statement
_OPEN_ORDERS = (select(func.count(_ORDERS.c.id))
                .where(_ORDERS.c.hub_id == bindparam("hub_id"), _ORDERS.c.ordered_by_user_id == _USERS.c.id,
                       _ORDERS.c.state.in_(_states(st.value for st in OPEN_STATES)))
                .correlate(_USERS).scalar_subquery())
# ... and the first round of the new order's 单号 (storage.orderrefs.OneRound): its INSERT reads nothing first
_USER_WITH_OPEN_ORDERS = Hot(select(*_USERS.c, _OPEN_ORDERS, records.HUB_SETTINGS,
                                    *orderrefs.one_round_columns(_ORDERS))
                             .where(_USERS.c.id == bindparam("user_id")))


def submit_order(ac: ActionContext, data: Mapping[str, Any]) -> str:
    service = ac.service(str(data["service"]))
    drawn = orderrefs.OneRound.drawn()
    row = _sender_rows(ac.s, _USER_WITH_OPEN_ORDERS, {"hub_id": ac.hub_id, "user_id": ac.user_id, **drawn.params})
    user = as_loaded(ac.s, User, row[:_N_USER])
    assert user is not None
    open_orders, settings = row[_N_USER:_N_USER + 2]
    ac.held(user)
    records.remember_settings(ac.s, ac.hub_id, settings)
    # dispatched by the worker within seconds, not inside this passive reply (it tells them if nobody is free)
    order = orders.submit_order(ac.s, hub_id=ac.hub_id, user=ac.user, data=data, service=service, now=ac.now,
                                dispatch_now=False, open_orders=int(open_orders or 0),
                                ref=drawn.pick(row[_N_USER + 2:]))
    status = "正在为您联系志愿者，有人接单会马上告诉您。"
    return (f"订单{order.ref}已提交：{service.name}，{orders.when_text(order)}。\n{status}\n"
            f"查看进度回复“我的订单”，取消回复“取消订单 {order.ref}”。")


# the orders a volunteer holds (max_open_tasks counts them), counted for the sender's volunteer in every hub
_HELD = _ORDERS.alias("held")
_OPEN_TASKS = (select(func.count(_HELD.c.id)).where(_HELD.c.volunteer_id == _USERS.c.volunteer_id,
                                                   _HELD.c.state.in_(_states(HELD_STATES)))
               .correlate(_USERS).scalar_subquery())
# The sender's row with their membership of the hub (bot.people.volunteers.membership_of: by the user's volunteer
# id) in one statement; for 接单 also their volunteer row and their open tasks. Built once.
_MEMBER = and_(_MEMBERS.c.hub_id == bindparam("hub_id"), _MEMBERS.c.volunteer_id == _USERS.c.volunteer_id)
_USER_WITH_MEMBER = Hot(select(*_USERS.c, *_MEMBERS.c).select_from(_USERS.outerjoin(_MEMBERS, _MEMBER))
                        .where(_USERS.c.id == bindparam("user_id")))
# 接单 and 完成 also read the order they name by its ref (bound as `ref`, NULL for none: records.by_ref_join), and 完成
# the conversation of its orderer, whom orders.ask_rating puts in the rating
_CONVERSATIONS = conversations.COLUMNS[0].table
_N_BY_REF = len(records.BY_REF_COLUMNS)
_USER_WITH_MEMBER_AND_ORDER = Hot(
    select(*_USERS.c, *_MEMBERS.c, *records.BY_REF_COLUMNS, *conversations.COLUMNS)
    .select_from(records.by_ref_join(_USERS.outerjoin(_MEMBERS, _MEMBER))
                 .outerjoin(_CONVERSATIONS, _CONVERSATIONS.c.user_id == _ORDERS.c.ordered_by_user_id))
    .where(_USERS.c.id == bindparam("user_id")))
_USER_WITH_VOLUNTEER = Hot(
    select(*_USERS.c, *_MEMBERS.c, *_VOLUNTEERS.c, _OPEN_TASKS, *records.BY_REF_COLUMNS)
    .select_from(records.by_ref_join(_USERS.outerjoin(_MEMBERS, _MEMBER)
                                     .outerjoin(_VOLUNTEERS, _VOLUNTEERS.c.id == _MEMBERS.c.volunteer_id)))
    .where(_USERS.c.id == bindparam("user_id")))


def _member(ac: ActionContext) -> Membership | None:
    """The sender's membership of this hub, read with their user row (held for `ac.user`)."""
    row = _sender_rows(ac.s, _USER_WITH_MEMBER, {"hub_id": ac.hub_id, "user_id": ac.user_id})
    user = as_loaded(ac.s, User, row[:_N_USER])
    assert user is not None
    ac.held(user)
    return as_loaded(ac.s, Membership, row[_N_USER:])


def _found(ac: ActionContext, ref: int | None, part: tuple[Any, ...]) -> Order | None | NotRead:
    """order_number's `found`: the order of records.BY_REF_COLUMNS' part of a row read with the ref `ref`."""
    return NOT_READ if ref is None else records.held_by_ref(ac.s, ac.hub_id, part)


def _member_and_order(ac: ActionContext, ref: int | None) -> tuple[Membership | None, Order | None | NotRead,
                                                                   tuple[Any, ...]]:
    """_member, with the order of the hub with ref `ref` (order_number's `found`) and the conversation row of its
    orderer (storage.conversations.COLUMNS; NO_ROW for none) in the same statement."""
    row = _sender_rows(ac.s, _USER_WITH_MEMBER_AND_ORDER, {"hub_id": ac.hub_id, "user_id": ac.user_id, "ref": ref})
    member_end = _N_USER + _N_MEMBER
    order_end = member_end + _N_BY_REF
    user = as_loaded(ac.s, User, row[:_N_USER])
    assert user is not None
    ac.held(user)
    member = as_loaded(ac.s, Membership, row[_N_USER:member_end])
    found = _found(ac, ref, row[member_end:order_end])
    conversation = tuple(row[order_end:])
    return member, found, conversation if conversation[0] is not None else conversations.NO_ROW


def _member_with_volunteer(ac: ActionContext, ref: int | None) -> tuple[Membership | None, int,
                                                                         Order | None | NotRead]:
    """The sender's membership of this hub with their volunteer row and how many tasks they hold, read with their
    user row in one statement: 接单 needs them all (the volunteer's age and name, the task limit), and holding the
    rows here keeps them in the session's identity map for orders.accept's s.get. With them the order of the hub with
    ref `ref` (order_number's `found`)."""
    row = _sender_rows(ac.s, _USER_WITH_VOLUNTEER, {"hub_id": ac.hub_id, "user_id": ac.user_id, "ref": ref})
    member_end = _N_USER + _N_MEMBER
    tasks_at = member_end + _N_VOLUNTEER
    user = as_loaded(ac.s, User, row[:_N_USER])
    assert user is not None
    ac.held(user)
    member = as_loaded(ac.s, Membership, row[_N_USER:member_end])
    vol = as_loaded(ac.s, Volunteer, row[member_end:tasks_at])
    if vol is not None:
        ac.named.append(vol)
    return member, int(row[tasks_at] or 0), _found(ac, ref, row[tasks_at + 1:])


def _listed(ac: ActionContext, index: int) -> int:
    """The order at `index` (from 1) of the numbered "有什么任务" list a bare 接单 showed (listings.open_tasks, read
    again now: what is taken meanwhile is gone from it, and 接单 checks the order again)."""
    found = listings.open_tasks(ac.s, ac.hub_id, ac.user, ac.now)
    if found.limit and found.at_limit:
        raise records.TooManyTasksError(found.held)
    if not 1 <= index <= len(found.orders):
        raise orders.OrderError(f"列表里没有第{index}个。请回复“接单 订单号”，回复“有什么任务”再看看。"
                                if found.orders else "现在没有适合您的待接订单。有新任务时会马上通知您。")
    order = found.orders[index - 1]
    ac.named.append(order)
    return order.id


def _placed_by(ac: ActionContext, order: Order) -> str:
    """代点单: the family member who placed the order, and their phone when it is not the contact's."""
    if not order.resident_name or order.resident_user_id == order.ordered_by_user_id:
        return ""
    placer = ac.s.get(User, order.ordered_by_user_id)
    if placer is None or not records.reachable_openid(placer.openid):  # the office's row: taken by staff
        return ""
    phone = placer.phone
    return f"（家人代下单，家人电话：{phone}）\n" if phone and phone != order.phone else "（家人代下单）\n"


def accept(ac: ActionContext, data: Mapping[str, Any]) -> str:
    listed = data.get("listed") is not None
    member, open_tasks, found = _member_with_volunteer(ac, None if listed else ref_of(data))
    if member is None or member.status not in ACTIVE_STATUSES:
        # before the order is looked up: its number says nothing to a stranger
        raise orders.NotAVolunteerError(member.status if member is not None else None)
    oid = _listed(ac, int(data["listed"])) if listed else order_number(ac, data, found=found)
    service = _service_of(ac, oid)
    order = orders.accept(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, now=ac.now, service=service,
                          member=member, open_tasks=open_tasks)
    return (f"接单成功！订单{order.ref}：{service.name}\n时间：{orders.when_text(order)}\n"
            f"地址：{order.address or '待确认'}\n" + (f"内容：{order.details}\n" if order.details else "") +
            f"联系人：{order.resident_name or '居民本人（未留姓名）'} 电话：{order.phone or '未留'}\n" +
            _placed_by(ac, order) +
            f"完成后回复：完成 {order.ref} 小时数（如“完成 {order.ref} 2”）。有事去不了回复：退单 {order.ref}")


def complete(ac: ActionContext, data: Mapping[str, Any]) -> str:
    # the order read with the sender's membership, and the conversation of its rater (asked to rate)
    member, found, rater_conversation = _member_and_order(ac, ref_of(data))
    oid = order_number(ac, data, found=found)
    hours = float(data["hours"])
    order = orders.complete(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=oid, hours=hours, now=ac.now,
                            service=_service_of(ac, oid), member=member, member_known=True,
                            within_time_worked=True, rater_conversation=rater_conversation)
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
    new_service = ac.service(str(data["value"])) if field == "service" and data.get("value") else None
    done = edits.edit_order(ac.s, hub_id=ac.hub_id, user=ac.sender, order_id=oid, field=field,
                            value=data.get("value"), now=ac.now, service=_service_of(ac, oid),
                            hand_over=bool(data.get("hand_over")), new_service=new_service)
    if field == "service":
        return f"好的，订单{done.order.ref}已改为{done.new}。正在为您重新联系志愿者，有人接单会马上告诉您。"
    if field == "details":
        said = "已经告诉接单的志愿者和社区工作人员了。" if done.volunteer_told else "志愿者接单时会看到。"
        return f"好的，订单{done.order.ref}记下了：{done.new}。{said}"
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
    oid = order_number(ac, data, with_volunteer=True)  # (the volunteer's membership with it: credited and told)
    hearts = int(data["hearts"])
    orders.rate(ac.s, hub_id=ac.hub_id, user=ac.sender, order_id=oid, hearts=hearts, now=ac.now,
                service=_service_of(ac, oid))
    # a rating read from words ("挺好" 4, "差评" 1): how to change it, in a few words (bot.dialogue.ordering.rerate)
    fix = f"不对的话，一小时内说“改成{4 if hearts == 5 else 5}颗心”就行。" if data.get("guessed") else ""
    if data.get("commented"):  # "5颗心 师傅很好": the words came with the hearts (the comment action follows)
        return f"谢谢您的评价（{hearts}颗心）！{fix}"
    return f"谢谢您的评价（{hearts}颗心）！{fix}还想对志愿者说点什么吗？直接回复；不用的话回复“不用了”。"


def rerate(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """A rating corrected by the resident soon after giving it; the points follow (bot.serviceloop.rerating)."""
    oid = order_number(ac, data)
    done = rerating.correct_rating(ac.s, hub_id=ac.hub_id, user=ac.sender, order_id=oid, hearts=int(data["hearts"]),
                                   now=ac.now, service=_service_of(ac, oid))
    if done.was == done.hearts:
        return f"好的，订单{done.order.ref}就是{done.hearts}颗心，已经记下了，谢谢您！"
    return f"好的，订单{done.order.ref}的评价已改为{done.hearts}颗心（原来是{done.was}颗心），谢谢您！"


def comment(ac: ActionContext, data: Mapping[str, Any]) -> str:
    orders.add_comment(ac.s, hub_id=ac.hub_id, user=ac.user, order_id=order_number(ac, data),
                       comment=str(data.get("comment", "")), now=ac.now)
    return "收到您的留言，谢谢！"


def human_handover(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """Tell the hub's staff that someone asked for a person; the dialogue already answered them."""
    complaint = str(data.get("complaint") or "")
    topic = str(data.get("topic") or "投诉")
    about = (f"{topic}{'（订单' + str(data['order']) + '）' if data.get('order') else ''}：“{complaint}”，已转人工服务"
             if complaint else "请求人工服务")
    orders.notify_staff(ac.s, ac.hub_id, f"居民{ac.nickname or ''}{about}，请到管理后台的“人工服务”里回复。",
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
    "rerate": rerate,
    "comment": comment,
    "human_handover": human_handover,
}
