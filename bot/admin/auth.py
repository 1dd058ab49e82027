"""Staff sign-in for /admin: argon2 password hashes, a DB-backed lock-out, roles and what each may do."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import LeifengError
from storage.models import AuditLog, Hub, Merchant, Team
from storage.models_admin import STAFF_ROLES, LoginAttempt, StaffAccount

ROLE_NAMES = {"admin": "系统管理员", "staff": "社区工作人员", "leader": "队长", "merchant": "商户"}
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD = 10

# What each role may do. Scoping (which hub, which team) is applied on top of this by the views.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"dashboard", "orders.view", "orders.act", "orders.assign", "volunteers.view",
                        "volunteers.ids", "volunteers.act", "teams.view", "teams.edit", "teams.members",
                        "merchants.view", "merchants.edit", "catalogue.edit", "events", "ledger", "audit",
                        "staff.manage", "hubs.switch", "inbox"}),
    "staff": frozenset({"dashboard", "orders.view", "orders.act", "orders.assign", "volunteers.view",
                        "volunteers.ids", "volunteers.act", "teams.view", "teams.edit", "teams.members",
                        "merchants.view", "merchants.edit", "catalogue.edit", "events", "ledger", "audit",
                        "inbox"}),
    # a leader's inbox holds only residents with an order of the team, phones masked (bot/admin/pages_inbox.py)
    # teams.members: a leader adds and removes the people of their own team only (bot/admin/pages_teams.py)
    "leader": frozenset({"orders.view", "orders.assign", "volunteers.view", "volunteers.ids", "teams.view",
                         "teams.members", "inbox"}),
    # a merchant sees volunteers' names, star levels and points (for redemptions), never ID numbers or phones
    "merchant": frozenset({"volunteers.view", "merchants.view"}),
}

_hasher = PasswordHasher()
# verified against when the username is unknown, so both cases take the same time
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


class StaffError(LeifengError):
    """A staff account request that cannot be done; the message is plain Chinese."""


@dataclass(frozen=True)
class Staff:
    """The signed-in person, detached from any session (views open their own)."""

    id: int
    username: str
    display_name: str
    role: str
    hub_id: int
    team_id: int | None
    merchant_id: int | None

    @property
    def actor(self) -> str:
        return f"web:{self.username}"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def staff_of(account: StaffAccount) -> Staff:
    return Staff(id=account.id, username=account.username, display_name=account.display_name or account.username,
                 role=account.role, hub_id=account.hub_id, team_id=account.team_id, merchant_id=account.merchant_id)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"密码至少{MIN_PASSWORD}位。")
    if password.strip() != password or not password.strip():
        raise StaffError("密码前后不能有空格。")


@dataclass(frozen=True)
class LockoutRule:
    attempts: int = 5  # failed sign-ins of one name in the window lock that name
    minutes: int = 15
    # failed sign-ins from one client address (whatever the names) in the window lock that address: each one
    # costs ~0.5 s of argon2 on a web worker, so a locked address is refused before any hashing
    address_attempts: int = 20


def recent_failures(s: Session, username: str, now: datetime, rule: LockoutRule) -> int:
    """Failures in the window after the last successful sign-in (rows in insertion order: ids)."""
    since = now - timedelta(minutes=rule.minutes)
    recent = (LoginAttempt.username == username, LoginAttempt.at >= since)
    last_ok = s.scalar(select(func.max(LoginAttempt.id)).where(*recent, LoginAttempt.ok.is_(True))) or 0
    return int(s.scalar(select(func.count()).select_from(LoginAttempt).where(
        *recent, LoginAttempt.ok.is_(False), LoginAttempt.id > last_ok)) or 0)


def address_failures(s: Session, remote_addr: str, now: datetime, rule: LockoutRule) -> int:
    """Failures from one client address in the window. A success does not reset them: whoever holds one
    account must not be able to clear the count while guessing the passwords of others."""
    since = now - timedelta(minutes=rule.minutes)
    return int(s.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.remote_addr == remote_addr, LoginAttempt.at >= since, LoginAttempt.ok.is_(False))) or 0)


def _recordable(text: str) -> str:
    """A typed name as it can be stored: no NUL (PostgreSQL refuses it in text) or other control characters."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)[:64]


@dataclass(frozen=True)
class LoginResult:
    account: StaffAccount | None
    error: str | None = None


