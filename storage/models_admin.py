"""Models of the staff web console (/admin): staff accounts, login attempts, catalogue versions, WeChat links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId

# admin: every hub; staff (社区工作人员): one hub; leader (队长): one team; merchant (商户): one merchant
STAFF_ROLES = ("admin", "staff", "leader", "merchant")


class StaffAccount(Base):
    """Somebody who signs in to /admin. The password is stored only as an argon2 hash."""

    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)  # an admin's home hub
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))  # a leader's team
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))  # a merchant's shop
    active: Mapped[bool] = mapped_column(default=True)
    # changes when the password changes or the account is disabled: signed session cookies issued
    # before then stop working
    session_stamp: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # the WeChat user (of the account's hub) linked by scanning a staff-link QR code: staff notices reach them
    wechat_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LoginAttempt(Base):
    """Every sign-in attempt; the lock-outs count recent failures here (per name, per client address), so they
    hold across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
                      Index("ix_login_attempts_at", "at"))  # migration 0020: retention by age
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]


class CatalogueVersion(Base):
    """One saved version of a hub's service catalogue (the same shape as the TOML file); the newest is used."""

    __tablename__ = "catalogue_versions"
    __table_args__ = (UniqueConstraint("hub_id", "version", name="uq_catalogue_versions_hub_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    version: Mapped[int]
    data: Mapped[dict[str, Any]]  # {"service": [{...}, ...]}, validated by intents.catalogue before saving
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class StaffLinkScene(Base):
    """A temporary parameterised QR code that links whoever scans it to a staff account: single-use, expiring."""

    __tablename__ = "staff_link_scenes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scene: Mapped[str] = mapped_column(String(64), unique=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    staff_account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    ticket: Mapped[str | None] = mapped_column(String(200))  # WeChat's ticket: the code's picture
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
