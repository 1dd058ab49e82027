"""群发 by WeChat tag (bot.community.wechat_tags, bot.worker.tagsend): on a 订阅号 every segment goes as one sendall by
its tag, the tag's members follow the segment (team joins and leaves), only they count as having received it, and
WeChat's limits on tags (100 an account, 20 a follower) end in words for staff, never in a silent loss."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from bot.admin.pages_delivery import REASON_WORDS
from bot.clock import FakeClock
from bot.community import broadcasts, wechat_tags
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.people.volunteers import join_team, leave_team
from bot.worker.sender import OutboxSender
from storage import subscriptions
from storage.db import transaction
from storage.models import Order, OutboxMessage, Team, User
from storage.models_events import MassSendCount, WeChatTag
from tests.bot.community.test_broadcast import people, progress, send

__all__ = ["people"]

SENDALL, LIST = "/cgi-bin/message/mass/sendall", "/cgi-bin/message/mass/send"
TAGGING, UNTAGGING = "/cgi-bin/tags/members/batchtagging", "/cgi-bin/tags/members/batchuntagging"
BARBERS = ("oVolBarber01", "oVolBarber02")


@pytest.fixture
def subscription(people: dict[str, int], services: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    """The hub runs on a 公众号/订阅号, and the fake plays one; the team's group robot is set."""
    with transaction(services.sessions) as s:
        subscriptions.set_account_kind(s, 1, subscriptions.SUBSCRIPTION, clock.now())
        s.execute(update(Team).where(Team.code == "haircut").values(robot_key="ROBOT-HAIRCUT"))
    fake_wechat.rules.account = "subscription"


def ok(fake: FakeWeChatServer, path: str) -> list[dict[str, Any]]:
    return [c for c in fake.calls(path) if c["result"].get("errcode") == 0]


def tagged(fake: FakeWeChatServer, tag_id: int) -> set[str]:
    return {o for o, p in fake.state.people.items() if tag_id in p.tags}


def the_tag(services: Any, segment: str) -> WeChatTag:
    with services.sessions() as s:
        return s.execute(select(WeChatTag).where(WeChatTag.segment == segment)).scalar_one()


def counted(services: Any) -> dict[str, int]:
    with services.sessions() as s:
        return dict(s.execute(select(User.openid, MassSendCount.count)
                              .join(MassSendCount, MassSendCount.user_id == User.id)).all())


