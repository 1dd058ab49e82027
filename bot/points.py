"""Points: earned from hours and the rating by the hub's rules; an append-only ledger per hub."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.hubsettings import HubSettings
from storage.models import Order, PointsEntry


def points_for(hours: float, hearts: int | None, rules: HubSettings) -> int:
    """points per hour x the multiplier for the hearts, capped per order (0 hearts earns nothing)."""
    multiplier = rules.unrated_multiplier if hearts is None else float(rules.heart_multipliers.get(str(hearts), 0.0))
    return max(0, min(rules.max_points_per_order, round(hours * rules.points_per_hour * multiplier)))


def credit_for_order(s: Session, order: Order, rules: HubSettings, now: datetime) -> int:
    if order.volunteer_id is None or order.hours is None:
        return 0
    points = points_for(order.hours, order.rating, rules)
    key = f"earn:order:{order.id}"
    if s.execute(select(PointsEntry.id).where(PointsEntry.idempotency_key == key)).first() is not None:
        return 0
    stars = "未评价" if order.rating is None else f"{order.rating}颗心"
    s.add(PointsEntry(hub_id=order.hub_id, volunteer_id=order.volunteer_id, kind="earn", points=points,
                      reason=f"订单{order.id}：{order.hours:g}小时，{stars}", order_id=order.id,
                      idempotency_key=key, at=now))
    return points


def balance(s: Session, hub_id: int, volunteer_id: int) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.volunteer_id == volunteer_id)) or 0)
