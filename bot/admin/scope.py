"""What a signed-in person may see: their hub (an admin: the hub they chose), a leader only their team."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.admin.auth import Staff
from bot.people.volunteers import ACTIVE_STATUSES
from storage.models import Membership, Order, Team, TeamMember


def team_volunteer_ids(s: Session, hub_id: int, team_id: int) -> set[int]:
    """A team's people: members by their membership's team, and by the team member list."""
    ids = set(s.scalars(select(Membership.volunteer_id).where(Membership.hub_id == hub_id,
                                                              Membership.team_id == team_id)))
    ids |= set(s.scalars(select(TeamMember.volunteer_id).where(TeamMember.hub_id == hub_id,
                                                               TeamMember.team_id == team_id)))
    return ids


def team_services(s: Session, hub_id: int, team_id: int) -> list[str]:
    team = s.execute(select(Team).where(Team.id == team_id, Team.hub_id == hub_id)).scalar_one_or_none()
    return list(team.services or []) if team else []


def orders_filter(s: Session, staff: Staff, hub_id: int) -> list[Any]:
    """WHERE conditions for the orders this person may see."""
    conds: list[Any] = [Order.hub_id == hub_id]
    if staff.role == "leader":
        conds.append(team_condition(s, hub_id, staff.team_id or 0))
    return conds


def team_condition(s: Session, hub_id: int, team_id: int) -> Any:
    """Orders of a team: a service the team covers, or taken by one of its people."""
    people = team_volunteer_ids(s, hub_id, team_id)
    services = team_services(s, hub_id, team_id)
    return or_(Order.service_code.in_(services or [""]), Order.volunteer_id.in_(people or [0]))


def may_see_volunteer(s: Session, staff: Staff, hub_id: int, volunteer_id: int) -> bool:
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
    if member is None:
        return False
    if staff.role == "leader":
        return volunteer_id in team_volunteer_ids(s, hub_id, staff.team_id or 0)
    if staff.role == "merchant":
        return member.status in ACTIVE_STATUSES
    return True
