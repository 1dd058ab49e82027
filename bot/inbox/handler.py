"""Process one incoming message: dedupe, dialogue step, state + outbox + reply in one transaction.

Each message is two short trips to the database, so the dialogue step (the intent matcher) holds no lock:

1. **read** (a snapshot; on SQLite it does not take the write lock): in one query the sender's user and
   conversation rows, the hub's catalogue version, whether this message was already processed and, while the
   conversation may use it, the sender's saved address (_saved_address: "还是送到…吗？").
   Then the pure dialogue step, outside any transaction.
2. **write** (one transaction): the new conversation state, written only if the conversation's version is
   still the one read (if another message or the sweep changed it meanwhile, step 1 runs again on the
   fresh state); effects; outbox rows; actions (in an ORM session joined to the same transaction); and
   the dedupe row last. A retry of the same message racing this one fails on the dedupe row's unique key,
   rolls back everything it did and answers with the first run's reply. Actions run without a savepoint each;
   one that refuses (bot.inbox.actions.registry.Refused) has the whole write rolled back and done again with a
   savepoint around every action, so a refusal never keeps half of its action's work.

The same read counts the sender's messages of the last minute and hour (their dedupe rows): over the hub's
limits a message gets one kind note, then nothing, and only its dedupe row is written (bot.inbox.ratelimit);
an emergency is never held back.

On PostgreSQL the common case (a known sender, no effects, outbox rows or actions) skips the transaction:
the write is one statement in autocommit (WRITE_IN_ONE_STATEMENT), so the message costs two round trips; so does a
new sender's first message without them (FIRST_MESSAGE_IN_ONE_STATEMENT: their user row, conversation and dedupe
row), whose read finds the hub's facts in the same one row as a known sender's.

The hot path is SQLAlchemy Core on one connection (no ORM unit of work); the statements every message runs
go straight to the DBAPI cursor through storage.hot; actions keep the ORM.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.dialogue import step as dialogue
from bot.dialogue.changing import names_an_order
from bot.dialogue.core import SUBMITTED_SLOT, Context, Effect, OpenOrder, Result, State, TeamChoice
from bot.dialogue.followups import wants_own_tasks, who_comes_words
from bot.dialogue.messages import Incoming
from bot.dialogue.ordering import ORDERING, USES_SAVED_ADDRESS, may_ask_change
from bot.dialogue.volunteering import wants_offers
from bot.hubs import HubAccount
from bot.hubsettings import HubSettings
from bot.inbox import handover, ratelimit
from bot.inbox.actions.context import ActionContext
from bot.inbox.actions.registry import Refused, perform
from bot.outbox import enqueue
from bot.serviceloop.lifecycle import OPEN_STATES, OrderState
from bot.serviceloop.records import PER_MESSAGE
from bot.services import Services, latest_catalogue_version
from intents.timeparse import when_text as appointment_text
from storage.db import lost_a_lock_race, read_only, transaction
from storage.hot import Hot
from storage.models import AuditLog, Conversation, Order, OrderOffer, ProcessedMessage, Team, User

log = logging.getLogger(__name__)

BUSY_REPLY = "系统有点忙，请稍后再发一次。"

USERS = cast(Table, User.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
PROCESSED = cast(Table, ProcessedMessage.__table__)
AUDIT = cast(Table, AuditLog.__table__)

INBOUND_PRECISION = timedelta(minutes=1)  # the 48-hour window does not need the exact second
MAX_ATTEMPTS = 8  # conversation changed under us / lost a race creating the user / a deadlock: read again
# between two attempts after the conversation changed under us: a short random pause, longer each time, so that
# several messages of one person racing on a busy host fall into line instead of colliding again (a loaded CI box
# lost one of six after five attempts back to back)
RETRY_PAUSE_SECONDS = 0.005


class StaleConversation(Exception):
    """The conversation's version moved between the read and the write."""


@dataclass(frozen=True)
class Snapshot:
    """What the dialogue step needs to know about the sender, read in one query."""

    user_id: int | None
    roles: frozenset[str]
    phone: str | None
    nickname: str | None
    last_inbound_at: datetime | None
    conv_id: int | None
    state: str
    slots: dict[str, Any]
    version: int
    catalogue_version: int | None
    seen: bool  # this message was already processed (a retry after the first run committed)
    stored_reply: str | None
    in_minute: int = 0  # the sender's messages already processed in the last minute (up to the limit + 1)
    in_hour: int = 0  # ... and in the last hour
    saved_address: str | None = None  # SAVED_ADDRESS, read only in the states that may use it


# Built once: executing a prepared statement costs a fraction of building one per message.
_CATALOGUE = latest_catalogue_version(bindparam("hub_id")).label("catalogue_version")
_DONE = (select(func.coalesce(PROCESSED.c.reply, ""))  # '' = processed without a reply; NULL = not processed
         .where(PROCESSED.c.hub_id == bindparam("hub_id"), PROCESSED.c.dedupe_key == bindparam("key"))
         .scalar_subquery().label("done"))