def authenticate(s: Session, username: str, password: str, *, now: datetime, remote_addr: str | None,
                 rule: LockoutRule) -> LoginResult:
    """Check a sign-in inside the caller's transaction, which must commit either way: every attempt is
    recorded, and the recorded failures are the lock-out (so it holds across processes)."""
    username = username.strip().lower()
    remote_addr = _recordable(remote_addr) if remote_addr else None
    # every refusal before the password hash is checked costs no hashing
    if remote_addr and address_failures(s, remote_addr, now, rule) >= rule.address_attempts:
        s.add(LoginAttempt(username=_recordable(username), ok=False, remote_addr=remote_addr, at=now))
        return LoginResult(None, f"登录失败次数过多，请{rule.minutes}分钟后再试。")
    if not USERNAME.fullmatch(username):  # no account can have this name: nothing to look up or to hash
        s.add(LoginAttempt(username=_recordable(username), ok=False, remote_addr=remote_addr, at=now))
        return LoginResult(None, "用户名或密码不对。")
    if recent_failures(s, username, now, rule) >= rule.attempts:
        s.add(LoginAttempt(username=username, ok=False, remote_addr=remote_addr, at=now))
        return LoginResult(None, f"登录失败次数过多，账号已锁定，请{rule.minutes}分钟后再试。")
    account = s.execute(select(StaffAccount).where(StaffAccount.username == username)).scalar_one_or_none()
    ok = verify_password(account.password_hash if account else _DUMMY_HASH, password)
    ok = ok and account is not None and account.active
    s.add(LoginAttempt(username=username, ok=ok, remote_addr=remote_addr, at=now))
    if not ok or account is None:
        return LoginResult(None, "用户名或密码不对。")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = now
    s.add(AuditLog(hub_id=account.hub_id, actor=f"web:{account.username}", action="staff_login",
                   subject=f"staff:{account.id}", detail={"remote_addr": remote_addr}, at=now))
    return LoginResult(account)


def create_account(s: Session, *, username: str, password: str, role: str, hub_slug: str, now: datetime,
                   actor: str, display_name: str | None = None, team_code: str | None = None,
                   merchant_code: str | None = None) -> StaffAccount:
    """Make a staff account (CLI and the staff page); a leader names a team, a merchant a merchant of the hub."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise StaffError("用户名只能用3-64位字母、数字、点、下划线或减号。")
    if role not in STAFF_ROLES:
        raise StaffError(f"角色必须是：{', '.join(STAFF_ROLES)}")
    check_password_rules(password)
    hub = s.execute(select(Hub).where(Hub.slug == hub_slug)).scalar_one_or_none()
    if hub is None:
        raise StaffError(f"没有站点 {hub_slug}。")
    if s.execute(select(StaffAccount.id).where(StaffAccount.username == username)).first() is not None:
        raise StaffError(f"用户名 {username} 已被使用。")
    team_id = merchant_id = None
    if role == "leader":
        team = s.execute(select(Team).where(Team.hub_id == hub.id, Team.code == (team_code or ""))).scalar_one_or_none()
        if team is None:
            raise StaffError("队长账号要指定本站的队伍（队伍代码）。")
        team_id = team.id
    if role == "merchant":
        merchant = s.execute(select(Merchant).where(Merchant.hub_id == hub.id,
                                                    Merchant.code == (merchant_code or ""))).scalar_one_or_none()
        if merchant is None:
            raise StaffError("商户账号要指定本站的商户（商户代码）。")
        merchant_id = merchant.id
    account = StaffAccount(username=username, display_name=(display_name or "").strip() or None,
                           password_hash=hash_password(password), role=role, hub_id=hub.id, team_id=team_id,
                           merchant_id=merchant_id, active=True, session_stamp=secrets.token_hex(8), created_at=now)
    s.add(account)
    s.flush()
    s.add(AuditLog(hub_id=hub.id, actor=actor, action="staff_create", subject=f"staff:{account.id}",
                   detail={"username": username, "role": role, "team": team_code, "merchant": merchant_code}, at=now))
    return account


def set_active(s: Session, account: StaffAccount, active: bool, *, actor: str, now: datetime) -> None:
    account.active = active
    account.session_stamp = secrets.token_hex(8)  # signs out every open session of the account
    s.add(AuditLog(hub_id=account.hub_id, actor=actor, action="staff_enable" if active else "staff_disable",
                   subject=f"staff:{account.id}", detail={"username": account.username}, at=now))


def sign_out(s: Session, account: StaffAccount, *, actor: str, now: datetime) -> None:
    """End every open session of the account: a copy of the session cookie stops working with the original."""
    account.session_stamp = secrets.token_hex(8)
    s.add(AuditLog(hub_id=account.hub_id, actor=actor, action="staff_logout", subject=f"staff:{account.id}",
                   detail={"username": account.username}, at=now))


def set_password(s: Session, account: StaffAccount, password: str, *, actor: str, now: datetime) -> None:
    check_password_rules(password)
    account.password_hash = hash_password(password)
    account.session_stamp = secrets.token_hex(8)
    s.add(AuditLog(hub_id=account.hub_id, actor=actor, action="staff_password", subject=f"staff:{account.id}",
                   detail={"username": account.username}, at=now))
