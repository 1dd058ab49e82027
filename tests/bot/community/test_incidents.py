"""An emergency in chat, through the whole webhook: the answer at once, an incident row, alerts first in line."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.community import incidents
from bot.devtools.simulator import message_xml
from bot.outbox import PRIORITY_EMERGENCY
from storage.db import transaction
from storage.models import Hub, OutboxMessage, Team, User
from storage.models_events import Incident
from tests.dialog import Chat


def _rows(services: Any) -> list[OutboxMessage]:
    with services.sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_fall_is_answered_recorded_and_staff_and_the_team_alerted_first(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:  # the emergency team's group chat has a robot
        s.execute(update(Team).where(Team.code == "emergency").values(robot_key="robot-emergency"))
    chat.say("oGranny", "明天上午来帮我理发")  # a digest-like ordinary message waits in the outbox too
    reply = chat.say("oGranny", "我妈摔倒了起不来 快来人")
    assert reply is not None and "120" in reply and "什么时间" not in reply
    with services.sessions() as s:
        [incident] = s.scalars(select(Incident)).all()
        granny = s.scalar(select(User.id).where(User.openid == "oGranny"))
    assert (incident.kind, incident.status, incident.user_id) == ("medical", "open", granny)
    assert incident.text == "我妈摔倒了起不来 快来人"
    alerts = [r for r in _rows(services) if r.priority == PRIORITY_EMERGENCY]
    assert {r.to for r in alerts} >= {"oDemoStaff01", "robot-emergency"}
    assert all("我妈摔倒了起不来" in r.payload["text"] and "leifeng" not in r.payload["text"] for r in alerts)
    got = chat.deliver()
    assert any("紧急情况" in t for t in got["oDemoStaff01"])
    assert any("紧急情况" in t for t in got["robot:robot-emergency"])


def test_a_retried_emergency_message_makes_one_incident(chat: Chat, services: Any, clock: Any) -> None:
    xml = message_xml(to="gh_hub", sender="oGranny", create_time=int(clock.now().timestamp()), msg_type="text",
                      Content="老伴突然晕过去了", MsgId="88001")
    first, again = chat._post(xml, "oGranny"), chat._post(xml, "oGranny")  # WeChat retries with the same MsgId
    assert first == again and first is not None and "120" in first
    with services.sessions() as s:
        assert len(s.scalars(select(Incident)).all()) == 1
        assert len([r for r in s.scalars(select(OutboxMessage)) if r.to == "oDemoStaff01"]) == 1


def test_the_sender_takes_emergency_rows_before_older_ordinary_ones(chat: Chat, services: Any) -> None:
    from bot.worker.sender import OutboxSender

    for i in range(3):
        chat.say(f"oResident{i}", "人工")  # each asks staff for a person: ordinary rows to oDemoStaff01
    chat.say("oNeighbour", "隔壁着火了 好大的烟")
    claimed = OutboxSender(services).claim(limit=1)
    with services.sessions() as s:
        first = s.get(OutboxMessage, claimed[0])
        assert first is not None and first.priority == PRIORITY_EMERGENCY and "火情" in first.payload["text"]


def test_a_hub_may_call_the_emergency_team_out_at_once(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Hub).values(settings={"emergency_callout": True, "hotlines": {"gas": "96777"}}))
    services.hubs.forget()
    reply = chat.say("oGranny", "家里燃气灶有味道 闻着头晕")
    assert reply is not None and "96777" in reply
    texts = [r.payload["text"] for r in _rows(services)]
    assert any(t.startswith("【紧急召集】应急救援队") for t in texts)


def test_staff_mark_an_incident_handled_once(chat: Chat, services: Any, clock: Any) -> None:
    chat.say("oGranny", "有人在撬我家门")
    with transaction(services.sessions) as s:
        [open_one] = incidents.open_incidents(s, 1)
        incidents.mark_handled(s, hub_id=1, incident_id=open_one.id, actor="xiaoli", now=clock.now(), note="已报警")
    with transaction(services.sessions) as s:
        assert incidents.open_incidents(s, 1) == []
        try:
            incidents.mark_handled(s, hub_id=1, incident_id=open_one.id, actor="laowang", now=clock.now())
        except incidents.IncidentError as exc:
            assert "xiaoli" in str(exc)
        else:
            raise AssertionError("handled twice")


def test_the_alert_carries_what_the_resident_just_said_or_says_nothing_is_on_file(chat: Chat, services: Any) -> None:
    """Outside test S01 (2026-12-02): the alert read 「电话：未登记 地址：未登记（请电话询问）」, nothing to call."""
    chat.say("oNoPhone", "老伴晕过去了 叫不醒")  # a WeChat openid only: no phone, no order
    chat.say("oOrdering", "帮我修水管 幸福小区3栋201 电话13912345678")  # the order being made has both
    chat.say("oOrdering", "哎呀我老伴摔了起不来了")
    texts = [r.payload["text"] for r in _rows(services) if r.priority == PRIORITY_EMERGENCY and r.to == "oDemoStaff01"]
    bare = next(t for t in texts if "叫不醒" in t)
    assert "请通过公众号回复联系" in bare and "请电话询问" not in bare
    known = next(t for t in texts if "摔了" in t)
    assert "13912345678" in known and "幸福小区3栋201" in known


def test_what_is_said_right_after_an_emergency_gets_care_not_the_catch_all(chat: Chat, services: Any) -> None:
    """Outside test S01/S05: 「那现在咋办啊」 got 「这个我可能帮不上忙」; 「我儿子也不来看我」 got an order form."""
    chat.say("oGranny", "我想找人来打扫卫生")
    assert "120" in (chat.say("oGranny", "哎呀我老伴摔了起不来了") or "")
    reply = chat.say("oGranny", "那现在咋办啊") or ""
    assert "120" in reply and "值班" in reply and "帮不上忙" not in reply
    more = [r.payload["text"] for r in _rows(services) if r.to == "oDemoStaff01" and "后续" in r.payload["text"]]
    assert len(more) == 1 and "那现在咋办啊" in more[0]  # staff get what was said next, too
    chat.say("oLonely", "活着也没啥意思了 不想活了")
    reply = chat.say("oLonely", "我儿子也不来看我") or ""
    assert "12356" in reply and "什么时间" not in reply


def test_a_false_alarm_called_off_tells_staff_and_leaves_the_incident_for_them(chat: Chat, services: Any) -> None:
    """Outside test round 3: 「没事了 是锅糊了 虚惊一场」 got 「如果还有明火或烟，请马上打 119」 again."""
    assert "119" in (chat.say("oGranny", "厨房冒烟了 好大的烟") or "")
    reply = chat.say("oGranny", "没事了 是锅糊了 虚惊一场") or ""
    assert "没事就好" in reply and "119" not in reply
    with services.sessions() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert incident.status == "open" and "虚惊" in (incident.note or "")  # staff still check and mark it handled
    off = [r for r in _rows(services) if r.to == "oDemoStaff01" and "虚惊" in r.payload["text"]]
    assert len(off) == 1 and off[0].priority == PRIORITY_EMERGENCY and "锅糊了" in off[0].payload["text"]


def test_calling_off_with_no_open_incident_sends_nothing(chat: Chat, services: Any, clock: Any) -> None:
    chat.say("oGranny", "你好")
    with transaction(services.sessions) as s:
        granny = s.scalar(select(User).where(User.openid == "oGranny"))
        assert granny is not None
        assert incidents.called_off(s, hub_id=1, user=granny, text="没事了", now=clock.now()) is None
    assert not [r for r in _rows(services) if r.priority == PRIORITY_EMERGENCY]


def test_the_same_emergency_again_after_staff_marked_it_handled_is_a_new_alert(chat: Chat, services: Any,
                                                                                clock: Any) -> None:
    """A repeat within minutes is a follow-up of the open incident; once staff marked it handled, a follow-up note
    would reach nobody, so the words open a new incident and alert staff again (the resident may be in danger)."""
    assert "120" in (chat.say("oGranny", "老伴胸口疼 喘不上气") or "")
    with transaction(services.sessions) as s:
        [first] = incidents.open_incidents(s, 1)
        incidents.mark_handled(s, hub_id=1, incident_id=first.id, actor="xiaoli", now=clock.now(), note="已回电")
    reply = chat.say("oGranny", "还是喘不上气") or ""
    assert "120" in reply
    with services.sessions() as s:
        both = s.scalars(select(Incident).order_by(Incident.id)).all()
    assert [i.status for i in both] == ["handled", "open"] and both[1].kind == "medical"
    alerts = [r for r in _rows(services) if r.to == "oDemoStaff01" and r.priority == PRIORITY_EMERGENCY]
    assert any("还是喘不上气" in r.payload["text"] and "【紧急情况】" in r.payload["text"] for r in alerts)
