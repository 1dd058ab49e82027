"""`leifeng volunteers|teams|merchants|points|timebank|report|export ...`: staff manage volunteers and
their rewards, and take the ledger out for the provincial and national systems. ID numbers are masked
everywhere here; phones are shown to staff."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin.scope import team_volunteer_ids
from bot.admin.words import actor_names, source_in_words
from bot.cli.orders import ID, REF, local, order_by_ref
from bot.community import teamchat
from bot.config import load_config
from bot.errors import LeifengError
from bot.people import merchants, points, stars, timebank, volunteers
from bot.serviceloop import ledger
from bot.serviceloop.orders import settings_for
from bot.services import Services, build_services
from storage.db import transaction
from storage.models import AuditLog, Hub, Membership, MembershipEvent, PointsEntry, Team, TimeBankRecipient, Volunteer

hub_option = click.option("--hub", "slug", default="default", show_default=True, help="Hub slug.")
actor_option = click.option("--by", "actor", default="cli", show_default=True, help="Who is acting (for the record).")
POINTS = click.IntRange(-(2**31 - 1), 2**31 - 1)  # the points column is a 32-bit integer


@contextmanager
def _hub(slug: str, write: bool = True, *, long: bool = False) -> Iterator[tuple[Services, Session, int]]:
    """A transaction on one hub; domain refusals become one plain line. long: a command that reads a whole period
    (exports, reports) gets the worker's statement timeout, not the one sized to WeChat's 5-second wait."""
    svc = build_services(load_config(), worker=long)
    try:
        hub_id = svc.hubs.by_slug(slug).hub_id
        if write:
            with transaction(svc.sessions) as s:
                yield svc, s, hub_id
        else:
            with svc.sessions() as s:
                yield svc, s, hub_id
    except LeifengError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        svc.close()


def _member(s: Session, hub_id: int, volunteer_id: int) -> Membership:
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
    if member is None:
        raise click.ClickException(f"本站没有编号为{volunteer_id}的志愿者（leifeng volunteers list 列出编号）。")
    return member


def _hub_name(s: Session, hub_id: int) -> str:
    return str(s.scalar(select(Hub.name).where(Hub.id == hub_id)) or "本站")


# -- volunteers ---------------------------------------------------------------------------------


@click.group("volunteers")
def volunteers_cli() -> None:
    """Volunteers: review applications, suspend, dismiss, inspect."""


@volunteers_cli.command("list")
@hub_option
@click.option("--status", type=click.Choice(volunteers.STATUSES), default=None)
def volunteers_list(slug: str, status: str | None) -> None:
    """List the hub's volunteers (ID numbers masked)."""
    with _hub(slug, write=False) as (svc, s, hub_id):
        q = (select(Membership, Volunteer).join(Volunteer, Volunteer.id == Membership.volunteer_id)
             .where(Membership.hub_id == hub_id).order_by(Membership.id))
        if status:
            q = q.where(Membership.status == status)
        rules = settings_for(s, hub_id)
        rows = s.execute(q).all()
        if not rows:
            click.echo("没有志愿者")
        for member, vol in rows:
            hours = volunteers.total_hours(s, vol.id)
            minor = "\t未成年" if volunteers.is_minor(vol, svc.clock.now()) else ""
            click.echo(f"{vol.id}\t{vol.name}\t{vol.id_number_masked or '未登记'}\t{vol.phone or ''}\t"
                       f"{volunteers.STATUS_WORDS.get(member.status, member.status)}\t{hours:g}h\t"
                       f"{'★' * stars.star_level(hours, rules.star_hours) or '-'}{minor}")