def test_a_team_announcement_on_a_subscription_account_is_one_sendall_by_tag(
        subscription: None, services: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    bid, queued, skipped = send(services, "team:haircut", "理发队周六集合")
    assert (queued, skipped) == (2, 0)
    OutboxSender(services).drain()
    tag = the_tag(services, "team:haircut")
    assert tag.tag_id is not None and tag.used_at is not None and tag.name == "队伍 爱心理发队#1"
    (call,) = fake_wechat.calls(SENDALL)  # one 群发, to the team's tag, and nothing by openid list
    assert call["body"]["filter"] == {"is_to_all": False, "tag_id": tag.tag_id}
    assert fake_wechat.calls(LIST) == [] and fake_wechat.calls("/cgi-bin/message/custom/send") == []
    (tagging,) = fake_wechat.calls(TAGGING)
    assert sorted(tagging["body"]["openid_list"]) == list(BARBERS)
    got = fake_wechat.received()
    assert got["oVolBarber01"] == got["oVolBarber02"] == ["理发队周六集合\n<p>理发队周六集合</p>"]
    assert got["robot:ROBOT-HAIRCUT"] == ["理发队周六集合"]  # and the team's group chat
    assert fake_wechat.refused() == []
    p = progress(services, bid)
    assert (p.sent, p.pending, p.via) == (2, 0, {"mass": 2})
    assert counted(services) == {"oVolBarber01": 1, "oVolBarber02": 1}  # the tag's members, nobody else
    with pytest.raises(broadcasts.BroadcastError, match="订阅号每天只能群发一次"):  # it was the day's 群发
        send(services, "all-subscribers", "另一条")


def test_the_tag_follows_joins_and_leaves_of_the_team(subscription: None, services: Any, clock: FakeClock,
                                                      fake_wechat: FakeWeChatServer) -> None:
    send(services, "team:haircut", "第一次")
    OutboxSender(services).drain()
    tag_id = the_tag(services, "team:haircut").tag_id
    assert tag_id is not None and tagged(fake_wechat, tag_id) == set(BARBERS)
    with transaction(services.sessions) as s:
        team = s.execute(select(Team).where(Team.code == "haircut")).scalar_one()
        vol = dict(s.execute(select(User.openid, User.volunteer_id).where(User.volunteer_id.is_not(None))).all())
        leave_team(s, hub_id=1, volunteer_id=vol["oVolBarber02"], team=team)
        join_team(s, hub_id=1, volunteer_id=vol["oVolRepair01"], team=team, now=clock.now())
    clock.advance(days=1)
    send(services, "team:haircut", "第二次")
    OutboxSender(services).drain()
    assert tagged(fake_wechat, tag_id) == {"oVolBarber01", "oVolRepair01"}
    assert [c["body"]["openid_list"] for c in ok(fake_wechat, UNTAGGING)] == [["oVolBarber02"]]
    assert [c["body"]["openid_list"] for c in ok(fake_wechat, TAGGING)][-1] == ["oVolRepair01"]
    assert len(fake_wechat.calls("/cgi-bin/tags/create")) == 1  # the same tag, kept
    got = fake_wechat.received()
    assert [len(got[o]) for o in ("oVolBarber01", "oVolBarber02", "oVolRepair01")] == [2, 1, 1]
    assert counted(services) == {"oVolBarber01": 2, "oVolBarber02": 1, "oVolRepair01": 1}
    assert fake_wechat.refused() == []


def test_everyone_on_a_subscription_account_goes_by_a_tag_without_those_who_opted_out(
        subscription: None, services: Any, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    bid, queued, _ = send(services, "all-subscribers", "本周六雷锋一条街活动")
    OutboxSender(services).drain()
    (call,) = fake_wechat.calls(SENDALL)
    assert call["body"]["filter"]["is_to_all"] is False  # "everyone" would reach oRes04, who opted out
    got = fake_wechat.received()
    assert "oRes04" not in got and "oRes05" not in got and progress(services, bid).sent == queued == 9
    clock.advance(days=1)
    send(services, "all-subscribers", "下周六也有活动")
    OutboxSender(services).drain()
    assert len(fake_wechat.calls(TAGGING)) == 1  # nothing changed: no tagging call the second time
    assert len(ok(fake_wechat, SENDALL)) == 2 and fake_wechat.refused() == []


def test_one_person_on_a_service_account_goes_by_tag_as_a_list_needs_two(people: dict[str, int], services: Any,
                                                                         clock: FakeClock,
                                                                         fake_wechat: FakeWeChatServer) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:
        s.add(Order(hub_id=1, state="closed", service_code="repair", ordered_by_user_id=people["oRes03"],
                    address="阳光小区1栋", time_kind="asap", created_at=now, updated_at=now))
    bid, queued, _ = send(services, "community:阳光小区", "阳光小区周日停水")
    OutboxSender(services).drain()
    assert queued == 1 and len(ok(fake_wechat, SENDALL)) == 1 and fake_wechat.calls(LIST) == []
    assert fake_wechat.calls("/cgi-bin/message/custom/send") == []  # oRes03 wrote 3 days ago: it would fail
    assert fake_wechat.received("oRes03")["oRes03"] == ["阳光小区周日停水\n<p>阳光小区周日停水</p>"]
    send(services, "community:幸福小区", "幸福小区周日停水")  # two people: by openid list, no tag
    OutboxSender(services).drain()
    assert len(ok(fake_wechat, LIST)) == 1 and len(fake_wechat.calls("/cgi-bin/tags/create")) == 1
    assert fake_wechat.refused() == [] and progress(services, bid).sent == 1


def test_the_hundred_tag_limit_is_told_to_staff_in_words(subscription: None, services: Any, clock: FakeClock,
                                                         fake_wechat: FakeWeChatServer) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:  # the bot already keeps 100 tags on the account
        s.add_all([WeChatTag(hub_id=1, segment=f"community:小区{i}", name=f"小区{i}#{i}", tag_id=200 + i,
                             created_at=now) for i in range(100)])
    with pytest.raises(wechat_tags.TagLimitError, match="最多只能建 100 个标签") as refused:
        send(services, "team:haircut", "理发队周六集合")
    assert "「队伍 爱心理发队」" in str(refused.value) and "删掉不用的标签" in str(refused.value)
    send(services, "community:小区7", "小区7通知")  # a segment that has its tag needs no room
    with transaction(services.sessions) as s:
        s.execute(WeChatTag.__table__.delete())
    clock.advance(days=1)
    fake_wechat.state.tag_names.update({300 + i: f"手工标签{i}" for i in range(100)})  # staff made 100 by hand
    bid, queued, _ = send(services, "team:haircut", "理发队周六集合")
    OutboxSender(services).drain()
    p = progress(services, bid)
    assert (p.sent, p.unreached) == (0, queued)  # shown to staff as not delivered, with the reason
    with services.sessions() as s:
        row = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "mass")
                        .order_by(OutboxMessage.id.desc())).scalars().first()
        assert row is not None and row.status == "undelivered" and row.payload["reasons"] == [wechat_tags.TAG_LIMIT]
    assert "公众号的标签已满" in REASON_WORDS[wechat_tags.TAG_LIMIT]
    assert fake_wechat.calls(SENDALL) == [] and counted(services) == {}
    del fake_wechat.state.tag_names[300]  # staff delete one: the same day's 群发 may go, as none went
    send(services, "team:haircut", "理发队周六集合", force=True)
    OutboxSender(services).drain()
    assert len(ok(fake_wechat, SENDALL)) == 1