def _recent(since: str, most: str) -> Any:
    """How many of the sender's messages were processed since `since`, counted up to `most` (an index-only
    range on ix_processed_messages_hub_openid_at: a flood costs no more to count than the limit)."""
    rows = (select(literal_column("1").label("one"))
            .where(PROCESSED.c.hub_id == bindparam("hub_id"), PROCESSED.c.openid == bindparam("openid"),
                   PROCESSED.c.received_at >= bindparam(since, type_=PROCESSED.c.received_at.type))
            .limit(bindparam(most, type_=Integer)).subquery())
    return select(func.count()).select_from(rows).scalar_subquery()


ORDERS = cast(Table, Order.__table__)


def _saved_address() -> ColumnElement[Any]:
    """The one home of a resident's saved address ("还是送到…吗？", "跟上回一样"): the address of their latest order
    in this hub in which they are the one served: the orders they placed for themselves, and those staff or a family
    member placed for them (found by their phone: bot.serviceloop.orders). Never an address the sender gave for
    somebody else, so a family member ordering from another WeChat account is offered only their own, and nobody
    another resident's. Read with the sender's row, and only while the conversation is in a state that may use it
    (bot.dialogue.ordering.USES_SAVED_ADDRESS): no statement of its own. Decrypted on the way out (storage.sealed)."""
    latest = (select(ORDERS.c.address)
              .where(ORDERS.c.resident_user_id == USERS.c.id, ORDERS.c.hub_id == bindparam("hub_id"),
                     ORDERS.c.address.is_not(None))
              .order_by(ORDERS.c.created_at.desc(), ORDERS.c.id.desc()).limit(1)
              .correlate(USERS).scalar_subquery())
    # the states as literals (fixed identifiers): a statement storage.hot runs has no expanding IN parameters
    states: list[ColumnElement[Any]] = [literal_column(f"'{state}'") for state in sorted(USES_SAVED_ADDRESS)]
    using = or_(CONVERSATIONS.c.id.is_(None), CONVERSATIONS.c.state.in_(states))
    return case((using, latest), else_=None).label("saved_address")


# Always one row: the sender's (the user columns NULL for a first message) with the hub-wide facts, so a first
# message needs no second read for the catalogue version and the dedupe check.
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
READ_SENDER = Hot(
    select(USERS.c.id, USERS.c.roles, USERS.c.phone, USERS.c.nickname, USERS.c.last_inbound_at,
           CONVERSATIONS.c.id.label("conv_id"), CONVERSATIONS.c.state, CONVERSATIONS.c.slots,
           CONVERSATIONS.c.version, _CATALOGUE, _DONE,
           _recent("minute_since", "minute_most").label("in_minute"),
           _recent("hour_since", "hour_most").label("in_hour"), _saved_address())
    .select_from(_ONE_ROW.outerjoin(USERS, and_(USERS.c.hub_id == bindparam("hub_id"),
                                                USERS.c.openid == bindparam("openid")))
                 .outerjoin(CONVERSATIONS, CONVERSATIONS.c.user_id == USERS.c.id)))
READ_HUB_FACTS = Hot(select(_CATALOGUE, _DONE))
INSERT_USER = insert(USERS)
INSERT_CONVERSATION = insert(CONVERSATIONS)
INSERT_PROCESSED = Hot(insert(PROCESSED).values(
    hub_id=bindparam("p_hub"), dedupe_key=bindparam("p_key"), openid=bindparam("p_openid"),
    msg_type=bindparam("p_type"), reply=bindparam("p_reply"), received_at=bindparam("p_at"),
    text=bindparam("p_text")))
INSERT_AUDIT = insert(AUDIT)
TOUCH_USER = Hot(update(USERS).where(USERS.c.id == bindparam("b_id")).values(last_inbound_at=bindparam("b_at")))
UPDATE_CONVERSATION = Hot(
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("b_id"), CONVERSATIONS.c.version == bindparam("b_version"))
    .values(state=bindparam("b_state"), slots=bindparam("b_slots", type_=CONVERSATIONS.c.slots.type),
            updated_at=bindparam("b_at"), version=bindparam("b_version") + 1))


def _one_statement_write() -> Any:
    """PostgreSQL: the common write (known sender, no effects, outbox or actions) as ONE statement, which the
    database runs atomically on its own: no BEGIN and COMMIT round trips. Data-modifying CTEs update the
    conversation (only when it changed, only at the version read) and the sender's last-inbound time; the
    dedupe row is inserted only if the conversation update, when there was one, found its version. No row
    back = the conversation moved on (step again); a duplicate key = a retry already handled (IntegrityError,
    nothing written). SQLite has no data-modifying CTEs and no round trips to save: it uses _write."""
    change = bindparam("f_change", type_=Boolean)
    conv = (update(CONVERSATIONS)
            .where(CONVERSATIONS.c.id == bindparam("b_id"), CONVERSATIONS.c.version == bindparam("b_version"), change)
            .values(state=bindparam("b_state"), slots=bindparam("b_slots", type_=CONVERSATIONS.c.slots.type),
                    updated_at=bindparam("b_at"), version=CONVERSATIONS.c.version + 1)
            .returning(CONVERSATIONS.c.id).cte("conv"))
    conv_ok = or_(not_(change), exists(select(conv.c.id)))
    touch = (update(USERS).where(USERS.c.id == bindparam("u_id"), bindparam("f_touch", type_=Boolean), conv_ok)
             .values(last_inbound_at=bindparam("b_at")).returning(USERS.c.id).cte("touch"))
    cols = PROCESSED.c
    row = select(bindparam("p_hub", type_=cols.hub_id.type), bindparam("p_key", type_=cols.dedupe_key.type),
                 bindparam("p_openid", type_=cols.openid.type), bindparam("p_type", type_=cols.msg_type.type),
                 bindparam("p_reply", type_=cols.reply.type), bindparam("b_at", type_=cols.received_at.type),
                 bindparam("p_text", type_=cols.text.type))
    return (insert(PROCESSED)
            .from_select(["hub_id", "dedupe_key", "openid", "msg_type", "reply", "received_at", "text"],
                         row.where(conv_ok))
            .add_cte(conv).add_cte(touch).returning(PROCESSED.c.id))