@volunteers_cli.command("show")
@hub_option
@click.argument("volunteer_id", type=ID)
def volunteers_show(slug: str, volunteer_id: int) -> None:
    """One volunteer, as staff see them: profile (ID number masked), status history, points."""
    with _hub(slug, write=False) as (svc, s, hub_id):
        member = _member(s, hub_id, volunteer_id)
        vol = s.get(Volunteer, volunteer_id)
        assert vol is not None
        names = {svc_.code: svc_.name for svc_ in svc.nlu.catalogue}
        # the volunteer's own view ("我的志愿者资料", how to change it) without its heading and its last line
        own = volunteers.profile_text(s, hub_id, vol, member, names, svc.clock.now(),
                                      settings_for(s, hub_id).star_hours).split("\n")[1:-1]
        click.echo(f"志愿者资料（工作人员查看）　编号{vol.id}")
        click.echo("\n".join(own))
        if vol.guardian:
            g = vol.guardian
            click.echo(f"监护人电话：{g.get('phone') or '未填'}（{'已同意' if g.get('consent') else '未同意'}）")
        click.echo(f"积分：{points.balance(s, hub_id, vol.id)}  报名方式：{source_in_words(member.source)}  "
                   f"报名时间：{local(member.created_at)}")
        click.echo("状态记录：")
        events = s.execute(select(MembershipEvent).where(MembershipEvent.membership_id == member.id)
                           .order_by(MembershipEvent.id)).scalars().all()
        who = actor_names(s, hub_id, {ev.actor for ev in events if ev.actor})
        for ev in events:
            before = volunteers.STATUS_WORDS.get(ev.from_status, "其他") if ev.from_status else "报名"
            after = volunteers.STATUS_WORDS.get(ev.to_status, "其他")
            click.echo(f"  {local(ev.at)} {before} → {after}  {ev.reason or ''}"
                       f"（{who.get(ev.actor, '未知') if ev.actor else '系统'}）")


def _move(slug: str, volunteer_id: int, to: str, actor: str, reason: str | None = None,
          reason_code: str | None = None) -> None:
    with _hub(slug) as (svc, s, hub_id):
        member = _member(s, hub_id, volunteer_id)
        before = member.status
        volunteers.change_status(s, member, to, actor=actor, now=svc.clock.now(), reason=reason,
                                 reason_code=reason_code, hub_name=_hub_name(s, hub_id))
        # in the audit log like the console's change (out10: a CLI approval left no row)
        s.add(AuditLog(hub_id=hub_id, actor=actor, action="volunteer_status", subject=f"volunteer:{volunteer_id}",
                       detail={"before": before, "to": to, "reason": member.status_reason, "via": "cli"},
                       at=svc.clock.now()))
        vol = s.get(Volunteer, volunteer_id)
        click.echo(f"志愿者{vol.name if vol else volunteer_id}：{volunteers.STATUS_WORDS.get(to, to)}")


ASKED = object()  # the reason comes from --reason
# command, the status it moves to, what it does, and its reason: asked for, or the one recorded
STATUS_COMMANDS: tuple[tuple[str, str, str, object], ...] = (
    ("approve", "approved", "Approve an application; the applicant is told.", None),
    ("reject", "rejected", "Reject an application with a reason; the applicant is told and may apply again.", ASKED),
    ("suspend", "suspended", "Suspend a volunteer (no new tasks) with a reason.", ASKED),
    ("reinstate", "active", "End a suspension.", "恢复服务"),
)


def _status_command(name: str, to: str, doc: str, reason: object) -> None:
    def move(slug: str, actor: str, volunteer_id: int, reason: str | None = None) -> None:
        _move(slug, volunteer_id, to, actor, reason if asked else fixed)

    asked, fixed = reason is ASKED, reason if isinstance(reason, str) else None
    command = click.argument("volunteer_id", type=ID)(move)
    if asked:
        command = click.option("--reason", required=True)(command)
    volunteers_cli.command(name, help=doc)(hub_option(actor_option(command)))


for _name, _to, _doc, _reason in STATUS_COMMANDS:
    _status_command(_name, _to, _doc, _reason)


@volunteers_cli.command("dismiss")
@hub_option
@actor_option
@click.argument("volunteer_id", type=ID)
@click.option("--reason", "reason_code", type=click.Choice(sorted(volunteers.DISMISSAL_REASONS)), required=True,
              help="refusal: refused assignments without reason; violation: serious rule breaking; "
                   "harm: harmed a served person; profit: used the volunteer name for profit.")
