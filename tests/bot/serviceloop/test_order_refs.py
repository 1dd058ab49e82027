"""Order refs (单号, storage.orderrefs): random, unique per hub, given to every new order however it is made, wider
once a hub's space is crowded, and back-filled by migration 0016 (with dialogues waiting on an order renumbered)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Text, insert, select, type_coerce
from sqlalchemy.orm import Session

from bot.config import DEV_SECRET_KEY
from storage import orderrefs
from storage.db import make_engine, upgrade
from storage.models import DEFAULT_HUB_SLUG, Hub, Order, User
from storage.sealed import ContactSealer
from tests.conftest import NOW, database_at, fresh_db


def _order(hub_id: int, user_id: int, **kw: object) -> Order:
    return Order(hub_id=hub_id, state="submitted", service_code="haircut", ordered_by_user_id=user_id,
                 time_kind="asap", created_at=NOW, updated_at=NOW, **kw)


def _hub_and_user(s: Session) -> tuple[int, int]:
    hub = s.execute(select(Hub).where(Hub.slug == DEFAULT_HUB_SLUG)).scalar_one()
    user = User(hub_id=hub.id, openid="oRefs", roles=[], subscribed=True, created_at=NOW)
    s.add(user)
    s.flush()
    return hub.id, user.id


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_refs_are_six_random_digits_unique_in_the_hub_and_not_sequential(kind: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_db(kind, tmp_path))
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            batch = [_order(hub_id, user_id) for _ in range(150)]  # one flush: refs drawn together
            s.add_all(batch)
            s.flush()
            singles = []
            for _ in range(50):  # one flush each: each sees the ones before
                singles.append(_order(hub_id, user_id))
                s.add(singles[-1])
                s.flush()
            made = sorted(batch + singles, key=lambda o: o.id)
        refs = [o.ref for o in made]
        assert len(set(refs)) == len(refs) == 200
        assert all(100_000 <= r <= 999_999 for r in refs)
        steps = [b - a for a, b in zip(refs, refs[1:], strict=False)]
        assert sum(1 for d in steps if d == 1) < 5 and refs != sorted(refs)  # not counting up with the id
        assert len({r // 100_000 for r in refs}) >= 5  # spread over the space, not clustered
    finally:
        engine.dispose()


def test_a_ref_given_by_hand_is_kept(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            order = _order(hub_id, user_id, ref=123456)
            s.add(order)
            s.flush()
            assert order.ref == 123456
    finally:
        engine.dispose()


def test_a_crowded_hub_gets_seven_digits_and_an_uncrowded_one_keeps_six(db_url: str) -> None:
    engine = make_engine(db_url)
    low, high = orderrefs.span(orderrefs.FIRST_WIDTH)
    room = (high - low + 1) // orderrefs.CROWDED  # 9,000: a hundredth of the 6-digit numbers
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            hub_id, user_id = _hub_and_user(s)
            other = Hub(slug="other", name="另一个站", settings={}, created_at=NOW)
            s.add(other)
            s.flush()
            row = {"hub_id": hub_id, "state": "closed", "service_code": "haircut", "ordered_by_user_id": user_id,
                   "time_kind": "asap", "created_at": NOW, "updated_at": NOW}
            s.execute(insert(Order), [{**row, "ref": low + i} for i in range(room - 1)])
            almost = _order(hub_id, user_id)
            s.add(almost)
            s.flush()
            assert len(str(almost.ref)) == 6  # 8,999 used: not crowded yet
            crowded = _order(hub_id, user_id)
            elsewhere = _order(other.id, user_id)
            s.add_all([crowded, elsewhere])
            s.flush()
        assert len(str(crowded.ref)) == 7 and len(str(elsewhere.ref)) == 6
    finally:
        engine.dispose()


def _migrated_to_0015(kind: str, tmp_path: Path) -> str:
    return database_at(kind, tmp_path, "0015")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0016_gives_existing_orders_refs_and_renumbers_waiting_dialogues(kind: str,
                                                                                   tmp_path: Path) -> None:
    url = _migrated_to_0015(kind, tmp_path)
    engine = make_engine(url)
    at = datetime(2026, 11, 1, tzinfo=NOW.tzinfo)
    try:
        meta = MetaData()
        meta.reflect(engine, only=["hubs", "users", "orders", "conversations"])
        hubs, users, orders, convs = (meta.tables[n] for n in ("hubs", "users", "orders", "conversations"))
        with engine.begin() as conn:
            second = conn.execute(insert(hubs).values(slug="second", name="二站", settings={}, created_at=at)
                                  .returning(hubs.c.id)).scalar_one()
            first = conn.execute(select(hubs.c.id).where(hubs.c.slug == DEFAULT_HUB_SLUG)).scalar_one()
            user_ids = [conn.execute(insert(users).values(hub_id=h, openid=f"o{h}", roles=[], subscribed=True,
                                                          created_at=at).returning(users.c.id)).scalar_one()
                        for h in (first, second)]
            row = {"state": "completed", "service_code": "haircut", "time_kind": "asap", "dispatch_round": 0,
                   "needs_support": False, "flagged": False, "paid_with_hours": False, "created_at": at,
                   "updated_at": at}
            conn.execute(insert(orders), [{**row, "hub_id": h, "ordered_by_user_id": u}
                                          for h, u in zip((first, second), user_ids, strict=True) for _ in range(30)])
            rated = conn.execute(select(orders.c.id).where(orders.c.hub_id == first).order_by(orders.c.id)
                                 ).scalars().first()
            conn.execute(insert(convs), [
                {"hub_id": first, "user_id": user_ids[0], "state": "RATE", "version": 0, "updated_at": at,
                 "slots": {"rate_order": rated, "last_at": at.isoformat()}},
                {"hub_id": second, "user_id": user_ids[1], "state": "IDLE", "version": 0, "updated_at": at,
                 "slots": {"order": rated}}])  # not waiting on an order: left alone
        # to the head: 0022 seals the dialogues' slots (as `leifeng db upgrade` does it, with the key)
        upgrade(url, secret_key=DEV_SECRET_KEY)
        sealer = ContactSealer(DEV_SECRET_KEY)
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn, only=["orders", "conversations"])
            orders, convs = meta.tables["orders"], meta.tables["conversations"]
            got = conn.execute(select(orders.c.id, orders.c.hub_id, orders.c.ref)).all()
            slots = {state: sealer.open(value) for state, value in conn.execute(
                select(convs.c.state, type_coerce(convs.c.slots, Text)))}  # the stored token, read as text
        assert len(got) == 60
        for hub_id in (first, second):
            refs = [r for _i, h, r in got if h == hub_id]
            assert len(set(refs)) == 30 and all(100_000 <= r <= 999_999 for r in refs)
        refs_by_id = {i: r for i, _h, r in got}
        waiting, idle = (json.loads(v) for v in (slots["RATE"], slots["IDLE"]))
        assert waiting["rate_order"] == refs_by_id[rated] and idle == {"order": rated}
    finally:
        engine.dispose()
