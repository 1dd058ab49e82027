"""The order row's own operations, shared by the service loop: the error family, lifecycle moves (transition),
loading an order, the hub's rules, and who is told what (notices to staff, the volunteer and the resident).

Every function works inside the caller's transaction. `transition` checks the lifecycle table and updates with
`WHERE state = <the state we read>`, so two racing changes cannot both win (this is what makes "first valid
acceptance wins" hold on SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, and_, bindparam, insert, inspect, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.selectable import FromClause

from bot.clock import as_utc
from bot.errors import LeifengError
from bot.hubsettings import HubSettings, hub_settings
from bot.outbox import Message, enqueue, enqueue_call, enqueue_many
from bot.serviceloop.lifecycle import OrderState, next_state
from intents.timeparse import when_text as appointment_text
from storage.hot import Hot, as_loaded
from storage.models import STAFF_ROLE_SQL, Hub, Membership, Order, OrderEvent, User

S = OrderState


class OrderError(LeifengError):
    """A request about an order that cannot be done; the message is plain Chinese for the user."""


class ConcurrentChangeError(OrderError):
    """Someone else changed the order first."""


# The refusals of the service loop, one class each: the chat replies with the message (the volunteer's or the
# resident's words), the console and the CLI word their own from the fields where staff need other words.


class NotAVolunteerError(OrderError):
    """No active volunteer of this hub; said for where they stand (``status``: their membership's, if any): an
    applicant waits for review, a suspended volunteer is not told to register (out10)."""

    WORDS = {"applied": "您的志愿者报名还在审核中，审核通过后就能接单了，请耐心等一等。",
             "suspended": "您的志愿服务现在暂停中，暂时不能接单。有疑问请回复“人工”。"}

    NOT_ONE = "您还不是本站审核通过的志愿者，暂时不能接单。回复“注册志愿者”报名。"

    def __init__(self, status: str | None = None) -> None:
        super().__init__(self.WORDS.get(status or "", self.NOT_ONE))


# The refusals name the order by its ref (单号), the number the person sees and types.


class NotYoursError(OrderError):
    """The order is not the sender's: not the volunteer who holds it, or not the resident who ordered it."""

    def __init__(self, ref: int, doing: str = "") -> None:
        self.ref = ref
        # "接的" / "接的，不能退单": the volunteer's task ("订单12不是您接的"); else the resident's ("订单12不是您的")
        whose = f"您{doing}" if doing.startswith("接") else f"您的{doing}"
        super().__init__(f"订单{ref}不是{whose}。")


class AlreadyYoursError(OrderError):
    def __init__(self, ref: int) -> None:
        self.ref = ref
        super().__init__(f"订单{ref}已经是您的了。")


class NoLongerOpenError(OrderError):
    """Taken by someone else, or ended, before this volunteer's 接单."""

    def __init__(self, ref: int) -> None:
        self.ref = ref
        super().__init__(f"谢谢您！订单{ref}已被接走或已结束。")


class CancelledError(NoLongerOpenError):
    """接单 of an order that was cancelled (by its resident, or by staff)."""

    def __init__(self, ref: int, by_resident: bool = True) -> None:
        self.ref, self.by_resident = ref, by_resident
        who = "居民已经取消了这个订单" if by_resident else "这个订单已经取消了"
        OrderError.__init__(self, f"谢谢您！订单{ref}：{who}，不用去了。")


class NotForYouError(OrderError):
    """The order was not offered to this volunteer (nor their team) and does not fit them."""

    def __init__(self, ref: int, minor: bool = False) -> None:
        self.ref, self.minor = ref, minor
        super().__init__(f"订单{ref}的服务不适合未成年志愿者，谢谢您的热心！" if minor else
                         f"订单{ref}不在派给您的任务里（技能、时间或服务队不合适）。回复“有什么任务”看看适合您的。")


class TooManyTasksError(OrderError):
    def __init__(self, open_tasks: int) -> None:
        self.open_tasks = open_tasks
        super().__init__(f"您手上已有{open_tasks}个未完成的任务，先完成后再接新任务吧。")


class GiveBackLimitError(OrderError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"您今天已经退了{limit}次单，不能再退了。确实去不了请回复“人工”，工作人员帮您安排。")


class ReasonRequiredError(OrderError):
    def __init__(self) -> None:
        super().__init__("请说一下退单原因，比如“退单 12 临时有事”。")


class HoursOutOfRangeError(OrderError):
    def __init__(self, ref: int, most: float) -> None:
        self.ref, self.most = ref, most
        super().__init__(f"服务时长要在0到{most:g}小时之间，请重新回复，如“完成 {ref} 2”。")


class HoursOverTimeError(OrderError):
    """More hours reported than the time since the service could have started (接单, or the appointment's start if
    later) allows, with bot.serviceloop.orders.HOURS_LEEWAY; staff may record more on the order's page."""

    def __init__(self, ref: int, since: str, elapsed_minutes: int, most: float) -> None:
        self.ref, self.most = ref, most
        hours, minutes = divmod(max(elapsed_minutes, 0), 60)
        took = (f"{hours}小时" if hours else "") + (f"{minutes}分钟" if minutes or not hours else "")
        super().__init__(f"订单{ref}从{since}到现在只有{took}，最多记{most:g}小时。请回复“完成 {ref} {most:g}”；"
                         f"实际服务得更久的话请回复“人工”，社区工作人员核对后帮您记。")


class AlreadyCompletedError(OrderError):
    """完成 of a task already reported done (waiting for its rating, or rated): the hours stay as recorded."""

    def __init__(self, ref: int, hours: float | None) -> None:
        self.ref, self.hours = ref, hours
        recorded = f"，时长记为{hours:g}小时" if hours else ""
        super().__init__(f"订单{ref}已经完成了{recorded}，不用再报。要改时长请回复“人工”，社区工作人员帮您改。")


class TooEarlyError(OrderError):
    """Completion reported before the appointment has started (staff may confirm it in the console)."""

    def __init__(self, ref: int, starts: str) -> None:
        self.ref, self.starts = ref, starts
        super().__init__(f"订单{ref}约的是{starts}，还没到服务时间，服务完再回复“完成 {ref} 小时数”。"
                         f"如果已经提前做完了，请联系社区工作人员确认。")


class RatingOutOfRangeError(OrderError):
    def __init__(self) -> None:
        super().__init__("请回复 0 到 5 之间的数字。")


class NotRatableError(OrderError):
    """Rated already, or not finished yet: only a completed service is rated, once."""

    def __init__(self, ref: int, rated: bool, state_words: str) -> None:
        self.ref, self.rated = ref, rated
        super().__init__(f"订单{ref}已经评价过了，谢谢您！要更正请回复“人工”，社区工作人员帮您改。" if rated else
                         f"订单{ref}现在{state_words}，服务完成后才能评价。")


class CannotCancelError(OrderError):
    def __init__(self, ref: int, state_words: str) -> None:
        self.ref, self.state_words = ref, state_words
        super().__init__(f"订单{ref}{state_words}，不能取消了。")


class TooManyOpenOrdersError(OrderError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"您已经有{limit}个订单在进行中了，等办完再下新单吧。回复“我的订单”查看；"
                         f"着急的事请回复“人工”。")


class Person(Protocol):
    """Who asks, as the steps that only check whose order it is and name them in the history need them: a User, or
    only the id and openid the caller knows (bot.inbox.actions.context.Sender)."""

    @property
    def id(self) -> int: ...

    @property
    def openid(self) -> str: ...


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str


# A session made for one chat message (bot.inbox.handler) carries a dict under this key in `Session.info`: what one
# message looks up several times (the hub's rules) is read once for it. Sessions without it read every time.
PER_MESSAGE = "per_message"


# The statements every order step of the chat runs, built once (building a statement and its cache key on every
# call costs more than executing the cached compiled form).
_HUBS = cast(Table, Hub.__table__)
_HUB_SETTINGS = Hot(select(_HUBS.c.settings).where(_HUBS.c.id == bindparam("hub_id")))  # Core: no ORM execute
# The hub's stored settings (binds hub_id) as one more column of a statement the message's step runs anyway (the
# order by its ref, the sender's row): what `settings_for` would read next is read with it (`remember_settings`).
HUB_SETTINGS = select(_HUBS.c.settings).where(_HUBS.c.id == bindparam("hub_id")).scalar_subquery()
# with the openid of whoever ordered it (who is told of its progress and asked to rate) and the hub's settings
# (every order step reads them next): kept for the message
# (Core, every column of the order: storage.hot.as_loaded makes the ORM object without the ORM's execution)
_ORDER_TABLE, _USER_TABLE = cast(Table, Order.__table__), cast(Table, User.__table__)
_BY_REF = Hot(select(*_ORDER_TABLE.c, _USER_TABLE.c.openid, HUB_SETTINGS)
              .join_from(_ORDER_TABLE, _USER_TABLE, _USER_TABLE.c.id == _ORDER_TABLE.c.ordered_by_user_id)
              .where(_ORDER_TABLE.c.hub_id == bindparam("hub_id"), _ORDER_TABLE.c.ref == bindparam("ref")))
# 评单 (find_by_ref's with_volunteer): also the membership of the order's volunteer in the hub and the openid of its
# user, what a rating credits and tells (bot.people.points.volunteer_here's columns), kept for the message
_MEMBER_TABLE = cast(Table, Membership.__table__)
_VOLUNTEER_USER = _USER_TABLE.alias("volunteer_user")
_BY_REF_WITH_VOLUNTEER = Hot(
    select(*_ORDER_TABLE.c, _USER_TABLE.c.openid, HUB_SETTINGS, _MEMBER_TABLE.c.id, _MEMBER_TABLE.c.status,
           _VOLUNTEER_USER.c.openid)
    .select_from(_ORDER_TABLE.join(_USER_TABLE, _USER_TABLE.c.id == _ORDER_TABLE.c.ordered_by_user_id)
                 .outerjoin(_MEMBER_TABLE, and_(_MEMBER_TABLE.c.hub_id == _ORDER_TABLE.c.hub_id,
                                                _MEMBER_TABLE.c.volunteer_id == _ORDER_TABLE.c.volunteer_id))
                 .outerjoin(_VOLUNTEER_USER, _VOLUNTEER_USER.c.id == _MEMBER_TABLE.c.user_id))
    .where(_ORDER_TABLE.c.hub_id == bindparam("hub_id"), _ORDER_TABLE.c.ref == bindparam("ref")))
_VOLUNTEER_AT = list(_ORDER_TABLE.c.keys()).index("volunteer_id")
# _BY_REF as a part of another statement, one row of something else (the sender's row, by the chat's 接单 and 完成)
# LEFT JOIN the order: by_ref_join(that FROM) and BY_REF_COLUMNS among its columns, the row's part to held_by_ref
_ORDERER = _USER_TABLE.alias("orderer")
BY_REF_COLUMNS = (*_ORDER_TABLE.c, _ORDERER.c.openid, HUB_SETTINGS)


def by_ref_join(left: FromClause) -> FromClause:
    """`left` LEFT JOIN the hub's order with the ref bound as `ref` (`hub_id`: the hub) and its orderer: the
    FROM of a statement with BY_REF_COLUMNS. A NULL `ref` finds nothing."""
    return (left.outerjoin(_ORDER_TABLE, and_(_ORDER_TABLE.c.hub_id == bindparam("hub_id"),
                                              _ORDER_TABLE.c.ref == bindparam("ref")))
            .outerjoin(_ORDERER, _ORDERER.c.id == _ORDER_TABLE.c.ordered_by_user_id))
_VOLUNTEER_OPENID = (select(User.openid).join(Membership, Membership.user_id == User.id)
                     .where(Membership.hub_id == bindparam("hub_id"),
                            Membership.volunteer_id == bindparam("volunteer_id")))


def settings_for(s: Session, hub_id: int) -> HubSettings:
    memo = s.info.get(PER_MESSAGE)
    if memo is not None and ("settings", hub_id) in memo:
        return memo["settings", hub_id]  # type: ignore[no-any-return]
    if memo is not None and ("stored settings", hub_id) in memo:  # read with another statement (remember_settings)
        found = hub_settings(memo.pop(("stored settings", hub_id)))
        memo["settings", hub_id] = found
        return found
    if s.autoflush:
        s.flush()  # what s.scalar() did first: settings changed earlier in this session are the ones read
    row = _HUB_SETTINGS.run(s.connection(), {"hub_id": hub_id}).first()
    found = hub_settings(row[0] if row is not None else None)
    if memo is not None:
        memo["settings", hub_id] = found
    return found


def remember_settings(s: Session, hub_id: int, raw: Mapping[str, Any] | None) -> None:
    """The hub's stored settings as a statement of this message read them (its HUB_SETTINGS column): the
    message's `settings_for` returns them instead of reading them again. Sessions without PER_MESSAGE keep nothing."""
    memo = s.info.get(PER_MESSAGE)
    if memo is not None and ("settings", hub_id) not in memo:
        memo["stored settings", hub_id] = raw  # checked (hub_settings) only if the step asks for them


_USERS = User.__table__


STAFF_QUERY = (select(_USERS.c.openid, _USERS.c.roles)  # Core (the table, not the entity): no ORM loading
               .where(_USERS.c.hub_id == bindparam("hub_id"), text(STAFF_ROLE_SQL)).order_by(_USERS.c.id))


_STAFF = Hot(STAFF_QUERY)  # behind every 人工 and every order notice


def staff_openids(s: Session, hub_id: int) -> list[str]:
    # Narrowed in SQL (roles is a JSON list stored as text on both databases), confirmed in Python: the
    # hub may have hundreds of thousands of users, and decoding every roles list costs more than the query.
    if s.autoflush:
        s.flush()  # what s.execute() would do first: a role granted earlier in this session counts
    rows = _STAFF.run(s.connection(), {"hub_id": hub_id}).rows
    return [openid for openid, roles in rows if "staff" in (roles or [])]


def notify(s: Session, hub_id: int, openid: str, text: str, now: datetime, key: str | None = None) -> None:
    enqueue(s, hub_id=hub_id, to=openid, text=text, now=now, idempotency_key=key)


def notify_staff(s: Session, hub_id: int, text: str, now: datetime, key: str) -> None:
    enqueue_many(s, hub_id=hub_id, now=now, messages=[Message(openid, text, idempotency_key=f"{key}:{openid}")
                                                      for openid in staff_openids(s, hub_id)])


def for_staff(ref: int) -> str:
    """Where staff act on an order, in a notice written for people (the console, not a command line): the orders
    board finds it by its ref (单号)."""
    return f"请在管理后台的“订单”里打开订单{ref}处理。"


def when_text(order: Order) -> str:
    return appointment_text(order.time_kind, as_utc(order.start_at) if order.start_at is not None else None,
                            as_utc(order.end_at) if order.end_at is not None else None)


def transition(s: Session, order: Order, trigger: str, *, actor: str, now: datetime, reason: str | None = None,
               **changes: Any) -> OrderState:
    """Move an order through the lifecycle table; loses cleanly to a concurrent change. One UPDATE ... WHERE state =
    <the state we read> RETURNING the row, which refreshes `order` (as populate_existing would), and the event:
    two statements built once per set of changed columns (storage.hot). Whatever the session holds unwritten is
    flushed first, as any query does."""
    return transitions(s, order, [Step(trigger, actor, reason, changes)], now=now)


@dataclass(frozen=True)
class Step:
    """One move of `transitions`: what `transition` takes."""

    trigger: str
    actor: str
    reason: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)


