"""Finding people by what staff type into a search box: a phone number (any spelling of the digits) or part of a
name. One home for "is this a phone, and which rows hold it": the phones are encrypted at rest, so a phone is
found by its lookup hash (storage.sealed.phone_lookup), never by comparing the column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from intents.phone import parse_phone
from storage.sealed import phone_lookup

QUERY_MAX = 50  # characters of a search box kept


def query_of(text: str | None) -> str:
    """The search text as it is searched: trimmed, at most QUERY_MAX characters, no NUL."""
    return (text or "").replace("\x00", "").strip()[:QUERY_MAX]


def phone_condition(s: Session, hash_column: Any, query: str) -> ColumnElement[bool] | None:
    """The WHERE clause "this row's phone is the one typed" when the query is a phone number, else None (then the
    caller searches names)."""
    phone = parse_phone(query)
    return phone_lookup(s, hash_column, phone) if phone else None
