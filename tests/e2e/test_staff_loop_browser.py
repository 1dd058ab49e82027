"""Staff in the loop, in a real browser (issue 17): a resident hands over to a person and staff answer from the
console; a staff member binds their WeChat and then receives a staff notice; an order taken by phone reaches a
volunteer, the resident is told by phone (the call list) and staff record the rating. The resident and the
volunteers talk through the real webhook (tests.dialog.Chat), the messages arrive at the fake WeChat server.

Every screenshot is saved and checked: not blank, and the page it shows speaks no English code word and no openid
(the words check of tests/bot/admin/test_console_words.py). Chromium as in test_console_browser.py.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account, message_xml
from bot.inbox import handover
from bot.outbox import PHONE, TOLD
from bot.services import Services
from storage.models import Order, OutboxMessage, ServiceRecord, User
from storage.models_admin import StaffAccount, StaffLinkScene
from tests.bot.admin.test_admin import Seeded, seed_console
from tests.bot.admin.test_console_words import leaks
from tests.conftest import make_services
from tests.dialog import Chat
from tests.e2e.conftest import served
from tests.e2e.png import colour_counts, pixels
from tests.e2e.test_console_browser import sign_in

RESIDENT = "oResident01"  # seed_console's resident
BARBER = "oVolBarber01"  # 张师傅, of the haircut team
STAFF_WX = "oXiaoliWx"  # the staff member's own WeChat


def _png_1x1() -> bytes:
    """A 1×1 black PNG: WeChat's QR picture as the browser gets it here (never the real mp.weixin.qq.com)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + \
        chunk(b"IEND", b"")


PNG_1X1 = _png_1x1()


@dataclass
class Live:
    base: str
    services: Services
    seeded: Seeded
    chat: Chat


@pytest.fixture
def live(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Live]:
    """The whole app on a loopback port for the browser, and the same app's webhook for the people who chat."""
    services = make_services(db_url, clock, fake_wechat)
    seeded = seed_console(services)
    services.hubs.forget()
    app = create_app(services=services)
    account = Account(token=services.config.wechat_token, appid=services.config.wechat_appid,
                      aes_key=services.config.wechat_aes_key)
    try:
        with served(app) as base:
            yield Live(base, services, seeded, Chat(app.test_client(), account, clock, services, fake_wechat))
    finally:
        services.close()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.route("https://mp.weixin.qq.com/**", lambda route: route.fulfill(status=200, content_type="image/png",
                                                                         body=PNG_1X1))
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert errors == [], f"the browser reported errors: {errors}"


def shot(page: Any, tmp_path: Path, name: str) -> None:
    """A full-page screenshot, checked: it shows something, and the page speaks no code word or openid."""
    png = page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    width, height, pix = pixels(png)
    assert width >= 1000 and height >= 300, name
    assert colour_counts(png).most_common(1)[0][1] < len(pix) * 0.98, f"{name}: the screenshot is one colour"
    assert leaks(page.content()) == [], f"{name}: {leaks(page.content())}"


def _event(chat: Chat, openid: str, event: str, key: str) -> str | None:
    xml = message_xml(to="gh_hub", sender=openid, create_time=int(chat.clock.now().timestamp()), msg_type="event",
                      Event=event, EventKey=key)
    return chat._post(xml, openid)


