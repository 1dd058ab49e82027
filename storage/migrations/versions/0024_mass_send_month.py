"""mass_send_month: a hub's 群发 counts of one month by an index of their own (issue 19)

- ix_mass_send_counts_hub_month: before a 群发 the console shows how many of this month's four each follower has
  left (bot.community.broadcasts.mass_left). Read as one statement, the month's rows of the hub, instead of the
  audience in chunks of 1,000 ids (11 statements for a 10,000-person hub at city scale); the unique key (hub, user,
  month) would read every month the hub has had, so the month's rows come by this index, a range that does not grow
  with the months behind it.

On a large PostgreSQL database, create it beforehand with CREATE INDEX CONCURRENTLY under the same name
(`alembic upgrade` then finds it and skips it).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 11:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

NAME, TABLE, COLUMNS = 'ix_mass_send_counts_hub_month', 'mass_send_counts', ['hub_id', 'month']


def upgrade() -> None:
    if NAME not in {ix['name'] for ix in sa.inspect(op.get_bind()).get_indexes(TABLE)}:
        op.create_index(NAME, TABLE, COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name=TABLE)
