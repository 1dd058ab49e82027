"""A resident changes an order already submitted: its time, address or phone, while it is open and not started.

Works inside the caller's transaction, like the rest of the service loop: the order row is locked (SELECT … FOR
UPDATE on PostgreSQL; SQLite has one writer at a time), the change and its history row (what changed, old → new,
by whom) are written, and the volunteer who holds it is told through the outbox. A time changed after a volunteer
took the order lets them give it back without it counting against their give-backs of the day (`free_give_back`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.serviceloop.dispatch import WITHDRAWN, tell_offered
from bot.serviceloop.lifecycle import PLAIN_WORDS, OrderState
from bot.serviceloop.records import (
    NotYoursError,
    OrderError,
    Person,
    ServiceInfo,
    get_order,
    notify_staff,
    settings_for,
    tell_other_party,
    tell_volunteer,
    transition,
    when_text,
)
from intents.idcard import hide_numbers
from intents.masking import coarse_address, hide_names, mask_phone, scrub
from intents.timeparse import when_text as appointment_text
from storage.models import Order, OrderEvent, OrderOffer, OutboxMessage

S = OrderState
FIELDS: Mapping[str, str] = {"time": "时间", "address": "地址", "phone": "电话", "service": "服务", "details": "内容"}
# OrderEvent.trigger of each change (a service changed is the console's 改服务, as when staff correct it)
TRIGGERS: Mapping[str, str] = {**{field: f"edit_{field}" for field in FIELDS}, "service": "service_change"}
DETAILS_MAX = 500  # what an order's content keeps of the resident's words
EDITABLE = frozenset({S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.SUPPORTED})
HELD = frozenset({S.ACCEPTED, S.SUPPORTED})
# The reason of a give-back the time change allows: such give-backs are not counted against the day's limit.
FREE_GIVE_BACK = "【居民改了时间】"
TIME_KINDS = frozenset({"point", "span", "asap"})
_PHONE = re.compile(r"\+?[0-9][0-9-]{6,19}")


class EditRefusedError(OrderError):
    """The order cannot be changed in chat any more (done, cancelled, started), or the change is not one."""

    def __init__(self, ref: int, why: str) -> None:
        self.ref, self.why = ref, why
        super().__init__(why)


@dataclass(frozen=True)
class Edit:
    """What `edit_order` did: the order, the field, how it read before and after, and whether a volunteer holds it."""

    order: Order
    field: str
    old: str
    new: str
    volunteer_told: bool
    handed_over: bool = False  # an address said wrong once the service began: told to its volunteer and staff


def started(order: Order, now: datetime) -> bool:
    """A volunteer holds the order and its time has come (an accepted 尽快 order at once): under way."""
    return OrderState(order.state) in HELD and order.start_at is not None and as_utc(order.start_at) <= now


def _refusal(order: Order, now: datetime) -> str | None:
    """Why this order cannot change any more, in plain words; None when it still can."""
    state = OrderState(order.state)
    ref = order.ref
    if state in (S.COMPLETED, S.RATED, S.CLOSED):
        return f"订单{ref}已经完成了，不能再改。要帮忙请回复“人工”。"
    if state is S.CANCELLED:
        return f"订单{ref}已经取消了，不能再改。需要的话请重新下一单，或回复“人工”。"
    if state is S.EXPIRED:
        return f"订单{ref}已经结束了，不能再改。需要的话请重新下一单，或回复“人工”。"
    if started(order, now):
        return f"订单{ref}的服务已经开始了，不能再改。要帮忙请回复“人工”。"
    if state not in EDITABLE:
        return f"订单{ref}现在“{PLAIN_WORDS[state]}”，不能再改。要帮忙请回复“人工”。"
    return None


def _locked(s: Session, order: Order) -> Order:
    """The order's row read again under a row lock (PostgreSQL): a concurrent 接单, 完成 or cancel waits for this
    transaction, and this one sees theirs if they came first."""
    query = select(Order).where(Order.id == order.id).execution_options(populate_existing=True)
    if s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return s.execute(query).scalar_one()


def _time_value(ref: int, value: Any, now: datetime) -> tuple[str, datetime | None, datetime | None]:
    if not isinstance(value, Mapping) or value.get("time_kind") not in TIME_KINDS:
        raise EditRefusedError(ref, f"没听清订单{ref}要改到什么时间，请再说一遍，比如“{ref}号订单时间改到后天上午”。")
    try:
        start = as_utc(datetime.fromisoformat(str(value["start"]))) if value.get("start") else None
        end = as_utc(datetime.fromisoformat(str(value["end"]))) if value.get("end") else None
    except ValueError:
        raise EditRefusedError(ref, f"没听清订单{ref}要改到什么时间，请再说一遍。") from None
    kind = str(value["time_kind"])
    if kind != "asap" and start is None:
        raise EditRefusedError(ref, f"没听清订单{ref}要改到什么时间，请再说一遍。")
    if kind != "asap" and (end or start) is not None and (end or start) <= now:  # type: ignore[operator]
        raise EditRefusedError(ref, "这个时间已经过去了，请说一个以后的时间，比如“后天上午”。")
    return kind, start, end


def edit_order(s: Session, *, hub_id: int, user: Person, order_id: int, field: str, value: Any, now: datetime,
               service: ServiceInfo, hand_over: bool = False, new_service: ServiceInfo | None = None) -> Edit:
    """The resident's change of their order's time, address, phone, service (`new_service`, before a volunteer
    took it) or content (`value` {"text", "add"}: added to what it says, or said anew) (`user`: who ordered it or
    is served). Refused (EditRefusedError, NotYoursError) unless the order is theirs, open, and not started;
    `hand_over`: an address said wrong once the service began is passed to the volunteer holding it and to staff
    instead. Whoever was offered it and the team groups it was posted in get a short correction; for 代点单 the
    other of the two is told."""
    order = get_order(s, hub_id, order_id)
    if user.id not in (order.ordered_by_user_id, order.resident_user_id):
        raise NotYoursError(order.ref, "，不能修改")
    order = _locked(s, order)
    if hand_over and field == "address" and started(order, now) and order.volunteer_id is not None:
        return _address_handed_over(s, hub_id, user, order, value, now, service)
    why = _refusal(order, now)
    # "再加一样 顺便把门锁也看看" once a volunteer is on the way (an urgent order is "under way" when accepted): the
    # volunteer holding it is told what was added, as _details_added tells them (out9: it was refused as started)
    more_to_do = field == "details" and started(order, now) and order.volunteer_id is not None
    if why is not None and not more_to_do:
        raise EditRefusedError(order.ref, why)
    if field not in FIELDS:
        raise EditRefusedError(order.ref, f"订单{order.ref}在这里能改时间、地址和电话；别的要改请回复“人工”。")
    ref = order.ref
    if field == "service":
        return _service_changed(s, hub_id, user, order, new_service, now, service)
    if field == "details":
        return _details_added(s, hub_id, user, order, value, now, service)
    if field == "time":
        kind, start, end = _time_value(ref, value, now)
        old, new = when_text(order), appointment_text(kind, start, end)
        if new == old:
            raise EditRefusedError(ref, f"订单{ref}的时间本来就是{old}，不用改。")
        order.time_kind, order.start_at, order.end_at = kind, start, end
        history = f"时间：{old}→{new}"
    elif field == "address":
        address = str(value or "").strip()[:200]
        if len(address) < 2:
            raise EditRefusedError(ref, f"没听清订单{ref}的新地址，请说小区、楼栋和门牌号。")
        old, new = order.address or "", address
        if new == old:
            raise EditRefusedError(ref, f"订单{ref}的地址本来就是这个，不用改。")
        order.address, order.latitude, order.longitude = address, None, None
        history = "地址：已改（新地址只给接单的志愿者看）"  # the history is not sealed: no address in it
    else:
        phone = str(value or "").strip()
        if not _PHONE.fullmatch(phone):
            raise EditRefusedError(ref, "这个电话号码不对，手机号是11位，请再说一遍。")
        old, new = order.phone or "", phone
        if new == old:
            raise EditRefusedError(ref, f"订单{ref}的电话本来就是{mask_phone(phone)}，不用改。")
        order.phone = phone
        history = f"电话：{mask_phone(old) if old else '未留'}→{mask_phone(phone)}"
    order.updated_at = now
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger=TRIGGERS[field], from_state=order.state,
                     to_state=order.state, actor=user.openid, reason=history, at=now))
    held = OrderState(order.state) in HELD and order.volunteer_id is not None
    if held:
        tell_volunteer(s, order, order.volunteer_id, _volunteer_notice(order, service, field, old, new), now)
    if field == "time" and order.needs_support:
        notify_staff(s, hub_id, f"订单{ref}（{service.name}）居民改了时间：{old}→{new}，社区配套请按新时间准备。"
                     f"请在管理后台的“订单”里打开订单{ref}查看。", now, key=f"edited:{order.id}:{int(now.timestamp())}")
    if field == "time":
        _old_reminders_dropped(s, order)
        tell_offered(s, order, f"订单{ref}（{service.name}）时间改为{new}。", now, key=_key(order, field, now))
    elif field == "address" and coarse_address(old) != coarse_address(new):  # (groups see only the estate)
        tell_offered(s, order, f"订单{ref}（{service.name}）地点改为{coarse_address(new)}。", now,
                     key=_key(order, field, now))
    shown = mask_phone(new) if field == "phone" else new
    _tell_family(s, order, user, service, f"{FIELDS[field]}改为{shown}", field, now)
    s.flush()
    return Edit(order, field, old, new, held)


def _key(order: Order, field: str, now: datetime) -> str:
    return f"edit:{order.id}:{field}:{int(now.timestamp())}"


def _tell_family(s: Session, order: Order, user: Person, service: ServiceInfo, what: str, field: str,
                 now: datetime) -> None:
    """代点单: the other of the two (who ordered it, whom it is for) hears of the change."""
    tell_other_party(s, order, user.id, to_orderer=f"您为家人下的订单{order.ref}（{service.name}）有改动：{what}。",
                     to_resident=f"您的家人改了为您预约的订单{order.ref}（{service.name}）：{what}。有问题回复“人工”。",
                     now=now, key=_key(order, f"family-{field}", now))


def _old_reminders_dropped(s: Session, order: Order) -> int:
    """The appointment reminders of the old time that are queued and not sent yet are dropped: the reminder job
    (bot.worker.jobs.appointment_reminders) keys each by the order and its start, so the new time gets its own in
    due course. How many were dropped."""
    start = int(as_utc(order.start_at).timestamp()) if order.start_at is not None else None
    query = delete(OutboxMessage).where(OutboxMessage.status == "pending",
                                        OutboxMessage.idempotency_key.like(f"appt:{order.id}:%"))
    if start is not None:
        query = query.where(OutboxMessage.idempotency_key.not_like(f"appt:{order.id}:{start}:%"))
    return int(getattr(s.execute(query), "rowcount", 0) or 0)


def _service_changed(s: Session, hub_id: int, user: Person, order: Order, new: ServiceInfo | None, now: datetime,
                     service: ServiceInfo) -> Edit:
    """Another service asked for before anyone took the order: offers of the old one are withdrawn (those offered
    and the groups told, as on a cancel), and it is offered again to the new service's volunteers."""
    ref = order.ref
    if OrderState(order.state) in HELD:
        raise EditRefusedError(ref, f"订单{ref}已经有志愿者接了，不能换成别的服务。\n要换的话，请回复“取消订单 {ref}”，"
                                    "再重新下一单。")
    if new is None:
        raise EditRefusedError(ref, f"没听清订单{ref}要改成什么服务，请再说一遍，比如“改成修水管”。")
    if new.code == order.service_code:
        raise EditRefusedError(ref, f"订单{ref}本来就是{new.name}，不用改。")
    tell_offered(s, order, f"订单{ref}（{service.name}）居民改成了别的服务，不用再接了，谢谢您！", now,
                 key=_key(order, "service", now))
    s.execute(update(OrderOffer).where(OrderOffer.order_id == order.id, OrderOffer.outcome.is_(None))
              .values(outcome=WITHDRAWN))
    settings = settings_for(s, hub_id)
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger=TRIGGERS["service"], from_state=order.state,
                     to_state=order.state, actor=user.openid, at=now,
                     reason=f"居民改服务：{order.service_code}→{new.code}"))
    order.service_code, order.updated_at = new.code, now
    order.needs_support = new.code in settings.support_services
    if order.state == OrderState.DISPATCHED.value:  # offered to the old service's volunteers: offered again by the
        transition(s, order, "requeue", actor="auto", now=now, reason="改服务，重新派单")  # worker, not in the reply
    _tell_family(s, order, user, new, f"服务改为{new.name}", "service", now)
    s.flush()
    return Edit(order, "service", service.name, new.name, False)