def test_a_resident_hands_over_and_staff_answer_from_the_browser(page: Any, live: Live, tmp_path: Path) -> None:
    chat = live.chat
    chat.say(RESIDENT, "我想问问理发的事")
    assert "转接" in (chat.say(RESIDENT, "还是找个工作人员跟我说吧") or "")
    chat.clock.advance(minutes=6)
    assert chat.say(RESIDENT, "我腿脚不好 下不了楼 能不能上门给我理个发") is None  # kept for staff, the bot quiet
    chat.deliver()
    sign_in(page, live.base)
    assert page.inner_text("#nav-inbox").replace(" ", "") == "人工服务1"
    page.click("#nav-inbox")
    assert "能不能上门给我理个发" in page.inner_text("main") and "6分钟" in page.inner_text("main")
    shot(page, tmp_path, "inbox")
    page.click("main a:has-text('打开对话')")
    assert "我想问问理发的事" in page.inner_text("main")
    answer = "阿姨您好，我是社区小李，明天上午让张师傅上门给您理发，好吗？"
    page.fill("#reply-form textarea[name=note]", answer)
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert chat.deliver().get(RESIDENT) == [answer]  # received at the fake WeChat
    page.reload()
    assert "已发出" in page.inner_text("main")
    shot(page, tmp_path, "conversation")
    page.click("#back-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert chat.deliver().get(RESIDENT) == [handover.BACK_TO_BOT]
    assert page.inner_text("#nav-inbox").strip() == "人工服务"
    reply = chat.say(RESIDENT, "你好")
    assert reply is not None and "转接" not in reply  # the bot answers again


def test_a_staff_member_binds_wechat_and_then_receives_a_notice(page: Any, live: Live, tmp_path: Path) -> None:
    chat = live.chat
    chat.say(STAFF_WX, "你好")  # she already follows the account
    sign_in(page, live.base)
    page.click("#nav-my-wechat")  # her own page, from the header
    assert "还没有绑定微信" in page.inner_text("#wechat-state")
    page.click("#link-form button[type=submit]")
    page.wait_for_selector("#link-code img")
    assert page.locator("#link-code img").evaluate("img => img.naturalWidth") == 1  # the QR picture loaded
    shot(page, tmp_path, "bind-code")
    with live.services.sessions() as s:
        scene = s.execute(select(StaffLinkScene.scene).order_by(StaffLinkScene.id.desc()).limit(1)).scalar_one()
    reply = _event(chat, STAFF_WX, "SCAN", scene)  # she scans it with her WeChat
    assert reply is not None and "绑定成功" in reply
    page.reload()
    assert "已绑定" in page.inner_text("#wechat-state")
    shot(page, tmp_path, "bound")
    with live.services.sessions() as s:
        account = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        user = s.execute(select(User).where(User.openid == STAFF_WX)).scalar_one()
        assert account.wechat_user_id == user.id and "staff" in user.roles
    chat.deliver()
    chat.say("oNeighbour07", "人工")  # a resident asks for a person: staff are told
    got = chat.deliver()
    assert any("人工" in t for t in got.get(STAFF_WX, [])), got


def test_an_order_taken_by_phone_reaches_a_volunteer_and_staff_record_the_rating(page: Any, live: Live,
                                                                                 tmp_path: Path) -> None:
    chat = live.chat
    chat.deliver()
    sign_in(page, live.base)
    page.goto(f"{live.base}/admin/orders")
    page.click("#intake-link")
    page.fill("#intake-form input[name=name]", "刘奶奶")
    page.fill("#intake-form input[name=phone]", "139 1234 5670")
    page.fill("#intake-form input[name=address]", "幸福小区5栋1单元302")
    page.fill("#intake-form textarea[name=description]", "老太太说头发长了想剪剪 走不动道")
    page.fill("#intake-form input[name=when]", "明天下午三点")
    page.select_option("#intake-service", "haircut")
    shot(page, tmp_path, "intake")
    page.click("#intake-form button:has-text('提交订单')")
    page.wait_for_selector(".flash.ok")
    with live.services.sessions() as s:
        order = s.execute(select(Order).order_by(Order.id.desc()).limit(1)).scalar_one()
    assert (order.resident_name, order.state) == ("刘奶奶", "dispatched")
    assert page.url.endswith(f"/admin/orders/{order.id}")
    got = chat.deliver()
    assert any(f"接单 {order.ref}" in t for t in got.get(BARBER, []))  # the offer reached the volunteer
    assert "接单成功" in (chat.say(BARBER, f"接单 {order.ref}") or "")
    # the resident has no WeChat: staff are asked to tell her by phone, and say they did
    page.click("header.top nav a:has-text('未送达')")
    row = page.locator("#delivery-table tr", has_text="刘奶奶").first
    assert "13912345670" in row.inner_text() and "张师傅" in row.inner_text() and "请电话告知" in row.inner_text()
    shot(page, tmp_path, "call-list")
    row.locator("button:has-text('已告知')").click()
    page.wait_for_selector(".flash.ok")
    with live.services.sessions() as s:
        statuses = set(s.scalars(select(OutboxMessage.status).where(OutboxMessage.channel == PHONE)))
    assert statuses == {TOLD}
    chat.clock.advance(days=1, hours=6)
    assert "1.5" in (chat.say(BARBER, f"完成 {order.ref} 1.5") or "")
    page.goto(f"{live.base}/admin/orders/{order.id}")
    page.fill("#phone-rating-form input[name=hearts]", "4")
    page.fill("#phone-rating-form textarea[name=comment]", "小伙子手艺好")
    page.click("#phone-rating-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "4颗心" in page.inner_text("main")
    shot(page, tmp_path, "rated")
    with live.services.sessions() as s:
        record = s.execute(select(ServiceRecord).where(ServiceRecord.order_id == order.id)).scalar_one()
        assert (record.rating, record.hours, record.verified_by) == (4, 1.5, "staff_phone")
    assert any("❤❤❤❤" in t for t in chat.deliver().get(BARBER, []))
