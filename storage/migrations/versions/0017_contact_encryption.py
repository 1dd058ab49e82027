"""contact_encryption: residents' and volunteers' phones and addresses encrypted at rest (issue 18, finding 11).

users.phone, volunteers.phone, volunteers.guardian (a minor's guardian: name and phone), orders.phone and
orders.address are Fernet-encrypted with a key derived from LEIFENG_SECRET_KEY (storage.sealed, like the ID
numbers); users, volunteers and orders get phone_hash, the keyed lookup hash (HMAC-SHA256 of the phone's digits)
that phone searches compare, with an index each. Existing rows are encrypted and hashed here, BATCH rows per
statement; the downgrade decrypts them. Both need the key: `leifeng db upgrade` passes LEIFENG_SECRET_KEY
(storage.db.upgrade(url, secret_key=...)); without one, a database that holds phones or addresses refuses to move.

PostgreSQL: the phone columns become TEXT (a token is ~100 characters) and guardian TEXT (it holds a token, not
JSON). SQLite enforces neither length nor JSON, so its columns keep their declared types; its hash columns are
dropped with its own DROP COLUMN (orders cannot be rebuilt with its foreign keys on).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db import SECRET_KEY_ATTRIBUTE
from storage.sealed import ContactSealer, SealedColumns, reseal

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 500
# the sealed columns as of this revision (storage.sealed.SEALED_COLUMNS may grow later)
SEALED = (
    SealedColumns('users', ('phone',), phone='phone', phone_hash='phone_hash'),
    SealedColumns('volunteers', ('phone', 'guardian'), phone='phone', phone_hash='phone_hash'),
    SealedColumns('orders', ('phone', 'address'), phone='phone', phone_hash='phone_hash'),
)
INDEXES = (('users', 'ix_users_hub_phone_hash', ['hub_id', 'phone_hash']),
           ('volunteers', 'ix_volunteers_phone_hash', ['phone_hash']),
           ('orders', 'ix_orders_hub_phone_hash', ['hub_id', 'phone_hash']))


def _holds_contacts(bind: sa.Connection) -> bool:
    for spec in SEALED:
        t = sa.table(spec.table, *(sa.column(name) for name in spec.columns))
        if bind.execute(sa.select(sa.literal(1)).select_from(t)
                        .where(sa.or_(*(t.c[name].is_not(None) for name in spec.columns))).limit(1)).first():
            return True
    return False


def _sealer(bind: sa.Connection) -> ContactSealer | None:
    """The key's sealer; None when the database holds no phone or address (nothing to encrypt or decrypt)."""
    config = op.get_context().config
    key = config.attributes.get(SECRET_KEY_ATTRIBUTE) if config is not None else None
    if key:
        return ContactSealer(key)
    if _holds_contacts(bind):
        raise RuntimeError('migration 0017 encrypts (its downgrade decrypts) stored phones and addresses with '
                           'LEIFENG_SECRET_KEY: run it with `leifeng db upgrade`, or storage.db.upgrade(url, '
                           'secret_key=...)')
    return None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    for spec in SEALED:
        with op.batch_alter_table(spec.table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if postgres:
        for table in ('users', 'volunteers', 'orders'):
            op.alter_column(table, 'phone', type_=sa.Text(), existing_type=sa.String(length=32))
        op.alter_column('volunteers', 'guardian', type_=sa.Text(), existing_type=sa.JSON(),
                        postgresql_using='guardian::text')
    # a guardian written as JSON null is no guardian (SealedJSON writes None as NULL)
    op.execute("UPDATE volunteers SET guardian = NULL WHERE guardian = 'null'")
    sealer = _sealer(bind)
    if sealer is None:
        return
    for spec in SEALED:  # a value that already opens (a second run after a failure) is kept, its hash computed
        reseal(bind, spec, lambda plain: plain, sealer.seal, sealer.phone_hash, current=sealer.try_open,
               batch=BATCH)


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    sealer = _sealer(bind)
    if sealer is not None:
        for spec in SEALED:
            reseal(bind, spec, sealer.try_open, lambda plain: plain, None, batch=BATCH)
    for table, name, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    for spec in SEALED:
        if postgres:
            op.drop_column(spec.table, 'phone_hash')
        else:
            op.execute(f'ALTER TABLE {spec.table} DROP COLUMN phone_hash')
    if postgres:
        for table in ('users', 'volunteers', 'orders'):
            op.alter_column(table, 'phone', type_=sa.String(length=32), existing_type=sa.Text())
        op.alter_column('volunteers', 'guardian', type_=sa.JSON(), existing_type=sa.Text(),
                        postgresql_using='guardian::json')
