"""Volunteers, teams, merchants and the ledger downloads in /admin (bot.people.volunteers, bot.serviceloop.ledger)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from bot.services import Services
from storage.models import Membership, MembershipEvent, OutboxMessage, User
from tests.bot.admin.test_admin import Seeded, audit_actions, login, post, text


def _status(services: Services, volunteer_id: int) -> str:
    with services.sessions() as s:
        return str(s.execute(select(Membership.status).where(Membership.volunteer_id == volunteer_id)).scalar())


def _outbox_to(services: Services, openid: str) -> list[str]:
    with services.sessions() as s:
        return [m.payload.get("text", "") for m in s.execute(select(OutboxMessage).where(OutboxMessage.to == openid))
                .scalars()]


def test_volunteer_list_filters(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get("/admin/volunteers?status=applied"))
    assert "赵小红" in page and "张师傅" not in page and "待审核" in page
    page = text(staff_client.get(f"/admin/volunteers?team={seeded.repair_team}"))
    assert "王师傅" in page and "张师傅" not in page
    page = text(staff_client.get("/admin/volunteers?q=张"))
    assert "张师傅" in page and "王师傅" not in page
    page = text(staff_client.get(f"/admin/volunteers?q={seeded.repairer}"))
    assert "王师傅" in page and "张师傅" not in page


def test_profile_shows_hours_points_and_star_level(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get(f"/admin/volunteers/{seeded.barber}"))
    assert "1.5小时" in page and "暂未评星" in page and "再服务98.5小时升星" in page
    assert re.search(r"订单\d{6}：1\.5小时，1颗心", page)  # the points ledger row from the rated order (its 单号)
    assert "时间银行" in page
    assert "110***********0011" in page and "13900000001" in page  # staff see the phone; the ID only masked


def test_approve_an_application(staff_client: Any, seeded: Seeded, services: Services) -> None:
    page = text(staff_client.get(f"/admin/volunteers/{seeded.applicant}"))
    assert "status-approved" in page and "status-rejected" in page and "dismiss-form" not in page
    resp = post(staff_client, f"/admin/volunteers/{seeded.applicant}/status/approved")
    assert "已通过审核" in text(staff_client.get(resp.headers["Location"]))
    assert _status(services, seeded.applicant) == "approved"
    assert any("通过审核" in m for m in _outbox_to(services, "oApplicant01"))
    with services.sessions() as s:
        user = s.execute(select(User).where(User.openid == "oApplicant01")).scalar_one()
        events = s.execute(select(MembershipEvent)).scalars().all()
    assert "volunteer" in user.roles and [(e.from_status, e.to_status, e.actor) for e in events] == [
        ("applied", "approved", "web:xiaoli")]
    assert audit_actions(services)[-1] == "volunteer_status"


def test_reject_needs_a_reason(staff_client: Any, seeded: Seeded, services: Services) -> None:
    resp = post(staff_client, f"/admin/volunteers/{seeded.applicant}/status/rejected", {"reason": ""})
    assert "原因：必填" in text(staff_client.get(resp.headers["Location"]))
    assert _status(services, seeded.applicant) == "applied"
    post(staff_client, f"/admin/volunteers/{seeded.applicant}/status/rejected", {"reason": "年龄信息不符"})
    assert _status(services, seeded.applicant) == "rejected"
    assert any("年龄信息不符" in m for m in _outbox_to(services, "oApplicant01"))


def test_suspend_reinstate_and_dismiss_with_the_regulation_reason(staff_client: Any, seeded: Seeded,
                                                                 services: Services) -> None:
    vid = seeded.barber
    post(staff_client, f"/admin/volunteers/{vid}/status/suspended", {"reason": "连续三次无故不接单"})
    assert _status(services, vid) == "suspended"
    post(staff_client, f"/admin/volunteers/{vid}/status/active")
    assert _status(services, vid) == "active"
    resp = post(staff_client, f"/admin/volunteers/{vid}/dismiss", {"reason_code": "made-up", "reason": "x"})
    assert "劝退要选规定里的一种原因" in text(staff_client.get(resp.headers["Location"]))
    assert _status(services, vid) == "active"
    post(staff_client, f"/admin/volunteers/{vid}/dismiss", {"reason_code": "profit", "reason": "借志愿者名义收费"})
    assert _status(services, vid) == "dismissed"
    page = text(staff_client.get(f"/admin/volunteers/{vid}"))
    assert "已劝退" in page and "利用志愿者名义从事营利性活动" in page and "借志愿者名义收费" in page
    assert "dismiss-form" not in page and "status-active" not in page  # a dismissal is final
    # an illegal move is refused in the domain's words
    resp = post(staff_client, f"/admin/volunteers/{vid}/status/approved")
    assert "不能改为" in text(staff_client.get(resp.headers["Location"]))
    assert audit_actions(services).count("volunteer_status") == 3
    assert post(staff_client, f"/admin/volunteers/{vid}/status/nonsense").status_code == 404


def test_teams_and_merchants_pages(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get("/admin/teams"))
    assert "爱心理发队" in page and "便民维修队" in page and "东城维修队" not in page
    page = text(staff_client.get("/admin/merchants"))
    assert "老街理发店" in page and "幸福路1号" in page


def test_merchant_sees_redemptions_at_their_shop(client: Any, seeded: Seeded, services: Services) -> None:
    from bot.people import points
    from storage.db import transaction

    with transaction(services.sessions) as s:
        points.redeem(s, hub_id=seeded.hub_id, volunteer_id=seeded.barber, points=3, merchant_id=seeded.merchant,
                      actor="test", now=services.clock.now(), reason="兑换洗发水")
    login(client, "shop")
    page = text(client.get("/admin/merchants"))
    assert "本店最近的兑换" in page and "兑换洗发水" in page and "张师傅" in page


def test_ledger_downloads_are_the_cli_exports(staff_client: Any, seeded: Seeded, services: Services) -> None:
    page = text(staff_client.get("/admin/ledger?month=2026-11"))
    assert "张师傅" in page and "110***********0011" in page and "合计1.5小时" in page and "居民确认" in page
    resp = staff_client.get("/admin/ledger/export.xlsx?month=2026-11")
    assert resp.status_code == 200 and "spreadsheetml" in resp.headers["Content-Type"]
    assert 'filename="ledger-20261101-20261130.xlsx"' in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    rows = list(book["服务记录"].iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "姓名", "证件类型", "证件号码") and rows[1][1] == "张师傅" and rows[1][8] == 1.5
    assert [r[0] for r in book["汇总"].iter_rows(values_only=True)][:2] == ["姓名", "张师傅"]
    resp = staff_client.get("/admin/ledger/export.csv?month=2026-11")
    assert resp.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert table[0][1] == "姓名" and table[1][1] == "张师傅" and table[1][3] == "110***********0011"
    resp = staff_client.get("/admin/ledger/export.summary.csv?month=2026-11")
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert table[0][0] == "姓名" and table[1][:4] == ["张师傅", "110***********0011", "1", "1.5"]
    resp = staff_client.get("/admin/ledger/export.csv?month=2026-10")
    assert list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))[1:] == []
    assert staff_client.get("/admin/ledger/export.pdf").status_code == 404
    assert audit_actions(services).count("ledger_export") == 4