@click.option("--note", default=None, help="Details for the record.")
def volunteers_dismiss(slug: str, actor: str, volunteer_id: int, reason_code: str, note: str | None) -> None:
    """Dismiss (劝退) for one of the regulation's reasons; the records are kept."""
    _move(slug, volunteer_id, "dismissed", actor, note, reason_code)


# -- teams --------------------------------------------------------------------------------------


@click.group("teams")
def teams_cli() -> None:
    """Standing volunteer teams: leaders, services covered, WeCom robot, members."""


@teams_cli.command("list")
@hub_option
def teams_list(slug: str) -> None:
    """Each team: members as the console and the volunteers' profiles count them (by their membership's team and
    the team member list), approved ones and those still waiting for review apart."""
    with _hub(slug, write=False) as (svc, s, hub_id):
        statuses: dict[int, str] = {vid: status for vid, status in s.execute(
            select(Membership.volunteer_id, Membership.status).where(Membership.hub_id == hub_id))}
        for team in s.execute(select(Team).where(Team.hub_id == hub_id).order_by(Team.id)).scalars():
            ids = team_volunteer_ids(s, hub_id, team.id)
            approved = sum(statuses.get(i) in volunteers.ACTIVE_STATUSES for i in ids)
            waiting = sum(statuses.get(i) == "applied" for i in ids)
            leader = s.get(Volunteer, team.leader_volunteer_id) if team.leader_volunteer_id else None
            flags = " ".join(f for f, on in (("群机器人", bool(team.robot_key)), ("应急", team.emergency)) if on)
            click.echo(f"{team.id}\t{team.code}\t{team.name}\t已审核{approved}人\t待审核{waiting}人\t"
                       f"队长:{leader.name if leader else '-'}\t{','.join(team.services or [])}\t{flags}")


def _team(s: Session, hub_id: int, code: str) -> Team:
    team = s.execute(select(Team).where(Team.hub_id == hub_id, Team.code == code)).scalar_one_or_none()
    if team is None:
        raise click.ClickException(f"本站没有代码为{code}的服务队（leifeng teams list 列出代码）。")
    return team


@teams_cli.command("add")
@hub_option
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--services", default="", help="Comma-separated service codes.")
@click.option("--emergency", is_flag=True)
def teams_add(slug: str, code: str, name: str, services: str, emergency: bool) -> None:
    with _hub(slug) as (svc, s, hub_id):
        team = teamchat.add_team(s, hub_id=hub_id, code=code, name=name, services=_services(svc, services),
                                 emergency=emergency, now=svc.clock.now())
        click.echo(f"服务队{team.name}（{team.code}）已添加")


@teams_cli.command("set")
@hub_option
@click.argument("code")
@click.option("--leader", type=ID, default=None, help="Volunteer id of the leader.")
@click.option("--robot-key", default=None, help="WeCom group robot key ('' to remove).")
@click.option("--services", default=None, help="Comma-separated service codes.")
def teams_set(slug: str, code: str, leader: int | None, robot_key: str | None, services: str | None) -> None:
    """The same rules as the console (bot/community/teamchat.py): an approved leader, a robot key of the right
    shape, services from the catalogue."""
    with _hub(slug) as (svc, s, hub_id):
        team = _team(s, hub_id, code)
        if leader is not None:
            teamchat.set_leader(s, team, leader, now=svc.clock.now())
        if robot_key is not None:
            teamchat.set_robot_key(team, robot_key)
        if services is not None:
            teamchat.update_team(team, name=team.name, services=_services(svc, services), emergency=team.emergency)
        click.echo(f"服务队{team.name}（{code}）已更新")


def _services(svc: Services, text: str) -> list[str]:
    codes = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in svc.nlu.catalogue]
    if unknown:
        raise click.ClickException(f"服务目录里没有这些服务代码：{'、'.join(unknown)}")
    return codes


@teams_cli.command("join")
@hub_option
@click.argument("code")
@click.argument("volunteer_id", type=ID)
def teams_join(slug: str, code: str, volunteer_id: int) -> None:
    with _hub(slug) as (svc, s, hub_id):
        vol = teamchat.add_member(s, _team(s, hub_id, code), volunteer_id, now=svc.clock.now())
        click.echo(f"{vol.name}已加入服务队")


