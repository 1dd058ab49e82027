"""The service loop: submit (点单), accept (接单), support (配套), complete and rate (评单), cancel, the sweep.

Every function works inside the caller's transaction: state changes, history rows and outbox messages commit
together or not at all. Dispatch (派单) is bot/serviceloop/dispatch.py; the order row's shared operations
(transition, notices, errors) are bot/serviceloop/records.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from bot.clock import as_utc
from bot.dialogue.core import State, kept
from bot.errors import ConfigError
from bot.hubsettings import HubSettings, hub_settings
from bot.people import timebank, volunteers
from bot.people.points import Here, credit_for_order, volunteer_here
from bot.people.volunteers import ACTIVE_STATUSES, membership_of
from bot.serviceloop import edits
from bot.serviceloop.dispatch import (
    RETURNED,
    WITHDRAWN,
    Candidate,
    candidates,
    dispatch,
    fits,
    needs_staff_key,
    offer_text,
    offered_notes,
    withdraw_offers,
)
from bot.serviceloop.dispatch import offers as order_offers
from bot.serviceloop.lifecycle import OPEN_STATES, PLAIN_WORDS, IllegalTransitionError, OrderState
from bot.serviceloop.records import (
    STAFF_QUERY,
    AlreadyCompletedError,
    AlreadyYoursError,
    CancelledError,
    CannotCancelError,
    ConcurrentChangeError,
    GiveBackLimitError,
    HoursOutOfRangeError,
    HoursOverTimeError,
    NoLongerOpenError,
    NotAVolunteerError,
    NotForYouError,
    NotRatableError,
    NotYoursError,
    OrderError,
    Person,
    RatingOutOfRangeError,
    ReasonRequiredError,
    S,
    ServiceInfo,
    Step,
    TooEarlyError,
    TooManyOpenOrdersError,
    TooManyTasksError,
    find_by_ref,
    for_staff,
    get_order,
    notify,
    notify_staff,
    office_user,
    openid_by_id,
    reachable,
    reachable_openid,
    record_event,
    settings_for,
    staff_openids,
    tell_by_phone,
    tell_other_party,
    tell_resident,
    tell_volunteer,
    transition,
    transitions,
    volunteer_read,
    when_text,
)
from intents.address import community_of
from intents.idcard import hide_numbers
from intents.masking import mask_phone, served_label
from storage import orderrefs
from storage.conversations import change_conversation
from storage.hot import Hot, NewRow, as_loaded
from storage.models import (
    DIALOGUE_WAITING_SQL,
    DISPATCH_WAITING_SQL,
    Conversation,
    Hub,
    Membership,
    Order,
    OrderEvent,
    OrderOffer,
    OutboxMessage,
    ServiceRecord,
    User,
    Volunteer,
)
from storage.sealed import phone_lookup, sealer_of

# The service loop's shared pieces, used through this module by the chat, the CLI and the console.
__all__ = ["STAFF_QUERY", "AlreadyYoursError", "CancelledError", "Candidate", "CannotCancelError",
           "ConcurrentChangeError", "GiveBackLimitError", "HoursOutOfRangeError", "NoLongerOpenError",
           "NotAVolunteerError", "NotForYouError",
           "NotRatableError", "NotYoursError", "OrderError", "RatingOutOfRangeError", "ReasonRequiredError",
           "ServiceInfo", "TooEarlyError", "TooManyOpenOrdersError", "TooManyTasksError", "candidates", "dispatch",
           "find_by_ref", "for_staff", "get_order", "notify", "notify_staff", "offer_text", "office_user", "reachable",
           "settings_for", "staff_openids", "tell_by_phone", "time_left", "transition", "when_text"]
_get_order = get_order  # the CLI's name for it (bot/cli/orders.py, bot/cli/volunteers.py)


# -- 点单 ---------------------------------------------------------------------------------------


def submit_order(s: Session, *, hub_id: int, user: User, data: Mapping[str, Any], service: ServiceInfo,
                 now: datetime, taken_by: str | None = None, dispatch_now: bool = True,
                 open_orders: int | None = None, ref: int | None = None) -> Order:
    """Create the order (submitted) and dispatch it at once, or with `dispatch_now=False` leave it submitted for
    the worker (`claim_waiting`, within seconds): the chat does, so no dispatch runs inside the resident's passive
    reply. `taken_by` is the staff member who took it by phone or at the office (代客下单): the history names
    them; the office's row has no limit on open orders. `open_orders`: how many open orders the user has in this
    hub (OPEN_ORDERS), if the caller counted them in this transaction (else they are counted
    here). `ref`: the order's 单号 if the caller drew it in this transaction (storage.orderrefs.OneRound), else it is
    drawn here."""
    # stored as UTC: SQLite keeps only the wall-clock digits of an aware datetime
    start = as_utc(datetime.fromisoformat(data["start"])) if data.get("start") else None
    end = as_utc(datetime.fromisoformat(data["end"])) if data.get("end") else None
    proxy = data.get("for") or {}
    settings = settings_for(s, hub_id)
    open_now = open_orders if open_orders is not None else \
        s.scalar(select(OPEN_ORDERS).where(User.id == user.id), {"hub_id": hub_id}) or 0
    if open_now >= settings.max_open_orders_per_user and reachable(user):
        raise TooManyOpenOrdersError(settings.max_open_orders_per_user)
    repeat = str(data.get("repeat") or "")[:20]  # "每周三": this order is the first visit (timeparse.repeat_said)
    details = hide_numbers(data["details"]) if data.get("details") else None
    if repeat:
        details = f"{details or service.name}（居民希望{repeat}都来，这是第一次）"[:240]
    order = _insert_order(s, dict(
        hub_id=hub_id, state=S.SUBMITTED.value, service_code=service.code, details=details,
        ordered_by_user_id=user.id, resident_user_id=None if proxy else user.id,
        resident_name=proxy.get("name"), phone=proxy.get("phone") or data.get("phone"),
        address=data.get("address"), latitude=data.get("lat"), longitude=data.get("lng"),
        time_kind=data.get("time_kind") or "asap", start_at=start, end_at=end,
        needs_support=service.code in settings.support_services, created_at=now, updated_at=now), ref)
    reason = "工作人员代下单" if taken_by else "代点单" if proxy else None
    record_event(s, order, "submit", from_state="", to_state=S.SUBMITTED.value, actor=taken_by or user.openid,
                 reason=reason, now=now)
    if data.get("phone") and not user.phone and (not proxy or proxy.get("phone") not in (None, data["phone"])):
        user.phone = data["phone"]  # (代点单 with the relative's own phone: the phone given is the caller's)
    if proxy:
        _tell_beneficiary(s, order, user, service, now)
    if repeat:  # the summary promised it: staff arrange the visits after this one
        notify_staff(s, hub_id, f"居民希望{repeat}都有人来{service.name}：订单{order.ref}只约了第一次"
                     f"（{when_text(order)}）。请联系居民商量以后的安排。" + for_staff(order.ref), now,
                     key=f"repeat:{order.id}")
    if dispatch_now:
        dispatch(s, order, now=now, service=service, settings=settings, actor="auto")
    return order


# The new order's INSERT, every column bound but the id (returned), built once (storage.hot): what the ORM's flush
# of a new Order writes, without its unit of work (the costliest part of a confirmation on the hot path).
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_ORDER_COLUMNS = tuple(c for c in _ORDERS.c if c.key != "id")
_NEW_ORDER = Hot(insert(_ORDERS).values({c.key: bindparam(c.key, type_=c.type) for c in _ORDER_COLUMNS})
                 .returning(_ORDERS.c.id))


def _insert_order(s: Session, given: dict[str, Any], ref: int | None = None) -> Order:
    """A new order from `given` (its columns' values), written by one Core INSERT and held by the session as
    loaded (storage.hot.as_loaded). What the ORM's hooks give a new order is set here the same way: its 单号
    (storage.orderrefs), its community and urgency (storage.models), its phone's lookup hash (storage.sealed);
    the phone and the address are sealed by their column type as in any write. `ref`: its 单号 if drawn already."""
    s.flush()  # what the ORM's flush of the order wrote first (the rows it refers to among them)
    conn = s.connection()
    row = dict(given)
    for col in _ORDER_COLUMNS:  # a column not given: its default, as the ORM's insert would write it
        if col.key not in row:
            row[col.key] = col.default.arg if isinstance(col.default, ScalarElementColumnDefault) else None
    row["ref"] = ref if ref is not None else orderrefs.draw(conn, _ORDERS, row["hub_id"], 1)[0]
    row["community"] = community_of(row["address"])
    row["urgent"] = row["time_kind"] == "asap"
    row["phone_hash"] = sealer_of(conn).phone_hash(row["phone"]) if row["phone"] else None
    written = _NEW_ORDER.run(conn, row).first()
    assert written is not None  # INSERT … RETURNING id
    order = as_loaded(s, Order, (written[0], *(row[c.key] for c in _ORDER_COLUMNS)))
    assert order is not None
    return order


# How many open orders a user has in a hub (what max_open_orders_per_user limits; binds hub_id), correlated to
# `users`: read with the user's row (bot.inbox.actions.orders), or on its own (submit_order).
OPEN_ORDERS = (select(func.count(Order.id))
               .where(Order.hub_id == bindparam("hub_id"), Order.ordered_by_user_id == User.id,
                      Order.state.in_(sorted(st.value for st in OPEN_STATES)))
               .correlate(User).scalar_subquery())


def _tell_beneficiary(s: Session, order: Order, orderer: User, service: ServiceInfo, now: datetime) -> None:
    if not order.phone:
        return
    resident = s.execute(select(User).where(User.hub_id == order.hub_id, phone_lookup(s, User.phone_hash, order.phone))
                         .order_by(User.id)).scalars().first()
    if resident is not None and resident.id != orderer.id:  # (never the one who placed it: the office's own row)
        order.resident_user_id = resident.id
        notify(s, order.hub_id, resident.openid,
               f"您的家人为您预约了{service.name}（订单{order.ref}），时间：{when_text(order)}。有问题回复“人工”。",
               now, key=f"proxy:{order.id}")


# -- 派单 ---------------------------------------------------------------------------------------


def assign(s: Session, *, hub_id: int, order_id: int, volunteer_id: int, actor: str, now: datetime,
           service: ServiceInfo) -> Order:
    """Staff dispatch or reassign by hand."""
    order = get_order(s, hub_id, order_id)
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id, Membership.volunteer_id == volunteer_id,
                                                Membership.status.in_(ACTIVE_STATUSES))).scalar_one_or_none()
    if member is None:
        raise OrderError(f"志愿者{volunteer_id}不在本站或未通过审核。")
    if order.state in (S.ACCEPTED.value, S.SUPPORTED.value):
        previous = order.volunteer_id
        transition(s, order, "give_back", actor=actor, now=now, reason=f"工作人员改派（原志愿者{previous}）",
                   volunteer_id=None, accepted_at=None)
        tell_volunteer(s, order, previous, f"订单{order.ref}已由工作人员改派给其他志愿者，谢谢您。", now)
    s.execute(update(OrderOffer).where(OrderOffer.order_id == order.id, OrderOffer.outcome.is_(None))
              .values(outcome="lost"))
    _accept(s, order, member, actor=actor, now=now, service=service, reason="工作人员派单")
    return order


# -- the dispatch queue: new and handed-back orders, dispatched by the worker (bot/worker/jobs.py) -------------


def time_left(now: datetime) -> ColumnElement[bool]:
    """The order's time has not passed (the complement of `_appointment_passed`, in SQL): its end, else its start,
    is still ahead; an order "as soon as possible" lasts ASAP_LIFETIME. One whose time passed is the sweep's to
    expire, not to offer (the dispatch queue) nor to list (bot.serviceloop.listings, 有什么任务)."""
    o = Order
    return or_(and_(o.start_at.is_(None), o.created_at >= now - ASAP_LIFETIME),
               and_(o.start_at.is_not(None), func.coalesce(o.end_at, o.start_at) >= now))


def claim_waiting(s: Session, now: datetime, skip: Collection[int] = ()) -> Order | None:
    """The next order waiting for its dispatch (submitted: new, or handed back; `skip` leaves out ids): an urgent
    one (尽快, time_kind asap) before any other, then the oldest; claimed for the caller's transaction; None when
    nothing waits. On PostgreSQL the claim is SELECT … FOR UPDATE SKIP LOCKED along the partial index
    `ix_orders_dispatch_queue` (urgent desc, id): the row stays locked until the caller commits,
    so another worker skips it and claims the next; on SQLite every writing transaction is BEGIN IMMEDIATE (one
    writer at a time), so a second worker finds it dispatched."""
    query = (select(Order).where(text(DISPATCH_WAITING_SQL), time_left(now))
             .order_by(Order.urgent.desc(), Order.id).limit(1))
    if skip:
        query = query.where(Order.id.not_in(list(skip)))
    if s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return s.execute(query).scalar_one_or_none()


def dispatch_claimed(s: Session, order: Order, now: datetime, services: Mapping[str, ServiceInfo]) -> int:
    """Dispatch an order `claim_waiting` returned; how many were offered it. The passive reply of a new order only
    said we are looking: when nobody can take it, the resident hears that staff will arrange it."""
    service = services.get(order.service_code, ServiceInfo(order.service_code, order.service_code))
    first = order.dispatch_round == 0
    offered = dispatch(s, order, now=now, service=service, settings=settings_for(s, order.hub_id), actor="auto")
    if first and not offered:
        tell_resident(s, order, f"订单{order.ref}暂时没有空闲的志愿者，已请社区工作人员帮您安排。", now,
                      key=f"no-volunteer:{order.id}")
    return offered


# -- 接单 ---------------------------------------------------------------------------------------


def accept(s: Session, *, hub_id: int, user: User, order_id: int, now: datetime, service: ServiceInfo,
           member: Membership | None = None, open_tasks: int | None = None) -> Order:
    """A volunteer's 接单: the first valid acceptance wins. Only an order offered to them, posted to their team, or
    one that fits them (skill or team, age, free then) can be taken; a refusal raises its OrderError. `member`: the
    user's membership of this hub as the caller read it in this transaction (else it is read here); `open_tasks`:
    how many tasks the volunteer holds (accepted or supported, in any hub), if the caller counted them in this
    transaction (else they are counted here)."""
    member = member if member is not None else membership_of(s, hub_id, user)
    if member is None or member.status not in ACTIVE_STATUSES:
        raise NotAVolunteerError(member.status if member is not None else None)
    order = get_order(s, hub_id, order_id)
    if order.volunteer_id == member.volunteer_id and order.state in (S.ACCEPTED.value, S.SUPPORTED.value):
        raise AlreadyYoursError(order.ref)
    if order.state == S.CANCELLED.value:
        raise CancelledError(order.ref, by_resident=_cancelled_by_resident(s, order))
    if order.state not in (S.SUBMITTED.value, S.DISPATCHED.value):
        raise NoLongerOpenError(order.ref)
    vol = s.get(Volunteer, member.volunteer_id)
    if vol is not None and volunteers.is_minor(vol, now) and order.service_code not in (vol.skills or []):
        # a minor takes only their own skills, which are limited to services suited to minors
        raise NotForYouError(order.ref, minor=True)
    settings = settings_for(s, hub_id)
    if open_tasks is None:
        open_tasks = s.scalar(select(func.count()).select_from(Order).where(
            Order.volunteer_id == member.volunteer_id, Order.state.in_([S.ACCEPTED.value, S.SUPPORTED.value]))) or 0
    if open_tasks >= member.max_open_tasks:
        raise TooManyTasksError(open_tasks)
    # the offers read once: who may take it (may_take's rule), and then who else is told it is taken
    offered = order_offers(s, order) if order.dispatch_round else []  # (never dispatched: never offered)
    if not (_offered_among(offered, member) or fits(s, order, now, member.volunteer_id)):
        raise NotForYouError(order.ref)
    try:
        _accept(s, order, member, actor=user.openid, now=now, service=service, reason=None, settings=settings,
                offered=offered)
    except ConcurrentChangeError as exc:
        raise NoLongerOpenError(order.ref) from exc
    return order


def _cancelled_by_resident(s: Session, order: Order) -> bool:
    """Whether the order's cancellation was the resident's own (or the orderer's), not staff's."""
    actor = s.scalar(select(OrderEvent.actor).where(OrderEvent.order_id == order.id, OrderEvent.trigger == "cancel")
                     .order_by(OrderEvent.id.desc()).limit(1))
    return actor is not None and actor in {openid_by_id(s, uid) for uid in (order.ordered_by_user_id,
                                                                            order.resident_user_id) if uid}


def may_take(s: Session, order: Order, member: Membership, now: datetime) -> bool:
    """The one rule of who may 接单 an open order (also what "有什么任务" lists): offered to them or their team, or
    they fit it now (skill or team, minors by their own skills, free then, under their task limit)."""
    return offered_to(s, order, member) or fits(s, order, now, member.volunteer_id)


# (an offer withdrawn when the resident changed the service is no offer any more)
_STANDING = or_(OrderOffer.outcome.is_(None), OrderOffer.outcome != WITHDRAWN)
_OFFERED_TO = Hot(select(OrderOffer.id).where(OrderOffer.order_id == bindparam("order_id"), _STANDING,
                                              OrderOffer.volunteer_id == bindparam("volunteer_id")).limit(1))
_OFFERED_TO_TEAM = Hot(select(OrderOffer.id).where(OrderOffer.order_id == bindparam("order_id"), _STANDING, or_(
    OrderOffer.volunteer_id == bindparam("volunteer_id"),
    OrderOffer.volunteer_id.in_(select(Membership.volunteer_id).where(Membership.hub_id == bindparam("hub_id"),
                                                                     Membership.team_id == bindparam("team_id"))))
    ).limit(1))  # (both storage.hot statements: run on the cursor, built once)
_ACCEPTED_OFFER = Hot(update(OrderOffer).where(OrderOffer.order_id == bindparam("order_id"),
                                               OrderOffer.volunteer_id == bindparam("volunteer_id"))
                      .values(outcome="accepted"))


def _offered_among(offered: list[Any], member: Membership) -> bool:
    """offered_to on the order's offers as dispatch.offers read them (an offer withdrawn is none)."""
    return any(outcome != WITHDRAWN and (volunteer_id == member.volunteer_id or (
        member.team_id is not None and team is not None and team.id == member.team_id))
        for volunteer_id, _round, outcome, _openid, team in offered)


def offered_to(s: Session, order: Order, member: Membership) -> bool:
    """Offered to this volunteer, or to someone of their team (the offer was posted in the team's group chat)."""
    params = {"order_id": order.id, "volunteer_id": member.volunteer_id}
    if s.autoflush:
        s.flush()  # what a query through the session does first
    if member.team_id is None:
        return _OFFERED_TO.run(s.connection(), params).first() is not None
    return _OFFERED_TO_TEAM.run(s.connection(), {**params, "hub_id": order.hub_id, "team_id": member.team_id}
                                ).first() is not None


def _accept(s: Session, order: Order, member: Membership, *, actor: str, now: datetime, service: ServiceInfo,
            reason: str | None, settings: HubSettings | None = None, offered: list[Any] | None = None) -> None:
    """The order taken by `member`: the resident told who comes, and in the same statement the others it was offered
    to (who have not answered) and the team groups it was posted in, that it is taken (no resident's name, phone
    or address: a group post's words). `offered`: the order's offers (dispatch.offers) if the caller read them."""
    transition(s, order, "accept", actor=actor, now=now, reason=reason, volunteer_id=member.volunteer_id,
               accepted_at=now)
    # (transition flushed the session: nothing unwritten is left to go first)
    _ACCEPTED_OFFER.run(s.connection(), {"order_id": order.id, "volunteer_id": member.volunteer_id})
    vol = s.get(Volunteer, member.volunteer_id)
    assert vol is not None
    if offered is None:
        offered = order_offers(s, order) if order.dispatch_round else []
    notes = offered_notes(s, order, f"订单{order.ref}（{service.name}）已有志愿者接单，谢谢大家！",
                          key=f"taken:{order.id}:{order.dispatch_round}", offered=offered, taken=True)
    tell_resident(s, order, f"好消息！您的{service.name}订单{order.ref}已由志愿者{vol.name}接单"
                   f"（电话 {mask_phone(vol.phone)}），时间：{when_text(order)}。", now,
                   key=f"accepted:{order.id}:{vol.id}", also=notes)
    if order.needs_support:
        notify_staff(s, order.hub_id, f"订单{order.ref}（{service.name}，{when_text(order)}）已接单，需要社区配套"
                     f"（场地/物资/人员）。{for_staff(order.ref)}", now,
                     key=f"support-needed:{order.id}:{vol.id}")


def _volunteers_order(s: Session, hub_id: int, user: User, order_id: int, doing: str,
                      member: Membership | None = None, member_known: bool = False) -> tuple[Membership, Order]:
    """The order and the user's membership (`member_known`: as the caller read it, None for none; else read here);
    NotYoursError unless this user is the volunteer who holds it."""
    if not member_known:
        member = membership_of(s, hub_id, user)
    order = get_order(s, hub_id, order_id)
    if member is None or order.volunteer_id != member.volunteer_id:
        raise NotYoursError(order.ref, doing)
    return member, order


def give_back(s: Session, *, hub_id: int, user: User, order_id: int, reason: str, now: datetime,
              service: ServiceInfo, dispatch_now: bool = True, member: Membership | None = None,
              member_known: bool = False) -> Order:
    """退单: the volunteer hands the task back (with a reason, a few times a day at most) and it is offered again:
    at once, or with `dispatch_now=False` (the chat) by the worker within seconds, as a new order is. `member`,
    `member_known`: the user's membership as the caller read it (_volunteers_order)."""
    member, order = _volunteers_order(s, hub_id, user, order_id, doing="接的，不能退单", member=member,
                                      member_known=member_known)
    if not reason.strip():
        raise ReasonRequiredError()
    settings = settings_for(s, hub_id)
    # the resident moved the time after it was taken (bot.serviceloop.edits): giving it back then is not counted
    free = edits.free_give_back(s, order)
    reason = reason.replace(edits.FREE_GIVE_BACK, "").strip() or reason
    returned = 0 if free else s.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.actor == user.openid, OrderEvent.trigger == "give_back", OrderEvent.at >= now - timedelta(days=1),
        or_(OrderEvent.reason.is_(None), OrderEvent.reason.not_like(edits.FREE_GIVE_BACK + "%"))))
    if (returned or 0) >= settings.give_backs_per_day:
        raise GiveBackLimitError(settings.give_backs_per_day)
    if free:
        reason = edits.FREE_GIVE_BACK + reason
    transition(s, order, "give_back", actor=user.openid, now=now, reason=reason, volunteer_id=None, accepted_at=None)
    # the offer row says "returned": dispatch offers the order only to those not offered it yet, and "有什么任务" /
    # "我的任务" skip it for this volunteer; one who took it without an offer (it fit them) gets a row all the same
    marked = s.execute(update(OrderOffer).where(OrderOffer.order_id == order.id,
                                                OrderOffer.volunteer_id == member.volunteer_id)
                       .values(outcome=RETURNED))
    if not marked.rowcount:  # type: ignore[attr-defined]
        s.execute(insert(OrderOffer).values(hub_id=order.hub_id, order_id=order.id, volunteer_id=member.volunteer_id,
                                            round=order.dispatch_round, outcome=RETURNED, at=now))
    tell_resident(s, order, f"您的订单{order.ref}原定志愿者新时间去不了，我们正在按新时间重新安排，请稍候。" if free
                  else f"您的订单{order.ref}原定志愿者临时有事，我们正在重新安排，请稍候。", now)
    if dispatch_now:
        dispatch(s, order, now=now, service=service, settings=settings, actor="auto")
    return order


