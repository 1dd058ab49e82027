"""The copies of personal text encrypted at rest too (storage.sealed, migration 0022): a dialogue's slots, the outbox
payloads, processed_messages' text and reply and the hand-over transcripts hold no phone or address in their raw
rows, the ORM reads them back, the migration seals a database's plaintext rows (its downgrade opens them), and a new
LEIFENG_SECRET_KEY moves them with the phones and addresses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from bot.admin.stats import UNHEARD_REPLY, voice_counts
from bot.clock import FakeClock
from bot.config import DEV_SECRET_KEY
from bot.outbox import enqueue
from bot.people.idprotect import rotate_secret_key
from bot.services import Services
from storage.conversations import change_conversation
from storage.db import downgrade, make_engine, transaction, upgrade
from storage.errors import SealedDataError
from storage.models import Conversation, ConversationMessage, OutboxMessage, ProcessedMessage, User
from storage.sealed import SEALED_COLUMNS, ContactSealer, seal_engine
from tests.conftest import NOW, database_at, make_services
from tests.dialog import Chat, verify_dialog

PHONE, ADDRESS = "13812345678", "幸福小区3栋2单元501"
DISPATCH = f"新订单：义务理发，地址 {ADDRESS}，联系电话 {PHONE}"
OLD, NEW = "the-old-key-0123456789-abcdefghijk", "the-new-key-9876543210-zyxwvutsrqp"
# (table, column) of every copy; the raw text of each, read with plain SQL (no type conversion)
COPIES = (("conversations", "slots"), ("outbox", "payload"), ("processed_messages", "text"),
          ("processed_messages", "reply"), ("conversation_messages", "text"))


def raw_copies(conn: Connection) -> dict[tuple[str, str], list[str]]:
    return {(t, c): [str(v) for v in conn.execute(text(f"SELECT {c} FROM {t} ORDER BY id")).scalars() if v is not None]
            for t, c in COPIES}


def add_copies(svc: Services, now: Any, user_id: int | None = None) -> int:
    """One of each copy naming the resident's phone and address, written the way the app writes them."""
    with transaction(svc.sessions) as s:
        if user_id is None:
            user = User(hub_id=1, openid="oResident", roles=[], created_at=now)
            s.add(user)
            s.flush()
            user_id = user.id
        change_conversation(s, hub_id=1, user_id=user_id, now=now,
                            edit=lambda state, slots: ("ORDER_CONFIRM", {**slots, "address": ADDRESS, "phone": PHONE}))
        enqueue(s, hub_id=1, to="oVolunteer", text=DISPATCH, now=now)
        s.add_all([ProcessedMessage(hub_id=1, dedupe_key=f"m{user_id}", openid="oResident", msg_type="text",
                                    text=f"理发 {ADDRESS} {PHONE}", reply=f"请核对：{ADDRESS}，{PHONE}",
                                    received_at=now),
                   ConversationMessage(hub_id=1, user_id=user_id, direction="in", author="resident",
                                       text=f"我住{ADDRESS}，电话{PHONE}", at=now)])
    return user_id


def assert_sealed(stored: dict[tuple[str, str], list[str]], key: str) -> None:
    sealer = ContactSealer(key)
    for where, values in stored.items():
        assert values, where
        for value in values:
            assert PHONE not in value and "幸福小区" not in value and "1381234" not in value, (where, value)
            assert sealer.try_open(value) is not None, where


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock)
    yield services
    services.close()