@teams_cli.command("leave")
@hub_option
@click.argument("code")
@click.argument("volunteer_id", type=ID)
def teams_leave(slug: str, code: str, volunteer_id: int) -> None:
    with _hub(slug) as (svc, s, hub_id):
        vol = teamchat.remove_member(s, _team(s, hub_id, code), volunteer_id)
        click.echo(f"{vol.name}已离开服务队")


# -- merchants ----------------------------------------------------------------------------------


@click.group("merchants")
def merchants_cli() -> None:
    """Partner merchants (共建单位): services they give, redemptions they accept."""


@merchants_cli.command("list")
@hub_option
def merchants_list(slug: str) -> None:
    with _hub(slug, write=False) as (svc, s, hub_id):
        for m in merchants.merchants(s, hub_id):
            redeemed = -int(s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.merchant_id == m.id)) or 0)
            flags = [f for f, on in (("便民服务点", m.service_point), ("可兑换", m.accepts_redemptions),
                                     ("停用", not m.active)) if on]
            click.echo(f"{m.id}\t{m.code}\t{m.name}\t{m.address or ''}\t{','.join(flags)}\t"
                       f"兑换{redeemed}分\t扫码场景:{merchants.SCAN_PREFIX}{m.id}")


@merchants_cli.command("add")
@hub_option
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--address", default=None)
@click.option("--phone", default=None)
@click.option("--service-point", is_flag=True, help="A 便民服务点.")
@click.option("--services", default="", help="Comma-separated service codes they provide as volunteers.")
@click.option("--redemptions/--no-redemptions", default=False, help="Accepts points redemptions.")
@click.option("--staff-openid", default=None, help="The openid of the merchant's person who redeems codes.")
def merchants_add(slug: str, code: str, name: str, address: str | None, phone: str | None, service_point: bool,
                  services: str, redemptions: bool, staff_openid: str | None) -> None:
    with _hub(slug) as (svc, s, hub_id):
        codes = [c.strip() for c in services.split(",") if c.strip()]
        unknown = [c for c in codes if c not in svc.nlu.catalogue]
        if unknown:
            raise click.ClickException(f"服务目录里没有这些服务代码：{'、'.join(unknown)}")
        m = merchants.add_merchant(s, hub_id=hub_id, code=code, name=name, now=svc.clock.now(), address=address,
                                   phone=phone, service_point=service_point, services=codes,
                                   accepts_redemptions=redemptions, staff_openid=staff_openid)
        click.echo(f"商户{m.name}已添加，编号{m.id}；兑换扫码场景：{merchants.SCAN_PREFIX}{m.id}")


@merchants_cli.command("set")
@hub_option
@click.argument("merchant_id", type=ID)
@click.option("--redemptions/--no-redemptions", default=None)
@click.option("--active/--inactive", default=None)
@click.option("--staff-openid", default=None)
def merchants_set(slug: str, merchant_id: int, redemptions: bool | None, active: bool | None,
                  staff_openid: str | None) -> None:
    with _hub(slug) as (svc, s, hub_id):
        m = merchants.get_merchant(s, hub_id, merchant_id)
        if redemptions is not None:
            m.accepts_redemptions = redemptions
        if active is not None:
            merchants.set_merchant_active(m, active)
        if staff_openid is not None:
            m.staff_openid = staff_openid or None
        s.add(AuditLog(hub_id=hub_id, actor="cli", action="merchant_update", subject=f"merchant:{m.id}",
                       detail={"accepts_redemptions": m.accepts_redemptions, "active": m.active,
                               "counter_staff": bool(m.staff_openid), "via": "cli"}, at=svc.clock.now()))
        click.echo(f"商户{m.name}已更新")


# -- points -------------------------------------------------------------------------------------


@click.group("points")
def points_cli() -> None:
    """The points ledger: show, adjust, reverse an order's points, expire old points."""


