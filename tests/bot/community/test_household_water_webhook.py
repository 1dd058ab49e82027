"""Outside tester (w2em), through the whole webhook: a burst pipe is answered with its safety steps and becomes an
urgent repair order with what the resident typed; staff are alerted once; what is said after an emergency does not
alert them again each time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.outbox import PRIORITY_EMERGENCY
from storage.models import Order, OutboxMessage
from storage.models_events import Incident
from tests.dialog import Chat

STAFF = "oDemoStaff01"


def _to_staff(services: Any) -> list[str]:
    with services.sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.to == STAFF,
                                                     OutboxMessage.priority == PRIORITY_EMERGENCY)
                         .order_by(OutboxMessage.id))
        return [str(r.payload["text"]) for r in rows]


def test_a_burst_pipe_becomes_an_urgent_repair_order_and_staff_are_alerted_once(chat: Chat, services: Any) -> None:
    reply = chat.say("oGranny", "水管爆了 越快越好 幸福小区3号楼2单元501 电话13812345678") or ""
    assert "总水阀" in reply and "电闸" in reply and "到高处" not in reply and "回复 1 确认" in reply
    confirmed = chat.say("oGranny", "1") or ""
    assert "您需要什么服务" not in confirmed
    with services.sessions() as s:
        [order] = s.scalars(select(Order)).all()
        [incident] = s.scalars(select(Incident)).all()
    assert (order.service_code, order.time_kind, order.urgent) == ("repair", "asap", True)
    assert order.address == "幸福小区3号楼2单元501" and order.phone == "13812345678"
    assert incident.kind == "water" and incident.status == "open"
    [alert] = _to_staff(services)  # one alert, with what was typed to call and go to
    assert "13812345678" in alert and "幸福小区3号楼2单元501" in alert
    assert "家中水管爆裂" in alert and "水浸/被困" not in alert  # staff read what it is: a plumber is on the way
    chat.say("oGranny", "好的 谢谢")
    assert len(_to_staff(services)) == 1


def test_after_a_flood_thanks_do_not_alert_staff_and_more_about_it_does_once(chat: Chat, services: Any,
                                                                            clock: Any) -> None:
    assert "119" in (chat.say("oGranny", "有人被困 水漫进屋 越来越深") or "")
    assert len(_to_staff(services)) == 1
    thanks = chat.say("oGranny", "好的 谢谢") or ""
    assert "不客气" in thanks and "值班" not in thanks and len(_to_staff(services)) == 1
    worse = chat.say("oGranny", "水越来越深了 咋办") or ""
    assert "转告" in worse and len(_to_staff(services)) == 2 and "后续" in _to_staff(services)[-1]
    clock.advance(minutes=2)
    still = chat.say("oGranny", "还没人来啊") or ""
    assert "119" in still and "转告" not in still and len(_to_staff(services)) == 2
    with services.sessions() as s:
        assert len(s.scalars(select(Incident)).all()) == 1  # one incident, not one per message


def test_the_same_emergency_said_again_is_no_second_incident(chat: Chat, services: Any) -> None:
    chat.say("oGrandpa", "我老伴喘不上气了")
    again = chat.say("oGrandpa", "还是喘不上气") or ""
    assert "120" in again and "转告" in again
    with services.sessions() as s:
        assert len(s.scalars(select(Incident)).all()) == 1
    assert len(_to_staff(services)) == 2  # the alert, and what was said next once


def test_a_burst_pipe_calls_no_team_out_a_flood_still_does(chat: Chat, services: Any) -> None:
    """A hub with call-outs on: a plumber's job (an urgent order) is no 一呼百应; people trapped by water are."""
    from sqlalchemy import update

    from storage.db import transaction
    from storage.models import Hub

    with transaction(services.sessions) as s:
        s.execute(update(Hub).values(settings={"emergency_callout": True}))
    services.hubs.forget()
    chat.say("oGranny", "卫生间水管爆了 到处是水 幸福小区3号楼2单元501")

    def callouts() -> list[str]:
        with services.sessions() as s:
            return [str(r.payload["text"]) for r in s.scalars(select(OutboxMessage))
                    if str(r.payload.get("text", "")).startswith("【紧急召集】")]

    assert callouts() == []
    chat.say("oNeighbour", "楼下发大水了 老人困在家里出不来 水越来越深")
    assert callouts()
