"""Team rosters and the team's group chats: WeCom group robot (text/markdown, @mentions) and WeCom appchat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.outbox import (
    PRIORITY_NORMAL,
    ROBOT_MAX_MARKDOWN_BYTES,
    ROBOT_MAX_TEXT_BYTES,
    enqueue,
    is_wecom,
    split_bytes,
    userid_of,
)
from bot.people.volunteers import ACTIVE_STATUSES
from storage.models import Membership, Team, TeamMember, User, Volunteer
from storage.models_events import TeamChannel

PERIODS = (("am", 5, 12), ("pm", 12, 18), ("eve", 18, 23))


@dataclass(frozen=True)
class Member:
    volunteer_id: int
    name: str
    phone: str | None
    openid: str | None  # where notices reach them (official account, or "wecom:<userid>")
    user_id: int | None
    availability: tuple[tuple[int, str], ...]


def team_by_code(s: Session, hub_id: int, code: str) -> Team | None:
    return s.execute(select(Team).where(Team.hub_id == hub_id, Team.code == code)).scalar_one_or_none()


def roster(s: Session, hub_id: int, team_id: int) -> list[Member]:
    """Active members of a team: by their membership's team, or listed in team_members (several teams)."""
    in_team = select(TeamMember.volunteer_id).where(TeamMember.team_id == team_id)
    rows = s.execute(
        select(Membership, Volunteer).join(Volunteer, Volunteer.id == Membership.volunteer_id)
        .where(Membership.hub_id == hub_id, Membership.status.in_(ACTIVE_STATUSES),
               or_(Membership.team_id == team_id, Membership.volunteer_id.in_(in_team)))
        .order_by(Volunteer.id)).all()
    out: list[Member] = []
    for member, vol in rows:
        user = s.get(User, member.user_id) if member.user_id else None
        slots = tuple((int(a.get("weekday", -1)), str(a.get("period", ""))) for a in (vol.availability or [])
                      if isinstance(a, dict))
        out.append(Member(vol.id, vol.name, vol.phone, user.openid if user else None, user.id if user else None,
                          slots))
    return out


def on_duty(members: list[Member], now: datetime, tz: ZoneInfo) -> list[Member]:
    """Members whose stated availability covers this moment (weekday and am/pm/eve); none stated = not on duty."""
    local = now.astimezone(tz)
    period = next((name for name, lo, hi in PERIODS if lo <= local.hour < hi), None)
    return [m for m in members if (local.weekday(), period) in m.availability]


def post_to_team(s: Session, team: Team, text: str, *, now: datetime, key: str, markdown: bool = False,
                 mention: list[Member] | None = None, priority: int = PRIORITY_NORMAL) -> int:
    """Queue a message for the team's group chats (robot and/or WeCom appchat); returns rows queued.

    Robot text is limited to 2048 bytes (markdown 4096): longer text is split at line ends into numbered
    parts, each with its own idempotency key. @mentions go on the last part (WeCom userids when the
    volunteer uses WeCom, else their phone numbers), so people are pinged once.
    """
    queued = 0
    if team.robot_key:
        limit = ROBOT_MAX_MARKDOWN_BYTES if markdown else ROBOT_MAX_TEXT_BYTES
        parts = split_bytes(text, limit - 16)  # room for the "(1/3)" marker
        mention = mention or []
        userids = [userid_of(m.openid) for m in mention if m.openid and is_wecom(m.openid)]
        mobiles = [m.phone for m in mention if m.phone and not (m.openid and is_wecom(m.openid))]
        for i, part in enumerate(parts, 1):
            body = part if len(parts) == 1 else f"{part}\n({i}/{len(parts)})"
            extra: dict[str, object] = {}
            if i == len(parts) and not markdown:
                extra = {"mention": userids, "mention_mobile": mobiles}
            elif i == len(parts) and mention:  # markdown has no mention list; <@userid> works inline
                body += "\n" + " ".join(f"<@{u}>" for u in userids) if userids else ""
            enqueue(s, hub_id=team.hub_id, to=team.robot_key, text=body, now=now, channel="wecom_robot",
                    kind="markdown" if markdown else "text", idempotency_key=f"{key}:robot:{team.id}:{i}",
                    extra=extra, priority=priority)
            queued += 1
    chan = s.get(TeamChannel, team.id)
    if chan is not None and chan.appchat_id:
        enqueue(s, hub_id=team.hub_id, to=chan.appchat_id, text=text, now=now, channel="wecom_appchat",
                kind="markdown" if markdown else "text", idempotency_key=f"{key}:appchat:{team.id}",
                priority=priority)
        queued += 1
    return queued
