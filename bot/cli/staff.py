"""`leifeng staff ...`: accounts for the web console (/admin); `staff create` makes the first admin."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import auth
from bot.clock import as_utc
from bot.config import load_config
from bot.inbox import handover
from bot.services import Services, build_services
from intents.timeparse import SHANGHAI
from storage.db import transaction
from storage.models import Hub, User
from storage.models_admin import STAFF_ROLES, StaffAccount


def _services() -> Services:
    return build_services(load_config())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("标准输入里没有密码")
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
    click.echo(f"账号{name}（{auth.ROLE_NAMES.get(role, role)}，站点{slug}）已创建，请在 /admin/login 登录")


@staff_cli.command("list")
def list_accounts() -> None:
    """List accounts."""
    svc = _services()
    with svc.sessions() as s:
        rows = s.execute(select(StaffAccount, Hub.slug).join(Hub, Hub.id == StaffAccount.hub_id)
                         .order_by(StaffAccount.id)).all()
        for a, slug in rows:
            click.echo(f"{a.id}\t{a.username}\t{auth.ROLE_NAMES.get(a.role, a.role)}\t{slug}\t"
                       f"{'在用' if a.active else '已停用'}\t{'已绑定微信' if a.wechat_user_id else '未绑定微信'}")
    if not rows:
        click.echo("还没有账号：用 leifeng staff create --username 账号 --role admin 新建")


def _with_account(username: str, run: Callable[[Session, StaffAccount, datetime], None],
                  svc: Services | None = None) -> None:
    svc = svc or _services()
    try:
        with transaction(svc.sessions) as s:
            account = s.execute(select(StaffAccount).where(StaffAccount.username == username.strip().lower())
                                ).scalar_one_or_none()
            if account is None:
                raise click.ClickException(f"没有账号{username}")
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
    click.echo(f"账号{username}的密码已修改")


@staff_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account (signs it out everywhere)."""
    _with_account(username, lambda s, a, now: auth.set_active(s, a, False, actor="cli", now=now))
    click.echo(f"账号{username}已停用")


@staff_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account."""
    _with_account(username, lambda s, a, now: auth.set_active(s, a, True, actor="cli", now=now))
    click.echo(f"账号{username}已启用")


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
        until = as_utc(code.expires_at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        click.echo(f"请用要绑定到账号{username}的微信扫码（一次有效，{until}前）：{code.picture_url}")
        return

    def run(s: Session, account: StaffAccount, now: datetime) -> None:
        user = s.execute(select(User).where(User.hub_id == account.hub_id, User.openid == openid)).scalar_one_or_none()
        if user is None:
            raise click.ClickException("这个微信用户还没有给本站公众号发过消息，请先让他发一条消息再绑定")
        handover.link(s, account, user, actor="cli", now=now)

    _with_account(username, run, svc)
    click.echo(f"已把这个微信绑定到账号{username}：本站的工作人员通知会发到这个微信")


@staff_cli.command("unlink")
@click.argument("username")
def unlink(username: str) -> None:
    """Unlink the account's WeChat (it keeps the staff role only if another account links it)."""
    done: list[bool] = []
    _with_account(username, lambda s, a, now: done.append(handover.unlink(s, a, actor="cli", now=now)))
    click.echo(f"账号{username}已解除微信绑定" if done and done[0] else f"账号{username}没有绑定微信")