def test_a_follower_with_twenty_tags_is_skipped_and_not_counted(subscription: None, services: Any,
                                                                fake_wechat: FakeWeChatServer) -> None:
    fake_wechat.state.people["oVolBarber01"].tags.update(range(500, 520))  # staff tagged them 20 times by hand
    bid, _, _ = send(services, "team:haircut", "理发队周六集合")
    OutboxSender(services).drain()
    assert [c["result"]["errcode"] for c in fake_wechat.calls(TAGGING)] == [45059, 45059, 0]  # then one by one
    p = progress(services, bid)
    assert (p.sent, p.skipped_why) == (1, {wechat_tags.TOO_MANY_TAGS: 1})
    assert "标签已满" in p.line() and counted(services) == {"oVolBarber02": 1}
    assert "oVolBarber01" not in fake_wechat.received()


def test_a_tag_created_by_a_try_that_died_is_adopted(subscription: None, services: Any,
                                                     fake_wechat: FakeWeChatServer) -> None:
    bid, _, _ = send(services, "team:haircut", "理发队周六集合")
    name = the_tag(services, "team:haircut").name
    fake_wechat.state.tag_names[777] = name  # WeChat made it, and the worker died before recording the id
    OutboxSender(services).drain()
    assert the_tag(services, "team:haircut").tag_id == 777 and progress(services, bid).sent == 2


def test_tag_names_fit_thirty_bytes_and_plans_go_fifty_at_a_time() -> None:
    name = wechat_tags.tag_name("队伍 " + "很长的名字" * 5, 12345)
    assert name.endswith("#12345") and len(name.encode("utf-8")) <= wechat_tags.NAME_BYTES
    adds, removes = wechat_tags.plan({"a", "b"}, {f"o{i:03}" for i in range(120)} | {"a"})
    assert [len(b) for b in adds] == [50, 50, 20] and removes == [["b"]]
    assert wechat_tags.plan(["x"], ["x"]) == ([], [])
    assert broadcasts.by_tag(subscriptions.SUBSCRIPTION, 5000) and broadcasts.by_tag(subscriptions.SERVICE, 1)
    assert not broadcasts.by_tag(subscriptions.SERVICE, 2)
    assert broadcasts.channel_of("team:x", subscriptions.SUBSCRIPTION) == broadcasts.MASS
    assert broadcasts.channel_of("team:x") == broadcasts.DIRECT


def test_a_team_announcement_by_tag_on_both_databases(any_db_url: str, clock: FakeClock,
                                                      fake_wechat: FakeWeChatServer) -> None:
    """The tag's row (made once, under a savepoint), its id and use, the skips and counts, on SQLite and PostgreSQL."""
    from bot.devtools.seed import seed_demo_hub
    from tests.conftest import make_services

    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, clock.now())
            subscriptions.set_account_kind(s, 1, subscriptions.SUBSCRIPTION, clock.now())
        fake_wechat.rules.account = "subscription"
        fake_wechat.adopt_users(svc.sessions)
        fake_wechat.state.people["oVolBarber02"].tags.update(range(500, 520))
        bid, queued, _ = send(svc, "team:haircut", "理发队周六集合")
        OutboxSender(svc).drain()
        p = progress(svc, bid)
        assert (queued, p.sent, p.skipped_why) == (2, 1, {wechat_tags.TOO_MANY_TAGS: 1})
        assert counted(svc) == {"oVolBarber01": 1} and len(ok(fake_wechat, SENDALL)) == 1
        tag = the_tag(svc, "team:haircut")
        assert tag.tag_id is not None and tag.used_at is not None
        with svc.sessions() as s:
            assert wechat_tags.tag_for(s, 1, "team:haircut", clock.now()).id == tag.id  # found, not made again
    finally:
        svc.close()
