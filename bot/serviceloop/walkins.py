"""Walk-in services at a street event (雷锋一条街), recorded by staff in bulk: who served, what, how long, how many
residents. Each row becomes a finished order of the event, moved through the lifecycle (accept → complete →
close, the history naming the staff member) and credited by the one path every completed order takes
(orders.write_record: the ledger row, points, the time bank, star news), so the monthly ledger, the export and every
total count it as they count any service.

Why an order per row: the ledger (service_records) has one row per order (order_id unique), and the points and time
bank entries are keyed by the order; a second kind of record would need a second crediting path and a second set of
totals. The order is placed by the hub's office row (records.office_user, never messaged), as for orders taken by
phone; the residents are there in person, so nobody is told anything but the volunteer (one note per batch).

A batch is submitted once: the form carries a token, claimed as a run key (job_runs' primary key) in the same
transaction, so a double click or a resubmitted page records nothing twice, on both databases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop.lifecycle import OrderState
from bot.serviceloop.orders import OrderError, ServiceInfo, write_record
from bot.serviceloop.records import office_user, tell_volunteer, transition
from intents.masking import mask_name
from storage.models import Membership, Order, OrderEvent, Volunteer
from storage.models_events import Event, JobRun

VERIFIED_BY = "walkin"  # the ledger's 核实方式: 活动现场工作人员登记 (bot.serviceloop.ledger.VERIFIED_WORDS)
MOST_SERVED = 500  # residents one volunteer may serve in one row
NAMES_MAX = 300  # characters of names kept for one row
TOKEN = re.compile(r"[0-9a-f]{32}")
_NAME_SPLIT = re.compile(r"[、，,；;\s]+")


class WalkinError(OrderError):
    """A batch that cannot be recorded; the message is plain Chinese for staff."""


@dataclass(frozen=True)
class RawRow:
    """One line of the form as typed."""

    volunteer: str = ""
    service: str = ""
    hours: str = ""
    served: str = ""
    names: str = ""

    def empty(self) -> bool:
        return not any(v.strip() for v in (self.volunteer, self.hours, self.served, self.names))


@dataclass(frozen=True)
class WalkinRow:
    """One checked line: a volunteer of the hub, a service of the catalogue, the hours, the residents served."""

    line: int
    volunteer_id: int
    service: ServiceInfo
    hours: float
    served: int
    names: tuple[str, ...]


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_rows(raw: Sequence[RawRow], *, volunteers: Mapping[int, str], services: Mapping[str, str],
              most_hours: float) -> tuple[list[WalkinRow], list[str]]:
    """The rows to record and what is wrong, line by line, in Chinese (pure). Empty lines are skipped; a service
    left unchosen on a line with nothing else is an empty line too."""
    rows: list[WalkinRow] = []
    errors: list[str] = []
    for line, r in enumerate(raw, start=1):
        if r.empty():
            continue
        wrong: list[str] = []
        vol = int(r.volunteer) if r.volunteer.strip().isascii() and r.volunteer.strip().isdigit() else None
        if vol is None or vol not in volunteers:
            wrong.append("请从名单里选志愿者（本站审核通过的）" if not r.volunteer.strip() else "没有这位志愿者")
        if r.service not in services:
            wrong.append("请选服务")
        hours = _number(r.hours)
        if hours is None or not 0 < hours <= most_hours:
            wrong.append(f"服务时长要在0到{most_hours:g}小时之间")
        names = tuple(n for n in _NAME_SPLIT.split(r.names.strip()[:NAMES_MAX]) if n)
        served_text = r.served.strip()
        served = int(served_text) if served_text.isascii() and served_text.isdigit() else \
            (len(names) if not served_text and names else None)
        if served is None or not 1 <= served <= MOST_SERVED:
            wrong.append(f"服务人数要写1到{MOST_SERVED}之间的整数")
        elif len(names) > served:
            wrong.append(f"写了{len(names)}个名字，服务人数却是{served}")
        if wrong:
            errors.append(f"第{line}行：" + "；".join(wrong) + "。")
            continue
        assert vol is not None and hours is not None and served is not None
        rows.append(WalkinRow(line=line, volunteer_id=vol, service=ServiceInfo(r.service, services[r.service]),
                              hours=round(hours, 2), served=served, names=names))
    if not rows and not errors:
        errors.append("没有要登记的行：每行至少选志愿者、填时长和服务人数。")
    return rows, errors


def resident_label(row: WalkinRow) -> str:
    """Who was served, as the ledger shows it (names masked)."""
    if not row.names:
        return f"现场居民{row.served}位"
    shown = "、".join(mask_name(n) for n in row.names[:3])
    return f"{shown}等{row.served}位" if row.served > min(len(row.names), 3) else shown


def record(s: Session, *, event: Event, rows: Sequence[WalkinRow], token: str, actor: str,
           now: datetime) -> list[Order]:
    """Record the batch inside the caller's transaction: one finished, credited order per row. WalkinError when the
    event cannot take records or the batch was recorded already (its token)."""
    if not TOKEN.fullmatch(token):
        raise WalkinError("表单已过期，请刷新页面后重新填写。")
    if event.status != "scheduled":
        raise WalkinError("这场活动已取消，不能登记服务。")
    if as_utc(event.starts_at) > now:
        raise WalkinError("活动还没开始，开始后再登记现场服务。")
    key = f"walkin:{event.hub_id}:{token}"
    if s.get(JobRun, key) is not None:
        raise WalkinError("这一批已经登记过了（重复提交），没有再记一遍。")
    claim = JobRun(key=key, hub_id=event.hub_id, detail={"event": event.id, "by": actor}, at=now)
    try:
        with s.begin_nested():  # a second click racing the first waits for it here, then finds the key
            s.add(claim)
    except IntegrityError:
        raise WalkinError("这一批已经登记过了（重复提交），没有再记一遍。") from None
    office = office_user(s, event.hub_id, now)
    ended = min(as_utc(event.ends_at), now)
    made: list[Order] = []
    for row in rows:
        order = Order(hub_id=event.hub_id, state=OrderState.SUBMITTED.value, service_code=row.service.code,
                      details=f"{event.title}现场服务{row.served}位居民",  # the names stay off the ledger
                      ordered_by_user_id=office.id, resident_name="、".join(row.names) or None, address=event.place,
                      time_kind="span", start_at=event.starts_at, end_at=event.ends_at,
                      needs_support=False, created_at=now, updated_at=now)
        s.add(order)
        s.flush()
        s.add(OrderEvent(hub_id=event.hub_id, order_id=order.id, trigger="submit", from_state="",
                         to_state=OrderState.SUBMITTED.value, actor=actor, reason=f"活动现场登记（{event.title}）",
                         at=now))
        reason = "活动现场登记"
        transition(s, order, "accept", actor=actor, now=now, reason=reason, volunteer_id=row.volunteer_id,
                   accepted_at=now)
        transition(s, order, "complete", actor=actor, now=now, reason=reason, hours=row.hours, completed_at=ended)
        transition(s, order, "close", actor=actor, now=now, reason=reason, verified_by=VERIFIED_BY)
        write_record(s, order, row.service, now, verified_by=VERIFIED_BY, label=resident_label(row))
        made.append(order)
    claim.detail = {**claim.detail, "orders": [o.id for o in made]}  # what the event's page lists as recorded
    by_volunteer: dict[int, float] = {}
    for row in rows:
        by_volunteer[row.volunteer_id] = by_volunteer.get(row.volunteer_id, 0.0) + row.hours
    first = {o.volunteer_id: o for o in reversed(made)}
    for volunteer_id, hours in sorted(by_volunteer.items()):
        tell_volunteer(s, first[volunteer_id], volunteer_id,
                       f"工作人员已为您登记{event.title}的现场服务{hours:g}小时，已计入服务时长和积分，谢谢您！", now)
    return made


def hub_volunteers(s: Session, hub_id: int) -> dict[int, str]:
    """The volunteers a row may name: approved or active in the hub, by id."""
    return {vid: name for vid, name in s.execute(
        select(Volunteer.id, Volunteer.name).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.hub_id == hub_id, Membership.status.in_(ACTIVE_STATUSES)).order_by(Volunteer.name))}


def recorded_orders(s: Session, event: Event) -> list[Order]:
    """The orders walk-in batches recorded for the event, in the order they were recorded."""
    ids: list[int] = []
    for detail in s.scalars(select(JobRun.detail).where(JobRun.key.startswith(f"walkin:{event.hub_id}:"),
                                                        JobRun.hub_id == event.hub_id).order_by(JobRun.at)):
        if (detail or {}).get("event") == event.id:
            ids.extend(int(i) for i in detail.get("orders", []))
    if not ids:
        return []
    found = {o.id: o for o in s.scalars(select(Order).where(Order.hub_id == event.hub_id, Order.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
