"""storage.orderrefs.OneRound: one new order's first round of its 单号 draw read as columns of another statement
(the sender's row when a resident confirms): a taken candidate is never given; a crowded first width or every
candidate taken gives None, and the order's INSERT then draws as before (storage.orderrefs.draw)."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from storage import orderrefs
from storage.db import make_engine
from storage.hot import Hot
from storage.models import Order, User
from tests.bot.serviceloop.test_order_refs import _hub_and_user
from tests.conftest import NOW

LOW, HIGH = orderrefs.span(orderrefs.FIRST_WIDTH)
ORDERS: Table = Order.__table__  # type: ignore[assignment]
USERS: Table = User.__table__  # type: ignore[assignment]
WITH_USER = Hot(select(USERS.c.id, *orderrefs.one_round_columns(ORDERS)).where(USERS.c.id == bindparam("user_id")))


def _taken(s: Session, hub_id: int, user_id: int, refs: list[int]) -> None:
    row = {"hub_id": hub_id, "state": "closed", "service_code": "haircut", "ordered_by_user_id": user_id,
           "time_kind": "asap", "created_at": NOW, "updated_at": NOW}
    if refs:
        s.execute(insert(Order), [{**row, "ref": ref} for ref in refs])


@pytest.mark.parametrize("taken_n", [0, 3, orderrefs.ONE_ROUND - 1, orderrefs.ONE_ROUND])
def test_a_taken_candidate_is_never_given(db_url: str, taken_n: int) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            drawn = orderrefs.OneRound(tuple(LOW + 10 * i for i in range(orderrefs.ONE_ROUND)))
            taken = list(drawn.refs[:taken_n])
            _taken(s, hub_id, user_id, taken)
            for _ in range(20):  # (the free one is chosen at random)
                row = WITH_USER.run(s.connection(), {"hub_id": hub_id, "user_id": user_id, **drawn.params}).first()
                assert row is not None and row[0] == user_id
                picked = drawn.pick(row[1:])
                if taken_n == orderrefs.ONE_ROUND:
                    assert picked is None  # every candidate taken: draw() goes on
                else:
                    assert picked in drawn.refs and picked not in taken
    finally:
        engine.dispose()


def test_repeated_candidates_and_a_crowded_width() -> None:
    drawn = orderrefs.OneRound((LOW + 1, LOW + 2) + (LOW + 1,) * (orderrefs.ONE_ROUND - 2))
    room = (HIGH - LOW + 1) // orderrefs.CROWDED
    assert drawn.pick([0, True, False] + [True] * (orderrefs.ONE_ROUND - 2)) == LOW + 2
    assert drawn.pick([0, True, True] + [True] * (orderrefs.ONE_ROUND - 2)) is None
    assert drawn.pick([room, False, False] + [False] * (orderrefs.ONE_ROUND - 2)) is None  # crowded: wider refs
    fresh = orderrefs.OneRound.drawn()
    assert len(fresh.refs) == orderrefs.ONE_ROUND and all(LOW <= ref <= HIGH for ref in fresh.refs)
    distinct = len(set(fresh.refs))  # the distinct candidates in order, then the first one repeated
    assert list(fresh.refs[:distinct]) == sorted(set(fresh.refs)) and set(fresh.refs[distinct:]) <= {fresh.refs[0]}
