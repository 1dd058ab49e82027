"""PostgreSQL: the common message is two statements (read, one atomic write), and lost connections heal.

The one-statement write must behave exactly like the transaction it replaces: the conversation written only
at the version read, the sender's last-inbound time kept, the dedupe row last, nothing on a stale version."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update

import bot.inbox.handler
import storage.db
import storage.hot
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from storage.db import make_engine
from storage.models import Conversation, ProcessedMessage, User
from tests.conftest import make_services


def _say(client: Any, acct: Account, clock: FakeClock, openid: str, text_: str, msg_id: str) -> str:
    req = acct.text(openid, text_, now=int(clock.now().timestamp()), msg_id=msg_id)
    resp = client.post("/wechat", query_string=req.params, data=req.body)
    assert resp.status_code == 200
    return str(acct.read(resp.data)["Content"])  # type: ignore[index]


def _pg_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL path")


def _statements(engine: Any, monkeypatch: Any) -> list[tuple[str, bool]]:
    """Every statement sent, with whether the connection was in autocommit (no BEGIN/COMMIT round trips)."""
    seen: list[tuple[str, bool]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, _cur, stmt, *_a: seen.append((stmt.strip(), conn.connection.dbapi_connection.autocommit)))
    real_run = storage.hot.Hot.run

    def run(self: Any, conn: Any, params: Any) -> Any:
        seen.append((self.plan(conn.dialect).sql.strip(), conn.connection.dbapi_connection.autocommit))
        return real_run(self, conn, params)

    monkeypatch.setattr(storage.hot.Hot, "run", run)
    return seen


def test_a_plain_message_is_one_read_and_one_write(any_db_url: str, clock: FakeClock,
                                                   fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oTwo", "菜单", "1")  # creates the user and the conversation (the general path)
    seen = _statements(svc.engine, monkeypatch)
    clock.advance(minutes=5)
    assert "理发" in _say(client, acct, clock, "oTwo", "我要理发", "2")
    assert [(sql.split()[0], autocommit) for sql, autocommit in seen] == [("SELECT", True), ("WITH", True)], seen
    with svc.sessions() as s:
        conv = s.execute(select(Conversation)).scalar_one()
        user = s.execute(select(User).where(User.openid == "oTwo")).scalar_one()
        assert conv.state != "IDLE" and conv.version == 1
        assert user.last_inbound_at == clock.now()  # five minutes on: the inbound time moved
        keys = s.execute(select(ProcessedMessage.dedupe_key).order_by(ProcessedMessage.id)).scalars().all()
        assert [k.rsplit(":", 1)[-1] for k in keys] == ["1", "2"]
    svc.close()


def test_a_first_message_is_one_read_and_one_write(any_db_url: str, clock: FakeClock,
                                                   fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    """A new sender's message without side effects: the read (always one row, the hub's facts with it) and one
    statement writing the user, their conversation and the dedupe row, in autocommit (no BEGIN and COMMIT)."""
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oSomeoneElse", "菜单", "0")  # the hub's account is read and kept by the first
    seen = _statements(svc.engine, monkeypatch)
    assert "理发" in _say(client, acct, clock, "oFirst", "我要理发", "1")
    assert [(sql.split()[0], autocommit) for sql, autocommit in seen] == [("SELECT", True), ("WITH", True)], seen
    with svc.sessions() as s:
        user = s.execute(select(User).where(User.openid == "oFirst")).scalar_one()
        assert user.roles == [] and user.subscribed and user.last_inbound_at == clock.now()
        conv = s.execute(select(Conversation).where(Conversation.user_id == user.id)).scalar_one()
        assert conv.state == "ORDER_TIME" and conv.version == 0 and conv.slots["draft"]["service"] == "haircut"
        processed = s.execute(select(ProcessedMessage).where(ProcessedMessage.openid == "oFirst")).scalar_one()
        assert processed.openid == "oFirst" and "理发" in (processed.reply or "") and processed.text == "我要理发"
    seen.clear()
    clock.advance(minutes=5)
    assert _say(client, acct, clock, "oFirst", "菜单", "2")  # the next one: the known sender's path
    assert [(sql.split()[0], autocommit) for sql, autocommit in seen] == [("SELECT", True), ("WITH", True)], seen
    svc.close()


def test_a_racing_retry_of_a_first_message_answers_from_the_first_run(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    """The retry read before the first run committed (a new sender still): its one statement clashes with the rows
    the first run wrote, writes nothing, and the retry gets the first run's reply."""
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    first = _say(client, acct, clock, "oNewRace", "你好", "1")
    real_read = bot.inbox.handler.read_sender

    def read_as_if_nobody_yet(*args: Any) -> Any:
        snap = real_read(*args)
        return bot.inbox.handler.Snapshot(None, frozenset(), None, None, None, None, "IDLE", {}, 0,
                                          snap.catalogue_version, False, None)

    monkeypatch.setattr(bot.inbox.handler, "read_sender", read_as_if_nobody_yet)
    assert _say(client, acct, clock, "oNewRace", "你好", "1") == first
    with svc.sessions() as s:
        assert len(s.execute(select(ProcessedMessage)).all()) == 1
        assert len(s.execute(select(User).where(User.openid == "oNewRace")).all()) == 1
        assert len(s.execute(select(Conversation)).all()) == 1
    svc.close()


