"""Every writer of a conversation row outside the message goes through storage.conversations: kept slots survive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import FakeClock
from bot.community.callouts import _clear_pending, _set_pending
from bot.serviceloop.orders import ServiceInfo, ask_rating, expire_dialogues
from storage.conversations import change_conversation
from storage.db import transaction
from storage.models import Conversation, Order, User
from tests.conftest import make_services

LOCATION = {"lat": 28.2, "lng": 112.9, "label": "幸福小区"}


def _user(s: Session, openid: str, clock: FakeClock, state: str | None = None,
          slots: dict[str, Any] | None = None) -> int:
    user = User(hub_id=1, openid=openid, roles=[], subscribed=True, created_at=clock.now())
    s.add(user)
    s.flush()
    if state is not None:
        s.add(Conversation(hub_id=1, user_id=user.id, state=state, slots=slots or {}, updated_at=clock.now()))
        s.flush()
    return user.id


def _conv(s: Session, user_id: int) -> tuple[str, dict[str, Any], int]:
    row = s.execute(select(Conversation.state, Conversation.slots, Conversation.version)
                    .where(Conversation.user_id == user_id)).one()
    return row[0], dict(row[1]), row[2]


def test_the_expiry_sweep_keeps_a_pending_call_out_and_the_location(db_url: str, clock: FakeClock) -> None:
    """It used to keep only the location, so a called-out volunteer's "1" stopped counting as an answer."""
    svc = make_services(db_url, clock)
    with transaction(svc.sessions) as s:
        uid = _user(s, "oVol", clock, "ORDER_TIME", {"location": LOCATION, "callout": 4, "draft": {"x": 1}})
    clock.advance(hours=2)
    with transaction(svc.sessions) as s:
        assert expire_dialogues(s, 1, clock.now(), timedelta(minutes=30)) == 1
    with svc.sessions() as s:
        state, slots, version = _conv(s, uid)
    assert (state, slots) == ("IDLE", {"location": LOCATION, "callout": 4}) and version == 2  # the ORM starts at 1
    svc.close()


def test_call_out_pending_slot_set_and_cleared_through_the_versioned_writer(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock)
    with transaction(svc.sessions) as s:
        fresh = _user(s, "oNew", clock)
        busy = _user(s, "oBusy", clock, "REG_NAME", {"reg": {"name": "王"}})
    with transaction(svc.sessions) as s:
        _set_pending(s, 1, fresh, 3, clock.now())
        _set_pending(s, 1, busy, 3, clock.now())
    with svc.sessions() as s:
        assert _conv(s, fresh)[:2] == ("IDLE", {"callout": 3})
        assert _conv(s, busy)[:2] == ("REG_NAME", {"reg": {"name": "王"}, "callout": 3})
    with transaction(svc.sessions) as s:
        _clear_pending(s, 1, busy, 99, clock.now())  # another call-out: this one stays
        _clear_pending(s, 1, fresh, 3, clock.now())
    with svc.sessions() as s:
        assert _conv(s, busy)[1]["callout"] == 3 and "callout" not in _conv(s, fresh)[1]
    svc.close()


def test_the_rating_prompt_waits_for_a_dialogue_under_way(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock)
    with transaction(svc.sessions) as s:
        idle = _user(s, "oIdle", clock, "IDLE", {"callout": 2})
        busy = _user(s, "oBusy", clock, "ORDER_ADDRESS", {"draft": {"service": "haircut"}})
        orders = []
        for uid in (idle, busy):
            order = Order(hub_id=1, resident_user_id=uid, ordered_by_user_id=uid, service_code="haircut",
                          state="completed", time_kind="asap", created_at=clock.now(), updated_at=clock.now())
            s.add(order)
            s.flush()
            orders.append(order)
        for order in orders:
            ask_rating(s, order, ServiceInfo("haircut", "理发"), clock.now())
    with svc.sessions() as s:
        state, slots, _ = _conv(s, idle)
        assert state == "RATE" and slots["rate_order"] == orders[0].ref and slots["callout"] == 2
        assert _conv(s, busy)[0] == "ORDER_ADDRESS"
    svc.close()


def test_a_writer_that_read_an_old_version_writes_nothing(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock)
    with transaction(svc.sessions) as s:
        uid = _user(s, "oX", clock, "ORDER_TIME", {"a": 1})
    with transaction(svc.sessions) as s:
        assert change_conversation(s, hub_id=1, user_id=uid, now=clock.now(), edit=lambda st, sl: ("IDLE", {}),
                                   expected_version=5) is False
        assert change_conversation(s, hub_id=1, user_id=uid, now=clock.now(), edit=lambda st, sl: ("IDLE", {}),
                                   expected_version=1) is True  # the ORM's first version is 1
    with svc.sessions() as s:
        assert _conv(s, uid) == ("IDLE", {}, 2)
    svc.close()
