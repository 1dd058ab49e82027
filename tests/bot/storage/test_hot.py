"""storage.hot: Core statements on the DBAPI cursor give what Connection.execute gives, errors included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session

from bot.config import DEV_SECRET_KEY
from storage.db import make_engine, read_only
from storage.hot import Hot, as_loaded, width
from storage.models import Conversation, ProcessedMessage, User
from storage.sealed import seal_engine

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
READ = select(User.id, User.roles, User.last_inbound_at, Conversation.slots, Conversation.version).join(
    Conversation, Conversation.user_id == User.id).where(User.openid == bindparam("openid"))


def _seed(engine: Engine) -> None:
    seal_engine(engine, DEV_SECRET_KEY)  # the slots are encrypted at rest
    with engine.begin() as conn:
        uid = conn.execute(insert(User).values(hub_id=1, openid="oHot", roles=["staff", "志愿者"], subscribed=True,
                                               created_at=NOW, last_inbound_at=NOW)).inserted_primary_key[0]
        conn.execute(insert(Conversation).values(hub_id=1, user_id=uid, state="IDLE", updated_at=NOW, version=0,
                                                 slots={"address": "幸福小区 3 栋", "n": [1, 2.5, None]}))


def test_rows_and_types_match_connection_execute(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    _seed(engine)
    with engine.connect() as conn, read_only(conn):
        expected = [tuple(r) for r in conn.execute(READ, {"openid": "oHot"})]
        assert Hot(READ).run(conn, {"openid": "oHot"}).rows == expected and expected[0][1] == ["staff", "志愿者"]
        assert Hot(READ).run(conn, {"openid": "nobody"}).first() is None
    upd = Hot(update(Conversation).where(Conversation.version == bindparam("v"))
              .values(slots=bindparam("s", type_=Conversation.slots.type), version=bindparam("v") + 1))
    with engine.begin() as conn:
        assert upd.run(conn, {"v": 0, "s": {"订单": 12}}).rowcount == 1
        assert upd.run(conn, {"v": 0, "s": {"订单": 13}}).rowcount == 0  # the version moved: nothing written
    with engine.connect() as conn:
        assert conn.execute(select(Conversation.slots, Conversation.version)).one() == ({"订单": 12}, 1)
    engine.dispose()


def test_psycopg_is_given_the_text_as_bytes_once_encoded(any_db_url: str) -> None:
    """An ASCII statement reaches psycopg as the same bytes object at every run (no encoding nor hashing of the text
    per execution); a statement with other characters, and other drivers, get the text."""
    engine = make_engine(any_db_url)
    _seed(engine)
    plain, chinese = Hot(READ), Hot(select(User.id).where(User.openid == bindparam("openid"), text("'志愿者' <> ''")))
    with engine.connect() as conn, read_only(conn):
        assert plain.run(conn, {"openid": "oHot"}).rows and chinese.run(conn, {"openid": "oHot"}).rows
        one, two = plain.plan(conn.dialect), chinese.plan(conn.dialect)
        if conn.dialect.driver == "psycopg":
            assert one.query == one.sql.encode("ascii") and plain.plan(conn.dialect).query is one.query
        else:
            assert one.query == one.sql
        assert two.query == two.sql
    engine.dispose()


def test_a_missing_parameter_is_refused_before_anything_runs(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn, pytest.raises(Exception, match="value is required"):
        Hot(READ).run(conn, {})
    engine.dispose()


def test_database_errors_come_out_as_sqlalchemy_errors(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    row = {"hub_id": 1, "dedupe_key": "k1", "openid": "o", "msg_type": "text", "reply": None, "received_at": NOW}
    ins = Hot(insert(ProcessedMessage).values(**{k: bindparam(f"p_{k}") for k in row}))
    with engine.begin() as conn:
        ins.run(conn, {f"p_{k}": v for k, v in row.items()})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        ins.run(conn, {f"p_{k}": v for k, v in row.items()})
    with engine.connect() as conn:
        assert conn.execute(select(ProcessedMessage.dedupe_key)).scalars().all() == ["k1"]
    with pytest.raises(Exception) as err, engine.connect() as conn:
        Hot(select(text("no_such_column")).select_from(ProcessedMessage)).run(conn, {})
    assert err.value.__class__.__module__ == "sqlalchemy.exc"
    engine.dispose()


def test_a_lost_connection_is_invalidated_like_execute_does(any_db_url: str) -> None:
    if not any_db_url.startswith("postgresql"):
        pytest.skip("needs a server to drop the connection")
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        conn.commit()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with pytest.raises(OperationalError) as err:
            Hot(select(text("1"))).run(conn, {})
        assert err.value.connection_invalidated and conn.invalidated
    with engine.connect() as conn:  # the pool hands out a fresh one
        assert Hot(select(text("42"))).run(conn, {}).rows == [(42,)]
    engine.dispose()


def test_savepoints_as_plain_sql_still_roll_back_only_the_inner_part(any_db_url: str) -> None:
    from sqlalchemy.orm import Session

    engine = make_engine(any_db_url)
    with engine.connect() as conn, conn.begin(), Session(bind=conn) as s:
        s.add(User(hub_id=1, openid="oKept", roles=[], subscribed=True, created_at=NOW))
        with pytest.raises(RuntimeError), s.begin_nested():
            s.add(User(hub_id=1, openid="oUndone", roles=[], subscribed=True, created_at=NOW))
            s.flush()
            raise RuntimeError("refused")
        with s.begin_nested():
            s.add(User(hub_id=1, openid="oReleased", roles=[], subscribed=True, created_at=NOW))
        s.flush()
    with engine.connect() as conn:
        assert sorted(conn.execute(select(User.openid)).scalars()) == ["oKept", "oReleased"]
    engine.dispose()


def test_a_name_bound_in_two_places_is_converted_once(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    _seed(engine)
    def at() -> Any:  # one name, two bind objects (as in bot.inbox.handler's one-statement write); a DateTime: on
        return bindparam("at", type_=User.created_at.type)  # SQLite its converter takes only datetimes

    both = select(User.openid).where(User.created_at == at(), User.last_inbound_at == at())
    with engine.connect() as conn, read_only(conn):
        expected = [tuple(r) for r in conn.execute(both, {"at": NOW})]
        assert Hot(both).run(conn, {"at": NOW}).rows == [("oHot",)] == expected
    engine.dispose()


def test_a_value_its_type_cannot_take_is_a_statement_error(db_url: str) -> None:
    engine = make_engine(db_url)
    stmt = select(User.id).where(User.created_at == bindparam("at", type_=User.created_at.type))
    with engine.connect() as conn:
        with pytest.raises(StatementError):
            conn.execute(stmt, {"at": "yesterday"})
        with pytest.raises(StatementError, match="yesterday|datetime"):
            Hot(stmt).run(conn, {"at": "yesterday"})
    engine.dispose()


def test_a_lost_connection_retires_the_whole_pool(any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that dropped one connection (a restart) dropped them all: the pooled ones are replaced at their
    next checkout, not found dead one by one, one failed message each."""
    if not any_db_url.startswith("postgresql"):
        pytest.skip("needs a server to drop the connection")
    import storage.db
    from tests.bot.storage.test_pg_one_statement import _kill_backends

    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", 86400.0)  # no idle ping: only the pool rule
    engine = make_engine(any_db_url, pool_size=3)
    with engine.connect() as a, engine.connect() as b, engine.connect() as c:  # three connections in the pool
        for conn in (a, b, c):
            conn.execute(text("SELECT 1"))
    _kill_backends(any_db_url)  # e.g. a database restart
    with engine.connect() as conn, pytest.raises(OperationalError) as err:
        Hot(select(text("1"))).run(conn, {})
    assert err.value.connection_invalidated
    with engine.connect() as a, engine.connect() as b:  # both fresh: no second message fails
        assert Hot(select(text("7"))).run(a, {}).rows == [(7,)] == Hot(select(text("7"))).run(b, {}).rows
    engine.dispose()