# -- 配套 ---------------------------------------------------------------------------------------


def confirm_support(s: Session, *, hub_id: int, order_id: int, note: str, actor: str, now: datetime,
                    service: ServiceInfo) -> Order:
    order = get_order(s, hub_id, order_id)
    transition(s, order, "support", actor=actor, now=now, reason=note, support_note=note)
    tell_resident(s, order, f"社区已为您的订单{order.ref}做好配套：{note}", now)
    tell_volunteer(s, order, order.volunteer_id, f"订单{order.ref}社区配套已确认：{note}", now)
    return order


# -- 完成 and 评单 ---------------------------------------------------------------------------------


def complete(s: Session, *, hub_id: int, user: User, order_id: int, hours: float, now: datetime,
             service: ServiceInfo, member: Membership | None = None, member_known: bool = False,
             within_time_worked: bool = False, rater_conversation: tuple[Any, ...] | None = None) -> Order:
    """The volunteer reports the service done, once the appointment has started; the resident is asked to rate.
    `member`, `member_known`: the user's membership as the caller read it (_volunteers_order). `rater_conversation`:
    the conversation of the order's orderer as the caller read it in this transaction (ask_rating). `within_time_worked`
    (the chat's 完成, the volunteer's own word): no more hours than the time since the service could have started
    (time_worked) and HOURS_LEEWAY; more is refused with the most that can be recorded (staff record more on the
    order's page, staff_complete, after checking)."""
    _member, order = _volunteers_order(s, hub_id, user, order_id, doing="接的", member=member,
                                       member_known=member_known)
    if order.state in (S.COMPLETED.value, S.RATED.value, S.CLOSED.value):
        raise AlreadyCompletedError(order.ref, order.hours)  # reported already: the hours stay (staff change them)
    settings = settings_for(s, hub_id)
    if not 0 < hours <= settings.max_hours_per_order:
        raise HoursOutOfRangeError(order.ref, settings.max_hours_per_order)
    if order.start_at is not None and now < as_utc(order.start_at):
        raise TooEarlyError(order.ref, when_text(order))  # staff confirm an early finish in the console
    worked = time_worked(order, now) if within_time_worked else None
    if worked is not None and hours > hours_at_most(worked[1]) + 1e-9:
        since, elapsed = worked  # staff record more on the order's page (staff_complete) after checking
        raise HoursOverTimeError(order.ref, since, int(elapsed.total_seconds() // 60), hours_at_most(elapsed))
    transition(s, order, "complete", actor=user.openid, now=now, hours=hours, completed_at=now)
    ask_rating(s, order, service, now, conversation=rater_conversation)
    _tell_served(s, order, service, now)
    return order


# A volunteer's hours may exceed the time since the service could have started by this much (a clock read
# loosely, the way there, a reply sent late); more is refused with the most that can be recorded (complete).
HOURS_LEEWAY = timedelta(minutes=30)


def time_worked(order: Order, now: datetime) -> tuple[str, timedelta] | None:
    """Since when the service could have been under way ("接单" or "约定的开始时间", whichever is later) and how long
    ago that is; None when the order has neither time (then only max_hours_per_order bounds the hours)."""
    accepted = as_utc(order.accepted_at) if order.accepted_at is not None else None
    start = as_utc(order.start_at) if order.start_at is not None else None
    if accepted is None and start is None:
        return None
    if start is not None and (accepted is None or start > accepted):
        return "约定的开始时间", max(now - start, timedelta(0))
    assert accepted is not None
    return "接单", max(now - accepted, timedelta(0))


def hours_at_most(elapsed: timedelta) -> float:
    """The most hours a volunteer may report after `elapsed`: with HOURS_LEEWAY, in half hours rounded down."""
    half_hours = int((elapsed + HOURS_LEEWAY).total_seconds() // 1800)
    return max(half_hours, 1) / 2


def _tell_served(s: Session, order: Order, service: ServiceInfo, now: datetime) -> None:
    """代点单: the one it is for hears the service is done (the orderer is asked to rate it)."""
    tell_other_party(s, order, None, to_orderer="", to_resident=f"志愿者已完成{service.name}（订单{order.ref}），"
                     "您的家人会给服务打分。谢谢您！", now=now, key=f"done:{order.id}")


def staff_complete(s: Session, *, hub_id: int, order_id: int, hours: float, actor: str, now: datetime,
                   service: ServiceInfo) -> Order:
    """Staff record a finished service for the volunteer who holds it, early finishes included (the volunteer's own
    "完成" waits for the appointment); the resident is asked to rate as usual."""
    order = get_order(s, hub_id, order_id)
    settings = settings_for(s, hub_id)
    if not 0 < hours <= settings.max_hours_per_order:
        raise HoursOutOfRangeError(order.ref, settings.max_hours_per_order)
    transition(s, order, "complete", actor=actor, now=now, reason="工作人员代为登记完成", hours=hours,
               completed_at=now)
    tell_volunteer(s, order, order.volunteer_id, f"工作人员已为您登记订单{order.ref}完成，服务{hours:g}小时，谢谢您！",
                   now)
    ask_rating(s, order, service, now)
    _tell_served(s, order, service, now)
    return order


def ask_rating(s: Session, order: Order, service: ServiceInfo, now: datetime, reminder: bool = False,
               conversation: tuple[Any, ...] | None = None) -> None:
    """Ask whoever rates (the orderer for 代点单, else the resident) and put them in the rating dialogue.
    `conversation`: the rater's conversation row as the caller read it in this transaction (change_conversation's
    `known`), else it is read here."""
    rater = openid_by_id(s, order.ordered_by_user_id)
    if rater is None:
        return
    if not reachable_openid(rater):  # without WeChat: staff ask by phone (the call list) and record it (rate)
        if not reminder:
            tell_by_phone(s, order, f"{service.name}（订单{order.ref}）已经做完了，请问对服务打几颗心（0-5）、"
                          f"有什么意见，在订单页登记。", now, key=f"rate-ask:{order.id}:0")
        return
    prefix = "提醒：" if reminder else ""
    notify(s, order.hub_id, rater,
           f"{prefix}志愿者已完成{service.name}（订单{order.ref}）。请给服务打分：回复 0-5（5 颗心最满意），"
           f"也可以说“满意”“一般”。", now, key=f"rate-ask:{order.id}:{int(reminder)}")
    rating = {"rate_order": order.ref, "last_at": now.isoformat()}

    def into_rating(state: str, slots: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        # someone in the middle of another dialogue finishes it first; the reminder asks again later
        return (State.RATE, {**slots, **rating}) if state in (State.IDLE, State.RATE) else None

    change_conversation(s, hub_id=order.hub_id, user_id=order.ordered_by_user_id, now=now, edit=into_rating,
                        known=conversation)


def _own_order(s: Session, hub_id: int, user: Person, order_id: int, doing: str) -> Order:
    """The order, if the user ordered it or it is for them."""
    order = get_order(s, hub_id, order_id)
    if user.id not in (order.ordered_by_user_id, order.resident_user_id):
        raise NotYoursError(order.ref, doing)
    return order


def rate(s: Session, *, hub_id: int, user: Person, order_id: int, hearts: int, now: datetime,
         service: ServiceInfo, verified_by: str = "resident", actor: str | None = None) -> Order:
    """The resident's hearts (`user`: who rates, a User or only their id and openid); staff record the ones a
    resident without WeChat gives by phone (`verified_by` "staff_phone", `actor` the staff member) for the office's
    row."""
    order = _own_order(s, hub_id, user, order_id, doing="，不能评价")
    if not 0 <= hearts <= 5:
        raise RatingOutOfRangeError()
    if order.state != S.COMPLETED.value:
        raise NotRatableError(order.ref, order.rating is not None, PLAIN_WORDS[OrderState(order.state)])
    settings = settings_for(s, hub_id)
    flagged = hearts <= settings.low_rating_threshold
    rated = Step("rate", actor or user.openid, None, {"rating": hearts, "flagged": flagged, "verified_by": verified_by})
    # a low rating waits for staff (review); any other closes at once: both moves in one write
    transitions(s, order, [rated] if flagged else [rated, Step("close", "auto", "已评价")], now=now)
    # the volunteer's membership and user, read once: for the points (a first service) and for the notices
    here = _volunteer_here(s, hub_id, order.volunteer_id) if order.volunteer_id is not None else None
    write_record(s, order, service, now, verified_by=verified_by, settings=settings, here=here)
    if flagged:
        notify_staff(s, hub_id, f"订单{order.ref}（{service.name}）评价为{hearts}颗心，请回访核查。"
                     f"{for_staff(order.ref)}", now, key=f"low-rating:{order.id}")
    if here is not None and here.openid is not None:  # tell_volunteer: their membership's user
        notify(s, hub_id, here.openid, f"订单{order.ref}居民评价：{'❤' * hearts or '0颗心'}。", now)
    return order


def _volunteer_here(s: Session, hub_id: int, volunteer_id: int) -> Here:
    """points.volunteer_here, or what this message read of it with the order by its ref (volunteer_read)."""
    read = volunteer_read(s, hub_id, volunteer_id)
    return Here(*read) if read is not None else volunteer_here(s, hub_id, volunteer_id)


def add_comment(s: Session, *, hub_id: int, user: User, order_id: int, comment: str, now: datetime,
                actor: str | None = None) -> Order:
    order = _own_order(s, hub_id, user, order_id, doing="")
    comment = hide_numbers(comment)  # an ID or bank-card number said in a comment is never kept
    order.comment = comment[:500]
    order.updated_at = now
    record = s.execute(select(ServiceRecord).where(ServiceRecord.order_id == order.id)).scalar_one_or_none()
    if record is not None:
        record.comment = order.comment
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger="comment", from_state=order.state,
                     to_state=order.state, actor=actor or user.openid, reason=comment[:200], at=now))
    return order


def write_record(s: Session, order: Order, service: ServiceInfo, now: datetime, *, verified_by: str,
                 label: str | None = None, settings: HubSettings | None = None, here: Here | None = None) -> None:
    """The ledger row and the points for it (both at most once per order: the row is unique per order); `label` is
    who was served as the ledger shows it (masked) when it is not the order's one resident (walk-ins at an event:
    bot.serviceloop.walkins); `here`: the volunteer's membership, if the caller read it (points.volunteer_here)."""
    if order.volunteer_id is None or order.hours is None:
        return
    # the row's start and end are as long apart as its hours (the national systems' imports check it): from the
    # appointment's start, or when that leaves no room before the completion was reported (a staff early finish,
    # an urgent order done at once), the hours before the report
    reported = as_utc(order.completed_at) if order.completed_at else now
    length = timedelta(hours=order.hours)
    started = as_utc(order.start_at) if order.start_at else None
    if started is None or started + length > reported:
        started = reported - length
    ended = started + length
    label = label or served_label(order.resident_name, order.phone)
    if s.autoflush:
        s.flush()  # what s.execute() would do first
    written = _NEW_RECORD.run(s.connection(), {
        "hub_id": order.hub_id, "order_id": order.id, "volunteer_id": order.volunteer_id, "service_code": service.code,
        "resident_label": label, "content": order.details, "started_at": started, "ended_at": ended,
        "service_date": started, "hours": order.hours, "rating": order.rating, "comment": order.comment,
        "verified_by": verified_by, "created_at": now}).first()
    if written is None:  # the order's row was written before
        return
    credit_for_order(s, order, settings or settings_for(s, order.hub_id), now, record_hours=order.hours, here=here)


# the ledger row of write_record, at most one per order (unique order_id), built once (storage.hot)
_NEW_RECORD = NewRow(ServiceRecord.__table__, (
    "hub_id", "order_id", "volunteer_id", "service_code", "resident_label", "content", "started_at", "ended_at",
    "service_date", "hours", "rating", "comment", "verified_by", "created_at"), returning=("id",))


# -- cancel, staff, lists -----------------------------------------------------------------------


def cancel(s: Session, *, hub_id: int, order_id: int, actor: str, reason: str, now: datetime,
           user: User | None = None) -> Order:
    """Cancel an open order: by its resident (`user`) or by staff; the volunteer and the resident are told."""
    order = _own_order(s, hub_id, user, order_id, doing="，不能取消") if user is not None else \
        get_order(s, hub_id, order_id)
    try:
        transition(s, order, "cancel", actor=actor, now=now, reason=reason)
    except IllegalTransitionError as exc:
        raise CannotCancelError(order.ref, PLAIN_WORDS[OrderState(order.state)]) from exc
    tell_volunteer(s, order, order.volunteer_id, f"订单{order.ref}已取消（{reason}），不用去了，谢谢您。", now)
    if order.volunteer_id is None:  # still waiting for someone: those offered it (and their groups) are told
        withdraw_offers(s, order, f"订单{order.ref}已取消（{reason}），不用再接了，谢谢您！", now)
    timebank.release_order(s, order, now)  # hours held for an order paid with banked hours go back
    if user is None:
        # staff's own words, framed as theirs: the resident learns who cancelled it and where to ask
        said = " ".join(reason.split())[:60]
        tell_resident(s, order, f"您的订单{order.ref}已取消，是社区工作人员操作的" +
                      (f"，原因：{said}" if said else "") + "。有疑问回复“人工”，需要的话可以重新下单。", now)
    else:  # 代点单: the other of the two is told
        tell_other_party(s, order, user.id, to_orderer=f"您为家人下的订单{order.ref}，对方已经取消了。",
                         to_resident=f"家人为您预约的订单{order.ref}已经取消了。有问题回复“人工”。", now=now,
                         key=f"cancelled:{order.id}")
    return order


def change_service(s: Session, *, hub_id: int, order_id: int, service: ServiceInfo, actor: str, now: datetime,
                   settings: HubSettings | None = None) -> Order:
    """Staff correct what an order is for (the matcher chose wrong) while nobody holds it: offers of the old
    service lapse and it is offered again, to the new service's volunteers; the change is in the history."""
    order = get_order(s, hub_id, order_id)
    if order.state not in (S.SUBMITTED.value, S.DISPATCHED.value):
        raise OrderError(f"订单{order.ref}{PLAIN_WORDS[OrderState(order.state)]}，不能再改服务了。")
    if order.service_code == service.code:
        raise OrderError(f"订单{order.ref}已经是{service.name}了。")
    settings = settings or settings_for(s, hub_id)
    s.execute(update(OrderOffer).where(OrderOffer.order_id == order.id, OrderOffer.outcome.is_(None))
              .values(outcome="lost"))
    s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger="service_change", from_state=order.state,
                     to_state=order.state, actor=actor, reason=f"{order.service_code}→{service.code}", at=now))
    order.service_code = service.code
    order.needs_support = service.code in settings.support_services
    order.updated_at = now
    dispatch(s, order, now=now, service=service, settings=settings, actor=actor)
    return order


