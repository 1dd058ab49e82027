"""`leifeng staff ...`: accounts for the web console (/admin); `staff create` makes the first admin."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import auth
from bot.config import load_config
from bot.inbox import handover
from bot.services import Services, build_services
from storage.db import transaction
from storage.models import Hub, User
from storage.models_admin import STAFF_ROLES, StaffAccount


def _services() -> Services:
    return build_services(load_config())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("no password on standard input")
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("staff")
def staff_cli() -> None:
    """Web console accounts (admin, community staff, team leaders, merchants)."""


@staff_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True,
              help="admin (all hubs), staff (社区工作人员), leader (队长), merchant (商户).")
@click.option("--hub", "slug", default="default", show_default=True, help="Hub slug (an admin's home hub).")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--team", "team_code", default=None, help="Team code (for a leader).")
@click.option("--merchant", "merchant_code", default=None, help="Merchant code (for a merchant).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create(username: str, role: str, slug: str, display_name: str | None, team_code: str | None,
           merchant_code: str | None, password_stdin: bool) -> None:
    """Create an account; the password is prompted for (or read with --password-stdin)."""
    password = _read_password(password_stdin)
    svc = _services()
    try:
        with transaction(svc.sessions) as s:
            account = auth.create_account(s, username=username, password=password, role=role, hub_slug=slug,
                                          now=svc.clock.now(), actor="cli", display_name=display_name,
                                          team_code=team_code, merchant_code=merchant_code)
            name = account.username
    except auth.StaffError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"account {name} ({role}) created for hub {slug}; sign in at /admin/login")


@staff_cli.command("list")
def list_accounts() -> None:
    """List accounts."""
    svc = _services()
    with svc.sessions() as s:
        rows = s.execute(select(StaffAccount, Hub.slug).join(Hub, Hub.id == StaffAccount.hub_id)
                         .order_by(StaffAccount.id)).all()
        for a, slug in rows:
            click.echo(f"{a.id}\t{a.username}\t{a.role}\t{slug}\t{'active' if a.active else 'disabled'}"
                       f"\t{'wechat linked' if a.wechat_user_id else 'no wechat'}")
    if not rows:
        click.echo("no accounts: create one with `leifeng staff create --username NAME --role admin`")


def _with_account(username: str, run: Callable[[Session, StaffAccount, datetime], None],
                  svc: Services | None = None) -> None:
    svc = svc or _services()
    try:
        with transaction(svc.sessions) as s:
            account = s.execute(select(StaffAccount).where(StaffAccount.username == username.strip().lower())
                                ).scalar_one_or_none()
            if account is None:
                raise click.ClickException(f"no account {username}")
            run(s, account, svc.clock.now())
    except (auth.StaffError, handover.HandoverError) as exc:
        raise click.ClickException(str(exc)) from exc


@staff_cli.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def password(username: str, password_stdin: bool) -> None:
    """Set a new password (signs the account out everywhere)."""
    new = _read_password(password_stdin)
    _with_account(username, lambda s, a, now: auth.set_password(s, a, new, actor="cli", now=now))
    click.echo(f"password of {username} changed")


@staff_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account (signs it out everywhere)."""
    _with_account(username, lambda s, a, now: auth.set_active(s, a, False, actor="cli", now=now))
    click.echo(f"{username} disabled")


@staff_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account."""
    _with_account(username, lambda s, a, now: auth.set_active(s, a, True, actor="cli", now=now))
    click.echo(f"{username} enabled")


@staff_cli.command("link")
@click.argument("username")
@click.option("--openid", default=None,
              help="Link this WeChat user of the account's hub at once (they must have written to the account); "
                   "without it, print a temporary QR code to scan instead.")
def link(username: str, openid: str | None) -> None:
    """Link a WeChat to an admin or staff account: its staff notices go there (the staff role for that hub)."""
    svc = _services()
    if openid is None:
        found: list[int] = []
        _with_account(username, lambda s, a, now: found.append(a.id), svc)
        try:
            code = handover.make_link_code(svc, found[0], actor="cli")
        except handover.HandoverError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"scan with the WeChat to link to {username} (once, until "
                   f"{code.expires_at.isoformat(timespec='minutes')}): {code.picture_url}")
        return

    def run(s: Session, account: StaffAccount, now: datetime) -> None:
        user = s.execute(select(User).where(User.hub_id == account.hub_id, User.openid == openid)).scalar_one_or_none()
        if user is None:
            raise click.ClickException(f"no WeChat user {openid} in the account's hub: they should write to it first")
        handover.link(s, account, user, actor="cli", now=now)

    _with_account(username, run, svc)
    click.echo(f"{openid} linked to {username}: staff notices of the hub go there")


@staff_cli.command("unlink")
@click.argument("username")
def unlink(username: str) -> None:
    """Unlink the account's WeChat (it keeps the staff role only if another account links it)."""
    done: list[bool] = []
    _with_account(username, lambda s, a, now: done.append(handover.unlink(s, a, actor="cli", now=now)))
    click.echo(f"{username}: WeChat unlinked" if done and done[0] else f"{username} had no WeChat linked")
