"""Volunteer registration and standing in a hub: apply, review, suspend, dismiss, profile, teams.

A Volunteer row is the person (found again by the keyed hash of their ID number, so registering
in a second hub reuses it); a Membership is their standing in one hub, and every status change
is kept in membership_events with who and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.dialogue.registration import ADULT_AGE
from bot.errors import LeifengError
from bot.outbox import enqueue
from bot.people import stars
from intents.idcard import age_on
from intents.timeparse import WEEKDAY_NAMES
from storage.models import Membership, MembershipEvent, ServiceRecord, Team, TeamMember, User, Volunteer


class MemberStatus(StrEnum):
    """A volunteer's standing in one hub (memberships.status); the values are the stored strings."""

    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISMISSED = "dismissed"


STATUSES: tuple[str, ...] = tuple(m.value for m in MemberStatus)  # plain strings (click choices, SQL)
# Who may take tasks and be rostered: approved (not yet served) or active.
ACTIVE_STATUSES: frozenset[MemberStatus] = frozenset({MemberStatus.APPROVED, MemberStatus.ACTIVE})
# Who keeps their points and passbook: the active ones and the suspended (a suspension is not a dismissal).
ON_ROLL: frozenset[MemberStatus] = ACTIVE_STATUSES | {MemberStatus.SUSPENDED}
# (from, to): the review and discipline path; a rejected applicant may apply again, a dismissal is final.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("applied", "approved"), ("applied", "rejected"), ("rejected", "applied"),
    ("approved", "active"), ("approved", "suspended"), ("active", "suspended"), ("suspended", "active"),
    ("approved", "dismissed"), ("active", "dismissed"), ("suspended", "dismissed"),
})
# The regulation's grounds for dismissal (劝退).
DISMISSAL_REASONS: Mapping[str, str] = {
    "refusal": "无正当理由多次不服从志愿服务工作安排",
    "violation": "严重违反志愿服务站管理规定",
    "harm": "造成服务对象损失，给社会或服务对象造成严重不良影响",
    "profit": "利用志愿者名义从事营利性活动或非法活动",
}
STATUS_WORDS = {"applied": "待审核", "approved": "已通过审核", "rejected": "未通过审核", "active": "在岗",
                "suspended": "暂停服务", "dismissed": "已劝退"}
PERIOD_WORDS = {"am": "上午", "pm": "下午", "eve": "晚上", "all": "全天"}
ROLE_FOR = {"applied": "applicant", "rejected": None, "approved": "volunteer", "active": "volunteer",
            "suspended": "suspended", "dismissed": None}
VOLUNTEER_ROLES = ("applicant", "volunteer", "suspended")



class VolunteerError(LeifengError):
    """A volunteer request that cannot be done; the message is plain Chinese."""


def age_of(vol: Volunteer, today: date) -> int | None:
    return age_on(as_utc(vol.birth_date).astimezone(SHANGHAI).date(), today) if vol.birth_date else None


def is_minor(vol: Volunteer, now: datetime, adult_age: int = ADULT_AGE) -> bool:
    age = age_of(vol, as_utc(now).astimezone(SHANGHAI).date())
    return age is not None and age < adult_age


def availability_text(slots: Sequence[Mapping[str, Any]]) -> str:
    if not slots:
        return "随时（未限定）"
    by_period: dict[str, list[int]] = {}
    for slot in slots:
        by_period.setdefault(str(slot.get("period")), []).append(int(slot.get("weekday", 0)))
    parts = []
    for period, days in by_period.items():
        days = sorted(set(days))
        names = "每天" if len(days) == 7 else "、".join(f"周{WEEKDAY_NAMES[d]}" for d in days)
        parts.append(f"{names}{PERIOD_WORDS.get(period, period)}")
    return "；".join(parts)


def _set_roles(s: Session, member: Membership, status: str) -> None:
    if member.user_id is None:
        return
    user = s.get(User, member.user_id)
    if user is None:
        return
    roles = [r for r in (user.roles or []) if r not in VOLUNTEER_ROLES]
    role = ROLE_FOR.get(status)
    if role:
        roles.append(role)
    user.roles = roles  # a new list, so the JSON column is seen as changed


def _notify(s: Session, member: Membership, text: str, now: datetime, key: str) -> None:
    user = s.get(User, member.user_id) if member.user_id else None
    if user is not None:
        enqueue(s, hub_id=member.hub_id, to=user.openid, text=text, now=now, idempotency_key=key)