def review(s: Session, *, hub_id: int, order_id: int, actor: str, note: str, now: datetime) -> Order:
    """Staff have looked into a low rating: the order closes with their note in the history."""
    order = get_order(s, hub_id, order_id)
    if not order.flagged:
        raise OrderError(f"订单{order.ref}没有待核查的低分评价。")
    if order.state == S.CLOSED.value:  # closed, then re-rated lower (out10): the review is the history's note alone
        order.flagged, order.updated_at = False, now
        record_event(s, order, "review", from_state=order.state, to_state=order.state, actor=actor,
                     reason=f"核查：{note}", now=now)
        return order
    transition(s, order, "close", actor=actor, now=now, reason=f"核查：{note}", flagged=False)
    return order


def staff_confirm(s: Session, *, hub_id: int, order_id: int, actor: str, now: datetime,
                  service: ServiceInfo) -> Order:
    """Staff confirm a reported completion for a resident who cannot (hours verified, no rating)."""
    order = get_order(s, hub_id, order_id)
    transition(s, order, "close", actor=actor, now=now, reason="工作人员确认完成", verified_by="staff")
    write_record(s, order, service, now, verified_by="staff")
    return order


# -- the sweep (worker, every minute) ------------------------------------------------------------
#
# Set-based: each run reads only what is due, through indexes on (hub, state, due time) (migration 0011), at most
# SWEEP_BATCH orders and SWEEP_BATCH dialogues per hub; whatever is left is due still and goes next minute. A hub
# with nothing due costs three statements (its settings, due dialogues, due orders), whatever its history.


