"""PostgreSQL: a new sender's first message that the transaction's path writes (it runs an action, has effects or
outbox rows) writes their user row and conversation in one statement (bot.inbox.handler.NEW_SENDER_IN_ONE_STATEMENT),
the same rows the two INSERTs wrote; a first message racing another of the same sender is answered once, with one
user row and one conversation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

import bot.inbox.handler
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from storage.models import Conversation, ProcessedMessage, User
from tests.bot.storage.test_pg_one_statement import _pg_only, _say, _statements
from tests.conftest import make_services


def test_a_new_senders_rows_are_one_statement_on_the_transactions_path(any_db_url: str, clock: FakeClock,
                                                                        fake_wechat: FakeWeChatServer,
                                                                        monkeypatch: Any) -> None:
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        client = create_app(services=svc).test_client()
        acct = Account(token="testtoken", appid="wxtestappid0001")
        _say(client, acct, clock, "oWarm", "你好", "0")  # (the app's first request reads the hub's account)
        seen = _statements(svc.engine, monkeypatch)
        assert _say(client, acct, clock, "oNewPts", "俺的积分有多少", "1")
        users = [sql for sql, _ in seen if "INSERT INTO users" in sql]
        assert len(users) == 1 and users[0].startswith("WITH new_user") and "INSERT INTO conversations" in users[0]
        assert not [sql for sql, _ in seen if sql.startswith("INSERT INTO conversations")], seen
        with svc.sessions() as s:
            user = s.execute(select(User).where(User.openid == "oNewPts")).scalar_one()
            conv = s.execute(select(Conversation).where(Conversation.user_id == user.id)).scalar_one()
            assert (user.roles, user.subscribed, user.last_inbound_at, user.created_at) == ([], True, clock.now(),
                                                                                         clock.now())
            assert conv.hub_id == user.hub_id and conv.updated_at == clock.now() and conv.version == 0
    finally:
        svc.close()


def test_a_racing_first_message_is_answered_once(any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                                 monkeypatch: Any) -> None:
    """The sender's user row appears between this message's read and its write (another first message of theirs):
    the one statement fails on the user's unique key, nothing of it is kept, and the message is handled again."""
    _pg_only(any_db_url)
    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        client = create_app(services=svc).test_client()
        acct = Account(token="testtoken", appid="wxtestappid0001")
        _say(client, acct, clock, "oWarm", "你好", "0")
        real_decide = bot.inbox.handler._decide
        raced: list[int] = []

        def decide(conn: Any, account: Any, settings: Any, inc: Any, snap: Any, nlu: Any, now: Any) -> Any:
            if snap.user_id is None and not raced:
                with svc.engine.begin() as other:
                    pk = other.execute(insert(User).values(hub_id=account.hub_id, openid=inc.openid, roles=[],
                                                           subscribed=True, created_at=now)).inserted_primary_key
                    assert pk is not None
                    raced.append(pk[0])
            return real_decide(conn, account, settings, inc, snap, nlu, now)

        monkeypatch.setattr(bot.inbox.handler, "_decide", decide)
        assert _say(client, acct, clock, "oRaced", "积分", "1")
        with svc.sessions() as s:
            users = s.execute(select(User.id).where(User.openid == "oRaced")).scalars().all()
            assert users == raced
            assert s.scalar(select(func.count()).select_from(Conversation)
                            .where(Conversation.user_id == users[0])) == 1
            assert s.scalar(select(func.count()).select_from(ProcessedMessage)
                            .where(ProcessedMessage.openid == "oRaced")) == 1
    finally:
        svc.close()
