"""Phones, addresses and guardians encrypted at rest (storage.sealed, migration 0017): the raw rows hold no phone
digits or address text, the ORM reads them back, phones are found by their keyed hash, a SQL comparison of
ciphertext refuses, and the migration encrypts a database's plaintext rows (and its downgrade decrypts them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from bot.clock import FakeClock
from bot.config import DEV_SECRET_KEY
from bot.services import Services
from storage.db import downgrade, make_engine, transaction, upgrade
from storage.errors import SealedDataError
from storage.models import Hub, Order, User, Volunteer
from storage.sealed import ContactSealer, phone_digits, phone_lookup, sealer_of
from tests.conftest import database_at, make_services

PHONE, OTHER_PHONE, ADDRESS = "13812345678", "13900001111", "幸福小区3栋2单元501"
GUARDIAN = {"name": "王妈妈", "phone": "13700002222", "consent": True}


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def add_people(svc: Services, now: Any) -> tuple[int, int, int]:
    with transaction(svc.sessions) as s:
        hub = s.execute(select(Hub)).scalars().first()
        if hub is None:
            hub = Hub(slug="default", name="雷锋超市", created_at=now)
            s.add(hub)
            s.flush()
        user = User(hub_id=hub.id, openid="oResident", roles=[], phone=PHONE, created_at=now)
        vol = Volunteer(name="李四", phone=OTHER_PHONE, guardian=GUARDIAN, created_at=now)
        s.add_all([user, vol])
        s.flush()
        order = Order(hub_id=hub.id, state="submitted", service_code="haircut", ordered_by_user_id=user.id,
                      resident_user_id=user.id, phone=PHONE, address=ADDRESS, time_kind="asap", created_at=now,
                      updated_at=now)
        s.add(order)
        s.flush()
        return user.id, vol.id, order.id


def sealed_or_hash(value: str) -> bool:
    """A Fernet token of the development key, or a 64-hex lookup hash: nothing readable."""
    return ContactSealer(DEV_SECRET_KEY).try_open(value) is not None or re.fullmatch(r"[0-9a-f]{64}", value) is not None


def raw_rows(engine: Engine) -> list[str]:
    """Every text the sealed tables hold, read with plain SQL (no type conversion)."""
    with engine.connect() as conn:
        rows = [*conn.execute(text("SELECT phone, phone_hash FROM users")),
                *conn.execute(text("SELECT phone, phone_hash, guardian FROM volunteers")),
                *conn.execute(text("SELECT phone, phone_hash, address FROM orders"))]
    return [str(value) for row in rows for value in row if value is not None]


def test_raw_rows_hold_no_phone_digits_nor_address_and_the_orm_reads_them_back(svc: Services, clock: FakeClock) -> None:
    user_id, vol_id, order_id = add_people(svc, clock.now())
    stored = raw_rows(svc.engine)
    assert len(stored) == 8  # 3 phones, 3 hashes, the guardian, the address
    for value in stored:
        for secret in (PHONE, OTHER_PHONE, GUARDIAN["phone"], "幸福小区", "王妈妈"):
            assert secret not in value
        assert sealed_or_hash(value)
    with svc.sessions() as s:
        user, vol, order = s.get(User, user_id), s.get(Volunteer, vol_id), s.get(Order, order_id)
        assert user is not None and vol is not None and order is not None
        assert (user.phone, vol.phone, vol.guardian, order.phone, order.address) == (
            PHONE, OTHER_PHONE, GUARDIAN, PHONE, ADDRESS)
        # the same phone, two rows: different ciphertexts, one lookup hash
        tokens = s.execute(text("SELECT u.phone, o.phone, u.phone_hash, o.phone_hash FROM users u, orders o")).one()
        assert tokens[0] != tokens[1] and tokens[2] == tokens[3] == sealer_of(s).phone_hash(PHONE)


def test_a_phone_is_found_by_any_spelling_and_a_changed_phone_by_its_new_hash(svc: Services,
                                                                             clock: FakeClock) -> None:
    user_id, vol_id, order_id = add_people(svc, clock.now())
    with transaction(svc.sessions) as s:
        for spelled in (PHONE, "138-1234-5678", "+86 138 1234 5678", "１３８１２３４５６７８"):
            found = s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, spelled))).scalars().all()
            assert found == [user_id], spelled
        assert s.execute(select(Order.id).where(phone_lookup(s, Order.phone_hash, PHONE))).scalars().all() == [order_id]
        assert s.execute(select(Volunteer.id).where(phone_lookup(s, Volunteer.phone_hash, OTHER_PHONE))
                         ).scalars().all() == [vol_id]
        assert s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, "没有号码"))).all() == []
        assert s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, None))).all() == []
        user = s.get(User, user_id)
        assert user is not None
        user.phone = "13655556666"  # a changed phone gets its new hash on the update
    with svc.sessions() as s:
        assert s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, "13655556666"))).scalars().all() \
            == [user_id]
        assert s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, PHONE))).all() == []


def test_comparing_ciphertext_in_sql_refuses_instead_of_finding_nothing(svc: Services) -> None:
    with pytest.raises(SealedDataError, match="phone_lookup"):
        select(User).where(User.phone == PHONE)
    with pytest.raises(SealedDataError):
        select(Order).where(Order.address.contains("幸福小区"))
    with pytest.raises(SealedDataError):
        select(Order).order_by(Order.address.desc())
    select(Order).where(Order.address.is_not(None), Order.phone.is_(None), User.phone == None)  # noqa: E711


def test_an_engine_without_a_key_neither_writes_nor_reads_contacts(svc: Services, clock: FakeClock) -> None:
    add_people(svc, clock.now())
    bare = make_engine(str(svc.engine.url.render_as_string(hide_password=False)))
    try:
        with bare.connect() as conn, pytest.raises(Exception, match="no key for phones and addresses"):
            conn.execute(select(User.phone)).all()
    finally:
        bare.dispose()


def test_another_key_opens_nothing() -> None:
    token = ContactSealer(DEV_SECRET_KEY).seal(ADDRESS)
    other = ContactSealer("another-key-0123456789-0123456789")
    assert other.try_open(token) is None
    with pytest.raises(SealedDataError, match="does not open"):
        other.open(token)
    assert ContactSealer(DEV_SECRET_KEY).phone_hash(PHONE) != other.phone_hash(PHONE)
    assert phone_digits("(0571) 8888-1234") == "057188881234"


# -- the migration ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0016(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_at(request.param, tmp_path, "0016")


def insert_plaintext(url: str, count: int) -> None:
    """Rows as a deployment before 0017 holds them: phones, addresses and a guardian in plain text."""
    engine = make_engine(url)
    order_columns = {c["name"] for c in inspect(engine).get_columns("orders")}
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT id FROM hubs")).scalars().all() == [1]  # the migrations' default hub
            for i in range(1, count + 1):
                conn.execute(text("INSERT INTO users (id, hub_id, openid, roles, subscribed, phone, created_at) "
                                  "VALUES (:i, 1, :o, '[]', true, :p, CURRENT_TIMESTAMP)"),
                             {"i": i, "o": f"oUser{i}", "p": f"138{i:08d}" if i % 3 else None})
                conn.execute(text("INSERT INTO volunteers (id, name, phone, skills, availability, guardian, "
                                  "created_at) VALUES (:i, :n, :p, '[]', '[]', :g, CURRENT_TIMESTAMP)"),
                             {"i": i, "n": f"志愿者{i}", "p": f"139{i:08d}",
                              "g": json.dumps({"name": "监护人", "phone": f"137{i:08d}"}) if i % 2 else "null"})
                ref = ", ref" if "ref" in order_columns else ""
                conn.execute(text("INSERT INTO orders (id, hub_id, state, service_code, ordered_by_user_id, phone, "
                                  "address, time_kind, dispatch_round, needs_support, flagged, paid_with_hours, "
                                  f"created_at, updated_at{ref}) VALUES (:i, 1, 'submitted', 'haircut', :i, :p, :a, "
                                  f"'asap', 0, false, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                                  f"{', :i + 100000' if ref else ''})"),
                             {"i": i, "p": f"138-{i:04d}-{i:04d}", "a": f"幸福小区{i}栋"})
    finally:
        engine.dispose()


def test_the_migration_encrypts_plaintext_rows_in_batches_and_its_downgrade_decrypts(url_at_0016: str,
                                                                                     clock: FakeClock) -> None:
    url, count = url_at_0016, 1203  # more than two batches of 500
    insert_plaintext(url, count)
    with pytest.raises(RuntimeError, match="LEIFENG_SECRET_KEY"):  # rows to encrypt and no key: nothing moves
        upgrade(url, "0017")
    upgrade(url, "0017", secret_key=DEV_SECRET_KEY)
    upgrade(url, secret_key=DEV_SECRET_KEY)
    svc = make_services(url, clock)
    try:
        stored = raw_rows(svc.engine)
        assert len(stored) == 2 * (count - count // 3) + 2 * count + (count + 1) // 2 + 3 * count
        assert [value for value in stored if not sealed_or_hash(value)] == []
        with svc.sessions() as s:
            user = s.execute(select(User).where(phone_lookup(s, User.phone_hash, f"138{7:08d}"))).scalar_one()
            assert (user.id, user.phone) == (7, f"138{7:08d}")
            assert s.execute(select(User).where(User.id == 3)).scalar_one().phone is None
            vols = {v.id: v for v in s.scalars(select(Volunteer).where(Volunteer.id.in_([1, 2])))}
            assert vols[1].guardian == {"name": "监护人", "phone": f"137{1:08d}"} and vols[2].guardian is None
            order = s.execute(select(Order).where(phone_lookup(s, Order.phone_hash, f"138{1203:04d}{1203:04d}"))
                              ).scalar_one()
            assert (order.id, order.address, order.phone) == (1203, "幸福小区1203栋", "138-1203-1203")
    finally:
        svc.close()
    downgrade(url, "0016", secret_key=DEV_SECRET_KEY)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT phone, address FROM orders WHERE id = 1203")).one() == (
                "138-1203-1203", "幸福小区1203栋")
            assert conn.execute(text("SELECT phone FROM users WHERE id = 7")).scalar_one() == f"138{7:08d}"
            guardian = conn.execute(text("SELECT guardian FROM volunteers WHERE id = 1")).scalar_one()
            assert (json.loads(guardian) if isinstance(guardian, str) else guardian)["phone"] == f"137{1:08d}"
            assert "phone_hash" not in {c["name"] for c in inspect(conn).get_columns("users")}
    finally:
        engine.dispose()
