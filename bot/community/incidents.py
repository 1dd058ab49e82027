"""Emergencies residents report in chat: recorded, and the hub's on-duty staff and emergency team alerted at once.

The resident has already been told what to do (bot/dialogue/safety.py, in the passive reply); this records an
incident row that stays on the console's dashboard until a staff member marks it handled, and queues the alerts
at the outbox's highest priority: every staff member's WeChat, the emergency team's group chat, and (where the
hub's settings ask for it) a call-out of the whole team.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.community import callouts
from bot.community.teamchat import post_to_team, team_by_code
from bot.errors import LeifengError
from bot.hubsettings import HubSettings
from bot.outbox import PRIORITY_EMERGENCY, SKIPPED, TOLD, UNDELIVERED, enqueue
from bot.serviceloop.orders import staff_openids
from storage.models import AuditLog, Order, OutboxMessage, User
from storage.models_events import Incident

log = logging.getLogger(__name__)

KIND_WORDS = {"medical": "急症（摔倒/昏迷/胸痛等）", "fire": "火情", "gas": "燃气泄漏", "crime": "治安/人身危险",
              "self_harm": "轻生念头", "water": "水浸（积水/洪水）"}


class IncidentError(LeifengError):
    """A staff request about an incident that cannot be done."""


def address_on_file(s: Session, hub_id: int, user: User) -> str | None:
    """The address of the person's latest order in this hub (the only address the bot keeps for a resident)."""
    return s.scalar(select(Order.address).where(Order.hub_id == hub_id, Order.ordered_by_user_id == user.id,
                                                Order.address.is_not(None))
                    .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))


def phone_on_file(s: Session, hub_id: int, user: User) -> str | None:
    """The person's own phone, else the contact phone of their latest order in this hub."""
    if user.phone:
        return user.phone
    return s.scalar(select(Order.phone).where(Order.hub_id == hub_id, Order.ordered_by_user_id == user.id,
                                              Order.phone.is_not(None))
                    .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))


NOTHING_ON_FILE = "未登记，请通过公众号回复联系"


# Sub-kinds the dialogue names (bot.dialogue.safety's flavours) whose alert reads differently from their kind's
SUB_WORDS = {"household": "家中水管爆裂/漏水（已为居民下加急维修单）", "fraud": "电信诈骗/被骗钱财",
             "choking": "急症（噎住）", "burn": "急症（烫伤）", "wound": "急症（出血）", "bite": "急症（咬伤）",
             "oxygen": "急症（制氧机/呼吸机停了）", "drowning": "有人落水", "lift": "被困电梯"}


def what_it_is(incident: Incident) -> str:
    """An incident in words, as its alert named it: its sub-kind's words, else its kind's."""
    return SUB_WORDS.get(incident.sub or "") or KIND_WORDS.get(incident.kind, incident.kind)


