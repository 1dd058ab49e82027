"""Retention by age for the tables that grow without bound (issue 19), run nightly by the worker.

What is deleted, and after how long (bot.config; documented in README "Retention"):
- outbox rows that reached their end (storage.models.OUTBOX_FINISHED_SQL: sent, skipped, dead, told) after
  `outbox_keep_days` (90), except a row a kept hand-over message or a broadcast's recipient points at (those go
  with their message, or stay with the broadcast's record). Undelivered rows stay: staff still have to call. A
  reminder's outbox row is what marks it sent (the sweep's "rate-ask:" anti-join), and the sweep only looks at
  orders completed within days, so 90 days is far past the last look;
- sign-in attempts after `login_attempts_keep_days` (90; the lock-outs count the last minutes);
- the audit log after `audit_keep_days` (1095, at least bot.config.AUDIT_MIN_KEEP_DAYS).
Kept, not deleted: orders, their events and offers, service records and points entries. The city's monthly
ledger (bot.serviceloop.ledger) and a volunteer's hours and stars are computed from service records and orders
for any month asked, and an order's page shows its events for as long as the order exists, so nothing the ledger
reports is ever deleted. Processed messages (bot.worker.jobs.prune_processed_messages) and hand-over messages
(bot.inbox.handover.prune) have their own jobs.

Each table is deleted oldest first, `retention_batch` rows per short transaction, along an index on its age
column (one range scan per batch: the cost of a batch does not grow with the table), and at most
`retention_max_batches` batches per table and run, so a run is bounded; a backlog is worked off over nights.
Idempotent: a second run finds nothing older than the cut-offs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, TextClause, delete, exists, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from bot.services import Services
from storage.db import transaction
from storage.models import OUTBOX_FINISHED_SQL, AuditLog, ConversationMessage, OutboxMessage
from storage.models_admin import LoginAttempt
from storage.models_events import BroadcastRecipient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cut:
    """One table's retention: rows whose `age` is before `cutoff` and that match `where` go."""

    name: str
    key: InstrumentedAttribute[int]
    age: InstrumentedAttribute[datetime]
    cutoff: datetime
    where: tuple[ColumnElement[bool] | TextClause, ...] = ()


def batch_select(cut: Cut, batch: int) -> Any:
    """The ids of the next batch: the oldest `batch` rows past the cut-off, along the age column's index."""
    return (select(cut.key).where(cut.age < cut.cutoff, *cut.where).order_by(cut.age).limit(batch))


def delete_oldest(factory: sessionmaker[Session], cut: Cut, *, batch: int, max_batches: int) -> int:
    """Delete `cut`'s rows oldest first, `batch` per transaction, at most `max_batches` batches; how many went."""
    table = cut.key.class_
    total = 0
    for _ in range(max_batches):
        with transaction(factory) as s:
            ids = batch_select(cut, batch).scalar_subquery()
            done = s.execute(delete(table).where(cut.key.in_(ids)).execution_options(synchronize_session=False))
            deleted = int(cast(CursorResult[Any], done).rowcount)
        total += deleted
        if deleted < batch:
            break
    return total


def cuts(services: Services, now: datetime) -> tuple[Cut, ...]:
    """Every table's retention at `now`, from the configuration."""
    cfg = services.config
    o = OutboxMessage
    kept_message = exists().where(ConversationMessage.outbox_id == o.id)
    broadcast_row = exists().where(BroadcastRecipient.outbox_id == o.id)
    return (
        Cut("outbox", o.id, o.created_at, now - timedelta(days=cfg.outbox_keep_days),
            # verbatim, so the planner reads the partial index ix_outbox_finished_created
            (text(OUTBOX_FINISHED_SQL), ~kept_message, ~broadcast_row)),
        Cut("login_attempts", LoginAttempt.id, LoginAttempt.at, now - timedelta(days=cfg.login_attempts_keep_days)),
        Cut("audit_log", AuditLog.id, AuditLog.at, now - timedelta(days=cfg.audit_keep_days)),
    )


def prune(services: Services, now: datetime | None = None) -> dict[str, int]:
    """The nightly retention run: each table's rows past its cut-off, bounded; rows deleted per table."""
    now = now or services.clock.now()
    cfg = services.config
    deleted = {cut.name: delete_oldest(services.sessions, cut, batch=cfg.retention_batch,
                                       max_batches=cfg.retention_max_batches)
               for cut in cuts(services, now)}
    if any(deleted.values()):
        log.info("retention: %s", ", ".join(f"{name} {n} rows" for name, n in deleted.items()))
    return deleted
