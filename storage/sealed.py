"""Personal data at rest: the one home of the project's encryption and lookup hashes.

Every key is derived (HKDF-SHA256) from LEIFENG_SECRET_KEY, one key per job, so knowing a lookup-hash key does not
help decrypt and vice versa: ID numbers (bot.people.idprotect), and here phones and addresses. A phone or address
column is `Sealed`: Fernet-encrypted when written, decrypted when read, transparently for the ORM and Core, with
the key of the engine it goes through (seal_engine, called by bot.services.build_services from the configuration).
A sealed column cannot be compared in SQL (the ciphertext differs every time): a comparison raises at once, and
the phone lookups go through `phone_lookup`, which compares the keyed hash (HMAC-SHA256 of the phone's digits) kept
next to each searched phone column, filled on every ORM insert and update (hash_phone_of).

The copies of that personal text are sealed the same way (migration 0022): a dialogue's slots (the address and
phone it is collecting), the outbox payloads (a volunteer's order message may name the resident's phone and
address), the dedupe table's incoming text and stored reply (processed_messages) and the hand-over transcripts
(conversation_messages). None of them is ever searched in SQL: they are read by row and filtered in Python.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakKeyDictionary

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine, Text, bindparam, column, event, false, inspect, select, table, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import TypeDecorator

from intents.phone import parse_phone
from storage.errors import SealedDataError

# -- keys ---------------------------------------------------------------------------------------------------------

SALT = b"leifeng-id-protection"  # the ID numbers' salt since migration 0002; every derived key shares it
CONTACT_ENCRYPT_INFO = b"leifeng/contact/encrypt/v1"
PHONE_HASH_INFO = b"leifeng/phone/hash/v1"


def derive_key(secret: str, info: bytes) -> bytes:
    """A 32-byte key for one job (`info`) from the secret key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=info).derive(secret.encode("utf-8"))


def fernet_for(secret: str, info: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret, info)))


def phone_digits(phone: str) -> str:
    """What makes two spellings of a phone the same: its digits (a mainland number as parse_phone reads it)."""
    return parse_phone(phone) or re.sub(r"\D", "", phone)


class ContactSealer:
    """Encrypt and decrypt phones and addresses, and hash phones, with keys derived from LEIFENG_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise SealedDataError("LEIFENG_SECRET_KEY is empty: phones and addresses cannot be protected")
        self._fernet = fernet_for(secret_key, CONTACT_ENCRYPT_INFO)
        self._hash_key = derive_key(secret_key, PHONE_HASH_INFO)

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        text = self.try_open(token)
        if text is None:
            raise SealedDataError("a stored phone or address does not open with LEIFENG_SECRET_KEY (a different key "
                                  "encrypted it, or it was never encrypted): see `leifeng secrets rotate`")
        return text

    def try_open(self, token: str) -> str | None:
        """The text, or None when `token` was not sealed with this key (or is no token at all)."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            return None

    def phone_hash(self, phone: str | None) -> str | None:
        """The same phone, however spelled, gives the same 64 hex characters; None for no phone (or no digits)."""
        digits = phone_digits(phone) if phone else ""
        return hmac.new(self._hash_key, digits.encode("ascii"), hashlib.sha256).hexdigest() if digits else None


# -- which key an engine uses -------------------------------------------------------------------------------------

_SEALERS: WeakKeyDictionary[Dialect, ContactSealer] = WeakKeyDictionary()


def seal_engine(engine: Engine, secret_key: str) -> ContactSealer:
    """Phones and addresses going through `engine` are sealed with keys derived from `secret_key`."""
    sealer = _SEALERS[engine.dialect] = ContactSealer(secret_key)
    return sealer


def sealer_of(bind: Session | Connection | Engine | Dialect) -> ContactSealer:
    dialect = bind if isinstance(bind, Dialect) else (bind.get_bind() if isinstance(bind, Session) else bind).dialect
    sealer = _SEALERS.get(dialect)
    if sealer is None:
        raise SealedDataError("this database engine has no key for phones and addresses: build it with "
                              "bot.services.build_services (or storage.sealed.seal_engine)")
    return sealer


# -- the column types ---------------------------------------------------------------------------------------------