def status_notice(status: str, reason: str | None, hub_name: str = "本站") -> str:
    if status == "approved":
        return (f"恭喜！您在{hub_name}的志愿者报名已通过审核。有合适的任务会发消息给您，"
                "回复“接单 编号”即可接单；回复“我的资料”查看或修改资料。")
    if status == "rejected":
        return f"很抱歉，您的志愿者报名暂未通过审核：{reason or '资料不完整'}。修改后可以再回复“注册志愿者”报名。"
    if status == "suspended":
        return f"您的志愿服务已暂停：{reason or '请联系社区工作人员'}。暂停期间不会收到新任务。"
    if status == "active":
        return "您的志愿服务已恢复，有合适的任务会发消息给您。"
    if status == "dismissed":
        return f"根据志愿服务站规定，您已被劝退：{reason}。您的服务记录仍会保留。如有异议请联系社区工作人员。"
    return f"您的志愿者状态已更新为：{STATUS_WORDS.get(status, status)}。"


def change_status(s: Session, member: Membership, to: str, *, actor: str, now: datetime, reason: str | None = None,
                  reason_code: str | None = None, notify: bool = True, hub_name: str = "本站") -> MembershipEvent:
    """Move a membership along TRANSITIONS; rejections, suspensions and dismissals need a reason."""
    if to not in STATUSES:
        raise VolunteerError(f"没有“{to}”这种状态。")
    if (member.status, to) not in TRANSITIONS:
        raise VolunteerError(f"志愿者{member.volunteer_id}现在是“{STATUS_WORDS.get(member.status, member.status)}”，"
                             f"不能改为“{STATUS_WORDS[to]}”。")
    if to == "dismissed":
        if reason_code is None or reason_code not in DISMISSAL_REASONS:
            choices = "；".join(f"{k}={v}" for k, v in DISMISSAL_REASONS.items())
            raise VolunteerError("劝退要选规定里的一种原因：" + choices)
        reason = DISMISSAL_REASONS[reason_code] + (f"（{reason}）" if reason else "")
    elif to in ("rejected", "suspended") and not (reason and reason.strip()):
        raise VolunteerError("请写明原因。")
    event = MembershipEvent(hub_id=member.hub_id, membership_id=member.id, from_status=member.status, to_status=to,
                            reason_code=reason_code, reason=reason, actor=actor, at=now)
    s.add(event)
    member.status = to
    member.status_reason = reason
    member.updated_at = now
    _set_roles(s, member, to)
    s.flush()
    if notify:
        _notify(s, member, status_notice(to, reason, hub_name), now, key=f"member:{member.id}:event:{event.id}")
    return event


# -- registration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """What the registration dialogue collected (the ID number only encrypted and hashed)."""

    name: str
    gender: str
    birth_date: date
    id_enc: str
    id_hash: str
    id_masked: str
    phone: str
    skills: tuple[str, ...]
    availability: tuple[Mapping[str, Any], ...]
    team: str | None
    guardian: Mapping[str, Any] | None
    source: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Registration:
        try:
            return cls(name=str(data["name"]), gender=str(data["gender"]),
                       birth_date=date.fromisoformat(str(data["birth"])), id_enc=str(data["id_enc"]),
                       id_hash=str(data["id_hash"]), id_masked=str(data["id_masked"]), phone=str(data["phone"]),
                       skills=tuple(data.get("skills") or ()), availability=tuple(data.get("availability") or ()),
                       team=data.get("team") or None, guardian=data.get("guardian") or None,
                       source=data.get("source") or None)
        except (KeyError, ValueError) as exc:
            raise VolunteerError("报名资料不完整，请回复“注册志愿者”重新填写。") from exc


def find_by_id_hash(s: Session, id_hash: str) -> Volunteer | None:
    return s.execute(select(Volunteer).where(Volunteer.id_number_hash == id_hash)).scalar_one_or_none()


def team_for(s: Session, hub_id: int, wanted: str | None, skills: Sequence[str],
             service_teams: Mapping[str, str]) -> Team | None:
    """The hub's team by name or code, else the catalogue team of a chosen skill, else one covering a skill."""
    teams = list(s.execute(select(Team).where(Team.hub_id == hub_id).order_by(Team.id)).scalars())
    names = [wanted] if wanted else []
    names += [service_teams[c] for c in skills if c in service_teams]
    for name in names:
        for team in teams:
            if name in (team.name, team.code):
                return team
    for code in ([c for n, c in ((service_teams.get(c), c) for c in skills) if n == wanted] or list(skills)):
        for team in teams:
            if code in (team.services or []):
                return team
    return None


