"""Partner merchants (共建单位) and points redemption at their counters: by code, or by scanning their QR code."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.errors import LeifengError
from bot.hubsettings import HubSettings
from bot.outbox import enqueue
from bot.people import points
from storage.models import Merchant, PointsEntry, RedemptionCode, Volunteer

SCAN_PREFIX = "merchant_redeem_"  # the scene of a merchant's parameterised QR code: merchant_redeem_<id>


class MerchantError(LeifengError):
    """A merchant or redemption request that cannot be done; the message is plain Chinese."""


def get_merchant(s: Session, hub_id: int, merchant_id: int) -> Merchant:
    merchant = s.execute(select(Merchant).where(Merchant.id == merchant_id,
                                                Merchant.hub_id == hub_id)).scalar_one_or_none()
    if merchant is None:
        raise MerchantError(f"没有编号为{merchant_id}的共建商家。")
    return merchant


def add_merchant(s: Session, *, hub_id: int, code: str, name: str, now: datetime, address: str | None = None,
                 phone: str | None = None, service_point: bool = False, services: Sequence[str] = (),
                 accepts_redemptions: bool = False, staff_openid: str | None = None, shows_qr: bool = True) -> Merchant:
    if s.execute(select(Merchant.id).where(Merchant.hub_id == hub_id, Merchant.code == code)).first():
        raise MerchantError(f"商家代码“{code}”已存在。")
    merchant = Merchant(hub_id=hub_id, code=code, name=name, address=address, phone=phone,
                        service_point=service_point, services=list(services),
                        accepts_redemptions=accepts_redemptions, staff_openid=staff_openid, shows_qr=shows_qr,
                        active=True, created_at=now)
    s.add(merchant)
    s.flush()
    return merchant


def update_merchant(merchant: Merchant, *, name: str, address: str | None, phone: str | None, service_point: bool,
                    services: Sequence[str], accepts_redemptions: bool, staff_openid: str | None,
                    shows_qr: bool | None = None) -> None:
    """Change what staff keep about a merchant (its code stays: the staff accounts of the merchant name it);
    `shows_qr` None leaves the QR switch as it is."""
    merchant.name, merchant.address, merchant.phone = name.strip(), (address or "").strip() or None, \
        (phone or "").strip() or None
    merchant.service_point, merchant.services = service_point, list(services)
    merchant.accepts_redemptions, merchant.staff_openid = accepts_redemptions, (staff_openid or "").strip() or None
    if shows_qr is not None:
        merchant.shows_qr = shows_qr


def set_merchant_active(merchant: Merchant, active: bool) -> None:
    """A disabled merchant takes no redemptions (by code or by scan) and its counter staff are not recognised."""
    merchant.active = active


def merchants(s: Session, hub_id: int) -> list[Merchant]:
    return list(s.execute(select(Merchant).where(Merchant.hub_id == hub_id).order_by(Merchant.id)).scalars())


def merchant_of_staff(s: Session, hub_id: int, openid: str) -> Merchant | None:
    return s.execute(select(Merchant).where(Merchant.hub_id == hub_id, Merchant.staff_openid == openid,
                                            Merchant.active.is_(True)).order_by(Merchant.id)).scalars().first()


def _usable(merchant: Merchant) -> None:
    if not merchant.active or not merchant.accepts_redemptions:
        raise MerchantError(f"{merchant.name}暂不接受积分兑换。")


# -- codes --------------------------------------------------------------------------------------


def issue_code(s: Session, *, hub_id: int, volunteer_id: int, now: datetime, rules: HubSettings) -> RedemptionCode:
    """A fresh 8-digit code the volunteer shows at the counter; earlier unused codes stop working."""
    for old in s.execute(select(RedemptionCode).where(RedemptionCode.hub_id == hub_id,
                                                      RedemptionCode.volunteer_id == volunteer_id,
                                                      RedemptionCode.used_at.is_(None))).scalars():
        old.expires_at = min(as_utc(old.expires_at), now)
    for _ in range(20):
        code = f"{secrets.randbelow(10 ** 8):08d}"
        if s.execute(select(RedemptionCode.id).where(RedemptionCode.hub_id == hub_id,
                                                     RedemptionCode.code == code)).first() is None:
            row = RedemptionCode(hub_id=hub_id, volunteer_id=volunteer_id, code=code, created_at=now,
                                 expires_at=now + timedelta(minutes=rules.redemption_code_minutes))
            s.add(row)
            s.flush()
            return row
    raise MerchantError("兑换码生成失败，请稍后再试。")  # pragma: no cover - 10^8 codes per hub


@dataclass(frozen=True)
class Redemption:
    entry: PointsEntry
    merchant: Merchant
    volunteer: Volunteer
    balance: int


def _finish(s: Session, hub_id: int, merchant: Merchant, volunteer_id: int, entry: PointsEntry,
            now: datetime) -> Redemption:
    volunteer = s.get(Volunteer, volunteer_id)
    assert volunteer is not None
    left = points.balance(s, hub_id, volunteer_id)
    openid = points.openid_of(s, hub_id, volunteer_id)
    if openid is not None:
        enqueue(s, hub_id=hub_id, to=openid, now=now, idempotency_key=f"redeemed:{entry.id}",
                text=f"您在{merchant.name}兑换了{-entry.points}积分，剩余{left}分。")
    return Redemption(entry, merchant, volunteer, left)


def redeem_code(s: Session, *, hub_id: int, staff_openid: str, code: str, amount: int, now: datetime,
                rules: HubSettings) -> Redemption:
    """The merchant's staff enters the volunteer's code and the points to take."""
    merchant = merchant_of_staff(s, hub_id, staff_openid)
    if merchant is None:
        raise MerchantError("您不是本站登记的共建商家工作人员，不能核销兑换码。")
    _usable(merchant)
    row = s.execute(select(RedemptionCode).where(RedemptionCode.hub_id == hub_id,
                                                 RedemptionCode.code == code.strip())
                    .with_for_update()).scalar_one_or_none()
    if row is None:
        raise MerchantError("兑换码不对，请核对后再输入。")
    if row.used_at is not None:
        raise MerchantError("这个兑换码已经用过了，请志愿者重新获取（回复“兑换”）。")
    if as_utc(row.expires_at) <= now:
        raise MerchantError("这个兑换码已过期，请志愿者重新获取（回复“兑换”）。")
    entry = points.redeem(s, hub_id=hub_id, volunteer_id=row.volunteer_id, points=amount,
                          reason=f"在{merchant.name}兑换（兑换码）", now=now, actor=staff_openid,
                          merchant_id=merchant.id, rules=rules)
    row.used_at, row.merchant_id, row.points_entry_id = now, merchant.id, entry.id
    return _finish(s, hub_id, merchant, row.volunteer_id, entry, now)


def redeem_by_scan(s: Session, *, hub_id: int, volunteer_id: int, merchant_id: int, amount: int, actor: str,
                   now: datetime, rules: HubSettings) -> Redemption:
    """The volunteer scanned the merchant's QR code and confirmed the points in chat (a merchant whose counter no
    longer shows its QR takes only codes: a photo of an old poster redeems nothing)."""
    merchant = get_merchant(s, hub_id, merchant_id)
    _usable(merchant)
    if not merchant.shows_qr:
        raise MerchantError(f"{merchant.name}不接受扫码兑换，请在柜台出示兑换码（回复“兑换”获取）。")
    entry = points.redeem(s, hub_id=hub_id, volunteer_id=volunteer_id, points=amount,
                          reason=f"在{merchant.name}兑换（扫码）", now=now, actor=actor, merchant_id=merchant.id,
                          rules=rules)
    done = _finish(s, hub_id, merchant, volunteer_id, entry, now)
    if merchant.staff_openid:
        enqueue(s, hub_id=hub_id, to=merchant.staff_openid, now=now, idempotency_key=f"redeemed-merchant:{entry.id}",
                text=f"志愿者{done.volunteer.name}扫码兑换了{amount}积分（流水号{entry.id}），请按约定提供商品或服务。")
    return done
