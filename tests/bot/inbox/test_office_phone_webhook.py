""""社区电话多少" with no office phone configured: said plainly, and a person offered, not imposed (the resident only
wanted a number: no hand-over opens, staff are not called, until they reply 人工)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from storage.models import Handover
from tests.dialog import Chat

R = "oResidentOfficePhone"


def _handovers(services: Any) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(Handover)) or 0


def test_no_office_phone_offers_a_person_without_handing_over(chat: Chat, services: Any) -> None:
    reply = chat.say(R, "社区电话多少") or ""
    assert "还没有登记" in reply and "回复“人工”" in reply and "已为您转接" not in reply, reply
    assert _handovers(services) == 0
    assert not chat.wanted()  # nobody was told
    assert "转接" in (chat.say(R, "人工") or "")
    assert _handovers(services) == 1
