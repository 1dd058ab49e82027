"""雷锋一条街 street events: generate from the rule, add/move/cancel, subscriptions, reminders, calendar files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as ICalEvent
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.community.eventrule import EventRule, at_local, occurrences, parse_rule
from bot.community.teamchat import post_to_team, roster, team_by_code
from bot.config import Config
from bot.errors import LeifengError
from bot.outbox import Notice, enqueue
from intents.timeparse import WEEKDAY_NAMES
from storage.models import AuditLog, Team, User
from storage.models_events import Event, EventSubscription, JobRun

KINDS = ("day_before", "morning")


class EventError(LeifengError):
    """A staff request about events that cannot be done (no such event, already cancelled...)."""


@dataclass(frozen=True)
class EventSettings:
    tz: ZoneInfo
    rule: EventRule
    place: str
    title: str
    day_before: str  # "18:00"
    morning: str  # "08:00"
    grace: timedelta
    public_url: str

    @classmethod
    def from_config(cls, cfg: Config) -> EventSettings:
        return cls(tz=ZoneInfo(cfg.timezone), rule=parse_rule(cfg.street_event_rule), place=cfg.street_event_place,
                   title=cfg.street_event_title, day_before=cfg.event_remind_day_before,
                   morning=cfg.event_remind_morning, grace=timedelta(minutes=cfg.reminder_grace_minutes),
                   public_url=shown_public_url(cfg.public_url, development=cfg.env == "development"))


def shown_public_url(url: str, *, development: bool) -> str:
    """The base of links people open (LEIFENG_PUBLIC_URL), or "" when it would be a link nobody else can open:
    outside development a loopback address (the default 127.0.0.1:8000) is never shown to people."""
    url = url.strip().rstrip("/")
    host = urlsplit(url).hostname or ""
    loopback = host == "localhost" or host.startswith("127.") or host in ("::1", "0.0.0.0")
    return "" if not url or (loopback and not development) else url


# -- staff: generate, add, move, cancel ----------------------------------------------------------


def generate(s: Session, hub_id: int, es: EventSettings, first: date, last: date, now: datetime,
             teams: list[str] | None = None) -> list[Event]:
    """Create the rule's events in [first, last]; idempotent (one per rule date, cancelled ones stay cancelled)."""
    made: list[Event] = []
    for start, end in occurrences(es.rule, first, last, es.tz):
        key = f"rule:{start.date().isoformat()}"
        if s.execute(select(Event.id).where(Event.hub_id == hub_id, Event.rule_key == key)).first() is not None:
            continue
        ev = Event(hub_id=hub_id, title=es.title, starts_at=start.astimezone(ZoneInfo("UTC")),
                   ends_at=end.astimezone(ZoneInfo("UTC")), place=es.place, teams=list(teams or []), services=[],
                   status="scheduled", source="rule", rule_key=key, revision=1, created_at=now, updated_at=now)
        try:
            with s.begin_nested():  # a concurrent generator may have made it a moment ago
                s.add(ev)
        except IntegrityError:
            continue
        made.append(ev)
    return made


def add(s: Session, hub_id: int, *, title: str, starts_at: datetime, ends_at: datetime, place: str,
        teams: list[str], services: list[str], now: datetime, actor: str = "cli", note: str | None = None) -> Event:
    if ends_at <= starts_at:
        raise EventError("活动结束时间必须晚于开始时间")
    _check_teams(s, hub_id, teams)
    # stored as UTC: SQLite keeps only the wall-clock digits of an aware datetime (14:00+08:00 came back as 14:00 UTC)
    ev = Event(hub_id=hub_id, title=title, starts_at=as_utc(starts_at), ends_at=as_utc(ends_at), place=place,
               teams=teams, services=services, note=note, status="scheduled", source="staff", revision=1,
               created_at=now, updated_at=now)
    s.add(ev)
    s.flush()
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="event_add", subject=f"event:{ev.id}",
                   detail={"starts_at": starts_at.isoformat(), "place": place}, at=now))
    return ev


def get(s: Session, hub_id: int, event_id: int) -> Event:
    ev = s.execute(select(Event).where(Event.id == event_id, Event.hub_id == hub_id)).scalar_one_or_none()
    if ev is None:
        raise EventError(f"没有编号为 {event_id} 的活动")
    return ev


