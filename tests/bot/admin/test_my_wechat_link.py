"""A staff member reaches their own 绑定微信 page from every console page (the header); leaders and merchants, who
cannot link (bot.inbox.handover.LINKABLE_ROLES), see no such link."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.bot.admin.test_admin import Seeded, login, text


@pytest.mark.parametrize("username", ["xiaoli", "boss"])
def test_staff_and_admins_find_their_own_binding_page(client: Any, seeded: Seeded, username: str) -> None:
    login(client, username)
    page = text(client.get("/admin/orders"))
    link = re.search(r'<a href="([^"]+)" id="nav-my-wechat">绑定微信</a>', page)
    assert link, "no link to the binding page"
    own = client.get(link.group(1))
    assert own.status_code == 200 and f"<h1>{username}" in text(own) and "的微信</h1>" in text(own)


@pytest.mark.parametrize(("username", "page"), [("laowang", "/admin/orders"), ("shop", "/admin/volunteers")])
def test_leaders_and_merchants_have_no_binding_link(client: Any, seeded: Seeded, username: str, page: str) -> None:
    login(client, username)
    shown = client.get(page)
    assert shown.status_code == 200 and 'id="nav-my-wechat"' not in text(shown)
