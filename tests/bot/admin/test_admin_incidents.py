"""The console's emergencies page: open incidents until someone marks them handled, who sees what, CSRF, audit."""

from __future__ import annotations

from typing import Any

import pytest
from flask import render_template
from sqlalchemy import select, update

from bot.admin import auth
from bot.admin.pages_incidents import dashboard_incidents
from bot.app import create_app
from bot.community import incidents
from bot.serviceloop.orders import settings_for
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Team, User
from storage.models_admin import StaffAccount
from storage.models_events import Incident
from tests.bot.admin.test_admin import PASSWORD, Seeded, _create_account, form_token, login, post, text

ADDRESS = "幸福小区3栋2单元501"  # the address of the resident's orders in seed_console
PHONE = "13812345678"



def _report(services: Services, hub_id: int, openid: str, words: str, kind: str) -> int:
    with transaction(services.sessions) as s:
        user = s.execute(select(User).where(User.hub_id == hub_id, User.openid == openid)).scalar_one()
        user.nickname = user.nickname or "王秀英"
        made = incidents.report(s, hub_id=hub_id, user=user, kind=kind, text=words, cue=None,
                                now=services.clock.now(), settings=settings_for(s, hub_id))
        return made.id


@pytest.fixture
def fall(services: Services, seeded: Seeded) -> int:
    with transaction(services.sessions) as s:  # the emergency team's group chat has a robot
        s.execute(update(Team).where(Team.hub_id == seeded.hub_id, Team.code == "emergency")
                  .values(robot_key="robot-emergency"))
    return _report(services, seeded.hub_id, "oResident01", "我妈在厕所摔倒了起不来", "medical")


def _emergency_leader(services: Services) -> None:
    with transaction(services.sessions) as s:
        _create_account(s, username="laozhao", password=PASSWORD, role="leader", hub_slug="default",
                        now=services.clock.now(), actor="test", team_code="emergency")


def test_staff_see_the_open_incident_with_everything_on_file(client: Any, seeded: Seeded, fall: int) -> None:
    login(client, "xiaoli")
    page = text(client.get("/admin/incidents"))
    row = page[page.index(f'id="incident-{fall}"'):]
    row = row[:row.index("</tr>")]
    assert "急症" in row and "王秀英" in row and PHONE in row and ADDRESS in row
    assert "我妈在厕所摔倒了起不来" in row and "已处理" in row
    assert "值班人员1条" in row and "队伍群1条" in row and "待发送2" in row  # the alerts queued, not yet sent
    # the nav shows how many are open on every page
    orders = text(client.get("/admin/orders"))
    assert 'id="nav-incidents"' in orders and '<span class="tag warn">1</span>' in orders


def test_marking_handled_keeps_who_and_when_and_is_audited(client: Any, seeded: Seeded, fall: int,
                                                           services: Services, clock: Any) -> None:
    login(client, "xiaoli")
    clock.advance(minutes=7)
    resp = post(client, f"/admin/incidents/{fall}/handled", {"note": "已打电话，家属送医"}, page="/admin/incidents")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/incidents")
    with services.sessions() as s:
        incident = s.get(Incident, fall)
        assert incident is not None
        assert (incident.status, incident.handled_by, incident.note) == ("handled", "web:xiaoli", "已打电话，家属送医")
        assert incident.handled_at is not None and incident.handled_at.replace(tzinfo=None) == \
            clock.now().replace(tzinfo=None)
        audits = s.execute(select(AuditLog.actor, AuditLog.subject).where(AuditLog.action == "incident_handled")).all()
        assert audits == [("web:xiaoli", f"incident:{fall}")]
    page = text(client.get("/admin/incidents"))
    assert 'id="no-open-incidents"' in page
    handled = page[page.index('id="handled-incidents"'):]
    assert "xiaoli" in handled and "已打电话，家属送医" in handled
    assert '<span class="tag warn">' not in page[:page.index("</nav>")]  # nothing open any more
    # a second click (another tab) is told who did it and changes nothing
    page = text(client.post(f"/admin/incidents/{fall}/handled",
                            data={"csrf_token": form_token(client, "/admin/incidents")}, follow_redirects=True))
    assert "已经由 web:xiaoli 处理过了" in page
    with services.sessions() as s:
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "incident_handled")).all()) == 1