def _details_added(s: Session, hub_id: int, user: Person, order: Order, value: Any, now: datetime,
                   service: ServiceInfo) -> Edit:
    """More said about what to do ("顺便换个灯泡"), or the content said anew: kept on the order (offers and 接单 show
    it), and told to whoever will do it: the volunteer holding it and staff, else those offered it and the groups
    (without the address or phone)."""
    ref = order.ref
    said = value if isinstance(value, Mapping) else {"text": value, "add": True}
    text = hide_numbers(str(said.get("text") or "").strip())[:DETAILS_MAX]  # no ID or card number kept or told
    if len(text) < 2:
        raise EditRefusedError(ref, f"没听清订单{ref}要加什么，请再说一遍，比如“顺便换个灯泡”。")
    old = order.details or ""
    if (text in old) if said.get("add") else (text == old):
        raise EditRefusedError(ref, f"订单{ref}里已经写了这个，不用改。")
    new = f"{old}；{text}" if said.get("add") and old else text
    order.details, order.updated_at = new[:DETAILS_MAX], now
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger=TRIGGERS["details"], from_state=order.state,
                     to_state=order.state, actor=user.openid, at=now, reason="内容：居民补充了要做的事（见订单）"))
    held = OrderState(order.state) in HELD and order.volunteer_id is not None
    words = "补充" if said.get("add") else "把内容改为"
    if held:
        tell_volunteer(s, order, order.volunteer_id, f"订单{ref}（{service.name}，{when_text(order)}）"
                       f"居民{words}：{text}。做不了的请回复“人工”。", now)
        notify_staff(s, hub_id, f"订单{ref}（{service.name}）志愿者已接单，居民{words}：{text}。已转告志愿者，"
                     f"请在管理后台的“订单”里打开订单{ref}，看看要不要另派人。", now, key=_key(order, "details", now))
    else:
        shown = hide_names(scrub(text, order.address, order.phone))[:60] or "见订单"
        tell_offered(s, order, f"订单{ref}（{service.name}）居民{words}：{shown}。", now,
                     key=_key(order, "details", now))
    _tell_family(s, order, user, service, f"{'补充' if said.get('add') else '内容改为'}：{text}",
                 "details", now)
    s.flush()
    return Edit(order, "details", old, text, held)


