"""sealed_copies: dialogue slots, outbox payloads, processed-message texts and replies, transcripts encrypted (issue 18)

0017 sealed the phones and addresses of users, volunteers and orders; copies of that text stayed readable: a
dialogue's slots (the address and phone it is collecting), the outbox payloads (a volunteer's order message may
name the resident's phone and address), processed_messages' incoming text and stored reply, and the hand-over
transcripts (conversation_messages.text). They are Fernet-encrypted here with the same key (storage.sealed:
SealedJSON for the JSON columns, Sealed for the text), BATCH rows per statement; the downgrade decrypts them.

The key comes as for 0017: `leifeng db upgrade` passes LEIFENG_SECRET_KEY (storage.db.upgrade(url,
secret_key=...)). Without one, a database whose copies are all empty (a new install, a test's schema) moves, and
one that holds any refuses: nothing is left half sealed.

PostgreSQL: conversations.slots and outbox.payload become TEXT (a token, not JSON). SQLite enforces no JSON, so its
columns keep their declared types.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db import SECRET_KEY_ATTRIBUTE
from storage.sealed import ContactSealer, SealedColumns, reseal

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BATCH = 500
# the columns this revision seals (storage.sealed.SEALED_COLUMNS may grow later)
SEALED = (
    SealedColumns('conversations', ('slots',)),
    SealedColumns('outbox', ('payload',)),
    SealedColumns('processed_messages', ('text', 'reply')),
    SealedColumns('conversation_messages', ('text',)),
)
JSON_COLUMNS = (('conversations', 'slots'), ('outbox', 'payload'))


def _holds_copies(bind: sa.Connection) -> bool:
    for spec in SEALED:
        t = sa.table(spec.table, *(sa.column(name) for name in spec.columns))
        if bind.execute(sa.select(sa.literal(1)).select_from(t)
                        .where(sa.or_(*(t.c[name].is_not(None) for name in spec.columns))).limit(1)).first():
            return True
    return False


def _sealer(bind: sa.Connection) -> ContactSealer | None:
    """The key's sealer; None when no column to seal holds a value (nothing to encrypt or decrypt)."""
    config = op.get_context().config
    key = config.attributes.get(SECRET_KEY_ATTRIBUTE) if config is not None else None
    if key:
        return ContactSealer(key)
    if _holds_copies(bind):
        raise RuntimeError('migration 0022 encrypts (its downgrade decrypts) the stored dialogues, outbox messages '
                           'and message texts with LEIFENG_SECRET_KEY: run it with `leifeng db upgrade`, or '
                           'storage.db.upgrade(url, secret_key=...)')
    return None


def upgrade() -> None:
    bind = op.get_bind()
    sealer = _sealer(bind)  # before any change: refusing leaves the schema as it was
    if bind.dialect.name == 'postgresql':
        for table, name in JSON_COLUMNS:
            op.alter_column(table, name, type_=sa.Text(), existing_type=sa.JSON(), existing_nullable=False,
                            postgresql_using=f'{name}::text')
    if sealer is None:
        return
    for spec in SEALED:  # a value that already opens (a second run after a failure) is kept
        reseal(bind, spec, lambda plain: plain, sealer.seal, None, current=sealer.try_open, batch=BATCH)


def downgrade() -> None:
    bind = op.get_bind()
    sealer = _sealer(bind)
    if sealer is not None:
        for spec in SEALED:
            reseal(bind, spec, sealer.try_open, lambda plain: plain, None, batch=BATCH)
    if bind.dialect.name == 'postgresql':
        for table, name in JSON_COLUMNS:
            op.alter_column(table, name, type_=sa.JSON(), existing_type=sa.Text(), existing_nullable=False,
                            postgresql_using=f'{name}::json')
