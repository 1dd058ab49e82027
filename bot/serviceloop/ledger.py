"""The service ledger (台账): exports for the provincial and national volunteer systems, the monthly
summary, and the quarterly and annual outstanding-volunteer rankings."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.errors import LeifengError
from bot.hubsettings import HubSettings
from bot.people import stars
from intents.idcard import hide_numbers
from intents.masking import mask_phones, served_label
from storage.models import Membership, Order, PointsEntry, ServiceRecord, Volunteer

UTC = ZoneInfo("UTC")
# Column names as the i志愿 / 志愿汇 service-hour import templates name them.
RECORD_COLUMNS = ("序号", "姓名", "证件类型", "证件号码", "活动名称", "服务日期", "开始时间", "结束时间",
                  "服务时长(小时)", "服务内容", "服务对象", "评价(心)", "居民留言", "核实方式", "订单号")
SUMMARY_COLUMNS = ("姓名", "证件号码", "服务次数", "服务时长(小时)", "平均评价(心)")
VERIFIED_WORDS = {"resident": "居民确认", "staff": "工作人员确认", "staff_phone": "工作人员电话登记",
                  "timeout": "超时自动确认", "walkin": "活动现场工作人员登记"}


# Years a report may cover: outside them the date arithmetic (the day after 9999-12-31) has no answer.
FIRST_YEAR, LAST_YEAR = 2000, 2999
# A text cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class LedgerError(LeifengError):
    """A report or export that cannot be made (bad period, unknown format)."""


def spreadsheet_cell(value: Any) -> Any:
    """A cell for an export: text that a spreadsheet would run as a formula (a resident's comment
    "=HYPERLINK(...)") gets a leading single quote, the OWASP way; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cells(table: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [[spreadsheet_cell(v) for v in line] for line in table]


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise LedgerError(f"年份要在{FIRST_YEAR}到{LAST_YEAR}之间，写的是{year}")


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end` on the Shanghai calendar, as UTC instants."""
    if end < start:
        raise LedgerError("结束日期（--to）不能早于开始日期（--from）")
    _check_year(start.year)
    _check_year(end.year)
    lo = datetime(start.year, start.month, start.day, tzinfo=SHANGHAI).astimezone(UTC)
    hi = (datetime(end.year, end.month, end.day, tzinfo=SHANGHAI) + timedelta(days=1)).astimezone(UTC)
    return lo, hi


def month_bounds(month: str) -> tuple[date, date]:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise LedgerError(f"月份要写成 2026-11 这样，写的是“{month}”")
    year, mon = int(m.group(1)), int(m.group(2))
    _check_year(year)
    first = date(year, mon, 1)
    last = (date(year + (mon == 12), mon % 12 + 1, 1)) - timedelta(days=1)
    return first, last


def period_bounds(quarter: str | None = None, year: int | None = None) -> tuple[str, date, date]:
    """("2026年第4季度", first day, last day) for --quarter 2026Q4, or the whole year for --year 2026."""
    if quarter:
        m = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", quarter.strip())
        if not m:
            raise LedgerError(f"季度要写成 2026Q4 这样，写的是“{quarter}”")
        y, q = int(m.group(1)), int(m.group(2))
        _check_year(y)
        first = date(y, 3 * q - 2, 1)
        last = (date(y + (q == 4), (3 * q) % 12 + 1, 1)) - timedelta(days=1)
        return f"{y}年第{q}季度", first, last
    if year:
        _check_year(year)
        return f"{year}年", date(year, 1, 1), date(year, 12, 31)
    raise LedgerError("请写 --quarter 2026Q4 或 --year 2026")


# -- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    record_id: int
    name: str
    id_masked: str
    service: str
    day: date
    start: str
    end: str
    hours: float
    content: str
    resident: str
    rating: int | None
    comment: str
    verified: str
    order_id: int
    volunteer_id: int
    order_ref: int | None = None  # the 单号 staff and residents see (the 订单号 column)


def ledger_rows(s: Session, hub_id: int, start: date, end: date, names: Mapping[str, str]) -> list[LedgerRow]:
    lo, hi = day_bounds(start, end)
    rows = s.execute(select(ServiceRecord, Volunteer, Order.ref, Order.resident_name, Order.phone)
                     .join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
                     .outerjoin(Order, Order.id == ServiceRecord.order_id)
                     .where(ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= lo,
                            ServiceRecord.service_date < hi)
                     .order_by(ServiceRecord.service_date, ServiceRecord.id)).all()
    out = []
    for rec, vol, ref, resident_name, phone in rows:
        started = as_utc(rec.started_at or rec.service_date).astimezone(SHANGHAI)
        ended = as_utc(rec.ended_at).astimezone(SHANGHAI) if rec.ended_at else started + timedelta(hours=rec.hours)
        out.append(LedgerRow(record_id=rec.id, name=vol.name, id_masked=vol.id_number_masked or "未登记",
                             service=names.get(rec.service_code, rec.service_code),
                             day=as_utc(rec.service_date).astimezone(SHANGHAI).date(), start=f"{started:%H:%M}",
                             end=f"{ended:%H:%M}", hours=round(rec.hours, 2), content=_masked(rec.content),
                             resident=_served(rec.resident_label, resident_name, phone), rating=rec.rating,
                             comment=_masked(rec.comment),
                             verified=VERIFIED_WORDS.get(rec.verified_by, rec.verified_by), order_id=rec.order_id,
                             volunteer_id=vol.id, order_ref=ref))
    return out


def _masked(text: str | None) -> str:
    """Free text as the ledger shows it: a phone typed in a comment or the content masked like the 服务对象 column
    (out11: "电话13812345678" went out in full beside it), an ID or bank number hidden."""
    return mask_phones(hide_numbers(text or ""))


# what rows written before the label was a name said for a resident who ordered themselves: "居民7", a user id
_OLD_PLACEHOLDER = re.compile(r"居民\d*")


def _served(label: str, resident_name: str | None, phone: str | None) -> str:
    """The row's 服务对象: as written, or for an old row with the placeholder, the masked form the order gives."""
    return served_label(resident_name, phone) if _OLD_PLACEHOLDER.fullmatch(label or "") else label


def record_values(i: int, r: LedgerRow) -> list[Any]:
    return [i, r.name, "居民身份证", r.id_masked, r.service, r.day.isoformat(), r.start, r.end, r.hours, r.content,
            r.resident, "" if r.rating is None else r.rating, r.comment, r.verified,
            "" if r.order_ref is None else r.order_ref]


@dataclass(frozen=True)
class PersonTotal:
    name: str
    id_masked: str
    services: int
    hours: float
    average_rating: float | None


def totals(rows: Sequence[LedgerRow]) -> list[PersonTotal]:
    by: dict[int, list[LedgerRow]] = defaultdict(list)
    for r in rows:
        by[r.volunteer_id].append(r)
    out = []
    for items in by.values():
        rated = [r.rating for r in items if r.rating is not None]
        out.append(PersonTotal(items[0].name, items[0].id_masked, len(items), round(sum(r.hours for r in items), 2),
                               round(sum(rated) / len(rated), 2) if rated else None))
    return sorted(out, key=lambda p: (-p.hours, p.name))


def summary_values(rows: Sequence[LedgerRow], start: date, end: date) -> list[list[Any]]:
    people = totals(rows)
    table: list[list[Any]] = [list(SUMMARY_COLUMNS)]
    table += [[p.name, p.id_masked, p.services, p.hours, "" if p.average_rating is None else p.average_rating]
              for p in people]
    table.append(["合计", f"{len(people)}人", len(rows), round(sum(r.hours for r in rows), 2), ""])
    table.append(["统计期间", f"{start.isoformat()} 至 {end.isoformat()}", "", "", ""])
    return table


def write_ledger(rows: Sequence[LedgerRow], path: Path, fmt: str, start: date, end: date) -> list[Path]:
    """Write the ledger; xlsx has a 服务记录 and a 汇总 sheet, csv writes <name>.csv and <name>-汇总.csv.
    No cell is a formula (spreadsheet_cell), whatever residents and staff typed."""
    records = _cells([list(RECORD_COLUMNS)] + [record_values(i, r) for i, r in enumerate(rows, 1)])
    summary = _cells(summary_values(rows, start, end))
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "服务记录"
        for line in records:
            sheet.append(line)
        sheet.freeze_panes = "A2"
        for col, width in zip("ABCDEFGHIJKLMNO", (6, 10, 12, 22, 14, 12, 9, 9, 14, 30, 10, 9, 24, 12, 9), strict=True):
            sheet.column_dimensions[col].width = width
        sum_sheet = book.create_sheet("汇总")
        for line in summary:
            sum_sheet.append(line)
        book.save(path)
        return [path]
    if fmt == "csv":
        other = path.with_name(path.stem + "-汇总.csv")
        for target, table in ((path, records), (other, summary)):
            with target.open("w", newline="", encoding="utf-8-sig") as fh:  # the BOM lets Excel read UTF-8
                csv.writer(fh).writerows(table)
        return [path, other]
    raise LedgerError(f"格式只能是 xlsx 或 csv，写的是“{fmt}”")


# -- monthly summary ----------------------------------------------------------------------------


@dataclass
class Monthly:
    month: str
    orders_by_service: dict[str, int] = field(default_factory=dict)
    services_by_service: dict[str, int] = field(default_factory=dict)
    hours_by_service: dict[str, float] = field(default_factory=dict)
    orders: int = 0
    completed: int = 0
    cancelled: int = 0
    hours: float = 0.0
    volunteers_active: int = 0
    average_rating: float | None = None
    new_applications: int = 0
    points_earned: int = 0  # credited for services (kind earn)
    points_redeemed: int = 0  # spent at merchants, as a positive number
    points_adjusted: int = 0  # staff adjustments, rating corrections and reversals, signed (adjust + reverse)
    points_expired: int = 0  # expired, as a positive number

    @property
    def points_net(self) -> int:
        """How much the volunteers' balances moved this month: every entry, so the report adds up (out10)."""
        return self.points_earned + self.points_adjusted - self.points_expired - self.points_redeemed


def monthly(s: Session, hub_id: int, month: str, names: Mapping[str, str]) -> Monthly:
    first, last = month_bounds(month)
    lo, hi = day_bounds(first, last)
    rep = Monthly(month=f"{first:%Y-%m}")
    for code, state, count in s.execute(select(Order.service_code, Order.state, func.count()).where(
            Order.hub_id == hub_id, Order.created_at >= lo, Order.created_at < hi)
            .group_by(Order.service_code, Order.state)).all():
        name = names.get(code, code)
        rep.orders_by_service[name] = rep.orders_by_service.get(name, 0) + int(count)
        rep.orders += int(count)
        rep.cancelled += int(count) if state == "cancelled" else 0
    records = s.execute(select(ServiceRecord).where(ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= lo,
                                                    ServiceRecord.service_date < hi)).scalars().all()
    for rec in records:
        name = names.get(rec.service_code, rec.service_code)
        rep.services_by_service[name] = rep.services_by_service.get(name, 0) + 1
        rep.hours_by_service[name] = round(rep.hours_by_service.get(name, 0.0) + rec.hours, 2)
    rep.completed = len(records)
    rep.hours = round(sum(r.hours for r in records), 2)
    rep.volunteers_active = len({r.volunteer_id for r in records})
    rated = [r.rating for r in records if r.rating is not None]
    rep.average_rating = round(sum(rated) / len(rated), 2) if rated else None
    rep.new_applications = int(s.scalar(select(func.count()).select_from(Membership).where(
        Membership.hub_id == hub_id, Membership.created_at >= lo, Membership.created_at < hi)) or 0)
    for kind, total in s.execute(select(PointsEntry.kind, func.sum(PointsEntry.points)).where(
            PointsEntry.hub_id == hub_id, PointsEntry.at >= lo, PointsEntry.at < hi).group_by(PointsEntry.kind)):
        if kind == "earn":
            rep.points_earned = int(total or 0)
        elif kind == "redeem":
            rep.points_redeemed = -int(total or 0)
        elif kind == "expire":
            rep.points_expired = -int(total or 0)
        else:  # adjust, reverse: signed
            rep.points_adjusted += int(total or 0)
    return rep


def monthly_text(rep: Monthly) -> str:
    avg = "无评价" if rep.average_rating is None else f"{rep.average_rating:g}颗心"
    lines = [f"{rep.month} 月度服务汇总",
             f"订单 {rep.orders} 个（取消 {rep.cancelled}），完成服务 {rep.completed} 次，服务时长 {rep.hours:g} 小时",
             f"参与服务的志愿者 {rep.volunteers_active} 人，平均评价 {avg}，新报名 {rep.new_applications} 人",
             f"积分：服务获得 {rep.points_earned} 分，调整 {rep.points_adjusted:+d} 分，过期 {rep.points_expired} 分，"
             f"兑换 {rep.points_redeemed} 分；余额合计变动 {rep.points_net:+d} 分", "按服务：",
             "服务\t订单\t完成\t时长"]
    # the table is tab-separated, so it gets pasted into spreadsheets: names are cells there
    for name in sorted(set(rep.orders_by_service) | set(rep.services_by_service)):
        lines.append(f"{spreadsheet_cell(name)}\t{rep.orders_by_service.get(name, 0)}\t"
                     f"{rep.services_by_service.get(name, 0)}\t{rep.hours_by_service.get(name, 0.0):g}")
    return "\n".join(lines)


# -- honours ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Honour:
    rank: int
    volunteer_id: int
    name: str
    points: int
    hours: float
    total_hours: float
    star: int
    core: bool


def honours(s: Session, hub_id: int, start: date, end: date, rules: HubSettings, limit: int = 10) -> list[Honour]:
    """Outstanding volunteers of a period: by points earned in it (net of reversals), ties by hours in it.

    Redemptions do not lower anyone's rank: spending points is not doing less."""
    lo, hi = day_bounds(start, end)
    earned = dict(s.execute(select(PointsEntry.volunteer_id, func.sum(PointsEntry.points)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.at >= lo, PointsEntry.at < hi,
        PointsEntry.kind.in_(("earn", "reverse", "adjust"))).group_by(PointsEntry.volunteer_id)).all())
    hours = dict(s.execute(select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours)).where(
        ServiceRecord.hub_id == hub_id, ServiceRecord.service_date >= lo, ServiceRecord.service_date < hi)
        .group_by(ServiceRecord.volunteer_id)).all())
    ids = [vid for vid in set(earned) | set(hours) if int(earned.get(vid) or 0) > 0 or float(hours.get(vid) or 0) > 0]
    if not ids:
        return []
    people = {v.id: v for v in s.execute(select(Volunteer).where(Volunteer.id.in_(ids))).scalars()}
    all_hours = dict(s.execute(select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours)).where(
        ServiceRecord.volunteer_id.in_(ids)).group_by(ServiceRecord.volunteer_id)).all())
    order = sorted(ids, key=lambda v: (-int(earned.get(v) or 0), -float(hours.get(v) or 0.0), people[v].name, v))
    out: list[Honour] = []
    for vid in order[:limit]:
        pts, hrs = int(earned.get(vid) or 0), round(float(hours.get(vid) or 0.0), 2)
        prev = out[-1] if out else None
        rank = prev.rank if prev and (prev.points, prev.hours) == (pts, hrs) else len(out) + 1  # full ties share
        total = float(all_hours.get(vid) or 0.0)
        out.append(Honour(rank, vid, people[vid].name, pts, hrs, round(total, 2),
                          stars.star_level(total, rules.star_hours), hrs >= rules.core_hours_per_year
                          if (end - start).days >= 364 else False))
    return out


def honours_text(title: str, rows: Sequence[Honour]) -> str:
    if not rows:
        return f"{title}：这段时间还没有服务记录。"
    lines = [f"{title}优秀志愿者排行（按积分，积分相同按时长）", "名次\t姓名\t积分\t时长\t星级"]
    for h in rows:
        core = "\t志愿者骨干" if h.core else ""
        lines.append(f"{h.rank}\t{spreadsheet_cell(h.name)}\t{h.points}\t{h.hours:g}\t{'★' * h.star or '-'}{core}")
    return "\n".join(lines)
