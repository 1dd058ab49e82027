"""ID numbers at rest: encrypted (Fernet) and a keyed hash (HMAC-SHA256), both keys derived from the secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import ConfigError

# Separate keys for separate jobs: knowing the lookup hash key must not help decrypt, and vice versa.
_ENCRYPT_INFO = b"leifeng/id-number/encrypt/v1"
_HASH_INFO = b"leifeng/id-number/hash/v1"
_SALT = b"leifeng-id-protection"


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret.encode("utf-8"))


class IdProtector:
    """Encrypt, decrypt and hash ID numbers with keys derived from LEIFENG_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ConfigError("LEIFENG_SECRET_KEY is empty: ID numbers cannot be protected")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret_key, _ENCRYPT_INFO)))
        self._hash_key = _derive(secret_key, _HASH_INFO)

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(number.encode("ascii")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise ConfigError("cannot decrypt an ID number: LEIFENG_SECRET_KEY differs from the one used") from exc

    def lookup_hash(self, number: str) -> str:
        """The same person gives the same hash (64 hex chars), without the number being recoverable."""
        return hmac.new(self._hash_key, number.encode("ascii"), hashlib.sha256).hexdigest()
