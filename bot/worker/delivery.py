"""What the sender knows before it sends to a person: what they did lately (their customer-service quota), whether
they follow, the hub's category templates and the facts a template says, and the team routes of a volunteer.

The rules are pure (bot.outbox_rules); this module reads the database for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.hubs import HubAccount
from bot.outbox_rules import (
    AFTER_MESSAGE,
    DEFAULT_FIELDS,
    SLOTS,
    WINDOW,
    Classified,
    Facts,
    Grant,
    Notice,
    action_of,
    classify,
    field_type,
    grants,
    order_ref_in,
)
from intents.masking import coarse_address
from storage.models import Membership, Order, OutboxMessage, ProcessedMessage, Team, TeamMember, User, Volunteer
from storage.models_events import Event, NoticeTemplate

ANY_NOTICE = "*"  # a hub's template row for every service notice without one of its own


@dataclass(frozen=True)
class Person:
    """One recipient on the official account, as the sender sees them."""

    openid: str
    known: bool  # a users row exists
    follows: bool
    granted: tuple[Grant, ...]
    phone: str | None = None
    name: str | None = None
    volunteer: bool = False
    robot_key: str | None = None  # their team's group robot (volunteers)
    wecom_openid: str | None = None  # "wecom:<userid>" of the same volunteer in the WeCom app


def actions_of(s: Session, hub_id: int, openid: str, now: datetime) -> list[tuple[str, datetime, int]]:
    """The person's messages and events the webhook processed in the last 48 hours: (type, when, id)."""
    rows = s.execute(select(ProcessedMessage.msg_type, ProcessedMessage.received_at, ProcessedMessage.id)
                     .where(ProcessedMessage.hub_id == hub_id, ProcessedMessage.openid == openid,
                            ProcessedMessage.received_at >= now - WINDOW)).all()
    return [(t, as_utc(at), int(i)) for t, at, i in rows]


def person(s: Session, hub_id: int, openid: str, now: datetime, *, wecom_enabled: bool) -> Person:
    user = s.execute(select(User).where(User.hub_id == hub_id, User.openid == openid)).scalar_one_or_none()
    if user is None:
        return Person(openid, known=False, follows=False, granted=())
    actions = actions_of(s, hub_id, openid, now)
    granted = grants(actions)
    inbound = as_utc(user.last_inbound_at) if user.last_inbound_at is not None else None
    # (last_inbound_at is the last *message*: an event after it says nothing of whether the message was processed)
    if inbound is not None and not any(at >= inbound - timedelta(seconds=1) for t, at, _ in actions
                                       if action_of(t) == "message"):
        # Recorded as having written, but not by the webhook (sample data, an import, rows older than this code):
        # take it for a message then, the most it can have been.
        granted = (*granted, Grant(inbound, *AFTER_MESSAGE))
    vol = s.get(Volunteer, user.volunteer_id) if user.volunteer_id else None
    robot, wecom = None, None
    if vol is not None:
        robot = team_robot(s, hub_id, vol.id)
        if wecom_enabled:
            wecom = s.scalar(select(User.openid).where(User.hub_id == hub_id, User.volunteer_id == vol.id,
                                                       User.openid.like("wecom:%")).limit(1))
    return Person(openid, known=True, follows=bool(user.subscribed), granted=granted,
                  phone=user.phone or (vol.phone if vol else None), name=vol.name if vol else user.nickname,
                  volunteer=vol is not None, robot_key=robot, wecom_openid=wecom)


def team_robot(s: Session, hub_id: int, volunteer_id: int) -> str | None:
    """The group robot of a team the volunteer is in (their membership's team first)."""
    own = select(Membership.team_id).where(Membership.hub_id == hub_id, Membership.volunteer_id == volunteer_id)
    listed = select(TeamMember.team_id).where(TeamMember.hub_id == hub_id, TeamMember.volunteer_id == volunteer_id)
    for q in (own, listed):
        key = s.scalar(select(Team.robot_key).where(Team.hub_id == hub_id, Team.id.in_(q),
                                                    Team.robot_key.is_not(None), Team.robot_key != "")
                       .order_by(Team.id).limit(1))
        if key:
            return str(key)
    return None


# -- templates ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSpec:
    template_id: str
    fields: Mapping[str, str]  # slot -> the template's field key


