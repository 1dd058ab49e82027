"""Points: earned from hours and the rating by the hub's rules; an append-only ledger per hub.

Kinds: earn, redeem, adjust, reverse, expire. The balance is the sum and never goes below zero:
every spend locks the volunteer's row first (SELECT ... FOR UPDATE on PostgreSQL; SQLite sessions
begin with BEGIN IMMEDIATE, which serialises writers anyway), then checks and writes.
Points may expire (first earned, first spent); hours never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.errors import LeifengError
from bot.hubsettings import HubSettings
from bot.outbox import Message, enqueue_many
from bot.people import stars, timebank, volunteers
from bot.people.volunteers import total_hours
from storage.hot import Hot, NewRow
from storage.models import Membership, Order, PointsEntry, ServiceRecord, User, Volunteer

KIND_WORDS = {"earn": "服务获得", "redeem": "兑换", "adjust": "调整", "reverse": "冲正", "expire": "过期"}


class PointsError(LeifengError):
    """A points request that cannot be done; the message is plain Chinese for the person."""


def points_for(hours: float, hearts: int | None, rules: HubSettings, *, emergency: bool = False) -> int:
    """points per hour x the multiplier for the hearts, capped per order (0 hearts earns nothing);
    an emergency call-out adds the bonus unless the resident gave 0 hearts."""
    multiplier = rules.unrated_multiplier if hearts is None else float(rules.heart_multipliers.get(str(hearts), 0.0))
    points = max(0, min(rules.max_points_per_order, round(hours * rules.points_per_hour * multiplier)))
    if emergency and multiplier > 0:
        points += rules.emergency_bonus_points
    return points


# -- hours and star levels ----------------------------------------------------------------------


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year on the Shanghai calendar, as UTC instants."""
    start = datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(ZoneInfo("UTC"))
    end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(ZoneInfo("UTC"))
    return start, end


def hours_between(s: Session, hub_id: int | None, volunteer_id: int, start: datetime, end: datetime) -> float:
    q = select(func.coalesce(func.sum(ServiceRecord.hours), 0.0)).where(
        ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.service_date >= start,
        ServiceRecord.service_date < end)
    if hub_id is not None:
        q = q.where(ServiceRecord.hub_id == hub_id)
    return float(s.scalar(q) or 0.0)


def year_hours(s: Session, hub_id: int, volunteer_id: int, year: int) -> float:
    """Hours in one calendar year in this community (the 志愿者骨干 rule)."""
    return hours_between(s, hub_id, volunteer_id, *year_bounds(year))


def openid_of(s: Session, hub_id: int, volunteer_id: int) -> str | None:
    row = s.execute(select(User.openid).join(Membership, Membership.user_id == User.id).where(
        Membership.hub_id == hub_id, Membership.volunteer_id == volunteer_id)).first()
    if row is not None:
        return str(row[0])
    return _openid_by_user_row(s, hub_id, volunteer_id)


def _openid_by_user_row(s: Session, hub_id: int, volunteer_id: int) -> str | None:
    """openid_of's second way: a user of the hub who is this volunteer, without a membership naming them."""
    row = s.execute(select(User.openid).where(User.hub_id == hub_id, User.volunteer_id == volunteer_id)).first()
    return str(row[0]) if row is not None else None


@dataclass(frozen=True)
class Here:
    """A volunteer's membership of one hub, as crediting an order needs it: its id and status, and the openid of
    its user (None without a membership, or for one without a user: bot.serviceloop.records.tell_volunteer then
    tells nobody)."""

    member_id: int | None
    status: str | None
    openid: str | None


_M, _U, _R = Membership.__table__, User.__table__, ServiceRecord.__table__
_HERE = Hot(select(_M.c.id, _M.c.status, _U.c.openid).select_from(_M.outerjoin(_U, _U.c.id == _M.c.user_id))
            .where(_M.c.hub_id == bindparam("hub_id"), _M.c.volunteer_id == bindparam("volunteer_id")))
# total_hours and year_hours in one statement: every hub's, and this hub's in [lo, hi)
_HOURS = Hot(select(func.coalesce(func.sum(_R.c.hours), 0.0),
                    func.coalesce(func.sum(case((and_(_R.c.hub_id == bindparam("hub_id"),
                                                      _R.c.service_date >= bindparam("lo"),
                                                      _R.c.service_date < bindparam("hi")), _R.c.hours))), 0.0))
             .where(_R.c.volunteer_id == bindparam("volunteer_id")))


