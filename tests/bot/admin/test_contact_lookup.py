"""Residents found by phone with their phones encrypted at rest: 代客下单 finds the resident on file by the phone
staff type (however spelled), the orders board finds the order, and neither leaves a phone or address readable in
the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from bot.services import Services
from storage.db import transaction
from storage.models import Order, User
from tests.bot.admin.test_admin import Seeded, post
from tests.bot.admin.test_admin import text as page_text

NEW = "/admin/orders/new"


def test_intake_finds_the_resident_by_phone_and_the_board_by_any_spelling(
        staff_client: Any, services: Services, seeded: Seeded) -> None:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        s.add(User(hub_id=seeded.hub_id, openid="oGrandpaChen", roles=[], phone="13600001111", subscribed=True,
                   last_inbound_at=now, created_at=now))
    resp = post(staff_client, NEW, {"name": "陈大爷", "phone": "136 0000 1111", "address": "幸福小区7栋302",
                                    "description": "灯泡坏了 换不了", "service": "repair", "when": "尽快", "notes": ""},
                page=NEW)
    assert resp.status_code == 302, page_text(resp)
    with services.sessions() as s:
        order = s.execute(select(Order).order_by(Order.id.desc()).limit(1)).scalar_one()
        grandpa = s.execute(select(User).where(User.openid == "oGrandpaChen")).scalar_one()
        assert (order.ordered_by_user_id, order.phone, order.address) == (grandpa.id, "13600001111", "幸福小区7栋302")
        raw = s.execute(text("SELECT phone, address FROM orders WHERE id = :i"), {"i": order.id}).one()
        raw_user = s.execute(text("SELECT phone FROM users WHERE id = :i"), {"i": grandpa.id}).scalar_one()
    assert "13600001111" not in raw[0] and "幸福小区" not in raw[1] and "13600001111" not in raw_user
    for typed in ("13600001111", "136-0000-1111", "+86 136 0000 1111"):
        page = page_text(staff_client.get("/admin/orders", query_string={"q": typed}))
        assert f"/admin/orders/{order.id}\"" in page and "共1个" in page, typed
    assert "共0个" in page_text(staff_client.get("/admin/orders?q=13600001112"))
