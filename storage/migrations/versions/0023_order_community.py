"""order_community: an order's community in plaintext (a coarse place), urgent orders dispatched first (issue 19)

orders.community is the address's 小区 (intents.address.community_of: an estate or street name, never a door),
indexed with hub_id, so a community's 群发 finds its residents in SQL: the address is encrypted at rest (migration
0017) and cannot be matched there. users gets an index on (hub_id, subscribe_scene) for the residents who followed
through a community's QR code. Existing orders are filled here, BATCH rows per statement, by decrypting their
address the way migration 0017 reads it: with LEIFENG_SECRET_KEY (`leifeng db upgrade` passes it); without one, a
database whose orders hold addresses refuses to move, as 0017 does, and one whose orders hold none has nothing to
fill. The downgrade drops the column and the indexes (nothing to decrypt).

orders.urgent is time_kind = 'asap' (尽快: the console's 急), filled here in one statement, and the dispatch queue's
partial index (0021, on id) becomes ix_orders_dispatch_queue on (urgent DESC, id), the order the worker claims in
(bot.serviceloop.orders.claim_waiting): urgent first, then oldest first.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from intents.address import community_of
from storage.db import SECRET_KEY_ATTRIBUTE
from storage.errors import SealedDataError
from storage.sealed import ContactSealer

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

BATCH = 500
WAITING = "state = 'submitted'"  # storage.models.DISPATCH_WAITING_SQL when this was written
ORDERS = sa.table('orders', sa.column('id', sa.BigInteger()), sa.column('address', sa.Text()),
                  sa.column('community', sa.String(64)))


def _sealer(bind: sa.Connection) -> ContactSealer | None:
    """The key's sealer (migration 0017's rule); None when no order holds an address (nothing to fill)."""
    config = op.get_context().config
    key = config.attributes.get(SECRET_KEY_ATTRIBUTE) if config is not None else None
    if key:
        return ContactSealer(key)
    if bind.execute(sa.select(sa.literal(1)).select_from(ORDERS).where(ORDERS.c.address.is_not(None))
                    .limit(1)).first():
        raise RuntimeError('migration 0023 reads the stored (encrypted) order addresses to fill orders.community, '
                           'with LEIFENG_SECRET_KEY: run it with `leifeng db upgrade`, or storage.db.upgrade(url, '
                           'secret_key=...)')
    return None


def _fill(bind: sa.Connection, sealer: ContactSealer) -> None:
    write = sa.update(ORDERS).where(ORDERS.c.id == sa.bindparam('b_id')).values(community=sa.bindparam('b_community'))
    last = 0
    while True:
        rows = bind.execute(sa.select(ORDERS.c.id, ORDERS.c.address)
                            .where(ORDERS.c.id > last, ORDERS.c.address.is_not(None))
                            .order_by(ORDERS.c.id).limit(BATCH)).all()
        if not rows:
            return
        changes = []
        for row_id, token in rows:
            address = sealer.try_open(token)
            if address is None:
                raise SealedDataError(f'orders {row_id}: its address does not open with LEIFENG_SECRET_KEY; '
                                      'nothing was changed')
            community = community_of(address)
            if community is not None:
                changes.append({'b_id': row_id, 'b_community': community})
        if changes:
            bind.execute(write, changes)
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('community', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE orders SET urgent = (time_kind = 'asap')")
    op.create_index('ix_orders_hub_community', 'orders', ['hub_id', 'community'], unique=False)
    op.create_index('ix_users_hub_scene', 'users', ['hub_id', 'subscribe_scene'], unique=False)
    op.drop_index('ix_orders_waiting_dispatch', table_name='orders', if_exists=True)
    op.create_index('ix_orders_dispatch_queue', 'orders', [sa.desc(sa.column('urgent')), 'id'], unique=False,
                    sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING))
    sealer = _sealer(bind)
    if sealer is not None:
        _fill(bind, sealer)


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index('ix_orders_dispatch_queue', table_name='orders')
    op.create_index('ix_orders_waiting_dispatch', 'orders', ['id'], unique=False,
                    sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING))
    op.drop_index('ix_users_hub_scene', table_name='users')
    op.drop_index('ix_orders_hub_community', table_name='orders')
    for name in ('community', 'urgent'):
        if bind.dialect.name == 'postgresql':
            op.drop_column('orders', name)
        else:  # SQLite's own DROP COLUMN: orders cannot be rebuilt with its foreign keys on (as in 0017)
            op.execute(f'ALTER TABLE orders DROP COLUMN {name}')
