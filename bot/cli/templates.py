"""`leifeng templates ...`: a hub's category templates (模板消息) and 订阅通知 templates per kind of notice, checked
against WeChat's field rules before they are kept, and the kind of official account the hub runs on."""

from __future__ import annotations

import re

import click
from sqlalchemy import delete, select

from bot.config import load_config
from bot.outbox_rules import RULES, SLOTS, Notice, template_problems
from bot.services import Services, build_services
from bot.worker.delivery import ANY_NOTICE, TemplateConfigError, check_fields, set_template
from storage import subscriptions
from storage.db import transaction
from storage.models import SubscribeTemplate
from storage.models_events import NoticeTemplate

HUB = click.option("--hub", "slug", default="default", show_default=True, help="The hub (slug).")
TEMPLATE_ID = re.compile(r"[A-Za-z0-9_\-]{6,128}")  # WeChat's ids: 43 characters of letters, digits, - and _
NOTICES = [n.value for n in Notice if RULES[n].template]  # announcements and chat never go by template


def _services() -> Services:
    return build_services(load_config())


def parse_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    """slot=key pairs ("order_no=character_string1") -> {"order_no": "character_string1"}."""
    fields: dict[str, str] = {}
    for pair in pairs:
        slot, sep, key = pair.partition("=")
        if not sep or not slot.strip() or not key.strip():
            raise click.ClickException(f"--field {pair!r}: write it as slot=key, e.g. service=thing2")
        if slot.strip() in fields:
            raise click.ClickException(f"--field: {slot.strip()} given twice")
        fields[slot.strip()] = key.strip()
    return fields


def check(notice: str, template_id: str, fields: dict[str, str]) -> list[str]:
    """Refuse what cannot work (a ClickException with every problem on one line); return the warnings: the kinds a
    "*" template cannot say (another route is taken for those)."""
    if notice != ANY_NOTICE and notice not in NOTICES:
        raise click.ClickException(f"unknown notice {notice!r} (known: {', '.join(NOTICES)}, or * for any)")
    if not TEMPLATE_ID.fullmatch(template_id):
        raise click.ClickException(f"{template_id!r} does not look like a WeChat template id (letters, digits, - _)")
    try:
        check_fields(fields)
    except TemplateConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if notice != ANY_NOTICE:
        problems = template_problems(Notice(notice), fields)
        if problems:
            raise click.ClickException(f"{notice}: " + "; ".join(problems))
        return []
    cannot = {kind: template_problems(Notice(kind), fields) for kind in NOTICES}
    if all(cannot.values()):
        raise click.ClickException("this template cannot say any notice: " + "; ".join(cannot[NOTICES[0]]))
    return [f"not used for {kind}: {'; '.join(p)}" for kind, p in cannot.items() if p]


@click.group("templates")
def templates_cli() -> None:
    """Template messages and 订阅通知 per kind of notice: set, list, clear (checked against WeChat's field rules)."""


@templates_cli.command("set")
@click.option("--notice", required=True, help=f"Kind of notice: {', '.join(NOTICES)}, or * for any service notice.")
@click.option("--id", "template_id", required=True, help="The template id from the 公众号 console.")
@click.option("--field", "pairs", multiple=True, required=True,
              help=f"slot=field key, repeated: slots {', '.join(SLOTS)}; keys as in the template (thing2, time3 ...).")
