"""dispatch_queue: the worker dispatches new and handed-back orders (issue 19): a partial index of them

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

WAITING = "state = 'submitted'"  # storage.models.DISPATCH_WAITING_SQL when this was written


def upgrade() -> None:
    op.create_index('ix_orders_waiting_dispatch', 'orders', ['id'], unique=False,
                    sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING), if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_orders_waiting_dispatch', table_name='orders', if_exists=True)
