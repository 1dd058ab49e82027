"""LEIFENG_REDIS_URL set: access tokens live in Redis, shared by every process, refreshed once under a lock.

Runs against the Redis at LEIFENG_TEST_REDIS_URL (default redis://127.0.0.1:6379/15); each test uses its
own key prefix and deletes its keys. Skipped when no Redis answers, except in CI (CI=true), where the
machine has one and a missing Redis is a failure."""

from __future__ import annotations

import socket

from sqlalchemy import select

from bot.channels.wechat_client import RedisTokenStore
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.services import Services
from bot.worker.sender import OutboxSender
from storage.models import AccessToken
from tests.bot.worker.test_outbox import CUSTOM, TOKEN, add_user, queue, rows, tokens_at_once
from tests.conftest import REDIS_URL, make_services

APPID = "wxtestappid0001"


def _services(db_url: str, clock: FakeClock, fake: FakeWeChatServer, prefix: str) -> Services:
    return make_services(db_url, clock, fake, redis_url=REDIS_URL, redis_key_prefix=prefix)


def test_the_token_is_kept_in_redis_not_the_database(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                                     redis_prefix: str) -> None:
    svc = _services(db_url, clock, fake_wechat, redis_prefix)
    assert isinstance(svc.tokens, RedisTokenStore)
    add_user(svc, "oR", clock.now(), fake_wechat)
    queue(svc, "oR", "您好")
    assert OutboxSender(svc).run_once().sent == 1
    assert svc.tokens.peek(APPID) and svc.tokens.refresh_count(APPID) == 1
    with svc.sessions() as s:
        assert s.execute(select(AccessToken)).first() is None
    svc.close()


def test_concurrent_refresh_from_eight_processes_fetches_once(db_url: str, clock: FakeClock,
                                                              fake_wechat: FakeWeChatServer, redis_prefix: str) -> None:
    svcs = [_services(db_url, clock, fake_wechat, redis_prefix) for _ in range(8)]
    tokens = tokens_at_once(svcs)
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert len(fake_wechat.calls(TOKEN)) == 1
    for s in svcs:
        s.close()


def test_40001_refreshes_once_and_retries(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                          redis_prefix: str) -> None:
    svc = _services(db_url, clock, fake_wechat, redis_prefix)
    add_user(svc, "oD", clock.now(), fake_wechat)
    sender = OutboxSender(svc)
    queue(svc, "oD", "一")
    sender.run_once()
    fake_wechat.expire_tokens()  # WeChat invalidated the token
    queue(svc, "oD", "二")
    assert sender.run_once().sent == 1
    assert [c["result"]["errcode"] for c in fake_wechat.calls(CUSTOM)] == [0, 40001, 0]
    assert len(fake_wechat.calls(TOKEN)) == 2 and svc.tokens.refresh_count(APPID) == 2  # type: ignore[attr-defined]
    svc.close()


def test_refreshed_before_expiry_on_the_injected_clock(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                                       redis_prefix: str) -> None:
    svc = _services(db_url, clock, fake_wechat, redis_prefix)
    client = svc.client_for(svc.hubs.by_slug(None))
    first = client.access_token
    clock.advance(seconds=7200 - 400)  # still outside the 300 s margin
    assert client.access_token == first and len(fake_wechat.calls(TOKEN)) == 1
    clock.advance(seconds=200)  # inside it: asked again, and stable_token hands back the same, still valid token
    assert client.access_token == first and len(fake_wechat.calls(TOKEN)) == 2
    assert client.access_token == first and len(fake_wechat.calls(TOKEN)) == 2  # used to its end, not re-asked
    clock.advance(seconds=200)  # expired
    assert client.access_token != first and len(fake_wechat.calls(TOKEN)) == 3
    svc.close()


def test_an_unreachable_redis_is_a_retryable_send_failure(db_url: str, clock: FakeClock,
                                                          fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat, redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    add_user(svc, "oX", clock.now(), fake_wechat)
    queue(svc, "oX", "提醒")
    stats = OutboxSender(svc).run_once()
    assert stats.sent == 0 and fake_wechat.calls(CUSTOM) == []
    (row,) = rows(svc)  # kept for a later try: nothing lost
    assert row.status == "pending" and row.attempts == 1 and "Redis" in (row.last_error or "")
    svc.close()


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_token_another_process_fetched_is_used_not_fetched_again(redis_prefix: str) -> None:
    clock = FakeClock()
    a = RedisTokenStore.from_url(REDIS_URL, clock, prefix=redis_prefix)
    b = RedisTokenStore.from_url(REDIS_URL, clock, prefix=redis_prefix)
    fetched: list[str] = []

    def fetch() -> tuple[str, int]:
        fetched.append("x")
        return f"T{len(fetched)}", 7200

    assert a.valid_token(APPID, fetch) == "T1"
    assert b.refresh(APPID, fetch, stale=None) == "T1"  # fresh and not the one b saw fail: kept
    assert b.refresh(APPID, fetch, stale="T1") == "T2"  # b's call failed with T1: replaced
    assert a.refresh(APPID, fetch, stale="T1") == "T2"  # a failed with T1 too, but b already replaced it
    assert fetched == ["x", "x"] and a.refresh_count(APPID) == 2
    clock.advance(hours=3)
    a.invalidate(APPID)
    assert a.peek(APPID) is None