@click.option("--subscribe", is_flag=True, help="A 订阅通知 template (message/subscribe/bizsend), not a 模板消息.")
@click.option("--long-term", is_flag=True, help="A long-term 订阅通知 (public-service categories only).")
@HUB
def set_cmd(notice: str, template_id: str, pairs: tuple[str, ...], subscribe: bool, long_term: bool,
            slug: str) -> None:
    """Use a template for a kind of notice (replacing the one it had)."""
    if long_term and not subscribe:
        raise click.ClickException("--long-term is for 订阅通知 templates only (add --subscribe)")
    fields = parse_fields(pairs)
    warnings = check(notice, template_id, fields)
    svc = _services()
    hub = svc.hubs.by_slug(slug)
    now = svc.clock.now()
    with transaction(svc.sessions) as s:
        if subscribe:
            subscriptions.set_subscribe_template(s, hub.hub_id, notice, template_id, fields, long_term=long_term,
                                                 now=now)
        else:
            set_template(s, hub.hub_id, notice, template_id, fields, now)
        kind = subscriptions.account_kind(s, hub.hub_id)
    for line in warnings:
        click.echo(f"warning: {line}")
    if kind == subscriptions.SUBSCRIPTION:
        click.echo(f"warning: {hub.slug} runs on a 公众号/订阅号, which has no template messages nor 订阅通知: "
                   "kept, but not used until `leifeng templates account service`")
    what = ("long-term 订阅通知" if long_term else "订阅通知") if subscribe else "template"
    click.echo(f"{hub.slug}: {notice} -> {what} {template_id} "
               + " ".join(f"{slot}={key}" for slot, key in fields.items()))


@templates_cli.command("list")
@HUB
def list_cmd(slug: str) -> None:
    """The hub's account kind and templates, one per line."""
    svc = _services()
    hub = svc.hubs.by_slug(slug)
    with svc.sessions() as s:
        kind = subscriptions.account_kind(s, hub.hub_id)
        rows = s.execute(select(NoticeTemplate).where(NoticeTemplate.hub_id == hub.hub_id)
                         .order_by(NoticeTemplate.notice)).scalars().all()
        subs = s.execute(select(SubscribeTemplate).where(SubscribeTemplate.hub_id == hub.hub_id)
                         .order_by(SubscribeTemplate.notice)).scalars().all()
        lines = [f"template\t{r.notice}\t{r.template_id}\t{_fields(r.fields)}" for r in rows]
        lines += [f"{'subscribe-long' if r.long_term else 'subscribe'}\t{r.notice}\t{r.template_id}\t"
                  f"{_fields(r.fields)}" for r in subs]
    click.echo(f"account\t{kind}")
    if hub.template_id:
        click.echo(f"notice-template\t*\t{hub.template_id}\t(hubs.notice_template_id or "
                   "LEIFENG_WECHAT_NOTICE_TEMPLATE_ID: subject=thing1 status=phrase2 time=time3)")
    for line in lines:
        click.echo(line)


def _fields(fields: dict[str, str] | None) -> str:
    return " ".join(f"{slot}={key}" for slot, key in (fields or {}).items())


@templates_cli.command("clear")
@click.option("--notice", required=True, help="Kind of notice (or *).")
@click.option("--subscribe", is_flag=True, help="Clear the 订阅通知 template instead of the 模板消息.")
@HUB
def clear_cmd(notice: str, subscribe: bool, slug: str) -> None:
    """Stop using a template for a kind of notice (the "*" one, or another route, is taken instead)."""
    svc = _services()
    hub = svc.hubs.by_slug(slug)
    table = SubscribeTemplate if subscribe else NoticeTemplate
    with transaction(svc.sessions) as s:
        res = s.execute(delete(table).where(table.hub_id == hub.hub_id, table.notice == notice))
        gone = int(res.rowcount or 0)  # type: ignore[attr-defined]
    if not gone:
        raise click.ClickException(f"{hub.slug} has no {'订阅通知' if subscribe else 'template'} for {notice}")
    click.echo(f"{hub.slug}: {notice} no longer uses a {'订阅通知' if subscribe else 'template'}")


@templates_cli.command("account")
@click.argument("kind", type=click.Choice(subscriptions.ACCOUNT_KINDS))
@HUB
def account_cmd(kind: str, slug: str) -> None:
    """Say which official account the hub runs on: service (认证服务号) or subscription (公众号/订阅号)."""
    svc = _services()
    hub = svc.hubs.by_slug(slug)
    with transaction(svc.sessions) as s:
        subscriptions.set_account_kind(s, hub.hub_id, kind, svc.clock.now())
    words = {"service": "认证服务号: templates, 订阅通知, 群发 4 a month to each follower",
             "subscription": "公众号/订阅号: no templates nor 订阅通知, one 群发 a day"}
    click.echo(f"{hub.slug}: {words[kind]}")