WRITE_IN_ONE_STATEMENT = Hot(_one_statement_write())


def _first_message_write() -> Any:
    """PostgreSQL: a first message's write (a new sender, no effects, outbox or actions) as ONE statement in
    autocommit, as WRITE_IN_ONE_STATEMENT is for a known sender: the user row, their conversation and the dedupe row,
    which the database writes atomically (all or nothing). A racing first message of the same sender (the user's
    unique key) or a retry of this one (the dedupe row's) is an IntegrityError with nothing written, handled as on
    the transaction's path."""
    u, c, cols = USERS.c, CONVERSATIONS.c, PROCESSED.c
    at = bindparam("b_at", type_=u.created_at.type)
    hub = bindparam("p_hub", type_=u.hub_id.type)
    user = (insert(USERS).values(hub_id=hub, openid=bindparam("p_openid", type_=u.openid.type),
                                 roles=bindparam("u_roles", type_=u.roles.type),
                                 subscribed=bindparam("u_subscribed", type_=u.subscribed.type),
                                 created_at=at, last_inbound_at=bindparam("u_inbound", type_=u.last_inbound_at.type))
            .returning(u.id).cte("new_user"))
    conv = (insert(CONVERSATIONS)
            .from_select(["hub_id", "user_id", "state", "slots", "updated_at", "version"],
                         select(hub, user.c.id, bindparam("b_state", type_=c.state.type),
                                bindparam("b_slots", type_=c.slots.type), at,
                                bindparam("b_version", type_=c.version.type)))
            .returning(c.id).cte("new_conversation"))
    row = select(hub, bindparam("p_key", type_=cols.dedupe_key.type), bindparam("p_openid", type_=cols.openid.type),
                 bindparam("p_type", type_=cols.msg_type.type), bindparam("p_reply", type_=cols.reply.type), at,
                 bindparam("p_text", type_=cols.text.type))
    return (insert(PROCESSED)
            .from_select(["hub_id", "dedupe_key", "openid", "msg_type", "reply", "received_at", "text"],
                         row.where(exists(select(conv.c.id))))
            .add_cte(user).add_cte(conv).returning(PROCESSED.c.id))


FIRST_MESSAGE_IN_ONE_STATEMENT = Hot(_first_message_write())


def _new_sender_write() -> Any:
    """PostgreSQL: a new sender's user row and conversation as ONE statement (data-modifying CTE), for a first
    message the transaction's path writes (with effects, outbox rows or actions): what INSERT_USER and then
    INSERT_CONVERSATION write, in one round trip; the user's id back. A racing first message of the same sender is
    the user's unique key's IntegrityError, nothing written, as with the two statements."""
    u, c = USERS.c, CONVERSATIONS.c
    at = bindparam("b_at", type_=u.created_at.type)
    hub = bindparam("p_hub", type_=u.hub_id.type)
    user = (insert(USERS).values(hub_id=hub, openid=bindparam("p_openid", type_=u.openid.type),
                                 roles=bindparam("u_roles", type_=u.roles.type),
                                 subscribed=bindparam("u_subscribed", type_=u.subscribed.type),
                                 created_at=at, last_inbound_at=bindparam("u_inbound", type_=u.last_inbound_at.type))
            .returning(u.id).cte("new_user"))
    return (insert(CONVERSATIONS)
            .from_select(["hub_id", "user_id", "state", "slots", "updated_at", "version"],
                         select(hub, user.c.id, bindparam("b_state", type_=c.state.type),
                                bindparam("b_slots", type_=c.slots.type), at,
                                bindparam("b_version", type_=c.version.type)))
            .add_cte(user).returning(c.user_id))


NEW_SENDER_IN_ONE_STATEMENT = Hot(_new_sender_write())


def _processed(done: str | None) -> tuple[bool, str | None]:
    """_DONE's value -> (already processed?, the reply it got)."""
    return done is not None, done or None