def update(s: Session, hub_id: int, event_id: int, *, now: datetime, es: EventSettings,
           teams: list[str] | None = None, services: list[str] | None = None, place: str | None = None,
           title: str | None = None) -> Event:
    ev = get(s, hub_id, event_id)
    if teams is not None:
        _check_teams(s, hub_id, teams)
        ev.teams = teams
    if services is not None:
        ev.services = services
    if place:
        ev.place = place
    if title:
        ev.title = title
    ev.updated_at = now
    return ev


def move(s: Session, hub_id: int, event_id: int, *, starts_at: datetime, ends_at: datetime | None, now: datetime,
         es: EventSettings, place: str | None = None, actor: str = "cli") -> Event:
    """Move an event; subscribers hear about it, and reminders go again for the new time (a new revision)."""
    ev = get(s, hub_id, event_id)
    if ev.status != "scheduled":
        raise EventError(f"活动 {event_id} 已取消，不能改期")
    old = event_when(ev, es.tz)
    length = as_utc(ev.ends_at) - as_utc(ev.starts_at)
    ev.starts_at = as_utc(starts_at)  # (as in add: UTC, whatever zone the caller's datetime is in)
    ev.ends_at = as_utc(ends_at) if ends_at else ev.starts_at + length
    if ev.ends_at <= ev.starts_at:
        raise EventError("活动结束时间必须晚于开始时间")
    if place:
        ev.place = place
    ev.revision += 1
    ev.updated_at = now
    s.flush()
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="event_move", subject=f"event:{ev.id}",
                   detail={"from": old, "to": event_when(ev, es.tz), "revision": ev.revision}, at=now))
    if as_utc(ev.starts_at) > now:
        text = f"活动改期：原定{old}的{ev.title}改到{event_when(ev, es.tz)}，地点：{ev.place}。"
        if es.public_url:
            text += f"\n日历文件：{ics_url(es, ev)}"
        key = f"ev:{ev.id}:moved:r{ev.revision}"
        _tell_people(s, ev, text, now, key, es)
    return ev


def cancel(s: Session, hub_id: int, event_id: int, *, reason: str, now: datetime, es: EventSettings,
           actor: str = "cli") -> tuple[Event, int]:
    """Cancel an event; every subscriber and the teams taking part get a cancellation notice (once)."""
    ev = get(s, hub_id, event_id)
    if ev.status == "cancelled":
        raise EventError(f"活动 {event_id} 已经取消过了")
    ev.status = "cancelled"
    ev.cancel_reason = reason or None
    ev.updated_at = now
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="event_cancel", subject=f"event:{ev.id}",
                   detail={"reason": reason}, at=now))
    told = 0
    if as_utc(ev.ends_at) > now:
        why = f"（原因：{reason}）" if reason else ""
        text = f"活动取消通知：原定{event_when(ev, es.tz)}在{ev.place}的{ev.title}取消了{why}。给您带来不便，请谅解。"
        told = _tell_people(s, ev, text, now, f"ev:{ev.id}:cancel", es)
    return ev, told


def _check_teams(s: Session, hub_id: int, codes: list[str]) -> None:
    missing = [c for c in codes if team_by_code(s, hub_id, c) is None]
    if missing:
        raise EventError(f"没有这些队伍：{', '.join(missing)}")


def _tell_people(s: Session, ev: Event, text: str, now: datetime, key: str, es: EventSettings) -> int:
    """Subscribers and the members of the teams taking part (each person once), and the team chats. A change of an
    event they asked to hear about, or are on duty for: a service notice, which a template may carry."""
    told: set[str] = set()
    for user in subscribers(s, ev.hub_id):
        enqueue(s, hub_id=ev.hub_id, to=user.openid, text=text, now=now, idempotency_key=f"{key}:u{user.id}",
                notice=Notice.EVENT_CHANGE)
        told.add(user.openid)
    for code in ev.teams or []:
        team = team_by_code(s, ev.hub_id, code)
        if team is None:
            continue
        for m in roster(s, ev.hub_id, team.id):
            if m.openid and m.openid not in told:
                enqueue(s, hub_id=ev.hub_id, to=m.openid, text=text, now=now, idempotency_key=f"{key}:u{m.user_id}",
                        notice=Notice.EVENT_CHANGE)
                told.add(m.openid)
        post_to_team(s, team, text, now=now, key=key)
    return len(told)


# -- reading -------------------------------------------------------------------------------------


