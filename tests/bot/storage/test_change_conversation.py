"""storage.conversations.change_conversation with statements built once: a change is its SELECT and its guarded
UPDATE, an ORM copy of the row read earlier in the session is refreshed, a row that moved on is not overwritten."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import FakeClock
from storage.conversations import COLUMNS, NO_ROW, change_conversation
from storage.db import transaction
from storage.models import Conversation, User
from tests.bot.scale.seeding import counting
from tests.conftest import make_services


def _user(s: Session, clock: FakeClock, openid: str, slots: dict[str, Any] | None = None) -> int:
    user = User(hub_id=1, openid=openid, roles=[], subscribed=True, created_at=clock.now())
    s.add(user)
    s.flush()
    if slots is not None:
        s.add(Conversation(hub_id=1, user_id=user.id, state="IDLE", slots=slots, updated_at=clock.now()))
        s.flush()
    return user.id


def _rating(_state: str, slots: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    return "RATE_ORDER", {**slots, "rate_order": 123456}


def test_a_change_is_one_select_and_one_update_and_the_orm_copy_is_fresh(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock)
    try:
        with transaction(svc.sessions) as s:
            uid = _user(s, clock, "oConv1", {"address": "幸福小区1栋"})
        with transaction(svc.sessions) as s:
            loaded = s.execute(select(Conversation).where(Conversation.user_id == uid)).scalar_one()
            version = loaded.version
            with counting(svc.engine) as counted:
                assert change_conversation(s, hub_id=1, user_id=uid, now=clock.now(), edit=_rating) is True
            kinds = [sql.split()[0] for sql, _ in counted.statements]
            assert kinds == ["SELECT", "UPDATE"], counted.statements
            assert (loaded.state, loaded.slots, loaded.version) == (
                "RATE_ORDER", {"address": "幸福小区1栋", "rate_order": 123456}, version + 1)
            # the same edit again changes nothing: no UPDATE
            with counting(svc.engine) as again:
                assert change_conversation(s, hub_id=1, user_id=uid, now=clock.now(), edit=_rating) is False
            assert [sql.split()[0] for sql, _ in again.statements] == ["SELECT"], again.statements
    finally:
        svc.close()


def test_a_row_that_moved_on_is_not_overwritten_and_a_new_user_gets_one(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock)
    try:
        with transaction(svc.sessions) as s:
            uid = _user(s, clock, "oConv2", {})
            fresh = _user(s, clock, "oConv3")
        with transaction(svc.sessions) as s:
            version = s.execute(select(Conversation.version).where(Conversation.user_id == uid)).scalar_one()
            s.execute(update(Conversation).where(Conversation.user_id == uid)
                      .values(version=version + 1, state="ORDER_TIME").execution_options(synchronize_session=False))
            assert change_conversation(s, hub_id=1, user_id=uid, now=clock.now(), edit=_rating,
                                       expected_version=version) is False
            assert change_conversation(s, hub_id=1, user_id=fresh, now=clock.now(), edit=_rating) is True
        with svc.sessions() as s:
            rows = dict(s.execute(select(Conversation.user_id, Conversation.state)
                                  .where(Conversation.user_id.in_([uid, fresh]))).all())
        assert rows == {uid: "ORDER_TIME", fresh: "RATE_ORDER"}
    finally:
        svc.close()


def test_a_row_the_caller_read_is_not_read_again_and_a_stale_one_is_read_and_kept(db_url: str,
                                                                                     clock: FakeClock) -> None:
    """`known`: the row as the caller read it with something else (完成 reads the rater's with the volunteer's
    membership) is edited without a SELECT; one that moved on since fails the version check, is read again and
    edited as it is now; NO_ROW creates the row, and a row created meanwhile is read and edited instead."""
    svc = make_services(db_url, clock)
    try:
        with transaction(svc.sessions) as s:
            uid = _user(s, clock, "oConv4", {"address": "幸福小区2栋"})
            moved = _user(s, clock, "oConv5", {"phone": "13812345678"})
            fresh = _user(s, clock, "oConv6")
            raced = _user(s, clock, "oConv7", {})
        with transaction(svc.sessions) as s:
            conv_read = select(*COLUMNS).where(Conversation.user_id == uid)
            known = tuple(s.execute(conv_read).one())
            with counting(svc.engine) as counted:
                assert change_conversation(s, hub_id=1, user_id=uid, now=clock.now(), edit=_rating,
                                           known=known) is True
            assert [sql.split()[0] for sql, _ in counted.statements] == ["UPDATE"], counted.statements
            stale = tuple(s.execute(select(*COLUMNS).where(Conversation.user_id == moved)).one())
            s.execute(update(Conversation).where(Conversation.user_id == moved)
                      .values(version=stale[3] + 1, state="IDLE", slots={"phone": "13812345678", "address": "3栋"})
                      .execution_options(synchronize_session=False))
            with counting(svc.engine) as again:
                assert change_conversation(s, hub_id=1, user_id=moved, now=clock.now(), edit=_rating,
                                           known=stale) is True
            assert [sql.split()[0] for sql, _ in again.statements] == ["UPDATE", "SELECT", "UPDATE"]
            assert change_conversation(s, hub_id=1, user_id=fresh, now=clock.now(), edit=_rating,
                                       known=NO_ROW) is True
            assert change_conversation(s, hub_id=1, user_id=raced, now=clock.now(), edit=_rating,
                                       known=NO_ROW) is True
        with svc.sessions() as s:
            rows = {user_id: (state, slots, version) for user_id, state, slots, version in s.execute(
                select(Conversation.user_id, Conversation.state, Conversation.slots, Conversation.version)
                .where(Conversation.user_id.in_([uid, moved, fresh, raced])))}
        assert rows[uid] == ("RATE_ORDER", {"address": "幸福小区2栋", "rate_order": 123456}, known[3] + 1)
        assert rows[moved] == ("RATE_ORDER", {"phone": "13812345678", "address": "3栋", "rate_order": 123456},
                               stale[3] + 2)
        assert rows[fresh] == ("RATE_ORDER", {"rate_order": 123456}, 0)
        assert rows[raced][:2] == ("RATE_ORDER", {"rate_order": 123456})
    finally:
        svc.close()
