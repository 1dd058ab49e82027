"""retention_indexes: the indexes retention and the console's pages by key need at city scale (issue 19)

- ix_outbox_finished_created: outbox rows that reached their end (sent, skipped, dead, told), by age: the retention
  job (bot.worker.retention) deletes them oldest first, a bounded range of this partial index per batch;
- ix_conversation_messages_outbox_id: a kept hand-over message points at its reply's outbox row, and retention
  keeps that row (an anti-join per candidate row through this index);
- ix_login_attempts_at: sign-in attempts by age (the lock-outs read the last minutes by name or address);
- ix_orders_hub_id: the orders board, newest first, pages by key within the hub (bot.admin.paging);
- ix_memberships_hub_status_volunteer: the volunteers list, applications first, pages by key;
- ix_orders_hub_flagged: the few orders waiting for review (the dashboard's count, the board's filter).

The tables that grow without bound (outbox, processed messages, sign-in attempts, the audit log) are cleaned by
jobs, not partitioned by month: the rows kept are chosen by status as well as age (an undelivered message stays
until staff have called; a row a kept hand-over message points at stays), which a dropped partition cannot do; a
partitioned table's primary and unique keys must include the partition key, which would change outbox's
idempotency key and every foreign key to these tables; and a delete batch on an index range costs the same at any
size (the EXPLAIN in benchmarks/RESULTS.md). Order events and service records are kept: the monthly ledger and an
order's page read them for as long as the order exists.

On a large PostgreSQL database, create these indexes beforehand with CREATE INDEX CONCURRENTLY under the same names
(`alembic upgrade` then finds them and skips them) so writers never wait for the build.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# storage.models.OUTBOX_FINISHED_SQL, verbatim (a migration does not import the models)
OUTBOX_FINISHED_SQL = "status IN ('sent', 'skipped', 'dead', 'told')"

# name, table, columns, partial index predicate (SQLite's, PostgreSQL's) or None
INDEXES: tuple[tuple[str, str, list[str], tuple[str, str] | None], ...] = (
    ('ix_outbox_finished_created', 'outbox', ['created_at'], (OUTBOX_FINISHED_SQL, OUTBOX_FINISHED_SQL)),
    ('ix_conversation_messages_outbox_id', 'conversation_messages', ['outbox_id'], None),
    ('ix_login_attempts_at', 'login_attempts', ['at'], None),
    ('ix_orders_hub_id', 'orders', ['hub_id', 'id'], None),
    ('ix_memberships_hub_status_volunteer', 'memberships', ['hub_id', 'status', 'volunteer_id'], None),
    ('ix_orders_hub_flagged', 'orders', ['hub_id'], ('flagged = 1', 'flagged')),
)


def upgrade() -> None:
    existing = {table: {ix['name'] for ix in sa.inspect(op.get_bind()).get_indexes(table)}
                for table in {table for _name, table, _cols, _where in INDEXES}}
    for name, table, columns, where in INDEXES:
        if name in existing[table]:  # built beforehand, CONCURRENTLY
            continue
        partial: dict[str, Any] = {} if where is None else {'sqlite_where': sa.text(where[0]),
                                                            'postgresql_where': sa.text(where[1])}
        op.create_index(name, table, columns, unique=False, **partial)


def downgrade() -> None:
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
