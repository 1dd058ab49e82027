"""Who sees what in /admin: merchants never see ID numbers, a team leader only their team, staff only their hub."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.services import Services
from storage.models import Order
from tests.bot.admin.test_admin import ID_MASKED, Seeded, login, post, text


def test_merchant_never_sees_id_numbers_or_phones(client: Any, seeded: Seeded) -> None:
    login(client, "shop")
    page = text(client.get("/admin/volunteers"))
    assert "张师傅" in page and "身份证" not in page and "110***" not in page and "139" not in page
    assert "赵小红" not in page  # applicants are not shown to merchants
    page = text(client.get(f"/admin/volunteers/{seeded.barber}"))
    assert "张师傅" in page and "身份证" not in page and "110***" not in page and "1390000" not in page
    assert client.get(f"/admin/volunteers/{seeded.applicant}").status_code == 404
    # and the merchant's other pages: their shop only, no orders, no dashboard, no catalogue, no ledger
    page = text(client.get("/admin/merchants"))
    assert "老街理发店" in page
    for path in ("/admin/orders", f"/admin/orders/{seeded.haircut_order}", "/admin/dashboard", "/admin/catalogue",
                 "/admin/ledger", "/admin/ledger/export.csv", "/admin/audit", "/admin/staff", "/admin/teams"):
        assert client.get(path).status_code == 403, path
    resp = post(client, f"/admin/orders/{seeded.haircut_order}/cancel", {"reason": "x"}, page="/admin/volunteers")
    assert resp.status_code == 403


def test_staff_see_masked_ids_only(client: Any, seeded: Seeded) -> None:
    login(client, "xiaoli")
    page = text(client.get(f"/admin/volunteers/{seeded.applicant}"))
    assert ID_MASKED in page and "11010519491231002X" not in page
    assert ID_MASKED in text(client.get("/admin/volunteers"))


def test_team_leader_sees_only_their_team(client: Any, seeded: Seeded, services: Services) -> None:
    login(client, "laowang")  # leader of the haircut team
    page = text(client.get("/admin/volunteers"))
    assert "张师傅" in page and "李阿姨" in page and "王师傅" not in page and "陈医生" not in page
    assert client.get(f"/admin/volunteers/{seeded.repairer}").status_code == 404
    page = text(client.get("/admin/orders"))
    assert f'/admin/orders/{seeded.haircut_order}"' in page and f'/admin/orders/{seeded.repair_order}"' not in page
    assert client.get(f"/admin/orders/{seeded.repair_order}").status_code == 404
    # a team filter for another team does not widen what a leader sees
    page = text(client.get(f"/admin/orders?team={seeded.repair_team}"))
    assert f'/admin/orders/{seeded.repair_order}"' not in page
    page = text(client.get("/admin/teams"))
    assert "爱心理发队" in page and "便民维修队" not in page
    # a leader may dispatch within the team, not to someone outside it, and may not cancel
    page = text(client.get(f"/admin/orders/{seeded.haircut_order}"))
    assert "assign-form" in page and "cancel-form" not in page
    assert "幸福小区3栋2单元501" not in page and "幸福小区附近" in page  # coarse address, as volunteers see
    resp = post(client, f"/admin/orders/{seeded.haircut_order}/assign", {"volunteer_id": seeded.repairer})
    assert resp.status_code == 403
    resp = post(client, f"/admin/orders/{seeded.haircut_order}/assign", {"volunteer_id": seeded.barber})
    assert resp.status_code == 302
    with services.sessions() as s:
        order = s.get(Order, seeded.haircut_order)
        assert order is not None and order.volunteer_id == seeded.barber
    for path in (f"/admin/orders/{seeded.haircut_order}/cancel", f"/admin/orders/{seeded.haircut_order}/support"):
        assert post(client, path, {"reason": "x", "note": "x"}).status_code == 403
    for path in ("/admin/dashboard", "/admin/catalogue", "/admin/ledger", "/admin/merchants", "/admin/staff"):
        assert client.get(path).status_code == 403, path
    # approving volunteers is staff work
    resp = post(client, f"/admin/volunteers/{seeded.applicant}/status/approved")
    assert resp.status_code == 403


def test_community_staff_see_their_hub_only(client: Any, seeded: Seeded, services: Services) -> None:
    login(client, "east")  # staff of the other hub
    page = text(client.get("/admin/orders"))
    assert f'/admin/orders/{seeded.other_order}"' in page
    assert f'/admin/orders/{seeded.haircut_order}"' not in page
    assert client.get(f"/admin/orders/{seeded.haircut_order}").status_code == 404
    resp = post(client, f"/admin/orders/{seeded.haircut_order}/cancel", {"reason": "越权"})
    assert resp.status_code == 404
    page = text(client.get("/admin/volunteers"))
    assert "东城志愿者" in page and "张师傅" not in page
    assert client.get(f"/admin/volunteers/{seeded.barber}").status_code == 404
    resp = post(client, f"/admin/volunteers/{seeded.applicant}/status/approved")
    assert resp.status_code == 404
    with services.sessions() as s:
        assert s.get(Order, seeded.haircut_order).state == "dispatched"  # type: ignore[union-attr]
        from storage.models import Membership

        status = s.execute(select(Membership.status).where(Membership.volunteer_id == seeded.applicant)).scalar()
    assert status == "applied"
    assert "张师傅" not in text(client.get("/admin/ledger?month=2026-11"))
    assert client.get("/admin/staff").status_code == 403
    assert post(client, "/admin/hub", {"hub": seeded.hub_id}).status_code == 403
