"""hub_examples: example requests per hub and service that teach the semantic matcher (most from staff correcting
an order's service in the console), kept after an undo with who removed them; hub_example_versions: one number per
hub, one more on every change, read with each message so a worker rebuilds a hub's matcher only when it moved

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('hub_examples',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('hub_id', BIG_ID, nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('order_id', BIG_ID, nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_by', sa.String(length=128), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_hub_examples_hub_id_hubs')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_hub_examples_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hub_examples'))
    )
    with op.batch_alter_table('hub_examples', schema=None) as batch_op:
        batch_op.create_index('ix_hub_examples_hub_removed', ['hub_id', 'removed_at'], unique=False)
    op.create_table('hub_example_versions',
    sa.Column('hub_id', BIG_ID, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_hub_example_versions_hub_id_hubs')),
    sa.PrimaryKeyConstraint('hub_id', name=op.f('pk_hub_example_versions'))
    )


def downgrade() -> None:
    op.drop_table('hub_example_versions')
    with op.batch_alter_table('hub_examples', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_examples_hub_removed')
    op.drop_table('hub_examples')
