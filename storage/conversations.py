"""The one writer of a conversation row outside the message handler: read it, let the caller edit, write it back
only if nobody changed it meanwhile (its version), else read again.

The message handler (bot/inbox/handler.py) writes the row with the same version check in its own statements;
everyone else (the rating prompt, a call-out's pending answer, dialogue expiry, the ID-number stash) comes here,
so no writer can overwrite another's change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.hot import Hot
from storage.models import Conversation

# (state, slots) as stored -> the new (state, slots), or None to leave the row as it is
Edit = Callable[[str, Mapping[str, Any]], tuple[str, Mapping[str, Any]] | None]
IDLE = "IDLE"  # the state of a user with no conversation row yet (bot.dialogue.core.State.IDLE)
ATTEMPTS = 5

# Built once (storage.hot): per call only the values change, no statement is constructed or cached by key
_T = Conversation.__table__.c
# what is read of the row, in this order: a caller reading it with something else in one statement (`known`) too
COLUMNS = (_T.id, _T.state, _T.slots, _T.version)
NO_ROW: tuple[Any, ...] = ()  # `known` when the caller's read found no row: the user has no conversation yet
_READ = Hot(select(*COLUMNS).where(_T.user_id == bindparam("user_id")))
_WRITE = Hot(update(cast(Table, Conversation.__table__))
             .where(_T.id == bindparam("conv_id"), _T.version == bindparam("old_version"))
             .values(state=bindparam("new_state", type_=_T.state.type),
                     slots=bindparam("new_slots", type_=_T.slots.type),
                     updated_at=bindparam("now", type_=_T.updated_at.type),
                     version=bindparam("old_version") + 1))
_CREATE = insert(cast(Table, Conversation.__table__))


def change_conversation(s: Session, *, hub_id: int, user_id: int, now: datetime, edit: Edit,
                        create: bool = True, expected_version: int | None = None,
                        known: tuple[Any, ...] | None = None) -> bool:
    """Apply ``edit`` to the user's conversation in the caller's transaction. True when something was written.

    A user without a row starts from (IDLE, {}); with ``create`` False such a user is left without one. With
    ``expected_version`` the edit applies only to that version of the row (the caller decided on what it read):
    if the row moved on, nothing is written and the answer is False.

    ``known``: the row (COLUMNS) as the caller read it earlier in this transaction, with no ORM change of it since,
    or NO_ROW when that read found none: the first try starts from it instead of reading it again. A row that moved
    on meanwhile fails the version check (or, for NO_ROW, the insert its unique key), and the next try reads it.
    """
    if s.autoflush:
        s.flush()  # what the session's own SELECT did first: pending ORM changes are in the rows read
    for attempt in range(ATTEMPTS):
        row = known if attempt == 0 and known is not None else _READ.run(s.connection(), {"user_id": user_id}).first()
        if not row:  # (None, or NO_ROW)
            if not create:
                return False
            wanted = edit(IDLE, {})
            if wanted is None:
                return False
            try:
                with s.begin_nested():
                    s.execute(_CREATE, {"hub_id": hub_id, "user_id": user_id, "state": str(wanted[0]),
                                        "slots": dict(wanted[1]), "updated_at": now, "version": 0})
            except IntegrityError:
                continue  # the user's first message created the row a moment ago: edit that one
            return True
        conv_id, state, slots, version = row
        if expected_version is not None and version != expected_version:
            return False
        wanted = edit(state, dict(slots or {}))
        if wanted is None:
            return False
        new_state, new_slots = str(wanted[0]), dict(wanted[1])
        if (new_state, new_slots) == (state, dict(slots or {})):
            return False
        done = _WRITE.run(s.connection(), {"conv_id": conv_id, "old_version": version, "new_state": new_state,
                                           "new_slots": new_slots, "now": now})
        if done.rowcount == 1:
            loaded = s.identity_map.get(s.identity_key(Conversation, conv_id))
            if loaded is not None:  # an ORM copy loaded earlier in this session is stale now
                s.expire(loaded)
            return True
        if expected_version is not None:
            return False
    raise RuntimeError(f"the conversation of user {user_id} kept changing; gave up after {ATTEMPTS} tries")
