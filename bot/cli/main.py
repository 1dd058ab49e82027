"""The `leifeng` command line. Every error is one clear line, never a traceback."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from bot.cli import events as event_commands
from bot.cli import volunteers as volunteer_commands
from bot.cli.match import match
from bot.cli.orders import orders_cli
from bot.cli.qrcode import qrcode_cli
from bot.cli.staff import staff_cli
from bot.config import load_config
from bot.errors import LeifengError, StorageError, hide_query

DEFAULT_MENU = Path(__file__).parent.parent / "data" / "menu.json"


@click.group()
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
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between outbox rounds.")
def worker(once: bool, interval: float) -> None:
    """Run the worker: scheduler and outbox sender."""
    from bot.services import build_services
    from bot.worker.process import Worker

    services = build_services(load_config())
    logging.getLogger("bot").setLevel(logging.INFO)
    w = Worker(services, interval=interval)
    if once:
        stats = w.sender.drain()
        click.echo(f"claimed {stats.claimed}, sent {stats.sent}, to retry {stats.retried}, dead {stats.dead}")
        return
    w.run_forever()


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (Alembic migrations)."""
    from storage.db import upgrade

    cfg = load_config()
    upgrade(cfg.database_url, revision)
    click.echo(f"database at {revision}: {_safe_url(cfg.database_url)}")


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


cli.add_command(match)
cli.add_command(orders_cli)
cli.add_command(qrcode_cli)
for _group in volunteer_commands.GROUPS:  # volunteers, teams, merchants, points, time bank, reports
    cli.add_command(_group)
cli.add_command(event_commands.events_group)  # street events
cli.add_command(event_commands.broadcast_group)  # broadcasts
cli.add_command(event_commands.callout_group)  # emergency call-outs
cli.add_command(event_commands.wecom_group)  # the WeCom app
cli.add_command(staff_cli)


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
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (LeifengError, StorageError) as exc:
        click.echo(f"错误: {hide_query(str(exc))}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        click.echo(f"错误: cannot use the database: {str(exc.orig).strip().splitlines()[0]}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        click.echo(f"错误: database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", err=True)
        sys.exit(1)
    except Exception as exc:  # the promise: one clear line, never a traceback (and no credentials in it)
        click.echo(f"错误: {exc.__class__.__name__}: {hide_query(str(exc))}", err=True)
        sys.exit(1)