def read_sender(conn: Connection, hub_id: int, openid: str, dedupe_key: str, now: datetime,
                limits: ratelimit.Limits) -> Snapshot:
    since = ratelimit.windows(now)
    row = READ_SENDER.run(conn, {"hub_id": hub_id, "openid": openid, "key": dedupe_key,
                                 "minute_since": since.minute, "minute_most": limits.per_minute + 1,
                                 "hour_since": since.hour, "hour_most": limits.per_hour + 1}).first()
    assert row is not None  # always one row (_ONE_ROW)
    (user_id, roles, phone, nickname, last_inbound_at, conv_id, state, slots, version, cat_version, done,
     in_minute, in_hour, saved_address) = row
    if user_id is None:  # a first message: the hub-wide facts only (nothing of theirs to count)
        return Snapshot(None, frozenset(), None, None, None, None, State.IDLE, {}, 0, cat_version,
                        *_processed(done))
    return Snapshot(user_id, frozenset(roles or []), phone, nickname, last_inbound_at, conv_id,
                    state if conv_id is not None else State.IDLE, dict(slots or {}), version or 0, cat_version,
                    *_processed(done), in_minute=int(in_minute or 0), in_hour=int(in_hour or 0),
                    saved_address=saved_address)


TEAMS = cast(Table, Team.__table__)
CANCELLABLE = [state.value for state in OPEN_STATES - {OrderState.COMPLETED}]  # a done service is rated, not cancelled


def _ondemand_states(states: list[str]) -> list[ColumnElement[Any]]:
    """Order states as literals (fixed identifiers): the statements below are storage.hot ones (built once, run on
    the cursor), which have no expanding IN parameters."""
    return [literal_column(f"'{state}'") for state in sorted(states)]


# What _on_demand reads, only for the messages that can use it: storage.hot statements, like the snapshot's.
# "评价 12": the hearts already given to that order of the sender's (placed by them or for them), if any.
ORDER_RATING = Hot(select(ORDERS.c.rating)
                   .where(ORDERS.c.hub_id == bindparam("hub_id"), ORDERS.c.ref == bindparam("ref"),
                          or_(ORDERS.c.ordered_by_user_id == bindparam("user_id"),
                              ORDERS.c.resident_user_id == bindparam("user_id")))
                   .limit(1))
UNRATED = Hot(select(ORDERS.c.ref)
              .where(ORDERS.c.hub_id == bindparam("hub_id"), ORDERS.c.ordered_by_user_id == bindparam("user_id"),
                     ORDERS.c.state == OrderState.COMPLETED.value, ORDERS.c.rating.is_(None))
              .order_by(ORDERS.c.id.desc()).limit(5))
OPEN_ORDERS = Hot(select(ORDERS.c.ref, ORDERS.c.service_code, ORDERS.c.time_kind, ORDERS.c.start_at, ORDERS.c.end_at,
                         ORDERS.c.address, ORDERS.c.state)  # the sender's own: what a change starts from, its state
                  .where(ORDERS.c.hub_id == bindparam("hub_id"), ORDERS.c.ordered_by_user_id == bindparam("user_id"),
                         ORDERS.c.state.in_(_ondemand_states(CANCELLABLE))).order_by(ORDERS.c.id).limit(20))
# A volunteer's tasks under way ("到了 修好了" completes the only one): accepted or supported by them.
MY_TASKS = Hot(select(ORDERS.c.ref, ORDERS.c.service_code, ORDERS.c.time_kind, ORDERS.c.start_at, ORDERS.c.end_at)
               .select_from(ORDERS.join(USERS, USERS.c.volunteer_id == ORDERS.c.volunteer_id))
               .where(USERS.c.id == bindparam("user_id"), ORDERS.c.hub_id == bindparam("hub_id"),
                      ORDERS.c.state.in_(_ondemand_states([OrderState.ACCEPTED.value, OrderState.SUPPORTED.value])))
               .order_by(ORDERS.c.id).limit(20))
# The open orders offered to the volunteer and not answered yet (a bare "接单" / "好 我去" takes the only one).
OFFERS = cast(Table, OrderOffer.__table__)
OFFERED = Hot(select(ORDERS.c.ref, ORDERS.c.service_code, ORDERS.c.time_kind, ORDERS.c.start_at, ORDERS.c.end_at)
              .select_from(ORDERS.join(OFFERS, OFFERS.c.order_id == ORDERS.c.id)
                           .join(USERS, USERS.c.volunteer_id == OFFERS.c.volunteer_id))
              .where(USERS.c.id == bindparam("user_id"), ORDERS.c.hub_id == bindparam("hub_id"),
                     OFFERS.c.outcome.is_(None), ORDERS.c.volunteer_id.is_(None),
                     ORDERS.c.state.in_(_ondemand_states([OrderState.SUBMITTED.value, OrderState.DISPATCHED.value])))
              .order_by(ORDERS.c.id).limit(5))
HUB_TEAMS = Hot(select(TEAMS.c.code, TEAMS.c.name, TEAMS.c.services).where(TEAMS.c.hub_id == bindparam("hub_id"))
                .order_by(TEAMS.c.id))


