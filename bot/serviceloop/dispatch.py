"""派单: who may take an order (the team's or skilled volunteers, free then, under their task limit) and the
fairest of them first (`rank`, pure); offering it to them, their team's group chat, or staff when nobody fits.

`candidates` is two statements whatever the size of the hub or its history: the hub's teams (a handful), then
one query that filters the hub's members by every rule, counts each one's open and recent tasks through
indexes on orders (ix_orders_volunteer_state_accepted), ranks them and returns only the first `limit`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, bindparam, exists, func, insert, literal, or_, select, text
from sqlalchemy.orm import Session, aliased

from bot.clock import SHANGHAI, as_utc
from bot.dialogue.registration import ADULT_AGE
from bot.hubsettings import HubSettings
from bot.outbox import Message, enqueue_many
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop.records import S, ServiceInfo, for_staff, notify_staff, transition, when_text
from intents.masking import coarse_address, hide_names, scrub
from storage.models import Membership, Order, OrderOffer, OutboxMessage, Team, User, Volunteer

HELD_STATES = (S.ACCEPTED.value, S.SUPPORTED.value)  # a volunteer's open tasks (counted against max_open_tasks)
RETURNED = "returned"  # an offer's outcome once its volunteer gave the order back (退单): never offered them again
WITHDRAWN = "withdrawn"  # an offer's outcome once the resident changed the order's service: not theirs to take
RECENT_DAYS = 30  # fairness: tasks accepted in this window
FAR_AWAY_KM = 1e9  # where a volunteer or an order without coordinates sorts
# the orders counted per candidate (built once: an alias adapts its columns on first use, which costs)
_HELD, _RECENT = aliased(Order, name="held"), aliased(Order, name="recent_order")


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    membership: Membership
    user: User | None
    recent_tasks: int
    distance_km: float | None
    team: Team | None = None  # the membership's team (dispatch posts the offer in its group chat)


def slot_of(order: Order) -> tuple[int, str] | None:
    """(weekday, period) of the order's start in Shanghai, or None for "as soon as possible"."""
    if order.start_at is None:
        return None
    start = as_utc(order.start_at).astimezone(SHANGHAI)
    return start.weekday(), "am" if start.hour < 12 else ("pm" if start.hour < 18 else "eve")


def available(vol: Volunteer, order: Order) -> bool:
    slot = slot_of(order)
    if not vol.availability or slot is None:
        return True
    weekday, period = slot
    return any(int(s.get("weekday", -1)) == weekday and s.get("period") in (period, "all")
               for s in vol.availability)


def distance_km(vol: Volunteer, order: Order) -> float | None:
    if vol.latitude is None or vol.longitude is None or order.latitude is None or order.longitude is None:
        return None
    lat1, lng1, lat2, lng2 = map(math.radians, (vol.latitude, vol.longitude, order.latitude, order.longitude))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def rank(found: list[Candidate]) -> list[Candidate]:
    """The fairest first (pure): fewest tasks in the last 30 days, then nearest, then the longest-standing."""
    return sorted(found, key=lambda c: (c.recent_tasks, c.distance_km if c.distance_km is not None else FAR_AWAY_KM,
                                        c.volunteer.id))


# -- the rules in SQL (the same as `available`, `distance_km`, `rank` and volunteers.is_minor) --------------


def first_minor_birth(now: datetime, adult_age: int = ADULT_AGE) -> datetime:
    """The earliest birth instant of someone under `adult_age` today (Shanghai calendar), as UTC: a volunteer
    is a minor exactly when birth_date >= this (volunteers.is_minor, which counts completed years)."""
    today = as_utc(now).astimezone(SHANGHAI).date()
    try:
        last_adult = date(today.year - adult_age, today.month, today.day)
    except ValueError:  # 29 February, and that year has none: whoever was born on 1 March is still a minor
        last_adult = date(today.year - adult_age, 2, 28)
    return datetime.combine(last_adult + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)