def upcoming(s: Session, hub_id: int, now: datetime, limit: int = 20, include_cancelled: bool = False) -> list[Event]:
    q = select(Event).where(Event.hub_id == hub_id, Event.ends_at > now)
    if not include_cancelled:
        q = q.where(Event.status == "scheduled")
    return list(s.execute(q.order_by(Event.starts_at, Event.id).limit(limit)).scalars())


def event_when(ev: Event, tz: ZoneInfo) -> str:
    start = as_utc(ev.starts_at).astimezone(tz)
    end = as_utc(ev.ends_at).astimezone(tz)
    same_day = start.date() == end.date()
    tail = f"{end:%H:%M}" if same_day else f"{end.month}月{end.day}日 {end:%H:%M}"
    return f"{start.month}月{start.day}日(周{WEEKDAY_NAMES[start.weekday()]}) {start:%H:%M}-{tail}"


def ics_url(es: EventSettings, ev: Event) -> str:
    return f"{es.public_url}/events/{ev.id}.ics"


def _team_names(s: Session, hub_id: int, codes: list[str]) -> list[str]:
    names = []
    for code in codes:
        team = team_by_code(s, hub_id, code)
        names.append(team.name if team else code)
    return names


def describe(s: Session, ev: Event, es: EventSettings, service_names: dict[str, str] | None = None) -> str:
    lines = [f"{ev.title}：{event_when(ev, es.tz)}", f"地点：{ev.place}"]
    if ev.teams:
        lines.append("参加队伍：" + "、".join(_team_names(s, ev.hub_id, list(ev.teams))))
    if ev.services:
        names = service_names or {}
        lines.append("提供服务：" + "、".join(names.get(c, c) for c in ev.services))
    if ev.note:
        lines.append(ev.note)
    if es.public_url:  # no public address configured: no link rather than one only the server can open
        lines.append(f"加入日历：{ics_url(es, ev)}")
    return "\n".join(lines)


def next_event_text(s: Session, hub_id: int, user: User, now: datetime, es: EventSettings,
                    service_names: dict[str, str] | None = None) -> str:
    events = upcoming(s, hub_id, now, limit=2)
    if not events:
        text = "近期还没有安排雷锋一条街活动。"
    else:
        text = "下一次活动 —— " + describe(s, events[0], es, service_names)
        if len(events) > 1:
            text += f"\n再下一次：{event_when(events[1], es.tz)}"
    if is_subscribed(s, hub_id, user.id):
        return text + "\n您已订阅活动提醒（活动前一天和当天早上提醒您），不想收了回复“退订”。"
    return text + "\n想在活动前收到提醒，回复“订阅活动提醒”。"


# -- subscriptions -------------------------------------------------------------------------------


def is_subscribed(s: Session, hub_id: int, user_id: int) -> bool:
    row = s.execute(select(EventSubscription.subscribed).where(EventSubscription.hub_id == hub_id,
                                                               EventSubscription.user_id == user_id)).first()
    return bool(row and row[0])


def set_subscription(s: Session, hub_id: int, user: User, subscribed: bool, source: str, now: datetime) -> bool:
    """Opt in or out; returns whether anything changed."""
    row = s.execute(select(EventSubscription).where(EventSubscription.hub_id == hub_id,
                                                    EventSubscription.user_id == user.id)).scalar_one_or_none()
    if row is None:
        row = EventSubscription(hub_id=hub_id, user_id=user.id, subscribed=subscribed, source=source, updated_at=now)
        s.add(row)
        s.flush()
        return True
    if row.subscribed == subscribed:
        return False
    row.subscribed, row.source, row.updated_at = subscribed, source, now
    return True


def opted_out_user_ids(s: Session, hub_id: int) -> set[int]:
    return set(s.scalars(select(EventSubscription.user_id).where(EventSubscription.hub_id == hub_id,
                                                                 EventSubscription.subscribed.is_(False))))


def subscribers(s: Session, hub_id: int) -> list[User]:
    """People who opted in and still follow the account."""
    return list(s.execute(select(User).join(EventSubscription, EventSubscription.user_id == User.id)
                          .where(EventSubscription.hub_id == hub_id, EventSubscription.subscribed.is_(True),
                                 User.hub_id == hub_id, User.subscribed.is_(True))
                          .order_by(User.id)).scalars())


# -- reminders (the worker runs this every minute; safe to run any number of times) ----------------