@dataclass
class SweepStats:
    widened: int = 0
    escalated: int = 0
    expired: int = 0
    reminded: int = 0
    closed: int = 0
    dialogues_expired: int = 0


SWEEP_BATCH = 500  # per hub and run; a run stays short even after a long outage
ASAP_LIFETIME = timedelta(days=2)  # an order "as soon as possible" nobody took is over after this

# Dialogue states that are waiting on the user and may time out (rating waits much longer: see sweep). The
# partial index ix_conversations_waiting holds the other conversations; storage.models spells the same states.
WAITING_STATES_EXEMPT = frozenset({State.IDLE, State.HUMAN, State.RATE, State.RATE_COMMENT})


def expire_dialogues(s: Session, hub_id: int, now: datetime, timeout: timedelta, batch: int = SWEEP_BATCH) -> int:
    """Half-finished dialogues idle past the timeout go back to the start, with a kind note (the oldest first,
    at most `batch`)."""
    due = s.execute(select(Conversation.id, Conversation.user_id, Conversation.version, Conversation.updated_at)
                    .where(Conversation.hub_id == hub_id, text(DIALOGUE_WAITING_SQL),
                           Conversation.updated_at <= now - timeout)
                    .order_by(Conversation.updated_at).limit(batch)).all()
    if not due:
        return 0
    users = {u.id: u for u in s.scalars(select(User).where(User.id.in_({row.user_id for row in due})))}
    count = 0
    for conv_id, user_id, version, updated_at in due:
        if now - as_utc(updated_at) < timeout:  # the rule in Python too (SQLite compares the stored text)
            continue
        # Guarded by the version read: a resident whose message lands meanwhile keeps their fresh state.
        if not change_conversation(s, hub_id=hub_id, user_id=user_id, now=now, create=False,
                                   expected_version=version, edit=lambda _state, slots: (State.IDLE, kept(slots))):
            continue
        user = users.get(user_id)
        if user is not None:
            notify(s, hub_id, user.openid,
                   "刚才的事情还没办完，已经帮您先取消了。需要时随时再说，回复“菜单”看看能做什么。",
                   now, key=f"dialogue-expired:{conv_id}:{int(now.timestamp() // 60)}")
        count += 1
    return count


