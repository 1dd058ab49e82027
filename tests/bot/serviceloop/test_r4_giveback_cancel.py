"""Outside tester round 4: an order a volunteer gave back is never offered or listed to them again (others still get
it); a resident's cancel tells everyone it was offered to and the team's group chat; 接单 of a cancelled order says
the resident cancelled it; "我的任务" shows the finished tasks of the last 30 days with their points."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from bot.serviceloop import listings
from storage.db import transaction
from storage.models import Hub, Order, OrderOffer, Team, User
from tests.dialog import Chat, verify_dialog

R = "oResident01"
FIRST, SECOND = "oVolBarber01", "oVolBarber02"
NAMES = {"haircut": "义务理发"}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """On both databases: the offers', outbox and points queries added for these run on PostgreSQL too."""
    return any_db_url


def _settings(services: Any, **values: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Hub).where(Hub.id == 1).values(settings=values))
    services.hubs.forget()


def _order(chat: Chat, day: str = "明天下午", n: int = 1) -> None:
    verify_dialog(chat, [(R, f"{day}理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", f"订单#{n}已提交")])


def _volunteer_id(services: Any, openid: str) -> int:
    with services.sessions() as s:
        return int(s.execute(select(User.volunteer_id).where(User.openid == openid)).scalar_one())


def test_a_task_given_back_is_not_offered_or_listed_to_that_volunteer_again(chat: Chat, services: Any) -> None:
    _settings(services, dispatch_first_n=1)  # one barber at a time: the second dispatch round is the telling one
    _order(chat)
    first_vid, second_vid = _volunteer_id(services, FIRST), _volunteer_id(services, SECOND)
    with services.sessions() as s:
        offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == 1)))
    taker, other = (FIRST, SECOND) if first_vid in offered else (SECOND, FIRST)
    taker_vid = first_vid if taker == FIRST else second_vid
    verify_dialog(chat, [(taker, "接单 #1", "接单成功")])
    chat.wanted()
    # after the reply the worker offers it again: to the other barber, not to the one who gave it back
    verify_dialog(chat, [(taker, "退单 #1 临时有事去不了", "已退单")])
    with services.sessions() as s:
        order = s.get(Order, 1)
        assert order is not None and order.state == "dispatched" and order.volunteer_id is None
        rows = {vid: outcome for vid, outcome in s.execute(
            select(OrderOffer.volunteer_id, OrderOffer.outcome).where(OrderOffer.order_id == 1))}
    assert rows[taker_vid] == "returned" and other in (FIRST, SECOND) and len(rows) == 2
    got = chat.wanted()
    assert not any("接单 " in text for text in got.get(taker, [])), got.get(taker)
    assert any("新任务" in text for text in got.get(other, [])), got
    # "有什么任务" and "我的任务": not listed to them, still listed to the other barber
    ref = str(chat.refs("#1"))
    mine = chat.say(taker, "有什么任务") or ""
    assert f"订单{ref}" not in mine, mine
    assert f"订单{ref}" in (chat.say(other, "有什么任务") or "")
    assert f"订单{ref}" not in (chat.say(taker, "我的任务") or "")
    # and the other barber can still take it
    verify_dialog(chat, [(other, "接单 #1", "接单成功")])


def test_a_task_taken_without_an_offer_and_given_back_is_not_listed_to_them_again(chat: Chat, services: Any) -> None:
    _order(chat)
    with transaction(services.sessions) as s:  # nobody was offered it (say staff cleared the round)
        s.execute(OrderOffer.__table__.delete().where(OrderOffer.order_id == 1))
        s.execute(update(Order).where(Order.id == 1).values(state="submitted"))
    chat.dispatching = False
    verify_dialog(chat, [(FIRST, "接单 #1", "接单成功"), (FIRST, "退单 #1 家里有事", "已退单")])
    ref = str(chat.refs("#1"))
    assert f"订单{ref}" not in (chat.say(FIRST, "有什么任务") or "")
    assert f"订单{ref}" in (chat.say(SECOND, "有什么任务") or "")
    chat.dispatch()
    with services.sessions() as s:
        offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == 1,
                                                                       OrderOffer.outcome.is_(None))))
    assert _volunteer_id(services, FIRST) not in offered and _volunteer_id(services, SECOND) in offered


def test_a_cancel_tells_those_offered_and_the_team_group(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Team).where(Team.code == "haircut").values(robot_key="ROBOT-HAIRCUT"))
    _order(chat)
    with services.sessions() as s:
        offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == 1)))
    assert offered
    first = chat.wanted()
    assert any("新任务" in text for text in first.get("robot:ROBOT-HAIRCUT", []))
    verify_dialog(chat, [(R, "取消订单 #1", "已取消")])
    told = chat.wanted()
    ref = str(chat.refs("#1"))
    for openid in (FIRST, SECOND):
        if _volunteer_id(services, openid) in offered:
            assert any(f"订单{ref}已取消" in text and "不用再接" in text for text in told.get(openid, [])), told
    group = told.get("robot:ROBOT-HAIRCUT", [])
    assert len(group) == 1 and f"订单{ref}已取消" in group[0] and group[0].startswith("【爱心理发队】"), group
    # 接单 of the cancelled order: said plainly
    taker = FIRST if _volunteer_id(services, FIRST) in offered else SECOND
    reply = chat.say(taker, "接单 #1") or ""
    assert "居民已经取消" in reply and "接单成功" not in reply, reply
    with services.sessions() as s:
        assert s.get(Order, 1).state == "cancelled"  # type: ignore[union-attr]


def test_a_cancel_after_someone_took_it_tells_only_them(chat: Chat, services: Any) -> None:
    _order(chat)
    with services.sessions() as s:
        offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == 1)))
    taker = FIRST if _volunteer_id(services, FIRST) in offered else SECOND
    verify_dialog(chat, [(taker, "接单 #1", "接单成功")])
    chat.wanted()
    verify_dialog(chat, [(R, "取消订单 #1", "已取消")])
    told = chat.wanted()
    assert any("不用去了" in text for text in told.get(taker, [])), told
    others = [who for who in (FIRST, SECOND) if who != taker]
    assert not any(told.get(who) for who in others), told


def test_done_words_and_my_tasks_with_the_finished_tasks_and_their_points(chat: Chat, services: Any) -> None:
    _order(chat)
    with services.sessions() as s:
        offered = set(s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == 1)))
    taker = FIRST if _volunteer_id(services, FIRST) in offered else SECOND
    verify_dialog(chat, [(taker, "接单 #1", "接单成功")])
    ref = str(chat.refs("#1"))
    assert "进行中的任务" in (chat.say(taker, "我的任务") or "")
    chat.clock.advance(hours=32)  # 明天下午 has begun
    # "完城了" (a typo, no number): the edge reads the one task in progress, its hours are asked
    verify_dialog(chat, [(taker, "完城了", "订单#1"), (taker, "2", "辛苦了")])
    assert "等居民评价" in (chat.say(taker, "我的订单") or "")
    verify_dialog(chat, [(R, "5", "谢谢您的评价")])
    reply = chat.say(taker, "我的订单") or ""
    assert "最近30天做完的任务" in reply and f"订单{ref}" in reply and "积分" in reply, reply
    with services.sessions() as s:
        user = s.execute(select(User).where(User.openid == taker)).scalar_one()
        text = listings.tasks_text(s, 1, user, NAMES, chat.clock.now())
        assert "得了" in text and "服务2小时" in text, text
        later = listings.tasks_text(s, 1, user, NAMES, chat.clock.now().replace(year=chat.clock.now().year + 1))
        assert f"订单{ref}" not in later  # older than 30 days: not shown