def _about_open_orders(snap: Snapshot, text: str, nlu: Any) -> bool:
    """The open orders matter beyond a cancel: an order confirmed (the same one twice?), or a submitted one to be
    changed ("我要改一下订单的时间")."""
    if snap.user_id is None:
        return False
    if snap.state in ORDERING and names_an_order(text):  # "254623号订单地址错了" while another is being made
        return True
    if snap.state == State.ORDER_CONFIRM:  # only after an order of the same kind was submitted in chat
        return bool(snap.slots.get(SUBMITTED_SLOT)) and (text.strip() == "1" or nlu.yes_no(text) == "yes")
    # (while a rating waits too: "12号订单时间改到后天上午" names another order to change)
    return snap.state in (State.IDLE, State.RATE, State.RATE_COMMENT) and (may_ask_change(text) or
                                                                         who_comes_words(text))


def _open_order(row: Any) -> OpenOrder:
    """One of the sender's open orders (OPEN_ORDERS) as the dialogue sees it."""
    ref, service_code, time_kind, start_at, end_at, address, state = row
    start = as_utc(start_at) if start_at else None
    end = as_utc(end_at) if end_at else None
    return OpenOrder(ref, service_code, appointment_text(time_kind, start, end), time_kind=time_kind,
                     start=start.isoformat() if start else None, end=end.isoformat() if end else None,
                     address=address, state=state)


def _on_demand(conn: Connection, hub_id: int, snap: Snapshot, inc: Incoming, nlu: Any) -> dict[str, Any]:
    """What the dialogue may need beyond the snapshot, read only when this message can use it (most read nothing):
    the open orders ("那个理发的不要了"), the hub's teams (registration). The saved address comes with the snapshot."""
    text = inc.text or ""
    facts: dict[str, Any] = {}
    if text:
        wanted = nlu.cancel_order(text)
        if (wanted is not None and wanted.order is None) or _about_open_orders(snap, text, nlu):
            rows = [] if snap.user_id is None else OPEN_ORDERS.run(
                conn, {"hub_id": hub_id, "user_id": snap.user_id}).rows
            facts["open_orders"] = tuple(_open_order(row) for row in rows)
    if text and snap.user_id is not None and "volunteer" in snap.roles and wants_own_tasks(text):
        facts["my_tasks"] = tuple(
            OpenOrder(ref, service_code,
                      appointment_text(time_kind, as_utc(start_at) if start_at else None,
                                       as_utc(end_at) if end_at else None))
            for ref, service_code, time_kind, start_at, end_at
            in MY_TASKS.run(conn, {"hub_id": hub_id, "user_id": snap.user_id}).rows)
    if text and snap.user_id is not None and "volunteer" in snap.roles and wants_offers(text, snap.state, nlu):
        facts["offered_tasks"] = tuple(
            OpenOrder(ref, service_code,
                      appointment_text(time_kind, as_utc(start_at) if start_at else None,
                                       as_utc(end_at) if end_at else None))
            for ref, service_code, time_kind, start_at, end_at
            in OFFERED.run(conn, {"hub_id": hub_id, "user_id": snap.user_id}).rows)
    named = dialogue.rate_order_named(text) if text else None
    if named is not None and snap.user_id is None:  # a first message: no order of theirs to rate
        facts["orders_not_mine"] = frozenset({named})
        named = None
    if snap.user_id is not None and snap.state in (State.IDLE, State.RATE) and \
            dialogue.may_rate_waiting(text, named, nlu):
        # "评价 5" / "★★★★": hearts for the order waiting for a rating (order numbers are 6-digit refs)
        facts["unrated_orders"] = tuple(
            ref for ref, in UNRATED.run(conn, {"hub_id": hub_id, "user_id": snap.user_id}).rows)
    if named is not None and named < 2**31:
        found = ORDER_RATING.run(conn, {"hub_id": hub_id, "ref": named, "user_id": snap.user_id}).first()
        given = found[0] if found is not None else None
        if given is not None:
            facts["order_ratings"] = {named: int(given)}
        if found is None:  # none of theirs: not offered for rating (nor said to be someone else's)
            facts["orders_not_mine"] = frozenset({named})
    command = nlu.command(text) if text else None
    if str(snap.state).startswith("REG_") or (command is not None and command.name == "register_volunteer"):
        facts["teams"] = tuple(TeamChoice(code, name, tuple(services or []))
                               for code, name, services in HUB_TEAMS.run(conn, {"hub_id": hub_id}).rows)
    return facts


def _hub_facts(conn: Connection, hub_id: int, dedupe_key: str) -> tuple[int | None, str | None]:
    """(the hub's catalogue version, _DONE for this message)."""
    row = READ_HUB_FACTS.run(conn, {"hub_id": hub_id, "key": dedupe_key}).first()
    assert row is not None  # scalar subqueries: always one row
    return row[0], row[1]


def _apply_effects(conn: Connection, user_id: int, openid: str, effects: tuple[Effect, ...],
                   hub_id: int, now: datetime) -> None:
    for eff in effects:
        if eff.name == "subscribed":
            values: dict[str, Any] = {"subscribed": True}
            if eff.data.get("scene"):
                values["subscribe_scene"] = str(eff.data["scene"])
            conn.execute(update(USERS).where(USERS.c.id == user_id).values(**values))
        elif eff.name == "unsubscribed":
            conn.execute(update(USERS).where(USERS.c.id == user_id).values(subscribed=False))
        conn.execute(INSERT_AUDIT, {"hub_id": hub_id, "actor": openid, "action": eff.name,
                                     "subject": f"user:{user_id}", "detail": dict(eff.data), "at": now})