def _has_skill(dialect: str) -> ColumnElement[bool]:
    """volunteers.skills (a JSON list of service codes) holds the code bound as :dispatch_skill (`_params`)."""
    if dialect == "postgresql":
        return and_(text("CAST(volunteers.skills AS JSONB) @> CAST(:dispatch_skill AS JSONB)"))
    return and_(text("EXISTS (SELECT 1 FROM json_each(volunteers.skills) AS skill "
                     "WHERE skill.value = :dispatch_skill)"))


def _free_then(dialect: str) -> ColumnElement[bool]:
    """volunteers.availability is empty, or has a slot on the weekday bound as :dispatch_weekday for the period
    :dispatch_period (or all day)."""
    if dialect == "postgresql":
        sql = ("CASE json_typeof(volunteers.availability) WHEN 'array' THEN "
               "(json_array_length(volunteers.availability) = 0 OR EXISTS ("
               "SELECT 1 FROM json_array_elements(volunteers.availability) AS slot(v) "
               "WHERE slot.v ->> 'weekday' = :dispatch_weekday AND slot.v ->> 'period' IN (:dispatch_period, 'all')))"
               " ELSE true END")
        return and_(text(sql))
    sql = ("CASE json_type(volunteers.availability) WHEN 'array' THEN "
           "(json_array_length(volunteers.availability) = 0 OR EXISTS ("
           "SELECT 1 FROM json_each(volunteers.availability) AS slot "
           "WHERE CAST(json_extract(slot.value, '$.weekday') AS INTEGER) = :dispatch_weekday "
           "AND json_extract(slot.value, '$.period') IN (:dispatch_period, 'all'))) ELSE 1 END")
    return and_(text(sql))


def _distance_sql(coords: bool) -> ColumnElement[Any]:
    """`distance_km` in SQL (haversine; FAR_AWAY_KM without coordinates), for ORDER BY: the order's latitude and
    longitude in radians and the cosine of its latitude are bound (`_params`). The same formula in the same order of
    operations as in Python; SQLite needs its math functions (3.35+, built in to the sqlite3 that CPython and Debian
    ship)."""
    if not coords:
        return literal(FAR_AWAY_KM)
    lat2, lng2 = bindparam("d_lat", type_=Float()), bindparam("d_lng", type_=Float())
    cos_lat2 = bindparam("d_cos_lat", type_=Float())
    lat1, lng1 = func.radians(Volunteer.latitude), func.radians(Volunteer.longitude)
    a = (func.power(func.sin((lat2 - lat1) / 2), 2)
         + func.cos(lat1) * cos_lat2 * func.power(func.sin((lng2 - lng1) / 2), 2))
    return func.coalesce(6371.0 * 2 * func.asin(func.sqrt(a)), FAR_AWAY_KM)


@dataclass(frozen=True)
class _Shape:
    """What the candidates query's SQL depends on (its values are bound: `_params`)."""

    dialect: str
    teams: bool  # the service has teams: their members fit too
    one: bool  # one volunteer's fit (volunteer_id)
    slot: bool  # the order has a time: availability counts
    coords: bool  # the order has coordinates: the nearest first
    limit: int | None
    exists: bool  # only whether anyone fits (`fits`): no rows loaded, no ranking
    teams_in_sql: bool = False  # the service's teams found by a subquery (`fits`), not bound as d_team_ids


_QUERIES: dict[_Shape, Select[Any]] = {}
_TEAMS = select(Team).where(Team.hub_id == bindparam("hub_id"))


def _teams_with_skill(dialect: str) -> Select[Any]:
    """The hub's teams (bound as d_hub_id) whose services (a JSON list of codes) hold the code bound as
    :dispatch_skill: what `candidates` finds in Python from the teams it loads."""
    if dialect == "postgresql":
        covers = text("json_typeof(teams.services) = 'array' "
                      "AND CAST(teams.services AS JSONB) @> CAST(:dispatch_skill AS JSONB)")
    else:
        covers = text("json_type(teams.services) = 'array' AND EXISTS (SELECT 1 FROM json_each(teams.services) "
                      "AS covered WHERE covered.value = :dispatch_skill)")
    return select(Team.id).where(Team.hub_id == bindparam("d_hub_id", type_=Team.hub_id.type), covers)


