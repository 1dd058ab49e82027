"""Emergency call-outs (一呼百应) through the real webhook, and the team robots' limits (rate, length, mentions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.community import callouts
from bot.community.teamchat import post_to_team, team_by_code
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import seed_demo_hub
from bot.outbox import split_bytes, truncate_bytes
from bot.worker.sender import OutboxSender
from storage.db import transaction
from storage.models import OutboxMessage, PointsEntry, Team, TeamMember, Volunteer
from tests.dialog import Chat

ZHANG, WANG, CHEN, LIU = "oVolBarber01", "oVolRepair01", "oVolDoctor01", "oVolCare01"
ROBOT = "ROBOT_EMERGENCY"


@pytest.fixture
def chat(client: Any, account: Any, clock: FakeClock, services: Any, fake_wechat: FakeWeChatServer) -> Chat:
    now = clock.now()
    with transaction(services.sessions) as s:
        seed_demo_hub(s, now)
        team = s.execute(select(Team).where(Team.code == "emergency")).scalar_one()
        team.robot_key = ROBOT
        # the emergency team: four volunteers who also belong to their own everyday teams
        members = set(s.scalars(select(TeamMember.volunteer_id).where(TeamMember.team_id == team.id)))
        for name in ("张师傅", "王师傅", "陈医生", "刘大姐"):
            vol = s.execute(select(Volunteer).where(Volunteer.name == name)).scalar_one()
            if vol.id not in members:
                s.add(TeamMember(hub_id=1, team_id=team.id, volunteer_id=vol.id, joined_at=now))
    services.hubs.forget()
    fake_wechat.adopt_users(services.sessions)  # the sample volunteers follow the account
    return Chat(client, account, clock, services, fake_wechat)


def start(services: Any, bonus: int = 5) -> int:
    with transaction(services.sessions) as s:
        co, n = callouts.start(s, hub_id=1, team_code="emergency", message="河堤出现险情，急需支援",
                               place="东河闸口", now=services.clock.now(), bonus=bonus)
        assert n == 4
        return co.id


def status(services: Any, cid: int) -> callouts.Status:
    with services.sessions() as s:
        return callouts.status(s, 1, cid)


def test_callout_reaches_everyone_and_counts_answers_live(chat: Chat, services: Any, clock: FakeClock) -> None:
    cid = start(services)
    got = chat.deliver()
    for who in (ZHANG, WANG, CHEN, LIU):
        assert "紧急召集" in got[who][0] and "东河闸口" in got[who][0]
    (robot,) = got["robot:" + ROBOT]
    assert "紧急召集" in robot
    call = chat.fake.calls("/cgi-bin/webhook/send")[-1]
    assert sorted(call["body"]["text"]["mentioned_mobile_list"]) == ["13900000001", "13900000003", "13900000004",
                                                                     "13900000005"]
    assert [n for n, _, _ in status(services, cid).answered] == []
    assert "目前已有 1 人响应" in (chat.say(ZHANG, "到") or "")
    clock.advance(seconds=30)
    assert "目前已有 2 人响应" in (chat.say(WANG, "1") or "")  # "1" answers while the call-out waits for him
    clock.advance(seconds=30)
    assert "目前已有 3 人响应" in (chat.say(CHEN, "收到！") or "")
    assert "目前已有 3 人响应" in (chat.say(ZHANG, "收到") or "")  # answering twice counts once
    st = status(services, cid)
    assert [n for n, _, _ in st.answered] == ["张师傅", "王师傅", "陈医生"] and st.missing == ["刘大姐"]
    assert [a for _, _, a in st.answered] == ["到", "1", "收到"]
    with services.sessions() as s:
        entries = list(s.execute(select(PointsEntry).where(PointsEntry.reason.like("响应紧急召集%"))).scalars())
    assert sorted(e.points for e in entries) == [5, 5, 5]  # one bonus each, never twice
    # after the answer "1" is menu choice 1 again for Wang
    assert "什么服务" in (chat.say(WANG, "1") or "")


def test_one_is_only_an_answer_while_a_callout_waits(chat: Chat, services: Any) -> None:
    assert "什么服务" in (chat.say("oResident0001", "1") or "")  # a resident: menu 1 (ordering), as always
    chat.say("oResident0001", "取消")
    assert "没有需要您响应" not in (chat.say("oResident0001", "收到") or "没有需要您响应")  # kind, no crash
    assert "现在没有需要您响应的紧急召集" in (chat.say(LIU, "到") or "")


def test_answers_after_close_are_thanked_not_counted(chat: Chat, services: Any, clock: FakeClock) -> None:
    cid = start(services, bonus=0)
    chat.say(ZHANG, "到")
    with transaction(services.sessions) as s:
        callouts.close(s, 1, cid, clock.now())
    assert "什么服务" in (chat.say(WANG, "1") or "")  # closing cleared the pending answer
    assert "已经结束" in (chat.say(CHEN, "到") or "")
    st = status(services, cid)
    assert len(st.answered) == 1 and st.callout.status == "closed"
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PointsEntry)) == 0  # bonus 0: no entries
    with pytest.raises(callouts.CalloutError), transaction(services.sessions) as s:
        callouts.close(s, 1, cid, clock.now())


def test_a_team_without_members_cannot_be_called(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        seed_demo_hub(s, clock.now())
    with pytest.raises(callouts.CalloutError, match="没有在岗成员"), transaction(services.sessions) as s:
        callouts.start(s, hub_id=1, team_code="legal", message="m", place="p", now=clock.now(), bonus=0)
    with pytest.raises(callouts.CalloutError, match="没有代码"), transaction(services.sessions) as s:
        callouts.start(s, hub_id=1, team_code="nope", message="m", place="p", now=clock.now(), bonus=0)


# -- group robots --------------------------------------------------------------------------------------


def robot_sends(fake: FakeWeChatServer) -> list[dict[str, Any]]:
    return [c for c in fake.calls("/cgi-bin/webhook/send") if c["result"].get("errcode") == 0]


def emergency_notices(services: Any, clock: FakeClock, count: int) -> None:
    """`count` notices ("通知 0", "通知 1", ...) queued at once for the emergency team's group robot."""
    with transaction(services.sessions) as s:
        team = team_by_code(s, 1, "emergency")
        assert team is not None
        for i in range(count):
            post_to_team(s, team, f"通知 {i}", now=clock.now(), key=f"n{i}")


