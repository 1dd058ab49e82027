"""The time bank (志愿服务银行): verified hours in, services paid with hours out, donations; the passbook.

Append-only entries in minutes; an account (a volunteer's, or a recipient the hub names) never goes
below zero, and hours are never exchanged for money: there is no entry kind that could do that.
Withdrawals lock the account's row first, so concurrent withdrawals cannot both spend the same hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.clock import SHANGHAI, as_utc
from bot.errors import LeifengError
from storage.hot import NewRow
from storage.models import Order, TimeBankEntry, TimeBankRecipient, Volunteer
from storage.upsert import insert_new

KINDS = ("deposit", "withdraw", "refund", "donate", "receive", "adjust")
PAYABLE_STATES = ("submitted", "dispatched", "accepted", "supported")
KIND_WORDS = {"deposit": "服务存入", "withdraw": "支取", "refund": "退回", "donate": "捐赠", "receive": "受赠",
              "adjust": "调整"}


class TimeBankError(LeifengError):
    """A time-bank request that cannot be done; the message is plain Chinese for the person."""


@dataclass(frozen=True)
class Account:
    hub_id: int
    volunteer_id: int | None = None
    recipient_id: int | None = None

    def __post_init__(self) -> None:
        if (self.volunteer_id is None) == (self.recipient_id is None):
            raise ValueError("a time-bank account is a volunteer's or a recipient's, exactly one")

    def where(self) -> tuple[ColumnElement[bool], ...]:
        if self.volunteer_id is not None:
            return (TimeBankEntry.hub_id == self.hub_id, TimeBankEntry.volunteer_id == self.volunteer_id)
        return (TimeBankEntry.hub_id == self.hub_id, TimeBankEntry.recipient_id == self.recipient_id)


def hours_text(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".") + "小时"


def balance(s: Session, account: Account) -> int:
    """Minutes in the account."""
    return int(s.scalar(select(func.coalesce(func.sum(TimeBankEntry.minutes), 0)).where(*account.where())) or 0)


def _lock(s: Session, account: Account) -> None:
    """Serialise spending from one account (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already does)."""
    if account.volunteer_id is not None:
        s.execute(select(Volunteer.id).where(Volunteer.id == account.volunteer_id).with_for_update())
    else:
        s.execute(select(TimeBankRecipient.id).where(TimeBankRecipient.id == account.recipient_id).with_for_update())


def _entry(s: Session, account: Account, kind: str, minutes: int, reason: str, now: datetime, *,
           order_id: int | None = None, beneficiary: str | None = None, actor: str | None = None,
           key: str | None = None) -> TimeBankEntry | None:
    """One entry; None when its key was written before (one INSERT ... ON CONFLICT DO NOTHING: storage.upsert)."""
    values = {"hub_id": account.hub_id, "volunteer_id": account.volunteer_id, "recipient_id": account.recipient_id,
              "kind": kind, "minutes": minutes, "reason": reason, "order_id": order_id, "beneficiary": beneficiary,
              "actor": actor, "idempotency_key": key, "at": now}
    if key is not None:
        return s.scalars(insert_new(s, TimeBankEntry).values(values).returning(TimeBankEntry)).first()
    entry = TimeBankEntry(**values)
    s.add(entry)
    s.flush()
    return entry


def deposit_for_order(s: Session, order: Order, now: datetime) -> int:
    """The verified hours of a completed order go into the volunteer's account (once)."""
    if order.volunteer_id is None or not order.hours:
        return 0
    minutes = round(order.hours * 60)
    if s.autoflush:
        s.flush()  # what s.execute() would do first
    # _entry's keyed insert, built once (storage.hot): no entry object is needed, only whether it was new
    entry = _NEW_DEPOSIT.run(s.connection(), {
        "hub_id": order.hub_id, "volunteer_id": order.volunteer_id, "recipient_id": None, "kind": "deposit",
        "minutes": minutes, "reason": f"订单{order.ref}服务{hours_text(minutes)}", "order_id": order.id,
        "beneficiary": None, "actor": "system", "idempotency_key": f"tb:deposit:order:{order.id}", "at": now}).first()
    return minutes if entry else 0


_NEW_DEPOSIT = NewRow(TimeBankEntry.__table__, (
    "hub_id", "volunteer_id", "recipient_id", "kind", "minutes", "reason", "order_id", "beneficiary", "actor",
    "idempotency_key", "at"), returning=("id",))


def withdraw(s: Session, account: Account, minutes: int, reason: str, now: datetime, *, order_id: int | None = None,
             beneficiary: str | None = None, actor: str, key: str | None = None) -> TimeBankEntry | None:
    if minutes <= 0:
        raise TimeBankError("支取的时长要大于0。")
    _lock(s, account)
    have = balance(s, account)
    if minutes > have:
        raise TimeBankError(f"存折里只有{hours_text(have)}，不够支取{hours_text(minutes)}。")
    return _entry(s, account, "withdraw", -minutes, reason, now, order_id=order_id, beneficiary=beneficiary,
                  actor=actor, key=key)


