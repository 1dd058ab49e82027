"""Team rosters and the team's group chats: WeCom group robot (text/markdown, @mentions) and WeCom appchat."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.errors import LeifengError
from bot.outbox import (
    PRIORITY_NORMAL,
    ROBOT_MAX_MARKDOWN_BYTES,
    ROBOT_MAX_TEXT_BYTES,
    enqueue,
    is_wecom,
    split_bytes,
    userid_of,
)
from bot.people.volunteers import ACTIVE_STATUSES, join_team, leave_team
from storage.models import Membership, Team, TeamMember, User, Volunteer
from storage.models_events import TeamChannel

PERIODS = (("am", 5, 12), ("pm", 12, 18), ("eve", 18, 23))
# a WeCom group robot key is a UUID; staff often paste the whole webhook address, which carries it as ?key=
ROBOT_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
ROBOT_URL = re.compile(r"https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?(?:.*&)?key=([^&#\s]+)(?:[&#].*)?")


class TeamError(LeifengError):
    """A team change that cannot be done; the message is plain Chinese."""


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


# -- keeping teams ------------------------------------------------------------------------------


def robot_key_from(text: str) -> str:
    """The robot key in what staff pasted (the key itself or the robot's webhook address)."""
    text = text.strip()
    url = ROBOT_URL.fullmatch(text)
    key = url.group(1) if url else text
    if not ROBOT_KEY.fullmatch(key):
        raise TeamError("群机器人的key格式不对：应是企业微信群机器人“Webhook地址”里 key= 后面那一串"
                        "（形如 xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx）。")
    return key.lower()


def masked_robot_key(key: str | None) -> str:
    """What a page or the record may show of a robot key: whether one is set, and its last 4 characters."""
    return f"已设置（末4位 {key[-4:]}）" if key else "未设置"


def add_team(s: Session, *, hub_id: int, code: str, name: str, services: Sequence[str], emergency: bool,
             now: datetime) -> Team:
    if team_by_code(s, hub_id, code) is not None:
        raise TeamError(f"队伍代码“{code}”已经有了，请换一个。")
    team = Team(hub_id=hub_id, code=code, name=name.strip(), services=list(services), emergency=emergency,
                created_at=now)
    s.add(team)
    s.flush()
    return team


def update_team(team: Team, *, name: str, services: Sequence[str], emergency: bool) -> None:
    team.name, team.services, team.emergency = name.strip(), list(services), emergency


def _approved_member(s: Session, hub_id: int, volunteer_id: int) -> Volunteer:
    """A volunteer of the hub whose membership is approved or active (the only ones a team may hold)."""
    row = s.execute(select(Membership, Volunteer).join(Volunteer, Volunteer.id == Membership.volunteer_id)
                    .where(Membership.hub_id == hub_id, Membership.volunteer_id == volunteer_id)).first()
    if row is None:
        raise TeamError(f"本站没有编号为{volunteer_id}的志愿者。")
    if row[0].status not in ACTIVE_STATUSES:
        raise TeamError(f"{row[1].name}还不是审核通过、在服务的志愿者，不能加入队伍。")
    return row[1]


def add_member(s: Session, team: Team, volunteer_id: int, *, now: datetime) -> Volunteer:
    vol = _approved_member(s, team.hub_id, volunteer_id)
    if not join_team(s, hub_id=team.hub_id, volunteer_id=volunteer_id, team=team, now=now):
        raise TeamError(f"{vol.name}已经在{team.name}里了。")
    return vol


def remove_member(s: Session, team: Team, volunteer_id: int) -> Volunteer:
    vol = s.get(Volunteer, volunteer_id)
    if vol is None:
        raise TeamError(f"没有编号为{volunteer_id}的志愿者。")
    if team.leader_volunteer_id == volunteer_id:
        raise TeamError(f"{vol.name}是{team.name}的队长，请先换一位队长再让他离队。")
    if not leave_team(s, hub_id=team.hub_id, volunteer_id=volunteer_id, team=team):
        raise TeamError(f"{vol.name}不在{team.name}里。")
    return vol


def set_leader(s: Session, team: Team, volunteer_id: int | None, *, now: datetime) -> Volunteer | None:
    """Make a volunteer the team's leader (joining the team if not yet in it), or leave it without one."""
    if volunteer_id is None:
        team.leader_volunteer_id = None
        return None
    vol = _approved_member(s, team.hub_id, volunteer_id)
    join_team(s, hub_id=team.hub_id, volunteer_id=volunteer_id, team=team, now=now)
    team.leader_volunteer_id = volunteer_id
    return vol


def set_robot_key(team: Team, text: str | None) -> None:
    """Set the group robot from what staff pasted, or remove it (None or blank)."""
    team.robot_key = robot_key_from(text) if text and text.strip() else None