class Move(StrEnum):
    """What the sweep does to one order this minute."""

    WAIT = "wait"
    EXPIRE = "expire"  # the appointment passed with nobody on it
    WIDEN = "widen"  # offer it to more volunteers
    ESCALATE = "escalate"  # ask staff to dispatch by hand
    REMIND = "remind"  # ask the resident again for a rating
    CLOSE = "close"  # unrated for too long: close it and keep the record


def decide(state: str, *, dispatch_round: int, waited: timedelta, appointment_passed: bool,
           settings: HubSettings) -> Move:
    """The sweep's rule for one order (pure): its state, how long it has waited in it, whether its time passed."""
    if state == S.DISPATCHED.value:
        if appointment_passed:
            return Move.EXPIRE
        if dispatch_round == 1 and waited >= timedelta(minutes=settings.widen_after_minutes):
            return Move.WIDEN
        if dispatch_round == 2 and waited >= timedelta(
                minutes=settings.escalate_after_minutes - settings.widen_after_minutes):
            return Move.ESCALATE
        return Move.WAIT
    if state == S.SUBMITTED.value:
        return Move.EXPIRE if appointment_passed else Move.WAIT
    if state == S.COMPLETED.value:
        if waited >= timedelta(hours=settings.close_unrated_hours):
            return Move.CLOSE
        if waited >= timedelta(hours=settings.rating_reminder_hours):
            return Move.REMIND
    return Move.WAIT