def register(s: Session, *, hub_id: int, user: User, reg: Registration, now: datetime,
             service_teams: Mapping[str, str]) -> Membership:
    """Create (or reuse, by ID hash) the Volunteer and apply for membership of this hub."""
    vol = find_by_id_hash(s, reg.id_hash)
    if vol is None and user.volunteer_id is not None:
        vol = s.get(Volunteer, user.volunteer_id)
        if vol is not None and vol.id_number_hash not in (None, reg.id_hash):
            raise VolunteerError("这个微信号已登记了另一位志愿者，请联系社区工作人员（回复“人工”）。")
    if vol is None:
        vol = Volunteer(name=reg.name, created_at=now)
        s.add(vol)
    vol.name, vol.gender, vol.phone = reg.name, reg.gender, reg.phone
    vol.birth_date = datetime(reg.birth_date.year, reg.birth_date.month, reg.birth_date.day, tzinfo=SHANGHAI)
    vol.id_number_enc, vol.id_number_hash, vol.id_number_masked = reg.id_enc, reg.id_hash, reg.id_masked
    vol.skills, vol.availability = list(reg.skills), [dict(a) for a in reg.availability]
    vol.guardian = dict(reg.guardian) if reg.guardian else None
    vol.consented_at = now
    s.flush()
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                Membership.volunteer_id == vol.id)).scalar_one_or_none()
    if member is not None and member.status != "rejected":
        raise VolunteerError(f"您已经在本站报过名了，状态：{STATUS_WORDS.get(member.status, member.status)}。")
    team = team_for(s, hub_id, reg.team, reg.skills, service_teams)
    user.volunteer_id = vol.id
    user.phone = user.phone or reg.phone
    if member is None:
        member = Membership(hub_id=hub_id, volunteer_id=vol.id, user_id=user.id, team_id=team.id if team else None,
                            status="applied", max_open_tasks=3, source=reg.source, created_at=now, updated_at=now)
        s.add(member)
        s.flush()
        s.add(MembershipEvent(hub_id=hub_id, membership_id=member.id, from_status=None, to_status="applied",
                              reason="微信报名", actor=user.openid, at=now))
        _set_roles(s, member, "applied")
    else:
        member.user_id, member.team_id, member.source = user.id, team.id if team else None, reg.source
        change_status(s, member, "applied", actor=user.openid, now=now, reason="重新报名", notify=False)
    if team is not None:
        join_team(s, hub_id=hub_id, volunteer_id=vol.id, team=team, now=now)
    s.flush()
    return member


# -- teams --------------------------------------------------------------------------------------


def join_team(s: Session, *, hub_id: int, volunteer_id: int, team: Team, now: datetime) -> bool:
    exists = s.execute(select(TeamMember.id).where(TeamMember.team_id == team.id,
                                                   TeamMember.volunteer_id == volunteer_id)).first()
    if exists:
        return False
    s.add(TeamMember(hub_id=hub_id, team_id=team.id, volunteer_id=volunteer_id, joined_at=now))
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
    if member is not None and member.team_id is None:
        member.team_id = team.id  # the first team is the one dispatch and the team robot use
    s.flush()
    return True


def leave_team(s: Session, *, hub_id: int, volunteer_id: int, team: Team) -> bool:
    row = s.execute(select(TeamMember).where(TeamMember.team_id == team.id,
                                             TeamMember.volunteer_id == volunteer_id)).scalar_one_or_none()
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
    if row is None and (member is None or member.team_id != team.id):
        return False
    if row is not None:
        s.delete(row)
        s.flush()
    if member is not None and member.team_id == team.id:
        other = s.execute(select(TeamMember.team_id).where(TeamMember.hub_id == hub_id,
                                                           TeamMember.volunteer_id == volunteer_id)).first()
        member.team_id = other[0] if other else None
    return True


