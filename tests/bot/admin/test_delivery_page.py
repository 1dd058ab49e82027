"""The console's list of messages that reached nobody (why, in plain words; who, by name; 重新发送), the 群发 quota
line, and the dashboard's delivery counters: undelivered messages and voice the bot could not understand."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from bot.devtools.simulator import Account, message_xml
from bot.outbox import enqueue
from bot.services import Services
from intents.masking import mask_name
from storage import subscriptions
from storage.db import transaction
from storage.models import AuditLog, OutboxMessage, User, Volunteer
from tests.bot.admin.test_admin import Seeded, login, post, seed_console, text

RESIDENT, PHONE = "oResident01", "13812345678"


@pytest.fixture
def seeded(services: Services) -> Seeded:
    made = seed_console(services)
    with transaction(services.sessions) as s:
        s.execute(update(User).where(User.openid == RESIDENT).values(nickname="王秀英"))
    return made


def _ended(services: Services, to: str, text_: str, key: str, status: str, reasons: list[str],
           error: str | None = None) -> int:
    """A row as the sender leaves it when no route carried it."""
    with transaction(services.sessions) as s:
        enqueue(s, hub_id=1, to=to, text=text_, now=services.clock.now(), idempotency_key=key)
        row = s.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).scalar_one()
        row.status, row.attempts, row.last_error = status, 3, error
        row.payload = {**row.payload, "reasons": reasons}
        return row.id


def _rows(services: Services, seeded: Seeded) -> dict[str, int]:
    with services.sessions() as s:
        barber = s.scalar(select(User.openid).where(User.volunteer_id == seeded.barber))
    assert barber is not None
    return {
        "call": _ended(services, RESIDENT, "您的订单1已有志愿者接单，明天下午三点上门理发。", "accepted:1:1:1",
                       "undelivered", ["window_closed", "no_template"]),
        "shown": _ended(services, RESIDENT, "您的对话已超时，需要时再说一声就行。", "dialogue-expired:1", "skipped",
                        ["quota_kept", "not_a_service_notice"]),
        "dead": _ended(services, barber, "新任务：订单2 上门维修，回复“接单 2”", "offer:2:1:1", "dead", [],
                       error="errcode 45009: reach max api daily quota limit"),
        "broadcast": _ended(services, RESIDENT, "本周六雷锋一条街", "bc:7:u1", "skipped", ["not_a_service_notice"]),
    }


def test_staff_see_why_each_message_did_not_arrive_and_whom_to_call(client: Any, services: Services,
                                                                    seeded: Seeded) -> None:
    ids = _rows(services, seeded)
    login(client, "xiaoli")
    page = text(client.get("/admin/delivery"))
    call = page[page.index(f'id="outbox-{ids["call"]}"'):]
    call = call[:call.index("</tr>")]
    assert "王秀英" in call and PHONE in call and "请电话告知" in call and "订单进展" in call
    assert "对方48小时内没有给公众号发过消息" in call and "没有配置能发这类通知的模板消息" in call
    assert "重新发送" in call
    shown = page[page.index(f'id="outbox-{ids["shown"]}"'):]
    shown = shown[:shown.index("</tr>")]
    assert "王**" in shown and "138****5678" in shown and PHONE not in shown  # nobody is to call: masked
    assert "剩下的客服消息条数要留给更要紧的消息" in shown
    dead = page[page.index(f'id="outbox-{ids["dead"]}"'):]
    dead = dead[:dead.index("</tr>")]
    with services.sessions() as s:
        barber_name = s.scalar(select(Volunteer.name).where(Volunteer.id == seeded.barber))
    assert "发送失败" in dead and "多次重试仍然失败" in dead and "45009" in dead and mask_name(barber_name) in dead
    bc = page[page.index(f'id="outbox-{ids["broadcast"]}"'):]
    assert "重新发送" not in bc[:bc.index("</tr>")]  # a broadcast reaches each person at most once
    assert 'id="mass-quota"' in page and "每人每月最多 4 次" in page
    assert "oResident01" not in page


def test_resend_queues_the_row_again_once(client: Any, services: Services, seeded: Seeded) -> None:
    ids = _rows(services, seeded)
    login(client, "xiaoli")
    resp = post(client, f"/admin/delivery/{ids['call']}/resend", page="/admin/delivery")
    assert resp.status_code == 302
    with services.sessions() as s:
        row = s.get(OutboxMessage, ids["call"])
        assert row is not None
        assert (row.status, row.attempts, "reasons" in row.payload, row.payload["resent"]) == ("pending", 0, False, 1)
        assert s.scalar(select(AuditLog.subject).where(AuditLog.action == "outbox_resend")) == f"outbox:{ids['call']}"
    again = post(client, f"/admin/delivery/{ids['call']}/resend", page="/admin/delivery")
    assert "不能重新发送" in text(client.get(again.headers["Location"]))
    post(client, f"/admin/delivery/{ids['broadcast']}/resend", page="/admin/delivery")
    with services.sessions() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == ids["broadcast"])) == "skipped"


def test_a_team_leader_does_not_see_the_list(client: Any, services: Services, seeded: Seeded) -> None:
    login(client, "laowang")
    assert client.get("/admin/delivery").status_code == 403


def _voice(client: Any, services: Services, openid: str, recognition: str | None) -> str | None:
    account = Account(token=services.config.wechat_token, appid=services.config.wechat_appid)
    now = int(services.clock.now().timestamp())
    xml = message_xml(to="gh_hub", sender=openid, create_time=now, msg_type="voice", MediaId="media_1",
                      Format="amr", Recognition=recognition, MsgId=account.next_msg_id())
    req = account.sign(xml, now=now, openid=openid)
    resp = client.post("/wechat", query_string=req.params, data=req.body)
    reply = account.read(resp.data)
    return None if reply is None else str(reply["Content"])


def test_the_dashboard_counts_voice_it_could_not_understand_and_undelivered(client: Any, services: Services,
                                                                            seeded: Seeded) -> None:
    _rows(services, seeded)
    assert "没有听清楚" in (_voice(client, services, "oVoiceGrandpa", None) or "")
    _voice(client, services, "oVoiceGrandma", "我想找人来理个发 明天上午")
    _voice(client, services, "oVoiceGrandma", "")  # WeChat sent the field, empty
    login(client, "xiaoli")
    page = text(client.get("/admin/dashboard"))
    assert "近7天收到语音 3 条，其中 2 条微信没有转成文字（67%）" in page
    card = page[page.index('id="card-undelivered"'):]
    assert "<b>4</b>" in card[:card.index("</a>")]  # every row the 未送达 page lists: call, dead and both skipped
    assert 'id="dashboard-mass-quota"' in page


def test_a_subscription_account_has_one_mass_send_a_day(client: Any, services: Services, seeded: Seeded) -> None:
    with transaction(services.sessions) as s:
        subscriptions.set_account_kind(s, 1, subscriptions.SUBSCRIPTION, services.clock.now())
    login(client, "xiaoli")
    assert "每天只能群发 1 次：今天已用 0 次，还能发 1 次" in text(client.get("/admin/delivery"))


def test_any_console_page_can_show_the_quota_line(app: Any, client: Any, services: Services, seeded: Seeded) -> None:
    from flask import g, render_template_string

    from bot.admin.auth import staff_of
    from storage.models_admin import StaffAccount

    with services.sessions() as s:
        me = staff_of(s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one())
    with app.test_request_context("/admin/broadcasts"):
        g.staff, g.hub_id = me, 1
        shown = render_template_string("{{ mass_quota_line() }}")  # what the broadcast page includes
    assert 'id="mass-quota"' in shown and "群发给全部关注者：这次群发可送达" in shown


def test_the_dashboard_counts_a_message_not_sent_but_not_one_already_phoned(client: Any, services: Services,
                                                                                seeded: Seeded) -> None:
    _ended(services, RESIDENT, "您的对话已超时，需要时再说一声就行。", "dialogue-expired:9", "skipped", ["quota_kept"])
    told = _ended(services, RESIDENT, "您的订单已完成", "done:9", "undelivered", ["window_closed"])
    with transaction(services.sessions) as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == told).values(status="told"))
    login(client, "xiaoli")
    page = text(client.get("/admin/dashboard"))
    card = page[page.index('id="card-undelivered"'):]
    assert "<b>1</b>" in card[:card.index("</a>")]  # the expired notice not sent; the phoned one is done