SWEPT_STATES = (S.DISPATCHED.value, S.SUBMITTED.value, S.COMPLETED.value)
UNACCEPTED = (S.DISPATCHED.value, S.SUBMITTED.value)


@dataclass(frozen=True)
class Cuts:
    """The sweep's thresholds at one moment: a row is due when its time is at or before its cut. Plain datetimes
    for one hub, or the columns of a VALUES table holding every hub's (`due_hubs`)."""

    dialogue: Any
    widen: Any
    escalate: Any
    remind: Any
    close: Any

    @classmethod
    def at(cls, now: datetime, cfg: HubSettings) -> Cuts:
        return cls(dialogue=now - timedelta(minutes=cfg.dialogue_timeout_minutes),
                   widen=now - timedelta(minutes=cfg.widen_after_minutes),
                   escalate=now - timedelta(minutes=cfg.escalate_after_minutes - cfg.widen_after_minutes),
                   remind=now - timedelta(hours=cfg.rating_reminder_hours),
                   close=now - timedelta(hours=cfg.close_unrated_hours))


def _due_order_selects(what: Any, now: datetime, c: Cuts, where_hub: Callable[[Select[Any]], Select[Any]],
                       ) -> list[Select[Any]]:
    """One SELECT of `what` per way an order becomes due (`decide`'s non-WAIT moves, exactly), each a range on an
    index of (hub_id, state, due time); `where_hub` narrows each to the hub(s)."""
    o = Order

    def since_before(cut: Any) -> ColumnElement[bool]:  # decide's "waited" for a dispatched order
        return or_(o.dispatched_at <= cut, and_(o.dispatched_at.is_(None), o.created_at <= cut))

    # the reminder's outbox row (ask_rating's key "rate-ask:<id>:1"), found through the unique key's index
    reminded = exists().where(OutboxMessage.idempotency_key == literal("rate-ask:") + cast(o.id, String) + ":1")
    branches = (
        # the appointment passed with nobody on it (decide: EXPIRE): its end, else its start, is before now
        (o.state.in_(UNACCEPTED), o.end_at < now, o.start_at.is_not(None)),
        (o.state.in_(UNACCEPTED), o.start_at < now, o.end_at.is_(None)),
        (o.state.in_(UNACCEPTED), o.start_at.is_(None), o.created_at < now - ASAP_LIFETIME),
        # unanswered: widen after the first round, then escalate (decide: WIDEN, ESCALATE)
        (o.state == S.DISPATCHED.value, o.dispatch_round == 1, since_before(c.widen)),
        (o.state == S.DISPATCHED.value, o.dispatch_round == 2, since_before(c.escalate)),
        # unrated: close, or remind once (decide: CLOSE, REMIND)
        (o.state == S.COMPLETED.value, o.completed_at <= c.close),
        (o.state == S.COMPLETED.value, o.completed_at <= c.remind, o.completed_at > c.close, ~reminded),
        # (complete() always sets completed_at; decide falls back on updated_at)
        (o.state == S.COMPLETED.value, o.completed_at.is_(None),
         or_(o.updated_at <= c.close, and_(o.updated_at <= c.remind, ~reminded))),
    )
    return [where_hub(select(what).select_from(o)).where(*conds) for conds in branches]