def due_times(ev: Event, es: EventSettings) -> dict[str, datetime]:
    day = as_utc(ev.starts_at).astimezone(es.tz).date()
    return {"day_before": at_local(day - timedelta(days=1), es.day_before, es.tz),
            "morning": at_local(day, es.morning, es.tz)}


def remind(s: Session, hub_id: int, now: datetime, es: EventSettings) -> int:
    """Queue the reminders due at `now` (the day before and the morning of), once each.

    A reminder is due from its time until `grace` later (but never after the event started), so a worker
    that was down at 18:00 still sends it when it comes back at 18:40, and never twice: each message has
    an idempotency key (event, revision, kind, person) and the finished run is recorded in job_runs.
    """
    queued = 0
    horizon = now + timedelta(days=3)
    events = s.execute(select(Event).where(Event.hub_id == hub_id, Event.status == "scheduled",
                                           Event.starts_at > now, Event.starts_at < horizon)).scalars().all()
    for ev in events:
        for kind, due in due_times(ev, es).items():
            if not (due <= now < min(due + es.grace, as_utc(ev.starts_at))):
                continue
            run_key = f"ev:{ev.id}:r{ev.revision}:{kind}"
            if s.get(JobRun, run_key) is not None:
                continue
            queued += _send_reminders(s, ev, kind, run_key, now, es)
            s.add(JobRun(key=run_key, hub_id=hub_id, detail={"queued": queued}, at=now))
            s.flush()
    return queued


def _send_reminders(s: Session, ev: Event, kind: str, run_key: str, now: datetime, es: EventSettings) -> int:
    when = "明天" if kind == "day_before" else "今天"
    text = f"活动提醒：{when}有{describe(s, ev, es)}\n欢迎参加！不想再收到提醒，回复“退订”。"
    queued = 0
    for user in subscribers(s, ev.hub_id):  # only those who opted in: a reminder is for who asked for it
        enqueue(s, hub_id=ev.hub_id, to=user.openid, text=text, now=now, idempotency_key=f"{run_key}:u{user.id}",
                notice=Notice.EVENT_REMINDER)
        queued += 1
    if kind == "day_before":
        queued += _team_reminders(s, ev, run_key, now, es)
    return queued


def _team_reminders(s: Session, ev: Event, run_key: str, now: datetime, es: EventSettings) -> int:
    """Each team taking part gets its own reminder with the roster (members, and the team chat)."""
    queued = 0
    for code in ev.teams or []:
        team: Team | None = team_by_code(s, ev.hub_id, code)
        if team is None:
            continue
        members = roster(s, ev.hub_id, team.id)
        names = "、".join(m.name for m in members) or "（暂无成员）"
        text = (f"{team.name}活动提醒：明天{event_when(ev, es.tz)}在{ev.place}参加{ev.title}。\n"
                f"本队名单（{len(members)}人）：{names}\n请提前到场，有事请假回复“人工”。")
        for m in members:
            if m.openid:
                enqueue(s, hub_id=ev.hub_id, to=m.openid, text=text, now=now,
                        idempotency_key=f"{run_key}:team{team.id}:v{m.volunteer_id}", notice=Notice.EVENT_REMINDER)
                queued += 1
        queued += post_to_team(s, team, text, now=now, key=f"{run_key}:team", mention=members)
    return queued


# -- calendar files ------------------------------------------------------------------------------


def to_ics(events: list[Event], es: EventSettings, hub_name: str, s: Session | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//leifeng//street events//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{hub_name} 活动")
    cal.add("x-wr-timezone", str(es.tz))
    for ev in events:
        item = ICalEvent()
        item.add("uid", f"event-{ev.id}@leifeng-hub-{ev.hub_id}")
        item.add("summary", ev.title)
        item.add("dtstart", as_utc(ev.starts_at))
        item.add("dtend", as_utc(ev.ends_at))
        item.add("dtstamp", as_utc(ev.updated_at))
        item.add("sequence", ev.revision - 1)  # calendars replace the old time when the sequence grows
        item.add("location", ev.place)
        desc = []
        if s is not None and ev.teams:
            desc.append("参加队伍：" + "、".join(_team_names(s, ev.hub_id, list(ev.teams))))
        if ev.note:
            desc.append(ev.note)
        if desc:
            item.add("description", "\n".join(desc))
        item.add("status", "CANCELLED" if ev.status == "cancelled" else "CONFIRMED")
        if es.public_url:
            item.add("url", ics_url(es, ev))
        cal.add_component(item)
    return bytes(cal.to_ical())
