"""The `leifeng` command line. Every error is one clear line, never a traceback.

Only click and the configuration load at start: the command groups of the other modules (and through them
SQLAlchemy, the domain and the language understanding) are imported when one of them runs, so `leifeng --help`
and the light commands start in a fraction of a second.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import click

from bot.config import load_config
from bot.errors import LeifengError, StorageError, hide_query

DEFAULT_MENU = Path(__file__).parent.parent / "data" / "menu.json"


class LazyCommand(NamedTuple):
    module: str
    attribute: str
    help: str  # the command's first help line, shown by `leifeng --help` without importing it (a test compares)


LAZY_COMMANDS: Mapping[str, LazyCommand] = {
    "match": LazyCommand("bot.cli.match", "match",
                         "Match TEXT against the service catalogue; TEXT '-' reads one text per line from stdin."),
    "orders": LazyCommand("bot.cli.orders", "orders_cli",
                          "Orders: list, inspect, dispatch by hand, support, cancel, review."),
    "qrcode": LazyCommand("bot.cli.qrcode", "qrcode_cli",
                          "Create a parameterised QR code; scanning it subscribes with the scene (or sends SCAN)."),
    "volunteers": LazyCommand("bot.cli.volunteers", "volunteers_cli",
                              "Volunteers: review applications, suspend, dismiss, inspect."),
    "teams": LazyCommand("bot.cli.volunteers", "teams_cli",
                         "Standing volunteer teams: leaders, services covered, WeCom robot, members."),
    "merchants": LazyCommand("bot.cli.volunteers", "merchants_cli",
                             "Partner merchants (共建单位): services they give, redemptions they accept."),
    "points": LazyCommand("bot.cli.volunteers", "points_cli",
                          "The points ledger: show, adjust, reverse an order's points, expire old points."),
    "timebank": LazyCommand("bot.cli.volunteers", "timebank_cli",
                            "The time bank (志愿服务银行): passbooks, recipients of donated hours, "
                            "paying orders with hours."),
    "report": LazyCommand("bot.cli.volunteers", "report_cli",
                          "Reports: monthly summary, outstanding-volunteer rankings."),
    "export": LazyCommand("bot.cli.volunteers", "export_cli", "Exports for other systems."),
    "events": LazyCommand("bot.cli.events", "events_group",
                          "雷锋一条街 street events: list, add, move, cancel, generate from the rule."),
    "broadcast": LazyCommand("bot.cli.events", "broadcast_group",
                             "Announcements to a segment of people (sent by the worker, within WeChat's limits)."),
    "callout": LazyCommand("bot.cli.events", "callout_group",
                           "Emergency call-outs (一呼百应): call a team at once and count who answers."),
    "wecom": LazyCommand("bot.cli.events", "wecom_group",
                         "The WeCom (企业微信) app: link members to volunteers, set a team's app group chat."),
    "staff": LazyCommand("bot.cli.staff", "staff_cli",
                         "Web console accounts (admin, community staff, team leaders, merchants)."),
    "templates": LazyCommand("bot.cli.templates", "templates_cli",
                             "Template messages and 订阅通知 per kind of notice: set, list, clear (checked against "
                             "WeChat's field rules)."),
    "secrets": LazyCommand("bot.cli.secretkey", "secrets_group",
                           "LEIFENG_SECRET_KEY: re-encrypt stored ID numbers, phones, addresses and message "
                           "copies after changing it."),
}


class LazyGroup(click.Group):
    """A group whose LAZY_COMMANDS are imported only when one of them is run or asked for its help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = LAZY_COMMANDS.get(cmd_name)
        if lazy is not None and cmd_name not in self.commands:
            command = getattr(importlib.import_module(lazy.module), lazy.attribute)
            assert isinstance(command, click.Command) and command.name == cmd_name, cmd_name
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is None:
                rows.append((name, click.Command(name, help=LAZY_COMMANDS[name].help).get_short_help_str(limit)))
            elif not loaded.hidden:
                rows.append((name, loaded.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def cli(verbose: bool) -> None:
    """雷锋超市 chatbot: webhook, worker, tools and the local simulator."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # urllib3 logs every request line at DEBUG, query string included: the AppSecret of a token request,
    # access tokens, robot keys. Never below INFO, even with -v.
    logging.getLogger("urllib3").setLevel(logging.INFO)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the web app (webhook) with Flask's server, for local use. Production: gunicorn (Procfile)."""
    from bot.app import create_app

    app = create_app()
    click.echo(f"webhook on http://{host}:{port}/wechat")
    app.run(host=host, port=port, threaded=True)


@cli.command()
@click.option("--once", is_flag=True, help="Dispatch the waiting orders, send what is due now and exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between outbox rounds.")
def worker(once: bool, interval: float) -> None:
    """Run the worker: outbox sender and dispatch queue (every worker), scheduler (one of them)."""
    from bot.services import build_services
    from bot.worker.jobs import dispatch_waiting
    from bot.worker.process import Worker

    services = build_services(load_config(), worker=True)
    logging.getLogger("bot").setLevel(logging.INFO)
    w = Worker(services, interval=interval)
    if once:
        dispatched = dispatch_waiting(services)
        stats = w.sender.drain()
        click.echo(f"dispatched {dispatched}, claimed {stats.claimed}, sent {stats.sent}, to retry {stats.retried}, "
                   f"dead {stats.dead}")
        return
    w.run_forever()


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (Alembic migrations). Migrations that encrypt stored data (0017: phones and
    addresses) use LEIFENG_SECRET_KEY, and refuse without a real one outside development; the schema alone needs no
    secret."""
    from bot.config import data_secret_key
    from storage.db import upgrade

    cfg = load_config()
    upgrade(cfg.database_url, revision, secret_key=data_secret_key(cfg))
    click.echo(f"database at {revision}: {_safe_url(cfg.database_url)}")
    if revision != "head":
        return
    # A fresh install answers "活动" at once: the street events the rule gives are made now, not first at the
    # worker's start or the nightly job (idempotent: an upgrade of a running deployment makes nothing twice).
    from bot.services import build_services
    from bot.worker.jobs import generate_events

    try:
        made = generate_events(build_services(cfg, worker=True))
    except LeifengError as exc:
        click.echo(f"street events not generated now ({exc}); the worker makes them when it starts")
        return
    click.echo(f"street events generated: {made}")


@db.command("current")
def db_current() -> None:
    """Say whether the schema is up to date."""
    from storage.db import check_migrated, make_engine

    cfg = load_config()
    check_migrated(make_engine(cfg.database_url))
    click.echo("database schema is up to date")


@cli.command("fake-wechat")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535),
              help="0 = any free port")
def fake_wechat(host: str, port: int) -> None:
    """Run the fake WeChat API server (tests, demo, local development)."""
    from bot.devtools.fake_wechat import serve as serve_fake

    serve_fake(host, port)


@cli.command()
@click.option("--openid", default="oDemoResident01", show_default=True, help="Who you are in the chat.")
@click.option("--url", default="http://127.0.0.1:8000/wechat", show_default=True, help="The webhook URL.")
@click.option("--fake-url", default="", help="Fake WeChat server to show outbox messages sent to you.")
def chat(openid: str, url: str, fake_url: str) -> None:
    """Chat with a running webhook as a WeChat user (signed, and encrypted when an AES key is set)."""
    from bot.devtools.chat import HttpTransport, run_terminal_chat

    cfg = load_config()
    run_terminal_chat(HttpTransport(url, cfg, fake_url or None), openid)


@cli.command()
@click.option("--script", "scripted", is_flag=True, help="Play the scripted conversation even on a terminal.")
@click.option("--db", "db_path", default="", help="SQLite file to use (default: a fresh temporary one).")
def demo(scripted: bool, db_path: str) -> None:
    """Start app + worker + fake WeChat on SQLite with sample data, then chat (or play a script)."""
    from bot.devtools.demo import run_demo

    interactive = sys.stdin.isatty() and not scripted
    sys.exit(run_demo(interactive=interactive, db_path=db_path or None))


@cli.group()
def menu() -> None:
    """The official account's custom menu."""


@menu.command("push")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_MENU,
              show_default=True)
@click.option("--hub", "slug", default="default", show_default=True)
def menu_push(path: Path, slug: str) -> None:
    """Create the custom menu from a JSON data file."""
    from bot.services import build_services

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path} is not valid JSON: {exc}") from exc
    services = build_services(load_config())
    account = services.hubs.by_slug(slug)
    services.client_for(account).menu.create(data)
    click.echo(f"menu pushed to {account.appid} ({len(data.get('button', []))} top-level buttons)")


