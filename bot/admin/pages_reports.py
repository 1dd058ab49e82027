"""Dashboard (server-rendered SVG charts) and the ledger (台账) with its downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Response, abort, render_template, request
from markupsafe import Markup

from bot.admin import charts
from bot.admin.context import audit, bp, changing, hub_id, nlu, now, reading, requires, services, staff
from bot.admin.pages_incidents import dashboard_incidents
from bot.admin.stats import VOICE_DAYS
from bot.admin.stats import dashboard as figures
from bot.clock import SHANGHAI
from bot.dialogue.nlu import Understanding
from bot.inbox.handover import dashboard_figures
from bot.serviceloop import ledger
from bot.serviceloop.orders import settings_for


@bp.get("/dashboard")
@requires("dashboard")
def dashboard() -> str:
    with reading() as s:
        understanding = nlu(s)
        # processed rows (what the voice count reads) live processed_messages_keep_days: never count past that
        voice_days = min(VOICE_DAYS, services().config.processed_messages_keep_days)
        d = figures(s, hub_id(), now(), understanding.service_name, voice_days=voice_days)
        panel = dashboard_incidents(s, staff(), hub_id())  # None for a role that may not see incidents
        handover = dashboard_figures(s, hub_id(), now()) if staff().can("inbox") else None
    labels = [f"{int(m[5:])}月" for m in d.months]
    made = {
        "orders": charts.bar_chart("每月各类服务订单数", labels,
                                   charts.series_from(d.orders_by_service, d.months), whole=True),
        "accept": charts.line_chart("接单用时中位数（分钟）", labels, [d.accept_minutes[m] for m in d.months],
                                    unit="分钟"),
        "ratings": charts.bar_chart("评价分布（颗心）", [f"{h}心" for h in range(6)],
                                    [charts.Series("订单", tuple(float(d.ratings[h]) for h in range(6)))], whole=True),
        "hours": charts.bar_chart("每月服务时长（小时）", labels,
                                  [charts.Series("小时", tuple(d.hours[m] for m in d.months))]),
        "active": charts.bar_chart("每月参与服务的志愿者（人）", labels,
                                   [charts.Series("人数", tuple(float(d.active_volunteers[m]) for m in d.months))],
                                   whole=True),
    }
    # the SVG is built from numbers and escaped labels by bot.admin.charts, so it is safe to embed
    svgs = {name: Markup(svg) for name, svg in made.items()}  # noqa: S704
    return render_template("admin/dashboard.html", d=d, svgs=svgs, panel=panel, handover=handover)


def _names(understanding: Understanding) -> dict[str, str]:
    return {sv.code: sv.name for sv in understanding.catalogue}


def _month_arg() -> str:
    text = request.args.get("month") or ""
    try:
        ledger.month_bounds(text)
        return text
    except ledger.LedgerError:
        return f"{now().astimezone(SHANGHAI):%Y-%m}"


@bp.get("/ledger")
@requires("ledger")
def ledger_page() -> str:
    """The month's ledger rows, summary and outstanding volunteers, as bot.serviceloop.ledger computes them."""
    month = _month_arg()
    first, last = ledger.month_bounds(month)
    quarter = f"{first.year}Q{(first.month - 1) // 3 + 1}"
    with reading() as s:
        names = _names(nlu(s))
        rows = ledger.ledger_rows(s, hub_id(), first, last, names)
        summary = ledger.monthly(s, hub_id(), month, names)
        title, q_first, q_last = ledger.period_bounds(quarter=quarter)
        honours = ledger.honours(s, hub_id(), q_first, q_last, settings_for(s, hub_id()))
    total = round(sum(r.hours for r in rows), 2)
    return render_template("admin/ledger.html", rows=rows, month=month, total=total, summary=summary,
                           honours=honours, honours_title=title, exports=EXPORTS)


EXPORTS = (("xlsx", "Excel（服务记录+汇总）"), ("csv", "CSV 服务记录"), ("summary.csv", "CSV 汇总"))
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


@bp.get("/ledger/export.<fmt>")
@requires("ledger")
def ledger_export(fmt: str) -> Response:
    """The same files as `leifeng export ledger` (bot.serviceloop.ledger.write_ledger), for one month, downloaded."""
    if fmt not in dict(EXPORTS):
        abort(404)
    month = _month_arg()
    first, last = ledger.month_bounds(month)
    with reading() as s:
        rows = ledger.ledger_rows(s, hub_id(), first, last, _names(nlu(s)))
    kind = "xlsx" if fmt == "xlsx" else "csv"
    base = f"ledger-{first:%Y%m%d}-{last:%Y%m%d}"
    with tempfile.TemporaryDirectory(prefix="leifeng-export-") as tmp:
        written = ledger.write_ledger(rows, Path(tmp) / f"{base}.{kind}", kind, first, last)
        chosen = written[1] if fmt == "summary.csv" else written[0]
        body = chosen.read_bytes()
        filename = f"{base}-summary.csv" if fmt == "summary.csv" else chosen.name
    with changing() as s:  # who took personal data out, and when
        audit(s, "ledger_export", f"ledger:{month}", format=fmt, rows=len(rows))
    return Response(body, mimetype=MIME[kind].split(";")[0], headers={
        "Content-Type": MIME[kind], "Content-Disposition": f'attachment; filename="{filename}"'})
