"""Emergency call-outs (一呼百应): message a whole team at once, count "到/收到/1" answers live, award a bonus."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.community.teamchat import post_to_team, roster, team_by_code
from bot.dialogue.core import CALLOUT_ANSWERS, CALLOUT_SLOT
from bot.errors import LeifengError
from bot.outbox import PRIORITY_EMERGENCY, enqueue
from storage.conversations import change_conversation
from storage.models import AuditLog, PointsEntry, Team, User, Volunteer
from storage.models_events import Callout, CalloutResponse

ANSWERS = CALLOUT_ANSWERS
SLOT = CALLOUT_SLOT  # the dialogue slot that makes "1" an answer while a call-out waits for this person


class CalloutError(LeifengError):
    """A staff request about call-outs that cannot be done."""


def start(s: Session, *, hub_id: int, team_code: str, message: str, place: str, now: datetime, bonus: int,
          actor: str = "cli") -> tuple[Callout, int]:
    """Create the call-out and queue the message to every member and the team's group chats, in one go."""
    team = team_by_code(s, hub_id, team_code)
    if team is None:
        raise CalloutError(f"没有代码为 {team_code} 的队伍")
    members = roster(s, hub_id, team.id)
    if not members:
        raise CalloutError(f"{team.name}还没有在岗成员，无法召集")
    co = Callout(hub_id=hub_id, team_id=team.id, message=message, place=place, status="open", bonus_points=bonus,
                 started_by=actor, started_at=now)
    s.add(co)
    s.flush()
    text = (f"【紧急召集】{team.name}：{message}\n集合地点：{place}\n"
            f"能到的请立即回复“到”（或“收到”“1”）。召集编号 {co.id}。")
    for m in members:
        s.add(CalloutResponse(callout_id=co.id, hub_id=hub_id, volunteer_id=m.volunteer_id, user_id=m.user_id))
        if m.openid is None:
            continue
        enqueue(s, hub_id=hub_id, to=m.openid, text=text, now=now, idempotency_key=f"callout:{co.id}:v{m.volunteer_id}",
                priority=PRIORITY_EMERGENCY)
        if m.user_id is not None:
            _set_pending(s, hub_id, m.user_id, co.id, now)
    post_to_team(s, team, text, now=now, key=f"callout:{co.id}", mention=members, priority=PRIORITY_EMERGENCY)
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="callout_start", subject=f"callout:{co.id}",
                   detail={"team": team_code, "members": len(members), "place": place}, at=now))
    return co, len(members)


def _set_pending(s: Session, hub_id: int, user_id: int, callout_id: int | None, now: datetime) -> None:
    def pending(state: str, slots: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        rest = {k: v for k, v in slots.items() if k != SLOT}
        return state, ({**rest, SLOT: callout_id} if callout_id is not None else rest)

    change_conversation(s, hub_id=hub_id, user_id=user_id, now=now, edit=pending, create=callout_id is not None)


def _clear_pending(s: Session, hub_id: int, user_id: int, callout_id: int, now: datetime) -> None:
    """This call-out no longer waits for the person's answer (another one may, and stays)."""
    def cleared(state: str, slots: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        if slots.get(SLOT) != callout_id:
            return None
        return state, {k: v for k, v in slots.items() if k != SLOT}

    change_conversation(s, hub_id=hub_id, user_id=user_id, now=now, edit=cleared, create=False)


def answer(s: Session, *, hub_id: int, user: User, now: datetime, callout_id: object, answer: str) -> str:
    """Record a member's answer (the first one counts); points bonus once per person and call-out."""
    if user.volunteer_id is None:
        return "收到。需要帮忙请回复“菜单”。"
    q = (select(CalloutResponse, Callout).join(Callout, Callout.id == CalloutResponse.callout_id)
         .where(CalloutResponse.hub_id == hub_id, CalloutResponse.volunteer_id == user.volunteer_id))
    if callout_id:
        q = q.where(Callout.id == int(str(callout_id)))
    rows = s.execute(q.order_by(Callout.id.desc())).all()
    open_rows = [(r, c) for r, c in rows if c.status == "open"]
    if not open_rows:
        if rows:
            return "这次召集已经结束了，谢谢您！需要帮忙请回复“菜单”。"
        return "收到。现在没有需要您响应的紧急召集。需要帮忙请回复“菜单”。"
    resp, co = open_rows[0]
    if resp.answered_at is None:
        resp.answered_at, resp.answer = now, answer[:20]
        if co.bonus_points > 0:
            key = f"earn:callout:{co.id}:{resp.volunteer_id}"
            if s.execute(select(PointsEntry.id).where(PointsEntry.idempotency_key == key)).first() is None:
                s.add(PointsEntry(hub_id=hub_id, volunteer_id=resp.volunteer_id, kind="earn", points=co.bonus_points,
                                  reason=f"响应紧急召集 {co.id}", idempotency_key=key, at=now))
        s.flush()
    answered = sum(1 for r in s.scalars(select(CalloutResponse).where(CalloutResponse.callout_id == co.id))
                   if r.answered_at is not None)
    return f"收到！请尽快到{co.place}集合。目前已有 {answered} 人响应。"


@dataclass(frozen=True)
class Status:
    callout: Callout
    team: Team
    answered: list[tuple[str, datetime, str]]  # name, when, what they said
    missing: list[str]


def status(s: Session, hub_id: int, callout_id: int) -> Status:
    co = s.execute(select(Callout).where(Callout.id == callout_id, Callout.hub_id == hub_id)).scalar_one_or_none()
    if co is None:
        raise CalloutError(f"没有编号为 {callout_id} 的召集")
    team = s.get(Team, co.team_id)
    assert team is not None
    answered: list[tuple[str, datetime, str]] = []
    missing: list[str] = []
    rows = s.execute(select(CalloutResponse, Volunteer).join(Volunteer, Volunteer.id == CalloutResponse.volunteer_id)
                     .where(CalloutResponse.callout_id == co.id).order_by(CalloutResponse.id)).all()
    for resp, vol in rows:
        if resp.answered_at is None:
            missing.append(vol.name)
        else:
            answered.append((vol.name, as_utc(resp.answered_at), resp.answer or ""))
    answered.sort(key=lambda a: a[1])
    return Status(co, team, answered, missing)


def close(s: Session, hub_id: int, callout_id: int, now: datetime, actor: str = "cli") -> Callout:
    co = s.execute(select(Callout).where(Callout.id == callout_id, Callout.hub_id == hub_id)).scalar_one_or_none()
    if co is None:
        raise CalloutError(f"没有编号为 {callout_id} 的召集")
    if co.status == "closed":
        raise CalloutError(f"召集 {callout_id} 已经结束")
    co.status, co.closed_at = "closed", now
    for resp in s.scalars(select(CalloutResponse).where(CalloutResponse.callout_id == co.id)):
        if resp.user_id is not None:
            _clear_pending(s, hub_id, resp.user_id, co.id, now)
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="callout_close", subject=f"callout:{co.id}", detail={}, at=now))
    return co
