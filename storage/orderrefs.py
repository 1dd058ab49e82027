"""Order references (单号): the number residents, volunteers and staff see and type for an order.

Order ids are sequential, so a volunteer typing "接单 12", "接单 13"… would walk through every order. People see
and type the order's `ref` instead: random digits drawn with `secrets`, unique per hub (index uq_orders_hub_ref),
6 digits (100000–999999) while the hub has few orders. A hub's width grows by one digit once a hundredth of its
current space is used, so a guessed number names a real order at most once in a hundred tries, whatever the hub's
size (6 digits up to 9,000 orders, 7 up to 90,000, 8 up to 900,000, then 9 digits, which the INTEGER column holds).

Every new order gets its ref when it is flushed (storage.models registers `assign_new`), however it was created:
the chat, the console's 代客下单, the CLI, the demo seed or a test. A candidate already taken is drawn again; two
processes drawing the same free number at the same moment (about one chance in a million per pair) lose to the
unique index, and the message is retried by WeChat.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, literal, select

FIRST_WIDTH = 6
LAST_WIDTH = 9  # 999,999,999 < 2**31: an INTEGER on both databases
CROWDED = 100  # a width is crowded once 1/CROWDED of its numbers are used
DRAWS = 8  # candidates per round, checked in one statement


def span(width: int) -> tuple[int, int]:
    """The smallest and the largest ref of this many digits."""
    return 10 ** (width - 1), 10**width - 1


def is_ref(value: int) -> bool:
    """Whether an order could have this ref (a number of FIRST_WIDTH to LAST_WIDTH digits)."""
    return span(FIRST_WIDTH)[0] <= value <= span(LAST_WIDTH)[1]


def width_for(conn: Connection, orders: Table, hub_id: int) -> int:
    """The narrowest width the hub has not crowded: one bounded count per width tried (one for most hubs)."""
    for width in range(FIRST_WIDTH, LAST_WIDTH):
        low, high = span(width)
        room = (high - low + 1) // CROWDED
        used = select(literal(1)).where(orders.c.hub_id == hub_id, orders.c.ref.between(low, high)).limit(room)
        if (conn.scalar(select(func.count()).select_from(used.subquery())) or 0) < room:
            return width
    return LAST_WIDTH


def draw(conn: Connection, orders: Table, hub_id: int, count: int, avoid: Iterable[int] = ()) -> list[int]:
    """`count` distinct refs no order of the hub has (nor any in `avoid`), drawn at the hub's width."""
    low, high = span(width_for(conn, orders, hub_id))
    chosen: list[int] = []
    unavailable = set(avoid)
    while len(chosen) < count:
        wanted = count - len(chosen)
        candidates = {low + secrets.randbelow(high - low + 1) for _ in range(wanted + DRAWS)} - unavailable
        taken = set(conn.scalars(select(orders.c.ref).where(orders.c.hub_id == hub_id,
                                                            orders.c.ref.in_(sorted(candidates)))))
        free = list(candidates - taken)
        secrets.SystemRandom().shuffle(free)  # a set's order is not random
        chosen += free[:wanted]
        unavailable |= candidates
    return chosen


def assign_new(conn: Connection, orders: Table, new: Sequence[Any]) -> None:
    """Give each new order (ORM objects with hub_id and ref) without a ref one, hub by hub."""
    by_hub: dict[int, list[Any]] = {}
    for order in new:
        by_hub.setdefault(order.hub_id, []).append(order)
    for hub_id, group in by_hub.items():
        given = {o.ref for o in group if o.ref is not None}
        missing = [o for o in group if o.ref is None]
        for order, ref in zip(missing, draw(conn, orders, hub_id, len(missing), avoid=given), strict=True):
            order.ref = ref