def transitions(s: Session, order: Order, steps: Sequence[Step], *, now: datetime) -> OrderState:
    """Several moves one after the other (each checked against the lifecycle table from the state the one before
    leaves), written as one: one UPDATE from the state read to the last one's, with every move's changes (a later
    one's win), and their events, in order, in one INSERT. Loses cleanly to a concurrent change, like `transition`."""
    source = order.state
    states = [source]
    changes: dict[str, Any] = {}
    for step in steps:
        states.append(next_state(states[-1], step.trigger).value)
        changes.update(step.changes)
    if s.autoflush:
        s.flush()
    conn = s.connection()
    row = _move(tuple(sorted(changes))).run(conn, {
        "m_id": order.id, "m_from": source, "m_to": states[-1], "m_at": now,
        **{f"m_{name}": value for name, value in changes.items()}}).first()
    if row is None:
        raise ConcurrentChangeError("这个订单刚刚被其他人处理了。")
    for key, value in zip(_ORDER_KEYS, row, strict=True):
        set_committed_value(order, key, value)
    params: dict[str, Any] = {}
    for i, step in enumerate(steps):
        params.update({f"hub_id_{i}": order.hub_id, f"order_id_{i}": order.id, f"trigger_{i}": step.trigger,
                       f"from_state_{i}": states[i], f"to_state_{i}": states[i + 1], f"actor_{i}": step.actor,
                       f"reason_{i}": step.reason, f"at_{i}": now})
    _events(len(steps)).run(conn, params)
    return OrderState(states[-1])


