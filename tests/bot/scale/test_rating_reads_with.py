"""What 完成 and the rating read together with other rows (issue 19: fewer statements per message), through the
webhook, on SQLite and PostgreSQL: 完成 reads the rater's conversation with the volunteer's membership and puts
them in the rating only from a chat they are not in the middle of; the rating reads the rated volunteer's
membership and openid with the order by its ref, and still makes an approved volunteer active and tells them."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.services import Services
from storage.db import transaction
from storage.models import Conversation, Membership, OutboxMessage, User
from tests.bot.scale.seeding import counting
from tests.bot.scale.test_chat_counts import Chat, _order_placed, _sent, _volunteers


def _conversation(svc: Services, openid: str) -> tuple[str, dict[str, object]]:
    with svc.sessions() as s:
        row = s.execute(select(Conversation.state, Conversation.slots).join(User, User.id == Conversation.user_id)
                        .where(User.openid == openid)).one()
    return row[0], dict(row[1] or {})


def test_done_and_rated_read_what_they_need_with_other_rows(svc: Services, clock: FakeClock) -> None:
    chat = Chat(svc)
    volunteer = _volunteers(svc, 2)[0]
    with transaction(svc.sessions) as s:  # approved, not yet active: the first rated service makes them active
        s.execute(update(Membership).where(Membership.user_id == select(User.id).where(User.openid == volunteer)
                                           .scalar_subquery()).values(status="approved"))
    ref = _order_placed(chat, "oRateA")
    busy_ref = _order_placed(chat, "oRateB")
    assert "接单成功" in chat.say(volunteer, f"接单 {ref}")
    assert "接单成功" in chat.say(volunteer, f"接单 {busy_ref}")
    clock.advance(hours=2)
    # the second resident is in the middle of a new order when the volunteer reports theirs done
    assert "维修" in chat.say("oRateB", "明儿个晌午来个人帮俺修下水管子 幸福小区5栋101")
    busy_before = _conversation(svc, "oRateB")
    assert busy_before[0] not in ("IDLE", "RATE"), busy_before
    with counting(svc.engine) as done:
        assert "辛苦了" in chat.say(volunteer, f"完成 {ref} 2")
    assert not _sent(done, "FROM conversations WHERE conversations.user_id")  # read with the membership
    state, slots = _conversation(svc, "oRateA")
    assert state == "RATE" and slots.get("rate_order") == ref
    assert "辛苦了" in chat.say(volunteer, f"完成 {busy_ref} 2")
    assert _conversation(svc, "oRateB") == busy_before  # not pulled out of their order
    with counting(svc.engine) as rated:
        assert "谢谢您的评价" in chat.say("oRateA", "5")
    assert not _sent(rated, "FROM memberships LEFT OUTER JOIN users")  # came with the order by its ref
    with svc.sessions() as s:
        status = s.execute(select(Membership.status).join(User, User.id == Membership.user_id)
                           .where(User.openid == volunteer)).scalar_one()
        told = [row.payload for row in s.execute(select(OutboxMessage).where(OutboxMessage.to == volunteer)).scalars()]
    assert status == "active"
    assert any(f"订单{ref}居民评价" in str(payload) for payload in told), told
