"""The /admin console through Flask's test client: sign-in, CSRF, lock-out, orders, catalogue, dashboard.

The helpers here (seed_console, login, form_token, post) are shared by the other test_admin_*.py files
and the browser tests in tests/e2e.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.clock import FakeClock
from bot.devtools.seed import seed_demo_hub
from bot.serviceloop import orders
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Hub, Membership, Merchant, Order, OrderEvent, Team, User, Volunteer
from storage.models_admin import LoginAttempt, StaffAccount

PASSWORD = "correct-horse-battery"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
ID_MASKED = "110***********0016"  # what the registration stores for display
ID_FULL = "11010519491231002X"


@dataclass
class Seeded:
    hub_id: int
    other_hub_id: int
    haircut_team: int
    repair_team: int
    barber: int  # volunteer in the haircut team
    repairer: int  # volunteer in the repair team
    applicant: int  # volunteer whose membership is "applied"
    other_volunteer: int  # a volunteer of the other hub only
    haircut_order: int  # dispatched, not accepted
    repair_order: int  # dispatched
    flagged_order: int  # rated 1 heart: waiting for staff review
    other_order: int  # belongs to the other hub
    merchant: int


def _resident(s: Any, hub_id: int, openid: str, now: Any) -> User:
    user = User(hub_id=hub_id, openid=openid, roles=[], phone="13812345678", subscribed=True,
                last_inbound_at=now, created_at=now)
    s.add(user)
    s.flush()
    return user


def _order(s: Any, hub_id: int, user: User, code: str, now: Any, name: str) -> Order:
    return orders.submit_order(s, hub_id=hub_id, user=user, data={"details": f"{name}，幸福小区3栋2单元501",
                                                                 "address": "幸福小区3栋2单元501", "phone": user.phone},
                               service=orders.ServiceInfo(code, name), now=now)


def _ref(services: Services, order_id: int) -> int:
    """The order's 单号, as the console names it."""
    with services.sessions() as s:
        return s.get_one(Order, order_id).ref


def seed_console(services: Services) -> Seeded:
    """Two hubs, teams, volunteers (one applicant with an ID number), orders in several states, a merchant,
    and one account per role (password PASSWORD): boss (admin), xiaoli (staff), laowang (haircut leader),
    shop (merchant), east (staff of the other hub)."""
    now = services.clock.now()
    with transaction(services.sessions) as s:
        hub = seed_demo_hub(s, now)
        hub.name = "幸福社区雷锋超市"
        other = Hub(slug="east", name="东城雷锋超市", settings={}, created_at=now)
        s.add(other)
        s.flush()
        teams = {t.code: t for t in s.execute(select(Team).where(Team.hub_id == hub.id)).scalars()}
        barber = s.execute(select(Volunteer).where(Volunteer.name == "张师傅")).scalar_one()
        barber.id_number_masked = "110***********0011"
        repairer = s.execute(select(Volunteer).where(Volunteer.name == "王师傅")).scalar_one()
        applicant = Volunteer(name="赵小红", phone="13700000009", gender="女", skills=["haircut"], availability=[],
                              id_number_masked=ID_MASKED, created_at=now)
        other_vol = Volunteer(name="东城志愿者", phone="13700000010", skills=["repair"], availability=[],
                              created_at=now)
        s.add_all([applicant, other_vol])
        s.flush()
        app_user = User(hub_id=hub.id, openid="oApplicant01", roles=["applicant"], volunteer_id=applicant.id,
                        subscribed=True, last_inbound_at=now, created_at=now)
        s.add(app_user)
        s.flush()
        s.add(Membership(hub_id=hub.id, volunteer_id=applicant.id, user_id=app_user.id, team_id=teams["haircut"].id,
                         status="applied", source="chat", created_at=now, updated_at=now))
        other_team = Team(hub_id=other.id, code="repair", name="东城维修队", services=["repair"], created_at=now)
        s.add(other_team)
        s.flush()
        s.add(Membership(hub_id=other.id, volunteer_id=other_vol.id, team_id=other_team.id, status="active",
                         created_at=now, updated_at=now))
        merchant = Merchant(hub_id=hub.id, code="barbershop", name="老街理发店", address="幸福路1号",
                            service_point=True, services=["haircut"], accepts_redemptions=True, created_at=now)
        s.add(merchant)
        resident = _resident(s, hub.id, "oResident01", now)
        haircut = _order(s, hub.id, resident, "haircut", now, "理发")
        repair = _order(s, hub.id, resident, "repair", now, "维修")
        flagged = _order(s, hub.id, resident, "haircut", now, "理发")
        info = orders.ServiceInfo("haircut", "理发")
        orders.assign(s, hub_id=hub.id, order_id=flagged.id, volunteer_id=barber.id, actor="seed", now=now,
                      service=info)
        barber_user = s.execute(select(User).where(User.volunteer_id == barber.id)).scalar_one()
        orders.complete(s, hub_id=hub.id, user=barber_user, order_id=flagged.id, hours=1.5, now=now, service=info)
        orders.rate(s, hub_id=hub.id, user=resident, order_id=flagged.id, hearts=1, now=now, service=info)
        other_resident = _resident(s, other.id, "oEastResident", now)
        other_order = _order(s, other.id, other_resident, "repair", now, "维修")
        s.flush()
        for username, role, slug, extra in (("boss", "admin", "default", {}), ("xiaoli", "staff", "default", {}),
                                            ("laowang", "leader", "default", {"team_code": "haircut"}),
                                            ("shop", "merchant", "default", {"merchant_code": "barbershop"}),
                                            ("east", "staff", "east", {})):
            _create_account(s, username=username, password=PASSWORD, role=role, hub_slug=slug, now=now, actor="test",
                           **extra)
        return Seeded(hub_id=hub.id, other_hub_id=other.id, haircut_team=teams["haircut"].id,
                      repair_team=teams["repair"].id, barber=barber.id, repairer=repairer.id, applicant=applicant.id,
                      other_volunteer=other_vol.id, haircut_order=haircut.id, repair_order=repair.id,
                      flagged_order=flagged.id, other_order=other_order.id, merchant=merchant.id)