_ORDERS = cast(Table, Order.__table__)
_ORDER_KEYS = tuple(inspect(Order).get_property_by_column(col).key for col in _ORDERS.c)  # RETURNING's order
_EVENTS = cast(Table, OrderEvent.__table__)
_EVENT_COLUMNS = ("hub_id", "order_id", "trigger", "from_state", "to_state", "actor", "reason", "at")
_MOVES: dict[tuple[str, ...], Hot] = {}
_EVENT_INSERTS: dict[int, Hot] = {}
_MOVES_LOCK = threading.Lock()


def record_event(s: Session, order: Order, trigger: str, *, from_state: str, to_state: str, actor: str,
                 reason: str | None, now: datetime) -> None:
    """One history row of an order already written (flushed), as `transitions` writes its events: one INSERT built
    once (storage.hot), no OrderEvent object for the session to flush."""
    _events(1).run(s.connection(), {"hub_id_0": order.hub_id, "order_id_0": order.id, "trigger_0": trigger,
                                    "from_state_0": from_state, "to_state_0": to_state, "actor_0": actor,
                                    "reason_0": reason, "at_0": now})


def _events(n: int) -> Hot:
    """The INSERT of `n` history rows (binds `<column>_<row>`), built once per n."""
    hot = _EVENT_INSERTS.get(n)
    if hot is None:
        stmt = insert(_EVENTS).values([{name: bindparam(f"{name}_{i}", type_=_EVENTS.c[name].type)
                                        for name in _EVENT_COLUMNS} for i in range(n)]).inline()
        with _MOVES_LOCK:
            hot = _EVENT_INSERTS.setdefault(n, Hot(stmt))
    return hot