def due_orders_query(hub_id: int, now: datetime, cfg: HubSettings, batch: int = SWEEP_BATCH) -> Select[Order]:
    """The hub's orders that `decide` moves now (exactly those: a row it would leave waiting is never read
    again), the oldest first, at most `batch`."""
    ids = union_all(*_due_order_selects(Order.id, now, Cuts.at(now, cfg),
                                        lambda q: q.where(Order.hub_id == hub_id))).subquery()
    return select(Order).where(Order.id.in_(select(ids.c.id))).order_by(Order.id).limit(batch)


def due_hubs(s: Session, now: datetime) -> list[int]:
    """The hubs where the sweep has something to do now — due orders or idle dialogues — in two statements for the
    whole city (the hubs' settings, then one query probing each hub's indexes with that hub's thresholds). The
    worker sweeps only these; a hub whose settings do not load is listed, so its sweep reports the error."""
    rows: list[tuple[Any, ...]] = []
    broken: list[int] = []
    for hub_id, raw in s.execute(select(Hub.id, Hub.settings).order_by(Hub.id)):
        try:
            c = Cuts.at(now, hub_settings(raw))
        except ConfigError:
            broken.append(hub_id)
            continue
        rows.append((hub_id, c.dialogue, c.widen, c.escalate, c.remind, c.close))
    if not rows:
        return broken
    when = DateTime(timezone=True)
    cuts = values(column("hub_id", Integer), column("dialogue", when), column("widen", when),
                  column("escalate", when), column("remind", when), column("close", when),
                  name="sweep_cuts").data(rows).cte("sweep_cuts")  # a CTE: once in the statement, and SQLite has it
    c = Cuts(dialogue=cuts.c.dialogue, widen=cuts.c.widen, escalate=cuts.c.escalate, remind=cuts.c.remind,
             close=cuts.c.close)
    dialogues = (select(Conversation.hub_id).join(cuts, cuts.c.hub_id == Conversation.hub_id)
                 .where(text(DIALOGUE_WAITING_SQL), Conversation.updated_at <= c.dialogue))
    found = union_all(dialogues, *_due_order_selects(
        Order.hub_id, now, c, lambda q: q.join(cuts, cuts.c.hub_id == Order.hub_id))).subquery()
    due = set(s.scalars(select(found.c.hub_id).distinct()))
    return sorted(due | set(broken))