@dataclass
class TemplateBook:
    """A hub's templates: one per notice kind, else the "*" one, else the hub's single notice template."""

    by_notice: dict[str, TemplateSpec] = field(default_factory=dict)

    def for_notice(self, kind: Notice) -> TemplateSpec | None:
        return self.by_notice.get(kind.value) or self.by_notice.get(ANY_NOTICE)


class TemplateConfigError(ValueError):
    """A template's fields that cannot work: an unknown slot, a key that is not a category template field."""


def check_fields(fields: Mapping[str, str]) -> dict[str, str]:
    bad_slots = sorted(set(fields) - set(SLOTS))
    if bad_slots:
        raise TemplateConfigError(f"unknown slots {', '.join(bad_slots)} (known: {', '.join(SLOTS)})")
    bad_keys = sorted(key for key in fields.values() if field_type(key) is None)
    if bad_keys:
        raise TemplateConfigError(f"not category template fields: {', '.join(bad_keys)} (thing1, time2, phrase3 ...)")
    if not fields:
        raise TemplateConfigError("a template needs at least one field")
    return dict(fields)


def templates(s: Session, account: HubAccount) -> TemplateBook:
    book = TemplateBook()
    if account.template_id:
        book.by_notice[ANY_NOTICE] = TemplateSpec(account.template_id, DEFAULT_FIELDS)
    for row in s.execute(select(NoticeTemplate).where(NoticeTemplate.hub_id == account.hub_id)).scalars():
        book.by_notice[row.notice] = TemplateSpec(row.template_id, dict(row.fields or {}))
    return book


def set_template(s: Session, hub_id: int, notice: str, template_id: str, fields: Mapping[str, str],
                 now: datetime) -> None:
    """Configure (or replace) a hub's template for a kind of notice ("*" for any): what `leifeng templates set`
    and the console call."""
    if notice != ANY_NOTICE and notice not in {n.value for n in Notice}:
        raise TemplateConfigError(f"unknown notice {notice!r} (known: {', '.join(n.value for n in Notice)}, *)")
    checked = check_fields(fields)
    row = s.execute(select(NoticeTemplate).where(NoticeTemplate.hub_id == hub_id, NoticeTemplate.notice == notice)
                    ).scalar_one_or_none()
    if row is None:
        s.add(NoticeTemplate(hub_id=hub_id, notice=notice, template_id=template_id, fields=checked, updated_at=now))
    else:
        row.template_id, row.fields, row.updated_at = template_id, checked, now


# -- what a notice is about -----------------------------------------------------------------------------------------


def classified(row: OutboxMessage) -> Classified:
    """The row's notice as recorded when it was queued (older rows: classified now, the same way)."""
    payload = row.payload or {}
    if "notice" in payload:
        return Classified(Notice(payload["notice"]), str(payload.get("status", "")),
                          _int(payload.get("order")), _int(payload.get("event")))
    return classify(row.idempotency_key, str(payload.get("text", "")))


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def facts(s: Session, row: OutboxMessage, what: Classified, tz: tzinfo, service_names: Mapping[str, str]) -> Facts:
    at = as_utc(row.created_at)
    text = str((row.payload or {}).get("text", ""))
    base = Facts(kind=what.kind, status=what.status, text=text, at=at, tz=tz)
    order: Order | None = None
    if what.order_id is not None:
        order = s.get(Order, what.order_id)
    elif what.kind is Notice.ORDER_UPDATE and (ref := order_ref_in(text)) is not None:  # the 单号 its text names
        order = s.execute(select(Order).where(Order.hub_id == row.hub_id, Order.ref == ref)).scalar_one_or_none()
    if order is not None and order.hub_id == row.hub_id:
        vol = s.get(Volunteer, order.volunteer_id) if order.volunteer_id else None
        return Facts(kind=what.kind, status=what.status, text=text, at=at, tz=tz, order_ref=order.ref,
                     service=service_names.get(order.service_code, order.service_code),
                     starts=as_utc(order.start_at) if order.start_at is not None else None,
                     place=coarse_address(order.address), name=vol.name if vol else None)
    if what.event_id is not None:
        ev = s.get(Event, what.event_id)
        if ev is not None and ev.hub_id == row.hub_id:
            return Facts(kind=what.kind, status=what.status, text=text, at=at, tz=tz, starts=as_utc(ev.starts_at),
                         place=ev.place, title=ev.title)
    return base