@points_cli.command("show")
@hub_option
@click.argument("volunteer_id", type=ID)
def points_show(slug: str, volunteer_id: int) -> None:
    with _hub(slug, write=False) as (svc, s, hub_id):
        _member(s, hub_id, volunteer_id)
        click.echo(points.points_text(s, hub_id, volunteer_id, settings_for(s, hub_id), svc.clock.now(),
                                      in_chat=False))


@points_cli.command("adjust")
@hub_option
@actor_option
@click.option("--volunteer", "volunteer_id", type=ID, required=True)
@click.option("--points", "amount", type=POINTS, required=True, help="Positive to add, negative to deduct.")
@click.option("--reason", required=True)
def points_adjust(slug: str, actor: str, volunteer_id: int, amount: int, reason: str) -> None:
    """Add or deduct points with a reason (never below zero)."""
    with _hub(slug) as (svc, s, hub_id):
        _member(s, hub_id, volunteer_id)
        entry = points.adjust(s, hub_id=hub_id, volunteer_id=volunteer_id, points=amount, reason=reason,
                              actor=actor, now=svc.clock.now())
        s.add(AuditLog(hub_id=hub_id, actor=actor, action="points_adjust", subject=f"volunteer:{volunteer_id}",
                       detail={"points": amount, "reason": reason, "via": "cli"}, at=svc.clock.now()))
        click.echo(f"积分{amount:+d}，余额{points.balance(s, hub_id, volunteer_id)}（记录{entry.id}）")


@points_cli.command("reverse")
@hub_option
@actor_option
@click.option("--order", "ref", type=REF, required=True, help="The order's 单号.")
@click.option("--reason", required=True)
def points_reverse(slug: str, actor: str, ref: int, reason: str) -> None:
    """Take back the points an order (by its 单号) earned."""
    with _hub(slug) as (svc, s, hub_id):
        order = order_by_ref(s, hub_id, ref)
        entry = points.reverse_order(s, hub_id=hub_id, order_id=order.id, reason=reason, actor=actor,
                                     now=svc.clock.now())
        s.add(AuditLog(hub_id=hub_id, actor=actor, action="points_reverse", subject=f"order:{order.id}",
                       detail={"points": entry.points, "reason": reason, "ref": order.ref, "via": "cli"},
                       at=svc.clock.now()))
        click.echo(f"订单{order.ref}的积分已冲回：{entry.points:+d}（记录{entry.id}）")


@points_cli.command("expire")
@hub_option
def points_expire(slug: str) -> None:
    """Expire points older than the hub's points_expiry_days (first earned, first spent)."""
    with _hub(slug) as (svc, s, hub_id):
        done = points.expire_hub(s, hub_id, svc.clock.now(), settings_for(s, hub_id))
        click.echo(f"{len(done)}位志愿者共{sum(done.values())}积分已过期")


# -- time bank ----------------------------------------------------------------------------------


@click.group("timebank")
def timebank_cli() -> None:
    """The time bank (志愿服务银行): passbooks, recipients of donated hours, paying orders with hours."""


@timebank_cli.command("passbook")
@hub_option
@click.option("--volunteer", "volunteer_id", type=ID, default=None)
@click.option("--recipient", "recipient_id", type=ID, default=None)
def timebank_passbook(slug: str, volunteer_id: int | None, recipient_id: int | None) -> None:
    with _hub(slug, write=False) as (svc, s, hub_id):
        if (volunteer_id is None) == (recipient_id is None):
            raise click.ClickException("--volunteer 和 --recipient 请给且只给一个")
        account = timebank.Account(hub_id, volunteer_id=volunteer_id, recipient_id=recipient_id)
        click.echo(timebank.passbook_text(s, account, title="存折", limit=50))


@timebank_cli.command("add-recipient")
@hub_option
@click.option("--name", required=True)
@click.option("--note", default=None, help="e.g. 独居老人，幸福小区3栋")
def timebank_add_recipient(slug: str, name: str, note: str | None) -> None:
    """Name someone (e.g. an elder living alone) who may receive donated hours."""
    with _hub(slug) as (svc, s, hub_id):
        r = TimeBankRecipient(hub_id=hub_id, name=name, note=note, active=True, created_at=svc.clock.now())
        s.add(r)
        s.flush()
        click.echo(f"受赠人{r.name}已添加，编号{r.id}")


