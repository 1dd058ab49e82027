"""conversations.version: an optimistic-lock counter, so the webhook can run the dialogue step outside
the write transaction and still never overwrite a change made meanwhile by another message or the sweep;
ix_users_staff: a partial index of staff users (staff are notified on every 人工 and order event)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


STAFF_ROLE_SQL = """CAST(roles AS TEXT) LIKE '%"staff"%'"""  # as storage.models.STAFF_ROLE_SQL then


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_users_staff', 'users', ['hub_id', 'id'], unique=False,
                    sqlite_where=sa.text(STAFF_ROLE_SQL), postgresql_where=sa.text(STAFF_ROLE_SQL))


def downgrade() -> None:
    op.drop_index('ix_users_staff', table_name='users')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('version')
