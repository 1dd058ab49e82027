"""`leifeng teams` and `leifeng merchants` keep the console's rules (bot/community/teamchat.py,
bot/people/merchants.py): one home for who may lead, what a robot key looks like, who may join."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.main import cli
from bot.clock import FakeClock
from storage.db import transaction
from storage.models import Team
from tests.bot.people.volunteer_fixtures import make_volunteer

KEY = "0b7f2c3e-1234-4abc-9def-00112233abcd"


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"LEIFENG_DATABASE_URL": db_url}, catch_exceptions=False)


def test_teams_from_the_command_line_follow_the_domain_rules(db_url: str, services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        applicant = make_volunteer(s, clock.now(), name="赵申请", openid="oApp", status="applied")[0].id
        active = make_volunteer(s, clock.now(), name="钱在岗", openid="oAct")[0].id
    assert run(db_url, "teams", "add", "--code", "hair", "--name", "理发队", "--services", "haircut").exit_code == 0
    again = run(db_url, "teams", "add", "--code", "hair", "--name", "又一个", "--services", "haircut")
    assert again.exit_code != 0 and "已经有了" in again.output
    refused = run(db_url, "teams", "set", "hair", "--leader", str(applicant))
    assert refused.exit_code != 0 and "还不是审核通过" in refused.output  # the CLI used to make an applicant lead
    bad_key = run(db_url, "teams", "set", "hair", "--robot-key", "not-a-key")
    assert bad_key.exit_code != 0 and "格式不对" in bad_key.output  # the CLI used to keep any text
    assert run(db_url, "teams", "set", "hair", "--leader", str(active), "--robot-key", KEY.upper()).exit_code == 0
    with services.sessions() as s:
        team = s.execute(select(Team).where(Team.code == "hair")).scalar_one()
        assert team.leader_volunteer_id == active and team.robot_key == KEY
    leave = run(db_url, "teams", "leave", "hair", str(active))
    assert leave.exit_code != 0 and "是理发队的队长" in leave.output
    assert run(db_url, "teams", "join", "hair", str(applicant)).exit_code != 0
