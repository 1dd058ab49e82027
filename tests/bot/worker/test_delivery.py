"""Delivery planned per person against the strict fake WeChat: quotas, priorities, templates, robots, merging, and
what staff are shown when nothing can carry a message. No call WeChat would refuse is made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.outbox import enqueue, undelivered
from bot.serviceloop import orders as service_orders
from bot.worker import jobs
from bot.worker.delivery import set_template
from bot.worker.sender import OutboxSender
from storage.db import transaction
from storage.models import Hub, Order, OutboxMessage, Team
from tests.conftest import make_services
from tests.dialog import Chat, verify_dialog

R = "oResident0001"
B1, B2 = "oVolBarber01", "oVolBarber02"
ORDER = [(R, "明天下午三点来给我老伴理个发，地址幸福小区3栋2单元501", "联系电话"), (R, "13812345678", "请核对"),
         (R, "1", "已提交")]


def rows(services: Any) -> list[OutboxMessage]:
    with services.sessions() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def no_refusals(fake: FakeWeChatServer) -> None:
    assert [(c["path"], c["result"]) for c in fake.refused()] == []


def test_a_volunteer_silent_for_three_days_gets_the_offer_by_template(chat: Chat, fake_wechat: FakeWeChatServer,
                                                                      clock: FakeClock) -> None:
    clock.advance(days=3)  # the sample volunteers last wrote when the hub was seeded
    verify_dialog(chat, ORDER)
    chat.deliver()
    no_refusals(fake_wechat)
    for barber in (B1, B2):
        (offer,) = fake_wechat.received(barber)[barber]
        assert offer.startswith(chat.refs("义务理发任务 订单#1 | 待接单 | 2026年11月27日 15:00")), offer
    assert fake_wechat.custom_sent_to(B1) == 0


def test_without_a_template_the_offer_goes_by_the_team_robot(db_url: str, clock: FakeClock,
                                                             fake_wechat: FakeWeChatServer) -> None:
    from bot.app import create_app
    from bot.devtools.seed import seed_demo_hub
    from tests.conftest import Account

    svc = make_services(db_url, clock, fake_wechat, wechat_notice_template_id="")
    try:
        with transaction(svc.sessions) as s:
            seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
            s.execute(update(Team).where(Team.code == "haircut").values(robot_key="ROBOT-HAIRCUT"))
        fake_wechat.adopt_users(svc.sessions)
        chat = Chat(create_app(services=svc).test_client(),
                    Account(token=svc.config.wechat_token, appid=svc.config.wechat_appid), clock, svc, fake_wechat)
        clock.advance(days=3)
        verify_dialog(chat, ORDER)
        got = chat.deliver()
        no_refusals(fake_wechat)
        robot = got["robot:ROBOT-HAIRCUT"]
        (team_post,) = [t for t in robot if t.startswith("【")]
        assert chat.refs("新任务：义务理发（订单#1）") in team_post and "幸福小区附近" in team_post
        # each barber is pinged by phone, with no detail but what to do (the whole group reads it)
        nudge = chat.refs("：义务理发任务 订单#1（待接单）。回复“接单 #1”即可接单")
        assert sorted(t for t in robot if t != team_post) == ["张师傅" + nudge, "李阿姨" + nudge]
        mentions = [c["body"]["text"]["mentioned_mobile_list"] for c in fake_wechat.calls("/cgi-bin/webhook/send")]
        assert sorted(m for m in mentions if m) == [["13900000001"], ["13900000002"]]
        assert B1 not in got and B2 not in got
    finally:
        svc.close()


def test_a_resident_who_does_not_write_again_learns_it_all_in_five_messages(
        chat: Chat, services: Any, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    verify_dialog(chat, ORDER)  # her last message; from here on she only listens
    chat.deliver()
    chat.say(B1, "接单 #1")
    chat.deliver()
    chat.say(B1, "退单 #1 临时有事")  # given back: she hears it is being rearranged
    chat.deliver()
    chat.say(B2, "接单 #1")  # accepted again
    chat.deliver()
    with services.sessions() as s:
        start = s.scalars(select(Order.start_at)).one()
    clock.set(start.replace(tzinfo=clock.now().tzinfo) - timedelta(minutes=59))  # the appointment reminder is due
    jobs.reminders(services)
    chat.deliver()
    clock.advance(hours=2)
    chat.say(B2, "完成 #1 1.5")  # completed: please rate
    chat.deliver()
    clock.advance(hours=25)
    jobs.sweep_orders(services)  # a day later the sweep reminds her to rate
    chat.deliver()
    no_refusals(fake_wechat)
    assert fake_wechat.custom_sent_to(R) <= 5
    told = "\n".join(fake_wechat.received(R)[R])
    for news in ("重新安排", "已由志愿者李阿姨接单", "将于", "请给服务打分"):
        assert news in told, news
    # the rating reminder came after her 48 hours: by template
    assert chat.refs("请评价义务理发服务 订单#1 | 待评价") in told


def test_a_reply_three_days_later_goes_by_template_and_she_can_still_rate(
        chat: Chat, services: Any, fake_wechat: FakeWeChatServer, clock: FakeClock) -> None:
    verify_dialog(chat, ORDER)
    chat.say(B1, "接单 #1")
    chat.deliver()
    clock.advance(days=3)
    chat.say(B1, "完成 #1 2")
    chat.deliver()
    no_refusals(fake_wechat)
    assert fake_wechat.received(R)[R][-1].startswith(chat.refs("请评价义务理发服务 订单#1 | 待评价"))
    assert "谢谢您的评价" in (chat.say(R, "5") or "")  # the template told her; her answer rates the order


def test_the_last_slots_are_kept_for_what_matters(services: Any, fake_wechat: FakeWeChatServer,
                                                  clock: FakeClock) -> None:
    from tests.bot.worker.test_outbox import add_user

    add_user(services, "oP", clock.now(), fake_wechat)
    for i in range(3):  # three ordinary notices first, one at a time: 5 -> 2 left
        with transaction(services.sessions) as s:
            enqueue(s, hub_id=1, to="oP", text=f"您的订单{i + 1}已取消", now=clock.now())
        OutboxSender(services).drain()
    clock.advance(minutes=1)
    with transaction(services.sessions) as s:
        enqueue(s, hub_id=1, to="oP", text="刚才的事情还没办完，已经帮您先取消了。", now=clock.now(),
                idempotency_key="dialogue-expired:1:1")
    OutboxSender(services).drain()
    clock.advance(minutes=1)
    with transaction(services.sessions) as s:
        enqueue(s, hub_id=1, to="oP", text="志愿者已完成理发（订单7）。请给服务打分", now=clock.now(),
                idempotency_key="rate-ask:7:0")
        enqueue(s, hub_id=1, to="oP", text="好消息！订单8已接单", now=clock.now(), idempotency_key="accepted:8:1:1")
    OutboxSender(services).drain()
    no_refusals(fake_wechat)
    *_, expired, rate, accepted = rows(services)
    assert expired.status == "skipped" and expired.payload["reasons"] == ["quota_kept", "not_a_service_notice"]
    assert (rate.sent_via, accepted.sent_via) == ("custom", "merged")  # the two share the last two slots' first
    assert fake_wechat.custom_sent_to("oP") == 4


def test_messages_due_at_once_to_one_person_share_one_message(services: Any, fake_wechat: FakeWeChatServer,
                                                               clock: FakeClock) -> None:
    from tests.bot.worker.test_outbox import add_user

    add_user(services, "oM", clock.now(), fake_wechat)
    with transaction(services.sessions) as s:
        for text, key in (("订单3已改派给其他志愿者", None), ("您的订单4已取消", None), ("积分到账 30 分", "star:1:2")):
            enqueue(s, hub_id=1, to="oM", text=text, now=clock.now(), idempotency_key=key)
        enqueue(s, hub_id=1, to="oM", text="【紧急召集】请速到", now=clock.now(), idempotency_key="callout:1:v1")
    stats = OutboxSender(services).run_once()
    assert (stats.sent, stats.merged) == (4, 2)
    alert, merged = fake_wechat.received("oM")["oM"]
    assert alert == "【紧急召集】请速到"  # an emergency goes alone and first
    assert merged == "订单3已改派给其他志愿者\n\n您的订单4已取消\n\n积分到账 30 分"
    assert fake_wechat.custom_sent_to("oM") == 2


def test_staff_see_what_reached_nobody_with_a_phone_to_call(chat: Chat, services: Any, fake_wechat: FakeWeChatServer,
                                                            clock: FakeClock) -> None:
    verify_dialog(chat, ORDER)
    chat.say(B1, "接单 #1")
    chat.deliver()
    clock.advance(days=3)
    with transaction(services.sessions) as s:  # no template for this hub: its notices have no way out of the window
        s.execute(update(Hub).values(notice_template_id=None))
    services = make_services(services.config.database_url, clock, fake_wechat, wechat_notice_template_id="")
    try:
        with transaction(services.sessions) as s:
            service_orders.cancel(s, hub_id=1, order_id=1, reason="居民住院", actor="staff", now=clock.now())
        OutboxSender(services).drain()
        no_refusals(fake_wechat)
        with services.sessions() as s:
            calls = undelivered(s, 1, calls_only=True)
            shown = undelivered(s, 1)
        (resident,) = [u for u in calls if u.to == R]
        assert resident.phone == "13812345678" and "已取消" in resident.text
        assert resident.reasons == ("window_closed", "no_template")
        assert {u.to for u in shown} >= {R, B1}
    finally:
        services.close()


def test_no_40001_storm_after_the_token_rotates(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    """Eight processes share one token; WeChat rotates it (another host forced a refresh): each process meets the
    refusal at most once, and one of them fetches the new token for all."""
    from tests.bot.worker.test_outbox import add_user, queue

    svcs = [make_services(db_url, clock, fake_wechat) for _ in range(8)]
    try:
        for i, svc in enumerate(svcs):
            add_user(svc, f"oT{i}", clock.now(), fake_wechat)
            queue(svc, f"oT{i}", "一")
            OutboxSender(svc, owner=f"w{i}").run_once()
        fake_wechat.expire_tokens()
        for i, svc in enumerate(svcs):
            queue(svc, f"oT{i}", "二")
            OutboxSender(svc, owner=f"w{i}").run_once()
        refusals = [c for c in fake_wechat.calls("/cgi-bin/message/custom/send") if c["result"]["errcode"] == 40001]
        assert len(refusals) <= 1  # the first process to meet it refreshes; the others read the new token first
        assert len(fake_wechat.calls("/cgi-bin/stable_token")) == 2 and fake_wechat.calls("/cgi-bin/token") == []
        assert all(r.status == "sent" for r in rows(svcs[0]))
    finally:
        for svc in svcs:
            svc.close()


def test_a_category_template_per_notice_with_its_own_fields(chat: Chat, services: Any, fake_wechat: FakeWeChatServer,
                                                            clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        set_template(s, 1, "task_offer", "TPL_TASK", {"order_no": "character_string1", "service": "thing2",
                                                      "time": "time3", "place": "thing4", "tip": "thing5"}, clock.now())
    fake_wechat.register_templates({"TPL_TASK": ("character_string1", "thing2", "time3", "thing4", "thing5"),
                                    "TPL_NOTICE": ("thing1", "phrase2", "time3")})
    clock.advance(days=3)
    verify_dialog(chat, ORDER)
    chat.deliver()
    no_refusals(fake_wechat)
    offer = [c["body"] for c in fake_wechat.calls("/cgi-bin/message/template/send") if c["body"]["touser"] == B1]
    assert offer[0]["template_id"] == "TPL_TASK"
    assert {k: v["value"] for k, v in offer[0]["data"].items()} == {
        "character_string1": chat.refs("#1"), "thing2": "义务理发", "time3": "2026年11月27日 15:00",
        "thing4": "幸福小区附近",
        "thing5": chat.refs("回复“接单 #1”即可接单")}
