"""The outbox sender against the fake WeChat server: windows, fallbacks, retries, two workers."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.outbox import enqueue, undelivered
from bot.services import Services
from bot.worker.sender import OutboxSender
from storage.db import transaction
from storage.models import AccessToken, AuditLog, OutboxMessage, User
from tests.conftest import make_services

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
TOKEN = "/cgi-bin/stable_token"  # the bot asks stable_token (tests/bot/channels/test_tokens.py: the classic call)


def add_user(svc: Services, openid: str, wrote_at: Any, fake: FakeWeChatServer | None = None) -> None:
    """A follower who last wrote at `wrote_at` (None: never): in our users table, and known to WeChat (the fake)."""
    with transaction(svc.sessions) as s:
        s.add(User(hub_id=1, openid=openid, roles=[], subscribed=True, last_inbound_at=wrote_at, phone="13800000000",
                   created_at=svc.clock.now()))
    if fake is not None:
        fake.follower(openid, wrote_at=wrote_at)


def queue(svc: Services, to: str, text: str, n: int = 1, key: str | None = None) -> None:
    with transaction(svc.sessions) as s:
        for i in range(n):
            enqueue(s, hub_id=1, to=to, text=f"{text}{i if n > 1 else ''}", now=svc.clock.now(),
                    idempotency_key=key)


def rows(svc: Services) -> list[OutboxMessage]:
    with svc.sessions() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_inside_window_sends_customer_service(services: Services, fake_wechat: FakeWeChatServer,
                                              clock: FakeClock) -> None:
    add_user(services, "oA", clock.now() - timedelta(hours=1), fake_wechat)
    queue(services, "oA", "您的订单已被接单")
    stats = OutboxSender(services).run_once()
    assert stats.sent == 1
    (call,) = fake_wechat.calls(CUSTOM)
    assert call["body"] == {"touser": "oA", "msgtype": "text", "text": {"content": "您的订单已被接单"}}
    assert rows(services)[0].status == "sent" and rows(services)[0].sent_via == "custom"


def test_outside_window_a_service_notice_goes_as_a_category_template(
        services: Services, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    add_user(services, "oB", clock.now() - timedelta(hours=49), fake_wechat)
    queue(services, "oB", "好消息！您的理发订单12已由志愿者张师傅接单（电话 138****5678），时间：明天15:00。",
          key="accepted:12:3:1")
    OutboxSender(services).run_once()
    assert fake_wechat.calls(CUSTOM) == [] and fake_wechat.refused() == []  # it knew: no call refused
    (call,) = fake_wechat.calls(TEMPLATE)
    body = call["body"]
    assert body["template_id"] == "TPL_NOTICE" and body["client_msg_id"] == f"outbox-{rows(services)[0].id}"
    # the hub's single notice template: 事项 thing1, 状态 phrase2, 时间 time3 (no first/remark, each ≤ 20)
    # (no order 12 in this database: without its 单号 the subject is the text's headline, never the id)
    assert body["data"] == {"thing1": {"value": "好消息"}, "phrase2": {"value": "已接单"},
                            "time3": {"value": "2026年11月23日 10:00"}}
    assert rows(services)[0].sent_via == "template"


def test_outside_window_a_chat_message_is_shown_to_staff_not_sent(services: Services, fake_wechat: FakeWeChatServer,
                                                                   clock: FakeClock) -> None:
    """A template may carry only a notice of a service the user asked for: anything else waits for no one."""
    add_user(services, "oB2", clock.now() - timedelta(hours=49), fake_wechat)
    queue(services, "oB2", "刚才的事情还没办完，已经帮您先取消了。", key="dialogue-expired:1:5")
    assert OutboxSender(services).run_once().undelivered == 1
    assert fake_wechat.calls(CUSTOM) == fake_wechat.calls(TEMPLATE) == []
    (row,) = rows(services)
    assert row.status == "skipped" and row.payload["reasons"] == ["window_closed", "not_a_service_notice"]
    with services.sessions() as s:
        (shown,) = undelivered(s, 1)
    assert (shown.to, shown.call, shown.notice) == ("oB2", False, "chat")


def test_45015_falls_back_to_template(services: Services, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    add_user(services, "oC", clock.now() - timedelta(hours=1), fake_wechat)  # we think we are inside the window
    fake_wechat.fail(CUSTOM, errcode=45015)
    queue(services, "oC", "提醒：您的订单3明天开始", key="appt:3:1800000000:res:1")
    assert OutboxSender(services).run_once().sent == 1
    assert len(fake_wechat.calls(CUSTOM)) == 1
    assert len(fake_wechat.calls(TEMPLATE)) == 1
    assert rows(services)[0].sent_via == "template"
    queue(services, "oC", "又一条", key="appt:4:1800000000:res:1")  # WeChat said the window is closed: we believe it
    OutboxSender(services).run_once()
    assert len(fake_wechat.calls(CUSTOM)) == 1 and len(fake_wechat.calls(TEMPLATE)) == 2


def test_40001_refreshes_token_once_and_retries(services: Services, fake_wechat: FakeWeChatServer,
                                                clock: FakeClock) -> None:
    add_user(services, "oD", clock.now(), fake_wechat)
    queue(services, "oD", "一", n=1)
    sender = OutboxSender(services)
    sender.run_once()
    assert len(fake_wechat.calls(TOKEN)) == 1
    fake_wechat.expire_tokens()  # WeChat invalidated the token (e.g. someone fetched one elsewhere)
    queue(services, "oD", "二")
    assert sender.run_once().sent == 1
    assert len(fake_wechat.calls(TOKEN)) == 2
    statuses = [c["result"]["errcode"] for c in fake_wechat.calls(CUSTOM)]
    assert statuses == [0, 40001, 0]
    with services.sessions() as s:
        assert s.get(AccessToken, "wxtestappid0001").refresh_count == 2  # type: ignore[union-attr]
    assert fake_wechat.refused() == []  # 40001 aside: the token was replaced, nothing else refused


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_a_token_refused_again_after_a_refresh_is_not_retried_for_ever(
        services: Services, fake_wechat: FakeWeChatServer, clock: FakeClock, errcode: int) -> None:
    add_user(services, "oLoop", clock.now(), fake_wechat)
    queue(services, "oLoop", "一")
    fake_wechat.fail(CUSTOM, errcode=errcode, times=10)  # WeChat refuses every token, fresh ones too
    stats = OutboxSender(services).run_once()
    assert stats.sent == 0 and stats.retried == 1
    assert len(fake_wechat.calls(CUSTOM)) == 2  # the send and one retry after one refresh, then stop
    assert len(fake_wechat.calls(TOKEN)) == 2
    (row,) = rows(services)
    assert row.status == "pending" and "40001" in (row.last_error or "")


def test_send_errors_keep_no_credentials(services: Services, fake_wechat: FakeWeChatServer,
                                          clock: FakeClock) -> None:
    """A failed send's error is stored and logged; the URL's query (AppSecret, access token, robot key) is not."""
    add_user(services, "oSecret", clock.now(), fake_wechat)
    queue(services, "oSecret", "一")
    fake_wechat.fail(CUSTOM, http_status=500)
    OutboxSender(services).run_once()
    (row,) = rows(services)
    assert row.status == "pending" and row.last_error == "request failed: HTTP 500"  # was "errcode None: None"


def test_42001_refreshes_token_once_and_retries(services: Services, fake_wechat: FakeWeChatServer,
                                                clock: FakeClock) -> None:
    add_user(services, "oExp", clock.now(), fake_wechat)
    queue(services, "oExp", "一")
    fake_wechat.fail(CUSTOM, errcode=42001)  # access_token expired
    assert OutboxSender(services).run_once().sent == 1
    assert [c["result"]["errcode"] for c in fake_wechat.calls(CUSTOM)] == [42001, 0]
    assert len(fake_wechat.calls(TOKEN)) == 2


def test_token_refreshed_before_expiry(services: Services, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    add_user(services, "oE", clock.now(), fake_wechat)
    sender = OutboxSender(services)
    queue(services, "oE", "a")
    sender.run_once()
    clock.advance(seconds=7200 - 200)  # within the 300 s margin of expiry
    for name in ("oE2", "oE3"):
        add_user(services, name, clock.now(), fake_wechat)
        queue(services, name, "b")
        sender.run_once()
    # stable_token was asked again inside the margin and handed back the same, still valid token: used till its end
    (first, again) = fake_wechat.calls(TOKEN)
    assert first["result"]["access_token"] == again["result"]["access_token"]
    assert again["result"]["expires_in"] == 200
    assert [c["result"]["errcode"] for c in fake_wechat.calls(CUSTOM)] == [0, 0, 0]
    clock.advance(seconds=200)  # expired now: a new one
    add_user(services, "oE4", clock.now(), fake_wechat)
    queue(services, "oE4", "c")
    sender.run_once()
    assert len({c["result"]["access_token"] for c in fake_wechat.calls(TOKEN)}) == 2
    assert [c["result"]["errcode"] for c in fake_wechat.calls(CUSTOM)] == [0, 0, 0, 0]


def test_transient_error_retries_with_backoff_then_dead(services: Services, fake_wechat: FakeWeChatServer,
                                                        clock: FakeClock) -> None:
    add_user(services, "oF", clock.now(), fake_wechat)
    fake_wechat.fail(CUSTOM, http_status=500, times=100)
    queue(services, "oF", "x")
    sender = OutboxSender(services)
    delays = []
    for _ in range(services.config.outbox_max_attempts):
        stats = sender.run_once()
        assert stats.claimed == 1
        row = rows(services)[0]
        if row.status == "pending":
            delays.append((row.next_attempt_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)).seconds)
            assert sender.run_once().claimed == 0  # not due yet
            clock.advance(seconds=delays[-1])
    row = rows(services)[0]
    assert row.status == "dead" and row.attempts == services.config.outbox_max_attempts
    assert "errcode None" in (row.last_error or "") or "500" in (row.last_error or "")
    assert delays == [5, 10, 20, 40, 80]


def test_45047_is_one_persons_count_not_a_pause(services: Services, fake_wechat: FakeWeChatServer,
                                                 clock: FakeClock) -> None:
    """45047 says this person's customer-service count is used up: their notice goes by template, nobody else waits."""
    add_user(services, "oG", clock.now(), fake_wechat)
    add_user(services, "oG2", clock.now(), fake_wechat)
    fake_wechat.fail(CUSTOM, errcode=45047)
    queue(services, "oG", "您的订单9已取消", key="expired:9:1")
    queue(services, "oG2", "x")
    stats = OutboxSender(services).run_once()
    assert (stats.sent, stats.retried) == (2, 0) and stats.via == {"template": 1, "custom": 1}
    assert [c["body"]["touser"] for c in fake_wechat.calls(CUSTOM) if c["result"]["errcode"] == 0] == ["oG2"]


