"""Street events calendar and broadcasts in /admin (through bot.community.events and bot.community.broadcasts)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.community import broadcasts
from bot.services import Services
from bot.worker.sender import OutboxSender
from storage.db import transaction
from storage.models import OutboxMessage, User
from storage.models_events import Broadcast, Event
from tests.bot.admin.test_admin import Seeded, audit_actions, form_token, login, post, text


def _events(services: Services) -> list[Event]:
    with services.sessions() as s:
        return list(s.execute(select(Event).order_by(Event.starts_at)).scalars())


def test_calendar_generate_add_move_cancel(staff_client: Any, seeded: Seeded, services: Services) -> None:
    page = text(staff_client.get("/admin/events?month=2026-12"))
    assert "2026年12月" in page and "这个月还没有活动" in page and "每月第2、4个周六 09:00–11:30" in page
    resp = post(staff_client, "/admin/events/generate", {"month": "2026-12"}, page="/admin/events")
    page = text(staff_client.get(resp.headers["Location"]))
    assert "按规则生成了2场活动" in page
    assert [e.starts_at.day for e in _events(services)] == [12, 26]  # the 2nd and 4th Saturdays
    post(staff_client, "/admin/events/generate", {"month": "2026-12"}, page="/admin/events")
    assert len(_events(services)) == 2  # idempotent
    resp = post(staff_client, "/admin/events", {"title": "义诊", "day": "2026-12-05", "start": "09:00", "end": "11:00",
                                                "place": "社区卫生站", "teams": "medical"}, page="/admin/events")
    page = text(staff_client.get(resp.headers["Location"]))
    assert "活动已添加" in page and "义诊" in page and "社区卫生站" in page
    added = next(e for e in _events(services) if e.title == "义诊")
    assert added.teams == ["medical"] and added.source == "staff"
    resp = post(staff_client, "/admin/events", {"title": "坏", "day": "2026-12-05", "start": "11:00", "end": "09:00",
                                                "place": "x"}, page="/admin/events")
    assert "结束时间必须晚于开始时间" in text(staff_client.get(resp.headers["Location"]))
    resp = post(staff_client, f"/admin/events/{added.id}/move", {"day": "2026-12-06", "start": "14:00",
                                                                 "end": "16:00", "month": "2026-12"},
                page="/admin/events")
    assert "已改期" in text(staff_client.get(resp.headers["Location"]))
    moved = next(e for e in _events(services) if e.id == added.id)
    assert moved.revision == 2
    resp = post(staff_client, f"/admin/events/{added.id}/cancel", {"reason": "下雨", "month": "2026-12"},
                page="/admin/events")
    assert "已取消" in text(staff_client.get(resp.headers["Location"]))
    resp = post(staff_client, f"/admin/events/{added.id}/cancel", {"reason": "again"}, page="/admin/events")
    assert "已经取消过了" in text(staff_client.get(resp.headers["Location"]))
    page = text(staff_client.get("/admin/events?month=2026-12"))
    assert "已取消：下雨" in page
    actions = audit_actions(services)
    assert {"event_generate", "event_add", "event_move", "event_cancel"} <= set(actions)


def test_broadcast_compose_preview_send_progress(staff_client: Any, seeded: Seeded, services: Services,
                                                 fake_wechat: Any) -> None:
    page = text(staff_client.get("/admin/broadcasts"))
    assert "还没有群发" in page
    token = form_token(staff_client, "/admin/broadcasts")
    data = {"csrf_token": token, "kind": "team", "arg": "haircut", "text": "本周六理发队集合，8:30到。"}
    resp = staff_client.post("/admin/broadcasts/preview", data=data)
    assert resp.status_code == 200
    page = text(resp)
    sending = int(re.search(r'id="preview-sending">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert sending == 2 and "本周六理发队集合" in page  # 张师傅 and 李阿姨
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    resp = staff_client.post("/admin/broadcasts/send", data={**data, "csrf_token": token})
    assert resp.status_code == 302
    page = text(staff_client.get(resp.headers["Location"]))
    assert "已排队：2人" in page and "待发送 2" in page and 'http-equiv="refresh"' in page
    fake_wechat.adopt_users(services.sessions)  # the sample volunteers follow the account
    OutboxSender(services).drain()
    page = text(staff_client.get(resp.headers["Location"]))
    assert "已完成" in page and "已发送 2" in page and 'http-equiv="refresh"' not in page
    with services.sessions() as s:
        to = set(s.scalars(select(OutboxMessage.to).where(OutboxMessage.idempotency_key.like("bc:%"))))
        barbers = set(s.scalars(select(User.openid).where(User.openid.in_(["oVolBarber01", "oVolBarber02"]))))
    assert to == barbers
    assert "broadcast_create" in audit_actions(services)
    # the same text again within a day is refused unless forced
    resp = staff_client.post("/admin/broadcasts/send", data={**data, "csrf_token": token})
    assert "一天内已经发过" in text(staff_client.get(resp.headers["Location"]))
    resp = staff_client.post("/admin/broadcasts/send", data={**data, "csrf_token": token, "force": "y"})
    assert "已排队" in text(staff_client.get(resp.headers["Location"]))
    with services.sessions() as s:
        assert len(s.execute(select(Broadcast)).scalars().all()) == 2
    assert "broadcasts-table" in text(staff_client.get("/admin/broadcasts"))


def test_broadcast_refusals(staff_client: Any, seeded: Seeded, services: Services) -> None:
    token = form_token(staff_client, "/admin/broadcasts")
    resp = staff_client.post("/admin/broadcasts/preview", data={"csrf_token": token, "kind": "team", "arg": "nope",
                                                                "text": "x"})
    assert "没有代码为 nope 的队伍" in text(staff_client.get(resp.headers["Location"]))
    resp = staff_client.post("/admin/broadcasts/preview", data={"csrf_token": token, "kind": "everyone",
                                                                "text": "x"})
    assert "请选择发给谁" in text(staff_client.get(resp.headers["Location"]))
    resp = staff_client.post("/admin/broadcasts/preview", data={"csrf_token": token, "kind": "all-subscribers",
                                                                "text": ""})
    assert "内容：必填" in text(staff_client.get(resp.headers["Location"]))
    assert staff_client.get("/admin/broadcasts/999").status_code == 404


def test_broadcast_to_all_subscribers_skips_opt_outs(staff_client: Any, seeded: Seeded, services: Services) -> None:
    from bot.community import events

    with transaction(services.sessions) as s:
        resident = s.execute(select(User).where(User.openid == "oResident01")).scalar_one()
        events.set_subscription(s, seeded.hub_id, resident, False, "test", services.clock.now())
    token = form_token(staff_client, "/admin/broadcasts")
    page = text(staff_client.post("/admin/broadcasts/preview", data={"csrf_token": token, "kind": "all-subscribers",
                                                                      "text": "停水通知"}))
    assert "已退订 1人不发" in page


def test_events_and_broadcasts_are_staff_only(client: Any, seeded: Seeded, services: Services) -> None:
    for username in ("laowang", "shop"):
        login(client, username)
        for path in ("/admin/events", "/admin/broadcasts"):
            assert client.get(path).status_code == 403, (username, path)
    login(client, "east")
    bid = broadcasts.create(services.sessions, hub_id=seeded.hub_id, segment="all-subscribers", text="x",
                            now=services.clock.now())
    assert client.get(f"/admin/broadcasts/{bid}").status_code == 404  # another hub's broadcast
