"""A community's 群发 (issue 19): its residents are found in SQL by the order's plaintext community (the address is
encrypted at rest), on SQLite and PostgreSQL; a look-alike name is another community; the column follows the
address however the ORM writes it; migration 0023 fills it for existing orders with the key, as 0017 reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, insert, select, text

from bot.clock import FakeClock
from bot.community import broadcasts, events
from bot.config import DEV_SECRET_KEY
from bot.services import Services
from intents.address import community_of
from storage.db import make_engine, transaction, upgrade
from storage.models import Hub, Order, User
from storage.sealed import ContactSealer
from tests.conftest import database_at, make_services


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Any:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def _user(s: Any, hub_id: int, openid: str, now: Any, **kw: Any) -> int:
    user = User(hub_id=hub_id, openid=openid, roles=[], subscribed=kw.pop("subscribed", True), created_at=now, **kw)
    s.add(user)
    s.flush()
    return user.id


def _order(s: Any, hub_id: int, by: int, address: str | None, now: Any, resident: int | None = -1) -> Order:
    order = Order(hub_id=hub_id, state="closed", service_code="repair", ordered_by_user_id=by,
                  resident_user_id=by if resident == -1 else resident, address=address, time_kind="point",
                  start_at=now, created_at=now, updated_at=now)
    s.add(order)
    s.flush()
    return order


def _people(svc: Services, now: Any) -> dict[str, int]:
    ids: dict[str, int] = {}
    with transaction(svc.sessions) as s:
        other = Hub(slug="second", name="二站", settings={}, created_at=now)
        s.add(other)
        s.flush()
        for name in ("orderer", "proxy", "served", "sunny", "lookalike", "prefixed", "scanned", "gone", "quiet",
                     "twice"):
            ids[name] = _user(s, 1, f"o-{name}", now, subscribed=name != "gone",
                              subscribe_scene="community:幸福小区" if name == "scanned" else None)
        ids["elsewhere"] = _user(s, other.id, "o-elsewhere", now)
        _order(s, 1, ids["orderer"], "幸福小区3栋2单元501", now)
        _order(s, 1, ids["proxy"], "幸福小区5栋101", now, resident=ids["served"])  # 代点单: both live there
        _order(s, 1, ids["sunny"], "阳光花园2栋", now)
        _order(s, 1, ids["lookalike"], "新幸福小区1栋", now)  # the old `in address` match took her in
        _order(s, 1, ids["prefixed"], "北京市朝阳区幸福小区8栋302", now)
        _order(s, 1, ids["gone"], "幸福小区1栋", now)
        _order(s, 1, ids["quiet"], "幸福小区2栋", now)
        _order(s, 1, ids["twice"], "幸福小区6栋", now)
        _order(s, 1, ids["twice"], "幸福小区6栋", now)
        _order(s, 1, ids["orderer"], None, now)  # an order without an address is nobody's community
        _order(s, other.id, ids["elsewhere"], "幸福小区3栋", now)  # the same name in another hub
        events.set_subscription(s, 1, s.get(User, ids["quiet"]), False, "test", now)
    return ids


def test_a_community_broadcast_reaches_its_residents_and_no_look_alike(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    ids = _people(svc, now)
    with svc.sessions() as s:
        got = {r.user_id: r.skip for r in broadcasts.recipients(s, 1, "community:幸福小区")}
        sunny = {r.user_id for r in broadcasts.recipients(s, 1, "community:阳光花园")}
        lookalike = {r.user_id for r in broadcasts.recipients(s, 1, "community:新幸福小区")}
        prefixed = {r.user_id for r in broadcasts.recipients(s, 1, "community:北京市朝阳区幸福小区")}
        partial = {r.user_id for r in broadcasts.recipients(s, 1, "community:幸福")}
    want = {ids[n]: None for n in ("orderer", "proxy", "served", "prefixed", "scanned", "twice")}
    assert got == {**want, ids["gone"]: "unfollowed", ids["quiet"]: "opted_out"}
    assert sunny == {ids["sunny"]} and lookalike == {ids["lookalike"]}
    assert prefixed == set(got)  # the same community, however staff spell its city
    assert partial == set()  # part of a name is no community
    bid = broadcasts.create(svc.sessions, hub_id=1, segment="community:幸福小区", text="幸福小区周日停水", now=now)
    queued, skipped = broadcasts.enqueue_all(svc.sessions, bid, now)
    assert (queued, skipped) == (6, 2)


def test_the_community_follows_the_address_and_urgency_the_time(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(svc.sessions) as s:
        uid = _user(s, 1, "o-mover", now)
        order = _order(s, 1, uid, "幸福小区3栋", now)
        order_id = order.id
        assert (order.community, order.urgent) == ("幸福小区", False)
    with transaction(svc.sessions) as s:
        order = s.get(Order, order_id)
        assert order is not None
        order.address, order.time_kind = "朝阳路12号阳光花园5栋", "asap"
    with svc.sessions() as s:
        stored = s.execute(select(Order.community, Order.urgent).where(Order.id == order_id)).one()
        # stored in plaintext; the address itself is not
        raw = s.execute(text("SELECT address FROM orders WHERE id = :i"), {"i": order_id}).scalar_one()
    assert tuple(stored) == ("阳光花园", True) and "阳光花园" not in raw
    with transaction(svc.sessions) as s:
        order = s.get(Order, order_id)
        assert order is not None
        order.address = None
    with svc.sessions() as s:
        assert s.scalar(select(Order.community).where(Order.id == order_id)) is None


@pytest.mark.parametrize(("address", "community"), [
    ("幸福小区3栋2单元501", "幸福小区"), ("朝阳路12号幸福小区3栋", "幸福小区"),
    ("北京市朝阳区阳光花园小区5号楼", "阳光花园小区"), ("广东省深圳市南山区城市花园", "城市花园"),
    ("新幸福小区1栋", "新幸福小区"), ("幸福小区二期3栋", "幸福小区"), ("我家在幸福小区", "幸福小区"),
    ("长安街道幸福社区", "幸福社区"), ("光明新村12号", "光明新村"), ("国贸大厦1201", "国贸大厦"),
    ("朝阳路12号", "朝阳路"), ("住在朝阳路88号", "朝阳路"), ("ＸＹ小区3栋", "xy小区"),
    ("6号楼", None), ("小区3栋", None), ("31.23000,121.47000", None), ("", None), (None, None),
])
def test_community_of_an_address_is_the_estate_never_the_door(address: str | None, community: str | None) -> None:
    assert community_of(address) == community


# -- migration 0023 -------------------------------------------------------------------------------------------------


def _at_0022(kind: str, tmp_path: Path) -> str:
    return database_at(kind, tmp_path, "0022", secret_key=DEV_SECRET_KEY)


def _rows(url: str, addresses: list[tuple[str | None, str]], sealer: ContactSealer) -> list[int]:
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine, only=["hubs", "users", "orders"])
        hubs, users, orders = (meta.tables[n] for n in ("hubs", "users", "orders"))
        with engine.begin() as conn:
            hub = conn.execute(select(hubs.c.id).order_by(hubs.c.id)).scalars().first()
            at = conn.execute(select(hubs.c.created_at).where(hubs.c.id == hub)).scalar_one()
            uid = conn.execute(insert(users).values(hub_id=hub, openid="o-old", roles=[], subscribed=True,
                                                    created_at=at).returning(users.c.id)).scalar_one()
            row = {"hub_id": hub, "state": "closed", "service_code": "repair", "ordered_by_user_id": uid,
                   "dispatch_round": 0, "needs_support": False, "flagged": False, "paid_with_hours": False,
                   "created_at": at, "updated_at": at}
            return [conn.execute(insert(orders).values(
                {**row, "ref": 100_000 + i, "time_kind": kind,
                 "address": None if address is None else sealer.seal(address)}).returning(orders.c.id)).scalar_one()
                for i, (address, kind) in enumerate(addresses)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0023_fills_the_community_of_existing_orders(kind: str, tmp_path: Path) -> None:
    url = _at_0022(kind, tmp_path)
    sealer = ContactSealer(DEV_SECRET_KEY)
    wanted = [("幸福小区3栋2单元501", "point"), ("北京市朝阳区阳光花园5栋", "asap"), (None, "span"), ("6号楼", "asap")]
    # more rows than one batch of the migration (500), so its second round is exercised
    many = [(f"小区{i % 7}号楼" if i % 2 else f"和平新村{i}栋", "point") for i in range(510)]
    ids = _rows(url, wanted + many, sealer)
    with pytest.raises(RuntimeError, match="LEIFENG_SECRET_KEY"):  # addresses to read, no key: it refuses
        upgrade(url)
    upgrade(url, secret_key=DEV_SECRET_KEY)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            got = {i: (c, bool(u)) for i, c, u in conn.execute(
                text("SELECT id, community, urgent FROM orders ORDER BY id")).all()}
    finally:
        engine.dispose()
    assert [got[i] for i in ids[:4]] == [("幸福小区", False), ("阳光花园", True), (None, False), (None, True)]
    assert [got[i][0] for i in ids[4:]] == [None if i % 2 else "和平新村" for i in range(510)]


def test_a_wrong_key_stops_migration_0023(tmp_path: Path) -> None:
    url = _at_0022("sqlite", tmp_path)
    _rows(url, [("幸福小区3栋", "point")], ContactSealer(DEV_SECRET_KEY + "-other"))
    with pytest.raises(Exception, match="does not open"):
        upgrade(url, secret_key=DEV_SECRET_KEY)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0022"
    finally:
        engine.dispose()
