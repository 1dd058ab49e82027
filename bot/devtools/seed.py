"""Sample data for a demo hub (and the tests): teams, approved volunteers, staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Hub, Membership, Merchant, Team, TeamMember, User, Volunteer

TEAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("repair", "便民维修队", ("repair", "safety", "moving", "lending")),
    ("haircut", "爱心理发队", ("haircut",)),
    ("medical", "医疗健康队", ("health", "escort", "eldercare")),
    ("legal", "法律服务队", ("legal", "policy")),
    ("education", "教育辅导队", ("tutoring", "parenting", "digital", "science", "skills")),
    ("care", "邻里关爱队", ("companionship", "meals", "errands", "housekeeping", "counselling", "disability",
                          "transport", "sewing")),
    ("culture", "文体活动队", ("culture", "recycling")),
    ("emergency", "应急救援队", ()),
    ("disability", "助残服务队", ("disability", "transport", "eldercare")),
    ("counselling", "心理关爱队", ("counselling", "companionship")),
    ("green", "环保志愿队", ("recycling",)),
    ("science", "科普宣讲队", ("science", "digital")),
    ("policy", "理论宣讲队", ("policy",)),
    ("safety", "平安巡查队", ("safety",)),
    ("sewing", "巧手缝补队", ("sewing", "lending")),
)
# a few of the hub's ~40 partner merchants (共建单位 / 雷锋超市便民服务点)
MERCHANTS: tuple[tuple[str, str, str, bool, tuple[str, ...], bool], ...] = (
    ("m-barber", "阿明理发店", "白莲路12号", True, ("haircut",), True),
    ("m-hardware", "老李五金维修部", "白莲路30号", True, ("repair",), False),
    ("m-market", "宝莲便民小超市", "宝莲社区东门", False, (), True),
)


@dataclass(frozen=True)
class SeedVolunteer:
    openid: str
    name: str
    phone: str
    team: str
    skills: tuple[str, ...] = ()


VOLUNTEERS: tuple[SeedVolunteer, ...] = (
    SeedVolunteer("oVolBarber01", "张师傅", "13900000001", "haircut", ("haircut",)),
    SeedVolunteer("oVolBarber02", "李阿姨", "13900000002", "haircut", ("haircut",)),
    SeedVolunteer("oVolRepair01", "王师傅", "13900000003", "repair", ("repair",)),
    SeedVolunteer("oVolDoctor01", "陈医生", "13900000004", "medical", ("health", "escort")),
    SeedVolunteer("oVolCare01", "刘大姐", "13900000005", "care", ("companionship", "meals")),
)
STAFF_OPENID = "oDemoStaff01"


def seed_demo_hub(s: Session, now: datetime, hub_slug: str = "default", hub_name: str | None = None) -> Hub:
    hub = s.execute(select(Hub).where(Hub.slug == hub_slug)).scalar_one()
    if hub_name:
        hub.name = hub_name
    teams: dict[str, Team] = {}
    for code, name, services in TEAMS:
        team = Team(hub_id=hub.id, code=code, name=name, services=list(services), emergency=code == "emergency",
                    created_at=now)
        s.add(team)
        teams[code] = team
    s.flush()
    s.add(User(hub_id=hub.id, openid=STAFF_OPENID, roles=["staff"], nickname="社区工作人员小李", subscribed=True,
               last_inbound_at=now, created_at=now))
    for v in VOLUNTEERS:
        vol = Volunteer(name=v.name, phone=v.phone, skills=list(v.skills), availability=[], created_at=now)
        s.add(vol)
        s.flush()
        user = User(hub_id=hub.id, openid=v.openid, roles=["volunteer"], nickname=v.name, phone=v.phone,
                    volunteer_id=vol.id, subscribed=True, last_inbound_at=now, created_at=now)
        s.add(user)
        s.flush()
        s.add(Membership(hub_id=hub.id, volunteer_id=vol.id, user_id=user.id, team_id=teams[v.team].id,
                         status="active", max_open_tasks=3, created_at=now, updated_at=now))
    s.flush()
    vols = {v.openid: s.execute(select(User.volunteer_id).where(User.hub_id == hub.id, User.openid == v.openid))
            .scalar_one() for v in VOLUNTEERS}
    for v in VOLUNTEERS:  # the first volunteer of each team leads it
        team = teams[v.team]
        if team.leader_volunteer_id is None:
            team.leader_volunteer_id = vols[v.openid]
        s.add(TeamMember(hub_id=hub.id, team_id=team.id, volunteer_id=vols[v.openid], joined_at=now))
    for openid in ("oVolRepair01", "oVolDoctor01"):  # also on the standing emergency team
        s.add(TeamMember(hub_id=hub.id, team_id=teams["emergency"].id, volunteer_id=vols[openid], joined_at=now))
    for code, name, address, point, services, redeems in MERCHANTS:
        s.add(Merchant(hub_id=hub.id, code=code, name=name, address=address, service_point=point,
                       services=list(services), accepts_redemptions=redeems, active=True, created_at=now))
    s.flush()
    return hub
