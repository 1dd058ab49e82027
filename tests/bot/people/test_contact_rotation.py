"""A new LEIFENG_SECRET_KEY moves phones, addresses and guardians too (bot.people.idprotect.rotate_secret_key and
`leifeng secrets rotate`): re-encrypted, their lookup hashes recomputed, the residents still found by phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bot.clock import FakeClock
from bot.people.idprotect import IdProtector, KeyRotationError, rotate_secret_key
from bot.services import Services
from storage.db import transaction
from storage.errors import SealedDataError
from storage.models import Order, User, Volunteer
from storage.sealed import ContactSealer, phone_lookup
from tests.conftest import make_services

OLD, NEW = "the-old-key-0123456789-abcdefghijk", "the-new-key-9876543210-zyxwvutsrqp"
PHONE, ADDRESS, NUMBER = "13812345678", "幸福小区3栋2单元501", "11010519491231002X"


@pytest.fixture
def old_svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock, secret_key=OLD)
    yield services
    services.close()


def add_people(svc: Services, now: Any) -> tuple[int, int, int]:
    ids = IdProtector(OLD)
    with transaction(svc.sessions) as s:
        user = User(hub_id=1, openid="oResident", roles=[], phone=PHONE, created_at=now)
        vol = Volunteer(name="李四", phone="13900001111", guardian={"name": "王妈妈", "phone": "13700002222"},
                        id_number_enc=ids.encrypt(NUMBER), id_number_hash=ids.lookup_hash(NUMBER), created_at=now)
        s.add_all([user, vol])
        s.flush()
        order = Order(hub_id=1, state="submitted", service_code="haircut", ordered_by_user_id=user.id, phone=PHONE,
                      address=ADDRESS, time_kind="asap", created_at=now, updated_at=now)
        s.add(order)
        s.flush()
        return user.id, vol.id, order.id


def rotate(svc: Services, now: Any) -> Any:
    """As `leifeng secrets rotate` does it: through services that have the new key."""
    with transaction(svc.sessions) as s:
        return rotate_secret_key(s, OLD, NEW, now)


@pytest.fixture
def new_svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock, secret_key=NEW)
    yield services
    services.close()


def test_phones_addresses_and_guardians_move_to_the_new_key_and_are_found_again(
        old_svc: Services, new_svc: Services, clock: FakeClock) -> None:
    user_id, vol_id, order_id = add_people(old_svc, clock.now())
    with old_svc.sessions() as s:
        raw_before = s.execute(text("SELECT phone, phone_hash FROM users")).one()
    done = rotate(new_svc, clock.now())
    assert (done.contacts, done.contacts_current, done.ids.moved) == (5, 0, 1)  # 3 phones, address, guardian
    with new_svc.sessions() as s:
        raw_after = s.execute(text("SELECT phone, phone_hash FROM users")).one()
        assert raw_after[0] != raw_before[0] and raw_after[1] != raw_before[1]
        assert ContactSealer(NEW).open(raw_after[0]) == PHONE and ContactSealer(OLD).try_open(raw_after[0]) is None
        assert s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, PHONE))).scalars().all() \
            == [user_id]
        order = s.execute(select(Order).where(Order.hub_id == 1, phone_lookup(s, Order.phone_hash, PHONE))
                          ).scalar_one()
        assert (order.id, order.address) == (order_id, ADDRESS)
        vol = s.execute(select(Volunteer).where(phone_lookup(s, Volunteer.phone_hash, "139 0000 1111"))
                        ).scalar_one()
        assert (vol.id, vol.guardian) == (vol_id, {"name": "王妈妈", "phone": "13700002222"})
        assert vol.id_number_enc and IdProtector(NEW).decrypt(vol.id_number_enc) == NUMBER
    with old_svc.sessions() as s, pytest.raises(SealedDataError, match="does not open"):
        s.get(User, user_id)  # a process still on the old key cannot read the moved rows
    again = rotate(new_svc, clock.now())
    assert (again.contacts, again.contacts_current, again.ids.moved) == (0, 5, 0)
    with new_svc.sessions() as s:
        assert s.execute(text("SELECT phone, phone_hash FROM users")).one() == raw_after  # nothing rewritten


def test_a_phone_under_neither_key_changes_nothing(old_svc: Services, new_svc: Services, any_db_url: str,
                                                  clock: FakeClock) -> None:
    add_people(old_svc, clock.now())
    stray = make_services(any_db_url, clock, secret_key="a-third-key-nobody-has-any-more-0000")
    try:
        with transaction(stray.sessions) as s:
            s.add(User(hub_id=1, openid="oStray", roles=[], phone="13600000000", created_at=clock.now()))
    finally:
        stray.close()
    with old_svc.sessions() as s:
        before = s.execute(text("SELECT id, phone, phone_hash FROM users ORDER BY id")).all()
    with pytest.raises(KeyRotationError, match="opens with neither"):
        rotate(new_svc, clock.now())
    with old_svc.sessions() as s:
        assert s.execute(text("SELECT id, phone, phone_hash FROM users ORDER BY id")).all() == before


def test_the_cli_moves_phones_and_addresses(old_svc: Services, any_db_url: str, clock: FakeClock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.main import cli

    user_id, _vol_id, order_id = add_people(old_svc, clock.now())
    env = {"LEIFENG_ENV": "development", "LEIFENG_DATABASE_URL": any_db_url, "LEIFENG_SECRET_KEY": NEW,
           "LEIFENG_OLD_SECRET_KEY": OLD, "LEIFENG_SEMANTIC_MATCHER": "false"}
    res = CliRunner().invoke(cli, ["secrets", "rotate", "--old-key-env", "LEIFENG_OLD_SECRET_KEY"], env=env)
    assert res.exit_code == 0, res.output
    assert "moved 1 ID numbers" in res.output
    assert "5 phones, addresses and message copies (0 already under it)" in res.output
    new_svc = make_services(any_db_url, clock, secret_key=NEW)
    try:
        with new_svc.sessions() as s:
            assert s.execute(select(User.id).where(phone_lookup(s, User.phone_hash, PHONE))).scalars().all() \
                == [user_id]
            order = s.get(Order, order_id)
            assert order is not None and order.address == ADDRESS
    finally:
        new_svc.close()