def sweep(s: Session, hub_id: int, now: datetime, services: Mapping[str, ServiceInfo],
          batch: int = SWEEP_BATCH) -> SweepStats:
    """Widen, escalate and expire unaccepted orders; remind about and close unrated ones (rules: `decide`)."""
    st = SweepStats()
    cfg = settings_for(s, hub_id)
    st.dialogues_expired = expire_dialogues(s, hub_id, now, timedelta(minutes=cfg.dialogue_timeout_minutes), batch)
    due = list(s.execute(due_orders_query(hub_id, now, cfg, batch)).scalars())
    if not due:
        return st
    # the residents told and asked, in one statement (tell_resident and ask_rating find them in the session)
    people = {u.id for u in s.scalars(select(User).where(User.id.in_(
        {o.ordered_by_user_id for o in due} | {o.resident_user_id for o in due if o.resident_user_id})))}
    for order in due:
        info = services.get(order.service_code, ServiceInfo(order.service_code, order.service_code))
        if order.state == S.COMPLETED.value:
            since = order.completed_at or order.updated_at
        else:
            since = order.dispatched_at or order.created_at
        move = decide(order.state, dispatch_round=order.dispatch_round, waited=now - as_utc(since),
                      appointment_passed=_appointment_passed(order, now), settings=cfg)
        if move is Move.EXPIRE and order.state == S.DISPATCHED.value:
            transition(s, order, "expire", actor="auto", now=now, reason="预约时间已过，无人接单")
            tell_resident(s, order, f"很抱歉，您的{info.name}订单{order.ref}到时间仍没有志愿者接单，已自动结束。"
                          "需要的话请重新下单或回复“人工”。", now, key=f"expired:{order.id}")
            st.expired += 1
        elif move is Move.EXPIRE:
            transition(s, order, "expire", actor="auto", now=now, reason="预约时间已过")
            st.expired += 1
        elif move is Move.WIDEN:
            dispatch(s, order, now=now, service=info, settings=cfg, actor="auto", widen=True)
            st.widened += 1
        elif move is Move.ESCALATE:
            minutes = int((now - as_utc(since)).total_seconds() // 60)
            notify_staff(s, hub_id, f"订单{order.ref}（{info.name}，{when_text(order)}）{minutes}"
                         f"分钟无人接单，请人工派单。{for_staff(order.ref)}", now,
                         key=needs_staff_key(s, order))
            order.dispatch_round += 1
            s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger="escalate", from_state=order.state,
                             to_state=order.state, actor="auto", reason="无人接单，转工作人员", at=now))
            st.escalated += 1
        elif move is Move.CLOSE:
            transition(s, order, "close", actor="auto", now=now, reason="超时未评价，自动结束", verified_by="timeout")
            write_record(s, order, info, now, verified_by="timeout")
            st.closed += 1
        elif move is Move.REMIND:  # not reminded yet (the query): the reminder goes out if there is a rater
            ask_rating(s, order, info, now, reminder=True)
            st.reminded += int(order.ordered_by_user_id in people)
    return st


def _appointment_passed(order: Order, now: datetime) -> bool:
    if order.start_at is None:
        return now - as_utc(order.created_at) > ASAP_LIFETIME
    end = as_utc(order.end_at or order.start_at)
    return now > end
