"""The storage layer's own errors (storage/ imports nothing of the bot; bot.errors re-exports these)."""

from __future__ import annotations


class StorageError(Exception):
    """Root of every error storage/ raises on purpose."""


class NotMigratedError(StorageError):
    """The database schema is missing or older than the code."""


class DatabaseUnavailableError(StorageError):
    """The database did not answer within its timeouts, or cannot be reached: the work was not done and may be
    tried again later (the webhook answers 503, so WeChat retries the message). storage.db.unavailable() tells
    whether a SQLAlchemy error means this."""


class SealedDataError(StorageError):
    """A phone or address cannot be encrypted, decrypted or compared as asked: no key for the engine, a stored value
    that does not open with LEIFENG_SECRET_KEY, or a SQL comparison of ciphertext (storage.sealed)."""
