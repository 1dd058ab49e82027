"""Per-person message rate limits through the webhook (bot.inbox.ratelimit): a flood gets its first answers, one
kind note, then silence and no outbox rows; an emergency in the middle is answered and alerted; the person is
answered again once the window has passed; an elderly resident's burst of voice messages is always answered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

import storage.hot
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import STAFF_OPENID, seed_demo_hub
from bot.devtools.simulator import Account, message_xml
from bot.errors import ConfigError
from bot.hubsettings import HubSettings, hub_settings
from bot.inbox import ratelimit
from bot.outbox import PRIORITY_EMERGENCY
from bot.services import Services
from storage.db import transaction
from storage.models import Conversation, ConversationMessage, Hub, OutboxMessage, ProcessedMessage
from storage.models_events import Incident
from tests.conftest import make_services
from tests.dialog import Chat

FLOODER = "oScript0001"
GRANNY = "oGrannyLi01"
PER_MINUTE = HubSettings().messages_per_minute
NOTE = "发得太快"
# what a script sends, over and over
SCRIPT = ("你好", "查询", "1", "在吗", "测试", "我要理发", "菜单", "hello")
# an elderly resident talking to the phone: short voice messages, one after another, in well under a minute
ELDERLY_BURST = ("喂", "喂 有人吗", "有人吗", "我想找人帮忙", "我是三号楼的李阿姨", "我家那个灯不亮了",
                 "厨房的灯", "你们能不能派个人来看看", "我一个人在家 腿脚不方便", "喂 听得到吗")


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Iterator[Services]:
    services = make_services(any_db_url, clock, fake_wechat)
    with transaction(services.sessions) as s:
        seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
    services.hubs.forget()
    yield services
    services.close()


@pytest.fixture
def chat(svc: Services, clock: FakeClock, fake_wechat: FakeWeChatServer) -> Chat:
    account = Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid,
                      aes_key=svc.config.wechat_aes_key)
    return Chat(create_app(services=svc).test_client(), account, clock, svc, fake_wechat)


def _voice(chat: Chat, openid: str, words: str) -> str | None:
    xml = message_xml(to="gh_hub", sender=openid, create_time=int(chat.clock.now().timestamp()), msg_type="voice",
                      MediaId=f"media_{chat.account.next_msg_id()}", Format="amr", Recognition=words,
                      MsgId=chat.account.next_msg_id())
    return chat._post(xml, openid)


def _count(svc: Services, model: Any) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _flood(chat: Chat, n: int, openid: str = FLOODER, texts: tuple[str, ...] = SCRIPT) -> list[str | None]:
    """`n` messages in under a minute (half a second apart)."""
    replies = []
    for i in range(n):
        replies.append(chat.say(openid, texts[i % len(texts)]))
        chat.clock.advance(seconds=0.5)
    return replies


def test_a_flood_gets_its_first_answers_one_kind_note_then_silence(chat: Chat, svc: Services) -> None:
    answered = _flood(chat, PER_MINUTE)
    assert all(answered), answered
    outbox, versions = _count(svc, OutboxMessage), _conversation_version(svc)
    rest = _flood(chat, 100 - PER_MINUTE)
    note, silence = rest[0], rest[1:]
    assert note is not None and NOTE in note and "120" in note and "110" in note  # the hotlines for emergencies
    assert silence == [None] * len(silence)
    assert _count(svc, OutboxMessage) == outbox  # nothing sent later either
    assert _conversation_version(svc) == versions  # the dialogue did not move
    assert _count(svc, ProcessedMessage) == 100  # each counted once, by its dedupe row
    assert FLOODER not in chat.deliver()


def test_a_retry_of_a_silenced_message_is_silent_and_counted_once(chat: Chat, svc: Services) -> None:
    _flood(chat, PER_MINUTE + 3)
    xml = message_xml(to="gh_hub", sender=FLOODER, create_time=int(chat.clock.now().timestamp()), msg_type="text",
                      Content="你好", MsgId="9900001")
    assert chat._post(xml, FLOODER) is None
    assert chat._post(xml, FLOODER) is None  # WeChat retries with the same MsgId
    assert _count(svc, ProcessedMessage) == PER_MINUTE + 4


def test_an_emergency_in_a_flood_is_answered_and_staff_alerted(chat: Chat, svc: Services) -> None:
    _flood(chat, 60)
    before = _count(svc, OutboxMessage)
    reply = chat.say(FLOODER, "我老伴摔倒了 叫不醒 快来人")
    assert reply is not None and "120" in reply and NOTE not in reply
    with svc.sessions() as s:
        assert [i.kind for i in s.scalars(select(Incident))] == ["medical"]
        alerts = s.scalars(select(OutboxMessage).where(OutboxMessage.id > before,
                                                       OutboxMessage.priority == PRIORITY_EMERGENCY)).all()
    assert STAFF_OPENID in {row.to for row in alerts}
    assert chat.say(FLOODER, "你好") is None  # and then the flood is still held back


def test_after_the_window_the_person_is_answered_again(chat: Chat) -> None:
    replies = _flood(chat, 40)
    assert replies.count(None) == 40 - PER_MINUTE - 1
    chat.clock.advance(seconds=61)
    again = chat.say(FLOODER, "刚才不好意思 手机出毛病了 我想预约理发")
    assert again is not None and NOTE not in again


def test_an_hour_of_steady_sending_hits_the_hourly_limit(chat: Chat, svc: Services) -> None:
    with transaction(svc.sessions) as s:  # a hub that allows fewer an hour
        hub = s.scalars(select(Hub)).one()
        hub.settings = {**(hub.settings or {}), "messages_per_minute": 5, "messages_per_hour": 12}
    svc.hubs.forget()
    replies = []
    for i in range(15):  # one every four minutes: never five a minute
        replies.append(chat.say(FLOODER, SCRIPT[i % len(SCRIPT)]))
        chat.clock.advance(minutes=4)
    assert all(replies[:12]) and NOTE in str(replies[12])
    assert replies[13:] == [None, None]
    chat.clock.advance(minutes=57)  # an hour after the last one
    again = chat.say(FLOODER, "你好")
    assert again is not None and NOTE not in again


def test_an_elderly_residents_burst_of_voice_messages_is_answered_every_time(chat: Chat) -> None:
    for words in ELDERLY_BURST:
        reply = _voice(chat, GRANNY, words)
        assert reply is not None and NOTE not in reply, (words, chat.transcript[-1])
        chat.clock.advance(seconds=5)


def test_staff_are_never_limited(chat: Chat) -> None:
    replies = _flood(chat, PER_MINUTE + 10, openid=STAFF_OPENID)
    assert all(r is not None and NOTE not in r for r in replies)


def test_a_flood_while_handed_over_is_kept_for_staff_only_up_to_the_limit(chat: Chat, svc: Services) -> None:
    assert chat.say(FLOODER, "转人工") is not None
    chat.clock.advance(seconds=1)
    replies = _flood(chat, 50, texts=("有人吗", "我等了好久了", "快点回我", "喂喂喂"))
    # kept for staff; the bot says "已经帮您转给工作人员了" once (at most once in ten minutes), then stays quiet
    assert "已经帮您转给工作人员了" in str(replies[0])
    assert replies[1:PER_MINUTE - 1] == [None] * (PER_MINUTE - 2)
    assert NOTE in str(replies[PER_MINUTE - 1])
    with svc.sessions() as s:
        kept = s.scalars(select(ConversationMessage.text).where(ConversationMessage.author == "resident")).all()
    assert len(kept) == PER_MINUTE - 1 + 1  # the messages before the limit, and 转人工 itself
    reply = chat.say(FLOODER, "家里着火了 好大的烟")
    assert reply is not None and "119" in reply  # still emergency first


def test_messages_in_parallel_are_all_counted(chat: Chat, svc: Services) -> None:
    """Messages handled at once may all be answered (they read the same counts), but each is counted: the next
    one after them is held back."""
    _flood(chat, PER_MINUTE - 4)
    at, parallel = int(chat.clock.now().timestamp()), 10  # within the connection pool: none waits for one
    start, replies = threading.Barrier(parallel), []

    def send(i: int) -> None:
        req = chat.account.text(FLOODER, SCRIPT[i % len(SCRIPT)], now=at, msg_id=f"77{i:04d}")
        start.wait()
        resp = chat.client.post("/wechat", query_string=req.params, data=req.body)
        assert resp.status_code == 200
        replies.append(chat.account.read(resp.data))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == parallel
    # the 4 left under the limit are answered whatever the order; at most all 10 (they read at once)
    assert sum(1 for r in replies if r is not None and NOTE not in str(r["Content"])) >= 4
    assert _count(svc, ProcessedMessage) == PER_MINUTE - 4 + parallel
    assert chat.say(FLOODER, "在吗") is None


def _conversation_version(svc: Services) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.sum(Conversation.version))) or 0)


def _statements(svc: Services, monkeypatch: Any) -> list[str]:
    """Every statement sent, the ones storage.hot runs straight on the cursor included."""
    seen: list[str] = []
    event.listen(svc.engine, "before_cursor_execute", lambda _c, _cur, stmt, *_a: seen.append(stmt.split()[0]))
    real_run = storage.hot.Hot.run

    def run(self: Any, conn: Any, params: Any) -> Any:
        seen.append(self.plan(conn.dialect).sql.split()[0])
        return real_run(self, conn, params)

    monkeypatch.setattr(storage.hot.Hot, "run", run)
    return seen


def test_a_silenced_message_costs_one_read_and_one_insert(chat: Chat, svc: Services, monkeypatch: Any) -> None:
    _flood(chat, PER_MINUTE + 1)
    chat.dispatching = False  # the webhook's statements only, not the worker's dispatch pass after it
    seen = _statements(svc, monkeypatch)
    assert chat.say(FLOODER, "你好") is None
    assert seen == ["SELECT", "INSERT"], seen


def test_the_rules() -> None:
    limits = ratelimit.Limits(per_minute=3, per_hour=10)
    verdicts = [ratelimit.verdict(limits, n, n).value for n in range(6)]
    assert verdicts == ["answer", "answer", "answer", "note", "quiet", "quiet"]
    assert ratelimit.verdict(limits, 0, 10) is ratelimit.Verdict.NOTE  # the hour is full, the minute is not
    assert ratelimit.verdict(limits, 1, 11) is ratelimit.Verdict.QUIET
    assert ratelimit.verdict(limits, 3, 10) is ratelimit.Verdict.NOTE  # both at once: one note
    assert ratelimit.verdict(limits, 9, 50, frozenset({"staff"})) is ratelimit.Verdict.ANSWER
    assert not ratelimit.limited_kind("event", "unsubscribe") and ratelimit.limited_kind("event", "click")
    assert "0571-110" in ratelimit.note({"crime": "0571-110"})
    with pytest.raises(ConfigError):
        hub_settings({"messages_per_minute": 30, "messages_per_hour": 10})
