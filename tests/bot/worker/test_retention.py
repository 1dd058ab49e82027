"""Retention by age (bot.worker.retention, issue 19): finished outbox rows, sign-in attempts and the audit log go
after their configured days, oldest first, in bounded batches; what staff or a kept record still need stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.clock import FakeClock
from bot.config import load_config
from bot.errors import ConfigError
from bot.services import Services
from bot.worker import jobs, retention
from storage.db import transaction
from storage.models import AuditLog, ConversationMessage, Hub, OutboxMessage, User
from storage.models_admin import LoginAttempt
from storage.models_events import Broadcast, BroadcastRecipient
from tests.conftest import make_services


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Any:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def _outbox(hub_id: int, status: str, age_days: float, now: datetime, key: str) -> OutboxMessage:
    at = now - timedelta(days=age_days)
    return OutboxMessage(hub_id=hub_id, channel="wechat", to="oUser", kind="text", payload={"text": key},
                         idempotency_key=key, status=status, next_attempt_at=at, created_at=at,
                         sent_at=at if status == "sent" else None)


def _seed(svc: Services, now: datetime) -> dict[str, int]:
    """Outbox rows of every kind and age, each named by its idempotency key; sign-ins and audit rows by age."""
    with transaction(svc.sessions) as s:
        hub = Hub(slug="ret", name="留存雷锋超市", settings={}, created_at=now)
        s.add(hub)
        s.flush()
        user = User(hub_id=hub.id, openid="oUser", roles=[], subscribed=True, created_at=now)
        s.add(user)
        rows = [_outbox(hub.id, status, days, now, key) for key, status, days in (
            ("old-sent", "sent", 91), ("old-sent-2", "sent", 120), ("old-dead", "dead", 200),
            ("old-skipped", "skipped", 95), ("old-told", "told", 95), ("recent-sent", "sent", 89),
            ("old-pending", "pending", 100), ("old-undelivered", "undelivered", 100),
            ("old-sent-kept-message", "sent", 150), ("old-sent-broadcast", "sent", 150))]
        s.add_all(rows)
        s.flush()
        ids = {r.idempotency_key or "": r.id for r in rows}
        s.add(ConversationMessage(hub_id=hub.id, user_id=user.id, direction="out", author="bot", text="您好",
                                  outbox_id=ids["old-sent-kept-message"], at=now - timedelta(days=1)))
        cast = Broadcast(hub_id=hub.id, segment="all", text="通知", status="queued", created_by="staff",
                         created_at=now - timedelta(days=150))
        s.add(cast)
        s.flush()
        s.add(BroadcastRecipient(broadcast_id=cast.id, user_id=user.id, status="queued",
                                 outbox_id=ids["old-sent-broadcast"]))
        s.add_all([LoginAttempt(username=f"u{d}", ok=True, remote_addr="10.0.0.1", at=now - timedelta(days=d))
                   for d in (1, 89, 91, 400)])
        s.add_all([AuditLog(hub_id=hub.id, actor="staff", action=f"a{d}", detail={}, at=now - timedelta(days=d))
                   for d in (1, 400, 1094, 1096, 2000)])
    return ids


def _left(svc: Services) -> tuple[set[str], set[str], set[str]]:
    with svc.sessions() as s:
        return ({key or "" for key in s.scalars(select(OutboxMessage.idempotency_key))},
                set(s.scalars(select(LoginAttempt.username))), set(s.scalars(select(AuditLog.action))))


def test_retention_deletes_by_age_and_keeps_what_is_still_needed(svc: Services, clock: FakeClock) -> None:
    _seed(svc, clock.now())
    deleted = retention.prune(svc)
    assert deleted == {"outbox": 5, "login_attempts": 2, "audit_log": 2}
    outbox, logins, audit = _left(svc)
    assert outbox == {"recent-sent", "old-pending", "old-undelivered", "old-sent-kept-message",
                      "old-sent-broadcast"}
    assert logins == {"u1", "u89"} and audit == {"a1", "a400", "a1094"}
    assert retention.prune(svc) == {"outbox": 0, "login_attempts": 0, "audit_log": 0}  # idempotent


def test_each_run_is_bounded_and_goes_oldest_first(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock, retention_batch="2", retention_max_batches="1")
    try:
        _seed(svc, clock.now())
        assert retention.prune(svc)["outbox"] == 2
        outbox, _logins, _audit = _left(svc)
        assert {"old-dead", "old-sent-2"}.isdisjoint(outbox)  # 200 and 120 days: the oldest two went first
        assert {"old-sent", "old-skipped", "old-told"} <= outbox
        assert retention.prune(svc)["outbox"] == 2 and retention.prune(svc)["outbox"] == 1
        assert retention.prune(svc)["outbox"] == 0
    finally:
        svc.close()


def test_the_keep_days_are_settings_and_the_audit_log_is_kept_at_least_six_months() -> None:
    cfg = load_config(environ={"LEIFENG_OUTBOX_KEEP_DAYS": "30", "LEIFENG_AUDIT_KEEP_DAYS": "365"})
    assert (cfg.outbox_keep_days, cfg.audit_keep_days, cfg.login_attempts_keep_days) == (30, 365, 90)
    with pytest.raises(ConfigError, match="AUDIT_KEEP_DAYS"):
        load_config(environ={"LEIFENG_AUDIT_KEEP_DAYS": "30"})
    with pytest.raises(ConfigError, match="RETENTION_BATCH"):
        load_config(environ={"LEIFENG_RETENTION_BATCH": "0"})


def test_the_worker_schedules_retention_nightly(svc: Services) -> None:
    spec = next(j for j in jobs.schedule(svc) if j.id == "retention")
    assert spec.run is retention.prune and spec.trigger == "cron"


def test_a_delete_batch_is_a_range_on_the_age_index(svc: Services, clock: FakeClock) -> None:
    """On PostgreSQL the batch's rows come from the partial index ix_outbox_finished_created (and the other tables'
    age indexes), read in order and stopped at the batch size, never a scan and sort of the table (the planner may
    use the index: its predicate is the query's text verbatim). SQLite's planner picks without statistics."""
    _seed(svc, clock.now())
    with svc.sessions() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("the plan is PostgreSQL's")
        s.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: show the path the planner has
        s.execute(text("SET LOCAL enable_bitmapscan = off"))
        for cut in retention.cuts(svc, clock.now()):
            stmt = retention.batch_select(cut, 1000).compile(s.get_bind(), compile_kwargs={"literal_binds": True})
            plan = "\n".join(s.scalars(text(f"EXPLAIN {stmt}")))
            index = {"outbox": "ix_outbox_finished_created", "login_attempts": "ix_login_attempts_at",
                     "audit_log": "ix_audit_log_at"}[cut.name]
            assert index in plan, plan
            assert "Sort" not in plan, plan
