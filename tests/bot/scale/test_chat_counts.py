"""Statements per chat message of an order's life through the webhook (issue 19's realistic mix): the sentence to
the confirmation, confirm "1", the volunteer's 接单 and 完成, the resident's rating. Counted with a SQLAlchemy
before_cursor_execute listener plus the statements storage.hot runs straight on the cursor. No action runs in a
savepoint of its own unless it refuses; a refused action leaves nothing of its work behind.

Before this file's changes (SQLite, this scenario) confirm was 13, 接单 23, 完成 17 and the rating 25: a
SAVEPOINT and RELEASE around every action, the named order read up to three times, the volunteer's membership twice,
the hub's settings once per domain call, the volunteer's user row through their membership in two statements."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

import bot.inbox.actions.registry
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.simulator import Account
from bot.dialogue.nlu import load_understanding
from bot.outbox import enqueue
from bot.serviceloop import orders
from bot.services import Services
from storage.db import transaction
from storage.models import Conversation, Membership, Order, OutboxMessage, ProcessedMessage, Team, User, Volunteer
from tests.bot.scale.seeding import Counter, counting

# The most statements each message may send (the same on SQLite and PostgreSQL). The volunteer's 接单 here is
# their first message (their conversation row is created: one INSERT) and finds them fit through `candidates`
# (the order was not dispatched yet: two statements). Then 11, 17, 13 and 20: the sender's row is read with what
# the step needs of it (their open orders; their membership, volunteer row and open tasks), the order by its ref
# with its orderer's openid (told and asked to rate), the rating and its close are one UPDATE and one INSERT of
# both events, the rated volunteer's membership and openid are read once and their hours in one statement.
# CONFIRM 10 -> 9: the new order's 单号 is drawn with its width's count in one statement (storage.orderrefs).
# Then one fewer each: the hub's settings come as a column of the order's read by ref (of the sender's row, confirm).
# COMPLETE 10 -> 9: the rater's conversation (ask_rating) is read with the volunteer's membership
# (storage.conversations' `known`), not on its own. RATE 13 -> 12: the rated volunteer's membership and openid come
# with the order by its ref (records.find_by_ref's with_volunteer). ACCEPT 13 -> 12 (11 -> 10 sent), COMPLETE 9 -> 8:
# the order they name comes with the sender's row (records.by_ref_join), and 完成's rater's conversation with it.
# CONFIRM 8 -> 7: the first round of the new order's 单号 comes with the sender's row (storage.orderrefs.OneRound).
CONFIRM, ACCEPT, COMPLETE, RATE = 7, 12, 8, 12
# A new resident's first message (the sentence, to the confirmation): the read comes with the hub's facts (no second
# read), and on PostgreSQL the user, their conversation and the dedupe row are one statement in autocommit; SQLite
# writes the three rows in a transaction. Before: 5 on both.
SENTENCE_MOST = {"postgresql": 2, "sqlite": 4}
SENTENCE = "尽快来给我理个发，幸福小区3栋2单元501，电话13812345678"


def counted(svc: Services) -> Any:
    """The statements the app sends, storage.hot's included (seeding.counting)."""
    return counting(svc.engine)


def _volunteers(svc: Services, n: int) -> list[str]:
    now = svc.clock.now()
    with transaction(svc.sessions) as s:
        codes = [service.code for service in load_understanding(None).catalogue]
        team = Team(hub_id=1, code="t", name="服务队", services=codes, created_at=now)
        s.add(team)
        openids = []
        for i in range(n):
            vol = Volunteer(name=f"志愿者{i}", phone=f"1390000000{i}", skills=[], availability=[], created_at=now)
            s.add(vol)
            s.flush()
            user = User(hub_id=1, openid=f"oVol{i}", roles=["volunteer"], subscribed=True, volunteer_id=vol.id,
                        created_at=now)
            s.add(user)
            s.flush()
            s.add(Membership(hub_id=1, volunteer_id=vol.id, user_id=user.id, team_id=team.id, status="active",
                             created_at=now, updated_at=now))
            openids.append(user.openid)
    return openids


def _sent(found: Counter, needle: str) -> list[str]:
    """The statements containing `needle`, whitespace as one space."""
    return [flat for flat in (" ".join(sql.split()) for sql, _ in found.statements) if needle in flat]


class Chat:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.client = create_app(services=svc).test_client()
        self.acct = Account(token="testtoken", appid="wxtestappid0001")
        self.seq = 0

    def say(self, openid: str, text: str) -> str:
        self.seq += 1
        req = self.acct.text(openid, text, now=int(self.svc.clock.now().timestamp()), msg_id=str(self.seq))
        resp = self.client.post("/wechat", query_string=req.params, data=req.body)
        assert resp.status_code == 200
        return str(self.acct.read(resp.data)["Content"])  # type: ignore[index]


