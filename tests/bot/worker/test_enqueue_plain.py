"""Messages without an idempotency key are one plain Core INSERT per batch (no ORM objects in the session), written
at once in the caller's transaction; a batch longer than the prepared sizes is one executemany."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.outbox import HOT_BATCH, Message, enqueue, enqueue_many
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


def _rows(svc: Services) -> list[OutboxMessage]:
    with svc.sessions() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_a_batch_without_keys_is_one_insert_sent_at_once(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    batch = [Message("oA", "您的订单已完成，请为志愿者评分"), Message("oB", "谢谢您", priority=5)]
    with transaction(svc.sessions) as s:
        with counting(svc.engine) as counted:
            assert enqueue_many(s, hub_id=1, now=now, messages=batch) == batch
        assert len(counted) == 1 and counted.statements[0][0].startswith("INSERT INTO outbox"), counted.statements
        assert "ON CONFLICT" not in counted.statements[0][0]
        assert not s.new  # nothing left for the next flush
        with counting(svc.engine) as flushed:
            s.flush()
        assert len(flushed) == 0, flushed.statements
    rows = _rows(svc)
    assert [(r.to, r.payload["text"], r.idempotency_key, r.status, r.attempts) for r in rows] == [
        ("oA", "您的订单已完成，请为志愿者评分", None, "pending", 0), ("oB", "谢谢您", None, "pending", 0)]
    assert rows[1].priority >= 5 and rows[0].next_attempt_at is not None


def test_rows_added_to_the_session_before_are_written_first(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(svc.sessions) as s:
        s.add(OutboxMessage(hub_id=1, channel="wechat", to="oFirst", kind="text", payload={"text": "先"},
                            status="pending", attempts=0, next_attempt_at=now, created_at=now))
        assert enqueue(s, hub_id=1, to="oSecond", text="后", now=now) is True
    assert [r.to for r in _rows(svc)] == ["oFirst", "oSecond"]


def test_a_long_batch_without_keys_is_written_whole(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    batch = [Message(f"o{i}", f"第{i}条") for i in range(HOT_BATCH + 5)]
    with transaction(svc.sessions) as s:
        assert enqueue_many(s, hub_id=1, now=now, messages=batch) == batch
    assert [(r.to, r.payload["text"]) for r in _rows(svc)] == [(m.to, m.text) for m in batch]


def test_a_batch_without_keys_rolls_back_with_the_transaction(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with pytest.raises(RuntimeError), transaction(svc.sessions) as s:
        enqueue(s, hub_id=1, to="oA", text="不会发出", now=now)
        raise RuntimeError("the step failed")
    assert _rows(svc) == []
