"""Helpers for the volunteer tests: a volunteer with a membership in the default hub, completed orders."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.serviceloop import orders
from storage.models import Hub, Membership, Order, User, Volunteer


def default_hub(s: Session) -> Hub:
    return s.execute(select(Hub).where(Hub.slug == "default")).scalar_one()


def make_volunteer(s: Session, now: datetime, *, name: str = "王建国", openid: str = "oVol0001",
                   status: str = "active", hub_id: int | None = None, birth: datetime | None = None,
                   skills: tuple[str, ...] = ("repair",)) -> tuple[Volunteer, Membership, User]:
    hub_id = hub_id or default_hub(s).id
    vol = Volunteer(name=name, phone="13811112222", skills=list(skills), availability=[], birth_date=birth,
                    id_number_masked="440**********1233", created_at=now)
    s.add(vol)
    s.flush()
    user = User(hub_id=hub_id, openid=openid, roles=["volunteer"], subscribed=True, volunteer_id=vol.id,
                last_inbound_at=now, created_at=now)
    s.add(user)
    s.flush()
    member = Membership(hub_id=hub_id, volunteer_id=vol.id, user_id=user.id, status=status, max_open_tasks=3,
                        created_at=now, updated_at=now)
    s.add(member)
    s.flush()
    return vol, member, user


def completed_order(s: Session, vol: Volunteer, user: User, now: datetime, hours: float, *, rating: int | None = 5,
                    service: str = "repair", hub_id: int | None = None, verified_by: str = "resident",
                    details: str = "修水管") -> Order:
    """An order done by `vol`, with its ledger row and credit written the way bot/orders does."""
    hub_id = hub_id or user.hub_id
    start = now - timedelta(hours=hours)
    order = Order(hub_id=hub_id, state="closed", service_code=service, details=details, ordered_by_user_id=user.id,
                  resident_user_id=user.id, resident_name="李阿姨", time_kind="point", start_at=start,
                  volunteer_id=vol.id, hours=hours, completed_at=now, rating=rating, created_at=start,
                  updated_at=now)
    s.add(order)
    s.flush()
    orders.write_record(s, order, orders.ServiceInfo(service, service), now, verified_by=verified_by)
    s.flush()
    return order
