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
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    select,
)

from storage.hot import Hot

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


def width_for(conn: Connection, orders: Table, hub_id: int, first: int = FIRST_WIDTH) -> int:
    """The narrowest width the hub has not crowded: one bounded count per width tried (one for most hubs), from
    `first` on (a wider one when the narrower ones are known to be crowded)."""
    for width in range(first, LAST_WIDTH):
        low, high = span(width)
        room = (high - low + 1) // CROWDED
        used = select(literal(1)).where(orders.c.hub_id == hub_id, orders.c.ref.between(low, high)).limit(room)
        if (conn.scalar(select(func.count()).select_from(used.subquery())) or 0) < room:
            return width
    return LAST_WIDTH


# The first round of a few orders' draw in one statement (storage.hot, built once per candidate count): whether the
# first width is crowded, and which of the candidates drawn at it are taken. One row per taken candidate (one with
# a NULL ref when none is), each with the bounded count of the width's refs.
_FIRST_ROUNDS: dict[tuple[int, int], tuple[Table, Hot]] = {}
_FIRST_LOCK = threading.Lock()
FIRST_ROUND_MOST = 8  # orders in one flush drawn this way; a bigger batch (an import) takes the statements below


def _first_round(orders: Table, n: int) -> Hot:
    key = (id(orders), n)
    found = _FIRST_ROUNDS.get(key)
    if found is None:
        hub = bindparam("hub_id", type_=orders.c.hub_id.type)
        used = (select(literal_column("1")).where(orders.c.hub_id == hub,
                                                  orders.c.ref.between(bindparam("low", type_=Integer),
                                                                       bindparam("high", type_=Integer)))
                .limit(bindparam("room", type_=Integer)).subquery())
        one = select(literal_column("1").label("one")).subquery()
        candidates = [bindparam(f"c{i}", type_=Integer) for i in range(n)]
        stmt = (select(select(func.count()).select_from(used).scalar_subquery().label("used"), orders.c.ref)
                .select_from(one.outerjoin(orders, and_(orders.c.hub_id == hub, orders.c.ref.in_(candidates)))))
        with _FIRST_LOCK:
            found = _FIRST_ROUNDS.setdefault(key, (orders, Hot(stmt)))
    return found[1]


def _candidates(low: int, high: int, n: int, unavailable: set[int]) -> set[int]:
    return {low + secrets.randbelow(high - low + 1) for _ in range(n)} - unavailable


def draw(conn: Connection, orders: Table, hub_id: int, count: int, avoid: Iterable[int] = ()) -> list[int]:
    """`count` distinct refs no order of the hub has (nor any in `avoid`), drawn at the hub's width."""
    if count <= 0:
        return []
    chosen: list[int] = []
    unavailable = set(avoid)
    low, high = span(FIRST_WIDTH)
    candidates = _candidates(low, high, count + DRAWS, unavailable) if count <= FIRST_ROUND_MOST else set()
    if candidates:  # the width's count and the candidates' check in one statement (most hubs use the first width)
        ordered = sorted(candidates)
        ordered += [ordered[0]] * (count + DRAWS - len(ordered))  # a repeated candidate changes nothing
        rows = _first_round(orders, count + DRAWS).run(conn, {
            "hub_id": hub_id, "low": low, "high": high, "room": (high - low + 1) // CROWDED,
            **{f"c{i}": ref for i, ref in enumerate(ordered)}}).rows
        if rows[0][0] < (high - low + 1) // CROWDED:
            free = list(candidates - {ref for _used, ref in rows})
            secrets.SystemRandom().shuffle(free)  # a set's order is not random
            chosen += free[:count]
            unavailable |= candidates
        else:  # crowded: the next widths, as below
            low, high = span(width_for(conn, orders, hub_id, first=FIRST_WIDTH + 1))
    else:
        low, high = span(width_for(conn, orders, hub_id))
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


# The first round of ONE new order's draw as columns of another statement the step runs anyway (the sender's row
# before a confirmed order is written: bot.inbox.actions.orders), so the order's INSERT needs no read of its own:
# one_round_columns among its columns, a OneRound's params among its binds, OneRound.pick on the values read.
ONE_ROUND = 1 + DRAWS  # candidates, as draw's first round for one order


def one_round_columns(orders: Table) -> list[ColumnElement[Any]]:
    """The bounded count of the first width's refs in the hub bound as `hub_id`, then per candidate whether an order
    of the hub has it (binds ref_low, ref_high, ref_room, ref_c0…: OneRound.params)."""
    drawn = orders.alias("drawn")  # (never correlated to an `orders` of the statement it joins)
    hub = bindparam("hub_id", type_=orders.c.hub_id.type)
    used = (select(literal_column("1")).where(drawn.c.hub_id == hub,
                                              drawn.c.ref.between(bindparam("ref_low", type_=Integer),
                                                                  bindparam("ref_high", type_=Integer)))
            .limit(bindparam("ref_room", type_=Integer)).subquery())
    return [select(func.count()).select_from(used).scalar_subquery().label("ref_used"),
            *(exists(select(literal_column("1")).where(drawn.c.hub_id == hub,
                                                       drawn.c.ref == bindparam(f"ref_c{i}", type_=Integer)))
              .label(f"ref_taken{i}") for i in range(ONE_ROUND))]


@dataclass(frozen=True)
class OneRound:
    """The candidates of one order's first round (drawn as draw draws them) and what one_round_columns binds."""

    refs: tuple[int, ...]  # ONE_ROUND of them, the distinct ones then the first repeated

    @classmethod
    def drawn(cls) -> OneRound:
        low, high = span(FIRST_WIDTH)
        ordered = sorted(_candidates(low, high, ONE_ROUND, set()))
        return cls(tuple(ordered + [ordered[0]] * (ONE_ROUND - len(ordered))))

    @property
    def params(self) -> dict[str, int]:
        low, high = span(FIRST_WIDTH)
        return {"ref_low": low, "ref_high": high, "ref_room": (high - low + 1) // CROWDED,
                **{f"ref_c{i}": ref for i, ref in enumerate(self.refs)}}

    def pick(self, values: Sequence[Any]) -> int | None:
        """The ref to give from one_round_columns' values as read; None when the first width is crowded or every
        candidate is taken (then draw, which goes on from there)."""
        low, high = span(FIRST_WIDTH)
        used, *taken = values
        if int(used or 0) >= (high - low + 1) // CROWDED:
            return None
        gone = {ref for ref, flag in zip(self.refs, taken, strict=True) if flag}
        free = sorted(set(self.refs) - gone)
        return secrets.SystemRandom().choice(free) if free else None


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
