"""Outside tester out10: an emergency from someone with no phone and no address on file. The answer asks where they
are and for a phone (staff cannot find or call them otherwise), and the place they say next goes onto the incident
and to staff at once, instead of "这个我可能帮不上忙"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.devtools.seed import STAFF_OPENID
from storage.models_events import Incident
from tests.dialog import Chat

NEW = "oNoContact01"


def test_no_contact_on_file_asks_where_and_passes_it_on(chat: Chat, services: Any) -> None:
    first = chat.say(NEW, "我老伴摔倒了起不来") or ""
    assert "120" in first and "请马上告诉我您在哪里" in first and "能打通的电话" in first, first
    chat.wanted()
    then = chat.say(NEW, "我家在宝莲社区5栋1单元301") or ""
    assert "转告社区值班人员" in then and "帮不上忙" not in then and "120" in then, then
    told = chat.wanted().get(STAFF_OPENID, [])
    assert any("位置/电话" in t and "宝莲社区5栋1单元301" in t for t in told), told
    with services.sessions() as s:
        (incident,) = s.scalars(select(Incident)).all()
        assert "宝莲社区5栋1单元301" in (incident.note or "")


def test_with_a_phone_and_an_address_on_file_nothing_is_asked(chat: Chat) -> None:
    chat.say(NEW, "明天下午理发 幸福小区1栋1号 13812345678")
    chat.say(NEW, "1")
    reply = chat.say(NEW, "我老伴摔倒了起不来") or ""
    assert "120" in reply and "请马上告诉我" not in reply, reply


def test_only_the_phone_missing_asks_for_the_phone(chat: Chat) -> None:
    reply = chat.say(NEW, "着火了 幸福小区2栋301 快来人") or ""
    assert "119" in reply and "能打通的电话" in reply and "您在哪里" not in reply, reply


def test_the_console_names_an_incident_as_its_alert_did(chat: Chat, services: Any) -> None:
    """Outside tester out10: a scam was 电信诈骗/被骗钱财 in the staff alert and 治安/人身危险 on the console."""
    from bot.community import incidents

    chat.say(NEW, "有个人打电话说我儿子出事了 让我马上转钱 我已经转了两万了")
    told = chat.wanted().get(STAFF_OPENID, [])
    assert any("电信诈骗/被骗钱财" in t for t in told), told
    with services.sessions() as s:
        (row,) = incidents.listing(s, 1)
        assert row.kind == "crime" and row.kind_words == "电信诈骗/被骗钱财"
