"""One error hierarchy for the whole bot: every deliberate failure is a LeifengError.

storage/ imports nothing of the bot, so its own refusals form a second, small family (storage.errors.StorageError,
re-exported here); the edges catch both.
"""

from __future__ import annotations

import re

from storage.errors import NotMigratedError, StorageError

__all__ = ["NotMigratedError", "StorageError"]  # and the classes below


class LeifengError(Exception):
    """Root of every error the bot raises on purpose."""


class ConfigError(LeifengError):
    """Configuration is missing or invalid."""


class SignatureError(LeifengError):
    """A request's signature or timestamp did not verify (answered with 403)."""


class BadMessageError(LeifengError):
    """An incoming body could not be parsed or decrypted (answered with 400)."""


class UnknownHubError(LeifengError):
    """A request named a hub that does not exist (answered with 404)."""


class WeChatAPIError(LeifengError):
    """The WeChat API answered with an error code."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


_URL_QUERY = re.compile(r"(https?://[^\s?'\"]+|/[^\s?'\"]*)\?[^\s'\")]*")  # a URL or a path, with its query


def hide_query(text: str) -> str:
    """Drop the query strings of URLs quoted in an error message: WeChat's carry the AppSecret (token
    requests), the access token or a group robot's key, and the message ends up in logs and the database."""
    return _URL_QUERY.sub(r"\1?…", text)
