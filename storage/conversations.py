"""The one writer of a conversation row outside the message handler: read it, let the caller edit, write it back
only if nobody changed it meanwhile (its version), else read again.

The message handler (bot/inbox/handler.py) writes the row with the same version check in its own statements;
everyone else (the rating prompt, a call-out's pending answer, dialogue expiry, the ID-number stash) comes here,
so no writer can overwrite another's change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Conversation

# (state, slots) as stored -> the new (state, slots), or None to leave the row as it is
Edit = Callable[[str, Mapping[str, Any]], tuple[str, Mapping[str, Any]] | None]
IDLE = "IDLE"  # the state of a user with no conversation row yet (bot.dialogue.core.State.IDLE)
ATTEMPTS = 5


def change_conversation(s: Session, *, hub_id: int, user_id: int, now: datetime, edit: Edit,
                        create: bool = True, expected_version: int | None = None) -> bool:
    """Apply ``edit`` to the user's conversation in the caller's transaction. True when something was written.

    A user without a row starts from (IDLE, {}); with ``create`` False such a user is left without one. With
    ``expected_version`` the edit applies only to that version of the row (the caller decided on what it read):
    if the row moved on, nothing is written and the answer is False.
    """
    for _ in range(ATTEMPTS):
        row = s.execute(select(Conversation.id, Conversation.state, Conversation.slots, Conversation.version)
                        .where(Conversation.user_id == user_id)).first()
        if row is None:
            if not create:
                return False
            wanted = edit(IDLE, {})
            if wanted is None:
                return False
            try:
                with s.begin_nested():
                    s.execute(insert(Conversation).values(hub_id=hub_id, user_id=user_id, state=str(wanted[0]),
                                                          slots=dict(wanted[1]), updated_at=now, version=0))
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
        done = s.execute(update(Conversation)
                         .where(Conversation.id == conv_id, Conversation.version == version)
                         .values(state=new_state, slots=new_slots, updated_at=now, version=version + 1)
                         .execution_options(synchronize_session=False))
        if done.rowcount == 1:  # type: ignore[attr-defined]
            for obj in list(s.identity_map.values()):  # an ORM copy loaded earlier in this session is stale now
                if isinstance(obj, Conversation) and obj.id == conv_id:
                    s.expire(obj)
            return True
        if expected_version is not None:
            return False
    raise RuntimeError(f"the conversation of user {user_id} kept changing; gave up after {ATTEMPTS} tries")