@timebank_cli.command("pay")
@hub_option
@actor_option
@click.option("--order", "ref", type=REF, required=True, help="The order's 单号.")
@click.option("--volunteer", "volunteer_id", type=ID, default=None)
@click.option("--recipient", "recipient_id", type=ID, default=None)
@click.option("--hours", type=float, required=True, help="Hours to hold now (settled on completion).")
def timebank_pay(slug: str, actor: str, ref: int, volunteer_id: int | None, recipient_id: int | None,
                 hours: float) -> None:
    """Pay an open order (by its 单号) with a volunteer's or a recipient's banked hours (staff do this for an
    elder)."""
    with _hub(slug) as (svc, s, hub_id):
        if (volunteer_id is None) == (recipient_id is None):
            raise click.ClickException("--volunteer 和 --recipient 请给且只给一个")
        account = timebank.Account(hub_id, volunteer_id=volunteer_id, recipient_id=recipient_id)
        order = order_by_ref(s, hub_id, ref)
        held = timebank.pay_order(s, account=account, order=order, minutes=round(hours * 60), actor=actor,
                                  now=svc.clock.now())
        click.echo(f"订单{order.ref}：已预扣{timebank.hours_text(held)}，"
                   f"余额{timebank.hours_text(timebank.balance(s, account))}")


# -- reports and exports ------------------------------------------------------------------------


@click.group("report")
def report_cli() -> None:
    """Reports: monthly summary, outstanding-volunteer rankings."""


@report_cli.command("monthly")
@hub_option
@click.option("--month", required=True, help="e.g. 2026-11")
def report_monthly(slug: str, month: str) -> None:
    """Orders per service, hours, volunteers active, average rating."""
    with _hub(slug, write=False, long=True) as (svc, s, hub_id):
        names = {x.code: x.name for x in svc.nlu.catalogue}
        click.echo(ledger.monthly_text(ledger.monthly(s, hub_id, month, names)))


@report_cli.command("honours")
@hub_option
@click.option("--quarter", default=None, help="e.g. 2026Q4")
@click.option("--year", type=click.IntRange(ledger.FIRST_YEAR, ledger.LAST_YEAR), default=None)
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True)
def report_honours(slug: str, quarter: str | None, year: int | None, top: int) -> None:
    """Outstanding volunteers by points (ties by hours), for a quarter or a year."""
    with _hub(slug, write=False, long=True) as (svc, s, hub_id):
        title, first, last = ledger.period_bounds(quarter, year)
        rows = ledger.honours(s, hub_id, first, last, settings_for(s, hub_id), limit=top)
        click.echo(ledger.honours_text(title, rows))


@click.group("export")
def export_cli() -> None:
    """Exports for other systems."""


@export_cli.command("ledger")
@hub_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default ledger-<from>-<to>.<format>).")
def export_ledger(slug: str, start: object, end: object, fmt: str, out: Path | None) -> None:
    """The service ledger (台账) for import into i志愿 / 志愿汇: one row per service, plus a summary."""
    first: date = start.date()  # type: ignore[attr-defined]
    last: date = end.date()  # type: ignore[attr-defined]
    target = out or Path(f"ledger-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}")
    with _hub(slug, write=False, long=True) as (svc, s, hub_id):
        names = {x.code: x.name for x in svc.nlu.catalogue}
        try:
            rows = ledger.ledger_rows(s, hub_id, first, last, names)
            written = ledger.write_ledger(rows, target, fmt, first, last)
        except OSError as exc:
            raise click.ClickException(f"无法写入{target}：{exc.strerror}") from exc
        click.echo(f"{len(rows)}条记录，共{sum(r.hours for r in rows):g}小时，已写入：{'、'.join(map(str, written))}")


GROUPS = (volunteers_cli, teams_cli, merchants_cli, points_cli, timebank_cli, report_cli, export_cli)
