"""Who may be sent what, by which route (pure): the platform's quotas and template field rules, our notice kinds
with their priorities and template fields, and the choice of route for one message. No I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum

# -- the customer-service quota (客服消息) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """Customer-service messages one action of a user allows: `limit` of them from `at` until `at + lasts`.
    `seq` orders the action among the sends (the processed message's id; 0 when unknown, then times order it)."""

    at: datetime
    limit: int
    lasts: timedelta
    seq: int = 0

    def active(self, now: datetime) -> bool:
        return timedelta(0) <= now - self.at < self.lasts

    def counts(self, sent_at: datetime, sent_seq: int) -> bool:
        """Was a message sent (at a time, knowing the actions up to `sent_seq`) after this action?"""
        return sent_seq >= self.seq if self.seq else sent_at >= self.at


AFTER_MESSAGE = (5, timedelta(hours=48))  # the user sent a message (it was 20 before mid-2023)
AFTER_EVENT = (3, timedelta(minutes=1))  # they followed, scanned a QR code or clicked a menu item
GRANTING_EVENTS = frozenset({"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"})
WINDOW = AFTER_MESSAGE[1]


def action_of(msg_type: str) -> str | None:
    """A processed message's type ("text", "event:click") -> "message", "event" (3 within a minute) or None
    (an unfollow, a menu link, a location report, a delivery report: they open nothing)."""
    if not msg_type.startswith("event:"):
        return "message"
    return "event" if msg_type.removeprefix("event:") in GRANTING_EVENTS else None


UNFOLLOW = "event:unsubscribe"


def grants(actions: Iterable[tuple[str, datetime, int]]) -> tuple[Grant, ...]:
    """What a user's actions (processed message type, when, its id) allow: their latest message's grant and their
    latest follow/scan/click's. An earlier action's grant is replaced by the later one of its kind, and an unfollow
    ends every grant before it (WeChat answers 45015 to someone who unfollowed, and a follow again opens only its
    own 3 within a minute, not what their earlier message allowed)."""
    seen = sorted(actions, key=lambda a: (a[1], a[2]))
    ended = max(((at, seq) for msg_type, at, seq in seen if msg_type == UNFOLLOW), default=None)
    latest: dict[str, tuple[datetime, int]] = {}
    for msg_type, at, seq in seen:
        kind = action_of(msg_type)
        if kind is None or (ended is not None and (at, seq) <= ended):
            continue
        if kind not in latest or (at, seq) > latest[kind]:
            latest[kind] = (at, seq)
    out = []
    if "message" in latest:
        out.append(Grant(latest["message"][0], *AFTER_MESSAGE, seq=latest["message"][1]))
    if "event" in latest:
        out.append(Grant(latest["event"][0], *AFTER_EVENT, seq=latest["event"][1]))
    return tuple(out)


def quota_left(granted: Iterable[Grant], sent: Iterable[tuple[datetime, int]], now: datetime) -> int:
    """How many more customer-service messages WeChat accepts now: the most that any active grant still allows,
    each counting the messages sent since the action that opened it."""
    times = list(sent)
    best = 0
    for g in granted:
        if g.active(now):
            best = max(best, g.limit - sum(1 for at, seq in times if g.counts(at, seq)))
    return max(0, best)


# -- priorities -------------------------------------------------------------------------------------------------

# Among rows due at the same time the sender takes the highest priority first; the last slots of a person's quota
# are kept for what matters most (KEEP).
PRIORITY_BACKGROUND = 0  # digests, reports, announcements, "your dialogue expired"
PRIORITY_LOW = 20  # event reminders, points
PRIORITY_NORMAL = 40  # order updates, appointment reminders, application results, staff to-dos
PRIORITY_HIGH = 60  # "accepted", "please rate", a task offer
PRIORITY_URGENT = 80  # the late answer to the user's own message
PRIORITY_EMERGENCY = 100  # an emergency call-out or a resident's emergency

# A message may take a customer-service slot only while more than this many are left for its priority.
KEEP: tuple[tuple[int, int], ...] = ((PRIORITY_HIGH, 0), (PRIORITY_NORMAL, 1), (PRIORITY_LOW, 2),
                                     (PRIORITY_BACKGROUND, 3))


def may_take_slot(priority: int, left: int) -> bool:
    keep = next((k for level, k in KEEP if priority >= level), KEEP[-1][1])
    return left > keep


# -- notice kinds -----------------------------------------------------------------------------------------------


class Notice(StrEnum):
    CALLOUT = "callout"  # 一呼百应: a team is called out
    INCIDENT = "incident"  # a resident's emergency, to staff
    REPLY = "reply"  # what the user asked for (a late answer, a QR code link)
    TASK_OFFER = "task_offer"  # a volunteer is offered an order
    ORDER_STATUS = "order_status"  # the resident's order: accepted, booked for them, ended
    RATE_ASK = "rate_ask"  # the resident is asked to rate
    APPOINTMENT = "appointment"  # an order starts soon
    ORDER_UPDATE = "order_update"  # any other change of an order (cancelled, reassigned, support confirmed...)
    MEMBERSHIP = "membership"  # a volunteer application's result, a suspension
    STAFF_TODO = "staff_todo"  # staff should act (nobody accepted, support needed, a low rating...)
    EVENT_CHANGE = "event_change"  # a street event moved or was cancelled
    EVENT_REMINDER = "event_reminder"  # a street event soon (to subscribers and the teams taking part)
    POINTS = "points"  # points redeemed, a new star level
    DIGEST = "digest"  # the daily digest, monthly and quarterly reports, to staff
    ANNOUNCEMENT = "announcement"  # a broadcast
    CHAT = "chat"  # anything else: only as a chat message


@dataclass(frozen=True)
class KindRule:
    priority: int
    template: bool  # a service notice the user asked for: a template message may carry it (never marketing)
    team: bool  # for a volunteer, WeCom and the team's group robot may carry it
    call: bool  # undelivered, staff should tell the person by phone (else it is only shown, "skipped")
    status: str  # the template's status word (phrase: at most 5 Chinese characters)


RULES: dict[Notice, KindRule] = {
    Notice.CALLOUT: KindRule(PRIORITY_EMERGENCY, True, True, True, "紧急集合"),
    Notice.INCIDENT: KindRule(PRIORITY_EMERGENCY, True, False, False, "紧急求助"),
    Notice.REPLY: KindRule(PRIORITY_URGENT, False, False, False, "回复"),
    Notice.TASK_OFFER: KindRule(PRIORITY_HIGH, True, True, False, "待接单"),
    Notice.ORDER_STATUS: KindRule(PRIORITY_HIGH, True, False, True, "有更新"),
    Notice.RATE_ASK: KindRule(PRIORITY_HIGH, True, False, False, "待评价"),
    Notice.APPOINTMENT: KindRule(PRIORITY_NORMAL, True, True, False, "即将开始"),
    Notice.ORDER_UPDATE: KindRule(PRIORITY_NORMAL, True, True, True, "有更新"),
    Notice.MEMBERSHIP: KindRule(PRIORITY_NORMAL, True, False, True, "有结果"),
    Notice.STAFF_TODO: KindRule(PRIORITY_NORMAL, True, False, False, "待处理"),
    Notice.EVENT_CHANGE: KindRule(PRIORITY_NORMAL, True, True, False, "有变动"),
    Notice.EVENT_REMINDER: KindRule(PRIORITY_LOW, True, True, False, "即将举行"),
    Notice.POINTS: KindRule(PRIORITY_LOW, True, False, False, "积分变动"),
    Notice.DIGEST: KindRule(PRIORITY_BACKGROUND, True, False, False, "简报"),  # staff's own work: a 待办 notice
    Notice.ANNOUNCEMENT: KindRule(PRIORITY_BACKGROUND, False, False, False, "通知"),
    Notice.CHAT: KindRule(PRIORITY_BACKGROUND, False, False, False, "消息"),
}


@dataclass(frozen=True)
class Classified:
    """What an outbox row is: its kind, the status word, and the record it is about."""

    kind: Notice
    status: str
    order_id: int | None = None
    event_id: int | None = None


# The idempotency key's first part names what a message is (the domain's keys, e.g. "accepted:12:3:7"), as rows:
# prefix -> (kind, status word or "" for the kind's own, which part of the key is the order or event id).
KEY_PREFIXES: dict[str, tuple[Notice, str, str]] = {
    "callout": (Notice.CALLOUT, "", ""),
    "incident": (Notice.INCIDENT, "", ""),
    "late": (Notice.REPLY, "", ""),
    "redeem-qr": (Notice.REPLY, "", ""),
    "offer": (Notice.TASK_OFFER, "", "order"),
    "taken": (Notice.TASK_OFFER, "已有人接", "order"),  # the others offered an order hear it is taken (never a call)
    "accepted": (Notice.ORDER_STATUS, "已接单", "order"),
    "proxy": (Notice.ORDER_STATUS, "已预约", "order"),
    "expired": (Notice.ORDER_STATUS, "已结束", "order"),
    "rate-ask": (Notice.RATE_ASK, "", "order"),
    "appt": (Notice.APPOINTMENT, "", "order"),
    "member": (Notice.MEMBERSHIP, "", ""),
    "nobody": (Notice.STAFF_TODO, "待派单", "order"),
    "support-needed": (Notice.STAFF_TODO, "待配套", "order"),
    "low-rating": (Notice.STAFF_TODO, "待回访", "order"),
    "escalate": (Notice.STAFF_TODO, "待派单", "order"),
    "repeat": (Notice.STAFF_TODO, "待安排", "order"),  # a visit said to repeat (每周三): staff arrange the rest
    "applied": (Notice.STAFF_TODO, "待审核", ""),
    "human": (Notice.STAFF_TODO, "待回复", ""),
    "redeemed-merchant": (Notice.POINTS, "已核销", ""),
    "redeemed": (Notice.POINTS, "已兑换", ""),
    "star": (Notice.POINTS, "星级提升", ""),
    "core": (Notice.POINTS, "骨干认定", ""),
    "digest": (Notice.DIGEST, "", ""),
    "monthly": (Notice.DIGEST, "", ""),
    "honours": (Notice.DIGEST, "", ""),
    "report": (Notice.DIGEST, "", ""),
    "bc": (Notice.ANNOUNCEMENT, "", ""),
    "dialogue-expired": (Notice.CHAT, "", ""),
}
_ORDER_IN_TEXT = re.compile(r"订单\s*#?(\d+)")
# The change an unkeyed order message tells, by its words: first match wins.
ORDER_WORDS: tuple[tuple[str, str], ...] = (("取消", "已取消"), ("改派", "已改派"), ("重新安排", "重新安排"),
                                            ("配套", "已配套"), ("评价", "已评价"), ("完成", "已完成"))
MEMBERSHIP_WORDS: tuple[tuple[str, str], ...] = (("未通过", "未通过"), ("驳回", "未通过"), ("通过", "已通过"),
                                                 ("暂停", "已暂停"), ("恢复", "已恢复"), ("解除", "已解除"),
                                                 ("退出", "已退出"))


def _int(part: str) -> int | None:
    return int(part) if part.isdigit() else None


def classify(key: str | None, text: str) -> Classified:
    """What a row is, from its idempotency key (the domain names its notices there) and, without one, its text."""
    parts = (key or "").split(":")
    head = parts[0]
    if head == "ev" and len(parts) > 2:  # ev:<id>:r<rev>:<kind>:…, ev:<id>:moved:…, ev:<id>:cancel:…
        event_id = _int(parts[1])
        if parts[2] == "moved":
            return Classified(Notice.EVENT_CHANGE, "已改期", event_id=event_id)
        if parts[2] == "cancel":
            return Classified(Notice.EVENT_CHANGE, "已取消", event_id=event_id)
        when = "今天举行" if "morning" in parts else "明天举行"
        return Classified(Notice.EVENT_REMINDER, when, event_id=event_id)
    if head in KEY_PREFIXES:
        kind, status, ref = KEY_PREFIXES[head]
        if kind is Notice.MEMBERSHIP:
            status = _status_from(text, MEMBERSHIP_WORDS) or status
        order_id = _int(parts[1]) if ref == "order" and len(parts) > 1 else None
        return Classified(kind, status or RULES[kind].status, order_id=order_id)
    if _ORDER_IN_TEXT.search(text):  # the number there is the order's ref (单号), not its id: the headline says it
        return Classified(Notice.ORDER_UPDATE, _status_from(text, ORDER_WORDS) or RULES[Notice.ORDER_UPDATE].status)
    return Classified(Notice.CHAT, RULES[Notice.CHAT].status)


def order_ref_in(text: str) -> int | None:
    """The order an unkeyed order message names, by its ref (单号): the sender looks it up in the row's hub."""
    m = _ORDER_IN_TEXT.search(text)
    return int(m.group(1)) if m else None


def _status_from(text: str, words: tuple[tuple[str, str], ...]) -> str:
    return next((status for word, status in words if word in text), "")


# -- category template fields (类目模板) ----------------------------------------------------------------------------

TEMPLATE_VALUE_MAX = 20  # every value since 2023-05-04 (character_string and number allow 32, the rule says 20)
_CJK = r"\u4e00-\u9fff"
_FIELD_KEY = re.compile(r"([a-z_]+?)(\d+)")
_EMOJI = re.compile("[\U00010000-\U0010ffff\u2600-\u27bf\ufe0f]")


def field_type(key: str) -> str | None:
    """A category template's key names its type: "thing2" -> "thing", "character_string1" -> "character_string"."""
    m = _FIELD_KEY.fullmatch(key)
    return m.group(1) if m and m.group(1) in FIELD_TYPES else None


def _one_line(value: str) -> str:
    return re.sub(r"\s+", " ", _EMOJI.sub("", value)).strip()


def _cut(value: str, limit: int = TEMPLATE_VALUE_MAX) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _fit_thing(value: str) -> str | None:
    return _cut(value) or None


def _fit_phrase(value: str) -> str | None:
    return value if re.fullmatch(f"[{_CJK}]{{1,5}}", value) else None


def _fit_ascii(value: str) -> str | None:
    return value if re.fullmatch(r"[\x21-\x7e]{1,20}", value) else None


def _fit_number(value: str) -> str | None:
    return value if re.fullmatch(r"-?\d{1,20}(\.\d+)?", value) and len(value) <= TEMPLATE_VALUE_MAX else None


def _fit_phone(value: str) -> str | None:
    return value if re.fullmatch(r"[\d+\-]{1,17}", value) else None


def _fit_name(value: str) -> str | None:
    return value if re.fullmatch(f"[{_CJK}·]{{1,10}}|[A-Za-z .]{{1,20}}", value) else None


def _fit_time(value: str) -> str | None:
    ok = re.fullmatch(r"(\d{4}年\d{1,2}月\d{1,2}日 )?\d{1,2}:\d{2}(~\d{1,2}:\d{2})?", value)
    return value if ok and len(value) <= TEMPLATE_VALUE_MAX else None


def _fit_date(value: str) -> str | None:
    ok = re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?", value)
    return value if ok else None


def _fit_amount(value: str) -> str | None:
    return value if re.fullmatch(r"\d{1,10}(\.\d{1,2})?元?", value) else None


FIELD_TYPES: dict[str, Callable[[str], str | None]] = {
    "thing": _fit_thing, "const": _fit_thing, "phrase": _fit_phrase, "character_string": _fit_ascii,
    "number": _fit_number, "amount": _fit_amount, "time": _fit_time, "date": _fit_date,
    "phone_number": _fit_phone, "name": _fit_name,
}


def fit(key: str, value: str | None) -> str | None:
    """The value made to fit the field (one line, no emoji, cut to 20 for free text), or None when it cannot be
    (a phrase that is not 1-5 Chinese characters, a name in digits, a time in another format...)."""
    kind = field_type(key)
    if kind is None or value is None:
        return None
    clean = _one_line(value)
    return FIELD_TYPES[kind](clean) if clean else None


# -- what a template says, by notice kind ------------------------------------------------------------------------

# The slots a notice can fill; a hub's template maps some of them to its field keys (README: 配置模板消息).
SLOTS = ("subject", "status", "time", "order_no", "service", "place", "tip", "name")
# The single notice template (LEIFENG_WECHAT_NOTICE_TEMPLATE_ID / the hub's notice_template_id): a category
# template with 事项 (thing1), 状态 (phrase2) and 时间 (time3), e.g. 服务进度提醒.
DEFAULT_FIELDS: Mapping[str, str] = {"subject": "thing1", "status": "phrase2", "time": "time3"}


@dataclass(frozen=True)
class Facts:
    """What a notice is about, gathered by the sender: all optional but the kind, the text and the time."""

    kind: Notice
    status: str
    text: str
    at: datetime  # when the notice was queued
    tz: tzinfo
    order_ref: int | None = None  # the order's 单号 (storage.orderrefs), the number people see and type
    service: str | None = None
    starts: datetime | None = None  # the appointment or the event
    place: str | None = None
    title: str | None = None  # the event's title
    name: str | None = None  # the volunteer who accepted


TIPS: dict[Notice, str] = {
    Notice.TASK_OFFER: "回复“接单 {o}”即可接单",
    Notice.RATE_ASK: "回复0-5颗心评价服务",
    Notice.CALLOUT: "能到请回复“到”",
    Notice.EVENT_REMINDER: "不想收提醒请回复“退订”",
    Notice.ORDER_STATUS: "有问题请回复“人工”",
    Notice.APPOINTMENT: "有变化请回复“人工”",
}


def headline(text: str) -> str:
    """The first sentence of a message's first line (a subject for a template), without brackets' contents."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^【[^】]*】", "", line).strip()
    first = re.split(r"[。！!？?；;]", line, maxsplit=1)[0].strip()
    return _one_line(first or line)


def local_time(at: datetime, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def slots(f: Facts) -> dict[str, str]:
    """Every slot's value for this notice, before fitting; a template uses the ones it maps."""
    order = f"订单{f.order_ref}" if f.order_ref is not None else ""
    service = f.service or "社区志愿服务"
    if f.kind is Notice.TASK_OFFER:
        subject = f"{service}任务 {order}".strip()
    elif f.kind is Notice.RATE_ASK:
        subject = f"请评价{service}服务 {order}".strip()
    elif f.kind in (Notice.ORDER_STATUS, Notice.APPOINTMENT, Notice.ORDER_UPDATE) and f.order_ref is not None:
        subject = f"{service} {order}"
    elif f.kind in (Notice.EVENT_REMINDER, Notice.EVENT_CHANGE) and f.title:
        subject = f.title
    else:
        subject = headline(f.text)
    tip = TIPS.get(f.kind, "").format(o=f.order_ref if f.order_ref is not None else "")
    values = {"subject": subject, "status": f.status, "time": local_time(f.starts or f.at, f.tz),
              "order_no": str(f.order_ref) if f.order_ref is not None else "", "service": service,
              "place": f.place or "", "tip": tip, "name": f.name or ""}
    return {k: v for k, v in values.items() if v}


def template_data(fields: Mapping[str, str], f: Facts) -> dict[str, dict[str, str]] | None:
    """The template's data (field key -> {"value": ...}), every value fitted to its field type; None when a
    mapped slot has no value that fits (the template cannot say this notice: another route is taken)."""
    values = slots(f)
    data: dict[str, dict[str, str]] = {}
    for slot, key in fields.items():
        value = fit(key, values.get(slot))
        if value is None and slot == "status":
            value = fit(key, RULES[f.kind].status)  # the kind's own word when the specific one does not fit
        if value is None:
            return None
        data[key] = {"value": value}
    return data or None


# -- checking a template before a hub uses it ---------------------------------------------------------------------

# What each field type of a category template holds (WECHAT_RULES.md), in words for whoever configures one.
FIELD_RULES: dict[str, str] = {
    "thing": "text, at most 20 characters", "const": "a pre-approved value, at most 20 characters",
    "phrase": "1-5 Chinese characters", "character_string": "letters, digits and signs, at most 20",
    "number": "digits, at most 20", "amount": "an amount such as 12.50元",
    "time": "a time such as 2026年11月27日 15:00",
    "date": "a date such as 2026年11月27日", "phone_number": "digits, + and -, at most 17",
    "name": "a name, at most 10 Chinese characters",
}
_EXAMPLE_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
_BEIJING = timezone(timedelta(hours=8))
_EVENT_KINDS = frozenset({Notice.EVENT_REMINDER, Notice.EVENT_CHANGE})
_ORDER_KINDS = frozenset({Notice.TASK_OFFER, Notice.ORDER_STATUS, Notice.RATE_ASK, Notice.APPOINTMENT,
                          Notice.ORDER_UPDATE, Notice.STAFF_TODO})


def example_facts(kind: Notice) -> Facts:
    """A typical notice of this kind, as the sender gathers it: what a template is checked against."""
    about_order = kind in _ORDER_KINDS
    about_event = kind in _EVENT_KINDS
    return Facts(kind=kind, status=RULES[kind].status, text="您的订单123456已有志愿者接单，明天下午三点上门。",
                 at=_EXAMPLE_AT, tz=_BEIJING, order_ref=123456 if about_order else None,
                 service="义务理发" if about_order else None,
                 starts=_EXAMPLE_AT + timedelta(days=1) if about_order or about_event else None,
                 place="幸福小区附近" if about_order else "幸福小区活动中心" if about_event else None,
                 title="雷锋一条街便民服务" if about_event else None,
                 name="张建国" if kind in (Notice.ORDER_STATUS, Notice.RATE_ASK) else None)


def template_problems(kind: Notice, fields: Mapping[str, str]) -> list[str]:
    """Why a template with these fields (slot -> field key) cannot say a typical notice of this kind: a slot the
    notice has no value for, or a value its field type refuses. Empty: the template works for this kind."""
    values = slots(example_facts(kind))
    problems = []
    for slot, key in fields.items():
        kind_of_field = field_type(key)
        if slot not in SLOTS:
            problems.append(f"{slot}: not a slot (known: {', '.join(SLOTS)})")
        elif kind_of_field is None:
            problems.append(f"{key}: not a category template field (thing1, time2, phrase3 ...)")
        elif slot not in values:
            problems.append(f"{slot} -> {key}: a {kind.value} notice has no {slot}")
        elif fit(key, values[slot]) is None and not (slot == "status" and fit(key, RULES[kind].status)):
            problems.append(f"{slot} -> {key}: {values[slot]!r} does not fit a {kind_of_field} field "
                            f"({FIELD_RULES[kind_of_field]})")
    return problems


# -- the route for one message -----------------------------------------------------------------------------------


class Route(StrEnum):
    CUSTOM = "custom"  # a customer-service message
    TEMPLATE = "template"  # a category template message
    SUBSCRIBE = "subscribe"  # a 订阅通知 (message/subscribe/bizsend) the person opted in to
    WECOM = "wecom"  # the WeCom app, for a volunteer who uses it
    ROBOT = "robot"  # the team's group robot, mentioning the volunteer
    UNDELIVERED = "undelivered"  # staff should tell the person by phone
    SKIPPED = "skipped"  # not delivered and not worth a call (shown to staff all the same)


@dataclass(frozen=True)
class Reach:
    """What can carry a message to one person now."""

    follows: bool
    quota_left: int
    template: bool  # a template for this notice is configured and its fields fit
    volunteer: bool = False
    wecom: bool = False  # a volunteer linked to the WeCom app
    robot: bool = False  # a volunteer whose team has a group robot
    subscribe: bool = False  # they opted in to this notice's 订阅通知 (a notice left) and its fields fit


# Why a route was not taken (stored with an undelivered row; the console words them).
NOT_FOLLOWING = "not_following"
WINDOW_CLOSED = "window_closed"
QUOTA_KEPT = "quota_kept"  # slots are left, but kept for more important messages
NOT_A_SERVICE_NOTICE = "not_a_service_notice"
NO_TEMPLATE = "no_template"
NO_TEAM_ROUTE = "no_team_route"


def routes(kind: Notice, priority: int, reach: Reach) -> tuple[tuple[Route, ...], tuple[str, ...]]:
    """The routes to try, best first, ending with UNDELIVERED or SKIPPED; and why the others were passed over."""
    rule = RULES[kind]
    tried: list[Route] = []
    why: list[str] = []
    if not reach.follows:
        why.append(NOT_FOLLOWING)
    elif reach.quota_left == 0:
        why.append(WINDOW_CLOSED)
    elif not may_take_slot(priority, reach.quota_left):
        why.append(QUOTA_KEPT)
    else:
        tried.append(Route.CUSTOM)
    if reach.follows:
        if not rule.template:
            why.append(NOT_A_SERVICE_NOTICE)
        elif not reach.template:
            why.append(NO_TEMPLATE)
        else:
            tried.append(Route.TEMPLATE)
        if rule.template and reach.subscribe:  # scarce (one notice per one-time opt-in): after the template
            tried.append(Route.SUBSCRIBE)
    if rule.team and reach.volunteer:
        if reach.wecom:
            tried.append(Route.WECOM)
        if reach.robot:
            tried.append(Route.ROBOT)
        if not (reach.wecom or reach.robot):
            why.append(NO_TEAM_ROUTE)
    tried.append(Route.UNDELIVERED if rule.call else Route.SKIPPED)
    return tuple(tried), tuple(why)


# What a volunteer's team robot says for them: a nudge with no detail (the group sees it: no address, no phone).
NUDGE_HINTS: dict[Notice, str] = {
    Notice.EVENT_REMINDER: "详情请到公众号回复“活动”",
    Notice.EVENT_CHANGE: "详情请到公众号回复“活动”",
}
NUDGE_HINT = "详情请到公众号回复“我的任务”"


def nudge(f: Facts, name: str | None) -> str:
    """The group-robot line for one volunteer out of reach on WeChat: who, what (subject and status), what to do."""
    values = slots(f)
    hint = values.get("tip") if f.kind in (Notice.TASK_OFFER, Notice.CALLOUT) else None
    hint = hint or NUDGE_HINTS.get(f.kind, NUDGE_HINT)
    return f"{name or '志愿者'}：{values['subject']}（{values['status']}）。{hint}"


# -- merging several messages to one person ------------------------------------------------------------------------

MERGE_MAX_BYTES = 2000  # one customer-service text stays well under what WeChat shows in one bubble


def mergeable(kind: Notice) -> bool:
    """An emergency goes alone, at once; the rest may share one message with others due to the same person."""
    return RULES[kind].priority < PRIORITY_EMERGENCY


def merge_texts(texts: Iterable[str]) -> list[list[int]]:
    """Group message texts (given best first) into as few messages as fit MERGE_MAX_BYTES, keeping their order:
    the indexes of each group."""
    groups: list[list[int]] = []
    size = 0
    for i, text in enumerate(texts):
        n = len(text.encode("utf-8")) + 2
        if groups and size + n <= MERGE_MAX_BYTES:
            groups[-1].append(i)
            size += n
        else:
            groups.append([i])
            size = n
    return groups