def _order_placed(chat: Chat, resident: str) -> int:
    with counted(chat.svc) as sentence:
        assert "请核对" in chat.say(resident, SENTENCE)
    # (the app's first message also reads the hub's account, once: not the message's cost)
    own = [sql for sql, _ in sentence.statements if not sql.lstrip().startswith("SELECT hubs.id")]
    assert len(own) <= SENTENCE_MOST[chat.svc.engine.dialect.name], own
    with counted(chat.svc) as confirm:
        reply = chat.say(resident, "1")
    m = re.search(r"订单(\d+)已提交", reply)
    assert m is not None, reply
    assert len(confirm) <= CONFIRM and not _sent(confirm, "SAVEPOINT"), confirm.statements
    return int(m.group(1))


def test_an_order_through_the_chat_costs_few_statements_and_no_savepoint(svc: Services, clock: FakeClock) -> None:
    chat = Chat(svc)
    volunteer = _volunteers(svc, 3)[1]
    ref = _order_placed(chat, "oResident")
    steps: dict[str, Counter] = {}
    with counted(svc) as steps["接单"]:
        assert "接单成功" in chat.say(volunteer, f"接单 {ref}")
    clock.advance(hours=2)
    with counted(svc) as steps["完成"]:
        assert "辛苦了" in chat.say(volunteer, f"完成 {ref} 2")
    with counted(svc) as steps["rating"]:
        assert "谢谢您的评价" in chat.say("oResident", "5")
    for step, most in (("接单", ACCEPT), ("完成", COMPLETE), ("rating", RATE)):
        found = steps[step]
        assert len(found) <= most, (step, len(found), [sql[:80] for sql, _ in found.statements])
        assert not _sent(found, "SAVEPOINT"), step
        # the order the message names is read once (by its ref), then found in the session by its id (接单 and 完成
        # read it with the sender's row: records.by_ref_join)
        assert len(_sent(found, "orders.ref = ")) == 1, step  # (with the orderer's openid, joined)
        assert not _sent(found, "FROM orders WHERE orders.id"), step
    assert not _sent(steps["接单"], "FROM volunteers WHERE volunteers.id")  # came with the membership
    for step in ("接单", "完成", "rating"):
        assert len(steps[step].matching("FROM hubs")) <= 1, step  # the hub's rules read once per message
    with svc.sessions() as s:
        order = s.execute(select(Order).where(Order.ref == ref)).scalar_one()
        assert order.state == "closed" and order.rating == 5


def test_a_refused_action_is_written_again_with_savepoints(svc: Services, clock: FakeClock) -> None:
    """The first try runs the action without a savepoint; a refusal rolls the message's whole write back and does it
    again with each action in a savepoint: the refusal is the answer, the message is recorded, nothing of the refused
    action's work is kept."""
    chat = Chat(svc)
    first, second = _volunteers(svc, 2)
    ref = _order_placed(chat, "oResident")
    assert "接单成功" in chat.say(first, f"接单 {ref}")
    with counted(svc) as late:
        reply = chat.say(second, f"接单 {ref}")
    assert "已被接走" in reply, reply
    assert [sql for sql in _sent(late, "SAVEPOINT") if sql.startswith("SAVEPOINT")] == [
        "SAVEPOINT sa_savepoint_1"]  # the second try's, around the action (rolled back to)
    with svc.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedMessage)
                        .where(ProcessedMessage.openid == second)) == 1
        conv = s.execute(select(Conversation).join(User, User.id == Conversation.user_id)
                         .where(User.openid == second)).scalar_one()
        assert conv.state == "IDLE"


def test_a_refusal_after_a_write_leaves_nothing_of_the_action(
        svc: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = Chat(svc)
    volunteer = _volunteers(svc, 1)[0]
    ref = _order_placed(chat, "oResident")
    real_accept = bot.inbox.actions.registry.ACTIONS["accept"]
    tries: list[bool] = []

    def write_then_refuse(ac: Any, data: Any) -> str:
        tries.append(ac.savepoints)
        real_accept(ac, data)  # the whole 接单 written: order, event, the resident's notice
        enqueue(ac.s, hub_id=ac.hub_id, to="oSomeone", text="半截", now=ac.now, idempotency_key="half-done")
        raise orders.OrderError("这次不行。")

    monkeypatch.setitem(bot.inbox.actions.registry.ACTIONS, "accept", write_then_refuse)
    assert chat.say(volunteer, f"接单 {ref}") == "这次不行。"
    assert tries == [False, True]
    with svc.sessions() as s:
        order = s.execute(select(Order).where(Order.ref == ref)).scalar_one()
        assert order.state == "submitted" and order.volunteer_id is None
        assert s.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == "half-done")).first() is None
        assert s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.idempotency_key.like("accepted:%"))) == 0
        processed = s.execute(select(ProcessedMessage).where(ProcessedMessage.openid == volunteer)).scalar_one()
        assert processed.reply == "这次不行。"