def test_raw_rows_hold_no_phone_nor_address_and_the_orm_reads_them_back(svc: Services, clock: FakeClock) -> None:
    user_id = add_copies(svc, clock.now())
    with svc.engine.connect() as conn:
        stored = raw_copies(conn)
    assert_sealed(stored, DEV_SECRET_KEY)
    assert {where: len(values) for where, values in stored.items()} == dict.fromkeys(COPIES, 1)
    with svc.sessions() as s:
        conv = s.execute(select(Conversation).where(Conversation.user_id == user_id)).scalar_one()
        assert (conv.state, conv.slots) == ("ORDER_CONFIRM", {"address": ADDRESS, "phone": PHONE})
        assert s.execute(select(OutboxMessage.payload)).scalar_one()["text"] == DISPATCH
        assert s.execute(select(ProcessedMessage.text, ProcessedMessage.reply)).one() == (
            f"理发 {ADDRESS} {PHONE}", f"请核对：{ADDRESS}，{PHONE}")
        assert s.execute(select(ConversationMessage.text)).scalar_one() == f"我住{ADDRESS}，电话{PHONE}"
    with transaction(svc.sessions) as s:  # an ORM change is sealed again, under a new token
        conv = s.execute(select(Conversation).where(Conversation.user_id == user_id)).scalar_one()
        conv.slots = {**conv.slots, "address": "阳光花园1栋"}
    with svc.engine.connect() as conn:
        token = conn.execute(text("SELECT slots FROM conversations")).scalar_one()
    assert token != stored["conversations", "slots"][0] and "阳光花园" not in token
    assert json.loads(ContactSealer(DEV_SECRET_KEY).open(token))["address"] == "阳光花园1栋"


def test_the_copies_cannot_be_searched_in_sql_and_an_engine_without_the_key_cannot_read_them(
        svc: Services, clock: FakeClock) -> None:
    add_copies(svc, clock.now())
    with pytest.raises(SealedDataError):
        select(ProcessedMessage).where(ProcessedMessage.reply.contains(UNHEARD_REPLY))
    with pytest.raises(SealedDataError):
        select(ConversationMessage).where(ConversationMessage.text.like("%幸福%"))
    with pytest.raises(SealedDataError):
        select(OutboxMessage).where(OutboxMessage.payload == {"text": DISPATCH})
    select(ProcessedMessage.id).where(ProcessedMessage.text.is_not(None))  # IS NULL stays allowed
    bare = make_engine(svc.engine.url.render_as_string(hide_password=False))
    try:
        with bare.connect() as conn, pytest.raises(Exception, match="no key for phones and addresses"):
            conn.execute(select(Conversation.slots)).all()
    finally:
        bare.dispose()