def test_45009_pauses_every_send(services: Services, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    add_user(services, "oG3", clock.now(), fake_wechat)
    fake_wechat.fail(CUSTOM, errcode=45009)  # the API's quota for the account
    queue(services, "oG3", "x")
    sender = OutboxSender(services)
    assert sender.run_once().retried == 1
    clock.advance(seconds=5)
    assert sender.run_once().sent == 1


def test_timeout_is_transient(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat, http_timeout_seconds=0.2)
    add_user(svc, "oH", clock.now(), fake_wechat)
    fake_wechat.fail(CUSTOM, delay=0.6)
    queue(svc, "oH", "x")
    assert OutboxSender(svc).run_once().retried == 1
    assert "Timeout" in (rows(svc)[0].last_error or "") or "timed out" in (rows(svc)[0].last_error or "")
    svc.close()


def test_without_a_template_staff_are_asked_to_phone(db_url: str, clock: FakeClock,
                                                      fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat, wechat_notice_template_id="")
    add_user(svc, "oQuiet", clock.now() - timedelta(days=3), fake_wechat)  # wrote 3 days ago
    queue(svc, "oQuiet", "您的订单5已取消：志愿者临时有事", key="expired:5:1")
    queue(svc, "oNobody", "x", key="accepted:6:1:9")  # not even in our users table
    assert OutboxSender(svc).run_once().undelivered == 2
    assert fake_wechat.refused() == []  # nothing tried that WeChat would refuse
    assert fake_wechat.calls(CUSTOM) == fake_wechat.calls(TEMPLATE) == []
    (asked,) = fake_wechat.calls("/cgi-bin/user/info")  # oNobody never wrote to us: does WeChat know them?
    assert asked["params"]["openid"] == "oNobody" and asked["result"]["subscribe"] == 0
    quiet, nobody = rows(svc)
    assert quiet.status == "undelivered" and quiet.payload["reasons"] == ["window_closed", "no_template"]
    assert "no_template" in (quiet.last_error or "")
    with svc.sessions() as s:
        listed = undelivered(s, 1, calls_only=True)
        assert s.execute(select(AuditLog.action)).scalars().all() == ["outbox_undelivered"] * 2
    assert [(u.to, u.phone, u.call) for u in listed] == [("oNobody", None, True), ("oQuiet", "13800000000", True)]
    assert nobody.payload["reasons"] == ["not_following"]
    svc.close()


def test_idempotency_key_queues_once(services: Services) -> None:
    queue(services, "oI", "broadcast", key="bc:1:oI")
    queue(services, "oI", "broadcast", key="bc:1:oI")
    assert len(rows(services)) == 1


def test_robot_channel(services: Services, fake_wechat: FakeWeChatServer) -> None:
    with transaction(services.sessions) as s:
        enqueue(s, hub_id=1, to="ROBOTKEY1", text="新任务：理发", now=services.clock.now(), channel="wecom_robot")
    assert OutboxSender(services).run_once().sent == 1
    (call,) = fake_wechat.calls("/cgi-bin/webhook/send")
    assert call["params"]["key"] == "ROBOTKEY1"
    assert call["body"]["text"]["content"] == "新任务：理发"


def test_two_workers_send_each_row_once(any_db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    for i in range(60):
        add_user(svc, f"oJ{i}", clock.now(), fake_wechat)
        queue(svc, f"oJ{i}", f"m{i}")
    senders = [OutboxSender(make_services(any_db_url, clock, fake_wechat), owner=f"w{i}") for i in range(2)]
    barrier = threading.Barrier(2)

    def run(sender: OutboxSender) -> None:
        barrier.wait()
        sender.drain()

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = [c["body"]["text"]["content"] for c in fake_wechat.calls(CUSTOM) if c["result"]["errcode"] == 0]
    assert sorted(texts) == sorted(f"m{i}" for i in range(60))
    assert all(r.status == "sent" for r in rows(svc))
    # the token was fetched once, not once per worker
    assert len(fake_wechat.calls(TOKEN)) == 1
    for s in senders:
        s.svc.close()
    svc.close()


def test_crash_between_send_and_mark_is_bounded(services: Services, fake_wechat: FakeWeChatServer,
                                                clock: FakeClock) -> None:
    """A worker dies after WeChat accepted the message but before marking it sent.

    The row stays `sending` until its lease expires; then another worker sends it again: at most one
    duplicate per crash, and never more than outbox_max_attempts sends in all.
    """
    add_user(services, "oK", clock.now(), fake_wechat)
    queue(services, "oK", "只发一次")
    crashing = OutboxSender(services, owner="crasher")

    def crash(*_a: Any, **_k: Any) -> None:
        raise SystemExit("worker killed")

    ids = crashing.claim()
    with services.sessions() as s:
        row = s.get(OutboxMessage, ids[0])
        s.expunge(row)
    crashing.send(row)  # WeChat accepted it ...
    crashing._finish = crash  # type: ignore[method-assign]  # ... and the process died before marking
    other = OutboxSender(services, owner="survivor")
    assert other.run_once().claimed == 0  # the lease protects the row while the first might be alive
    clock.advance(seconds=services.config.outbox_lease_seconds + 1)
    assert other.run_once().sent == 1
    assert len(fake_wechat.calls(CUSTOM)) == 2  # exactly one duplicate
    assert rows(services)[0].status == "sent" and rows(services)[0].attempts == 2
    assert other.run_once().claimed == 0


def test_repeated_crashes_send_a_row_at_most_max_attempts_times(db_url: str, fake_wechat: FakeWeChatServer,
                                                                 clock: FakeClock) -> None:
    svc = make_services(db_url, clock, fake_wechat, outbox_max_attempts=3)
    add_user(svc, "oCrash", clock.now(), fake_wechat)
    queue(svc, "oCrash", "只发一次", key="accepted:1:1:1")  # a notice that may take every slot of the quota
    for attempt in range(5):  # each worker sends it, then dies before marking the row
        worker = OutboxSender(svc, owner=f"crasher-{attempt}")
        for row_id in worker.claim():
            with svc.sessions() as s:
                row = s.get(OutboxMessage, row_id)
                s.expunge(row)
            worker.send(row)
        clock.advance(seconds=svc.config.outbox_lease_seconds + 1)
    assert len(fake_wechat.calls(CUSTOM)) == 3  # the bound: outbox_max_attempts sends in all
    (row,) = rows(svc)
    assert row.status == "dead" and row.attempts == 3 and "outcome unknown" in (row.last_error or "")
    with svc.sessions() as s:
        assert s.execute(select(AuditLog.action)).scalars().all() == ["outbox_dead"]
    assert OutboxSender(svc).run_once().claimed == 0
    svc.close()


def test_concurrent_token_refresh_fetches_once(any_db_url: str, clock: FakeClock,
                                               fake_wechat: FakeWeChatServer) -> None:
    svcs = [make_services(any_db_url, clock, fake_wechat) for _ in range(8)]
    tokens = tokens_at_once(svcs)
    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert len(fake_wechat.calls(TOKEN)) == 1
    for s in svcs:
        s.close()


def tokens_at_once(svcs: list[Services]) -> list[str]:
    """Each service (as if a process of its own) asks for the default hub's access token at the same moment."""
    barrier = threading.Barrier(len(svcs))
    tokens: list[str] = []

    def run(svc: Services) -> None:
        client = svc.client_for(svc.hubs.by_slug(None))
        barrier.wait()
        tokens.append(client.access_token)

    threads = [threading.Thread(target=run, args=(s,)) for s in svcs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tokens


@pytest.mark.parametrize("status", ["sent", "dead", "undelivered", "skipped"])
def test_finished_rows_are_never_claimed_again(services: Services, status: str, clock: FakeClock) -> None:
    queue(services, "oL", "x")
    with transaction(services.sessions) as s:
        for r in s.execute(select(OutboxMessage)).scalars():
            r.status = status
    clock.advance(days=3)
    assert OutboxSender(services).claim() == []


def test_a_failed_token_request_keeps_the_appsecret_out_of_the_row(db_url: str, clock: FakeClock) -> None:
    svc = make_services(db_url, clock, None, wechat_api_base_url="http://127.0.0.1:1",  # nothing listens
                        wechat_secret="s3cr3t-value")
    add_user(svc, "oNoNet", clock.now())
    queue(svc, "oNoNet", "一")
    OutboxSender(svc).run_once()
    (row,) = rows(svc)
    assert row.status == "pending" and "ConnectionError" in (row.last_error or "")
    assert "s3cr3t-value" not in (row.last_error or "") and "/cgi-bin/stable_token" in (row.last_error or "")
    svc.close()


def test_a_thread_replaces_only_the_token_its_own_request_used(services: Services,
                                                                 fake_wechat: FakeWeChatServer) -> None:
    """The outbox sends from several threads through one client. Thread A's request carried T1 and was refused;
    meanwhile thread B already replaced T1 with T2: A must take T2, not throw it away for a third token."""
    client = services.client_for(services.hubs.by_slug(None))
    seen: dict[str, str] = {}
    a_has_token, b_done = threading.Event(), threading.Event()

    def a() -> None:
        seen["a_used"] = client.access_token
        a_has_token.set()
        assert b_done.wait(5)
        seen["a_new"] = client.fetch_access_token()["access_token"]  # A's request was refused (40001)

    def b() -> None:
        seen["b_used"] = client.access_token
        fake_wechat.expire_tokens()  # WeChat refuses the token both requests carried
        seen["b_new"] = client.fetch_access_token()["access_token"]  # B's request was refused first

    thread_a = threading.Thread(target=a)
    thread_a.start()
    assert a_has_token.wait(5)
    thread_b = threading.Thread(target=b)
    thread_b.start()
    thread_b.join(5)
    b_done.set()
    thread_a.join(5)
    assert seen["a_used"] == seen["b_used"] != seen["b_new"] == seen["a_new"]
    assert len(fake_wechat.calls(TOKEN)) == 2
