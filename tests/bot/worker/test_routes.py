"""The outbox sender's routes: a table, not an if/elif chain."""

from __future__ import annotations

from bot.worker.sender import ROUTES, route


def test_the_sender_picks_a_route_from_its_table() -> None:
    assert route("wechat", "oResident") == "wechat"
    assert route("wechat", "wecom:zhangsan") == "wecom"  # a WeCom member reached where they are
    assert route("wecom_robot", "robot-key") == "robot" and route("wecom_appchat", "chat1") == "wecom"
    assert route("fax", "x") is None
    assert set(ROUTES.values()) == {"wechat", "robot", "wecom"}