def _create_account(s: Any, **kwargs: Any) -> StaffAccount:
    """auth.create_account with one argon2 hash per password per test run (hashing costs ~0.4 s)."""
    from bot.admin import auth

    real = auth.hash_password

    def cached(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = real(password)
        return _HASHES[password]

    auth.hash_password = cached  # type: ignore[assignment]
    try:
        return auth.create_account(s, **kwargs)
    finally:
        auth.hash_password = real  # type: ignore[assignment]


_HASHES: dict[str, str] = {}


def form_token(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    m = TOKEN.search(page.get_data(as_text=True))
    assert m, f"no CSRF token on {path}"
    return m.group(1) or m.group(2)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = form_token(client, "/admin/login")
    return client.post("/admin/login", data={"csrf_token": token, "username": username, "password": password})


def post(client: Any, path: str, data: dict[str, Any] | None = None, page: str | None = None) -> Any:
    """POST a form with a CSRF token taken from `page` (default: the console's home page)."""
    token = form_token(client, page or "/admin/orders")
    return client.post(path, data={"csrf_token": token, **(data or {})})


def text(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def audit_actions(services: Services) -> list[str]:
    with services.sessions() as s:
        return list(s.scalars(select(AuditLog.action).order_by(AuditLog.id)))


# -- sign-in, sessions, CSRF, lock-out -------------------------------------------------------------


def test_pages_need_sign_in(client: Any, seeded: Seeded) -> None:
    for path in ("/admin/", "/admin/dashboard", "/admin/orders", f"/admin/orders/{seeded.haircut_order}",
                 "/admin/volunteers", "/admin/catalogue", "/admin/ledger", "/admin/audit", "/admin/staff"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"], path
    resp = client.post(f"/admin/orders/{seeded.haircut_order}/cancel", data={"reason": "x"})
    assert resp.status_code == 400  # no CSRF token: refused before anything else


def test_login_page_and_sign_in_sets_a_hardened_cookie(client: Any, seeded: Seeded) -> None:
    page = client.get("/admin/login")
    assert page.status_code == 200 and "登录" in text(page) and "csrf_token" in text(page)
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]
    resp = login(client, "xiaoli")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/admin/dashboard").status_code == 200
    assert "staff_login" in audit_actions(client.application.extensions["leifeng"])


def test_secure_cookie_when_configured(db_url: str, clock: FakeClock) -> None:
    from bot.app import create_app
    from tests.conftest import make_services

    svc = make_services(db_url, clock, admin_cookie_secure="true")
    try:
        seed_console(svc)
        client = create_app(services=svc).test_client()
        # with Secure set, the browser sends the cookie over HTTPS only
        token = form_token(client, "https://localhost/admin/login")
        resp = client.post("https://localhost/admin/login", data={"csrf_token": token, "username": "xiaoli",
                                                                  "password": PASSWORD},
                           headers={"Referer": "https://localhost/admin/login"})
        assert resp.status_code == 302 and "Secure" in resp.headers["Set-Cookie"]
    finally:
        svc.close()


def test_next_parameter_stays_inside_the_console(client: Any, seeded: Seeded) -> None:
    token = form_token(client, "/admin/login")
    resp = client.post("/admin/login?next=https://evil.example/x", data={"csrf_token": token, "username": "xiaoli",
                                                                         "password": PASSWORD})
    assert resp.headers["Location"].endswith("/admin/")
    client.post("/admin/logout", data={"csrf_token": form_token(client, "/admin/orders")})
    token = form_token(client, "/admin/login")
    resp = client.post("/admin/login?next=/admin/orders", data={"csrf_token": token, "username": "xiaoli",
                                                                "password": PASSWORD})
    assert resp.headers["Location"].endswith("/admin/orders")


def test_wrong_password_and_unknown_user_are_refused_alike(client: Any, seeded: Seeded) -> None:
    for username in ("xiaoli", "nobody"):
        resp = login(client, username, "wrong-password-123")
        assert resp.status_code == 401 and "用户名或密码不对" in text(resp)
    assert client.get("/admin/dashboard").status_code == 302


def test_login_without_csrf_token_is_rejected(client: Any, seeded: Seeded) -> None:
    client.get("/admin/login")
    resp = client.post("/admin/login", data={"username": "xiaoli", "password": PASSWORD})
    assert resp.status_code == 400 and "表单无效" in text(resp)
    resp = client.post("/admin/login", data={"csrf_token": "forged", "username": "xiaoli", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/admin/dashboard").status_code == 302  # not signed in


def test_every_change_refuses_a_missing_or_foreign_csrf_token(staff_client: Any, seeded: Seeded,
                                                              services: Services, db_url: str) -> None:
    # a token from another browser session is not valid in this one
    from bot.app import create_app

    other = create_app(services=services).test_client()
    foreign = form_token(other, "/admin/login")
    targets = [(f"/admin/orders/{seeded.haircut_order}/cancel", {"reason": "测试"}),
               (f"/admin/orders/{seeded.haircut_order}/assign", {"volunteer_id": seeded.barber}),
               (f"/admin/orders/{seeded.flagged_order}/review", {"note": "x"}),
               (f"/admin/volunteers/{seeded.applicant}/status/approved", {}),
               ("/admin/catalogue/haircut/delete", {}), ("/admin/logout", {})]
    for path, data in targets:
        assert staff_client.post(path, data=data).status_code == 400, path
        assert staff_client.post(path, data={**data, "csrf_token": foreign}).status_code == 400, path
    with services.sessions() as s:
        assert s.get(Order, seeded.haircut_order).state == "dispatched"  # type: ignore[union-attr]
        assert s.execute(select(Membership.status).where(Membership.volunteer_id == seeded.applicant)).scalar() == \
            "applied"
    assert staff_client.get("/admin/dashboard").status_code == 200  # still signed in: logout was refused too


def test_lockout_after_five_failures_in_fifteen_minutes(client: Any, seeded: Seeded, services: Services,
                                                        clock: FakeClock) -> None:
    for _ in range(5):
        assert login(client, "xiaoli", "wrong-password-123").status_code == 401
        clock.advance(minutes=2)
    resp = login(client, "xiaoli")  # the right password, but locked
    assert resp.status_code == 401 and "锁定" in text(resp)
    clock.advance(minutes=14)  # the first failures leave the 15-minute window only after the lock attempt...
    resp = login(client, "xiaoli")
    assert resp.status_code == 302, "failures older than 15 minutes no longer count"
    with services.sessions() as s:
        rows = s.execute(select(LoginAttempt.ok).where(LoginAttempt.username == "xiaoli")
                         .order_by(LoginAttempt.id)).scalars().all()
    assert rows == [False] * 6 + [True]


def test_lockout_is_shared_by_every_process(db_url: str, clock: FakeClock, fake_wechat: Any) -> None:
    """Two apps (two web processes) on one database: failures in one lock the name in the other."""
    from bot.app import create_app
    from tests.conftest import make_services

    a, b = make_services(db_url, clock, fake_wechat), make_services(db_url, clock, fake_wechat)
    try:
        seed_console(a)
        ca, cb = create_app(services=a).test_client(), create_app(services=b).test_client()
        for i in range(5):
            assert login(ca if i % 2 else cb, "boss", "wrong-password-123").status_code == 401
        assert login(cb, "boss").status_code == 401
        assert login(ca, "boss").status_code == 401
        assert login(ca, "xiaoli").status_code == 302  # only that name is locked
    finally:
        a.close()
        b.close()


def test_success_resets_the_failure_count(client: Any, seeded: Seeded) -> None:
    for _ in range(4):
        login(client, "xiaoli", "wrong-password-123")
    assert login(client, "xiaoli").status_code == 302
    for _ in range(4):
        login(client, "xiaoli", "wrong-password-123")
    assert login(client, "xiaoli").status_code == 302


def test_disabled_account_and_changed_password_end_open_sessions(staff_client: Any, seeded: Seeded,
                                                                 services: Services) -> None:
    from bot.admin import auth

    assert staff_client.get("/admin/orders").status_code == 200
    with transaction(services.sessions) as s:
        account = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        auth.set_password(s, account, "another-password-1", actor="test", now=services.clock.now())
    assert staff_client.get("/admin/orders").status_code == 302
    assert login(staff_client, "xiaoli", "another-password-1").status_code == 302
    with transaction(services.sessions) as s:
        account = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        auth.set_active(s, account, False, actor="test", now=services.clock.now())
    assert staff_client.get("/admin/orders").status_code == 302
    assert login(staff_client, "xiaoli", "another-password-1").status_code == 401


def test_session_expires(staff_client: Any, services: Services) -> None:
    """The signed cookie carries its own age; Flask refuses one older than the session lifetime."""
    app = staff_client.application
    app.permanent_session_lifetime = timedelta(seconds=-1)
    assert staff_client.get("/admin/orders").status_code == 302


def test_password_is_stored_as_an_argon2_hash(seeded: Seeded, services: Services) -> None:
    with services.sessions() as s:
        h = s.execute(select(StaffAccount.password_hash).where(StaffAccount.username == "boss")).scalar_one()
    assert h.startswith("$argon2id$") and PASSWORD not in h


def test_logout(staff_client: Any) -> None:
    resp = post(staff_client, "/admin/logout")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/login")
    assert staff_client.get("/admin/orders").status_code == 302


def test_static_files_are_served_from_the_package(client: Any) -> None:
    for name, kind in (("admin.css", "text/css"), ("admin.js", "javascript"), ("logo.svg", "image/svg+xml")):
        resp = client.get(f"/admin/static/{name}")
        assert resp.status_code == 200 and kind in resp.headers["Content-Type"], name
        resp.close()


# -- orders ------------------------------------------------------------------------------------


def test_home_sends_each_role_to_its_first_page(client: Any, seeded: Seeded) -> None:
    for username, target in (("xiaoli", "/admin/dashboard"), ("laowang", "/admin/orders"),
                             ("shop", "/admin/volunteers")):
        login(client, username)
        assert client.get("/admin/").headers["Location"].endswith(target), username


def test_orders_board_lists_and_filters(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get("/admin/orders"))
    for oid in (seeded.haircut_order, seeded.repair_order, seeded.flagged_order):
        assert f'/admin/orders/{oid}"' in page
    assert f'/admin/orders/{seeded.other_order}"' not in page  # another hub's order
    page = text(staff_client.get("/admin/orders?service=repair"))
    assert f'/admin/orders/{seeded.repair_order}"' in page and f'/admin/orders/{seeded.haircut_order}"' not in page
    page = text(staff_client.get("/admin/orders?state=rated"))
    assert f'/admin/orders/{seeded.flagged_order}"' in page and f'/admin/orders/{seeded.repair_order}"' not in page
    page = text(staff_client.get("/admin/orders?flagged=1"))
    assert f'/admin/orders/{seeded.flagged_order}"' in page and f'/admin/orders/{seeded.haircut_order}"' not in page
    page = text(staff_client.get(f"/admin/orders?team={seeded.repair_team}"))
    assert f'/admin/orders/{seeded.repair_order}"' in page and f'/admin/orders/{seeded.haircut_order}"' not in page
    page = text(staff_client.get("/admin/orders?from=2026-11-23&to=2026-11-23"))
    assert f'/admin/orders/{seeded.repair_order}"' in page
    page = text(staff_client.get("/admin/orders?from=2026-11-24"))
    assert "没有符合条件的订单" in page
    page = text(staff_client.get("/admin/orders?to=2026-11-22&from=bad-date"))
    assert "没有符合条件的订单" in page


def test_order_page_shows_history_and_the_right_actions(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get(f"/admin/orders/{seeded.flagged_order}"))
    assert "经过" in page and "<td>下单</td>" in page and "张师傅" in page and "review-form" in page
    assert "assign-form" not in page
    page = text(staff_client.get(f"/admin/orders/{seeded.haircut_order}"))
    assert "assign-form" in page and "cancel-form" in page and "review-form" not in page
    assert "幸福小区3栋2单元501" in page  # staff see the full address
    assert staff_client.get(f"/admin/orders/{seeded.other_order}").status_code == 404
    assert staff_client.get("/admin/orders/99999").status_code == 404


def test_dispatch_then_reassign_then_support_then_cancel(staff_client: Any, seeded: Seeded,
                                                         services: Services) -> None:
    oid = seeded.repair_order
    resp = post(staff_client, f"/admin/orders/{oid}/assign", {"volunteer_id": seeded.repairer})
    assert resp.status_code == 302
    page = text(staff_client.get(resp.headers["Location"]))
    assert f"订单{_ref(services, oid)}已派给志愿者王师傅" in page and "志愿者已接单" in page
    resp = post(staff_client, f"/admin/orders/{oid}/assign", {"volunteer_id": seeded.barber})
    with services.sessions() as s:
        order = s.get(Order, oid)
        assert order is not None and order.volunteer_id == seeded.barber and order.state == "accepted"
        triggers = list(s.scalars(select(OrderEvent.trigger).where(OrderEvent.order_id == oid)
                                  .order_by(OrderEvent.id)))
        actors = set(s.scalars(select(OrderEvent.actor).where(OrderEvent.order_id == oid)))
    assert triggers[-3:] == ["accept", "give_back", "accept"] and "web:xiaoli" in actors
    resp = post(staff_client, f"/admin/orders/{oid}/support", {"note": "社区提供梯子"})
    with services.sessions() as s:
        order = s.get(Order, oid)
        assert order is not None and order.state == "supported" and order.support_note == "社区提供梯子"
    resp = post(staff_client, f"/admin/orders/{oid}/cancel", {"reason": "居民临时外出"})
    page = text(staff_client.get(resp.headers["Location"]))
    assert "已取消" in page and "居民临时外出" in page
    assert audit_actions(services)[-4:] == ["order_assign", "order_assign", "order_support", "order_cancel"]


def test_refusals_are_plain_words_and_change_nothing(staff_client: Any, seeded: Seeded, services: Services) -> None:
    before = len(audit_actions(services))
    resp = post(staff_client, f"/admin/orders/{seeded.haircut_order}/assign", {"volunteer_id": seeded.applicant})
    assert "不在本站或未通过审核" in text(staff_client.get(resp.headers["Location"]))
    resp = post(staff_client, f"/admin/orders/{seeded.haircut_order}/support", {"note": "场地"})
    assert "不能这样操作" in text(staff_client.get(resp.headers["Location"]))
    resp = post(staff_client, f"/admin/orders/{seeded.flagged_order}/cancel", {"reason": "x"})
    assert "不能取消了" in text(staff_client.get(resp.headers["Location"]))
    resp = post(staff_client, f"/admin/orders/{seeded.haircut_order}/cancel", {"reason": ""})
    assert "原因：必填" in text(staff_client.get(resp.headers["Location"]))
    resp = post(staff_client, f"/admin/orders/{seeded.haircut_order}/assign", {"volunteer_id": "abc"})
    assert resp.status_code == 302
    assert len(audit_actions(services)) == before
    with services.sessions() as s:
        assert s.get(Order, seeded.haircut_order).state == "dispatched"  # type: ignore[union-attr]


def test_review_a_low_rating(staff_client: Any, seeded: Seeded, services: Services) -> None:
    resp = post(staff_client, f"/admin/orders/{seeded.flagged_order}/review", {"note": "已回访，居民表示理解"})
    assert resp.status_code == 302
    with services.sessions() as s:
        order = s.get(Order, seeded.flagged_order)
        assert order is not None and order.state == "closed" and not order.flagged
        reason = s.scalar(select(OrderEvent.reason).where(OrderEvent.order_id == order.id)
                          .order_by(OrderEvent.id.desc()).limit(1))
    assert reason == "核查：已回访，居民表示理解" and audit_actions(services)[-1] == "order_review"


def test_confirm_a_completion_for_the_resident(staff_client: Any, seeded: Seeded, services: Services) -> None:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        info = orders.ServiceInfo("repair", "维修")
        orders.assign(s, hub_id=seeded.hub_id, order_id=seeded.repair_order, volunteer_id=seeded.repairer,
                      actor="t", now=now, service=info)
        user = s.execute(select(User).where(User.volunteer_id == seeded.repairer)).scalar_one()
        orders.complete(s, hub_id=seeded.hub_id, user=user, order_id=seeded.repair_order, hours=2, now=now,
                        service=info)
    assert "confirm-form" in text(staff_client.get(f"/admin/orders/{seeded.repair_order}"))
    post(staff_client, f"/admin/orders/{seeded.repair_order}/confirm")
    with services.sessions() as s:
        order = s.get(Order, seeded.repair_order)
        assert order is not None and order.state == "closed" and order.verified_by == "staff"
    page = text(staff_client.get("/admin/ledger?month=2026-11"))
    assert "王师傅" in page and "工作人员确认" in page


def test_staff_record_an_early_finish_the_volunteer_could_not(staff_client: Any, seeded: Seeded,
                                                              services: Services) -> None:
    """The volunteer's own "完成" waits for the appointment; staff may record an early finish in the console."""
    now = services.clock.now()
    with transaction(services.sessions) as s:
        info = orders.ServiceInfo("repair", "维修")
        s.execute(update(Order).where(Order.id == seeded.repair_order).values(start_at=now + timedelta(days=1)))
        orders.assign(s, hub_id=seeded.hub_id, order_id=seeded.repair_order, volunteer_id=seeded.repairer,
                      actor="t", now=now, service=info)
    with transaction(services.sessions) as s:
        user = s.execute(select(User).where(User.volunteer_id == seeded.repairer)).scalar_one()
        with pytest.raises(orders.TooEarlyError):
            orders.complete(s, hub_id=seeded.hub_id, user=user, order_id=seeded.repair_order, hours=2, now=now,
                            service=orders.ServiceInfo("repair", "维修"))
    assert "complete-form" in text(staff_client.get(f"/admin/orders/{seeded.repair_order}"))
    before = len(audit_actions(services))
    resp = post(staff_client, f"/admin/orders/{seeded.repair_order}/complete", {"hours": "0"},
                page=f"/admin/orders/{seeded.repair_order}")
    assert "0.1 到 24 小时" in text(staff_client.get(resp.headers["Location"]))
    assert len(audit_actions(services)) == before  # refused: nothing recorded
    resp = post(staff_client, f"/admin/orders/{seeded.repair_order}/complete", {"hours": "1.5"},
                page=f"/admin/orders/{seeded.repair_order}")
    assert "已登记完成（1.5小时）" in text(staff_client.get(resp.headers["Location"]))
    with services.sessions() as s:
        order = s.get(Order, seeded.repair_order)
        assert order is not None and order.state == "completed" and order.hours == 1.5
    assert audit_actions(services)[-1] == "order_complete"
    resp = post(staff_client, f"/admin/orders/{seeded.repair_order}/complete", {"hours": "1"},
                page=f"/admin/orders/{seeded.repair_order}")
    assert "不能这样操作" in text(staff_client.get(resp.headers["Location"]))  # once only


# -- catalogue ----------------------------------------------------------------------------------


def test_catalogue_edit_is_validated_versioned_and_live(staff_client: Any, seeded: Seeded, services: Services,
                                                        client: Any, account: Any, fake_wechat: Any) -> None:
    from tests.dialog import Chat

    page = text(staff_client.get("/admin/catalogue"))
    assert "haircut" in page and "未修改过" in page
    form = text(staff_client.get("/admin/catalogue/haircut"))
    assert "理发" in form and 'name="keywords"' in form
    # a new service with a keyword no default service knows
    token = form_token(staff_client, "/admin/catalogue/new")
    data = {"csrf_token": token, "code": "pet_care", "name": "宠物照看", "description": "帮忙照看宠物",
            "team": "care", "duration_minutes": "60", "keywords": "宠物\n遛狗\n喂猫", "examples": "帮我遛狗",
            "note": "新增宠物照看"}
    resp = staff_client.post("/admin/catalogue/new", data=data)
    assert resp.status_code == 302
    page = text(staff_client.get("/admin/catalogue"))
    assert "已保存为第1版" in page and "宠物照看" in page and "新增宠物照看" in page
    # without a restart, the webhook now understands the new service
    chat = Chat(client, account, services.clock, services, fake_wechat)
    reply = chat.say("oNewResident", "明天上午帮我遛狗")
    assert reply is not None and "宠物照看" in reply
    # invalid input: a duplicate keyword is refused by the catalogue's own validation
    token = form_token(staff_client, "/admin/catalogue/pet_care")
    resp = staff_client.post("/admin/catalogue/pet_care", data={**data, "csrf_token": token,
                                                                 "keywords": "宠物\n宠物"})
    assert "twice" in text(staff_client.get(resp.headers["Location"]))
    # a duplicate name is refused too
    token = form_token(staff_client, "/admin/catalogue/new")
    resp = staff_client.post("/admin/catalogue/new", data={**data, "csrf_token": token, "code": "pet2"})
    assert "duplicate name" in text(staff_client.get(resp.headers["Location"]))
    # form-level validation: a bad code never reaches the catalogue
    token = form_token(staff_client, "/admin/catalogue/new")
    resp = staff_client.post("/admin/catalogue/new", data={**data, "csrf_token": token, "code": "Bad Code"})
    assert resp.status_code == 200 and "小写字母开头" in text(resp)
    # delete, then restore version 1
    post(staff_client, "/admin/catalogue/pet_care/delete")
    page = text(staff_client.get("/admin/catalogue"))
    assert "第2版" in page and "宠物照看</a>" not in page
    post(staff_client, "/admin/catalogue/versions/1/restore")
    page = text(staff_client.get("/admin/catalogue"))
    assert "第3版" in page and "恢复第1版" in page and "宠物照看</a>" in page
    actions = audit_actions(services)
    assert actions.count("catalogue_save") == 3
    # the other hub still uses the deployment's catalogue
    with services.sessions() as s:
        assert "pet_care" not in services.nlu_for(s, seeded.other_hub_id).catalogue
        assert "pet_care" in services.nlu_for(s, seeded.hub_id).catalogue
    assert staff_client.get("/admin/catalogue/nosuch").status_code == 404
    resp = post(staff_client, "/admin/catalogue/versions/99/restore")
    assert "没有第99版" in text(staff_client.get(resp.headers["Location"]))


# -- dashboard, ledger, audit, hubs -------------------------------------------------------------


def test_dashboard_draws_charts_from_the_data(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get("/admin/dashboard"))
    for chart in ("chart-orders", "chart-accept", "chart-ratings", "chart-hours", "chart-active"):
        assert f'id="{chart}"' in page
    orders_svg = page.split('id="chart-orders"')[1].split("</svg>")[0]
    assert orders_svg.count('class="bar"') >= 2  # haircut and repair in November
    assert "理发" in orders_svg and "维修" in orders_svg
    ratings_svg = page.split('id="chart-ratings"')[1].split("</svg>")[0]
    assert ratings_svg.count('class="bar"') == 1 and "1心 订单：1" in ratings_svg
    hours_svg = page.split('id="chart-hours"')[1].split("</svg>")[0]
    assert "11月 小时：1.5" in hours_svg
    accept_svg = page.split('id="chart-accept"')[1].split("</svg>")[0]
    assert 'class="point"' in accept_svg
    assert "<b>2</b>进行中的订单" in page.replace("\n", "") or "进行中的订单" in page


def test_dashboard_without_data_says_so(client: Any, services: Services) -> None:
    from bot.admin.auth import create_account

    with transaction(services.sessions) as s:
        create_account(s, username="solo", password=PASSWORD, role="staff", hub_slug="default",
                       now=services.clock.now(), actor="test")
    login(client, "solo")
    page = text(client.get("/admin/dashboard"))
    assert page.count("暂无数据") == 5


def test_ledger_page_lists_the_month(staff_client: Any, seeded: Seeded) -> None:
    page = text(staff_client.get("/admin/ledger?month=2026-11"))
    assert "张师傅" in page and "1.5" in page and "合计1.5小时" in page
    assert "这个月没有记录" in text(staff_client.get("/admin/ledger?month=2026-10"))
    assert "2026-11" in text(staff_client.get("/admin/ledger?month=garbage"))


def test_audit_log_page_shows_changes(staff_client: Any, seeded: Seeded) -> None:
    post(staff_client, f"/admin/orders/{seeded.haircut_order}/cancel", {"reason": "重复下单"})
    page = text(staff_client.get("/admin/audit"))
    assert "取消订单" in page and "<td>xiaoli</td>" in page and "重复下单" in page
    assert "order_cancel" not in page and "web:xiaoli" not in page


def test_admin_switches_hub_and_staff_cannot(client: Any, seeded: Seeded) -> None:
    login(client, "boss")
    page = text(client.get("/admin/orders"))
    assert "东城雷锋超市" in page and f'/admin/orders/{seeded.other_order}"' not in page
    resp = post(client, "/admin/hub", {"hub": seeded.other_hub_id, "next": "/admin/orders"})
    assert resp.headers["Location"].endswith("/admin/orders")
    page = text(client.get("/admin/orders"))
    assert f'/admin/orders/{seeded.other_order}"' in page and f'/admin/orders/{seeded.haircut_order}"' not in page
    post(client, "/admin/logout")
    login(client, "xiaoli")
    assert post(client, "/admin/hub", {"hub": seeded.other_hub_id}).status_code == 403


def test_staff_accounts_page(client: Any, seeded: Seeded, services: Services) -> None:
    login(client, "boss")
    page = text(client.get("/admin/staff"))
    assert "laowang" in page and "队长" in page
    resp = post(client, "/admin/staff", {"username": "newleader", "password": "long-enough-pw",
                                         "role": "leader", "team_code": "repair"}, page="/admin/staff")
    assert "账号 newleader 已创建" in text(client.get(resp.headers["Location"]))
    resp = post(client, "/admin/staff", {"username": "badleader", "password": "long-enough-pw", "role": "leader"},
                page="/admin/staff")
    assert "队长账号要指定" in text(client.get(resp.headers["Location"]))
    with services.sessions() as s:
        new_id = s.execute(select(StaffAccount.id).where(StaffAccount.username == "newleader")).scalar_one()
        me_id = s.execute(select(StaffAccount.id).where(StaffAccount.username == "boss")).scalar_one()
    post(client, f"/admin/staff/{new_id}/disable", page="/admin/staff")
    with services.sessions() as s:
        assert s.get(StaffAccount, new_id).active is False  # type: ignore[union-attr]
    resp = post(client, f"/admin/staff/{me_id}/disable", page="/admin/staff")
    assert "不能停用自己的账号" in text(client.get(resp.headers["Location"]))
    post(client, f"/admin/staff/{new_id}/enable", page="/admin/staff")
    with services.sessions() as s:
        assert s.get(StaffAccount, new_id).active is True  # type: ignore[union-attr]
        n = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action.like("staff_%")))
    assert n and n >= 3


def test_error_pages_are_in_chinese(staff_client: Any) -> None:
    resp = staff_client.get("/admin/staff")
    assert resp.status_code == 403 and "没有权限" in text(resp)
    resp = staff_client.get("/admin/nothing-here")
    assert resp.status_code == 404


def test_dashboard_median_time_to_accept(staff_client: Any, seeded: Seeded, services: Services,
                                         clock: FakeClock) -> None:
    from bot.admin.stats import dashboard

    for minutes, order_id, volunteer in ((30, seeded.haircut_order, seeded.barber),
                                         (10, seeded.repair_order, seeded.repairer)):
        with transaction(services.sessions) as s:
            orders.assign(s, hub_id=seeded.hub_id, order_id=order_id, volunteer_id=volunteer, actor="t",
                          now=clock.now() + timedelta(minutes=minutes), service=orders.ServiceInfo("x", "x"))
    with services.sessions() as s:
        d = dashboard(s, seeded.hub_id, clock.now(), str)
    assert d.accept_minutes["2026-11"] == 10.0  # median of 0 (the seeded order), 10 and 30
    assert d.months[-1] == "2026-11" and d.accept_minutes["2026-10"] is None
    assert d.orders_by_service == {"haircut": {"2026-11": 2.0}, "repair": {"2026-11": 1.0}}
    assert d.ratings[1] == 1 and sum(d.ratings.values()) == 1 and d.hours["2026-11"] == 1.5
    assert d.active_volunteers["2026-11"] == 1 and d.open_orders == 2 and d.flagged_orders == 1
    assert d.applications == 1
    page = text(staff_client.get("/admin/dashboard"))
    assert "11月：10分钟" in page.split('id="chart-accept"')[1].split("</svg>")[0]


TESTED_ENDPOINTS = {  # each is exercised by a test in tests/bot/admin/test_admin*.py (and some by tests/e2e)
    "login", "logout", "home", "switch_hub", "dashboard", "orders_board", "order_page", "order_assign",
    "order_support", "order_cancel", "order_confirm", "order_review", "order_complete", "volunteers_list",
    "volunteer_page", "volunteer_status", "volunteer_dismiss", "teams_list", "merchants_list", "staff_list",
    "staff_create", "staff_toggle", "audit_log", "catalogue_page", "catalogue_service", "catalogue_delete",
    "catalogue_restore", "ledger_page", "ledger_export", "events_page", "events_generate", "events_add",
    "events_move", "events_cancel", "broadcasts_page", "broadcasts_preview", "broadcasts_send", "broadcast_page",
    "incidents_page", "incident_handled", "inbox_page", "conversation_page", "conversation_reply",
    "conversation_back", "staff_wechat", "staff_wechat_code", "staff_wechat_unlink", "delivery_page",
    "delivery_resend", "delivery_told", "catalogue_examples", "catalogue_example_add", "catalogue_example_remove",
    "catalogue_example_restore", "order_service", "team_create", "team_page", "team_update", "team_leader",
    "team_member_add", "team_member_remove", "team_robot", "merchant_create", "merchant_page", "merchant_update",
    "merchant_toggle", "intake_form", "intake_submit", "order_phone_rating", "residents_page", "walkins_page",
    "walkins_record", "static"}


def test_every_console_route_has_tests(app: Any) -> None:
    """A new page must be added here, with its tests."""
    endpoints = {rule.endpoint.split(".", 1)[1] for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("admin.")}
    assert endpoints == TESTED_ENDPOINTS


def test_console_on_each_database(any_db_url: str, clock: FakeClock, fake_wechat: Any) -> None:
    """The main paths once more on PostgreSQL as well (when TEST_DATABASE_URL is set): sign-in and the
    lock-out's counting, dispatch, the dashboard's queries, a catalogue version, the ledger download."""
    from bot.app import create_app
    from tests.conftest import make_services

    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        seeded = seed_console(svc)
        client = create_app(services=svc).test_client()
        assert login(client, "xiaoli", "wrong-password-123").status_code == 401
        assert login(client, "xiaoli").status_code == 302
        resp = post(client, f"/admin/orders/{seeded.repair_order}/assign", {"volunteer_id": seeded.repairer})
        assert "已派给志愿者" in text(client.get(resp.headers["Location"]))
        page = text(client.get("/admin/dashboard"))
        assert page.split('id="chart-orders"')[1].split("</svg>")[0].count('class="bar"') >= 2
        post(client, "/admin/catalogue/haircut/delete")
        with svc.sessions() as s:
            assert "haircut" not in svc.nlu_for(s, seeded.hub_id).catalogue
        assert client.get("/admin/ledger/export.xlsx?month=2026-11").status_code == 200
        assert "张师傅" in text(client.get("/admin/volunteers"))
    finally:
        svc.close()
