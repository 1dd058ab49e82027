"""merchant_qr: a merchant's "shows a QR" switch (issue 17)

- merchants.shows_qr: the counter shows the merchant's redemption QR code, so a volunteer may redeem by scanning
  it (self-service: the points go at once, the counter person is told); off, the merchant takes only the
  volunteer's code, entered by its counter person. On for the merchants there are: until now every merchant that
  accepted redemptions took scans too.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shows_qr', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('shows_qr')