def held_for_order(s: Session, order_id: int) -> tuple[Account | None, int]:
    """Which account pays the order and how many minutes it has paid so far (net of refunds)."""
    rows = s.execute(select(TimeBankEntry).where(TimeBankEntry.order_id == order_id,
                                                 TimeBankEntry.kind.in_(("withdraw", "refund")))).scalars().all()
    if not rows:
        return None, 0
    first = rows[0]
    account = Account(first.hub_id, volunteer_id=first.volunteer_id, recipient_id=first.recipient_id)
    return account, -sum(r.minutes for r in rows)


def pay_order(s: Session, *, account: Account, order: Order, minutes: int, actor: str, now: datetime) -> int:
    """Pay an open order with banked hours: the expected duration is held now and settled on completion."""
    if order.hub_id != account.hub_id:
        raise TimeBankError("这个订单不是本站的。")
    if order.state not in PAYABLE_STATES:
        raise TimeBankError(f"订单{order.ref}已经结束，不能再用时长支付。")
    if order.paid_with_hours or held_for_order(s, order.id)[0] is not None:
        raise TimeBankError(f"订单{order.ref}已经用时长支付过了。")
    beneficiary = order.resident_name or "本人"
    withdraw(s, account, minutes, f"订单{order.ref}用时长支付（为{beneficiary}）", now, order_id=order.id,
             beneficiary=beneficiary, actor=actor, key=f"tb:pay:order:{order.id}")
    order.paid_with_hours = True
    order.updated_at = now
    return minutes


def settle_order(s: Session, order: Order, now: datetime) -> int:
    """On completion: pay the actual hours; take more if the service ran longer (never past the balance;
    any rest is waived, as a volunteer service is free anyway), or give back what was held too much."""
    account, held = held_for_order(s, order.id)
    if account is None or order.hours is None:
        return 0
    actual = round(order.hours * 60)
    key = f"tb:settle:order:{order.id}"
    if actual > held:
        _lock(s, account)
        extra = min(actual - held, balance(s, account))
        if extra > 0:
            _entry(s, account, "withdraw", -extra, f"订单{order.ref}实际服务{hours_text(actual)}，补扣", now,
                   order_id=order.id, actor="system", key=key)
        return extra
    if actual < held:
        _entry(s, account, "refund", held - actual, f"订单{order.ref}实际服务{hours_text(actual)}，退回多扣的时长",
               now, order_id=order.id, actor="system", key=key)
        return actual - held
    return 0


def release_order(s: Session, order: Order, now: datetime) -> int:
    """A cancelled order paid with hours gives every minute back."""
    account, held = held_for_order(s, order.id)
    if account is None or held <= 0:
        return 0
    _entry(s, account, "refund", held, f"订单{order.ref}已取消，时长退回", now, order_id=order.id, actor="system",
           key=f"tb:release:order:{order.id}")
    return held


def donate(s: Session, *, hub_id: int, volunteer_id: int, recipient_id: int, minutes: int, actor: str,
           now: datetime) -> TimeBankRecipient:
    recipient = s.execute(select(TimeBankRecipient).where(TimeBankRecipient.id == recipient_id,
                                                          TimeBankRecipient.hub_id == hub_id)).scalar_one_or_none()
    if recipient is None or not recipient.active:
        raise TimeBankError("没有这位受赠人，请回复“捐赠时长”查看名单。")
    donor = Account(hub_id, volunteer_id=volunteer_id)
    _lock(s, donor)
    have = balance(s, donor)
    if minutes <= 0 or minutes > have:
        raise TimeBankError(f"存折里有{hours_text(have)}，捐赠的时长要大于0且不超过余额。")
    _entry(s, donor, "donate", -minutes, f"捐赠给{recipient.name}", now, beneficiary=recipient.name, actor=actor)
    giver = s.get(Volunteer, volunteer_id)  # the passbook names the giver, not the table's id (out10)
    _entry(s, Account(hub_id, recipient_id=recipient.id), "receive", minutes,
           f"志愿者{giver.name if giver is not None else volunteer_id}捐赠", now, actor=actor)
    return recipient


def recipients(s: Session, hub_id: int) -> list[TimeBankRecipient]:
    return list(s.execute(select(TimeBankRecipient).where(TimeBankRecipient.hub_id == hub_id,
                                                          TimeBankRecipient.active.is_(True))
                          .order_by(TimeBankRecipient.id)).scalars())


def passbook_text(s: Session, account: Account, *, title: str = "我的存折（志愿服务银行）", limit: int = 8) -> str:
    rows = s.execute(select(TimeBankEntry).where(*account.where())
                     .order_by(TimeBankEntry.at.desc(), TimeBankEntry.id.desc()).limit(limit)).scalars().all()
    lines = [title, f"余额：{hours_text(balance(s, account))}"]
    if not rows:
        lines.append("还没有记录。每次服务完成、居民确认后，服务时长会自动存入。")
    for r in rows:
        at = as_utc(r.at).astimezone(SHANGHAI)
        sign = "+" if r.minutes > 0 else "-"
        lines.append(f"{at:%m-%d} {KIND_WORDS.get(r.kind, r.kind)} {sign}{hours_text(abs(r.minutes))}  {r.reason}")
    lines.append("时长可用于为自己或家人预约服务（回复“时长支付 订单号”），也可回复“捐赠时长”捐给社区困难老人。"
                 "时长不能兑换现金。")
    return "\n".join(lines)
