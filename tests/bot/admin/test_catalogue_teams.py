"""The console's catalogue names who takes each service: the hub's own teams that serve it (what dispatch offers
orders to), not the catalogue's suggested team name; a service no team serves says so (outside tester out9)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from bot.services import Services
from storage.db import transaction
from storage.models import Team
from tests.bot.admin.test_admin import Seeded, text


def _row(page: str, code: str) -> str:
    m = re.search(rf'<tr><td class="mono">{code}</td>.*?</tr>', page, re.S)
    assert m is not None, code
    return m.group(0)


def test_the_catalogue_shows_the_hub_s_teams(staff_client: Any, seeded: Seeded, services: Services) -> None:
    with transaction(services.sessions) as s:  # the hub renamed its team; another team serves haircuts too
        s.execute(update(Team).where(Team.hub_id == 1, Team.code == "haircut").values(name="幸福理发组"))
        s.execute(update(Team).where(Team.hub_id == 1, Team.code == "care").values(services=["haircut"]))
    page = text(staff_client.get("/admin/catalogue"))
    haircut = _row(page, "haircut")
    assert "幸福理发组" in haircut and "邻里关爱队" in haircut and "爱心理发队" not in haircut, haircut
    meals = _row(page, "meals")  # served by no team now that care serves haircuts only
    assert "没有服务队负责" in meals, meals
    assert "东城维修队" not in _row(page, "repair")  # another hub's team