def report(s: Session, *, hub_id: int, user: User, kind: str, text: str, cue: str | None, now: datetime,
           settings: HubSettings, phone: str | None = None, address: str | None = None,
           sub: str | None = None) -> Incident:
    """Record the incident and queue every alert, in the message's transaction.

    ``phone`` and ``address``: what the resident had just told the bot (the order being made when it happened);
    without them, what is on file (their own phone, their latest order). The alert says plainly when nothing is.
    ``sub``: the dialogue's flavour of the kind (:data:`SUB_WORDS`); a household water incident (a plumber is on the
    way as an urgent order) is told to staff and the team but calls nobody out.
    """
    incident = Incident(hub_id=hub_id, user_id=user.id, kind=kind, sub=sub or None, text=text, cue=cue, status="open",
                        created_at=now)
    s.add(incident)
    s.flush()
    who = _resident_name(s, hub_id, user) or "一位居民（没有登记姓名）"
    place, number = contact(s, hub_id, user, phone, address)
    what = what_it_is(incident)
    alert = (f"【紧急情况】{what}\n{who}刚刚在公众号说：“{text[:200]}”\n"
             f"电话：{number or NOTHING_ON_FILE}\n地址：{place or '未登记'}\n"
             f"请立即联系并处置，处理后在管理后台“紧急事件”里点“已处理”（事件{incident.id}）。")
    address = place or "未登记"
    for openid in staff_openids(s, hub_id):
        enqueue(s, hub_id=hub_id, to=openid, text=alert, now=now, idempotency_key=f"incident:{incident.id}:{openid}",
                priority=PRIORITY_EMERGENCY)
    team = team_by_code(s, hub_id, settings.emergency_team) if settings.emergency_team else None
    if team is not None:
        post_to_team(s, team, alert, now=now, key=f"incident:{incident.id}", priority=PRIORITY_EMERGENCY)
        if settings.emergency_callout and sub != "household":
            try:
                with s.begin_nested():
                    callouts.start(s, hub_id=hub_id, team_code=team.code,
                                   message=f"{KIND_WORDS.get(kind, kind)}：{text[:60]}", place=address, now=now,
                                   bonus=settings.callout_bonus_points, actor="incident")
            except callouts.CalloutError as exc:  # nobody on the roster: the staff alerts above still go
                log.warning("incident %s: no call-out: %s", incident.id, exc)
    s.add(AuditLog(hub_id=hub_id, actor="system", action="incident_open", subject=f"incident:{incident.id}",
                   detail={"kind": kind, "user": user.id}, at=now))
    return incident


def follow_up(s: Session, *, hub_id: int, user: User, text: str, now: datetime) -> Incident | None:
    """What the resident said next ("那现在咋办啊", "我儿子也不来看我"): passed on to the staff, as urgently as the
    alert, while their latest incident is still open; None (nothing sent) when there is none."""
    incident = _latest_open(s, hub_id, user)
    if incident is None:
        return None
    who = _resident_name(s, hub_id, user) or "这位居民"
    note = (f"【紧急情况·后续】{what_it_is(incident)}（事件{incident.id}）\n"
            f"{who}接着说：“{text[:200]}”")
    _tell_staff(s, hub_id, note, now, f"incident-more:{incident.id}")
    return incident


def contact(s: Session, hub_id: int, user: User, phone: str | None,
            address: str | None) -> tuple[str | None, str | None]:
    """The (address, phone) staff get for an incident: what the resident had just said, else what is on file."""
    return address or address_on_file(s, hub_id, user), phone or phone_on_file(s, hub_id, user)


def missing_contact(place: str | None, number: str | None) -> str:
    """What to ask right after an emergency alert that staff cannot act on: where the person is (no address said
    nor on file) and a phone to call back (none said nor on file); "" when staff have both (out10)."""
    if place and number:
        return ""
    wanted = "、".join(w for w, known in (("您在哪里（小区、几栋几单元几号）", place), ("一个能打通的电话", number))
                      if not known)
    return f"请马上告诉我{wanted}，我转给社区值班人员，他们好找到您、联系您。"


def place_given(s: Session, *, hub_id: int, user: User, text: str, now: datetime) -> Incident | None:
    """Where the resident is, or a phone to call, said after an emergency: onto their open incident (its note, which
    the console shows) and to staff at once, as urgently as the alert; None when no incident is open."""
    incident = _latest_open(s, hub_id, user)
    if incident is None:
        return None
    said = text[:200]
    incident.note = ((f"{incident.note}；" if incident.note else "") + f"居民后来说：{said}")[:500]
    who = _resident_name(s, hub_id, user) or "这位居民"
    what = what_it_is(incident)
    _tell_staff(s, hub_id, f"【紧急情况·位置/电话】{what}（事件{incident.id}）\n{who}说：“{said}”\n请尽快联系或上门。",
                now, f"incident-place:{incident.id}")
    return incident


