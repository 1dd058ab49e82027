"""incident_sub: what kind of emergency an incident is, as the staff alert named it (issue 14)

- incidents.sub: the dialogue's sub-kind (bot.dialogue.safety: fraud, choking, burn, wound, bite, oxygen, drowning,
  lift, household), so the console's 紧急事件 names an incident as the staff alert did ("电信诈骗/被骗钱财",
  "急症（出血）") instead of its kind's words ("治安/人身危险"; outside tester out10). Nullable: older incidents and
  those with no sub-kind keep their kind's words.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('incidents', sa.Column('sub', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('sub')