def test_as_loaded_holds_the_row_as_the_orm_would_have_loaded_it(any_db_url: str) -> None:
    """storage.hot.as_loaded: the object a query through the session would give (every column, decrypted), held as
    persistent and unchanged (no UPDATE at the flush, no SQL to read its attributes); a changed attribute is written
    like any loaded object's; the session's own object comes back as it is; an outer join's missing side is None."""
    engine = make_engine(any_db_url)
    _seed(engine)
    users = User.__table__
    statements: list[str] = []
    with Session(engine) as s:
        expected = {c.key: getattr(s.execute(select(User).where(User.openid == "oHot")).scalar_one(), c.key)
                    for c in users.c}
    with Session(engine) as s:
        row = Hot(select(*users.c).where(users.c.openid == "oHot")).run(s.connection(), {}).first()
        assert row is not None and width(User) == len(row)
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        user = as_loaded(s, User, row)
        assert user is not None and inspect(user).persistent and not s.dirty
        assert {c.key: getattr(user, c.key) for c in users.c} == expected and user.roles == ["staff", "志愿者"]
        assert as_loaded(s, User, row) is user  # the session's own object
        assert as_loaded(s, User, (None,) * len(row)) is None
        s.flush()
        assert statements == []  # nothing read, nothing written
        user.nickname = "老张"
        s.commit()
    with Session(engine) as s:
        assert s.execute(select(User.nickname).where(User.openid == "oHot")).scalar_one() == "老张"
    engine.dispose()