_FALSE_ALARM = re.compile(r"虚惊|搞错|弄错|误报|报错|按错|点错|说错|误会|不是(?:着火|火灾|急病|急症|漏气)")
_OVER = re.compile(r"好了|好多了|处理好|解决了|没大碍|起来了")


def called_off(s: Session, *, hub_id: int, user: User, text: str, now: datetime) -> Incident | None:
    """The resident says their latest open emergency was a false alarm ("没事了 是锅糊了 虚惊一场"): staff are told at
    once, as urgently as the alert, and the incident's note says so. It stays open until a staff member has checked
    (someone in danger may be made to say "没事了"); None (nothing sent) when there is no open incident."""
    incident = _latest_open(s, hub_id, user)
    if incident is None:
        return None
    who = _resident_name(s, hub_id, user) or "这位居民"
    said = text[:200]
    # "刚才那个已经好了": over, not a false alarm (outside tester round 4); staff check either way
    what = "虚惊一场" if _FALSE_ALARM.search(said) or not _OVER.search(said) else "已经没事了"
    head = "是虚惊" if what == "虚惊一场" else what
    note = (f"【紧急情况·居民说{head}】{what_it_is(incident)}（事件{incident.id}）"
            f"\n{who}说：“{said}”\n请回个电话确认平安，再到管理后台把事件标记为已处理。")
    incident.note = (f"居民说{what}：{said}")[:500]
    _tell_staff(s, hub_id, note, now, f"incident-off:{incident.id}")
    s.add(AuditLog(hub_id=hub_id, actor=user.openid, action="incident_called_off", subject=f"incident:{incident.id}",
                   detail={"text": said}, at=now))
    return incident


def _latest_open(s: Session, hub_id: int, user: User) -> Incident | None:
    """The resident's newest incident nobody has marked handled yet."""
    return s.scalar(select(Incident).where(Incident.hub_id == hub_id, Incident.user_id == user.id,
                                           Incident.status == "open")
                    .order_by(Incident.created_at.desc(), Incident.id.desc()).limit(1))


def _tell_staff(s: Session, hub_id: int, note: str, now: datetime, key: str) -> None:
    """A note about an incident to every staff member, as urgently as the alert; keyed by ``key`` and the moment
    (not "incident:…" keys: those count the first alert's deliveries)."""
    stamp = int(now.timestamp() * 1000)
    for openid in staff_openids(s, hub_id):
        enqueue(s, hub_id=hub_id, to=openid, text=note, now=now, priority=PRIORITY_EMERGENCY,
                idempotency_key=f"{key}:{stamp}:{openid}")


def open_incidents(s: Session, hub_id: int, limit: int = 50) -> list[Incident]:
    return list(s.scalars(select(Incident).where(Incident.hub_id == hub_id, Incident.status == "open")
                          .order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)))


def open_count(s: Session, hub_id: int) -> int:
    """How many incidents of the hub nobody has marked handled yet."""
    return int(s.scalar(select(func.count()).select_from(Incident)
                        .where(Incident.hub_id == hub_id, Incident.status == "open")) or 0)


