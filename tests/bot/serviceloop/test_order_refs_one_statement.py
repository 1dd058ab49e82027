"""A few new orders' refs (storage.orderrefs.draw) in one statement: whether the hub's first width is crowded and
which of the drawn candidates are taken are asked together; a taken candidate is never given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from storage import orderrefs
from storage.db import make_engine
from storage.models import Order
from tests.bot.scale.seeding import counting
from tests.bot.serviceloop.test_order_refs import _hub_and_user, _order
from tests.conftest import NOW

LOW = orderrefs.span(orderrefs.FIRST_WIDTH)[0]


def _draws(values: list[int]) -> Iterator[int]:
    yield from values
    while True:  # then fresh numbers far from the taken ones
        yield 500_000


def test_an_order_on_a_hub_not_crowded_gets_its_ref_in_one_statement(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            order = _order(hub_id, user_id)
            s.add(order)
            with counting(engine) as counted:
                orderrefs.assign_new(s.connection(), Order.__table__, [order])  # type: ignore[arg-type]
            assert len(counted) == 1, counted.statements
            assert orderrefs.span(orderrefs.FIRST_WIDTH)[0] <= (order.ref or 0) <= orderrefs.span(6)[1]
    finally:
        engine.dispose()


@pytest.mark.parametrize("taken_n", [orderrefs.DRAWS, orderrefs.DRAWS + 1])
def test_a_taken_candidate_is_never_given(db_url: str, monkeypatch: pytest.MonkeyPatch, taken_n: int) -> None:
    """All candidates but one taken: the free one is given; all of them taken: a second round draws again."""
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            row = {"hub_id": hub_id, "state": "closed", "service_code": "haircut", "ordered_by_user_id": user_id,
                   "time_kind": "asap", "created_at": NOW, "updated_at": NOW}
            taken = [LOW + 10 * i for i in range(taken_n)]
            s.execute(insert(Order), [{**row, "ref": ref} for ref in taken])
            free = LOW + 7  # the last candidate of the first round when not all are taken
            draws = _draws([ref - LOW for ref in taken] + [free - LOW] * (orderrefs.DRAWS + 1 - taken_n))
            monkeypatch.setattr(orderrefs.secrets, "randbelow", lambda _n: next(draws))
            order = _order(hub_id, user_id)
            s.add(order)
            s.flush()
            assert order.ref not in taken
            assert order.ref == (free if taken_n == orderrefs.DRAWS else 500_000 + LOW)
    finally:
        engine.dispose()


def test_several_orders_in_one_flush_get_distinct_refs(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            given = _order(hub_id, user_id, ref=LOW + 1)
            batch = [_order(hub_id, user_id) for _ in range(orderrefs.FIRST_ROUND_MOST)] + [given]
            s.add_all(batch)
            s.flush()
            refs = [o.ref for o in batch]
            assert len(set(refs)) == len(refs) and given.ref == LOW + 1
    finally:
        engine.dispose()