def _query(shape: _Shape) -> Select[Any]:
    """The candidates query of one shape, built once (a statement built per call costs more than running it)."""
    query = _QUERIES.get(shape)
    if query is not None:
        return query
    held, recent_o = _HELD, _RECENT
    open_tasks = (select(func.count(held.id)).where(held.volunteer_id == Volunteer.id, held.state.in_(HELD_STATES))
                  .correlate(Volunteer).scalar_subquery())
    recent = (select(func.count(recent_o.id))
              .where(recent_o.volunteer_id == Volunteer.id,
                     recent_o.accepted_at >= bindparam("d_recent_since", type_=recent_o.accepted_at.type))
              .correlate(Volunteer).scalar_subquery().label("recent_tasks"))
    skilled = _has_skill(shape.dialect)
    minor = Volunteer.birth_date.is_not(None) & (
        Volunteer.birth_date >= bindparam("d_first_minor", type_=Volunteer.birth_date.type))
    # Issue 5: a minor fits only by their own skills, which registration and profile edits limit to the
    # catalogue's minors_ok services; their team may cover services unsuited to minors.
    team_ids: Any = _teams_with_skill(shape.dialect) if shape.teams_in_sql else \
        bindparam("d_team_ids", expanding=True)
    fits = or_(skilled, and_(Membership.team_id.in_(team_ids), ~minor)) if shape.teams else skilled
    offered = exists().where(OrderOffer.order_id == bindparam("d_order_id", type_=OrderOffer.order_id.type),
                             OrderOffer.volunteer_id == Volunteer.id)
    query = select(Membership.volunteer_id) if shape.exists else \
        select(Membership, Volunteer, User, recent).outerjoin(User, User.id == Membership.user_id)
    query = (query.join(Volunteer, Volunteer.id == Membership.volunteer_id)
             .where(Membership.hub_id == bindparam("d_hub_id", type_=Membership.hub_id.type),
                    Membership.status.in_(sorted(st.value for st in ACTIVE_STATUSES)),
                    fits, ~offered, open_tasks < Membership.max_open_tasks))
    if shape.one:
        query = query.where(Membership.volunteer_id == bindparam("d_volunteer_id", type_=Membership.volunteer_id.type))
    if shape.slot:
        query = query.where(_free_then(shape.dialect))
    query = query.limit(1) if shape.exists else \
        query.order_by(recent, _distance_sql(shape.coords), Volunteer.id).limit(shape.limit)
    return _QUERIES.setdefault(shape, query)


def _params(dialect: str, order: Order, now: datetime, team_ids: list[int], volunteer_id: int | None,
            ) -> tuple[dict[str, Any], bool, bool]:
    """The values `_query` binds for this order; whether it has a time slot and coordinates."""
    params: dict[str, Any] = {
        "d_hub_id": order.hub_id, "d_order_id": order.id, "d_first_minor": first_minor_birth(now),
        "d_recent_since": now - timedelta(days=RECENT_DAYS),
        "dispatch_skill": json.dumps([order.service_code]) if dialect == "postgresql" else order.service_code}
    if team_ids:
        params["d_team_ids"] = team_ids
    if volunteer_id is not None:
        params["d_volunteer_id"] = volunteer_id
    slot = slot_of(order)
    if slot is not None:
        weekday, period = slot
        params["dispatch_weekday"] = str(weekday) if dialect == "postgresql" else weekday
        params["dispatch_period"] = period
    coords = order.latitude is not None and order.longitude is not None
    if coords:
        lat2, lng2 = math.radians(order.latitude), math.radians(order.longitude)  # type: ignore[arg-type]
        params.update(d_lat=lat2, d_lng=lng2, d_cos_lat=math.cos(lat2))
    return params, slot is not None, coords