@dataclass(frozen=True, slots=True)
class Alerts:
    """The alerts queued for one incident (outbox rows keyed ``incident:<id>:…``) and how far they got."""

    to_staff: int = 0  # WeChat messages to the hub's staff
    to_group: int = 0  # posts to the emergency team's group chat
    sent: int = 0
    waiting: int = 0  # pending or being sent
    failed: int = 0  # dead, undelivered or skipped: someone should phone


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident as the console lists it, with what is on file about the resident (unmasked: the page masks
    per role)."""

    id: int
    kind: str
    kind_words: str
    text: str
    cue: str | None
    status: str
    created_at: datetime
    handled_by: str | None
    handled_at: datetime | None
    note: str | None
    name: str | None
    phone: str | None
    address: str | None
    alerts: Alerts


def _alerts(s: Session, hub_id: int, incident_ids: list[int]) -> dict[int, Alerts]:
    if not incident_ids:
        return {}
    wanted = set(incident_ids)
    counts: dict[int, dict[str, int]] = {}
    rows = s.execute(select(OutboxMessage.idempotency_key, OutboxMessage.channel, OutboxMessage.status)
                     .where(OutboxMessage.hub_id == hub_id, OutboxMessage.idempotency_key.like("incident:%")))
    for key, channel, status in rows:
        number = (key or "").split(":")[1]
        if not number.isdigit() or int(number) not in wanted:
            continue
        c = counts.setdefault(int(number), {"to_staff": 0, "to_group": 0, "sent": 0, "waiting": 0, "failed": 0})
        c["to_group" if channel == "wecom_robot" else "to_staff"] += 1
        if status == "sent":
            c["sent"] += 1
        elif status in ("dead", UNDELIVERED, SKIPPED, TOLD):  # told: not by message, staff phoned them
            c["failed"] += 1
        else:
            c["waiting"] += 1
    return {number: Alerts(**c) for number, c in counts.items()}


def _resident_name(s: Session, hub_id: int, user: User) -> str | None:
    """The nickname, else the name the resident gave on their latest order."""
    if user.nickname:
        return user.nickname
    return s.scalar(select(Order.resident_name).where(Order.hub_id == hub_id, Order.ordered_by_user_id == user.id,
                                                      Order.resident_name.is_not(None))
                    .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))


def listing(s: Session, hub_id: int, *, status: str = "open", limit: int = 50) -> list[IncidentRow]:
    """The hub's incidents in one status (open: newest first; handled: latest handled first)."""
    order = ((Incident.created_at.desc(), Incident.id.desc()) if status == "open"
             else (Incident.handled_at.desc(), Incident.id.desc()))
    found = list(s.scalars(select(Incident).where(Incident.hub_id == hub_id, Incident.status == status)
                           .order_by(*order).limit(limit)))
    alerts = _alerts(s, hub_id, [i.id for i in found])
    people: dict[int, tuple[str | None, str | None, str | None]] = {}
    for incident in found:
        if incident.user_id is None or incident.user_id in people:
            continue
        user = s.get(User, incident.user_id)
        people[incident.user_id] = ((_resident_name(s, hub_id, user), user.phone, address_on_file(s, hub_id, user))
                                    if user is not None else (None, None, None))
    rows = []
    for incident in found:
        name, phone, address = people.get(incident.user_id or 0, (None, None, None))
        rows.append(IncidentRow(id=incident.id, kind=incident.kind, kind_words=what_it_is(incident),
                                text=incident.text, cue=incident.cue, status=incident.status,
                                created_at=incident.created_at, handled_by=incident.handled_by,
                                handled_at=incident.handled_at, note=incident.note, name=name, phone=phone,
                                address=address, alerts=alerts.get(incident.id, Alerts())))
    return rows


def mark_handled(s: Session, *, hub_id: int, incident_id: int, actor: str, now: datetime,
                 note: str | None = None) -> Incident:
    """Mark an open incident handled, by whom and when (audited). Two people clicking at once: the first wins, the
    second is told who did it (the row changes only while it is still open)."""
    incident = s.get(Incident, incident_id)
    if incident is None or incident.hub_id != hub_id:
        raise IncidentError(f"没有编号为 {incident_id} 的紧急事件")
    kept = (note or "").strip()[:500] or None
    changed = s.execute(update(Incident).where(Incident.id == incident_id, Incident.hub_id == hub_id,
                                               Incident.status == "open")
                        .values(status="handled", handled_by=actor, handled_at=now, note=kept)
                        .execution_options(synchronize_session=False))
    s.refresh(incident)
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise IncidentError(f"事件 {incident_id} 已经由 {incident.handled_by} 处理过了")
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="incident_handled", subject=f"incident:{incident.id}",
                   detail={"kind": incident.kind, "note": kept or ""}, at=now))
    return incident