def test_one_statement_write_refuses_a_moved_conversation_and_writes_nothing(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oMoved", "菜单", "1")
    clock.advance(minutes=5)
    real = bot.inbox.handler._write_in_one_statement
    outcomes: list[str] = []

    def write_after_a_concurrent_change(conn: Any, *args: Any) -> Any:
        if not outcomes:
            with svc.engine.begin() as other:
                other.execute(update(Conversation).values(version=Conversation.version + 1))
        try:
            reply = real(conn, *args)
        except bot.inbox.handler.StaleConversation:
            outcomes.append("stale")
            with svc.sessions() as s:  # the refused statement left nothing: no dedupe row, no inbound time
                assert len(s.execute(select(ProcessedMessage)).all()) == 1
                assert s.execute(select(User.last_inbound_at)).scalar_one() < clock.now()
            raise
        outcomes.append("written")
        return reply

    monkeypatch.setattr(bot.inbox.handler, "_write_in_one_statement", write_after_a_concurrent_change)
    assert "理发" in _say(client, acct, clock, "oMoved", "我要理发", "2")
    assert outcomes == ["stale", "written"]
    with svc.sessions() as s:
        assert s.execute(select(Conversation.version)).scalar_one() == 2
        assert len(s.execute(select(ProcessedMessage)).all()) == 2
    svc.close()


def test_a_racing_retry_on_the_one_statement_path_answers_from_the_first_run(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oRace", "菜单", "1")
    first = _say(client, acct, clock, "oRace", "你好", "2")
    real_read = bot.inbox.handler.read_sender

    def read_as_if_not_yet_processed(*args: Any) -> Any:  # the retry read before the first run committed
        snap = real_read(*args)
        return bot.inbox.handler.Snapshot(**{**snap.__dict__, "seen": False, "stored_reply": None})

    monkeypatch.setattr(bot.inbox.handler, "read_sender", read_as_if_not_yet_processed)
    assert _say(client, acct, clock, "oRace", "你好", "2") == first
    with svc.sessions() as s:
        assert len(s.execute(select(ProcessedMessage)).all()) == 2
    svc.close()


def _kill_backends(url: str) -> None:
    admin = make_engine(url)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.commit()
    admin.dispose()


def test_an_idle_connection_the_server_closed_is_replaced_before_use(any_db_url: str,
                                                                   monkeypatch: Any) -> None:
    _pg_only(any_db_url)
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    _kill_backends(any_db_url)  # e.g. a database restart while the pool sat idle
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 41 + 1")).scalar() == 42
    engine.dispose()


def test_a_message_on_a_connection_lost_while_busy_is_handled_on_a_fresh_one(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, monkeypatch: Any) -> None:
    _pg_only(any_db_url)
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", timedelta(days=1).total_seconds())  # no ping
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oLost", "菜单", "1")
    _kill_backends(any_db_url)  # the pooled connection is dead and will not be pinged
    assert "理发" in _say(client, acct, clock, "oLost", "我要理发", "2")
    with svc.sessions() as s:
        assert len(s.execute(select(ProcessedMessage)).all()) == 2
    svc.close()


def _waiting_on_a_lock(engine: Any) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock'")).scalar())


@pytest.mark.parametrize(("words", "path"), [("我要理发", ("WITH", True)),  # the one-statement write
                                            ("人工", ("UPDATE conversations SET state", False))])  # _write
def test_both_write_paths_lock_the_conversation_before_the_user(
        any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, words: str, path: tuple[str, bool],
        monkeypatch: Any) -> None:
    """Two messages of one sender, one on each write path, must not deadlock: both paths take the conversation's
    row lock before the user's. Held up at the conversation, a message must not yet hold the user's row."""
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    client = create_app(services=svc).test_client()
    acct = Account(token="testtoken", appid="wxtestappid0001")
    _say(client, acct, clock, "oOrder", "菜单", "1")
    clock.advance(minutes=5)  # so the message also records the sender's inbound time (a write to the user)
    seen = _statements(svc.engine, monkeypatch)
    replies: list[str] = []
    with svc.engine.connect() as blocker:
        blocker.execute(update(Conversation).values(updated_at=Conversation.updated_at))  # holds the row lock
        t = threading.Thread(target=lambda: replies.append(_say(client, acct, clock, "oOrder", words, "2")))
        t.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(svc.engine):
            assert time.monotonic() < deadline, "the message never waited for the conversation's row"
            time.sleep(0.02)
        with svc.engine.connect() as probe:  # the user's row is free: the message did not lock it first
            probe.execute(text("SET LOCAL lock_timeout = '2s'"))
            user_id = probe.execute(select(User.id).where(User.openid == "oOrder")).scalar_one()
            probe.execute(text("SELECT id FROM users WHERE id = :id FOR NO KEY UPDATE NOWAIT"), {"id": user_id})
            probe.rollback()
        blocker.rollback()
        t.join(10)
    assert replies and replies[0]
    assert any(sql.startswith(path[0]) and autocommit == path[1] for sql, autocommit in seen), seen  # the path
    with svc.sessions() as s:
        assert s.execute(select(User.last_inbound_at).where(User.openid == "oOrder")).scalar_one() == clock.now()
        assert len(s.execute(select(ProcessedMessage)).all()) == 2
    svc.close()
