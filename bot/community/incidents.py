"""Emergencies residents report in chat: recorded, and the hub's on-duty staff and emergency team alerted at once.

The resident has already been told what to do (bot/dialogue/safety.py, in the passive reply); this records an
incident row that stays on the console's dashboard until a staff member marks it handled, and queues the alerts
at the outbox's highest priority: every staff member's WeChat, the emergency team's group chat, and (where the
hub's settings ask for it) a call-out of the whole team.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.community import callouts
from bot.community.teamchat import post_to_team, team_by_code
from bot.errors import LeifengError
from bot.hubsettings import HubSettings
from bot.outbox import PRIORITY_EMERGENCY, enqueue
from bot.serviceloop.orders import staff_openids
from storage.models import AuditLog, Order, User
from storage.models_events import Incident

log = logging.getLogger(__name__)

KIND_WORDS = {"medical": "急症（摔倒/昏迷/胸痛等）", "fire": "火情", "gas": "燃气泄漏", "crime": "治安/人身危险",
              "self_harm": "轻生念头", "water": "水浸/被困"}


class IncidentError(LeifengError):
    """A staff request about an incident that cannot be done."""


def address_on_file(s: Session, hub_id: int, user: User) -> str | None:
    """The address of the person's latest order in this hub (the only address the bot keeps for a resident)."""
    return s.scalar(select(Order.address).where(Order.hub_id == hub_id, Order.ordered_by_user_id == user.id,
                                                Order.address.is_not(None))
                    .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))


def report(s: Session, *, hub_id: int, user: User, kind: str, text: str, cue: str | None, now: datetime,
           settings: HubSettings) -> Incident:
    """Record the incident and queue every alert, in the message's transaction."""
    incident = Incident(hub_id=hub_id, user_id=user.id, kind=kind, text=text, cue=cue, status="open", created_at=now)
    s.add(incident)
    s.flush()
    who = user.nickname or "一位居民"
    address = address_on_file(s, hub_id, user) or "未登记（请电话询问）"
    phone = user.phone or "未登记"
    alert = (f"【紧急情况】{KIND_WORDS.get(kind, kind)}\n{who}刚刚在公众号说：“{text[:200]}”\n"
             f"电话：{phone}\n地址：{address}\n请立即联系并处置，处理后在后台首页标记“已处理”（事件{incident.id}）。")
    for openid in staff_openids(s, hub_id):
        enqueue(s, hub_id=hub_id, to=openid, text=alert, now=now, idempotency_key=f"incident:{incident.id}:{openid}",
                priority=PRIORITY_EMERGENCY)
    team = team_by_code(s, hub_id, settings.emergency_team) if settings.emergency_team else None
    if team is not None:
        post_to_team(s, team, alert, now=now, key=f"incident:{incident.id}", priority=PRIORITY_EMERGENCY)
        if settings.emergency_callout:
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


def open_incidents(s: Session, hub_id: int, limit: int = 50) -> list[Incident]:
    return list(s.scalars(select(Incident).where(Incident.hub_id == hub_id, Incident.status == "open")
                          .order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)))


def mark_handled(s: Session, *, hub_id: int, incident_id: int, actor: str, now: datetime,
                 note: str | None = None) -> Incident:
    incident = s.get(Incident, incident_id)
    if incident is None or incident.hub_id != hub_id:
        raise IncidentError(f"没有编号为 {incident_id} 的紧急事件")
    if incident.status == "handled":
        raise IncidentError(f"事件 {incident_id} 已经由 {incident.handled_by} 处理过了")
    incident.status, incident.handled_by, incident.handled_at = "handled", actor, now
    incident.note = (note or "").strip()[:500] or None
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="incident_handled", subject=f"incident:{incident.id}",
                   detail={"note": incident.note or ""}, at=now))
    return incident
