"""The call list for residents without WeChat (orders staff took by phone, 代客下单): every notice a WeChat resident
would have received (accepted, volunteer changed, appointment reminder, completed-please-rate, cancelled, expired)
is a "请电话告知" row of the 未送达 page with the resident's name and phone, never sent by the worker, counted on the
dashboard, and 已告知 records who called and when (audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock, as_utc
from bot.outbox import PHONE, TOLD, UNDELIVERED
from bot.serviceloop import orders
from bot.services import Services
from bot.worker import jobs
from storage.db import transaction
from storage.models import AuditLog, Order, OutboxMessage
from tests.bot.admin.test_admin import Seeded, form_token, login, post, text
from tests.bot.admin.test_console_words import leaks
from tests.bot.admin.test_intake import intake, newest
from tests.dialog import Chat, verify_dialog

BARBER = "oVolBarber01"
NAME, PHONE_NO = "刘奶奶", "13912345670"




@pytest.fixture
def talk(client: Any, account: Any, clock: FakeClock, services: Services, fake_wechat: Any, seeded: Seeded) -> Chat:
    return Chat(client, account, clock, services, fake_wechat)


def calls(services: Services, order_id: int) -> list[OutboxMessage]:
    with services.sessions() as s:  # the payload is encrypted at rest: its order is read, not compared in SQL
        return [row for row in s.scalars(select(OutboxMessage).where(OutboxMessage.channel == PHONE)
                                         .order_by(OutboxMessage.id)) if row.payload.get("order") == order_id]


def row_of(page: str, outbox_id: int) -> str:
    part = page[page.index(f'id="outbox-{outbox_id}"'):]
    return part[:part.index("</tr>")]


def test_every_notice_of_a_phone_order_is_a_call_for_staff(staff_client: Any, talk: Chat, services: Services,
                                                             clock: FakeClock) -> None:
    talk.deliver()
    assert intake(staff_client).status_code == 302
    o = newest(services)
    assert calls(services, o.id) == []  # placing it tells the resident nothing new: they are on the phone
    verify_dialog(talk, [(BARBER, f"接单 {o.ref}", "接单成功")])
    accepted = calls(services, o.id)
    assert len(accepted) == 1 and accepted[0].status == UNDELIVERED and accepted[0].to == f"order:{o.id}"
    assert "已由志愿者张师傅接单" in accepted[0].payload["text"]
    start = as_utc(newest(services).start_at)
    lead = timedelta(minutes=services.config.appointment_remind_minutes - 1)
    for _ in range(2):  # the reminder job runs again: still one call
        with transaction(services.sessions) as s:
            jobs.appointment_reminders(s, o.hub_id, start - lead, services)
    reminded = calls(services, o.id)[1:]
    assert len(reminded) == 1 and "将于" in reminded[0].payload["text"]
    clock.advance(days=1, hours=6)
    verify_dialog(talk, [(BARBER, f"完成 {o.ref} 1.5", "1.5")])
    rate_ask = calls(services, o.id)[2:]
    assert len(rate_ask) == 1 and "打几颗心" in rate_ask[0].payload["text"]
    talk.deliver()  # the worker never sends a call row
    assert {c.status for c in calls(services, o.id)} == {UNDELIVERED}
    sent = " ".join(str(c) for c in talk.fake.calls())
    assert sent and f"order:{o.id}" not in sent
    assert not any(c.payload["text"] in sent for c in calls(services, o.id))
    # the phone stays on the order (encrypted there), not copied into the outbox
    assert all(PHONE_NO not in str(c.payload) for c in calls(services, o.id))

    page = text(staff_client.get("/admin/delivery"))
    line = row_of(page, accepted[0].id)
    assert NAME in line and PHONE_NO in line and "请电话告知" in line and "居民没有微信" in line and "已告知" in line
    assert "重新发送" not in line  # nobody to send it to
    assert leaks(page) == []
    card = text(staff_client.get("/admin/dashboard"))
    card = card[card.index('id="card-undelivered"'):]
    assert "<b>3</b>" in card[:card.index("</a>")]

    resp = post(staff_client, f"/admin/delivery/{accepted[0].id}/told", page="/admin/delivery")
    assert "已登记电话告知" in text(staff_client.get(resp.headers["Location"]))
    with services.sessions() as s:
        row = s.get(OutboxMessage, accepted[0].id)
        assert row is not None and row.status == TOLD and row.payload["told_by"] == "xiaoli"
        assert s.scalar(select(AuditLog.subject).where(AuditLog.action == "outbox_told")) == f"outbox:{row.id}"
    page = text(staff_client.get("/admin/delivery"))
    line = row_of(page, accepted[0].id)
    assert "已电话告知" in line and "xiaoli" in line and 'value="已告知"' not in line and ">已告知<" not in line
    again = post(staff_client, f"/admin/delivery/{accepted[0].id}/told", page="/admin/delivery")
    assert "已经有人登记告知过了" in text(staff_client.get(again.headers["Location"]))
    card = text(staff_client.get("/admin/dashboard"))
    card = card[card.index('id="card-undelivered"'):]
    assert "<b>2</b>" in card[:card.index("</a>")]


def test_cancelled_reassigned_and_expired_phone_orders_are_calls(staff_client: Any, talk: Chat,
                                                                  services: Services, seeded: Seeded,
                                                                  clock: FakeClock) -> None:
    talk.deliver()
    intake(staff_client)
    o = newest(services)
    info = orders.ServiceInfo("haircut", "理发")
    with transaction(services.sessions) as s:
        orders.assign(s, hub_id=o.hub_id, order_id=o.id, volunteer_id=seeded.barber, actor="web:xiaoli",
                      now=clock.now(), service=info)
    with transaction(services.sessions) as s:  # staff change the volunteer: the resident is told the new one
        orders.assign(s, hub_id=o.hub_id, order_id=o.id, volunteer_id=seeded.repairer, actor="web:xiaoli",
                      now=clock.now(), service=info)
    said = [c.payload["text"] for c in calls(services, o.id)]
    assert len(said) == 2 and "张师傅" in said[0] and "王师傅" in said[1]
    resp = post(staff_client, f"/admin/orders/{o.id}/cancel", {"reason": "居民家里有事"}, page=f"/admin/orders/{o.id}")
    assert resp.status_code == 302
    said = [c.payload["text"] for c in calls(services, o.id)]
    assert len(said) == 3 and "已取消" in said[2] and "居民家里有事" in said[2]

    intake(staff_client, when="明天上午九点")
    later = newest(services)
    assert later.id != o.id
    clock.advance(days=2)
    with transaction(services.sessions) as s:
        orders.sweep(s, later.hub_id, clock.now(), {"haircut": info})
    said = [c.payload["text"] for c in calls(services, later.id)]
    assert len(said) == 1 and "没有志愿者接单" in said[0]
    with services.sessions() as s:
        assert s.get(Order, later.id).state == "expired"  # type: ignore[union-attr]


def test_who_may_mark_a_call(client: Any, services: Services, seeded: Seeded, talk: Chat) -> None:
    login(client, "xiaoli")
    intake(client)
    o = newest(services)
    with transaction(services.sessions) as s:
        orders.assign(s, hub_id=o.hub_id, order_id=o.id, volunteer_id=seeded.barber, actor="web:xiaoli",
                      now=services.clock.now(), service=orders.ServiceInfo("haircut", "理发"))
    row = calls(services, o.id)[0]
    pages = {"xiaoli": "/admin/orders", "laowang": "/admin/orders", "shop": f"/admin/merchants/{seeded.merchant}"}
    before = "xiaoli"
    for user in ("laowang", "shop"):
        client.post("/admin/logout", data={"csrf_token": form_token(client, pages[before])})
        login(client, user)
        resp = client.post(f"/admin/delivery/{row.id}/told", data={"csrf_token": form_token(client, pages[user])})
        assert resp.status_code == 403, user
        assert client.get("/admin/delivery").status_code == 403
        before = user
    client.post("/admin/logout", data={"csrf_token": form_token(client, pages[before])})
    login(client, "east")  # staff of the other hub: not theirs
    resp = post(client, f"/admin/delivery/{row.id}/told", page="/admin/delivery")
    assert "不需要电话告知" in text(client.get(resp.headers["Location"]))
    with services.sessions() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row.id)) == UNDELIVERED

