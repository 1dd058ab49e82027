"""Staff overrides: dispatch by hand, reassign, support (配套), cancel, confirm, review — domain and CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.main import cli
from bot.clock import FakeClock
from bot.devtools.seed import STAFF_OPENID, seed_demo_hub
from bot.serviceloop.lifecycle import IllegalTransitionError, next_state
from storage.db import transaction
from storage.models import Order, OrderEvent, Team
from tests.dialog import Chat, verify_dialog

R = "oResident0001"


@pytest.fixture
def chat(client: Any, account: Any, clock: FakeClock, services: Any, fake_wechat: Any) -> Chat:
    clock.set(datetime.now(UTC))  # the CLI runs on the real clock; keep both on the same time line
    with transaction(services.sessions) as s:
        seed_demo_hub(s, clock.now())
        s.execute(select(Team).where(Team.code == "haircut")).scalar_one().robot_key = "ROBOT-HAIR"
    return Chat(client, account, clock, services, fake_wechat)


def run_cli(services: Any, *args: str) -> Any:
    env = {"LEIFENG_DATABASE_URL": str(services.config.database_url),
           "LEIFENG_WECHAT_API_BASE_URL": services.config.wechat_api_base_url}
    res = CliRunner().invoke(cli, list(args), env=env)
    services.clock.set(datetime.now(UTC))  # what the CLI queued is due now
    return res


def order(services: Any) -> Order:
    with services.sessions() as s:
        return s.execute(select(Order)).scalar_one()


def test_dispatch_posts_to_the_team_group_robot(chat: Chat) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交")])
    got = chat.deliver()
    (post,) = got["robot:ROBOT-HAIR"]
    assert "【爱心理发队】" in post and chat.refs("接单 #1") in post
    assert "1号" not in post.split("地点：")[1].split("\n")[0]


def test_support_flow_notifies_staff_then_resident_and_volunteer(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "下周六上午九点科普讲座需要志愿者，地址幸福小区3栋", "请留一个联系电话"),
                         (R, "13812345678", "请核对"), (R, "1", "已提交")])
    o = order(services)
    assert o.service_code == "science" and o.needs_support
    chat.deliver()
    with transaction(services.sessions) as s:
        from bot.serviceloop.orders import ServiceInfo, assign

        assign(s, hub_id=1, order_id=o.id, volunteer_id=1, actor="staff:li", now=chat.clock.now(),
               service=ServiceInfo("science", "科技科普"))
    got = chat.deliver()
    assert any("需要社区配套" in t for t in got[STAFF_OPENID])
    res = run_cli(services, "orders", "support", str(o.ref), "--note", "社区活动室和投影仪")
    assert res.exit_code == 0, res.output
    got = chat.deliver()
    assert any("社区活动室和投影仪" in t for t in got[R])
    assert any("社区活动室和投影仪" in t for t in got["oVolBarber01"])
    assert order(services).state == "supported"


def test_cli_assign_reassign_show_cancel(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交"),
                         ("oVolBarber01", "接单 #1", "接单成功")])
    chat.deliver()
    ref = str(order(services).ref)  # the 单号 `orders list` prints: what every orders command takes
    res = run_cli(services, "orders", "assign", ref, "--volunteer", "2")
    assert res.exit_code == 0 and f"订单{ref}已派给志愿者李阿姨" in res.output, res.output
    got = chat.deliver()
    assert any("改派" in t for t in got["oVolBarber01"])
    assert any("李阿姨" in t for t in got[R])
    assert order(services).volunteer_id == 2
    shown = run_cli(services, "orders", "show", ref).output
    assert "退单" in shown and "工作人员改派" in shown and "give_back" not in shown, shown
    listed = run_cli(services, "orders", "list").output
    assert f"单号{ref}\t志愿者已接单" in listed and "accepted" not in listed, listed
    res = run_cli(services, "orders", "cancel", ref, "--reason", "居民住院")
    assert res.exit_code == 0 and order(services).state == "cancelled"
    got = chat.deliver()
    assert any("居民住院" in t for t in got[R]) and any("不用去了" in t for t in got["oVolBarber02"])
    bad = run_cli(services, "orders", "support", ref, "--note", "x")
    assert bad.exit_code == 1 and "订单现在“已取消”，不能这样操作" in bad.output, bad.output
    assert "没有找到单号42的订单" in run_cli(services, "orders", "show", "42").output
    # in the audit log as the console's moves are, the refused one not (out11: none were)
    from sqlalchemy import select

    from storage.models import AuditLog
    with services.sessions() as s:
        actions = [(a.action, a.actor) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))
                   if a.detail.get("via") == "cli"]
    assert actions == [("order_assign", "staff"), ("order_cancel", "staff")], actions


def test_staff_confirm_and_review(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交"),
                         ("oVolBarber01", "接单 #1", "接单成功")])
    chat.clock.set(order(services).start_at.replace(tzinfo=UTC) + timedelta(hours=1))  # the service has started
    verify_dialog(chat, [("oVolBarber01", "完成 #1 1", "辛苦了")])
    ref = str(order(services).ref)
    assert run_cli(services, "orders", "review", ref, "--note", "x").exit_code == 1  # not flagged
    res = run_cli(services, "orders", "confirm", ref)
    assert res.exit_code == 0, res.output
    o = order(services)
    assert o.state == "closed" and o.verified_by == "staff"
    with services.sessions() as s:
        assert [e.trigger for e in s.execute(select(OrderEvent).order_by(OrderEvent.id)).scalars()][-1] == "close"


def test_lifecycle_table_rejects_illegal_moves() -> None:
    assert next_state("submitted", "dispatch").value == "dispatched"
    for state, trigger in [("closed", "accept"), ("cancelled", "complete"), ("submitted", "rate"),
                           ("completed", "cancel"), ("dispatched", "nonsense")]:
        with pytest.raises(IllegalTransitionError):
            next_state(state, trigger)
