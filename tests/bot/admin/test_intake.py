"""代客下单 in the console: staff take an order for a resident who phoned or walked in (bot.admin.pages_intake),
its lifecycle through the chat's volunteers, the rating the resident gives by phone, and the board's search."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock, as_utc
from bot.services import Services
from bot.worker import jobs
from storage.db import transaction
from storage.models import Order, OrderEvent, OutboxMessage, PointsEntry, ServiceRecord, User
from tests.bot.admin.test_admin import Seeded, audit_actions, form_token, login, post, text
from tests.dialog import Chat, verify_dialog

BARBER = "oVolBarber01"
NEW = "/admin/orders/new"




@pytest.fixture
def talk(client: Any, account: Any, clock: FakeClock, services: Services, fake_wechat: Any, seeded: Seeded) -> Chat:
    return Chat(client, account, clock, services, fake_wechat)


def intake(client: Any, **fields: str) -> Any:
    data = {"name": "刘奶奶", "phone": "139 1234 5670", "address": "幸福小区5栋1单元302",
            "description": "老太太说头发长了想剪剪 走不动道 能不能上门", "service": "haircut",
            "when": "明天下午三点", "notes": "耳朵背，电话要大声说"}
    data.update(fields)
    return post(client, NEW, data, page=NEW)


def newest(services: Services) -> Order:
    with services.sessions() as s:
        return s.execute(select(Order).order_by(Order.id.desc()).limit(1)).scalar_one()


def test_form_suggests_services_and_reads_the_time(staff_client: Any) -> None:
    page = text(staff_client.get(NEW + "?description=" + "家里水管子漏水了 师傅能来修修不" + "&when=尽快"))
    assert "可能是" in page and "维修" in page.split("可能是")[1].split("</p>")[0]
    assert "时间：尽快" in page
    page = text(staff_client.get(NEW + "?description=想理个发&when=明天下午三点"))
    assert "明天下午3点" in page
    assert 'value="haircut" selected' in page


def test_phone_only_resident_reaches_a_volunteer_and_is_rated_by_phone(
        staff_client: Any, talk: Chat, services: Services, clock: FakeClock) -> None:
    talk.deliver()
    resp = intake(staff_client)
    assert resp.status_code == 302, text(resp)
    o = newest(services)
    assert (o.resident_name, o.phone, o.resident_user_id, o.state) == ("刘奶奶", "13912345670", None, "dispatched")
    assert "耳朵背" in (o.details or "")
    page = text(staff_client.get(resp.headers["Location"]))
    assert "已代居民下单" in page and "电话告诉居民" in page
    with services.sessions() as s:
        office = s.get(User, o.ordered_by_user_id)
        assert office is not None and not office.subscribed and office.roles == []
        first = s.execute(select(OrderEvent).where(OrderEvent.order_id == o.id).order_by(OrderEvent.id)).scalars()
        submit = next(iter(first))
        assert submit.reason == "工作人员代下单" and submit.actor == "web:xiaoli"
    got = talk.deliver()
    assert any(f"接单 {o.ref}" in t for t in got[BARBER])
    verify_dialog(talk, [(BARBER, f"接单 #{o.id}", "接单成功")])
    verify_dialog(talk, [(BARBER, f"完成 #{o.id} 1.5", "还没到服务时间")])  # refused before the appointment
    start = as_utc(newest(services).start_at)
    lead = timedelta(minutes=services.config.appointment_remind_minutes - 1)
    with transaction(services.sessions) as s:  # the appointment reminder: the volunteer's, none for the office row
        assert jobs.appointment_reminders(s, o.hub_id, start - lead, services) == 1
    clock.advance(days=1, hours=6)
    verify_dialog(talk, [(BARBER, f"完成 #{o.id} 1.5", "1.5")])
    assert newest(services).state == "completed"
    with services.sessions() as s:  # nothing was queued for the office's row: nobody to send it to
        assert s.scalars(select(OutboxMessage.to).where(OutboxMessage.to == office.openid)).all() == []
    page = text(staff_client.get(f"/admin/orders/{o.id}"))
    assert "登记居民电话评价" in page
    said = {"hearts": "4", "comment": "小伙子手艺好 还陪我聊天"}
    resp = post(staff_client, f"/admin/orders/{o.id}/phone-rating", said, page=f"/admin/orders/{o.id}")
    assert "4颗心" in text(staff_client.get(resp.headers["Location"]))
    done = newest(services)
    assert (done.rating, done.verified_by, done.state) == (4, "staff_phone", "closed")
    with services.sessions() as s:
        record = s.execute(select(ServiceRecord).where(ServiceRecord.order_id == o.id)).scalar_one()
        assert (record.rating, record.hours, record.verified_by) == (4, 1.5, "staff_phone")
        assert record.comment == "小伙子手艺好 还陪我聊天"
        earned = s.execute(select(PointsEntry).where(PointsEntry.order_id == o.id)).scalar_one()
        assert earned.kind == "earn" and earned.points > 0 and "4颗心" in earned.reason
        assert s.scalars(select(OutboxMessage.to).where(OutboxMessage.to == office.openid)).all() == []
    assert "order_intake" in audit_actions(services) and "order_phone_rating" in audit_actions(services)
    got = talk.deliver()
    assert any("❤❤❤❤" in t for t in got[BARBER])


def test_existing_resident_found_by_phone_owns_the_order_and_is_told(
        staff_client: Any, talk: Chat, services: Services, seeded: Seeded) -> None:
    with transaction(services.sessions) as s:
        s.add(User(hub_id=seeded.hub_id, openid="oGrandpaChen", roles=[], phone="13600001111", subscribed=True,
                   last_inbound_at=talk.clock.now(), created_at=talk.clock.now()))
    talk.deliver()
    resp = intake(staff_client, name="陈大爷", phone="13600001111", description="灯泡坏了 换不了",
                  service="repair", when="尽快")
    assert resp.status_code == 302, text(resp)
    o = newest(services)
    with services.sessions() as s:
        grandpa = s.execute(select(User).where(User.openid == "oGrandpaChen")).scalar_one()
    assert o.ordered_by_user_id == grandpa.id and o.resident_user_id == grandpa.id and o.time_kind == "asap"
    got = talk.wanted()
    assert any("社区工作人员已为您预约了" in t for t in got["oGrandpaChen"])
    page = text(staff_client.get(f"/admin/orders/{o.id}"))
    assert "登记居民电话评价" not in page  # a resident with WeChat rates there


@pytest.mark.parametrize(("fields", "words"), [
    ({"phone": "1234"}, "电话号码不对"),
    ({"service": ""}, "请选择服务"),
    ({"service": "flying"}, "请从列表里选一项服务"),
    ({"when": "今天早上八点"}, "这个时间已经过了"),
    ({"when": "啥时候都中"}, "没看懂时间"),
])
def test_refusals_in_plain_chinese(staff_client: Any, services: Services, fields: dict[str, str],
                                   words: str) -> None:
    before = newest(services).id
    resp = intake(staff_client, **fields)
    assert resp.status_code == 400 and words in text(resp)
    assert "刘奶奶" in text(resp)  # what was typed stays in the form
    assert newest(services).id == before


@pytest.mark.parametrize("who", ["laowang", "shop"])
def test_leaders_and_merchants_cannot_take_orders(client: Any, seeded: Seeded, who: str) -> None:
    login(client, who)
    assert client.get(NEW).status_code == 403
    token = form_token(client, client.get("/admin/").headers["Location"])
    assert client.post(NEW, data={"csrf_token": token, "name": "x", "phone": "13912345670", "address": "x",
                                  "service": "haircut", "when": "尽快"}).status_code == 403
    if who == "laowang":
        assert "代客下单" not in text(client.get("/admin/orders"))


def test_intake_needs_a_csrf_token(staff_client: Any, services: Services) -> None:
    before = newest(services).id
    resp = staff_client.post(NEW, data={"name": "刘奶奶", "phone": "13912345670", "address": "幸福小区",
                                        "service": "haircut", "when": "尽快"})
    assert resp.status_code == 400
    assert newest(services).id == before


def test_board_searches_by_phone_and_name(staff_client: Any, services: Services) -> None:
    intake(staff_client)
    taken = newest(services)
    page = text(staff_client.get("/admin/orders?q=13912345670"))
    assert f"/admin/orders/{taken.id}\"" in page
    assert "共1个" in page
    page = text(staff_client.get("/admin/orders?q=刘"))
    assert "共1个" in page and f"/admin/orders/{taken.id}\"" in page
    assert "共0个" in text(staff_client.get("/admin/orders?q=13000000000"))
    assert "共0个" in text(staff_client.get("/admin/orders?q=%25"))  # a wildcard is only a character


def test_board_finds_an_order_by_its_ref_and_shows_it_as_the_number(staff_client: Any, services: Services) -> None:
    intake(staff_client)
    taken = newest(services)
    page = text(staff_client.get(f"/admin/orders?q={taken.ref}"))
    assert "共1个" in page and f"/admin/orders/{taken.id}\">{taken.ref}</a>" in page
    if taken.id != taken.ref:
        assert "共0个" in text(staff_client.get(f"/admin/orders?q={taken.id}"))  # an id is no 单号
    assert f"订单{taken.ref}" in text(staff_client.get(f"/admin/orders/{taken.id}"))


def test_a_landline_without_its_area_code_is_a_phone_and_a_point_in_time_reads_as_one_time(
        staff_client: Any, talk: Chat, services: Services) -> None:
    # outside tester out8: the office's residents often give the home landline, 8 digits, no area code
    resp = intake(staff_client, phone="6688 1234")
    assert resp.status_code == 302, text(resp)
    o = newest(services)
    assert o.phone == "66881234"
    page = text(staff_client.get(f"/admin/orders/{o.id}"))
    assert "15:00-15:00" not in page and "15:00" in page  # "明天下午三点" is one clock time, not a range