def _address_handed_over(s: Session, hub_id: int, user: Person, order: Order, value: Any, now: datetime,
                         service: ServiceInfo) -> Edit:
    """The volunteer is on the way to the wrong door: the order's address set right, the volunteer told at once,
    and staff asked to make sure (a person, since the service is already under way)."""
    ref = order.ref
    address = str(value or "").strip()[:200]
    if len(address) < 2:
        raise EditRefusedError(ref, f"没听清订单{ref}的新地址，请说小区、楼栋和门牌号。")
    old = order.address or ""
    order.address, order.latitude, order.longitude, order.updated_at = address, None, None, now
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger=TRIGGERS["address"], from_state=order.state,
                     to_state=order.state, actor=user.openid, at=now,
                     reason="地址：服务开始后居民说地址错了，已转告志愿者和工作人员（新地址只给接单的志愿者看）"))
    tell_volunteer(s, order, order.volunteer_id,
                   f"订单{ref}（{service.name}）居民说地址错了，请到新地址：{address}。"
                   "已经出发的话请改去这里；有问题请回复“人工”。", now)
    notify_staff(s, hub_id, f"订单{ref}（{service.name}）服务已经开始，居民说地址错了，已把新地址转告接单的志愿者。"
                 f"请在管理后台的“订单”里打开订单{ref}，跟居民和志愿者确认一下。", now,
                 key=f"address-handover:{order.id}:{int(now.timestamp())}")
    s.flush()
    return Edit(order, "address", old, address, True, handed_over=True)


def _volunteer_notice(order: Order, service: ServiceInfo, field: str, old: str, new: str) -> str:
    """What the volunteer who holds the order is told (the address and phone go to them only, as at 接单)."""
    ref = order.ref
    if field == "time":
        return (f"订单{ref}（{service.name}）居民改了时间：原来{old}，现在{new}。地址：{order.address or '待确认'}。\n"
                f"新时间您方便就照常去；不方便请回复“退单 {ref} 时间不合适”，这次退单不计入每天的退单次数。")
    if field == "address":
        return f"订单{ref}（{service.name}，{when_text(order)}）居民改了地址，新地址：{new}。请按新地址上门。"
    return f"订单{ref}（{service.name}，{when_text(order)}）居民换了联系电话，新电话：{new}。"


def free_give_back(s: Session, order: Order) -> bool:
    """Whether the order's time was changed by the resident after its volunteer took it: giving it back then is
    not counted against the volunteer's give-backs of the day."""
    if order.accepted_at is None:
        return False
    found = s.scalar(select(OrderEvent.id).where(OrderEvent.order_id == order.id,
                                                 OrderEvent.trigger == TRIGGERS["time"],
                                                 OrderEvent.at >= order.accepted_at).limit(1))
    return found is not None