def volunteer_here(s: Session, hub_id: int, volunteer_id: int) -> Here:
    """The volunteer's membership of the hub and its user's openid, in one statement."""
    if s.autoflush:
        s.flush()  # what a query through the session does first
    row = _HERE.run(s.connection(), {"hub_id": hub_id, "volunteer_id": volunteer_id}).first()
    return Here(None, None, None) if row is None else Here(row[0], row[1], row[2])


def _hours_now(s: Session, hub_id: int, volunteer_id: int, year: int) -> tuple[float, float]:
    """(total_hours, year_hours of `year` in this hub) in one statement."""
    lo, hi = year_bounds(year)
    row = _HOURS.run(s.connection(), {"hub_id": hub_id, "lo": lo, "hi": hi, "volunteer_id": volunteer_id}).first()
    assert row is not None  # an aggregate without GROUP BY is one row
    return float(row[0] or 0.0), float(row[1] or 0.0)


def _announce_standing(s: Session, order: Order, record_hours: float, rules: HubSettings, now: datetime,
                       here: Here) -> None:
    """Tell the volunteer when this service took them to a new star level or made them 志愿者骨干."""
    assert order.volunteer_id is not None
    # openid_of: their membership's user (read with the membership), else a user of the hub who is this volunteer
    openid = here.openid if here.openid is not None else _openid_by_user_row(s, order.hub_id, order.volunteer_id)
    if openid is None:
        return
    year = as_utc(now).astimezone(SHANGHAI).year
    after, in_year = _hours_now(s, order.hub_id, order.volunteer_id, year)
    news = [Message(openid, f"恭喜！您的累计志愿服务已达{after:g}小时，成为{stars.star_label(level)}。感谢您的付出！",
                    idempotency_key=f"star:{order.volunteer_id}:{level}")
            for level in stars.crossed(after - record_hours, after, rules.star_hours)]
    if in_year >= rules.core_hours_per_year > in_year - record_hours:
        news.append(Message(openid, f"恭喜！您{year}年在本社区服务已满{rules.core_hours_per_year:g}小时，成为本社区"
                                    "“志愿者骨干”。",
                            idempotency_key=f"core:{order.hub_id}:{order.volunteer_id}:{year}"))
    enqueue_many(s, hub_id=order.hub_id, now=now, messages=news)


# credit_for_order's entry, at most one per order (its idempotency key is unique), built once (storage.hot)
_NEW_EARNING = NewRow(PointsEntry.__table__, (
    "hub_id", "volunteer_id", "kind", "points", "reason", "order_id", "idempotency_key", "actor", "at"),
    returning=("id",))


def credit_for_order(s: Session, order: Order, rules: HubSettings, now: datetime,
                     record_hours: float | None = None, here: Here | None = None) -> int:
    """Points for a completed order (once), its hours into the time bank, settlement of an order paid
    with hours, a first service making an approved volunteer active, and star-level news. `record_hours`: the
    hours of the order's ledger row, when the caller has just written it (else they are read); `here`: the
    volunteer's membership as the caller read it in this transaction (volunteer_here; else it is read)."""
    if order.volunteer_id is None or order.hours is None:
        return 0
    key = f"earn:order:{order.id}"
    emergency = order.service_code in rules.emergency_services
    points = points_for(order.hours, order.rating, rules, emergency=emergency)
    hearts = "未评价" if order.rating is None else f"{order.rating}颗心"
    bonus = "，应急出动" if emergency else ""
    if s.autoflush:
        s.flush()  # what s.execute() would do first
    earned = _NEW_EARNING.run(s.connection(), {
        "hub_id": order.hub_id, "volunteer_id": order.volunteer_id, "kind": "earn", "points": points,
        "reason": f"订单{order.ref}：{order.hours:g}小时，{hearts}{bonus}", "order_id": order.id,
        "idempotency_key": key, "actor": "system", "at": now}).first()
    if earned is None:  # credited before (the key is unique: a concurrent credit waits, then skips)
        return 0
    timebank.deposit_for_order(s, order, now)
    if order.paid_with_hours:
        timebank.settle_order(s, order, now)
    here = here if here is not None else volunteer_here(s, order.hub_id, order.volunteer_id)
    if here.member_id is not None and here.status == "approved":
        member = s.get_one(Membership, here.member_id)
        if member.status == "approved":  # as the session holds it
            volunteers.change_status(s, member, "active", actor="system", now=now, reason="完成第一次服务",
                                     notify=False)
    s.flush()
    recorded = record_hours if record_hours is not None else \
        s.scalar(select(ServiceRecord.hours).where(ServiceRecord.order_id == order.id))
    _announce_standing(s, order, float(recorded if recorded is not None else 0.0), rules, now, here)
    return points


