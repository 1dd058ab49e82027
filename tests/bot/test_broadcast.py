"""Broadcasts: segments, skips, the 48-hour window, the per-second cap and 45047 backoff, at most once per person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.sendlimits import RateLimiter
from bot.clock import FakeClock
from bot.community import broadcasts, events
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.worker.sender import ATTEMPTING, OutboxSender
from storage.db import transaction
from storage.models import Order, OutboxMessage, User
from tests.dialog import Chat


@pytest.fixture
def people(services: Any, clock: FakeClock) -> dict[str, int]:
    """Residents: two in the window, one outside it (template), one opted out, one who unfollowed."""
    now = clock.now()
    ids: dict[str, int] = {}
    with transaction(services.sessions) as s:
        seed_demo_hub(s, now)
        for openid, follows, last, opt in (("oRes01", True, now, None), ("oRes02", True, now, True),
                                           ("oRes03", True, now - timedelta(days=3), None),
                                           ("oRes04", True, now, False), ("oRes05", False, now, None)):
            user = User(hub_id=1, openid=openid, roles=[], subscribed=follows, last_inbound_at=last, created_at=now)
            s.add(user)
            s.flush()
            ids[openid] = user.id
            if opt is not None:
                events.set_subscription(s, 1, user, opt, "test", now)
        s.add(Order(hub_id=1, state="closed", service_code="repair", ordered_by_user_id=ids["oRes01"],
                    address="幸福小区3栋501", time_kind="asap", created_at=now, updated_at=now))
        s.add(Order(hub_id=1, state="closed", service_code="repair", ordered_by_user_id=ids["oRes04"],
                    resident_user_id=ids["oRes02"], address="幸福小区5栋1", time_kind="asap", created_at=now,
                    updated_at=now))
    services.hubs.forget()
    return ids


def send(services: Any, segment: str, text: str, **kw: Any) -> tuple[int, int, int]:
    bid = broadcasts.create(services.sessions, hub_id=1, segment=segment, text=text, now=services.clock.now(), **kw)
    queued, skipped = broadcasts.enqueue_all(services.sessions, bid, services.clock.now())
    return bid, queued, skipped


def progress(services: Any, bid: int) -> broadcasts.Progress:
    with services.sessions() as s:
        return broadcasts.progress(s, bid)


def test_all_subscribers_with_skips_window_and_progress(people: dict[str, int], services: Any, client: Any,
                                                        account: Any, clock: FakeClock,
                                                        fake_wechat: FakeWeChatServer) -> None:
    bid, queued, skipped = send(services, "all-subscribers", "本周六雷锋一条街活动取消")
    # staff, 5 volunteers, oRes01-03 -> 9 queued; oRes04 opted out, oRes05 unfollowed
    assert (queued, skipped) == (9, 2)
    p = progress(services, bid)
    assert (p.sent, p.pending, p.skipped, p.skipped_why) == (0, 9, 2, {"opted_out": 1, "unfollowed": 1})
    assert "待发送 9" in p.line() and "已退订 1" in p.line()
    got = Chat(client, account, clock, services, fake_wechat).deliver()
    assert got["oRes01"] == ["本周六雷锋一条街活动取消"] and got["oRes03"] == ["本周六雷锋一条街活动取消"]
    assert "oRes04" not in got and "oRes05" not in got
    p = progress(services, bid)
    assert (p.sent, p.failed, p.pending, p.done) == (9, 0, 0, True)
    assert p.via == {"custom": 8, "template": 1}  # oRes03 is outside the 48-hour window
    assert "已完成" in p.line()


def test_never_twice_to_a_person(people: dict[str, int], services: Any, clock: FakeClock,
                                 fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "all-subscribers", "通知一")
    # queueing again (a crash and a rerun of the same broadcast) adds nothing
    assert broadcasts.enqueue_all(services.sessions, bid, clock.now())[0] == queued
    with pytest.raises(broadcasts.BroadcastError, match="--force"):
        send(services, "all-subscribers", "通知一")
    OutboxSender(services).drain()
    OutboxSender(services).drain()
    touched = [c["body"]["touser"] for c in fake_wechat.calls() if c["method"] == "POST"]
    assert len(touched) == len(set(touched)) == queued
    # a forced repeat is a new broadcast, deliberately
    _, again, _ = send(services, "all-subscribers", "通知一", force=True)
    assert again == queued


def test_team_and_community_segments(people: dict[str, int], services: Any) -> None:
    _, queued, skipped = send(services, "team:haircut", "理发队周六集合")
    assert (queued, skipped) == (2, 0)
    with services.sessions() as s:
        community = {r.openid: r.skip for r in broadcasts.recipients(s, 1, "community:幸福小区")}
    # who ordered there, and who was served there (代点单); oRes04 ordered but opted out
    assert community == {"oRes01": None, "oRes02": None, "oRes04": "opted_out"}
    for bad in ("everyone", "team:", "team:nope"):
        with pytest.raises(broadcasts.BroadcastError):
            send(services, bad, "x")
    with pytest.raises(broadcasts.BroadcastError):
        send(services, "all-subscribers", "   ")


def test_a_worker_killed_mid_send_never_causes_a_second_delivery(people: dict[str, int], services: Any,
                                                                 clock: FakeClock,
                                                                 fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "all-subscribers", "紧急通知")
    dying = OutboxSender(services, owner="dying")
    claimed = dying.claim(limit=3)
    # it sent the first one, and died before marking it sent: the row stays "sending", marked as attempted
    with services.sessions() as s:
        row = s.get(OutboxMessage, claimed[0])
        assert row is not None
        s.expunge(row)
    dying._mark(row, ATTEMPTING)
    dying.send(row, clock.now())
    clock.advance(seconds=services.config.outbox_lease_seconds + 1)
    stats = OutboxSender(services, owner="next").drain()
    assert stats.sent == queued - 1 and stats.dead == 1
    touched = [c["body"]["touser"] for c in fake_wechat.calls() if c["method"] == "POST"]
    assert len(touched) == len(set(touched)) == queued  # everyone exactly once, the unknown one not resent
    p = progress(services, bid)
    assert (p.sent, p.failed) == (queued - 1, 1) and "outcome unknown" in next(iter(p.errors))
    # the two rows it claimed but never tried were sent normally after the lease expired
    with services.sessions() as s:
        others = s.execute(select(OutboxMessage.status).where(OutboxMessage.id.in_(claimed[1:]))).scalars().all()
    assert others == ["sent", "sent"]


def test_per_second_cap_and_backoff_with_injected_clocks() -> None:
    t = [0.0]
    clock = FakeClock()
    limiter = RateLimiter(10, 5, clock=clock, monotonic=lambda: t[0], sleep=lambda d: t.__setitem__(0, t[0] + d))
    for _ in range(50):
        limiter.acquire()
    # a burst of 10, then 10 a second: 50 sends take 4 seconds
    assert t[0] == pytest.approx(4.0)
    assert limiter.paused_for() == 0
    assert limiter.backoff() == 5 and limiter.backoff() == 10  # doubles while refused
    assert limiter.paused_for() == 10
    clock.advance(seconds=10)
    assert limiter.paused_for() == 0
    limiter.succeeded()
    assert limiter.backoff() == 5  # reset after a success


@pytest.mark.parametrize("errcode", [45047, 45009])
def test_rate_limit_errors_pause_all_sends_and_retry_the_row(errcode: int, people: dict[str, int], services: Any,
                                                             clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    _, queued, _ = send(services, "all-subscribers", "通知")
    fake_wechat.fail("/cgi-bin/message/custom/send", errcode=errcode)
    sender = OutboxSender(services)
    stats = sender.drain()
    # the first row is refused and retried; every other row is held back while the pause lasts, unspent
    assert (stats.sent, stats.dead) == (0, 0)
    assert len(fake_wechat.calls("/cgi-bin/message/custom/send")) == 1
    with services.sessions() as s:
        rows = list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
    assert rows[0].attempts == 1 and all(r.attempts == 0 for r in rows[1:])
    assert all(r.status == "pending" for r in rows)
    clock.advance(seconds=services.config.wechat_rate_backoff_seconds)
    assert sender.drain().sent == queued
    touched = [c["body"]["touser"] for c in fake_wechat.calls() if c["result"].get("errcode") == 0
               and c["method"] == "POST"]
    assert len(touched) == len(set(touched)) == queued


def test_parallel_sending_still_sends_each_once(people: dict[str, int], db_url: str, clock: FakeClock,
                                                fake_wechat: FakeWeChatServer) -> None:
    from tests.conftest import make_services

    svc = make_services(db_url, clock, fake_wechat, outbox_send_threads=4, wechat_send_per_second=0)
    try:
        bid, queued, _ = send(svc, "all-subscribers", "并行发送")
        stats = OutboxSender(svc).drain()
        assert (stats.claimed, stats.sent) == (queued, queued)
        touched = [c["body"]["touser"] for c in fake_wechat.calls() if c["method"] == "POST"]
        assert len(touched) == len(set(touched)) == queued
        assert progress(svc, bid).sent == queued
    finally:
        svc.close()


def test_broadcast_and_robot_quota_on_both_databases(any_db_url: str, clock: FakeClock,
                                                     fake_wechat: FakeWeChatServer) -> None:
    """The batched INSERT ... RETURNING, the progress joins and the robot row lock, on SQLite and PostgreSQL."""
    from bot.channels.sendlimits import robot_reserve
    from tests.conftest import make_services

    svc = make_services(any_db_url, clock, fake_wechat, outbox_send_threads=3)
    try:
        now = clock.now()
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, now)
        bid, queued, skipped = send(svc, "all-subscribers", "两种数据库")
        assert (queued, skipped) == (6, 0)
        assert broadcasts.enqueue_all(svc.sessions, bid, now) == (6, 0)  # a rerun adds nothing
        OutboxSender(svc).drain()
        p = progress(svc, bid)
        assert (p.sent, p.failed, p.pending) == (6, 0, 0)
        assert [robot_reserve(svc.sessions, "K", now, 2) for _ in range(2)] == [None, None]
        assert robot_reserve(svc.sessions, "K", now, 2) == now + timedelta(minutes=1)
    finally:
        svc.close()