def _move(names: tuple[str, ...]) -> Hot:
    """transition's UPDATE for one set of changed columns (a handful: each call site changes the same ones)."""
    hot = _MOVES.get(names)
    if hot is None:
        c = _ORDERS.c
        values = {"state": bindparam("m_to", type_=c.state.type),
                  "updated_at": bindparam("m_at", type_=c.updated_at.type),
                  **{name: bindparam(f"m_{name}", type_=c[name].type) for name in names}}
        stmt = (update(_ORDERS).where(c.id == bindparam("m_id", type_=c.id.type),
                                      c.state == bindparam("m_from", type_=c.state.type))
                .values(values).returning(*c))
        with _MOVES_LOCK:
            hot = _MOVES.setdefault(names, Hot(stmt))
    return hot


def get_order(s: Session, hub_id: int, order_id: int) -> Order:
    """The hub's order by its id (the console's and the CLI's handle; the chat names orders by ref: find_by_ref).
    An order the session holds already is not read again."""
    order = s.get(Order, order_id)
    if order is None or order.hub_id != hub_id:
        raise OrderError(f"没有找到订单{order_id}，请核对编号。")
    return order


def find_by_ref(s: Session, hub_id: int, ref: int, with_volunteer: bool = False) -> Order | None:
    """The hub's order with this ref (单号), through uq_orders_hub_ref; None for a number no order of the hub has.
    `with_volunteer` (a rating): the membership of the order's volunteer is read with it, for volunteer_read."""
    if s.autoflush:
        s.flush()  # what a query through the session does first
    row = (_BY_REF_WITH_VOLUNTEER if with_volunteer else _BY_REF).run(s.connection(), {"hub_id": hub_id,
                                                                                      "ref": ref}).first()
    if row is None:
        return None
    order = held_by_ref(s, hub_id, row[:-3] if with_volunteer else row)
    assert order is not None  # (the primary key of a row found)
    memo = s.info.get(PER_MESSAGE)
    if memo is not None and with_volunteer and row[_VOLUNTEER_AT] is not None:  # (the row's: the membership joined)
        memo["volunteer here", hub_id, row[_VOLUNTEER_AT]] = tuple(row[-3:])
    return order


