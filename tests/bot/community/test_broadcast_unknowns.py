"""A team announcement's copy whose worker died mid-send is "outcome unknown" in the broadcast's counts, apart from
the copies that failed: perhaps delivered, never sent again."""

from __future__ import annotations

from typing import Any

from bot.clock import FakeClock
from bot.community import broadcasts
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.worker.sender import ATTEMPTING, OutboxSender
from storage.models import OutboxMessage
from tests.bot.community.test_broadcast import people, progress, send
from tests.conftest import make_services

__all__ = ["people"]  # the fixture, shared with the broadcast tests

CUSTOM = "/cgi-bin/message/custom/send"


def _dies_while_sending(services: Any, clock: FakeClock, *, reached_wechat: bool) -> int:
    """A worker claims a copy, marks it, maybe gets it to WeChat, and dies before hearing back; another takes
    over once the lease is gone. Returns that copy's outbox id."""
    dying = OutboxSender(services, owner="dying")
    claimed = dying.claim(limit=1)
    with services.sessions() as s:
        row = s.get(OutboxMessage, claimed[0])
        assert row is not None
        s.expunge(row)
    dying._mark(row, ATTEMPTING)
    if reached_wechat:
        dying.send(row)
    clock.advance(seconds=services.config.outbox_lease_seconds + 1)
    OutboxSender(services, owner="next").drain()
    return int(row.id)


def test_a_copy_delivered_just_before_the_crash_is_unknown_not_failed(
        people: dict[str, int], services: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "team:haircut", "周六早上八点半集合，记得带推子")
    _dies_while_sending(services, clock, reached_wechat=True)
    p = progress(services, bid)
    assert (p.sent, p.failed, p.unknown, p.pending) == (queued - 1, 0, 1, 0)
    assert "结果未知 1" in p.line() and "失败 0" in p.line()
    assert broadcasts.summary(p)["unknown"] == 1
    touched = [c["body"]["touser"] for c in fake_wechat.calls(CUSTOM)]
    assert len(touched) == len(set(touched)) == queued  # nobody twice: the unknown one is not sent again


def test_a_copy_marked_but_never_sent_is_unknown_too(people: dict[str, int], services: Any, clock: FakeClock,
                                                      fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "team:haircut", "周日下午活动取消")
    _dies_while_sending(services, clock, reached_wechat=False)
    p = progress(services, bid)
    assert (p.sent, p.failed, p.unknown) == (queued - 1, 0, 1)
    assert len(fake_wechat.calls(CUSTOM)) == queued - 1  # it never left: nobody can tell from the row


def test_a_copy_that_failed_is_still_failed(people: dict[str, int], db_url: str, clock: FakeClock,
                                            fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat, outbox_max_attempts=1)
    try:
        bid, queued, _ = send(svc, "team:haircut", "明早集合地点改到社区服务中心")
        fake_wechat.fail(CUSTOM, http_status=502, times=1)
        OutboxSender(svc, owner="w").drain()
        p = progress(svc, bid)
        assert (p.sent, p.failed, p.unknown) == (queued - 1, 1, 0)
    finally:
        svc.close()


def test_a_part_of_a_mass_send_abandoned_at_every_try_is_unknown(
        people: dict[str, int], db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat, outbox_max_attempts=1)
    try:
        bid, queued, _ = send(svc, "all-subscribers", "本周六雷锋一条街活动照常举行")
        assert OutboxSender(svc, owner="dying").claim()  # claimed, and the worker is gone before it sends
        clock.advance(seconds=svc.config.outbox_lease_seconds + 1)
        OutboxSender(svc, owner="next").drain()
        p = progress(svc, bid)
        assert (p.sent, p.failed, p.unknown) == (0, 0, queued)  # one part, counted by its people
    finally:
        svc.close()
