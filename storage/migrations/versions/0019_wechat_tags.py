"""wechat_tags: the WeChat user tag the bot keeps per 群发 segment of a hub (a team, a community, every follower who
has not opted out), with WeChat's tag id once created and its last use (issue 16)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('wechat_tags',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('hub_id', BIG_ID, nullable=False),
    sa.Column('segment', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_wechat_tags_hub_id_hubs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_tags')),
    sa.UniqueConstraint('hub_id', 'segment', name='uq_wechat_tags_hub_segment')
    )


def downgrade() -> None:
    op.drop_table('wechat_tags')