def candidates(s: Session, order: Order, now: datetime, limit: int | None = None,
               volunteer_id: int | None = None) -> list[Candidate]:
    """Approved, active volunteers of the service's team or with the skill (minors only by their own skills),
    not offered this order yet, under their open-task limit, free at that time; the fairest first (`rank`),
    at most `limit` of them. With `volunteer_id`: that volunteer alone, if they fit (接单 of an order not offered).

    Two statements: the hub's teams, then the members who pass every rule, ranked, with their users. Open and
    recent tasks are a volunteer's in every hub (the person has only so many hours), counted per candidate."""
    dialect = s.get_bind().dialect.name
    teams = {t.id: t for t in s.execute(_TEAMS, {"hub_id": order.hub_id}).scalars()}
    team_ids = [t.id for t in teams.values() if order.service_code in (t.services or [])]
    params, slot, coords = _params(dialect, order, now, team_ids, volunteer_id)
    query = _query(_Shape(dialect, bool(team_ids), volunteer_id is not None, slot, coords, limit, exists=False))
    found = [Candidate(vol, membership, user, int(n or 0), distance_km(vol, order),
                       teams.get(membership.team_id) if membership.team_id is not None else None)
             for membership, vol, user, n in s.execute(query, params)]
    return rank(found)  # the SQL order is this one; ranked again in Python, the rule's one home


def fits(s: Session, order: Order, now: datetime, volunteer_id: int) -> bool:
    """Whether `candidates(s, order, now, volunteer_id=volunteer_id)` would find them: the same rules in one
    statement (the service's teams are its subquery), without loading or ranking anyone."""
    dialect = s.get_bind().dialect.name
    params, slot, coords = _params(dialect, order, now, [], volunteer_id)
    query = _query(_Shape(dialect, True, True, slot, False, None, exists=True, teams_in_sql=True))
    return s.execute(query, params).first() is not None


def needs_staff_key(s: Session, order: Order) -> str:
    """The outbox key of "this order needs a person to dispatch it": one notice per order until it is offered to
    someone new. "Nobody fits" at dispatch, again when widening finds nobody either, and the sweep's "nobody
    accepted" are one need for staff (they used to arrive two or three times an order)."""
    offered = s.scalar(select(func.count()).select_from(OrderOffer).where(OrderOffer.order_id == order.id)) or 0
    return f"needs-staff:{order.id}:{offered}"


def offer_text(order: Order, service: ServiceInfo) -> str:
    # before anyone accepts: no address, phone, ID number nor a full name (刘**); the one who accepts sees it all
    content = (hide_names(scrub(order.details, order.address, order.phone)) or service.name)[:60]
    return (f"新任务：{service.name}（订单{order.ref}）\n时间：{when_text(order)}\n"
            f"地点：{coarse_address(order.address)}\n内容：{content}\n接单请回复：接单 {order.ref}")


def dispatch(s: Session, order: Order, *, now: datetime, service: ServiceInfo, settings: HubSettings,
             actor: str, widen: bool = False) -> int:
    """Offer the order to the next best volunteers; returns how many were notified."""
    n = settings.dispatch_widen_n if widen else settings.dispatch_first_n
    chosen = candidates(s, order, now, limit=n)
    round_no = order.dispatch_round + 1
    if not chosen:
        transition(s, order, "dispatch", actor=actor, now=now, reason=f"第{round_no}轮：暂无合适志愿者，已转工作人员",
                   dispatch_round=round_no, dispatched_at=now)
        notify_staff(s, order.hub_id, f"订单{order.ref}（{service.name}，{when_text(order)}）暂时没有合适的志愿者，"
                     f"请人工派单。{for_staff(order.ref)}", now, key=needs_staff_key(s, order))
        return 0
    transition(s, order, "dispatch", actor=actor, now=now, reason=f"第{round_no}轮，通知{len(chosen)}人",
               dispatch_round=round_no, dispatched_at=now)
    message = offer_text(order, service)
    # one INSERT for the offers (nothing reads them back as objects) and one for their messages
    s.execute(insert(OrderOffer).values([{"hub_id": order.hub_id, "order_id": order.id, "volunteer_id": c.volunteer.id,
                                          "round": round_no, "at": now} for c in chosen]))
    offers = [Message(c.user.openid, message, idempotency_key=f"offer:{order.id}:{c.volunteer.id}")
              for c in chosen if c.user is not None]
    teams = {c.team.id: c.team for c in chosen if c.team is not None}
    robots = [Message(team.robot_key, f"【{team.name}】" + message, channel="wecom_robot",
                      idempotency_key=f"robot:{order.id}:{team.id}:{round_no}")
              for team in teams.values() if team.robot_key]
    enqueue_many(s, hub_id=order.hub_id, now=now, messages=offers + robots)
    return len(chosen)


