"""订阅通知 opt-ins and templates, and the kind of official account a hub runs on

- notice_optins: a person's accepted / refused 订阅通知 templates (one notice per one-time acceptance);
- subscribe_templates: a hub's 订阅通知 template per kind of notice, with the fields each slot goes in;
- wechat_accounts: 认证服务号 (service) or 公众号/订阅号 (subscription), per hub.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('notice_optins',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('template_id', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('left', sa.Integer(), nullable=False),
    sa.Column('event_time', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_notice_optins_hub_id_hubs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_optins')),
    sa.UniqueConstraint('hub_id', 'openid', 'template_id', name='uq_notice_optins_hub_openid_template')
    )
    op.create_table('subscribe_templates',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('notice', sa.String(length=32), nullable=False),
    sa.Column('template_id', sa.String(length=128), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('long_term', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_subscribe_templates_hub_id_hubs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribe_templates')),
    sa.UniqueConstraint('hub_id', 'notice', name='uq_subscribe_templates_hub_notice')
    )
    op.create_table('wechat_accounts',
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_wechat_accounts_hub_id_hubs')),
    sa.PrimaryKeyConstraint('hub_id', name=op.f('pk_wechat_accounts'))
    )


def downgrade() -> None:
    op.drop_table('wechat_accounts')
    op.drop_table('subscribe_templates')
    op.drop_table('notice_optins')
