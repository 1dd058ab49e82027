"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), clock, app, fake WeChat."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, make_url, text

from bot.app import create_app
from bot.clock import FakeClock
from bot.config import load_config
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.dialogue.nlu import forget_hub_understandings
from bot.services import Services, build_services
from storage.db import make_engine, upgrade

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("LEIFENG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
_ENSURED: set[str] = set()
# The suite runs with the published development secrets; outside development the app refuses them (bot/config.py).
# Set here for everything that reads the environment (create_app(mapping), the CLI run in-process or as a child).
os.environ["LEIFENG_ENV"] = "development"
# the suite's understanding is the lexical matcher whatever is installed (a developer with the `semantic` extra would
# otherwise run every test with the real model); the semantic tests switch it on with a fake or the real model
os.environ.setdefault("LEIFENG_SEMANTIC_MATCHER", "false")


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection that is not to loopback fails the test (no test may reach real WeChat)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def ensure_postgres_database(url: str) -> None:
    """Create the test database (a name of its own, e.g. leifeng_test) when the server does not have it yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def reset_postgres(url: str) -> None:
    if url not in _ENSURED:
        ensure_postgres_database(url)
        _ENSURED.add(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    forget_hub_understandings()  # catalogue versions cached by (database URL, hub, version) belong to the old one


def database_at(kind: str, tmp_path: Path, revision: str, secret_key: str | None = None) -> str:
    """A database ("sqlite" in tmp_path, or "postgresql" at TEST_DATABASE_URL, emptied first; skipped without it)
    migrated up to `revision` only: where a migration test puts rows as a deployment before the next one held them."""
    if kind == "postgresql":
        if not PG_URL:
            pytest.skip("TEST_DATABASE_URL not set: PostgreSQL run skipped")
        reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, revision, secret_key=secret_key)
    return url


_TEMPLATE: dict[str, Path] = {}


def fresh_db(kind: str, tmp_path: Path) -> str:
    if kind == "postgresql":
        if not PG_URL:
            pytest.skip("TEST_DATABASE_URL not set: PostgreSQL run skipped")
        reset_postgres(PG_URL)
        upgrade(PG_URL)
        return PG_URL
    # Migrate one SQLite file per session (through the real migrations), copy it for each test.
    if "sqlite" not in _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="leifeng-template-")) / "template.db"
        upgrade(f"sqlite:///{template}")
        _TEMPLATE["sqlite"] = template
    target = tmp_path / "test.db"
    shutil.copyfile(_TEMPLATE["sqlite"], target)
    return f"sqlite:///{target}"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return fresh_db("sqlite", tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Storage and concurrency tests run on both databases."""
    return fresh_db(request.param, tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def fake_wechat(clock: FakeClock) -> Iterator[FakeWeChatServer]:
    """The strict fake WeChat, judging windows on the test's clock."""
    with FakeWeChatServer(clock=clock) as server:
        yield server


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own in the Redis at REDIS_URL, its keys deleted afterwards. Skipped when no Redis
    answers, except in CI (CI=true), where the machine has one and a missing Redis is a failure."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        if os.environ.get("CI"):
            raise AssertionError(f"CI has a Redis at {REDIS_URL}, but it did not answer: {exc}") from exc
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"leifeng-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def make_services(url: str, clock: FakeClock, fake: FakeWeChatServer | None = None, **overrides: Any) -> Services:
    settings: dict[str, Any] = {"env": "development", "database_url": url, "wechat_token": "testtoken",
                                "wechat_appid": "wxtestappid0001", "wechat_secret": "testsecret",
                                "wechat_notice_template_id": "TPL_NOTICE", "semantic_matcher": False}
    if fake is not None:
        settings["wechat_api_base_url"] = fake.url
        settings["wecom_robot_base_url"] = fake.url
    settings.update(overrides)
    return build_services(load_config(settings, environ={}), clock)


@pytest.fixture
def services(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Services]:
    svc = make_services(db_url, clock, fake_wechat)
    yield svc
    svc.close()


@pytest.fixture
def app(services: Services) -> Any:
    return create_app(services=services)


def untested_client(services: Services) -> Any:
    """A client of the app with Flask's testing mode off: an exception becomes the 500 a caller (WeChat, a
    browser) would see, not a test error."""
    app = create_app(services=services)
    app.testing = False
    return app.test_client()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def account(services: Services) -> Account:
    return Account(token=services.config.wechat_token, appid=services.config.wechat_appid,
                   aes_key=services.config.wechat_aes_key)


def fixture_xml(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def chat(client: Any, account: Account, clock: FakeClock, services: Services, fake_wechat: FakeWeChatServer) -> Any:
    """A dialogue driver over the demo hub (teams, volunteers, staff, merchants); files may override it."""
    from bot.devtools.seed import seed_demo_hub
    from storage.db import transaction
    from tests.dialog import Chat

    with transaction(services.sessions) as s:
        seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
    services.hubs.forget()
    return Chat(client, account, clock, services, fake_wechat)