def withdraw_offers(s: Session, order: Order, text: str, now: datetime) -> int:
    """The order is off (the resident cancelled it): everyone it was offered to who has not answered (nor given it
    back), and every team group chat it was posted in, is told `text`; how many messages were queued. The one who
    holds it is told by the caller (tell_volunteer)."""
    offered = offers(s, order)
    messages = [Message(openid, text, idempotency_key=f"offer-withdrawn:{order.id}:{volunteer_id}")
                for volunteer_id, _round, outcome, openid, _team in offered
                if openid and outcome is None and order.volunteer_id != volunteer_id]
    messages += [Message(str(team.robot_key), f"【{team.name}】{text}", channel="wecom_robot",
                         idempotency_key=f"robot-withdrawn:{order.id}:{team.id}")
                 for team in _posted_in(s, order, offered)]
    return len(enqueue_many(s, hub_id=order.hub_id, now=now, messages=messages))


def offers(s: Session, order: Order) -> list[Any]:
    """Everyone the order was offered to: (volunteer id, round, outcome, their openid, their team)."""
    return list(s.execute(select(OrderOffer.volunteer_id, OrderOffer.round, OrderOffer.outcome, User.openid, Team)
                          .join(Membership, and_(Membership.hub_id == order.hub_id,
                                                 Membership.volunteer_id == OrderOffer.volunteer_id))
                          .outerjoin(User, User.id == Membership.user_id)
                          .outerjoin(Team, Team.id == Membership.team_id)
                          .where(OrderOffer.order_id == order.id)
                          .order_by(OrderOffer.volunteer_id)).all())


def _posted_in(s: Session, order: Order, offered: list[Any]) -> list[Team]:
    """The team group chats the order was posted in: the robot messages `dispatch` queued for the offered members'
    teams, found by their keys (robot:<order>:<team>:<round>, the outbox's unique index)."""
    keys = {f"robot:{order.id}:{team.id}:{round_no}": team for _vid, round_no, _outcome, _openid, team in offered
            if team is not None and team.robot_key}
    posted = set(s.scalars(select(OutboxMessage.idempotency_key).where(
        OutboxMessage.idempotency_key.in_(sorted(keys))))) if keys else set()
    told = {keys[key].id: keys[key] for key in sorted(key for key in posted if key is not None)}
    return list(told.values())


def tell_offered(s: Session, order: Order, text: str, now: datetime, key: str) -> int:
    """The order changed (its time, place or content): while nobody holds it, whoever it was offered to and has not
    answered, and always every team group chat it was posted in, get `text` (written like a group post: no phone,
    no full address); how many messages were queued. `key` makes each change's notes once per person and group."""
    return len(enqueue_many(s, hub_id=order.hub_id, now=now, messages=offered_notes(s, order, text, key)))


def offered_notes(s: Session, order: Order, text: str, key: str, offered: list[Any] | None = None,
                  taken: bool = False) -> list[Message]:
    """tell_offered's messages, not queued. `offered`: the order's offers as `offers` read them, if the caller did.
    `taken` (接单: the change is that someone took it): the others offered it who have not answered are told though
    it is held now, and the groups are those of the offered members' teams (dispatch posts in each of them), so the
    outbox is not read in 接单."""
    offered = offers(s, order) if offered is None else offered
    messages = [Message(openid, text, idempotency_key=f"{key}:offer:{volunteer_id}")
                for volunteer_id, _round, outcome, openid, _team in offered
                if openid and outcome is None and (order.volunteer_id is None or taken)
                and volunteer_id != order.volunteer_id]
    teams = list({team.id: team for *_rest, team in offered if team is not None and team.robot_key}.values()) \
        if taken else _posted_in(s, order, offered)
    messages += [Message(str(team.robot_key), f"【{team.name}】{text}", channel="wecom_robot",
                         idempotency_key=f"{key}:robot:{team.id}") for team in teams]
    return messages
