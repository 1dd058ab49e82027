"""The storage layer's own errors (storage/ imports nothing of the bot; bot.errors re-exports these)."""

from __future__ import annotations


class StorageError(Exception):
    """Root of every error storage/ raises on purpose."""


class NotMigratedError(StorageError):
    """The database schema is missing or older than the code."""
