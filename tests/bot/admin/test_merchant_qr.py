"""A merchant's "shows a QR" switch (merchants.shows_qr, migration 0018): with it on, a volunteer redeems by
scanning the counter's QR code; off, a scan redeems nothing (a photo of an old poster is no way to spend points
there) while the counter person still takes codes; staff set it in the console, audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.devtools.simulator import message_xml
from bot.hubsettings import HubSettings
from bot.people import merchants, points
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Merchant, PointsEntry
from tests.bot.admin.test_admin import Seeded, login, post, seed_console, text
from tests.dialog import Chat

BARBER = "oVolBarber01"
COUNTER = "oShopCounter1"


@pytest.fixture
def seeded(services: Services) -> Seeded:
    made = seed_console(services)
    with transaction(services.sessions) as s:
        points.adjust(s, hub_id=made.hub_id, volunteer_id=made.barber, points=100, reason="测试", actor="test",
                      now=services.clock.now())
        s.execute(update(Merchant).where(Merchant.id == made.merchant).values(staff_openid=COUNTER))
    return made


@pytest.fixture
def talk(client: Any, account: Any, services: Services, fake_wechat: Any, seeded: Seeded) -> Chat:
    return Chat(client, account, services.clock, services, fake_wechat)


def scan(chat: Chat, openid: str, scene: str) -> str | None:
    xml = message_xml(to="gh_hub", sender=openid, create_time=int(chat.clock.now().timestamp()), msg_type="event",
                      Event="SCAN", EventKey=scene)
    return chat._post(xml, openid)


def spent(services: Services, seeded: Seeded) -> int:
    with services.sessions() as s:
        return -int(sum(s.scalars(select(PointsEntry.points).where(PointsEntry.volunteer_id == seeded.barber,
                                                                   PointsEntry.kind == "redeem"))))


def test_a_scan_redeems_only_where_the_counter_shows_the_qr(talk: Chat, services: Services, seeded: Seeded) -> None:
    talk.say(BARBER, "你好")
    scene = f"{merchants.SCAN_PREFIX}{seeded.merchant}"
    assert "这次要用多少积分" in (scan(talk, BARBER, scene) or "")
    talk.say(BARBER, "20")
    assert "兑换成功" in (talk.say(BARBER, "1") or "")
    assert spent(services, seeded) == 20
    with transaction(services.sessions) as s:
        s.execute(update(Merchant).where(Merchant.id == seeded.merchant).values(shows_qr=False))
    talk.clock.advance(minutes=2)  # a new scan, not WeChat repeating the first
    assert "这次要用多少积分" in (scan(talk, BARBER, scene) or "")
    talk.say(BARBER, "20")
    assert "不接受扫码兑换，请在柜台出示兑换码" in (talk.say(BARBER, "1") or "")
    assert spent(services, seeded) == 20  # nothing taken
    with transaction(services.sessions) as s:  # the counter person still takes the volunteer's code
        code = merchants.issue_code(s, hub_id=seeded.hub_id, volunteer_id=seeded.barber, now=services.clock.now(),
                                    rules=HubSettings())
        merchants.redeem_code(s, hub_id=seeded.hub_id, staff_openid=COUNTER, code=code.code, amount=10,
                              now=services.clock.now(), rules=HubSettings())
    assert spent(services, seeded) == 30


def test_staff_switch_it_in_the_console(client: Any, services: Services, seeded: Seeded) -> None:
    login(client, "xiaoli")
    new = text(client.get("/admin/merchants"))
    box = re.search(r'<input[^>]*name="shows_qr"[^>]*>', new)
    assert box and "checked" in box.group(0)  # a new merchant's counter shows the QR unless staff say not
    path = f"/admin/merchants/{seeded.merchant}"
    page = text(client.get(path))
    assert 'id="merchant-scene"' in page and "或扫本店二维码" in page
    resp = post(client, path, {"name": "老街理发店", "accepts_redemptions": "y", "staff_openid": COUNTER},
                page=path)
    assert resp.status_code == 302
    page = text(client.get(path))
    assert 'id="merchant-scene"' not in page and "不接受扫码" in page
    with services.sessions() as s:
        assert s.scalar(select(Merchant.shows_qr).where(Merchant.id == seeded.merchant)) is False
        detail = s.scalars(select(AuditLog.detail).where(AuditLog.action == "merchant_update")).one()
        assert detail["shows_qr"] is False
    post(client, path, {"name": "老街理发店", "accepts_redemptions": "y", "shows_qr": "y"}, page=path)
    page = text(client.get(path))
    assert "接受（志愿者扫本店二维码）" in page and "未登记（只能扫码兑换）" in page
    with services.sessions() as s:
        assert s.scalar(select(Merchant.shows_qr).where(Merchant.id == seeded.merchant)) is True
