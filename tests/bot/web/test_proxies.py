"""Behind a reverse proxy (LEIFENG_TRUSTED_PROXIES): the console sees the real client address and public URL; with
no proxy configured, X-Forwarded-* headers (anyone can send them) change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import flask
import pytest
from flask import Response
from sqlalchemy import select

from bot.admin.auth import create_account
from bot.app import create_app
from bot.clock import FakeClock
from bot.config import load_config
from bot.errors import ConfigError
from storage.db import transaction
from storage.models_admin import LoginAttempt
from tests.bot.admin.test_admin import TOKEN
from tests.conftest import make_services

# what a proxy chain hands on: whatever the client claimed, then the address the (one) proxy saw
FORWARDED = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "leifeng.example.cn"}


@pytest.fixture(params=[0, 1])
def proxied(request: pytest.FixtureRequest, db_url: str, clock: FakeClock) -> Iterator[tuple[int, Any]]:
    svc = make_services(db_url, clock, trusted_proxies=request.param)
    app = create_app(services=svc)

    @app.get("/__seen__")
    def seen() -> Response:
        return Response(f"{flask.request.remote_addr} {flask.request.host_url}", mimetype="text/plain")

    yield request.param, app.test_client()
    svc.close()


def test_the_client_address_and_url_come_from_the_proxy_only_when_one_is_trusted(proxied: tuple[int, Any]) -> None:
    proxies, client = proxied
    seen = client.get("/__seen__", headers=FORWARDED).get_data(as_text=True)
    if proxies:
        assert seen == "203.0.113.7 https://leifeng.example.cn/"  # never the 10.9.9.9 the client wrote itself
    else:
        assert seen == "127.0.0.1 http://localhost/"


def test_failed_sign_ins_are_counted_per_real_client_address(proxied: tuple[int, Any], db_url: str,
                                                             clock: FakeClock) -> None:
    proxies, client = proxied
    svc = client.application.extensions["leifeng"]
    with transaction(svc.sessions) as s:
        create_account(s, username="xiaoli", password="a-long-password-123", role="staff", hub_slug="default",
                       now=clock.now(), actor="test")
    page = client.get("/admin/login", headers=FORWARDED).get_data(as_text=True)
    m = TOKEN.search(page)
    assert m
    resp = client.post("/admin/login", headers=FORWARDED, data={
        "csrf_token": m.group(1) or m.group(2), "username": "xiaoli", "password": "wrong-password-123"})
    assert resp.status_code == 401
    with svc.sessions() as s:
        (addr,) = s.scalars(select(LoginAttempt.remote_addr)).all()
    assert addr == ("203.0.113.7" if proxies else "127.0.0.1")


def test_a_negative_number_of_proxies_is_refused() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config({"trusted_proxies": -1}, environ={})