# -- the ledger ---------------------------------------------------------------------------------


def balance(s: Session, hub_id: int, volunteer_id: int) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.volunteer_id == volunteer_id)) or 0)


def lock_volunteer(s: Session, volunteer_id: int) -> None:
    """Serialise every spend of one volunteer's points (and hours) across processes."""
    found = s.execute(select(Volunteer.id).where(Volunteer.id == volunteer_id).with_for_update()).first()
    if found is None:
        raise PointsError(f"没有编号为{volunteer_id}的志愿者。")


def _add(s: Session, hub_id: int, volunteer_id: int, kind: str, points: int, reason: str, now: datetime, *,
         actor: str | None, key: str | None = None, order_id: int | None = None,
         merchant_id: int | None = None) -> PointsEntry | None:
    if key is not None and s.execute(select(PointsEntry.id).where(PointsEntry.idempotency_key == key)).first():
        return None
    entry = PointsEntry(hub_id=hub_id, volunteer_id=volunteer_id, kind=kind, points=points, reason=reason,
                        order_id=order_id, merchant_id=merchant_id, actor=actor, idempotency_key=key, at=now)
    s.add(entry)
    s.flush()
    return entry


def redeem(s: Session, *, hub_id: int, volunteer_id: int, points: int, reason: str, now: datetime, actor: str,
           merchant_id: int | None = None, rules: HubSettings | None = None) -> PointsEntry:
    """Spend points; refused (nothing written) when the balance would go below zero."""
    if points <= 0:
        raise PointsError("兑换的积分要大于0。")
    if rules is not None and points > rules.max_redeem_points:
        raise PointsError(f"一次最多兑换{rules.max_redeem_points}分。")
    lock_volunteer(s, volunteer_id)
    if rules is not None:
        expire_points(s, hub_id, volunteer_id, now, rules)
    have = balance(s, hub_id, volunteer_id)
    if points > have:
        raise PointsError(f"积分不够：现有{have}分，需要{points}分。")
    entry = _add(s, hub_id, volunteer_id, "redeem", -points, reason, now, actor=actor, merchant_id=merchant_id)
    assert entry is not None
    return entry


def adjust(s: Session, *, hub_id: int, volunteer_id: int, points: int, reason: str, actor: str,
           now: datetime) -> PointsEntry:
    """Staff correction with a reason; a deduction may not take the balance below zero."""
    if points == 0 or not reason.strip():
        raise PointsError("调整要有非零的分数和原因。")
    lock_volunteer(s, volunteer_id)
    if points < 0 and balance(s, hub_id, volunteer_id) + points < 0:
        raise PointsError(f"扣减后积分会小于0（现有{balance(s, hub_id, volunteer_id)}分）。")
    entry = _add(s, hub_id, volunteer_id, "adjust", points, reason.strip(), now, actor=actor)
    assert entry is not None
    return entry


def reverse_order(s: Session, *, hub_id: int, order_id: int, reason: str, actor: str, now: datetime) -> PointsEntry:
    """Take back the points an order earned (e.g. the service turned out not to have happened)."""
    earned = s.execute(select(PointsEntry).where(PointsEntry.hub_id == hub_id, PointsEntry.order_id == order_id,
                                                 PointsEntry.kind == "earn")).scalar_one_or_none()
    if earned is None:
        raise PointsError(f"订单{order_id}没有获得过积分。")
    lock_volunteer(s, earned.volunteer_id)
    have = balance(s, hub_id, earned.volunteer_id)
    take = min(earned.points, max(0, have))  # already spent points cannot be taken twice; the rest is noted
    spent = "" if take == earned.points else f"，已用掉{earned.points - take}分"
    order = s.get(Order, order_id)  # the volunteer's statement names it by its 单号
    named = order.ref if order is not None else order_id
    entry = _add(s, hub_id, earned.volunteer_id, "reverse", -take, f"冲正订单{named}（{reason}）{spent}", now,
                 actor=actor, order_id=order_id, key=f"reverse:order:{order_id}")
    if entry is None:
        raise PointsError(f"订单{order_id}的积分已经冲正过了。")
    return entry