class _NoComparison(TypeDecorator.Comparator[Any]):
    """Only IS NULL / IS NOT NULL: any other SQL comparison of ciphertext is silently wrong, so it raises."""

    __slots__ = ()

    def operate(self, op: OperatorType, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
        if op in (operators.is_, operators.is_not) or (op in (operators.eq, operators.ne) and len(other) == 1
                                                       and other[0] is None):
            return super().operate(op, *other, **kwargs)
        raise SealedDataError(f"{self.expr} is encrypted and cannot be compared or sorted in SQL: look a phone up "
                              "with storage.sealed.phone_lookup, filter anything else after reading")

    def reverse_operate(self, op: OperatorType, other: Any, **kwargs: Any) -> ColumnElement[Any]:
        raise SealedDataError(f"{self.expr} is encrypted and cannot be compared in SQL")


class Sealed(TypeDecorator[str]):
    """A phone, an address, or a text that may hold them (a message, a reply): Fernet-encrypted text in the
    database, the plain text in Python."""

    impl = Text
    cache_ok = True
    comparator_factory = _NoComparison

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else sealer_of(dialect).seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        # '' is no token and nothing secret: what COALESCE(column, '') gives for NULL (bot.inbox.handler's "done")
        return value if not value else sealer_of(dialect).open(value)


class SealedJSON(TypeDecorator[Any]):
    """A JSON value that holds personal text (a minor volunteer's guardian, a dialogue's slots, an outbox payload),
    sealed as a whole: its keys cannot be read or compared in SQL."""

    impl = Text
    cache_ok = True
    comparator_factory = _NoComparison

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else sealer_of(dialect).seal(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(sealer_of(dialect).open(value))


# -- lookup hashes ------------------------------------------------------------------------------------------------


def hash_phone_of(model: type[Any], phone: str = "phone", phone_hash: str = "phone_hash") -> None:
    """Keep `model.phone_hash` the lookup hash of `model.phone` on every ORM insert and update (the key of the
    connection flushing it). Core statements that write a phone must set the hash themselves."""

    def rehash(conn: Connection, target: Any) -> None:
        value = getattr(target, phone)
        setattr(target, phone_hash, sealer_of(conn).phone_hash(value) if value else None)

    def on_insert(_mapper: Mapper[Any], conn: Connection, target: Any) -> None:
        rehash(conn, target)

    def on_update(_mapper: Mapper[Any], conn: Connection, target: Any) -> None:
        if inspect(target).attrs[phone].history.has_changes():
            rehash(conn, target)

    event.listen(model, "before_insert", on_insert)
    event.listen(model, "before_update", on_update)


def phone_lookup(s: Session | Connection, hash_column: Any, phone: str | None) -> ColumnElement[bool]:
    """The WHERE clause "this row's phone is `phone`" (any spelling of the same digits), for a column kept by
    hash_phone_of: `select(User).where(User.hub_id == hub, phone_lookup(s, User.phone_hash, phone))`. A text
    without digits matches nothing."""
    digest = sealer_of(s).phone_hash(phone)
    return cast(ColumnElement[bool], hash_column == digest) if digest is not None else false()


# -- moving every sealed value (a migration, a new key) ----------------------------------------------------------


@dataclass(frozen=True)
class SealedColumns:
    """One table's sealed columns, and the phone column among them whose lookup hash sits in `phone_hash`."""

    table: str
    columns: tuple[str, ...]
    phone: str | None = None
    phone_hash: str | None = None


# Every sealed column of the current schema (storage.models): the rotation moves these.
SEALED_COLUMNS: tuple[SealedColumns, ...] = (
    SealedColumns("users", ("phone",), phone="phone", phone_hash="phone_hash"),
    SealedColumns("volunteers", ("phone", "guardian"), phone="phone", phone_hash="phone_hash"),
    SealedColumns("orders", ("phone", "address"), phone="phone", phone_hash="phone_hash"),
    # the copies (migration 0022)
    SealedColumns("conversations", ("slots",)),
    SealedColumns("outbox", ("payload",)),
    SealedColumns("processed_messages", ("text", "reply")),
    SealedColumns("conversation_messages", ("text",)),
)


@dataclass(frozen=True)
class Resealed:
    moved: int  # values written anew under the new key (or, decrypting, in plain text)
    current: int  # values already under the new key, kept


Opener = Callable[[str], str | None]  # the plain text of a stored value, or None when it does not open


def reseal(conn: Connection, spec: SealedColumns, opener: Opener, new: Callable[[str], str],
           new_hash: Callable[[str | None], str | None] | None, *, current: Opener | None = None,
           batch: int = 500, lock: bool = False) -> Resealed:
    """Rewrite every non-null value of `spec`'s columns in the caller's transaction, `batch` rows per statement,
    lowest ids first: a value `current` opens stays; any other is opened by `opener` (None: SealedDataError, the
    caller rolls back) and written as `new` makes it (encrypted under the new key, or plain to decrypt). The
    phone's lookup hash becomes `new_hash` of the plain phone (no `new_hash`: left alone). `lock`: the rows are
    locked (PostgreSQL) so no writer races the move. Only rows that change are written."""
    hashed = spec.phone_hash is not None and new_hash is not None
    names = spec.columns + ((cast(str, spec.phone_hash),) if hashed else ())
    t = table(spec.table, column("id"), *(column(name, Text) for name in names))
    write = update(t).where(t.c.id == bindparam("b_id")).values({name: bindparam(f"b_{name}") for name in names})
    moved = kept = last = 0
    while True:
        q = select(t.c.id, *(t.c[name] for name in names)).where(t.c.id > last).order_by(t.c.id).limit(batch)
        rows = conn.execute(q.with_for_update() if lock and conn.dialect.name == "postgresql" else q).all()
        if not rows:
            return Resealed(moved, kept)
        changes = []
        for row_id, *stored in rows:
            before = dict(zip(names, stored, strict=True))
            after = dict(before)
            plain_phone = None
            for name in spec.columns:
                value = before[name]
                if value is None:
                    continue
                plain = current(value) if current is not None else None
                if plain is None:
                    plain = opener(value)
                    if plain is None:
                        raise SealedDataError(f"{spec.table} {row_id}'s {name} opens with neither the old key nor "
                                              "LEIFENG_SECRET_KEY; nothing was changed")
                    after[name] = new(plain)
                    moved += 1
                else:
                    kept += 1
                if name == spec.phone:
                    plain_phone = plain
            if hashed and new_hash is not None:
                after[cast(str, spec.phone_hash)] = new_hash(plain_phone)
            if after != before:
                changes.append({"b_id": row_id, **{f"b_{name}": value for name, value in after.items()}})
        if changes:
            conn.execute(write, changes)
        last = rows[-1][0]


def rotate_contacts(conn: Connection, old: ContactSealer, new: ContactSealer,
                    specs: Sequence[SealedColumns] = SEALED_COLUMNS) -> Resealed:
    """Move every sealed phone, address and guardian from the `old` key to the `new` one and recompute the phones'
    lookup hashes, in the caller's transaction, rows locked (a value under neither key raises SealedDataError)."""
    moved = current = 0
    for spec in specs:
        done = reseal(conn, spec, old.try_open, new.seal, new.phone_hash, current=new.try_open, lock=True)
        moved, current = moved + done.moved, current + done.current
    return Resealed(moved, current)