def _opens_window(inc: Incoming) -> bool:
    """Only a message the person sent opens the 48-hour customer-service window (5 messages); a follow, a QR scan
    or a menu click allows 3 within one minute and opens no 48 hours (bot.outbox_rules counts both from the
    processed rows), so users.last_inbound_at is the person's last message, never an event."""
    return inc.kind != "event"


def _touches(inc: Incoming, snap: Snapshot, now: datetime) -> bool:
    """Record this message as the sender's latest inbound? A recorded time up to a minute old only makes the
    outbox fall back to a template a minute early, and skipping it saves a write on every message of a chat."""
    return _opens_window(inc) and (snap.last_inbound_at is None
                                   or now - as_utc(snap.last_inbound_at) >= INBOUND_PRECISION)


def _msg_type(inc: Incoming) -> str:
    return inc.kind if inc.kind != "event" else f"event:{inc.event}"


def _written(inc: Incoming) -> str | None:
    """What the person wrote, for the dedupe row (a hand-over shows staff the last turns before it)."""
    return ((inc.text or "")[:handover.TEXT_MOST] or None) if inc.kind in ("text", "voice") else None


def _staff_scene(inc: Incoming) -> str | None:
    """The scene of a staff-link QR code this follow or scan came with."""
    if inc.kind == "event" and inc.event in ("subscribe", "scan") and handover.is_staff_scene(inc.scene):
        return inc.scene
    return None


def _write_in_one_statement(conn: Connection, account: HubAccount, inc: Incoming, snap: Snapshot,
                            result: Result, now: datetime) -> str | None:
    slots = dict(result.slots)
    changed = (result.state, slots) != (snap.state, snap.slots)
    row = WRITE_IN_ONE_STATEMENT.run(conn, {
        # unchanged slots are not written: not sealed (encrypted) for nothing either
        "f_change": changed, "b_id": snap.conv_id, "b_version": snap.version, "b_state": result.state,
        "b_slots": slots if changed else None, "b_at": now,
        "u_id": snap.user_id, "f_touch": _touches(inc, snap, now), "p_hub": account.hub_id,
        "p_key": inc.dedupe_key, "p_openid": inc.openid, "p_type": _msg_type(inc), "p_reply": result.reply,
        "p_text": _written(inc),
    }).first()
    if row is None:
        raise StaleConversation(inc.dedupe_key)
    return result.reply


def _write_first_in_one_statement(conn: Connection, account: HubAccount, inc: Incoming, result: Result,
                                  now: datetime) -> str | None:
    """A new sender's message without side effects: FIRST_MESSAGE_IN_ONE_STATEMENT, what _write does for it."""
    FIRST_MESSAGE_IN_ONE_STATEMENT.run(conn, {
        "p_hub": account.hub_id, "p_openid": inc.openid, "u_roles": [], "u_subscribed": True, "b_at": now,
        "u_inbound": now if _opens_window(inc) else None, "b_state": result.state, "b_slots": dict(result.slots),
        "b_version": 0, "p_key": inc.dedupe_key, "p_type": _msg_type(inc), "p_reply": result.reply,
        "p_text": _written(inc)})
    return result.reply


