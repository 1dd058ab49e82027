"""ID numbers at rest: encrypted (Fernet) and a keyed hash (HMAC-SHA256), both keys derived from the secret key
(storage.sealed, the one home of the keys, which seals phones and addresses too); and moving both to a new key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import ConfigError
from storage.conversations import Edit, change_conversation
from storage.errors import SealedDataError
from storage.models import Conversation, Volunteer
from storage.sealed import ContactSealer, derive_key, fernet_for, rotate_contacts

# Separate keys for separate jobs: knowing the lookup hash key must not help decrypt, and vice versa.
_ENCRYPT_INFO = b"leifeng/id-number/encrypt/v1"
_HASH_INFO = b"leifeng/id-number/hash/v1"


class IdProtector:
    """Encrypt, decrypt and hash ID numbers with keys derived from LEIFENG_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ConfigError("LEIFENG_SECRET_KEY is empty: ID numbers cannot be protected")
        self._fernet = fernet_for(secret_key, _ENCRYPT_INFO)
        self._hash_key = derive_key(secret_key, _HASH_INFO)

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(number.encode("ascii")).decode("ascii")

    def decrypt(self, token: str) -> str:
        number = self.try_decrypt(token)
        if number is None:
            raise ConfigError("cannot decrypt an ID number: LEIFENG_SECRET_KEY differs from the one used")
        return number

    def try_decrypt(self, token: str) -> str | None:
        """The number, or None when `token` was not encrypted with this key (or is not a token at all)."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            return None

    def lookup_hash(self, number: str) -> str:
        """The same person gives the same hash (64 hex chars), without the number being recoverable."""
        return hmac.new(self._hash_key, number.encode("ascii"), hashlib.sha256).hexdigest()


# -- a new secret key -------------------------------------------------------------------------------


class KeyRotationError(ConfigError):
    """A stored ID number opens with neither the old key nor the new one: the rotation changes nothing."""


@dataclass(frozen=True)
class Rotation:
    moved: int  # ID numbers re-encrypted from the old key to the new one (their lookup hashes recomputed)
    current: int  # already under the new key: a second run, or written by a process that had the new key
    registrations: int  # registrations in progress whose sealed ID number was moved too


def rotate_id_numbers(s: Session, old: IdProtector, new: IdProtector, now: datetime) -> Rotation:
    """Move every stored ID number from the `old` key to the `new` one, in the caller's transaction.

    Each value is tried with the new key first, so a second run (or one after processes with either key wrote
    rows) moves only what is still under the old key. A value that opens with neither raises KeyRotationError;
    the caller rolls the whole transaction back. Rows are locked (PostgreSQL) so no registration races the move."""
    moved = current = 0
    for vol in s.scalars(select(Volunteer).where(Volunteer.id_number_enc.is_not(None))
                         .order_by(Volunteer.id).with_for_update()).all():
        assert vol.id_number_enc is not None
        if new.try_decrypt(vol.id_number_enc) is not None:
            current += 1
            continue
        number = old.try_decrypt(vol.id_number_enc)
        if number is None:
            raise KeyRotationError(f"volunteer {vol.id}'s ID number opens with neither the old key nor "
                                   "LEIFENG_SECRET_KEY; nothing was changed")
        vol.id_number_enc, vol.id_number_hash = new.encrypt(number), new.lookup_hash(number)
        moved += 1
    s.flush()
    registrations = 0
    for hub_id, user_id, slots in s.execute(select(Conversation.hub_id, Conversation.user_id, Conversation.slots)
                                            .where(Conversation.state.like("REG\\_%", escape="\\"))
                                            .order_by(Conversation.id)).all():
        if _sealed(slots) is not None and change_conversation(s, hub_id=hub_id, user_id=user_id, now=now,
                                                              edit=_resealer(old, new, user_id), create=False):
            registrations += 1
    return Rotation(moved=moved, current=current, registrations=registrations)


@dataclass(frozen=True)
class SecretKeyRotation:
    ids: Rotation  # the ID numbers and registrations in progress
    contacts: int  # phones, addresses and guardians re-encrypted (their phones' lookup hashes recomputed)
    contacts_current: int  # ... already under the new key


def rotate_secret_key(s: Session, old_key: str, new_key: str, now: datetime) -> SecretKeyRotation:
    """Move everything encrypted with LEIFENG_SECRET_KEY from `old_key` to `new_key` in the caller's transaction:
    phones, addresses and guardians (storage.sealed, with their lookup hashes) first, so the volunteers the ID
    numbers' move loads open with the new key, then the ID numbers. A value under neither key raises
    KeyRotationError; the caller rolls everything back."""
    try:
        contacts = rotate_contacts(s.connection(), ContactSealer(old_key), ContactSealer(new_key))
    except SealedDataError as exc:
        raise KeyRotationError(str(exc)) from exc
    return SecretKeyRotation(rotate_id_numbers(s, IdProtector(old_key), IdProtector(new_key), now),
                             contacts.moved, contacts.current)


def _resealer(old: IdProtector, new: IdProtector, user_id: int) -> Edit:
    """The conversation edit that moves a registration's sealed ID number (and its hash) to the new key."""

    def reseal(state: str, slots: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        token = _sealed(slots)
        if token is None or new.try_decrypt(token) is not None:
            return None
        number = old.try_decrypt(token)
        if number is None:
            raise KeyRotationError(f"user {user_id}'s registration holds an ID number that opens with neither key; "
                                   "nothing was changed")
        return state, {**slots, "id_enc": new.encrypt(number), "id_hash": new.lookup_hash(number)}

    return reseal


def _sealed(slots: Mapping[str, Any] | None) -> str | None:
    token = (slots or {}).get("id_enc")
    return token if isinstance(token, str) and token != "pending" else None
