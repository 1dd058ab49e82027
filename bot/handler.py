"""Process one incoming message: dedupe, dialogue step, state + outbox + reply in one transaction."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import dialogue
from bot.actions import ActionContext, perform
from bot.clock import as_utc
from bot.hubs import HubAccount
from bot.hubsettings import hub_settings
from bot.messages import Incoming
from bot.outbox import enqueue
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Conversation, ProcessedMessage, User

log = logging.getLogger(__name__)

BUSY_REPLY = "系统有点忙，请稍后再发一次。"


def get_or_create_user(s: Session, hub_id: int, openid: str, now: Any) -> User:
    user = s.execute(select(User).where(User.hub_id == hub_id, User.openid == openid)).scalar_one_or_none()
    if user is None:
        user = User(hub_id=hub_id, openid=openid, roles=[], subscribed=True, created_at=now)
        s.add(user)
        s.flush()
    return user


def _apply_effects(s: Session, user: User, effects: tuple[dialogue.Effect, ...], hub_id: int, now: Any) -> None:
    for eff in effects:
        if eff.name == "subscribed":
            user.subscribed = True
            if eff.data.get("scene"):
                user.subscribe_scene = str(eff.data["scene"])
        elif eff.name == "unsubscribed":
            user.subscribed = False
        s.add(AuditLog(hub_id=hub_id, actor=user.openid, action=eff.name, subject=f"user:{user.id}",
                       detail=dict(eff.data), at=now))


INBOUND_PRECISION = timedelta(minutes=1)  # the 48-hour window does not need the exact second


def _process(services: Services, account: HubAccount, inc: Incoming) -> str | None:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        user = get_or_create_user(s, account.hub_id, inc.openid, now)
        if inc.kind != "event" or inc.event in {"subscribe", "click", "scan"}:
            # opens the 48-hour customer-service window; a recorded time up to a minute old only makes the
            # outbox fall back to a template a minute early, and saves a write on every message of a chat
            if user.last_inbound_at is None or now - as_utc(user.last_inbound_at) >= INBOUND_PRECISION:
                user.last_inbound_at = now
        conv = s.execute(select(Conversation).where(Conversation.user_id == user.id)).scalar_one_or_none()
        if conv is None:
            conv = Conversation(hub_id=account.hub_id, user_id=user.id, state=dialogue.IDLE,
                                slots={}, updated_at=now)
            s.add(conv)
        settings = hub_settings(account.settings)
        nlu = services.nlu_for(s, account.hub_id)  # the hub's newest catalogue version (edited in /admin)
        ctx = dialogue.Context(hub_name=account.name, now=now, nlu=nlu, roles=frozenset(user.roles or []),
                               phone_on_file=user.phone,
                               timeout=timedelta(minutes=settings.dialogue_timeout_minutes))
        before = (conv.state, conv.slots or {})
        result = dialogue.step(conv.state, conv.slots or {}, inc, ctx)
        if (result.state, dict(result.slots)) != before or conv.id is None:
            conv.state = result.state
            conv.slots = dict(result.slots)
            conv.updated_at = now
        _apply_effects(s, user, result.effects, account.hub_id, now)
        for out in result.outbox:
            enqueue(s, hub_id=account.hub_id, to=out.to, text=out.text, now=now, channel=out.channel,
                    idempotency_key=out.key)
        replies = [result.reply] if result.reply else []
        ac = ActionContext(s=s, hub_id=account.hub_id, user=user, now=now, nlu=nlu,
                           secret_key=services.config.secret_key)
        replies += [perform(ac, action) for action in result.actions]
        reply = "\n".join(r for r in replies if r) or None
        # The dedupe row goes in last, in the same transaction: a retry racing this one does the same work,
        # then fails on the unique (hub, key) and rolls everything back; its caller answers with our reply.
        s.add(ProcessedMessage(hub_id=account.hub_id, dedupe_key=inc.dedupe_key, openid=inc.openid,
                               msg_type=inc.kind if inc.kind != "event" else f"event:{inc.event}",
                               reply=reply, received_at=now))
        s.flush()
        return reply


def _stored_reply(services: Services, account: HubAccount, key: str) -> tuple[bool, str | None]:
    with services.sessions() as s:
        row = s.execute(select(ProcessedMessage).where(ProcessedMessage.hub_id == account.hub_id,
                                                       ProcessedMessage.dedupe_key == key)).scalar_one_or_none()
        return (row is not None, row.reply if row else None)


def handle_incoming(services: Services, account: HubAccount, inc: Incoming) -> str | None:
    """Return the passive reply text (None = answer "success"). Never acts twice on one message."""
    started = time.monotonic()
    for attempt in range(2):
        try:
            reply = _process(services, account, inc)
            break
        except IntegrityError:
            seen, stored = _stored_reply(services, account, inc.dedupe_key)
            if seen:
                log.info("duplicate %s from %s: answered from the first run", inc.dedupe_key, inc.openid)
                return stored
            if attempt == 1:
                raise
            # Lost a race creating this user's row with another message; the retry will find it.
    else:  # pragma: no cover - the loop always breaks or raises
        return None
    if reply and time.monotonic() - started > services.config.reply_budget_seconds:
        # WeChat has given up on this request; the user still gets the answer through the outbox.
        with transaction(services.sessions) as s:
            enqueue(s, hub_id=account.hub_id, to=inc.openid, text=reply, now=services.clock.now(),
                    idempotency_key=f"late:{account.hub_id}:{inc.dedupe_key}")
        log.warning("reply to %s took longer than the budget; sent through the outbox", inc.dedupe_key)
        return None
    return reply