def held_by_ref(s: Session, hub_id: int, part: Sequence[Any]) -> Order | None:
    """The order of a row's BY_REF_COLUMNS (None: no order had the ref), held by the session as loaded; its orderer's
    openid and the hub's settings kept for the message (openid_by_id, settings_for)."""
    order = as_loaded(s, Order, part[:-2])
    if order is None:  # (the order's id NULL: by_ref_join's LEFT JOIN found none)
        return None
    openid, settings = part[-2:]
    memo = s.info.get(PER_MESSAGE)
    if memo is not None:  # openid_by_id finds it here (an openid never changes)
        memo["openid", order.ordered_by_user_id] = openid
        remember_settings(s, hub_id, settings)
    found: Order = order
    return found


def volunteer_read(s: Session, hub_id: int, volunteer_id: int) -> tuple[Any, ...] | None:
    """What find_by_ref(with_volunteer=True) read in this message of the volunteer's membership of the hub: (its id,
    its status, its user's openid), NULLs for none; taken once. None when it was not read."""
    memo = s.info.get(PER_MESSAGE)
    found: tuple[Any, ...] | None = None if memo is None else memo.pop(("volunteer here", hub_id, volunteer_id), None)
    return found


def tell_volunteer(s: Session, order: Order, volunteer_id: int | None, text: str, now: datetime) -> None:
    if volunteer_id is None:
        return
    # the user row of their membership here, in one statement (no membership, or one without a user: nobody to tell)
    openid = s.scalar(_VOLUNTEER_OPENID, {"hub_id": order.hub_id, "volunteer_id": volunteer_id})
    if openid is not None:
        notify(s, order.hub_id, openid, text, now)


