"""Finding residents and volunteers by phone or name in the console (bot.admin.pages_residents, the volunteers
list): a phone in any spelling, part of a name, the residents without WeChat whose orders staff took by phone; a
leader only the team's residents, masked; a merchant never the residents, nor a volunteer by phone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.serviceloop import orders
from bot.services import Services
from storage.db import transaction
from storage.models import User, Volunteer
from tests.bot.admin.test_admin import Seeded, login, seed_console, text
from tests.bot.admin.test_console_words import leaks
from tests.bot.admin.test_intake import intake, newest

RESIDENT_PHONE = "13812345678"  # oResident01's, who ordered haircuts and a repair (seed_console)


@pytest.fixture
def seeded(services: Services) -> Seeded:
    made = seed_console(services)
    now = services.clock.now()
    with transaction(services.sessions) as s:  # a resident with a repair order only, and a nickname
        user = User(hub_id=made.hub_id, openid="oRepairOnly", roles=[], phone="13600002222", nickname="孙阿姨",
                    subscribed=True, last_inbound_at=now, created_at=now)
        s.add(user)
        s.flush()
        orders.submit_order(s, hub_id=made.hub_id, user=user, data={"details": "水管漏水", "address": "幸福小区1栋",
                                                                   "phone": user.phone},
                            service=orders.ServiceInfo("repair", "维修"), now=now)
    return made


def table(page: str) -> str:
    return page[page.index('id="residents-table"'):page.index("</table>")]


def test_staff_find_a_resident_by_phone_in_any_spelling_or_by_name(client: Any, services: Services,
                                                                   seeded: Seeded) -> None:
    login(client, "xiaoli")
    assert "电话或姓名" in text(client.get("/admin/residents"))
    for typed in (RESIDENT_PHONE, "138 1234 5678", "１３８１２３４５６７８"):
        found = table(text(client.get("/admin/residents", query_string={"q": typed})))
        assert RESIDENT_PHONE in found and "已关注公众号" in found and "孙阿姨" not in found, typed
        assert found.count("/admin/orders/") >= 3  # the resident's orders, linked
    found = table(text(client.get("/admin/residents", query_string={"q": "孙"})))
    assert "孙阿姨" in found and "13600002222" in found and RESIDENT_PHONE not in found
    found = table(text(client.get("/admin/residents", query_string={"q": "13900000000"})))
    assert "没有找到" in found


def test_a_resident_without_wechat_is_found_by_the_phone_on_their_orders(client: Any, services: Services,
                                                                         seeded: Seeded) -> None:
    login(client, "xiaoli")
    intake(client)
    intake(client, when="后天上午十点", notes="")
    o = newest(services)
    for typed in ("13912345670", "刘奶奶"):
        found = table(text(client.get("/admin/residents", query_string={"q": typed})))
        assert "刘奶奶" in found and "13912345670" in found and "没有微信" in found, typed
        assert found.split("<tbody>")[1].count("<tr>") == 1 and found.count("/admin/orders/") == 2
        assert str(o.ref) in found
        assert "社区办公室" not in found  # the office's row is nobody to find
    assert leaks(text(client.get("/admin/residents", query_string={"q": "刘奶奶"}))) == []


def test_a_leader_finds_only_the_teams_residents_masked_and_a_merchant_none(client: Any, services: Services,
                                                                             seeded: Seeded) -> None:
    login(client, "laowang")  # the haircut team's leader
    found = table(text(client.get("/admin/residents", query_string={"q": RESIDENT_PHONE})))
    assert "138****5678" in found and RESIDENT_PHONE not in found
    found = table(text(client.get("/admin/residents", query_string={"q": "13600002222"})))
    assert "没有找到" in found  # a repair order only: not the haircut team's
    assert "没有找到" in table(text(client.get("/admin/residents", query_string={"q": "孙"})))
    client.get("/admin/logout")
    with client.session_transaction() as sess:
        sess.clear()
    login(client, "shop")
    assert client.get("/admin/residents", query_string={"q": RESIDENT_PHONE}).status_code == 403
    assert 'id="nav-residents"' not in text(client.get(f"/admin/merchants/{seeded.merchant}"))


def test_volunteers_found_by_phone_but_not_by_a_merchant(client: Any, services: Services, seeded: Seeded) -> None:
    with services.sessions() as s:
        barber = s.execute(select(Volunteer).where(Volunteer.id == seeded.barber)).scalar_one()
        phone, name = str(barber.phone), barber.name
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    login(client, "xiaoli")
    listed = text(client.get("/admin/volunteers", query_string={"q": spaced}))
    listed = listed[listed.index('id="volunteers-table"'):]
    assert name in listed and "王师傅" not in listed and "赵小红" not in listed
    with client.session_transaction() as sess:
        sess.clear()
    login(client, "shop")
    listed = text(client.get("/admin/volunteers", query_string={"q": phone}))
    assert name not in listed[listed.index('id="volunteers-table"'):]  # a merchant cannot tell who owns a phone
