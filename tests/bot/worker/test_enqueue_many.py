"""Queuing with idempotency keys in one statement (issue 19): INSERT ... ON CONFLICT DO NOTHING, for one message
and for a batch, with the semantics the SELECT + SAVEPOINT + INSERT had: a key queued before, earlier in the same
batch, or by a concurrent transaction is skipped, never an error."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.clock import FakeClock
from bot.outbox import Message, enqueue, enqueue_many
from bot.services import Services
from storage.db import transaction
from storage.models import OutboxMessage
from tests.bot.scale.seeding import counting
from tests.conftest import make_services


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Any:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def _rows(svc: Services) -> dict[str | None, OutboxMessage]:
    with svc.sessions() as s:
        return {r.idempotency_key: r for r in s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()}


def test_a_batch_is_one_insert_and_skips_the_keys_queued_before(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(svc.sessions) as s:
        assert enqueue(s, hub_id=1, to="oA", text="新任务：理发（订单7）", now=now, idempotency_key="offer:7:1")
    batch = [Message("oA", "again", idempotency_key="offer:7:1"),  # queued before: skipped
             Message("oB", "新任务：理发（订单7）", idempotency_key="offer:7:2"),
             Message("oB", "twice in the batch", idempotency_key="offer:7:2"),  # the first one wins
             Message("ROBOT", "【服务队】新任务", channel="wecom_robot", idempotency_key="robot:7:1:1"),
             Message("oC", "no key")]
    with transaction(svc.sessions) as s, counting(svc.engine) as counted:
        queued = enqueue_many(s, hub_id=1, now=now, messages=batch)
        s.flush()
        assert len(counted) == 1, counted.statements
        assert "ON CONFLICT DO NOTHING" in counted.statements[0][0]
    assert queued == [batch[1], batch[3], batch[4]]
    rows = _rows(svc)
    assert set(rows) == {"offer:7:1", "offer:7:2", "robot:7:1:1", None}
    assert rows["offer:7:1"].payload["text"] == "新任务：理发（订单7）"
    assert rows["offer:7:2"].payload["text"] == "新任务：理发（订单7）"
    assert rows["robot:7:1:1"].channel == "wecom_robot" and rows[None].to == "oC"
    # a batch row is what enqueue writes for the same message: notice kind, order, priority, status
    one, many = rows["offer:7:1"], rows["offer:7:2"]
    assert (one.payload, one.priority, one.status, one.kind, one.attempts) == (
        many.payload, many.priority, many.status, many.kind, many.attempts)
    assert one.payload["notice"] == "task_offer" and one.payload["order"] == 7


def test_a_repeated_key_is_one_statement_and_leaves_the_transaction_usable(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(svc.sessions) as s:
        with counting(svc.engine) as first:
            assert enqueue(s, hub_id=1, to="oA", text="您好", now=now, idempotency_key="k:1") is True
        with counting(svc.engine) as again:
            assert enqueue(s, hub_id=1, to="oA", text="您好", now=now, idempotency_key="k:1") is False
        assert len(first) == len(again) == 1, (first.statements, again.statements)
        assert not any("SAVEPOINT" in sql for sql, _ in first.statements + again.statements)
        # on PostgreSQL a failed INSERT would have aborted the transaction: this one goes on
        assert enqueue(s, hub_id=1, to="oA", text="再见", now=now, idempotency_key="k:2") is True
    assert set(_rows(svc)) == {"k:1", "k:2"}


def test_a_key_queued_by_a_concurrent_transaction_is_skipped_not_an_error(any_db_url: str, clock: FakeClock) -> None:
    """Two transactions queue the same key: the second waits for the first, then skips the row (it used to need a
    savepoint to survive the unique violation)."""
    first, second = make_services(any_db_url, clock), make_services(any_db_url, clock)
    outcome: dict[str, Any] = {}
    try:
        with transaction(first.sessions) as s:
            assert enqueue(s, hub_id=1, to="oA", text="first", now=clock.now(), idempotency_key="race:1")

            def other() -> None:
                try:
                    with transaction(second.sessions) as s2:
                        outcome["queued"] = enqueue(s2, hub_id=1, to="oA", text="second", now=clock.now(),
                                                    idempotency_key="race:1")
                except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                    outcome["error"] = exc

            thread = threading.Thread(target=other)
            thread.start()
            if any_db_url.startswith("postgresql"):  # the second INSERT waits on our uncommitted key
                assert _someone_waits(first, deadline=time.monotonic() + 30), "the second INSERT never waited"
        thread.join(30)
        assert not thread.is_alive()
        assert outcome == {"queued": False}, outcome
        rows = _rows(first)
        assert list(rows) == ["race:1"] and rows["race:1"].payload["text"] == "first"
    finally:
        first.close()
        second.close()


def _someone_waits(svc: Services, deadline: float) -> bool:
    """A backend of this database is waiting for a lock (the other transaction's INSERT)."""
    while time.monotonic() < deadline:
        with svc.engine.connect() as conn:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                                        "WHERE NOT l.granted AND a.datname = current_database()")).scalar()
        if waiting:
            return True
        time.sleep(0.05)
    return False
