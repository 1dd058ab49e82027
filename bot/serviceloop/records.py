"""The order row's own operations, shared by the service loop: the error family, lifecycle moves (transition),
loading an order, the hub's rules, and who is told what (notices to staff, the volunteer and the resident).

Every function works inside the caller's transaction. `transition` checks the lifecycle table and updates with
`WHERE state = <the state we read>`, so two racing changes cannot both win (this is what makes "first valid
acceptance wins" hold on SQLite and PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.errors import LeifengError
from bot.hubsettings import HubSettings, hub_settings
from bot.outbox import enqueue
from bot.serviceloop.lifecycle import OrderState, next_state
from intents.timeparse import when_text as appointment_text
from storage.hot import Hot
from storage.models import STAFF_ROLE_SQL, Hub, Membership, Order, OrderEvent, User

S = OrderState


class OrderError(LeifengError):
    """A request about an order that cannot be done; the message is plain Chinese for the user."""


class ConcurrentChangeError(OrderError):
    """Someone else changed the order first."""


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str


def settings_for(s: Session, hub_id: int) -> HubSettings:
    return hub_settings(s.scalar(select(Hub.settings).where(Hub.id == hub_id)))


_USERS = User.__table__


STAFF_QUERY = (select(_USERS.c.openid, _USERS.c.roles)  # Core (the table, not the entity): no ORM loading
               .where(_USERS.c.hub_id == bindparam("hub_id"), text(STAFF_ROLE_SQL)).order_by(_USERS.c.id))


_STAFF = Hot(STAFF_QUERY)  # behind every 人工 and every order notice


def staff_openids(s: Session, hub_id: int) -> list[str]:
    # Narrowed in SQL (roles is a JSON list stored as text on both databases), confirmed in Python: the
    # hub may have hundreds of thousands of users, and decoding every roles list costs more than the query.
    if s.autoflush:
        s.flush()  # what s.execute() would do first: a role granted earlier in this session counts
    rows = _STAFF.run(s.connection(), {"hub_id": hub_id}).rows
    return [openid for openid, roles in rows if "staff" in (roles or [])]


def notify(s: Session, hub_id: int, openid: str, text: str, now: datetime, key: str | None = None) -> None:
    enqueue(s, hub_id=hub_id, to=openid, text=text, now=now, idempotency_key=key)


def notify_staff(s: Session, hub_id: int, text: str, now: datetime, key: str) -> None:
    for openid in staff_openids(s, hub_id):
        notify(s, hub_id, openid, text, now, key=f"{key}:{openid}")


def when_text(order: Order) -> str:
    return appointment_text(order.time_kind, as_utc(order.start_at) if order.start_at is not None else None,
                            as_utc(order.end_at) if order.end_at is not None else None)


def transition(s: Session, order: Order, trigger: str, *, actor: str, now: datetime, reason: str | None = None,
               **changes: Any) -> OrderState:
    """Move an order through the lifecycle table; loses cleanly to a concurrent change."""
    dest = next_state(order.state, trigger)
    res = s.execute(update(Order).where(Order.id == order.id, Order.state == order.state)
                    .values(state=dest.value, updated_at=now, **changes).execution_options(synchronize_session=False))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentChangeError("这个订单刚刚被其他人处理了。")
    s.add(OrderEvent(hub_id=order.hub_id, order_id=order.id, trigger=trigger, from_state=order.state,
                     to_state=dest.value, actor=actor, reason=reason, at=now))
    s.refresh(order)
    return dest


def get_order(s: Session, hub_id: int, order_id: int) -> Order:
    order = s.execute(select(Order).where(Order.id == order_id, Order.hub_id == hub_id)).scalar_one_or_none()
    if order is None:
        raise OrderError(f"没有找到订单{order_id}，请核对编号。")
    return order


def tell_volunteer(s: Session, order: Order, volunteer_id: int | None, text: str, now: datetime) -> None:
    if volunteer_id is None:
        return
    member = s.execute(select(Membership).where(Membership.hub_id == order.hub_id,
                                                Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
    user = s.get(User, member.user_id) if member and member.user_id else None
    if user is not None:
        notify(s, order.hub_id, user.openid, text, now)


def tell_resident(s: Session, order: Order, text: str, now: datetime, key: str | None = None) -> None:
    """The resident and, for 代点单, the person who ordered (they receive the status updates)."""
    targets = {order.ordered_by_user_id}
    if order.resident_user_id:
        targets.add(order.resident_user_id)
    for user_id in sorted(targets):
        user = s.get(User, user_id)
        if user is not None:
            notify(s, order.hub_id, user.openid, text, now, key=f"{key}:{user_id}" if key else None)