@cli.group()
def hubs() -> None:
    """Hubs in this deployment (one by default)."""


@hubs.command("list")
def hubs_list() -> None:
    """List hubs."""
    from sqlalchemy import select

    from bot.services import build_services
    from storage.models import Hub

    services = build_services(load_config())
    with services.sessions() as s:
        for hub in s.execute(select(Hub).order_by(Hub.id)).scalars():
            click.echo(f"{hub.id}\t{hub.slug}\t{hub.name}\tappid={hub.wechat_appid or '(from LEIFENG_WECHAT_APPID)'}")


@hubs.command("add")
@click.option("--slug", required=True, help="Short name used in the webhook URL /wechat/<slug>.")
@click.option("--name", required=True)
@click.option("--appid", default=None)
@click.option("--token", default=None)
@click.option("--aes-key", default=None)
@click.option("--secret", default=None)
def hubs_add(slug: str, name: str, appid: str | None, token: str | None, aes_key: str | None,
             secret: str | None) -> None:
    """Add a hub; without credentials it shares the LEIFENG_WECHAT_* account."""
    from sqlalchemy.exc import IntegrityError

    from bot.services import build_services
    from storage.db import transaction
    from storage.models import AuditLog, Hub

    if aes_key and len(aes_key) != 43:
        raise click.ClickException("--aes-key (EncodingAESKey) must be 43 characters")
    services = build_services(load_config())
    now = services.clock.now()
    try:
        with transaction(services.sessions) as s:
            hub = Hub(slug=slug, name=name, wechat_appid=appid, wechat_token=token, wechat_aes_key=aes_key,
                      wechat_secret=secret, settings={}, created_at=now)
            s.add(hub)
            s.flush()
            s.add(AuditLog(hub_id=hub.id, actor="cli", action="hub_add", subject=f"hub:{hub.id}",
                           detail={"slug": slug}, at=now))
    except IntegrityError as exc:
        raise click.ClickException(f"a hub with slug {slug!r} or AppID {appid!r} already exists") from exc
    click.echo(f"hub {slug} added: webhook URL /wechat/{slug}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="leifeng", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已取消。", err=True)
        sys.exit(1)
    except click.ClickException as exc:  # click's own show() prints "Error: ..." in English
        click.echo(click_error_line(exc), err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the promise: one clear line, never a traceback (and no credentials in it)
        click.echo(f"错误: {one_line(exc)}", err=True)
        sys.exit(1)


def click_error_line(exc: click.ClickException) -> str:
    """A refused command as one plain Chinese line: what was wrong, and for a mistyped command where to look."""
    if isinstance(exc, click.UsageError):
        ctx = exc.ctx
        command = ctx.command_path if ctx is not None else "leifeng"
        return f"错误: 命令写得不对（{usage_words(exc)}）。用 {command} --help 看怎么写。"
    return f"错误: {exc.format_message()}"


def usage_words(exc: click.UsageError) -> str:
    """What was wrong with a mistyped command, in Chinese (click's own words are English): the option or argument
    it names, and click's close matches."""
    ctx = exc.ctx
    if isinstance(exc, click.NoSuchOption):
        near = f"，是不是 {'、'.join(exc.possibilities)}" if exc.possibilities else ""
        return f"没有 {exc.option_name} 这个选项{near}"
    if isinstance(exc, click.BadOptionUsage):
        return f"{exc.option_name} 后面要跟一个值"
    if isinstance(exc, click.MissingParameter | click.BadParameter) and exc.param is not None:
        hint = exc.param_hint if isinstance(exc.param_hint, str) else \
            exc.param.get_error_hint(ctx) if ctx is not None else exc.param.name or ""
        if isinstance(exc, click.MissingParameter):
            return f"少了{'参数' if isinstance(exc.param, click.Argument) else '选项'} {hint}"
        typed = _TYPED.search(exc.message)
        return f"{hint} 的值不对" + (f"（写的是 {typed.group(1) or typed.group(2)}）" if typed else "") + \
            f"，{_wanted(exc.param.type)}"
    name = getattr(exc, "command_name", None)  # click.NoSuchCommand (click 8.4 and later)
    if isinstance(name, str):
        close = getattr(exc, "possibilities", None)
        return f"没有 {name} 这个命令" + (f"，是不是 {'、'.join(close)}" if close else "")
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click 8.2 and later
    if isinstance(exc, no_args) and ctx is not None and isinstance(ctx.command, click.Group):
        return "要写出子命令：" + "、".join(ctx.command.list_commands(ctx))
    return exc.format_message()


# the value in click's message of a bad one: "'abc' is not a valid integer.", "99999 is not in the range 0<=x<=65535."
_TYPED = re.compile(r"^'([^']*)'|^(\S+) is not")


def _wanted(kind: click.ParamType[Any]) -> str:
    if isinstance(kind, click.IntRange) and (kind.min is not None or kind.max is not None):
        low = "" if kind.min is None else f"{kind.min}"
        high = "" if kind.max is None or kind.max >= 2**53 else f"{kind.max}"  # (an id's range: no real bound)
        if low == "1" and not high:
            return "要写正整数（如 123456）"
        return f"要写{low}到{high}之间的整数" if low and high else f"要写不小于{low}的整数" if low else \
            f"要写不大于{high}的整数"
    if isinstance(kind, click.Choice):
        return "只能是 " + "、".join(str(c) for c in kind.choices)
    if isinstance(kind, click.types.IntParamType | click.IntRange):
        return "要写整数（如 123456）"
    if isinstance(kind, click.types.FloatParamType | click.FloatRange):
        return "要写数字（如 1.5）"
    if isinstance(kind, click.DateTime):
        return "要写日期（如 " + "、".join(kind.formats[:2]) + "）"
    if isinstance(kind, click.Path):
        return "要写一个存在的文件或目录"
    return f"要写{kind.name}"


def one_line(exc: Exception) -> str:
    if isinstance(exc, LeifengError | StorageError):
        return hide_query(str(exc))
    if "sqlalchemy" in sys.modules:  # otherwise no SQLAlchemy error can have been raised
        from sqlalchemy.exc import OperationalError, SQLAlchemyError

        if isinstance(exc, OperationalError):
            return f"cannot use the database: {(str(exc.orig).strip().splitlines() or [''])[0]}"
        if isinstance(exc, SQLAlchemyError):
            return f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return f"{exc.__class__.__name__}: {hide_query(str(exc))}"
