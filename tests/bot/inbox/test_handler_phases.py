"""The webhook reads, steps outside any transaction, then writes only if the conversation did not move.

Also: the staff lookup behind every 人工 uses its partial index on both databases, and the webhook does not
open a cookie session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

import bot.inbox.handler
import bot.serviceloop.orders
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.serviceloop.orders import STAFF_QUERY, expire_dialogues, staff_openids
from storage.db import transaction
from storage.models import Conversation, Handover, OutboxMessage, ProcessedMessage, User
from tests.conftest import make_services


def _say(client: Any, acct: Account, clock: FakeClock, openid: str, text: str, msg_id: str) -> str:
    req = acct.text(openid, text, now=int(clock.now().timestamp()), msg_id=msg_id)
    resp = client.post("/wechat", query_string=req.params, data=req.body)
    assert resp.status_code == 200
    return str(acct.read(resp.data)["Content"])  # type: ignore[index]


def test_a_conversation_changed_between_read_and_write_is_stepped_again(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oRacer", "菜单", "1")  # the user and an IDLE conversation exist

    real_step = bot.inbox.handler.dialogue.step
    seen: list[tuple[str, dict[str, Any]]] = []

    def step_while_another_message_lands(state: str, slots: Any, inc: Any, ctx: Any) -> Any:
        seen.append((state, dict(slots)))
        if len(seen) == 1:  # another process commits a change to this conversation right now
            with svc.engine.begin() as conn:
                conn.execute(update(Conversation).values(slots={"location": {"label": "幸福小区"}},
                                                         version=Conversation.version + 1))
        return real_step(state, slots, inc, ctx)

    monkeypatch.setattr(bot.inbox.handler.dialogue, "step", step_while_another_message_lands)
    reply = _say(client, acct, clock, "oRacer", "我要理发", "2")
    assert "理发" in reply
    assert len(seen) == 2, "the stale write must be refused and the step run again"
    assert seen[1][1] == {"location": {"label": "幸福小区"}}, "the second step sees the other message's change"
    with svc.sessions() as s:
        conv = s.execute(select(Conversation)).scalar_one()
        assert conv.version == 2 and conv.state != "IDLE"
        assert conv.slots.get("location") == {"label": "幸福小区"}  # kept, not overwritten by the stale step
        assert len(s.execute(select(ProcessedMessage)).all()) == 2
    svc.close()


def test_a_retry_after_the_first_run_committed_is_answered_from_the_store(
        db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    svc = make_services(db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    first = _say(client, acct, clock, "oRetry", "菜单", "77")

    def must_not_step(*_a: Any) -> Any:
        raise AssertionError("a processed message must not be stepped again")

    monkeypatch.setattr(bot.inbox.handler.dialogue, "step", must_not_step)
    assert _say(client, acct, clock, "oRetry", "菜单", "77") == first
    svc.close()


def test_the_sweep_leaves_a_conversation_that_moved_on(any_db_url: str, clock: FakeClock, monkeypatch: Any) -> None:
    svc = make_services(any_db_url, clock)
    start = clock.now()
    with transaction(svc.sessions) as s:
        for openid in ("oIdle", "oBusy"):
            user = User(hub_id=1, openid=openid, roles=[], subscribed=True, created_at=start)
            s.add(user)
            s.flush()
            s.add(Conversation(hub_id=1, user_id=user.id, state="ORDER_CONFIRM", slots={"x": 1}, updated_at=start))
    clock.advance(hours=2)

    real_as_utc = bot.serviceloop.orders.as_utc
    moved: list[int] = []

    def as_utc_while_oBusy_writes(value: Any) -> Any:  # noqa: N802 - names the user
        if not moved:  # between the sweep's read and its update, oBusy's message is written
            busy = s.scalar(select(User.id).where(User.openid == "oBusy"))
            s.execute(update(Conversation).where(Conversation.user_id == busy)
                      .values(state="ORDER_TIME", version=Conversation.version + 1)
                      .execution_options(synchronize_session=False))
            moved.append(1)
        return real_as_utc(value)

    monkeypatch.setattr(bot.serviceloop.orders, "as_utc", as_utc_while_oBusy_writes)
    with transaction(svc.sessions) as s:
        assert expire_dialogues(s, 1, clock.now(), timedelta(minutes=30)) == 1
    with svc.sessions() as s:
        states = dict(s.execute(select(User.openid, Conversation.state).join(Conversation,
                                                                              Conversation.user_id == User.id)).all())
        assert states == {"oIdle": "IDLE", "oBusy": "ORDER_TIME"}
        (notice,) = s.execute(select(OutboxMessage.to)).scalars().all()
        assert notice == "oIdle"
    svc.close()


def test_the_staff_lookup_uses_its_partial_index(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    with transaction(svc.sessions) as s:
        s.add_all([User(hub_id=1, openid=f"oResident{i}", roles=["volunteer"] if i % 2 else [], subscribed=True,
                        created_at=clock.now()) for i in range(30)])
        s.add(User(hub_id=1, openid="oStaff", roles=["staff"], subscribed=True, created_at=clock.now()))
        s.add(User(hub_id=1, openid="oNotStaff", roles=["staffing-volunteer"], subscribed=True,
                   created_at=clock.now()))
    with svc.sessions() as s:
        assert staff_openids(s, 1) == ["oStaff"]
    with svc.engine.connect() as conn:
        compiled = STAFF_QUERY.compile(dialect=conn.dialect)
        if conn.dialect.name == "sqlite":
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), (1,)).all()
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a 32-row table: make the planner show its options
            plan = conn.exec_driver_sql("EXPLAIN " + str(compiled), {"hub_id": 1}).all()
        assert "ix_users_staff" in " ".join(str(col) for row in plan for col in row)
        conn.rollback()
    svc.close()


def test_the_webhook_opens_no_cookie_session(client: Any, account: Account, clock: FakeClock) -> None:
    req = account.text("oCookie", "菜单", now=int(clock.now().timestamp()), msg_id="5")
    resp = client.post("/wechat", query_string=req.params, data=req.body)
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    assert client.get("/admin/login").status_code == 200  # the console still has its sessions


def test_only_actions_that_may_refuse_run_in_a_savepoint(client: Any, account: Account, clock: FakeClock,
                                                        services: Any) -> None:
    from sqlalchemy import event

    sent: list[str] = []
    event.listen(services.engine, "before_cursor_execute", lambda _c, _cur, stmt, *_a: sent.append(stmt))
    _say(client, account, clock, "oSave", "菜单", "1")
    sent.clear()
    _say(client, account, clock, "oSave", "人工", "2")
    assert not [s for s in sent if "SAVEPOINT" in s]  # 人工 only adds notices: nothing to undo
    _say(client, account, clock, "oSave", "菜单", "3")
    sent.clear()
    _say(client, account, clock, "oSave", "接单 999", "4")  # may be refused: runs in its savepoint
    assert [s.split()[0] for s in sent if "SAVEPOINT" in s][:1] == ["SAVEPOINT"]
    with services.sessions() as s:
        assert len(s.execute(select(ProcessedMessage)).all()) == 4  # the refused message is still recorded


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg reports when PostgreSQL broke a deadlock by aborting this transaction


def test_a_write_the_database_aborted_for_a_deadlock_is_run_again_whole(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    real_write = bot.inbox.handler._write
    attempts: list[int] = []

    def write_then_lose_a_deadlock(conn: Any, *args: Any) -> Any:
        reply = real_write(conn, *args)  # everything written, then the database aborts the transaction
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("UPDATE users ...", {}, _Deadlock("deadlock detected"))
        return reply

    _say(client, acct, clock, "oDeadlock", "你好", "1")  # (on PostgreSQL a first message is one statement, no _write)
    monkeypatch.setattr(bot.inbox.handler, "_write", write_then_lose_a_deadlock)
    reply = _say(client, acct, clock, "oDeadlock", "人工", "2")  # a hand-over: the transaction's path on both
    assert reply and reply != bot.inbox.handler.BUSY_REPLY  # the hand-over's answer, not "系统有点忙"
    assert len(attempts) == 2
    with svc.sessions() as s:  # the aborted attempt left nothing; the second wrote everything once
        assert len(s.execute(select(User).where(User.openid == "oDeadlock")).all()) == 1
        assert s.execute(select(Conversation.state)).scalar_one() == "HUMAN"
        assert len(s.execute(select(ProcessedMessage)).all()) == 2
        assert len(s.execute(select(Handover)).all()) == 1
    svc.close()