def _write(conn: Connection, services: Services, account: HubAccount, inc: Incoming, snap: Snapshot,
           decision: handover.Decision, nlu: Any, now: datetime, savepoints: bool) -> str | None:
    hub_id = account.hub_id
    result = decision.result
    scene = _staff_scene(inc)
    opens_window = _opens_window(inc)
    user_id = snap.user_id
    slots = dict(result.slots)
    # Row locks in the order WRITE_IN_ONE_STATEMENT takes them, the conversation before the user: two messages
    # of one sender, one on each path, would otherwise each hold the row the other waits for (a deadlock).
    # A message kept for a hand-over writes the row even unchanged: the version check then makes sure staff did
    # not hand the resident back meanwhile (the message would be kept for nobody, not answered).
    if snap.conv_id is not None and ((result.state, slots) != (snap.state, snap.slots)
                                     or decision.kind is not handover.Kind.NONE):
        res = UPDATE_CONVERSATION.run(conn, {"b_id": snap.conv_id, "b_version": snap.version,
                                                 "b_state": result.state, "b_slots": slots, "b_at": now})
        if res.rowcount != 1:
            raise StaleConversation(inc.dedupe_key)
    # An unchanged conversation is not re-checked: this message then reads as handled just before whatever
    # changed it, which is a valid order for two messages in flight at once.
    conversation_written = False
    if user_id is None and snap.conv_id is None and conn.dialect.name == "postgresql":  # both rows in one statement
        written = NEW_SENDER_IN_ONE_STATEMENT.run(conn, {
            "p_hub": hub_id, "p_openid": inc.openid, "u_roles": [], "u_subscribed": True, "b_at": now,
            "u_inbound": now if opens_window else None, "b_state": result.state, "b_slots": slots,
            "b_version": 0}).first()
        if written is None:  # pragma: no cover - the INSERT … RETURNING of one row
            raise RuntimeError("the database returned no id for the new user")
        user_id, conversation_written = int(written[0]), True
    elif user_id is None:
        pk = conn.execute(INSERT_USER, {
            "hub_id": hub_id, "openid": inc.openid, "roles": [], "subscribed": True, "created_at": now,
            "last_inbound_at": now if opens_window else None}).inserted_primary_key
        if pk is None:  # pragma: no cover - both databases return the new id
            raise RuntimeError("the database returned no id for the new user")
        user_id = int(pk[0])
    elif _touches(inc, snap, now):
        TOUCH_USER.run(conn, {"b_id": user_id, "b_at": now})
    if snap.conv_id is None and not conversation_written:
        conn.execute(INSERT_CONVERSATION, {"hub_id": hub_id, "user_id": user_id, "state": result.state,
                                             "slots": slots, "updated_at": now, "version": 0})
    _apply_effects(conn, user_id, inc.openid, result.effects, hub_id, now)
    replies = [result.reply] if result.reply else []
    if result.outbox or result.actions or decision.kind is not handover.Kind.NONE or scene:
        # joins this connection's transaction; what the message's actions look up twice is read once (PER_MESSAGE)
        with Session(bind=conn, expire_on_commit=False, info={PER_MESSAGE: {}}) as s:
            for out in result.outbox:
                enqueue(s, hub_id=hub_id, to=out.to, text=out.text, now=now, channel=out.channel,
                        idempotency_key=out.key)
            if result.actions:
                ac = ActionContext(s=s, hub_id=hub_id, user_id=user_id, openid=inc.openid, now=now, nlu=nlu,
                                   secret_key=services.config.secret_key, nickname=snap.nickname,
                                   savepoints=savepoints)
                replies += [perform(ac, action) for action in result.actions]
                if ac.instead_of_reply and result.reply:  # an action's words replace the dialogue's question
                    replies = replies[1:]
            if scene:  # a staff member linking their WeChat: that is the answer (after the welcome of a follow)
                linked = handover.link_by_scene(s, hub_id=hub_id, user_id=user_id, scene=scene, now=now)
                replies = [linked, *replies] if inc.event == "subscribe" else [linked]
            handover.keep(s, decision, hub_id=hub_id, user_id=user_id, openid=inc.openid, nickname=snap.nickname,
                          inc=inc, reply="\n".join(r for r in replies if r) or None,
                          settings=account.parsed_settings, now=now)
            s.flush()
    reply = "\n".join(r for r in replies if r) or None
    # Last, in the same transaction: a retry racing this one does the same work, then fails on the unique
    # (hub, key) and rolls everything back; its caller answers with our reply.
    INSERT_PROCESSED.run(conn, {"p_hub": hub_id, "p_key": inc.dedupe_key, "p_openid": inc.openid,
                                "p_type": _msg_type(inc), "p_reply": reply, "p_at": now, "p_text": _written(inc)})
    return reply


def _limits(settings: HubSettings) -> ratelimit.Limits:
    return ratelimit.Limits(settings.messages_per_minute, settings.messages_per_hour)


def _held_back(settings: HubSettings, inc: Incoming, snap: Snapshot, nlu: Any) -> ratelimit.Verdict:
    """Is this message over the sender's rate limits? An emergency never is (safety first, even for a flood)."""
    if snap.user_id is None or not ratelimit.limited_kind(inc.kind, inc.event):
        return ratelimit.Verdict.ANSWER
    found = ratelimit.verdict(_limits(settings), snap.in_minute, snap.in_hour, snap.roles)
    if found is not ratelimit.Verdict.ANSWER:
        text = dialogue.text_of(inc)
        if text and nlu.emergency(text) is not None:
            return ratelimit.Verdict.ANSWER
    return found


def _write_held_back(conn: Connection, account: HubAccount, inc: Incoming, reply: str | None,
                     now: datetime) -> str | None:
    """Only the dedupe row: it counts the message and answers a retry of it the same (a lost race with a retry
    is an IntegrityError, handled like any other). On PostgreSQL one statement in autocommit."""
    INSERT_PROCESSED.run(conn, {"p_hub": account.hub_id, "p_key": inc.dedupe_key, "p_openid": inc.openid,
                                "p_type": _msg_type(inc), "p_reply": reply, "p_at": now, "p_text": _written(inc)})
    return reply


@dataclass(frozen=True)
class Outcome:
    reply: str | None
    duplicate: bool = False


