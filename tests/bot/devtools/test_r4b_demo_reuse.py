"""`leifeng demo --db FILE` on a file used before (outside tester round 4): the demo hub found there is reused, not
seeded a second time (which failed on the unique team codes)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.devtools.demo import seed
from bot.services import Services
from storage.models import Team, User


def _count(services: Services, model: type) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_the_demo_hub_is_seeded_once_and_then_reused(services: Services) -> None:
    assert seed(services) is True
    teams, users = _count(services, Team), _count(services, User)
    assert teams > 0 and users > 0
    assert seed(services) is False  # the second run on the same database: nothing added, no IntegrityError
    assert (_count(services, Team), _count(services, User)) == (teams, users)
    with services.sessions() as s:
        robot = s.scalar(select(Team.robot_key).where(Team.code == "haircut"))
    assert robot == "DEMO-HAIRCUT-ROBOT"