def tell_resident(s: Session, order: Order, text: str, now: datetime, key: str | None = None,
                  also: Sequence[Message] = ()) -> None:
    """The resident and, for 代点单, the person who ordered (they receive the status updates); the office's row
    (orders staff took for a resident without WeChat) is messaged nothing: staff tell them by phone (tell_by_phone).
    `also`: other messages of the same step, queued with theirs in one statement (接单's notes to the others)."""
    targets = {order.ordered_by_user_id}
    if order.resident_user_id:
        targets.add(order.resident_user_id)
    batch = list(also)
    for user_id in sorted(targets):
        openid = openid_by_id(s, user_id)
        if openid is None:
            continue
        if reachable_openid(openid):
            batch.append(Message(openid, text, idempotency_key=f"{key}:{user_id}" if key else None))
        else:
            tell_by_phone(s, order, text, now, key=f"{key}:{user_id}" if key else None)
    if batch:
        enqueue_many(s, hub_id=order.hub_id, now=now, messages=batch)


def tell_other_party(s: Session, order: Order, actor_id: int | None, *, to_orderer: str, to_resident: str,
                     now: datetime, key: str) -> int:
    """代点单 (a family member ordered for someone who is a known user too): the one of the two who did not act is
    told, the orderer `to_orderer`, the one it is for `to_resident`; nobody when the order is one person's own.
    `actor_id`: the user who acted (None, or neither of them: a volunteer or staff, and only the one it is for is
    told: the orderer hears from the service loop already). How many were told."""
    resident, orderer = order.resident_user_id, order.ordered_by_user_id
    if resident is None or resident == orderer:
        return 0
    texts = {resident: to_resident} if actor_id != resident else {orderer: to_orderer}
    told = 0
    for user_id, words in texts.items():
        openid = openid_by_id(s, user_id)
        if openid is not None and reachable_openid(openid):
            notify(s, order.hub_id, openid, words, now, key=f"{key}:{user_id}")
            told += 1
    return told


