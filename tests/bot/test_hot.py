"""storage.hot: Core statements on the DBAPI cursor give what Connection.execute gives, errors included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import make_engine, read_only
from storage.hot import Hot
from storage.models import Conversation, ProcessedMessage, User

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
READ = select(User.id, User.roles, User.last_inbound_at, Conversation.slots, Conversation.version).join(
    Conversation, Conversation.user_id == User.id).where(User.openid == bindparam("openid"))


def _seed(engine: object) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
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
