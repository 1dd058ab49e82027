"""City scale: the indexes the service loop's hot paths need, so their cost does not grow with history.

- orders (volunteer_id, state, accepted_at): dispatch counts each candidate's open and recent tasks; 接单 checks
  the volunteer's open tasks; 我的任务.
- orders (ordered_by_user_id, state), (resident_user_id, state): 我的订单 reads a resident's open orders only.
- orders (hub_id, state, dispatched_at | completed_at | start_at | end_at): the every-minute sweep reads only the
  orders that are due (bot.serviceloop.orders.due_orders_query); start_at serves the appointment reminders too.
- conversations (hub_id, updated_at) WHERE the state is mid-dialogue: the dialogue sweep reads only idle dialogues
  that may time out (storage.models.DIALOGUE_WAITING_SQL), not every resident's conversation.
- orders (hub_id, created_at), service_records (hub_id, service_date), points_entries (hub_id, at): a hub's month
  (the monthly report, the ledger and its exports, honours) without reading the hub's whole history.

On PostgreSQL each index is built with a plain CREATE INDEX inside the migration's transaction (writes to the
table wait meanwhile: seconds for two million orders); build them by hand with CREATE INDEX CONCURRENTLY first
on a busy server, and this migration then finds them (IF NOT EXISTS).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

WAITING = "state NOT IN ('IDLE', 'HUMAN', 'RATE', 'RATE_COMMENT')"  # storage.models.DIALOGUE_WAITING_SQL, verbatim

ORDER_INDEXES: tuple[tuple[str, list[str]], ...] = (
    ('ix_orders_volunteer_state_accepted', ['volunteer_id', 'state', 'accepted_at']),
    ('ix_orders_orderer_state', ['ordered_by_user_id', 'state']),
    ('ix_orders_resident_state', ['resident_user_id', 'state']),
    ('ix_orders_hub_state_dispatched', ['hub_id', 'state', 'dispatched_at']),
    ('ix_orders_hub_state_completed', ['hub_id', 'state', 'completed_at']),
    ('ix_orders_hub_state_starts', ['hub_id', 'state', 'start_at']),
    ('ix_orders_hub_state_ends', ['hub_id', 'state', 'end_at']),
    ('ix_orders_hub_created', ['hub_id', 'created_at']),
)
MONTH_INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ('ix_service_records_hub_date', 'service_records', ['hub_id', 'service_date']),
    ('ix_points_hub_at', 'points_entries', ['hub_id', 'at']),
)


def upgrade() -> None:
    for name, columns in ORDER_INDEXES:
        op.create_index(name, 'orders', columns, unique=False, if_not_exists=True)
    for name, table, columns in MONTH_INDEXES:
        op.create_index(name, table, columns, unique=False, if_not_exists=True)
    op.create_index('ix_conversations_waiting', 'conversations', ['hub_id', 'updated_at'], unique=False,
                    sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING), if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_conversations_waiting', table_name='conversations', if_exists=True)
    for name, table, _columns in reversed(MONTH_INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
    for name, _columns in reversed(ORDER_INDEXES):
        op.drop_index(name, table_name='orders', if_exists=True)
