"""order_refs: orders.ref, the 单号 people see and type (random digits, unique per hub: uq_orders_hub_ref), so a
volunteer cannot walk through the orders by typing sequential numbers (issue 18, finding 3). Existing orders are
given refs here, drawn as storage/orderrefs.py draws them (6 digits while a hub has fewer than 9,000 orders, a digit
more for each tenfold); dialogues waiting on an order (a rating, a cancel pick, hours or a give-back reason) have
the order's id in their slots replaced by its ref, since the chat now resolves numbers by ref.

SQLite adds a NOT NULL column only with a default (and rebuilding orders is impossible with its foreign keys on),
so the column is added with DEFAULT 0, filled, and the default dropped where the database can (PostgreSQL); every
insert sets ref itself (storage.models registers storage.orderrefs.assign_new).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

FIRST_WIDTH, LAST_WIDTH, CROWDED = 6, 9, 100  # as storage.orderrefs then
BATCH = 1000
# the dialogue states whose slots name an order, and the slots that do (bot.dialogue.ordering then)
WAITING_STATES = ('RATE', 'RATE_COMMENT', 'CANCEL_PICK', 'ASK_HOURS', 'ASK_GIVEBACK_REASON')

orders = sa.table('orders', sa.column('id', sa.BigInteger()), sa.column('hub_id', sa.BigInteger()),
                  sa.column('ref', sa.Integer()))
conversations = sa.table('conversations', sa.column('id', sa.BigInteger()), sa.column('hub_id', sa.BigInteger()),
                         sa.column('state', sa.String()), sa.column('slots', sa.JSON()))


def _refs(count: int) -> Iterator[int]:
    """`count` distinct refs, the first ones at the narrowest width, as a hub filling up would have drawn them."""
    drawn: set[int] = set()
    left, width = count, FIRST_WIDTH
    while left:
        low, high = 10 ** (width - 1), 10**width - 1
        here = left if width == LAST_WIDTH else min(left, (high - low + 1) // CROWDED)
        while len(drawn) < count - left + here:
            ref = low + secrets.randbelow(high - low + 1)
            if ref not in drawn:
                drawn.add(ref)
                yield ref
        left -= here
        width += 1


def _fill(bind: sa.Connection) -> dict[tuple[int, int], int]:
    """Give every order its ref; (hub, id) -> ref for the orders of the hubs that have any."""
    given: dict[tuple[int, int], int] = {}
    hubs = bind.execute(sa.select(orders.c.hub_id, sa.func.count()).group_by(orders.c.hub_id)).all()
    for hub_id, count in hubs:
        ids = bind.scalars(sa.select(orders.c.id).where(orders.c.hub_id == hub_id).order_by(orders.c.id)).all()
        pairs = list(zip(ids, _refs(count), strict=True))
        for start in range(0, len(pairs), BATCH):
            bind.execute(sa.update(orders).where(orders.c.id == sa.bindparam('oid')).values(ref=sa.bindparam('new')),
                         [{'oid': oid, 'new': ref} for oid, ref in pairs[start:start + BATCH]])
        given.update({(hub_id, oid): ref for oid, ref in pairs})
    return given


def _renumber(slots: dict[str, Any], hub_id: int, given: dict[tuple[int, int], int]) -> dict[str, Any]:
    def ref(value: Any) -> Any:
        return given.get((hub_id, value), value) if isinstance(value, int) and not isinstance(value, bool) else value

    changed = dict(slots)
    for key in ('rate_order', 'order'):
        if key in changed:
            changed[key] = ref(changed[key])
    if isinstance(changed.get('cancel_pick'), list):
        changed['cancel_pick'] = [ref(v) for v in changed['cancel_pick']]
    return changed


def _waiting_dialogues(bind: sa.Connection, given: dict[tuple[int, int], int]) -> None:
    rows = bind.execute(sa.select(conversations.c.id, conversations.c.hub_id, conversations.c.slots)
                        .where(conversations.c.state.in_(WAITING_STATES))).all()
    for cid, hub_id, slots in rows:
        slots = json.loads(slots) if isinstance(slots, str) else slots
        if isinstance(slots, dict):
            renumbered = _renumber(slots, hub_id, given)
            if renumbered != slots:
                bind.execute(sa.update(conversations).where(conversations.c.id == cid).values(slots=renumbered))


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.Integer(), nullable=False, server_default='0'))
    bind = op.get_bind()
    _waiting_dialogues(bind, _fill(bind))
    if bind.dialect.name != 'sqlite':
        op.alter_column('orders', 'ref', server_default=None)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('uq_orders_hub_ref', ['hub_id', 'ref'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('uq_orders_hub_ref')
        batch_op.drop_column('ref')
