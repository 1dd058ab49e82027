"""The processed-message (dedupe) table is pruned: rows older than the kept days go, in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.clock import FakeClock
from bot.worker import jobs
from storage.db import transaction
from storage.models import ProcessedMessage
from tests.conftest import make_services


def add_rows(svc: Any, clock: FakeClock, ages_in_days: list[float]) -> None:
    with transaction(svc.sessions) as s:
        for n, age in enumerate(ages_in_days):
            s.add(ProcessedMessage(hub_id=1, dedupe_key=f"msg:{n}", openid="oResident", msg_type="text",
                                   reply="好的", received_at=clock.now() - timedelta(days=age)))


def kept(svc: Any) -> list[str]:
    with svc.sessions() as s:
        return sorted(s.scalars(select(ProcessedMessage.dedupe_key)))


def test_rows_older_than_the_kept_days_are_deleted_in_batches(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)  # keeps 30 days by default
    try:
        add_rows(svc, clock, [0, 1, 29.9, 30.1, 31, 45, 90, 365, 400])
        assert jobs.prune_processed_messages(svc, batch=2) == 6  # three full batches, then the rest
        assert kept(svc) == ["msg:0", "msg:1", "msg:2"]
        assert jobs.prune_processed_messages(svc, batch=2) == 0  # idempotent
        clock.advance(days=1)  # a day later the 29.9-day-old row is past the cut-off
        assert jobs.prune_processed_messages(svc) == 1 and kept(svc) == ["msg:0", "msg:1"]
    finally:
        svc.close()


def test_the_days_kept_are_a_setting_and_the_job_is_scheduled(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock, processed_messages_keep_days=7)
    try:
        add_rows(svc, clock, [6, 8])
        assert jobs.prune_processed_messages(svc) == 1 and kept(svc) == ["msg:0"]
        (spec,) = [j for j in jobs.schedule(svc) if j.id == "processed_messages_prune"]
        assert spec.run is jobs.prune_processed_messages and spec.trigger == "cron"
    finally:
        svc.close()
