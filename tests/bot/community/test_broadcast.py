"""Broadcasts: segments and skips; announcements as 群发 (drafts, parts, four a month per follower, clientmsgid);
a team's as a message each and its group chat; the per-second cap and backoff; at most once per person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.channels.sendlimits import RateLimiter
from bot.clock import FakeClock
from bot.community import broadcasts, events
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.worker.sender import ATTEMPTING, OutboxSender
from storage.db import transaction
from storage.models import Order, OutboxMessage, Team, User
from storage.models_events import MassSendCount

MASS = "/cgi-bin/message/mass/send"


@pytest.fixture
def people(services: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> dict[str, int]:
    """Residents: two who wrote lately, one three days ago, one opted out, one who unfollowed."""
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
    fake_wechat.adopt_users(services.sessions)  # they follow the account (oRes05 no longer)
    return ids


def send(services: Any, segment: str, text: str, **kw: Any) -> tuple[int, int, int]:
    bid = broadcasts.create(services.sessions, hub_id=1, segment=segment, text=text, now=services.clock.now(), **kw)
    queued, skipped = broadcasts.enqueue_all(services.sessions, bid, services.clock.now())
    return bid, queued, skipped


def progress(services: Any, bid: int) -> broadcasts.Progress:
    with services.sessions() as s:
        return broadcasts.progress(s, bid)


def mass_calls(fake: FakeWeChatServer) -> list[dict[str, Any]]:
    return [c for c in fake.calls(MASS) if c["result"].get("errcode") == 0]


def test_an_announcement_to_all_subscribers_is_one_mass_send(people: dict[str, int], services: Any, clock: FakeClock,
                                                             fake_wechat: FakeWeChatServer) -> None:
    bid, queued, skipped = send(services, "all-subscribers", "本周六雷锋一条街活动取消")
    # staff, 5 volunteers, oRes01-03 -> 9 queued; oRes04 opted out, oRes05 unfollowed
    assert (queued, skipped) == (9, 2)
    p = progress(services, bid)
    assert (p.sent, p.pending, p.skipped, p.skipped_why) == (0, 9, 2, {"opted_out": 1, "unfollowed": 1})
    assert "待发送 9" in p.line() and "已退订 1" in p.line()
    OutboxSender(services).drain()
    (call,) = mass_calls(fake_wechat)  # one call for everyone, the one three days silent too
    assert sorted(call["body"]["touser"]) == sorted(
        o for o in fake_wechat.received() if not o.startswith("robot:"))
    assert call["body"]["msgtype"] == "mpnews" and call["body"]["clientmsgid"].startswith("leifeng-1-outbox-")
    (draft,) = fake_wechat.calls("/cgi-bin/draft/add")
    article = draft["body"]["articles"][0]
    assert article["title"] == "本周六雷锋一条街活动取消" and article["thumb_media_id"].startswith("FAKE_IMAGE_")
    got = fake_wechat.received()
    assert got["oRes03"] == ["本周六雷锋一条街活动取消\n<p>本周六雷锋一条街活动取消</p>"]
    assert "oRes04" not in got and "oRes05" not in got
    assert fake_wechat.calls("/cgi-bin/message/custom/send") == []
    assert fake_wechat.calls("/cgi-bin/message/template/send") == []
    p = progress(services, bid)
    assert (p.sent, p.failed, p.pending, p.done, p.via) == (9, 0, 0, True, {"mass": 9})
    assert "已完成" in p.line()
    with services.sessions() as s:
        assert {c.count for c in s.scalars(select(MassSendCount))} == {1}
        assert len(s.scalars(select(MassSendCount)).all()) == 9
    assert fake_wechat.refused() == []


def test_four_a_month_per_follower_and_staff_see_what_is_left(people: dict[str, int], services: Any,
                                                               clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    with services.sessions() as s:
        before = broadcasts.quota(s, 1, "all-subscribers", clock.now())
    assert before is not None and (before.people, before.reached, before.left[4]) == (9, 9, 9)
    for i in range(4):
        send(services, "all-subscribers", f"第{i + 1}次通知")
        OutboxSender(services).drain()
    with services.sessions() as s:
        view = broadcasts.quota(s, 1, "all-subscribers", clock.now())
        assert view is not None and view.reached == 0 and view.left[0] == 9
        assert "可送达 0 人" in view.line()
        assert broadcasts.quota(s, 1, "team:haircut", clock.now()) is None  # a team's goes another way
    _, queued, skipped = send(services, "all-subscribers", "第五次通知")
    assert (queued, skipped) == (0, 11)  # nobody has one left this month: nothing is tried
    OutboxSender(services).drain()
    assert len(mass_calls(fake_wechat)) == 4 and fake_wechat.refused() == []
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # midnight of 1 December in Beijing
    _, queued, _ = send(services, "all-subscribers", "十二月通知")
    assert queued == 9


def test_never_twice_to_a_person(people: dict[str, int], services: Any, clock: FakeClock,
                                 fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "all-subscribers", "通知一")
    # queueing again (a crash and a rerun of the same broadcast) adds nothing
    assert broadcasts.enqueue_all(services.sessions, bid, clock.now())[0] == queued
    with pytest.raises(broadcasts.BroadcastError, match="--force"):
        send(services, "all-subscribers", "通知一")
    OutboxSender(services).drain()
    OutboxSender(services).drain()
    assert len(mass_calls(fake_wechat)) == 1
    # a forced repeat is a new broadcast, deliberately
    _, again, _ = send(services, "all-subscribers", "通知一", force=True)
    assert again == queued


def test_a_worker_killed_after_the_mass_send_never_causes_a_second_one(people: dict[str, int], services: Any,
                                                                        clock: FakeClock,
                                                                        fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "all-subscribers", "紧急通知")
    dying = OutboxSender(services, owner="dying")
    (claimed,) = dying.claim()
    with services.sessions() as s:
        row = s.get(OutboxMessage, claimed)
        assert row is not None
        s.expunge(row)
    dying.send(row)  # WeChat took the 群发, and the worker died before marking the row
    clock.advance(seconds=services.config.outbox_lease_seconds + 1)
    stats = OutboxSender(services, owner="next").drain()
    assert stats.sent == 1
    sent = [c["result"]["errcode"] for c in fake_wechat.calls(MASS)]
    assert sent == [0, 45065]  # the same clientmsgid: WeChat says it went already, and sends nothing
    assert all(len(v) == 1 for k, v in fake_wechat.received().items())
    with services.sessions() as s:  # and each follower's month counted once
        assert {c.count for c in s.scalars(select(MassSendCount))} == {1}
    assert progress(services, bid).sent == queued


def test_big_segments_go_in_parts_of_two_or_more(people: dict[str, int], services: Any, fake_wechat: FakeWeChatServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert broadcasts.mass_parts(1) == [] and broadcasts.mass_parts(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert broadcasts.mass_parts(10_001) == [(0, 9_999), (9_999, 10_001)]
    monkeypatch.setattr(broadcasts, "MASS_PART", 4)
    monkeypatch.setattr(broadcasts.mass_parts, "__defaults__", (4,))
    bid, queued, _ = send(services, "all-subscribers", "分批")
    OutboxSender(services).drain()
    sizes = [len(c["body"]["touser"]) for c in mass_calls(fake_wechat)]
    assert sorted(sizes) == [2, 3, 4] and sum(sizes) == queued == 9
    assert len(fake_wechat.calls("/cgi-bin/draft/add")) == 1  # one draft for every part
    assert len(fake_wechat.calls("/cgi-bin/material/add_material")) == 1


def test_team_and_community_segments(people: dict[str, int], services: Any, clock: FakeClock,
                                     fake_wechat: FakeWeChatServer) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Team).where(Team.code == "haircut").values(robot_key="ROBOT-HAIRCUT"))
    _, queued, skipped = send(services, "team:haircut", "理发队周六集合")
    assert (queued, skipped) == (2, 0)
    OutboxSender(services).drain()
    got = fake_wechat.received()
    # the team's group chat, and each member by a customer-service message (they wrote at seeding): no 群发
    assert got["robot:ROBOT-HAIRCUT"] == ["理发队周六集合"]
    assert got["oVolBarber01"] == got["oVolBarber02"] == ["理发队周六集合"] and mass_calls(fake_wechat) == []
    with services.sessions() as s:
        community = {r.openid: r.skip for r in broadcasts.recipients(s, 1, "community:幸福小区")}
    # who ordered there, and who was served there (代点单); oRes04 ordered but opted out
    assert community == {"oRes01": None, "oRes02": None, "oRes04": "opted_out"}
    for bad in ("everyone", "team:", "team:nope"):
        with pytest.raises(broadcasts.BroadcastError):
            send(services, bad, "x")
    with pytest.raises(broadcasts.BroadcastError):
        send(services, "all-subscribers", "   ")


def test_a_team_members_copy_goes_at_most_once(people: dict[str, int], services: Any, clock: FakeClock,
                                               fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "team:haircut", "紧急通知")
    dying = OutboxSender(services, owner="dying")
    claimed = dying.claim(limit=2)
    with services.sessions() as s:
        row = s.get(OutboxMessage, claimed[0])
        assert row is not None
        s.expunge(row)
    dying._mark(row, ATTEMPTING)
    dying.send(row)  # it sent the first one, and died before marking it sent
    clock.advance(seconds=services.config.outbox_lease_seconds + 1)
    stats = OutboxSender(services, owner="next").drain()
    assert stats.sent == queued - 1 and stats.dead == 1
    touched = [c["body"]["touser"] for c in fake_wechat.calls("/cgi-bin/message/custom/send")]
    assert len(touched) == len(set(touched)) == queued  # everyone exactly once, the unknown one not resent
    p = progress(services, bid)
    assert (p.sent, p.failed, p.unknown) == (queued - 1, 0, 1) and "outcome unknown" in next(iter(p.errors))


def test_a_street_event_is_announced_as_one_mass_send_and_reminded_to_subscribers_only(
        people: dict[str, int], services: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    es = events.EventSettings.from_config(services.config)
    with transaction(services.sessions) as s:
        (ev,) = events.generate(s, 1, es, clock.now().date(), clock.now().date() + timedelta(days=7), clock.now())
        event_id, starts = ev.id, ev.starts_at
    bid = broadcasts.announce_event(services.sessions, hub_id=1, event_id=event_id, now=clock.now(), es=es)
    OutboxSender(services).drain()
    (call,) = mass_calls(fake_wechat)
    assert len(call["body"]["touser"]) == progress(services, bid).sent == 9
    assert "活动预告：雷锋一条街志愿服务活动" in fake_wechat.received("oRes03")["oRes03"][0]
    clock.set(starts.replace(tzinfo=UTC) - timedelta(hours=15))  # 18:00 the day before
    with transaction(services.sessions) as s:
        assert events.remind(s, 1, clock.now(), es) == 1  # oRes02 opted in; nobody else asked for reminders
    OutboxSender(services).drain()
    (reminder,) = fake_wechat.calls("/cgi-bin/message/template/send")  # she last wrote days ago: a template
    assert reminder["body"]["touser"] == "oRes02"
    assert [v["value"] for v in reminder["body"]["data"].values()][:2] == ["雷锋一条街志愿服务活动", "明天举行"]
    assert fake_wechat.refused() == []


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


@pytest.mark.parametrize("errcode", [45009, 45011])
def test_rate_limit_errors_pause_all_sends_and_retry_the_row(errcode: int, people: dict[str, int], services: Any,
                                                             clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    send(services, "all-subscribers", "通知")
    send(services, "team:haircut", "理发队通知")
    fake_wechat.fail(MASS, errcode=errcode)
    sender = OutboxSender(services)
    stats = sender.drain()
    # the 群发 is refused and retried; every other row is held back while the pause lasts, unspent
    assert (stats.sent, stats.dead) == (0, 0)
    assert len(fake_wechat.calls(MASS)) == 1 and fake_wechat.calls("/cgi-bin/message/custom/send") == []
    with services.sessions() as s:
        rows = list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
    assert rows[0].attempts == 1 and all(r.attempts == 0 for r in rows[1:])
    assert all(r.status == "pending" for r in rows)
    clock.advance(seconds=services.config.wechat_rate_backoff_seconds)
    assert sender.drain().sent == 3
    assert len(mass_calls(fake_wechat)) == 1


def test_parallel_sending_still_sends_each_once(people: dict[str, int], db_url: str, clock: FakeClock,
                                                fake_wechat: FakeWeChatServer) -> None:
    from tests.conftest import make_services

    svc = make_services(db_url, clock, fake_wechat, outbox_send_threads=4, wechat_send_per_second=0)
    try:
        bid, queued, _ = send(svc, "all-subscribers", "并行发送")
        for code in ("haircut", "repair", "medical", "care"):
            send(svc, f"team:{code}", f"{code}队并行发送")
        stats = OutboxSender(svc).drain()
        assert stats.sent == stats.claimed
        assert len(mass_calls(fake_wechat)) == 1
        custom = [c["body"]["touser"] for c in fake_wechat.calls("/cgi-bin/message/custom/send")]
        assert len(custom) == len(set(custom))
        assert progress(svc, bid).sent == queued
    finally:
        svc.close()


def test_broadcast_and_robot_quota_on_both_databases(any_db_url: str, clock: FakeClock,
                                                     fake_wechat: FakeWeChatServer) -> None:
    """The parts, the monthly counts, the progress joins and the robot row lock, on SQLite and PostgreSQL."""
    from bot.channels.sendlimits import robot_reserve
    from tests.conftest import make_services

    svc = make_services(any_db_url, clock, fake_wechat, outbox_send_threads=3)
    try:
        now = clock.now()
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, now)
        fake_wechat.adopt_users(svc.sessions)
        bid, queued, skipped = send(svc, "all-subscribers", "两种数据库")
        assert (queued, skipped) == (6, 0)
        assert broadcasts.enqueue_all(svc.sessions, bid, now) == (6, 0)  # a rerun adds nothing
        OutboxSender(svc).drain()
        p = progress(svc, bid)
        assert (p.sent, p.failed, p.pending) == (6, 0, 0)
        with svc.sessions() as s:
            assert broadcasts.mass_left(s, 1, [r.user_id for r in broadcasts.recipients(s, 1, "all-subscribers")
                                               if r.user_id], now) == {uid: 3 for uid in range(1, 7)}
        assert [robot_reserve(svc.sessions, "K", now, 2) for _ in range(2)] == [None, None]
        assert robot_reserve(svc.sessions, "K", now, 2) == now + timedelta(minutes=1)
    finally:
        svc.close()


def test_a_subscription_account_has_one_mass_send_a_day(people: dict[str, int], services: Any,
                                                        clock: FakeClock) -> None:
    """A 公众号/订阅号 may 群发 once a (Beijing) day: the second is refused in words before WeChat says 45028."""
    from storage import subscriptions

    with transaction(services.sessions) as s:
        subscriptions.set_account_kind(s, 1, subscriptions.SUBSCRIPTION, clock.now())
    send(services, "all-subscribers", "本周六雷锋一条街活动，欢迎参加")
    with pytest.raises(broadcasts.BroadcastError, match="订阅号每天只能群发一次"):
        send(services, "all-subscribers", "另一条通知")
    clock.advance(days=1)
    send(services, "all-subscribers", "另一条通知")  # the next day it goes


def test_a_segment_reads_as_words_for_staff() -> None:
    # outside tester out9: the console's 群发 list and `broadcast status` showed team:haircut, all-subscribers
    assert broadcasts.segment_words("all-subscribers") == "全部关注者"
    assert broadcasts.segment_words("team:haircut", "爱心理发队") == "服务队：爱心理发队"
    assert broadcasts.segment_words("community:幸福小区") == "小区：幸福小区"