def _process(services: Services, account: HubAccount, inc: Incoming) -> Outcome:
    now = services.clock.now()
    settings = account.parsed_settings
    with services.engine.connect() as conn:
        with read_only(conn):
            snap = read_sender(conn, account.hub_id, inc.openid, inc.dedupe_key, now, _limits(settings))
            nlu = services.nlu_at(conn, account.hub_id, snap.catalogue_version)
            if snap.seen:
                return Outcome(snap.stored_reply, duplicate=True)
            held = _held_back(settings, inc, snap, nlu)
            if held is not ratelimit.Verdict.ANSWER:
                reply = ratelimit.note(settings.hotlines) if held is ratelimit.Verdict.NOTE else None
                if conn.dialect.name == "postgresql":  # one statement in autocommit
                    return Outcome(_write_held_back(conn, account, inc, reply, now))
            else:
                decision = _decide(conn, account, settings, inc, snap, nlu, now)
                result = decision.result
                if (conn.dialect.name == "postgresql" and snap.user_id is not None and snap.conv_id is not None
                        and not (result.effects or result.outbox or result.actions)
                        and decision.kind is handover.Kind.NONE and _staff_scene(inc) is None):
                    return Outcome(_write_in_one_statement(conn, account, inc, snap, result, now))
                if (conn.dialect.name == "postgresql" and snap.user_id is None
                        and not (result.effects or result.outbox or result.actions)
                        and decision.kind is handover.Kind.NONE and _staff_scene(inc) is None):
                    return Outcome(_write_first_in_one_statement(conn, account, inc, result, now))
        if held is not ratelimit.Verdict.ANSWER:  # SQLite: the one insert, in a transaction of its own
            with conn.begin():
                return Outcome(_write_held_back(conn, account, inc, reply, now))
        try:
            # First without a savepoint per action (savepoints=False; most actions refuse nothing): two statements
            # fewer each.
            with conn.begin():
                return Outcome(_write(conn, services, account, inc, snap, decision, nlu, now, False))
        except Refused:
            # An action refused and may have written part of its work: all of it was rolled back. The same write
            # again, each action in its own savepoint, so the refused one leaves nothing and the rest is kept.
            log.info("an action of %s refused: its write again, with savepoints", inc.dedupe_key)
        with conn.begin():
            return Outcome(_write(conn, services, account, inc, snap, decision, nlu, now, True))


def _decide(conn: Connection, account: HubAccount, settings: HubSettings, inc: Incoming, snap: Snapshot, nlu: Any,
            now: datetime) -> handover.Decision:
    """The pure dialogue step on the snapshot (and what it reads on demand), as a hand-over changes it."""
    ctx = Context(hub_name=account.name, now=now, nlu=nlu, roles=snap.roles,
                  phone_on_file=snap.phone, last_address=snap.saved_address,
                  timeout=timedelta(minutes=settings.dialogue_timeout_minutes),
                  hotlines=settings.hotlines, urgent_window=timedelta(hours=settings.urgent_window_hours),
                  urgent_night=settings.urgent_night,
                  office_hours=settings.office_hours, office_phone=settings.office_phone,
                  **_on_demand(conn, account.hub_id, snap, inc, nlu))
    # while handed over to staff the bot keeps the message for them and stays quiet (bot.inbox.handover)
    return handover.decide(snap.state, snap.slots, inc, dialogue.step(snap.state, snap.slots, inc, ctx), nlu)


def _stored_reply(services: Services, account: HubAccount, key: str) -> tuple[bool, str | None]:
    with services.engine.connect() as conn, read_only(conn):
        return _processed(_hub_facts(conn, account.hub_id, key)[1])


def handle_incoming(services: Services, account: HubAccount, inc: Incoming) -> str | None:
    """Return the passive reply text (None = answer "success"). Never acts twice on one message."""
    started = time.monotonic()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            outcome = _process(services, account, inc)
            break
        except StaleConversation:
            if attempt == MAX_ATTEMPTS:
                raise
            log.info("conversation of %s changed while %s was handled: again", inc.openid, inc.dedupe_key)
            time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * attempt))
        except IntegrityError:
            seen, stored = _stored_reply(services, account, inc.dedupe_key)
            if seen:
                outcome = Outcome(stored, duplicate=True)
                break
            if attempt == MAX_ATTEMPTS:
                raise
            # Lost a race creating this user's row with another message; the next read finds it.
        except DBAPIError as exc:
            if attempt == MAX_ATTEMPTS:
                raise
            if lost_a_lock_race(exc):
                # PostgreSQL broke a deadlock by rolling this message's write back whole: nothing of it is kept.
                log.warning("database lock conflict while handling %s: again", inc.dedupe_key)
                continue
            if not exc.connection_invalidated:
                raise
            # The database connection broke (a restart, a dropped socket): again, on a fresh one (the pool pings
            # only connections that sat idle: storage.db._ping_when_idle). Had the write committed before the
            # break, the next read finds this message processed and answers from it.
            log.warning("database connection lost while handling %s: again", inc.dedupe_key)
    if outcome.duplicate:
        log.info("duplicate %s from %s: answered from the first run", inc.dedupe_key, inc.openid)
        return outcome.reply
    reply = outcome.reply
    if reply and time.monotonic() - started > services.config.reply_budget_seconds:
        # WeChat has given up on this request; the user still gets the answer through the outbox.
        with transaction(services.sessions) as s:
            enqueue(s, hub_id=account.hub_id, to=inc.openid, text=reply, now=services.clock.now(),
                    idempotency_key=f"late:{account.hub_id}:{inc.dedupe_key}")
        log.warning("reply to %s took longer than the budget; sent through the outbox", inc.dedupe_key)
        return None
    return reply
