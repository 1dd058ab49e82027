"""The console's list pages cost the same statements whatever the hub's size (issue 19): the orders board and the
volunteers list read a page by key (no OFFSET; the last page as the first), an order's page lists the best
candidates and a bounded few others, the dashboard's aggregates are a fixed few. Counted with a SQLAlchemy
before_cursor_execute listener on a hub of 10 and one of 200 volunteers and orders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.admin import auth, paging
from bot.admin.pages_orders import OTHERS, SUGGESTED
from bot.admin.pages_people import PAGE_SIZE as VOLUNTEERS_PAGE
from bot.clock import FakeClock
from bot.services import Services
from storage.db import transaction
from storage.models import Hub, Membership, Order, User
from tests.bot.scale.seeding import SeededHub, counting, seed_hub

PASSWORD = "correct-horse-battery"
SIZES = {"default": 10, "big": 200}
LINK = re.compile(r'<a href="([^"]+)" rel="(first|prev|next|last)">')
ORDER_LINK = re.compile(r'href="/admin/orders/(\d+)"')
VOLUNTEER_LINK = re.compile(r'<td><a href="/admin/volunteers/(\d+)">\d+</a></td>')


def _seed(svc: Services, now: datetime) -> dict[str, SeededHub]:
    hubs = {}
    for slug, n in SIZES.items():
        with transaction(svc.sessions) as s:
            hubs[slug] = seed_hub(s, now, volunteers=n, history=n, slug=slug)
            auth.create_account(s, username=f"staff-{slug}", password=PASSWORD, role="staff", hub_slug=slug, now=now,
                                actor="test")
            # a few applications, listed first
            for m in s.scalars(select(Membership).where(Membership.hub_id == hubs[slug].hub_id)
                               .order_by(Membership.volunteer_id.desc()).limit(3)):
                m.status = "applied"
    return hubs


def _client(svc: Services, slug: str) -> Any:
    from bot.app import create_app
    from tests.bot.admin.test_admin import login

    client = create_app(services=svc).test_client()
    assert login(client, f"staff-{slug}", PASSWORD).status_code == 302
    return client


def _get(client: Any, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return str(resp.get_data(as_text=True))


def _links(page: str) -> dict[str, str]:
    return {rel: href.replace("&amp;", "&") for href, rel in LINK.findall(page)}


def _walk(client: Any, first: str, ids: re.Pattern[str]) -> list[int]:
    """Every id on every page, following 下一页 from `first` to the end."""
    seen: list[int] = []
    path: str | None = first
    while path:
        page = _get(client, path)
        seen += [int(i) for i in ids.findall(page)]
        path = _links(page).get("next")
        assert len(seen) < 1000
    return seen


def test_console_pages_cost_the_same_statements_at_10_and_200(svc: Services, clock: FakeClock) -> None:
    hubs = _seed(svc, clock.now())
    counts: dict[str, dict[str, int]] = {}
    for slug, hub in hubs.items():
        client = _client(svc, slug)
        with svc.sessions() as s:
            oldest, newest = s.execute(select(func.min(Order.id), func.max(Order.id))
                                       .where(Order.hub_id == hub.hub_id)).one()
        paths = {
            "dashboard": "/admin/dashboard",
            "orders": "/admin/orders",
            "orders, a page further": f"/admin/orders?after={newest - 3}&state=closed",
            "orders, the last page": "/admin/orders?before=end",
            "order page": f"/admin/orders/{oldest}",
            "order page, a search": f"/admin/orders/{oldest}?who=志愿者",
            "volunteers": "/admin/volunteers",
            "volunteers, the last page": "/admin/volunteers?before=end",
        }
        _get(client, "/admin/orders")  # warm: the catalogue's cache, the session
        counts[slug] = {}
        for name, path in paths.items():
            with counting(svc.engine) as counted:
                _get(client, path)
            counts[slug][name] = len(counted)
    assert counts["big"] == counts["default"]


def test_the_orders_board_pages_by_key_through_every_order_keeping_the_filters(svc: Services,
                                                                               clock: FakeClock) -> None:
    hub = _seed(svc, clock.now())["big"]
    client = _client(svc, "big")
    with svc.sessions() as s:
        every = list(s.scalars(select(Order.id).where(Order.hub_id == hub.hub_id).order_by(Order.id.desc())))
        closed = list(s.scalars(select(Order.id).where(Order.hub_id == hub.hub_id, Order.state == "closed")
                                .order_by(Order.id.desc())))
    assert len(every) > 2 * 50 and 50 < len(closed) < len(every)
    assert _walk(client, "/admin/orders", ORDER_LINK) == every  # newest first, each once
    assert _walk(client, "/admin/orders?state=closed", ORDER_LINK) == closed
    first = _get(client, "/admin/orders?state=closed")
    assert f"共{len(closed)}个" in first
    after = _links(first)["next"]
    assert "state=closed" in after and "after=" in after
    second = _get(client, after)
    back = _links(second)
    assert "state=closed" in back["prev"] and "state=closed" in back["first"]
    assert [int(i) for i in ORDER_LINK.findall(_get(client, back["prev"]))] == closed[:50]
    last = _get(client, _links(first)["last"])
    assert [int(i) for i in ORDER_LINK.findall(last)] == closed[-50:]  # the oldest 50, newest first
    assert "next" not in _links(last) and "prev" in _links(last)


def test_the_volunteers_list_pages_applications_first_then_by_id(svc: Services, clock: FakeClock) -> None:
    hub = _seed(svc, clock.now())["big"]
    client = _client(svc, "big")
    with svc.sessions() as s:
        rows = s.execute(select(Membership.volunteer_id, Membership.status)
                         .where(Membership.hub_id == hub.hub_id)).all()
    applied = sorted(v for v, st in rows if st == "applied")
    expected = applied + sorted(v for v, st in rows if st != "applied")
    assert len(expected) > 3 * VOLUNTEERS_PAGE
    assert _walk(client, "/admin/volunteers", VOLUNTEER_LINK) == expected
    last = _get(client, "/admin/volunteers?before=end")
    assert [int(i) for i in VOLUNTEER_LINK.findall(last)] == expected[-VOLUNTEERS_PAGE:]
    # backwards from the first page of the rest lands on the applications
    second = _get(client, _links(_get(client, "/admin/volunteers"))["next"])
    assert [int(i) for i in VOLUNTEER_LINK.findall(_get(client, _links(second)["prev"]))] == \
        expected[:VOLUNTEERS_PAGE]
    assert _walk(client, "/admin/volunteers?status=applied", VOLUNTEER_LINK) == applied


def test_an_order_page_lists_the_best_candidates_and_a_bounded_few_others(svc: Services, clock: FakeClock) -> None:
    hub = _seed(svc, clock.now())["big"]
    client = _client(svc, "big")
    with transaction(svc.sessions) as s:
        order = s.scalars(select(Order).where(Order.hub_id == hub.hub_id).order_by(Order.id)).first()
        assert order is not None
        order.state, order.volunteer_id = "dispatched", None
        order.start_at = clock.now() + timedelta(days=1)
        order_id = order.id
    page = _get(client, f"/admin/orders/{order_id}")
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', page.split('name="volunteer_id"')[1]
                         .split("</select>")[0])
    suggested = [v for v, label in options if "（推荐）" in label]
    assert 0 < len(suggested) <= SUGGESTED and len(options) == len(suggested) + OTHERS
    assert [v for v, _ in options[:len(suggested)]] == suggested  # the recommended first
    found = _get(client, f"/admin/orders/{order_id}?who={hub.volunteer_ids[-5]}")
    chosen = found.split('name="volunteer_id"')[1].split("</select>")[0]
    assert f'value="{hub.volunteer_ids[-5]}"' in chosen
    assert len(re.findall(r'<option value="\d+"', chosen)) <= SUGGESTED + 1


def test_a_count_stops_at_the_cap(svc: Services, clock: FakeClock) -> None:
    hub = _seed(svc, clock.now())["big"]
    with svc.sessions() as s:
        stmt = select(Order.id).where(Order.hub_id == hub.hub_id)
        assert paging.capped_count(s, stmt, cap=50) == 51
        assert paging.capped_count(s, stmt, cap=10_000) == s.scalar(select(func.count()).select_from(
            stmt.subquery()))


def test_the_dashboard_aggregates_in_shanghai_months_on_either_database(svc: Services, clock: FakeClock) -> None:
    """The month figures come from GROUP BYs on month ranges; an order at 01:00 on 1 November in Shanghai (17:00
    UTC the day before) is November's, the waits' median is statistics.median's."""
    from bot.admin.stats import dashboard

    with transaction(svc.sessions) as s:
        hub = Hub(slug="months", name="月份雷锋超市", settings={}, created_at=clock.now())
        s.add(hub)
        s.flush()
        resident = User(hub_id=hub.id, openid="oMonths", roles=[], subscribed=True, created_at=clock.now())
        s.add(resident)
        s.flush()
        hub_id, resident_id = hub.id, resident.id
        for created, wait, rating in ((datetime(2026, 10, 31, 17, 0, tzinfo=UTC), 10, 5),
                                      (datetime(2026, 10, 31, 15, 59, tzinfo=UTC), 30, 4),
                                      (datetime(2026, 11, 5, 3, 0, tzinfo=UTC), 25, None),
                                      (datetime(2026, 11, 6, 3, 0, tzinfo=UTC), None, None)):
            s.add(Order(hub_id=hub_id, state="closed" if wait else "cancelled", service_code="haircut",
                        ordered_by_user_id=resident_id, time_kind="asap", created_at=created, updated_at=created,
                        accepted_at=created + timedelta(minutes=wait) if wait else None, rating=rating))
    with svc.sessions() as s:
        d = dashboard(s, hub_id, clock.now(), lambda code: f"<{code}>")
    assert d.orders_by_service == {"<haircut>": {"2026-10": 1.0, "2026-11": 3.0}}
    assert d.accept_minutes["2026-11"] == 17.5 and d.accept_minutes["2026-10"] == 30.0
    assert d.ratings == {0: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
