"""A new LEIFENG_SECRET_KEY: stored ID numbers (and registrations in progress) move to it, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.people.idprotect import IdProtector, KeyRotationError, rotate_id_numbers
from bot.people.volunteers import find_by_id_hash
from bot.services import Services
from storage.db import transaction
from storage.models import Conversation, User, Volunteer
from tests.conftest import make_services

OLD, NEW = "the-old-key-0123456789-abcdefghijk", "the-new-key-9876543210-zyxwvutsrqp"
NUMBERS = ("11010519491231002X", "440524188001010014", "310101199001011234")


def add_volunteers(svc: Services, key: str, numbers: tuple[str, ...], now: Any) -> list[int]:
    protector = IdProtector(key)
    with transaction(svc.sessions) as s:
        vols = [Volunteer(name=f"志愿者{i}", id_number_enc=protector.encrypt(n),
                          id_number_hash=protector.lookup_hash(n), id_number_masked=n[:3] + "*" * 11 + n[-4:],
                          created_at=now) for i, n in enumerate(numbers)]
        s.add_all(vols)
        s.add(Volunteer(name="没登记身份证", created_at=now))
        s.flush()
        return [v.id for v in vols]


def add_registration(svc: Services, key: str, number: str, now: Any) -> int:
    protector = IdProtector(key)
    with transaction(svc.sessions) as s:
        user = User(hub_id=1, openid="oRegistering", roles=[], created_at=now)
        s.add(user)
        s.flush()
        s.add(Conversation(hub_id=1, user_id=user.id, state="REG_SKILLS", updated_at=now,
                           slots={"reg": {"name": "王五"}, "id_enc": protector.encrypt(number),
                                  "id_hash": protector.lookup_hash(number)}))
        return user.id


def rotate(svc: Services, now: Any) -> Any:
    with transaction(svc.sessions) as s:
        return rotate_id_numbers(s, IdProtector(OLD), IdProtector(NEW), now)


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Any:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def test_every_id_number_moves_to_the_new_key_with_a_new_lookup_hash(svc: Services, clock: FakeClock) -> None:
    ids = add_volunteers(svc, OLD, NUMBERS, clock.now())
    user_id = add_registration(svc, OLD, "320102198507076543", clock.now())
    done = rotate(svc, clock.now())
    assert (done.moved, done.current, done.registrations) == (3, 0, 1)
    new = IdProtector(NEW)
    with svc.sessions() as s:
        for vol_id, number in zip(ids, NUMBERS, strict=True):
            vol = s.get(Volunteer, vol_id)
            assert vol is not None and vol.id_number_enc is not None
            assert new.decrypt(vol.id_number_enc) == number
            assert IdProtector(OLD).try_decrypt(vol.id_number_enc) is None
            assert find_by_id_hash(s, new.lookup_hash(number)) is vol  # the same person is found again
            assert vol.id_number_masked == number[:3] + "*" * 11 + number[-4:]
        slots = s.scalar(select(Conversation.slots).where(Conversation.user_id == user_id))
    assert new.decrypt(slots["id_enc"]) == "320102198507076543"
    assert slots["id_hash"] == new.lookup_hash("320102198507076543") and slots["reg"] == {"name": "王五"}


def test_running_it_again_changes_nothing(svc: Services, clock: FakeClock) -> None:
    add_volunteers(svc, OLD, NUMBERS, clock.now())
    add_registration(svc, OLD, "320102198507076543", clock.now())
    rotate(svc, clock.now())
    with svc.sessions() as s:
        before = s.execute(select(Volunteer.id, Volunteer.id_number_enc, Volunteer.id_number_hash)
                           .order_by(Volunteer.id)).all()
        conv_version = s.scalar(select(Conversation.version))
    again = rotate(svc, clock.now())
    assert (again.moved, again.current, again.registrations) == (0, 3, 0)
    with svc.sessions() as s:
        assert s.execute(select(Volunteer.id, Volunteer.id_number_enc, Volunteer.id_number_hash)
                         .order_by(Volunteer.id)).all() == before
        assert s.scalar(select(Conversation.version)) == conv_version


def test_rows_written_meanwhile_under_either_key_are_handled(svc: Services, clock: FakeClock) -> None:
    add_volunteers(svc, NEW, NUMBERS[:1], clock.now())  # a process already on the new key registered someone
    add_volunteers(svc, OLD, NUMBERS[1:], clock.now())  # one still on the old key registered two more
    done = rotate(svc, clock.now())
    assert (done.moved, done.current) == (2, 1)


def test_a_value_under_neither_key_changes_nothing(svc: Services, clock: FakeClock) -> None:
    add_volunteers(svc, OLD, NUMBERS[:2], clock.now())
    add_volunteers(svc, "a-third-key-nobody-has-any-more-0000", NUMBERS[2:], clock.now())
    with svc.sessions() as s:
        before = s.execute(select(Volunteer.id_number_enc).order_by(Volunteer.id)).scalars().all()
    with pytest.raises(KeyRotationError, match="opens with neither"):
        rotate(svc, clock.now())
    with svc.sessions() as s:
        assert s.execute(select(Volunteer.id_number_enc).order_by(Volunteer.id)).scalars().all() == before
