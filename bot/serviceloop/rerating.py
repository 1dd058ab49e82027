"""A rating corrected by the resident who gave it, in chat, soon after ("不对 五颗星", "打错了 是3").

Once per order, within RERATE_WINDOW of the rating: the order's and its ledger row's hearts change, and the volunteer's
points follow the new hearts exactly once (one "adjust" entry keyed by the order: what the rating earned, made what
the new one earns; nothing when the points are not credited yet, as they are then counted from the new hearts). A low
rating made good closes the order waiting for staff's review; a good one made low is flagged to staff. Later, or a
second time, the resident is told plainly that staff change it ("人工").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.hubsettings import HubSettings
from bot.people.points import balance, lock_volunteer, points_for
from bot.serviceloop.lifecycle import OrderState
from bot.serviceloop.records import (
    OrderError,
    Person,
    ServiceInfo,
    for_staff,
    get_order,
    notify_staff,
    settings_for,
    tell_volunteer,
    transition,
)
from storage.models import Order, OrderEvent, PointsEntry, ServiceRecord

RERATE_WINDOW = timedelta(hours=1)  # how long after the rating the resident may correct it in chat
RERATE_TRIGGER = "rerate"  # the order event of a correction (its reason: "4→5")
LATE = "评价超过一个小时就不能在这里改了。要更正请回复“人工”，社区工作人员帮您改。"
ONCE = "这一单的评价已经改过一次了。还要更正请回复“人工”，社区工作人员帮您改。"


class RerateError(OrderError):
    """A correction that cannot be made in chat (too late, made already, nothing rated); plain words for the person."""


@dataclass(frozen=True)
class Rerated:
    order: Order
    was: int
    hearts: int
    points_change: int  # what the volunteer's points moved by (0: not credited yet, or the same points)


def rate_key(order_id: int) -> str:
    return f"rerate:order:{order_id}"


def _rated_at(s: Session, order: Order) -> datetime | None:
    at = s.scalar(select(OrderEvent.at).where(OrderEvent.order_id == order.id, OrderEvent.trigger == "rate")
                  .order_by(OrderEvent.id.desc()).limit(1))
    return as_utc(at) if at is not None else None


def correct_rating(s: Session, *, hub_id: int, user: Person, order_id: int, hearts: int, now: datetime,
                   service: ServiceInfo) -> Rerated:
    """Change the hearts the resident gave `order_id` (its id) to `hearts`; see the module's words."""
    order = get_order(s, hub_id, order_id)
    if user.id not in (order.ordered_by_user_id, order.resident_user_id):
        raise RerateError(f"订单{order.ref}不是您的订单，不能改评价。")
    if not 0 <= hearts <= 5:
        raise RerateError("请说 0 到 5 颗心。")
    if order.rating is None or order.state not in (OrderState.RATED.value, OrderState.CLOSED.value):
        raise RerateError(f"订单{order.ref}还没有评价。")
    rated_at = _rated_at(s, order)
    if rated_at is None or now - rated_at > RERATE_WINDOW:
        raise RerateError(f"订单{order.ref}已经评为{order.rating}颗心。{LATE}")
    if s.scalar(select(OrderEvent.id).where(OrderEvent.order_id == order.id, OrderEvent.trigger == RERATE_TRIGGER)
                .limit(1)) is not None:
        raise RerateError(f"订单{order.ref}已经改为{order.rating}颗心。{ONCE}")
    was = int(order.rating)
    if was == hearts:
        return Rerated(order, was, hearts, 0)
    settings = settings_for(s, hub_id)
    change = _move_points(s, order, was, hearts, now, settings)
    flagged = hearts <= settings.low_rating_threshold
    order.rating, order.flagged, order.updated_at = hearts, flagged, now
    record = s.execute(select(ServiceRecord).where(ServiceRecord.order_id == order.id)).scalar_one_or_none()
    if record is not None:
        record.rating = hearts
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger=RERATE_TRIGGER, from_state=order.state,
                     to_state=order.state, actor=user.openid or "resident", reason=f"{was}→{hearts}", at=now))
    s.flush()
    if order.state == OrderState.RATED.value and not flagged:  # a low rating made good: no review waits for it
        transition(s, order, "close", actor="auto", now=now, reason="评价已更正")
    words = f"订单{order.ref}（{service.name}）居民把评价从{was}颗心改为{hearts}颗心。"
    if flagged and was > settings.low_rating_threshold:
        notify_staff(s, hub_id, f"{words}请回访核查。{for_staff(order.ref)}", now, key=f"low-rating:{order.id}:rerate")
    elif not flagged and was <= settings.low_rating_threshold:
        notify_staff(s, hub_id, f"{words}不用再回访了。", now, key=f"rerate:{order.id}")
    tell_volunteer(s, order, order.volunteer_id,
                   f"订单{order.ref}居民把评价改为：{'❤' * hearts or '0颗心'}。", now)
    return Rerated(order, was, hearts, change)


def _move_points(s: Session, order: Order, was: int, hearts: int, now: datetime, settings: HubSettings) -> int:
    """The one "adjust" entry that makes the order's points what the new hearts earn; 0 when nothing was credited."""
    earned = s.execute(select(PointsEntry).where(PointsEntry.hub_id == order.hub_id, PointsEntry.order_id == order.id,
                                                 PointsEntry.kind == "earn")).scalar_one_or_none()
    if earned is None or order.hours is None:
        return 0  # not credited yet: the credit, when it comes, counts the new hearts
    emergency = order.service_code in settings.emergency_services
    delta = points_for(order.hours, hearts, settings, emergency=emergency) - int(earned.points)
    if delta == 0:
        return 0
    lock_volunteer(s, earned.volunteer_id)
    if delta < 0:  # never below zero: points already spent are not taken twice (as a reversal)
        delta = -min(-delta, max(0, balance(s, order.hub_id, earned.volunteer_id)))
        if delta == 0:
            return 0
    entry = PointsEntry(hub_id=order.hub_id, volunteer_id=earned.volunteer_id, kind="adjust", points=delta,
                        reason=f"订单{order.ref}评价更正：{was}颗心改为{hearts}颗心", order_id=order.id,
                        actor="system", idempotency_key=rate_key(order.id), at=now)
    try:
        with s.begin_nested():
            s.add(entry)
            s.flush()
    except IntegrityError as exc:  # a concurrent correction of the same order won: this one is refused
        raise RerateError(f"订单{order.ref}的评价刚刚改过了。{ONCE}") from exc
    return delta