def expire_points(s: Session, hub_id: int, volunteer_id: int, now: datetime, rules: HubSettings) -> int:
    """Points earned before the expiry cut-off and not yet spent (first in, first out) expire now.

    Unspent old points = (everything credited before the cut-off) - (everything ever taken out);
    earlier expiries count as taken out, so running this again expires nothing more."""
    if rules.points_expiry_days <= 0:
        return 0
    cutoff = now - timedelta(days=rules.points_expiry_days)
    old_credits = int(s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.volunteer_id == volunteer_id, PointsEntry.points > 0,
        PointsEntry.at < cutoff)) or 0)
    debits = -int(s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.volunteer_id == volunteer_id, PointsEntry.points < 0)) or 0)
    amount = old_credits - debits
    if amount <= 0:
        return 0
    _add(s, hub_id, volunteer_id, "expire", -amount, f"{rules.points_expiry_days}天前获得的积分到期", now,
         actor="system")
    return amount


def expire_hub(s: Session, hub_id: int, now: datetime, rules: HubSettings) -> dict[int, int]:
    """Expire old points of everyone in a hub; returns {volunteer_id: points expired}."""
    ids = s.scalars(select(PointsEntry.volunteer_id).where(PointsEntry.hub_id == hub_id).distinct()).all()
    out: dict[int, int] = {}
    for vid in ids:
        lock_volunteer(s, vid)
        amount = expire_points(s, hub_id, vid, now, rules)
        if amount:
            out[vid] = amount
    return out


@dataclass(frozen=True)
class Summary:
    balance: int
    hours: float
    year_hours: float
    standing: stars.Standing
    core: bool
    recent: list[PointsEntry]


def summary(s: Session, hub_id: int, volunteer_id: int, rules: HubSettings, now: datetime, limit: int = 5) -> Summary:
    hours = total_hours(s, volunteer_id)
    in_year = year_hours(s, hub_id, volunteer_id, as_utc(now).astimezone(SHANGHAI).year)
    recent = list(s.execute(select(PointsEntry).where(PointsEntry.hub_id == hub_id,
                                                      PointsEntry.volunteer_id == volunteer_id)
                            .order_by(PointsEntry.at.desc(), PointsEntry.id.desc()).limit(limit)).scalars())
    return Summary(balance(s, hub_id, volunteer_id), hours, in_year, stars.standing(hours, rules.star_hours),
                   stars.is_core(in_year, rules.core_hours_per_year), recent)


def points_text(s: Session, hub_id: int, volunteer_id: int, rules: HubSettings, now: datetime,
                in_chat: bool = True) -> str:
    """The "积分" reply: balance, hours, star level, progress to the next level, the last entries; `in_chat`: with how
    to redeem them in chat (staff reading it on the command line get none)."""
    sm = summary(s, hub_id, volunteer_id, rules, now)
    year = as_utc(now).astimezone(SHANGHAI).year
    lines = [f"积分余额：{sm.balance} 分", f"累计服务：{sm.hours:g} 小时（{sm.standing.label}）"]
    if sm.standing.next_level is not None:
        lines.append(f"再服务 {sm.standing.hours_to_next:g} 小时可升为{sm.standing.next_level}星级。")
    else:
        lines.append("您已是最高星级，谢谢您！")
    core = "，已是志愿者骨干" if sm.core else f"，满{rules.core_hours_per_year:g}小时成为志愿者骨干"
    lines.append(f"{year}年在本社区服务 {sm.year_hours:g} 小时{core}。")
    if sm.recent:
        lines.append("最近记录：")
        for e in sm.recent:
            at = as_utc(e.at).astimezone(SHANGHAI)
            lines.append(f"{at:%m-%d} {KIND_WORDS.get(e.kind, e.kind)} {e.points:+d}  {e.reason}")
    if in_chat:
        lines.append("兑换积分请回复“兑换”。")
    return "\n".join(lines)
