"""居民: staff find a resident by phone or name (issue 17): the WeChat users of the hub by the phone on file or
their nickname, anyone who ordered under that name, and the residents without WeChat whose orders staff took by
phone (代客下单, ordered by the office's row: bot.serviceloop.records.office_user), grouped by their phone. Each
with their recent orders. A leader finds only residents with an order of the team, names and phones masked; a
merchant never sees this page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import render_template, request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.admin.context import bp, hub_id, reading, requires, staff
from bot.admin.scope import orders_filter
from bot.admin.search import phone_condition, query_of
from bot.serviceloop.lifecycle import STAFF_WORDS, OrderState
from bot.serviceloop.records import OFFICE_OPENID_PREFIX
from intents.masking import mask_name, mask_phone
from storage.models import Order, User

MOST = 50  # residents shown for one search
RECENT = 5  # orders shown per resident


def _orders_line(orders: Iterable[Order]) -> list[dict[str, Any]]:
    return [{"id": o.id, "ref": o.ref, "state": STAFF_WORDS.get(OrderState(o.state), o.state),
             "at": o.created_at} for o in orders]


def find_residents(s: Session, query: str) -> list[dict[str, Any]]:
    """The residents the query names (a phone: that phone exactly; anything else: part of a name), within what the
    signed-in person may see."""
    me = staff()
    scope = orders_filter(s, me, hub_id())
    office = select(User.id).where(User.hub_id == hub_id(), User.openid == f"{OFFICE_OPENID_PREFIX}{hub_id()}")
    by_phone_user = phone_condition(s, User.phone_hash, query)
    by_phone_order = phone_condition(s, Order.phone_hash, query)
    named_orders = Order.resident_name.contains(query, autoescape=True)
    # people with WeChat: the phone on file, the nickname, or an order under that name
    match = by_phone_user if by_phone_user is not None else or_(
        User.nickname.contains(query, autoescape=True),
        User.id.in_(select(Order.ordered_by_user_id).where(*scope, named_orders)))
    ordered = select(Order.ordered_by_user_id).where(*scope)
    users_q = select(User).where(User.hub_id == hub_id(), ~User.openid.startswith(OFFICE_OPENID_PREFIX), match)
    if me.role == "leader":  # only residents with an order of the team
        users_q = users_q.where(User.id.in_(ordered))
    users = list(s.scalars(users_q.order_by(User.id.desc()).limit(MOST)))
    found: list[dict[str, Any]] = []
    for user in users:
        mine = list(s.scalars(select(Order).where(*scope, or_(Order.ordered_by_user_id == user.id,
                                                              Order.resident_user_id == user.id))
                              .order_by(Order.id.desc()).limit(RECENT)))
        name = user.nickname or next((o.resident_name for o in mine if o.resident_name), None)
        phone = user.phone or next((o.phone for o in mine if o.phone), None)
        found.append({"name": name, "phone": phone, "wechat": True, "orders": _orders_line(mine)})
    # without WeChat: orders staff took by phone, one resident per phone
    phone_orders = s.scalars(select(Order).where(*scope, Order.ordered_by_user_id.in_(office),
                                                 by_phone_order if by_phone_order is not None else named_orders)
                             .order_by(Order.id.desc()).limit(MOST * RECENT))
    by_person: dict[str, list[Order]] = {}
    for order in phone_orders:
        by_person.setdefault(order.phone_hash or f"order:{order.id}", []).append(order)
    for group in list(by_person.values())[:max(0, MOST - len(found))]:
        found.append({"name": group[0].resident_name, "phone": group[0].phone, "wechat": False,
                      "orders": _orders_line(group[:RECENT])})
    if me.role not in ("admin", "staff"):  # a leader sees what a volunteer sees before accepting
        for person in found:
            person["name"] = mask_name(person["name"]) if person["name"] else None
            person["phone"] = mask_phone(person["phone"]) if person["phone"] else None
    return found


@bp.get("/residents")
@requires("orders.view")
def residents_page() -> str:
    query = query_of(request.args.get("q"))
    with reading() as s:
        found = find_residents(s, query) if query else []
    return render_template("admin/residents.html", q=query, found=found, searched=bool(query),
                           most=MOST)
