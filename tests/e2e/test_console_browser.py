"""The staff console in a real browser: sign in, approve a volunteer, dispatch an order, export the ledger,
and screenshots of the dashboard charts that are checked pixel by pixel.

Debian's Chromium (`apt-get install chromium`) driven by Playwright; Playwright's own browser downloads
are never used. Without Chromium these tests skip on a developer machine and FAIL in CI (CI=true).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.services import Services
from storage.models import Membership, Order
from tests.bot.admin.test_admin import PASSWORD, Seeded, seed_console
from tests.conftest import make_services
from tests.e2e.conftest import served
from tests.e2e.png import colour_counts, near, pixels

BAR_RED = (0xC0, 0x39, 0x2B)  # the first series colour in bot/admin/charts.py


@pytest.fixture
def live(db_url: str, clock: FakeClock, fake_wechat: Any) -> Iterator[tuple[str, Services, Seeded]]:
    """The whole app (webhook and console) served on a loopback port by a thread."""
    services = make_services(db_url, clock, fake_wechat)
    seeded = seed_console(services)
    try:
        with served(create_app(services=services)) as base:
            yield base, services, seeded
    finally:
        services.close()


@pytest.fixture
def page(browser: Any, live: tuple[str, Services, Seeded]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # a refused sign-in answers 401, which Chromium logs; anything else on the console is a fault
    pg.on("console", lambda msg: errors.append(msg.text)
          if msg.type == "error" and "status of 401" not in msg.text else None)
    yield pg
    context.close()
    assert errors == [], f"the browser reported errors: {errors}"  # e.g. a CSP violation or a JS error


def sign_in(page: Any, base: str, username: str = "xiaoli") -> None:
    page.goto(f"{base}/admin/")
    assert "/admin/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert "/admin/login" not in page.url, page.content()


def test_sign_in_and_a_wrong_password(page: Any, live: tuple[str, Services, Seeded]) -> None:
    base, _, _ = live
    page.goto(f"{base}/admin/login")
    page.fill("input[name=username]", "xiaoli")
    page.fill("input[name=password]", "not-the-password")
    page.click("#login-form button[type=submit]")
    assert "用户名或密码不对" in page.inner_text(".flash.error")
    sign_in(page, base)
    assert page.url.endswith("/admin/dashboard")
    assert "社区工作人员" in page.inner_text("header.top")
    page.click("header.top button:has-text('退出')")
    assert "/admin/login" in page.url and "已退出" in page.inner_text("main")


def test_approve_a_volunteer(page: Any, live: tuple[str, Services, Seeded]) -> None:
    base, services, seeded = live
    sign_in(page, base)
    page.click("header.top nav a:has-text('志愿者')")
    page.select_option("select[name=status]", "applied")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#volunteers-table tbody tr")
    assert rows.count() == 1 and "赵小红" in rows.first.inner_text()
    assert "110***********0016" in rows.first.inner_text()  # the ID, masked
    page.click("#volunteers-table a:has-text('赵小红')")
    page.click("#status-approved button")
    assert page.inner_text("#volunteer-status") == "已通过审核"
    assert "已通过审核" in page.inner_text(".flash.ok")
    with services.sessions() as s:
        status = s.execute(select(Membership.status).where(Membership.volunteer_id == seeded.applicant)).scalar()
    assert status == "approved"


def test_dispatch_an_order_and_cancel_with_a_confirmation(page: Any, live: tuple[str, Services, Seeded]) -> None:
    base, services, seeded = live
    sign_in(page, base)
    page.goto(f"{base}/admin/orders")
    page.select_option("select[name=service]", "haircut")
    page.select_option("select[name=state]", "dispatched")
    page.click("#order-filters button[type=submit]")
    links = page.locator("#orders-table tbody a")
    assert links.count() == 1
    links.first.click()
    assert page.url.endswith(f"/admin/orders/{seeded.haircut_order}")
    page.select_option("#assign-form select[name=volunteer_id]", str(seeded.barber))
    page.click("#assign-form button[type=submit]")
    assert page.inner_text("#order-state") == "志愿者已接单"
    assert "张师傅" in page.inner_text("#order-volunteer")
    assert "工作人员派单" in page.inner_text("#order-history")
    with services.sessions() as s:
        order = s.get(Order, seeded.haircut_order)
        assert order is not None and order.volunteer_id == seeded.barber and order.state == "accepted"
    # cancelling asks first (a little JavaScript); saying no leaves the order alone
    page.fill("#cancel-form textarea[name=reason]", "居民改了时间")
    page.once("dialog", lambda d: d.dismiss())
    page.click("#cancel-form button[type=submit]")
    assert page.inner_text("#order-state") == "志愿者已接单"
    page.once("dialog", lambda d: d.accept())
    page.click("#cancel-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert page.inner_text("#order-state") == "已取消"


def test_export_the_ledger(page: Any, live: tuple[str, Services, Seeded], tmp_path: Path) -> None:
    base, _, _ = live
    sign_in(page, base)
    page.click("header.top nav a:has-text('台账')")
    page.fill("input[name=month]", "2026-11")
    page.click("form.filters button[type=submit]")
    assert "张师傅" in page.inner_text("#ledger-table")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    assert download.suggested_filename == "ledger-20261101-20261130.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    book = load_workbook(io.BytesIO(target.read_bytes()))
    rows = list(book["服务记录"].iter_rows(values_only=True))
    assert rows[0][1] == "姓名" and rows[1][1] == "张师傅" and rows[1][3] == "110***********0011"
    with page.expect_download() as info:
        page.click("#export-csv")
    assert info.value.suggested_filename.endswith(".csv")
    assert "张师傅" in Path(info.value.path()).read_bytes().decode("utf-8-sig")


def test_dashboard_charts_are_drawn(page: Any, live: tuple[str, Services, Seeded], tmp_path: Path) -> None:
    base, _, _ = live
    sign_in(page, base)
    page.goto(f"{base}/admin/dashboard")
    # the orders chart has bars for the haircut and repair orders, with their sizes taken from the data
    bars = page.locator("#chart-orders svg rect.bar")
    assert bars.count() >= 2
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(bars.count())]
    assert all(h > 0 for h in heights)
    assert page.locator("#chart-ratings svg rect.bar").count() == 1  # one 1-heart rating
    assert page.locator("#chart-accept svg circle.point").count() >= 1
    box = page.locator("#chart-orders svg").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 80
    # screenshots, checked: the chart is not blank and shows the bar colour; the whole page renders
    shot = page.locator("#chart-orders").screenshot(path=str(tmp_path / "chart-orders.png"))
    width, height, pix = pixels(shot)
    assert width > 200 and height > 80
    counts = colour_counts(shot)
    background = counts.most_common(1)[0][1]
    assert background < len(pix) * 0.97, "the chart screenshot is (almost) one colour"
    red = sum(n for c, n in counts.items() if near(c, BAR_RED))
    assert red > 200, f"too few bar-coloured pixels ({red})"
    full = page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert len(colour_counts(full)) > 20
    # an empty chart says so instead of drawing nothing
    empty = page.locator("#chart-hours svg")
    assert empty.locator("rect.bar").count() == 1  # 1.5 hours in November


def test_catalogue_edit_in_the_browser(page: Any, live: tuple[str, Services, Seeded]) -> None:
    base, services, seeded = live
    sign_in(page, base)
    page.goto(f"{base}/admin/catalogue/haircut")
    keywords = page.locator("textarea[name=keywords]")
    keywords.fill(keywords.input_value() + "\n修鬓角")
    page.fill("input[name=note]", "加一个关键词")
    page.click("#service-form button[type=submit]")
    assert "已保存为第1版" in page.inner_text(".flash.ok")
    assert "加一个关键词" in page.inner_text("#catalogue-versions")
    with services.sessions() as s:
        assert "修鬓角" in services.nlu_for(s, seeded.hub_id).catalogue.get("haircut").keywords