def test_robot_stays_under_twenty_a_minute(chat: Chat, services: Any, clock: FakeClock) -> None:
    emergency_notices(services, clock, 25)
    sender = OutboxSender(services)
    sender.drain()
    assert len(robot_sends(chat.fake)) == 20
    with services.sessions() as s:
        held = list(s.execute(select(OutboxMessage).where(OutboxMessage.status == "pending")).scalars())
    assert len(held) == 5 and all(r.attempts == 0 for r in held)  # held back, not counted as failed tries
    clock.advance(seconds=30)
    sender.drain()
    assert len(robot_sends(chat.fake)) == 20  # still inside the minute
    clock.advance(seconds=31)
    sender.drain()
    sends = robot_sends(chat.fake)
    assert len(sends) == 25
    assert [c["body"]["text"]["content"] for c in sends] == [f"通知 {i}" for i in range(25)]  # in order
    # a second robot has its own quota
    with transaction(services.sessions) as s:
        other = team_by_code(s, 1, "repair")
        assert other is not None
        other.robot_key = "ROBOT_REPAIR"
        post_to_team(s, other, "维修队通知", now=clock.now(), key="r1")
    sender.drain()
    assert robot_sends(chat.fake)[-1]["params"]["key"] == "ROBOT_REPAIR"