def test_marking_handled_refuses_a_missing_or_foreign_csrf_token(client: Any, seeded: Seeded, fall: int,
                                                                 services: Services) -> None:
    foreign = form_token(create_app(services=services).test_client(), "/admin/login")
    login(client, "xiaoli")
    path = f"/admin/incidents/{fall}/handled"
    assert client.post(path, data={}).status_code == 400
    assert client.post(path, data={"csrf_token": foreign}).status_code == 400
    with services.sessions() as s:
        assert s.get(Incident, fall).status == "open"  # type: ignore[union-attr]


def test_a_merchant_never_sees_incidents(client: Any, seeded: Seeded, fall: int, services: Services) -> None:
    login(client, "shop")
    assert client.get("/admin/incidents").status_code == 403
    page = text(client.get("/admin/volunteers"))
    assert "紧急事件" not in page and "nav-incidents" not in page
    assert post(client, f"/admin/incidents/{fall}/handled", page="/admin/volunteers").status_code == 403
    with services.sessions() as s:
        assert s.get(Incident, fall).status == "open"  # type: ignore[union-attr]
        merchant = auth.staff_of(s.execute(select(StaffAccount).where(StaffAccount.username == "shop")).scalar_one())
        assert dashboard_incidents(s, merchant, seeded.hub_id) is None


def test_only_the_emergency_teams_leader_sees_them_masked_and_cannot_close_them(client: Any, seeded: Seeded,
                                                                                 fall: int, services: Services) -> None:
    login(client, "laowang")  # leader of the haircut team
    assert client.get("/admin/incidents").status_code == 403
    assert "nav-incidents" not in text(client.get("/admin/orders"))
    client.post("/admin/logout", data={"csrf_token": form_token(client, "/admin/orders")})
    _emergency_leader(services)
    login(client, "laozhao")
    page = text(client.get("/admin/incidents"))
    row = page[page.index(f'id="incident-{fall}"'):]
    row = row[:row.index("</tr>")]
    assert "急症" in row and "王**" in row and "138****5678" in row and "幸福小区附近" in row
    assert "王秀英" not in page and PHONE not in page and ADDRESS not in page and "摔倒了起不来" not in page
    assert "已处理" not in row
    assert post(client, f"/admin/incidents/{fall}/handled", page="/admin/orders").status_code == 403
    with services.sessions() as s:
        assert s.get(Incident, fall).status == "open"  # type: ignore[union-attr]


def test_staff_of_another_hub_neither_see_nor_close_them(client: Any, seeded: Seeded, fall: int,
                                                         services: Services) -> None:
    login(client, "east")
    page = text(client.get("/admin/incidents"))
    assert f'id="incident-{fall}"' not in page and "王秀英" not in page
    page = text(client.post(f"/admin/incidents/{fall}/handled",
                            data={"csrf_token": form_token(client, "/admin/incidents")}, follow_redirects=True))
    assert f"没有编号为 {fall} 的紧急事件" in page
    with services.sessions() as s:
        assert s.get(Incident, fall).status == "open"  # type: ignore[union-attr]


def test_the_dashboard_panel_counts_and_masks_per_role(app: Any, seeded: Seeded, fall: int,
                                                       services: Services) -> None:
    second = _report(services, seeded.hub_id, "oResident01", "厨房着火了", "fire")
    _emergency_leader(services)
    with services.sessions() as s:
        accounts = {a.username: auth.staff_of(a) for a in s.scalars(select(StaffAccount))}
        staff_panel = dashboard_incidents(s, accounts["xiaoli"], seeded.hub_id, limit=1)
        leader_panel = dashboard_incidents(s, accounts["laozhao"], seeded.hub_id)
        assert dashboard_incidents(s, accounts["laowang"], seeded.hub_id) is None
        assert dashboard_incidents(s, accounts["east"], seeded.other_hub_id) is not None  # their own hub: none open
        assert dashboard_incidents(s, accounts["east"], seeded.other_hub_id).open_count == 0  # type: ignore[union-attr]
    assert staff_panel is not None and leader_panel is not None
    assert staff_panel.open_count == 2 and [r["id"] for r in staff_panel.rows] == [second]  # newest first
    assert staff_panel.can_handle and staff_panel.rows[0]["phone"] == PHONE
    assert not leader_panel.can_handle and {r["phone"] for r in leader_panel.rows} == {"138****5678"}
    assert {r["text"] for r in leader_panel.rows} == {None}
    with app.test_request_context("/admin/dashboard"):
        html = render_template("admin/incidents_dashboard.html", panel=staff_panel)
    assert "2 件待处理" in html and "厨房着火了" in html and f"/admin/incidents/{second}/handled" in html
    assert f'id="incident-{fall}"' not in html  # only the latest (limit=1)