_USER_OPENID = Hot(select(_USERS.c.openid).where(_USERS.c.id == bindparam("user_id")))


def openid_by_id(s: Session, user_id: int) -> str | None:
    """A user's openid (None: no such user): from the row the session holds or this message read it with, else one
    column of one row (not the whole user, whose phone would be decrypted for nothing)."""
    held = s.identity_map.get(identity_key(User, user_id))
    if held is not None:
        return str(held.openid)
    memo = s.info.get(PER_MESSAGE)
    if memo is not None and ("openid", user_id) in memo:  # read with the order this message named (find_by_ref)
        return memo["openid", user_id]  # type: ignore[no-any-return]
    if s.autoflush:
        s.flush()  # what a query through the session does first: a user added in this transaction is found
    row = _USER_OPENID.run(s.connection(), {"user_id": user_id}).first()
    return None if row is None else str(row[0])


def tell_by_phone(s: Session, order: Order, text: str, now: datetime, key: str | None = None) -> None:
    """A line of the console's call list: what the resident of an order taken by phone would have been told."""
    enqueue_call(s, hub_id=order.hub_id, order_id=order.id, text=text, now=now, idempotency_key=key)


# Orders staff take for a resident without WeChat (代客下单) are ordered by the hub's office: one users row per
# hub whose openid no WeChat account can have (real openids never hold a colon), never subscribed, no roles.
OFFICE_OPENID_PREFIX = "office:"


def office_user(s: Session, hub_id: int, now: datetime) -> User:
    """The hub's office row (created the first time staff take an order for someone without WeChat)."""
    openid = f"{OFFICE_OPENID_PREFIX}{hub_id}"
    user = s.execute(select(User).where(User.hub_id == hub_id, User.openid == openid)).scalar_one_or_none()
    if user is None:
        user = User(hub_id=hub_id, openid=openid, roles=[], nickname="社区办公室", subscribed=False, created_at=now)
        s.add(user)
        s.flush()
    return user


def reachable(user: User) -> bool:
    """Whether messages can go to this user through WeChat (not the office's row)."""
    return reachable_openid(user.openid)


def reachable_openid(openid: str) -> bool:
    """`reachable`, for the user with this openid."""
    return not openid.startswith(OFFICE_OPENID_PREFIX)
