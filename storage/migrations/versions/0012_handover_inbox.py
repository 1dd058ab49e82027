"""The hand-over inbox and staff who link their WeChat

- handovers: a resident handed over to staff ("人工"), open until staff hand back (one open per resident);
- conversation_messages: both sides of a handed-over conversation and the last turns before it;
- processed_messages.text: what the person wrote, kept a day, for those last turns;
- staff_link_scenes: single-use, expiring QR scenes that link a WeChat user to a staff account;
- staff_accounts.wechat_user_id: the linked WeChat user.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('handovers',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('opened_at', AT, nullable=False),
    sa.Column('waiting_since', AT, nullable=True),
    sa.Column('first_answer_at', AT, nullable=True),
    sa.Column('last_message_at', AT, nullable=False),
    sa.Column('note_sent_at', AT, nullable=True),
    sa.Column('closed_at', AT, nullable=True),
    sa.Column('closed_by', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_handovers_hub_id_hubs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_handovers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index('ix_handovers_open_user', ['user_id'], unique=True,
                              sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_handovers_hub_closed_waiting', ['hub_id', 'closed_at', 'waiting_since'],
                              unique=False)
    op.create_table('conversation_messages',
    sa.Column('id', ID, nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('handover_id', ID, nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('staff_name', sa.String(length=100), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('outbox_id', ID, nullable=True),
    sa.Column('at', AT, nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_conversation_messages_hub_id_hubs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversation_messages_user_id_users')),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'],
                            name=op.f('fk_conversation_messages_handover_id_handovers')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_conversation_messages_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_messages'))
    )
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_messages_user_transcript', ['user_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_messages_handover_id'), ['handover_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_messages_at'), ['at'], unique=False)
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
    op.create_table('staff_link_scenes',
    sa.Column('id', ID, nullable=False),
    sa.Column('scene', sa.String(length=64), nullable=False),
    sa.Column('hub_id', ID, nullable=False),
    sa.Column('staff_account_id', ID, nullable=False),
    sa.Column('ticket', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', AT, nullable=False),
    sa.Column('expires_at', AT, nullable=False),
    sa.Column('used_at', AT, nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_staff_link_scenes_hub_id_hubs')),
    sa.ForeignKeyConstraint(['staff_account_id'], ['staff_accounts.id'],
                            name=op.f('fk_staff_link_scenes_staff_account_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_link_scenes')),
    sa.UniqueConstraint('scene', name=op.f('uq_staff_link_scenes_scene'))
    )
    with op.batch_alter_table('staff_link_scenes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_link_scenes_staff_account_id'), ['staff_account_id'], unique=False)
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wechat_user_id', ID, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_accounts_wechat_user_id_users'), 'users',
                                    ['wechat_user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_accounts_wechat_user_id_users'), type_='foreignkey')
        batch_op.drop_column('wechat_user_id')
    with op.batch_alter_table('staff_link_scenes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_link_scenes_staff_account_id'))
    op.drop_table('staff_link_scenes')
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.drop_column('text')
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_messages_at'))
        batch_op.drop_index(batch_op.f('ix_conversation_messages_handover_id'))
        batch_op.drop_index('ix_conversation_messages_user_transcript')
    op.drop_table('conversation_messages')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('ix_handovers_hub_closed_waiting')
        batch_op.drop_index('ix_handovers_open_user', sqlite_where=sa.text('closed_at IS NULL'),
                            postgresql_where=sa.text('closed_at IS NULL'))
    op.drop_table('handovers')
