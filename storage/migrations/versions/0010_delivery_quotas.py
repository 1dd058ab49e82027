"""Delivery by the platform's rules: each person's customer-service quota, the hubs' category templates, 群发 counts

- processed_messages (hub_id, openid, received_at): the sender reads a person's messages and events of the last
  48 hours (what opened their customer-service quota);
- customer_service_quota: the customer-service messages sent to a person lately, shared by every worker;
- notice_templates: a hub's category template per kind of notice, with the fields each slot goes in;
- mass_send_counts: 群发 each follower received per calendar month (four allowed);
- wechat_media: the permanent cover image of 群发 articles, uploaded once per hub;
- broadcasts.channel, broadcasts.media_id: a broadcast goes as a 群发 (through a draft) or a message each.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.create_index('ix_processed_messages_hub_openid_at', ['hub_id', 'openid', 'received_at'],
                              unique=False)
    op.create_table('customer_service_quota',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('sent', sa.JSON(), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_customer_service_quota_hub_id_hubs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_service_quota')),
    sa.UniqueConstraint('hub_id', 'openid', name='uq_customer_service_quota_hub_openid')
    )
    op.create_table('notice_templates',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('notice', sa.String(length=32), nullable=False),
    sa.Column('template_id', sa.String(length=128), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_notice_templates_hub_id_hubs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_templates')),
    sa.UniqueConstraint('hub_id', 'notice', name='uq_notice_templates_hub_notice')
    )
    op.create_table('mass_send_counts',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_mass_send_counts_hub_id_hubs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mass_send_counts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mass_send_counts')),
    sa.UniqueConstraint('hub_id', 'user_id', 'month', name='uq_mass_send_counts_hub_user_month')
    )
    with op.batch_alter_table('mass_send_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mass_send_counts_user_id'), ['user_id'], unique=False)
    op.create_table('wechat_media',
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('media_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_wechat_media_hub_id_hubs')),
    sa.PrimaryKeyConstraint('hub_id', 'purpose', name=op.f('pk_wechat_media'))
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('media_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_column('media_id')
        batch_op.drop_column('channel')
    op.drop_table('wechat_media')
    with op.batch_alter_table('mass_send_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mass_send_counts_user_id'))
    op.drop_table('mass_send_counts')
    op.drop_table('notice_templates')
    op.drop_table('customer_service_quota')
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_messages_hub_openid_at')
