"""The staff CLI as staff read it: orders named by the 单号 `orders list` prints (never the table id), states and
messages in the console's Chinese words, times in Beijing time, the volunteer view headed for staff without
openids or codes, team sizes as the profiles count them (approved and waiting apart), and the ledger's 服务对象 a
masked name or phone, never a placeholder."""

from __future__ import annotations

import csv
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.clock import SHANGHAI, as_utc
from bot.serviceloop.lifecycle import PLAIN_WORDS, OrderState
from storage.db import transaction
from storage.models import Membership, MembershipEvent, OrderEvent, ServiceRecord, Team
from tests.bot.admin import test_staff_orders
from tests.bot.admin.test_staff_orders import order, run_cli
from tests.bot.people.volunteer_fixtures import make_volunteer
from tests.dialog import Chat, verify_dialog

chat = test_staff_orders.chat  # the demo hub seeded, on the real clock the CLI runs on
R = "oResidentCliView"
B1 = "oVolBarber01"  # 张师傅


def _accepted(chat: Chat, services: Any) -> str:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区1栋1号 13812345678", "请核对"), (R, "1", "已提交"),
                         (B1, "接单 #1", "接单成功")])
    chat.deliver()
    return str(order(services).ref)


def test_orders_are_named_by_the_ref_they_are_listed_with(chat: Chat, services: Any) -> None:
    ref = _accepted(chat, services)
    listed = run_cli(services, "orders", "list").output
    line = next(ln for ln in listed.splitlines() if f"单号{ref}" in ln)
    assert line.startswith(f"单号{ref}\t{PLAIN_WORDS[OrderState.ACCEPTED]}\t义务理发"), line
    shown = run_cli(services, "orders", "show", ref)
    assert shown.exit_code == 0, shown.output
    assert f"订单{ref} 义务理发【志愿者已接单】" in shown.output
    for english in ("dispatched", "accepted", "submit", "->", " by ", "oVolBarber01", R):
        assert english not in shown.output, (english, shown.output)
    assert "下单" in shown.output and "接单：正在联系志愿者 → 志愿者已接单，张师傅" in shown.output
    with services.sessions() as s:
        first = s.scalars(select(OrderEvent.at).where(OrderEvent.order_id == order(services).id)
                          .order_by(OrderEvent.id)).first()
    assert first is not None
    assert as_utc(first).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in shown.output  # Beijing time
    assert as_utc(first).strftime("%Y-%m-%d %H:%M") not in shown.output  # not UTC
    table_id = str(order(services).id)  # 1: an id, never a 单号
    missing = run_cli(services, "orders", "show", table_id)
    assert missing.exit_code == 1 and f"没有找到单号{table_id}的订单" in missing.output
    cancelled = run_cli(services, "orders", "cancel", ref, "--reason", "居民住院")
    assert cancelled.exit_code == 0 and f"订单{ref}已取消" in cancelled.output
    again = run_cli(services, "orders", "cancel", ref, "--reason", "x")
    assert again.exit_code == 1 and "已取消" in again.output and "cannot" not in again.output, again.output
    assert run_cli(services, "orders", "list", "--state", "dispatched").output.strip() == "没有订单"


def test_points_and_timebank_take_the_ref_too(chat: Chat, services: Any) -> None:
    ref = _accepted(chat, services)
    refused = run_cli(services, "points", "reverse", "--order", str(order(services).id), "--reason", "x")
    assert refused.exit_code == 1 and "没有找到单号" in refused.output
    by_id = run_cli(services, "timebank", "pay", "--order", str(order(services).id), "--volunteer", "1",
                    "--hours", "1")
    assert by_id.exit_code == 1 and "没有找到单号" in by_id.output
    by_ref = run_cli(services, "timebank", "pay", "--order", ref, "--volunteer", "1", "--hours", "1")
    assert "没有找到单号" not in by_ref.output and "Traceback" not in by_ref.output, by_ref.output  # found; the
    # time bank then says what it says (张师傅 has no banked hours)


def test_the_volunteer_view_is_for_staff(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        vid = make_volunteer(s, chat.clock.now(), name="赵申请", openid="oApplicantCli", status="applied")[0].id
    approved = run_cli(services, "volunteers", "approve", str(vid))
    assert approved.exit_code == 0 and "志愿者赵申请：已通过审核" in approved.output, approved.output
    shown = run_cli(services, "volunteers", "show", str(vid))
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert out.startswith("志愿者资料（工作人员查看）") and "我的志愿者资料" not in out and "要修改请回复" not in out
    for code in ("applied", "approved", "chat", "oApplicantCli", "cli", "->"):
        assert code not in out, (code, out)
    assert "待审核 → 已通过审核" in out and "后台命令" in out
    with services.sessions() as s:
        at = s.scalars(select(MembershipEvent.at).join(Membership, Membership.id == MembershipEvent.membership_id)
                       .where(Membership.volunteer_id == vid).order_by(MembershipEvent.id.desc())).first()
    assert at is not None
    assert as_utc(at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in out
    assert as_utc(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M") not in out


def test_team_sizes_agree_with_the_profiles_and_count_approved_ones(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        waiting = make_volunteer(s, chat.clock.now(), name="钱待审", openid="oWaitingCli", status="applied")[1]
        waiting.team_id = s.scalars(select(Team.id).where(Team.code == "education")).one()
    listed = run_cli(services, "teams", "list").output
    rows = {ln.split("\t")[1]: ln for ln in listed.splitlines()}
    # 王师傅 and 陈医生, as their profiles say
    assert "\t已审核2人\t待审核0人\t" in rows["emergency"], rows["emergency"]
    assert "\t已审核0人\t待审核1人\t" in rows["education"], rows["education"]
    assert "robot" not in listed
    profile = run_cli(services, "volunteers", "show", "3").output  # 王师傅
    assert "应急救援队" in profile


def test_the_ledger_names_who_was_served(chat: Chat, services: Any, tmp_path: Path) -> None:
    _accepted(chat, services)
    chat.clock.set(order(services).start_at.replace(tzinfo=UTC) + timedelta(hours=1))
    verify_dialog(chat, [(B1, "完成 #1 1", "辛苦了"), (R, "5", "谢谢")])
    with services.sessions() as s:
        (label,) = s.scalars(select(ServiceRecord.resident_label)).all()
    assert label == "居民138****5678"
    with transaction(services.sessions) as s:  # a row written before: the placeholder with the user id
        s.execute(ServiceRecord.__table__.update().values(resident_label="居民7"))
    day = as_utc(order(services).start_at).astimezone(SHANGHAI).date().isoformat()
    target = tmp_path / "ledger.csv"
    res = run_cli(services, "export", "ledger", "--from", day, "--to", day, "--format", "csv", "--out", str(target))
    assert res.exit_code == 0 and "1条记录" in res.output, res.output
    rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines()))
    header = next(r for r in rows if "服务对象" in r)
    record = rows[rows.index(header) + 1]
    assert record[header.index("服务对象")] == "居民138****5678"


def test_points_shown_to_staff_carry_no_chat_instruction(chat: Chat, services: Any) -> None:
    # outside tester out9: `points show` ended with the chat's "兑换积分请回复“兑换”"
    _accepted(chat, services)
    shown = run_cli(services, "points", "show", "1")
    assert shown.exit_code == 0 and "积分余额" in shown.output, shown.output
    assert "请回复" not in shown.output