def test_a_restarted_sender_remembers_the_robot_window(chat: Chat, services: Any, clock: FakeClock) -> None:
    emergency_notices(services, clock, 21)
    OutboxSender(services).drain()
    OutboxSender(services).drain()  # a new sender (restart) does not get a fresh quota
    assert len(robot_sends(chat.fake)) == 20


def test_long_robot_text_is_split_under_2048_bytes_with_mentions_on_the_last_part(chat: Chat, services: Any,
                                                                                  clock: FakeClock) -> None:
    lines = [f"第{i}条：" + "志愿者请注意集合时间和地点，带好装备。" * 3 for i in range(40)]
    text = "\n".join(lines)
    assert len(text.encode()) > 2048 * 2
    with transaction(services.sessions) as s:
        team = team_by_code(s, 1, "emergency")
        assert team is not None
        from bot.community.teamchat import roster

        n = post_to_team(s, team, text, now=clock.now(), key="long", mention=roster(s, 1, team.id))
    OutboxSender(services).drain()
    sends = robot_sends(chat.fake)
    assert len(sends) == n >= 3
    contents = [c["body"]["text"]["content"] for c in sends]
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert contents[0].endswith(f"(1/{n})") and contents[-1].endswith(f"({n}/{n})")
    joined = "\n".join(c.rsplit("\n", 1)[0] for c in contents)
    assert joined == text  # nothing lost, split at line ends
    assert [bool(c["body"]["text"]["mentioned_mobile_list"]) for c in sends] == [False] * (n - 1) + [True]


def test_split_and_truncate_never_cut_a_character() -> None:
    one_line = "很长" * 2000
    parts = split_bytes(one_line, 2048)
    assert "".join(parts) == one_line and all(len(p.encode()) <= 2048 for p in parts)
    cut = truncate_bytes("字" * 1000, 100)
    assert len(cut.encode()) <= 100 and cut.endswith("…")
    assert split_bytes("短", 2048) == ["短"]


def test_markdown_to_robot_and_oversized_text_is_truncated_as_a_last_resort(chat: Chat, services: Any,
                                                                             clock: FakeClock) -> None:
    from bot.outbox import enqueue

    with transaction(services.sessions) as s:
        enqueue(s, hub_id=1, to=ROBOT, text="**集合** <font color=\"warning\">东河闸口</font>", now=clock.now(),
                channel="wecom_robot", kind="markdown")
        enqueue(s, hub_id=1, to=ROBOT, text="长" * 1000, now=clock.now(), channel="wecom_robot")  # 3000 bytes
    stats = OutboxSender(services).drain()
    assert stats.sent == 2
    md, long = robot_sends(chat.fake)
    assert md["body"]["msgtype"] == "markdown" and "东河闸口" in md["body"]["markdown"]["content"]
    assert len(long["body"]["text"]["content"].encode()) <= 2048


def test_on_duty_members_by_availability(services: Any, clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    from bot.community.teamchat import Member, on_duty

    tz = ZoneInfo("Asia/Shanghai")
    monday_morning = clock.now()  # 2026-11-23 10:00 in Shanghai is a Monday
    a = Member(1, "甲", None, None, None, ((0, "am"),))
    b = Member(2, "乙", None, None, None, ((0, "pm"), (5, "am")))
    assert on_duty([a, b], monday_morning, tz) == [a]
    assert on_duty([a, b], monday_morning + timedelta(hours=5), tz) == [b]


def test_a_callout_reaches_a_team_silent_for_days_with_no_refused_call(chat: Chat, services: Any,
                                                                        clock: FakeClock) -> None:
    clock.advance(days=3)  # nobody on the team has written since the sample data was made
    start(services)
    got = chat.deliver()
    assert chat.fake.refused() == []
    for who in (ZHANG, WANG, CHEN, LIU):  # by template: a call-out of their own team is a service notice
        assert got[who] == ["应急救援队：河堤出现险情，急需支援 | 紧急集合 | 2026年11月26日 10:00"]
    assert "东河闸口" in got["robot:" + ROBOT][0]  # and the team's group chat has the whole message