def teams_of(s: Session, hub_id: int, volunteer_id: int) -> list[Team]:
    ids = set(s.scalars(select(TeamMember.team_id).where(TeamMember.hub_id == hub_id,
                                                        TeamMember.volunteer_id == volunteer_id)))
    primary = s.scalar(select(Membership.team_id).where(Membership.hub_id == hub_id,
                                                        Membership.volunteer_id == volunteer_id))
    if primary:
        ids.add(primary)
    if not ids:
        return []
    return list(s.execute(select(Team).where(Team.id.in_(ids)).order_by(Team.id)).scalars())


def find_team(s: Session, hub_id: int, text: str) -> Team | None:
    text = text.strip()
    teams = list(s.execute(select(Team).where(Team.hub_id == hub_id).order_by(Team.id)).scalars())
    for team in teams:
        if text in (team.name, team.code, str(team.id)):
            return team
    hits = [t for t in teams if text and (text in t.name or t.name in text)]
    return hits[0] if len(hits) == 1 else None


# -- profile ------------------------------------------------------------------------------------


def membership_of(s: Session, hub_id: int, user: User) -> Membership | None:
    """The user's membership in this hub, if they are a volunteer here."""
    if user.volunteer_id is None:
        return None
    return s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                              Membership.volunteer_id == user.volunteer_id)).scalar_one_or_none()


def total_hours(s: Session, volunteer_id: int) -> float:
    """Verified hours across all hubs: star levels follow the person."""
    return float(s.scalar(select(func.coalesce(func.sum(ServiceRecord.hours), 0.0)).where(
        ServiceRecord.volunteer_id == volunteer_id)) or 0.0)


def profile_text(s: Session, hub_id: int, vol: Volunteer, member: Membership, names: Mapping[str, str],
                 now: datetime, star_hours: Sequence[float]) -> str:
    age = age_of(vol, as_utc(now).astimezone(SHANGHAI).date())
    skills = "、".join(names.get(c, c) for c in vol.skills or []) or "未填"
    teams = "、".join(t.name for t in teams_of(s, hub_id, vol.id)) or "未加入"
    hours = total_hours(s, vol.id)
    lines = ["我的志愿者资料：", f"姓名：{vol.name}（{vol.gender or '未填'}，{age if age is not None else '?'}岁）",
             f"身份证：{vol.id_number_masked or '未登记'}", f"电话：{vol.phone or '未填'}", f"技能：{skills}",
             f"服务时间：{availability_text(vol.availability or [])}", f"服务队：{teams}",
             f"状态：{STATUS_WORDS.get(member.status, member.status)}",
             f"累计服务：{hours:g}小时（{stars.star_label(stars.star_level(hours, star_hours))}）"]
    if vol.guardian:
        lines.append(f"监护人：{vol.guardian.get('name')}")
    lines.append("要修改请回复：1 技能，2 服务时间，3 电话，4 服务队；回复 0 退出。")
    return "\n".join(lines)


def update_profile(s: Session, *, hub_id: int, user: User, field: str, value: Any, now: datetime,
                   minors_ok: frozenset[str]) -> str:
    member = membership_of(s, hub_id, user)
    if member is None or user.volunteer_id is None:
        raise VolunteerError("您还不是本站志愿者，回复“注册志愿者”报名。")
    vol = s.get(Volunteer, user.volunteer_id)
    assert vol is not None
    if field == "skills":
        skills = list(value)
        if is_minor(vol, now) and any(c not in minors_ok for c in skills):
            raise VolunteerError("未满18岁的志愿者只能选适合未成年人的服务。")
        vol.skills = skills
        return "技能已更新。"
    if field == "availability":
        vol.availability = [dict(a) for a in value]
        return "服务时间已更新。"
    if field == "phone":
        vol.phone = str(value)
        return "电话已更新。"
    if field in ("join", "leave"):
        team = find_team(s, hub_id, str(value))
        if team is None:
            names = "、".join(t.name for t in s.execute(select(Team).where(Team.hub_id == hub_id)).scalars())
            raise VolunteerError(f"没有找到“{value}”。本站的服务队有：{names}")
        if field == "join":
            done = join_team(s, hub_id=hub_id, volunteer_id=vol.id, team=team, now=now)
            return f"已加入{team.name}。" if done else f"您已经在{team.name}了。"
        done = leave_team(s, hub_id=hub_id, volunteer_id=vol.id, team=team)
        return f"已退出{team.name}。" if done else f"您不在{team.name}。"
    raise VolunteerError(f"不能修改“{field}”。")