def test_the_voice_count_reads_the_sealed_replies(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    replies = [f"抱歉，{UNHEARD_REPLY}。您可以再说一遍", None, "好的，已为您登记理发", f"{UNHEARD_REPLY}"]
    with transaction(svc.sessions) as s:
        s.add_all([ProcessedMessage(hub_id=1, dedupe_key=f"v{i}", openid="oResident", msg_type="voice", reply=r,
                                    received_at=now - timedelta(hours=i)) for i, r in enumerate(replies)])
        s.add_all([ProcessedMessage(hub_id=1, dedupe_key="old", openid="oResident", msg_type="voice",
                                    reply=UNHEARD_REPLY, received_at=now - timedelta(days=8)),
                   ProcessedMessage(hub_id=1, dedupe_key="t", openid="oResident", msg_type="text",
                                    reply=UNHEARD_REPLY, received_at=now)])
    with svc.sessions() as s:
        counts = voice_counts(s, 1, now)
    assert (counts.days, counts.total, counts.unheard) == (7, 4, 2)


# -- a whole order, through the webhook -------------------------------------------------------------------------


def test_an_order_through_the_chat_leaves_no_plaintext_copy(chat: Chat, services: Services) -> None:
    resident, phone, address = "oResident01", "13812345678", "幸福小区1栋1号"
    sealer = ContactSealer(DEV_SECRET_KEY)
    stored: dict[tuple[str, str], list[str]] = {}

    def look() -> None:
        with services.engine.connect() as conn:
            for where, values in raw_copies(conn).items():
                stored.setdefault(where, []).extend(values)

    verify_dialog(chat, [(resident, f"明天下午理发 {address} {phone}", "请核对")])
    look()  # the dialogue holds the address and phone it is confirming
    verify_dialog(chat, [(resident, "1", "订单#1已提交"), ("oVolBarber01", "接单 #1", "接单成功")])
    chat.deliver()
    look()  # the volunteer's reply names them; the offers and the resident's news went through the outbox
    opened = {where: [sealer.open(v) for v in values] for where, values in stored.items()}
    # the copies do hold the resident's phone and address (a plaintext copy would be found) ...
    for where in (("conversations", "slots"), ("processed_messages", "text"), ("processed_messages", "reply")):
        assert any(phone in v and address in v for v in opened[where]), where
    assert opened["outbox", "payload"]
    # ... and not one raw value shows them
    for where, values in stored.items():
        for value in values:
            assert phone not in value and "幸福小区" not in value and sealer.try_open(value) is not None, where


# -- the migration ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0021(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_at(request.param, tmp_path, "0021")


def insert_plaintext(engine: Engine, count: int) -> None:
    """Rows as a deployment before 0022 holds them: the copies in plain text (`count` of each)."""
    with engine.begin() as conn:
        for i in range(1, count + 1):
            conn.execute(text("INSERT INTO users (id, hub_id, openid, roles, subscribed, created_at) "
                              "VALUES (:i, 1, :o, '[]', true, CURRENT_TIMESTAMP)"), {"i": i, "o": f"oUser{i}"})
        conn.execute(text("INSERT INTO conversations (id, hub_id, user_id, state, slots, updated_at, version) "
                          "VALUES (:i, 1, :i, 'ORDER_CONFIRM', :s, CURRENT_TIMESTAMP, 0)"),
                     [{"i": i, "s": json.dumps({"address": f"幸福小区{i}栋", "phone": f"138{i:08d}"},
                                               ensure_ascii=False)}
                      for i in range(1, count + 1)])
        conn.execute(text('INSERT INTO outbox (id, hub_id, channel, "to", kind, payload, status, attempts, '
                          "next_attempt_at, created_at, priority) VALUES (:i, 1, 'wechat', 'oVol', 'text', :p, "
                          "'sent', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"),
                     [{"i": i, "p": json.dumps({"text": f"地址 幸福小区{i}栋，电话 138{i:08d}", "order": i},
                                               ensure_ascii=False)} for i in range(1, count + 1)])
        conn.execute(text("INSERT INTO processed_messages (id, hub_id, dedupe_key, openid, msg_type, reply, "
                          "received_at, text) VALUES (:i, 1, :k, 'oUser1', 'text', :r, CURRENT_TIMESTAMP, :t)"),
                     [{"i": i, "k": f"k{i}", "r": f"请核对 幸福小区{i}栋" if i % 2 else None,
                       "t": f"理发 138{i:08d}" if i % 3 else None} for i in range(1, count + 1)])
        conn.execute(text("INSERT INTO conversation_messages (id, hub_id, user_id, direction, author, text, at) "
                          "VALUES (:i, 1, :i, 'in', 'resident', :t, CURRENT_TIMESTAMP)"),
                     [{"i": i, "t": f"我住幸福小区{i}栋"} for i in range(1, count + 1)])


def test_the_migration_seals_plaintext_copies_in_batches_and_its_downgrade_opens_them(url_at_0021: str) -> None:
    url, count = url_at_0021, 1003  # more than two batches of 500
    engine = make_engine(url)
    try:
        insert_plaintext(engine, count)
        with pytest.raises(RuntimeError, match="LEIFENG_SECRET_KEY"):  # copies to seal and no key: nothing moves
            upgrade(url, "0022")
        with engine.connect() as conn:
            assert "幸福小区7栋" in str(conn.execute(text("SELECT slots FROM conversations WHERE id = 7")).scalar_one())
        upgrade(url, "0022", secret_key=DEV_SECRET_KEY)
        upgrade(url, "0022", secret_key=DEV_SECRET_KEY)  # again: nothing left to move
        with engine.connect() as conn:
            stored = raw_copies(conn)
        assert {where: len(values) for where, values in stored.items()} == {
            ("conversations", "slots"): count, ("outbox", "payload"): count,
            ("processed_messages", "text"): count - count // 3, ("processed_messages", "reply"): (count + 1) // 2,
            ("conversation_messages", "text"): count}
        sealer = ContactSealer(DEV_SECRET_KEY)
        for where, values in stored.items():
            assert all("幸福小区" not in v and sealer.try_open(v) is not None for v in values), where
        seal_engine(engine, DEV_SECRET_KEY)  # the ORM reads what the migration sealed
        with engine.connect() as conn:
            assert conn.execute(select(Conversation.slots).where(Conversation.id == 1003)).scalar_one() == {
                "address": "幸福小区1003栋", "phone": "13800001003"}
            assert conn.execute(select(OutboxMessage.payload).where(OutboxMessage.id == 7)).scalar_one() == {
                "text": "地址 幸福小区7栋，电话 13800000007", "order": 7}
            assert conn.execute(select(ProcessedMessage.text, ProcessedMessage.reply)
                                .where(ProcessedMessage.id.in_([5, 6])).order_by(ProcessedMessage.id)).all() == [
                ("理发 13800000005", "请核对 幸福小区5栋"), (None, None)]
            assert conn.execute(select(ConversationMessage.text).where(ConversationMessage.id == 2)).scalar_one() \
                == "我住幸福小区2栋"
        with pytest.raises(RuntimeError, match="LEIFENG_SECRET_KEY"):
            downgrade(url, "0021")
        downgrade(url, "0021", secret_key=DEV_SECRET_KEY)
        with engine.connect() as conn:
            slots = conn.execute(text("SELECT slots FROM conversations WHERE id = 7")).scalar_one()
            payload = conn.execute(text("SELECT payload FROM outbox WHERE id = 7")).scalar_one()
            assert conn.execute(text("SELECT text, reply FROM processed_messages WHERE id = 5")).one() == (
                "理发 13800000005", "请核对 幸福小区5栋")
            assert conn.execute(text("SELECT text FROM conversation_messages WHERE id = 2")).scalar_one() \
                == "我住幸福小区2栋"
        assert (json.loads(slots) if isinstance(slots, str) else slots)["address"] == "幸福小区7栋"
        assert (json.loads(payload) if isinstance(payload, str) else payload)["order"] == 7
    finally:
        engine.dispose()


def test_a_database_without_copies_moves_without_the_key(url_at_0021: str) -> None:
    upgrade(url_at_0021, "0022")  # a new install: nothing to seal, so no key needed (as for 0017)
    downgrade(url_at_0021, "0021")


# -- a new key ----------------------------------------------------------------------------------------------------


@pytest.fixture
def old_svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock, secret_key=OLD)
    yield services
    services.close()


@pytest.fixture
def new_svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock, secret_key=NEW)
    yield services
    services.close()


def test_a_new_key_moves_the_copies_and_a_second_run_keeps_them(old_svc: Services, new_svc: Services,
                                                                clock: FakeClock) -> None:
    assert {(spec.table, name) for spec in SEALED_COLUMNS for name in spec.columns} >= set(COPIES)
    user_id = add_copies(old_svc, clock.now())
    with old_svc.engine.connect() as conn:
        before = raw_copies(conn)
    assert_sealed(before, OLD)
    with transaction(new_svc.sessions) as s:
        done = rotate_secret_key(s, OLD, NEW, clock.now())
    assert (done.contacts, done.contacts_current) == (5, 0)  # slots, payload, text, reply, transcript
    with new_svc.engine.connect() as conn:
        after = raw_copies(conn)
    assert_sealed(after, NEW)
    assert all(ContactSealer(OLD).try_open(v) is None for values in after.values() for v in values)
    with new_svc.sessions() as s:
        slots = s.execute(select(Conversation.slots).where(Conversation.user_id == user_id)).scalar_one()
        assert slots == {"address": ADDRESS, "phone": PHONE}
        assert s.execute(select(OutboxMessage.payload)).scalar_one()["text"] == DISPATCH
        assert s.execute(select(ConversationMessage.text)).scalar_one() == f"我住{ADDRESS}，电话{PHONE}"
    with transaction(new_svc.sessions) as s:
        again = rotate_secret_key(s, OLD, NEW, clock.now())
    assert (again.contacts, again.contacts_current) == (0, 5)


def test_a_copy_under_neither_key_stops_the_rotation(old_svc: Services, new_svc: Services, clock: FakeClock) -> None:
    add_copies(old_svc, clock.now())
    stranger = ContactSealer("a-third-key-0123456789-abcdefghijk")
    with old_svc.engine.begin() as conn:
        conn.execute(text("UPDATE conversation_messages SET text = :t"), {"t": stranger.seal("别的钥匙")})
    with pytest.raises(Exception, match="conversation_messages"), transaction(new_svc.sessions) as s:
        rotate_secret_key(s, OLD, NEW, NOW)
    with old_svc.engine.connect() as conn:  # rolled back: the rest is still under the old key
        assert_sealed({k: v for k, v in raw_copies(conn).items() if k[0] != "conversation_messages"}, OLD)
