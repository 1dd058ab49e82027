"""A fake WeChat (and WeCom robot and app) API server on loopback, as strict as the platform, for tests and the demo.

It implements the endpoints the bot calls, records every call, and refuses what WeChat refuses
(/work/shared/WECHAT_RULES.md; the platform is right where they disagree, and this fake is never kinder):

- customer-service messages: 5 within 48 h of a user's message, 3 within a minute of a follow, a QR scan or a
  menu click (a click opens no 48-hour quota); 45015 outside every window or to a non-follower, 45047 over the count;
- template messages: 43004 to a non-follower, 43101 when the user refused them, 40037 for a template id the
  account has not added (when the test registered the account's templates), 47003 for `first`/`remark`/`keywordN`,
  a value over 20 characters or with a line break, or one that breaks its field type (thing, phrase ≤ 5 Chinese
  characters, time, date, character_string, number, amount, phone_number, name ≤ 10, car_number, const);
  `client_msg_id` sends one message per openid and id within 10 minutes;
- 订阅通知 (`message/subscribe/bizsend`): only after the user accepted that template, one notice per one-time
  opt-in; 43101 otherwise (or once they withdrew it, or blocked it: a subscribe_msg_sent_event "failed:user block");
- the account's kind (`Rules.account`): a 认证服务号 ("service", the default) or a 公众号/订阅号 ("subscription"),
  which has neither template messages nor 订阅通知 (48001) and one 群发 a day (45028 beyond);
- 群发: drafts (`draft/add`, a permanent cover image from `material/add_material`), `mass/send` to 2-10,000
  openids (a 订阅号 has no such call: 48001), `mass/sendall` to a tag's followers or everyone; each follower
  receives at most 4 a calendar month (45028), the interface 60 requests a minute (45009), `clientmsgid` against
  repeats (45065); `material/add_news` is gone (45103);
- user tags: `tags/create` (a name of 1-30 bytes, 45158; unique, 45157; at most 100 tags, 45056), `tags/get`,
  `tags/delete` (not the system tags, 45058; not one over 100,000 followers, 45057), `tags/members/batchtagging`
  and `batchuntagging` (1-50 openids, 40032; followers of the account only, 40003; a tag that exists, 45159; a
  follower carries at most 20 tags, 45059; all or nothing), `tags/getidlist`, `user/tag/get` (pages of 10,000);
- tokens: `/cgi-bin/token` gives a new token and ends the previous ones 5 minutes later; `/cgi-bin/stable_token`
  gives the same token while it is valid and rotates it (ending the old one at once) only with `force_refresh`;
- WeCom group robots: 20 messages a minute per robot (45009), text ≤ 2048 bytes, markdown ≤ 4096 (40058).

**What users did.** WeChat knows because it delivers their messages; so whoever plays WeChat's push side (the
tests' chat driver, the demo's transport) hands the fake the XML it posts to the webhook: `push(xml)` or
POST /__push__ with the XML as body. The fake reads the sender, the type and CreateTime from it: a message, a
follow, an unfollow, a scan, a click, a 订阅通知 opt-in or withdrawal. People who were already followers (sample
data) are declared with `follower(openid, wrote_at=...)` or POST /__user__ {"openid", "did", "at"}. Windows are
judged on the fake's clock (`clock=`, the tests' FakeClock; the real time by default), never on when a call arrives.

**Relaxed rules**, for experiments only, never by default: FakeWeChatServer(strict=False) or POST /__rules__
{"strict": false}: every send is accepted as before (tokens still checked). Failure injection: POST /__fail__
with JSON {"path": "/cgi-bin/message/custom/send", "errcode": 45015, "times": 1} (or "http_status": 500, or
"delay": seconds to simulate a timeout); POST /__expire_token__ makes every issued access token invalid (the next
call gets 40001); POST /__reset__ clears everything; GET /__sent__ shows every call, GET /__received__ what each
person received, as text.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from defusedxml import ElementTree
from flask import Flask, Response, jsonify, request
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from bot.clock import Clock, SystemClock
from storage.models import User

# -- the platform's numbers -----------------------------------------------------------------------------------
AFTER_MESSAGE = (5, timedelta(hours=48))  # customer-service messages allowed after a user's message, and for how long
AFTER_EVENT = (3, timedelta(minutes=1))  # ... after a follow, a QR scan or a menu click
GRANTING_EVENTS = frozenset({"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"})
MASS_PER_MONTH = 4
MASS_API_PER_MINUTE = 60
MASS_MIN, MASS_MAX = 2, 10_000
ROBOT_PER_MINUTE = 20
TAGS_MAX = 100  # tags an account may create (the system tags aside)
TAGS_PER_USER = 20  # tags one follower may carry
TAGGING_MAX = 50  # openids in one batchtagging / batchuntagging call
TAG_NAME_BYTES = 30  # "标签名长度超过30个字节" (45158): 10 Chinese characters
TAG_PAGE = 10_000  # followers in one page of user/tag/get
TAG_DELETE_MAX = 100_000  # a tag with more followers cannot be deleted (45057)
SYSTEM_TAGS = {2: "星标组"}  # 0/1/2 are WeChat's own: never modified (45058)
ROBOT_TEXT_BYTES, ROBOT_MARKDOWN_BYTES = 2048, 4096
CLIENT_MSG_ID_WINDOW = timedelta(minutes=10)
TOKEN_SECONDS = 7200
CLASSIC_OVERLAP = timedelta(minutes=5)  # a new /cgi-bin/token ends the previous one this much later
STABLE_FORCE_PER_DAY = 20
TEMPLATE_VALUE_MAX = 20  # every template value since 2023-05-04, whatever its field type

_TIME = r"(\d{4}年\d{1,2}月\d{1,2}日\s?|\d{4}-\d{1,2}-\d{1,2}\s|\d{1,2}月\d{1,2}日\s?)?\d{1,2}:\d{2}"
_DATE = r"(\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2})(\s?\d{1,2}:\d{2})?"
# Field types of 类目模板 (category templates): the key is the type and a number ("thing2"), the value must match.
FIELD_TYPES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r".{1,20}", re.S),
    "phrase": re.compile(r"[\u4e00-\u9fff]{1,5}"),
    "character_string": re.compile(r"[\x21-\x7e]{1,32}"),
    "number": re.compile(r"-?\d{1,32}(\.\d+)?"),
    "amount": re.compile(r"[¥￥]?\d+(\.\d{1,2})?元?"),
    "time": re.compile(f"{_TIME}(~{_TIME})?"),
    "date": re.compile(f"{_DATE}(~{_DATE})?"),
    "phone_number": re.compile(r"[\d+\-]{1,17}"),
    "name": re.compile(r"[\u4e00-\u9fff·]{1,10}|[A-Za-z .]{1,20}"),
    "car_number": re.compile(r"[\u4e00-\u9fffA-Z0-9]{1,8}"),
    "const": re.compile(r".{1,20}", re.S),
}
_FIELD_KEY = re.compile(r"([a-z_]+?)(\d+)")


def template_value_problem(key: str, value: Any) -> str | None:
    """Why WeChat would refuse this template field (47003), or None. Written from the platform's rules, not
    from the bot's, so a mistake in the bot's rules shows here."""
    if key in ("first", "remark"):
        return f"{key} was removed from template messages on 2023-05-04"
    m = _FIELD_KEY.fullmatch(key)
    if m is None or m.group(1) not in FIELD_TYPES:
        return f"{key} is not a field of a category template (thing1, time2, phrase3 ...)"
    if not isinstance(value, str) or not value:
        return f"{key} has no value"
    if "\n" in value or "\r" in value:
        return f"{key} has a line break"
    if len(value) > TEMPLATE_VALUE_MAX:
        return f"{key} is {len(value)} characters, more than {TEMPLATE_VALUE_MAX}"
    if not FIELD_TYPES[m.group(1)].fullmatch(value):
        return f"{key} {value!r} is not a valid {m.group(1)}"
    return None


@dataclass
class _Failure:
    path: str
    times: int
    errcode: int | None = None
    http_status: int | None = None
    delay: float = 0.0


@dataclass
class Person:
    """What WeChat knows about one user of the account."""

    openid: str
    follows: bool = False
    # their latest message and latest follow/scan/click: (when, its place in the fake's sequence of happenings,
    # which orders a send after an action even when a frozen test clock gives both the same time)
    message_at: tuple[datetime, int] | None = None
    event_at: tuple[datetime, int] | None = None
    custom_sent: list[tuple[datetime, int]] = field(default_factory=list)  # customer-service messages accepted
    mass: Counter[str] = field(default_factory=Counter)  # "2026-11" -> 群发 received that month
    refuses_templates: bool = False
    subscriptions: dict[str, int] = field(default_factory=dict)  # 订阅通知 template id -> notices left (-1: long-term)
    tags: set[int] = field(default_factory=set)


@dataclass
class Rules:
    strict: bool = True
    stable_token: bool = True  # the account offers /cgi-bin/stable_token (False: 404, as for a very old client)
    account: str = "service"  # 认证服务号; "subscription": a 公众号/订阅号 (no templates, no 订阅通知, 1 群发 a day)


@dataclass
class _Token:
    appid: str
    kind: str  # classic | stable | wecom
    expires: datetime


@dataclass
class FakeState:
    calls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    tokens: dict[str, _Token] = field(default_factory=dict)
    stable: dict[str, str] = field(default_factory=dict)  # appid -> its current stable token
    stable_forced: Counter[str] = field(default_factory=Counter)  # "appid:2026-11-23" -> force refreshes that day
    people: dict[str, Person] = field(default_factory=dict)
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the account's templates (empty: any id)
    template_ids: dict[tuple[str, str], tuple[datetime, int]] = field(default_factory=dict)  # (openid, client id)
    media: dict[str, str] = field(default_factory=dict)  # media_id -> image | draft
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    mass_ids: dict[str, int] = field(default_factory=dict)  # clientmsgid -> msg_id
    mass_calls: list[datetime] = field(default_factory=list)
    mass_days: Counter[str] = field(default_factory=Counter)  # Beijing day -> 群发 sent (a 订阅号 has one a day)
    robot_sends: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    tag_names: dict[int, str] = field(default_factory=dict)  # the tags the account created: id -> name
    tag_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    received: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    rules: Rules = field(default_factory=Rules)
    clock: Clock = field(default_factory=SystemClock)
    token_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    msg_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- what users did ----------------------------------------------------------------------------------------
    def person(self, openid: str) -> Person:
        with self.lock:
            return self.people.setdefault(openid, Person(openid))

    def user_did(self, openid: str, did: str, at: datetime | None = None, *, template_id: str = "",
                 accept: bool = True, long_term: bool = False) -> None:
        """Record one thing a user did: message | subscribe | unsubscribe | scan | click (or another granting
        event) | follower (followed some time ago, nothing since) | refuse_templates | subscribe_msg."""
        when = (at or self.clock.now(), next(self.seq))
        with self.lock:
            p = self.person(openid)
            if did == "message":
                p.follows, p.message_at = True, when  # only a follower can write to an official account
            elif did == "subscribe":
                p.follows, p.event_at = True, when
            elif did == "unsubscribe":
                p.follows, p.message_at, p.event_at = False, None, None
                p.subscriptions.clear()
            elif did in GRANTING_EVENTS:
                p.follows, p.event_at = True, when
            elif did == "follower":
                p.follows = True
            elif did == "refuse_templates":
                p.refuses_templates = True
            elif did == "subscribe_msg":
                if accept:
                    p.subscriptions[template_id] = -1 if long_term else max(0, p.subscriptions.get(template_id, 0)) + 1
                else:
                    p.subscriptions.pop(template_id, None)
            else:
                raise ValueError(f"unknown user action {did!r}")

    def push(self, xml: str | bytes) -> None:
        """WeChat delivered this (plaintext) message or event to the bot: learn what its sender did."""
        root = ElementTree.fromstring(xml)
        openid = root.findtext("FromUserName") or ""
        created = root.findtext("CreateTime")
        at = datetime.fromtimestamp(int(created), UTC) if created and created.isdigit() else None
        msg_type = (root.findtext("MsgType") or "").lower()
        if msg_type and msg_type != "event":  # whatever the user sent: text, voice, image ... or a newer kind
            self.user_did(openid, "message", at)
            return
        if msg_type != "event":
            return
        event = (root.findtext("Event") or "").lower()
        if event in GRANTING_EVENTS or event == "unsubscribe":
            self.user_did(openid, event, at)
        elif event in ("subscribe_msg_popup_event", "subscribe_msg_change_event"):
            for item in root.iter("List"):
                status = (item.findtext("SubscribeStatusString") or "").lower()
                self.user_did(openid, "subscribe_msg", at, template_id=item.findtext("TemplateId") or "",
                              accept=status == "accept")
        elif event == "subscribe_msg_sent_event":
            for item in root.iter("List"):
                if (item.findtext("ErrorStatus") or "").lower() == "failed:user block":
                    self.user_did(openid, "subscribe_msg", at, template_id=item.findtext("TemplateId") or "",
                                  accept=False)
        # VIEW, LOCATION and the rest open nothing

    # -- the platform's verdicts --------------------------------------------------------------------------------
    def custom_verdict(self, openid: str, now: datetime) -> int:
        p = self.people.get(openid)
        if p is None or not p.follows:
            return 45015
        active = [(action[1], limit) for action, (limit, lasts) in ((p.message_at, AFTER_MESSAGE),
                                                                    (p.event_at, AFTER_EVENT))
                  if action is not None and timedelta(0) <= now - action[0] < lasts]
        if not active:
            return 45015
        if all(sum(1 for _, n in p.custom_sent if n > seq) >= limit for seq, limit in active):
            return 45047
        return 0

    def token_valid(self, token: str, now: datetime) -> bool:
        t = self.tokens.get(token)
        return t is not None and now < t.expires

    def issue(self, appid: str, kind: str, now: datetime) -> str:
        token = f"FAKE_{'WECOM_' if kind == 'wecom' else 'STABLE_' if kind == 'stable' else ''}TOKEN_" \
                f"{next(self.token_counter)}"
        self.tokens[token] = _Token(appid, kind, now + timedelta(seconds=TOKEN_SECONDS))
        return token


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _beijing_month(at: datetime) -> str:
    """WeChat's calendar months are Beijing's."""
    return (at.astimezone(UTC) + timedelta(hours=8)).strftime("%Y-%m")


def _beijing_day(at: datetime) -> str:
    return (at.astimezone(UTC) + timedelta(hours=8)).strftime("%Y-%m-%d")


def readable(call: dict[str, Any]) -> tuple[list[str], str] | None:
    """(who, what) a successful delivery call brought, as text: a custom message's content, a template's values
    joined by " | ", a 群发's title and text, a robot's content. None for any other call."""
    if call.get("result", {}).get("errcode") not in (0, None) or call.get("method") != "POST":
        return None
    body = call.get("body") or {}
    path = call["path"]
    if path.endswith("/message/custom/send"):
        return [body.get("touser", "")], str((body.get("text") or {}).get("content", ""))
    if path.endswith(("/message/template/send", "/message/subscribe/bizsend")):
        if call.get("result", {}).get("deduplicated"):
            return None
        values = [str(v.get("value", "")) for v in (body.get("data") or {}).values() if isinstance(v, dict)]
        return [body.get("touser", "")], " | ".join(values)
    if path.endswith("/webhook/send"):
        content = (body.get("text") or body.get("markdown") or {}).get("content", "")
        return ["robot:" + call.get("params", {}).get("key", "")], str(content)
    return None


def create_fake_app(state: FakeState | None = None) -> Flask:
    app = Flask("fake_wechat")
    st = state or FakeState()
    app.extensions["fake_state"] = st

    def now() -> datetime:
        return st.clock.now()

    def take_failure(path: str) -> _Failure | None:
        with st.lock:
            for f in st.failures:
                if f.path == path and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def body_json() -> Any:
        return request.get_json(silent=True, force=True) if request.method == "POST" else None

    def record(result: dict[str, Any], status: int = 200) -> None:
        body = body_json()
        with st.lock:
            st.calls.append({"path": request.path, "method": request.method, "params": dict(request.args),
                             "body": body, "status": status, "result": result, "at": time.time(),
                             "fake_now": now().isoformat()})

    def answer(result: dict[str, Any], status: int = 200) -> Response:
        record(result, status)
        resp = jsonify(result)
        resp.status_code = status
        return resp

    def refuse(errcode: int, errmsg: str) -> Response:
        return answer({"errcode": errcode, "errmsg": errmsg})

    def authorised() -> bool:
        with st.lock:
            return st.token_valid(request.args.get("access_token", ""), now())

    def api(result: dict[str, Any]) -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        return answer({"errcode": 0, "errmsg": "ok", **result})

    def strict() -> bool:
        return st.rules.strict

    def no_such_api() -> Response | None:
        """A 公众号/订阅号 has neither template messages nor 订阅通知."""
        if strict() and st.rules.account == "subscription":
            return refuse(48001, "api unauthorized (this account has no such interface)")
        return None

    @app.before_request
    def inject_failure() -> Response | None:
        if request.path.startswith("/__"):
            return None
        failure = take_failure(request.path)
        if failure is None:
            return None
        if failure.delay:
            time.sleep(failure.delay)
        if failure.http_status:
            return answer({"error": "injected"}, failure.http_status)
        if failure.errcode is not None:
            return answer({"errcode": failure.errcode, "errmsg": "injected failure", "injected": True})
        return None

    # -- tokens ----------------------------------------------------------------------------------------------
    @app.get("/cgi-bin/token")
    def token() -> Response:
        appid = request.args.get("appid", "")
        if not appid or not request.args.get("secret"):
            return refuse(41002, "appid missing")
        at = now()
        with st.lock:
            for t in st.tokens.values():  # the previous classic tokens of this AppID end 5 minutes from now
                if t.appid == appid and t.kind == "classic":
                    t.expires = min(t.expires, at + CLASSIC_OVERLAP)
            token = st.issue(appid, "classic", at)
        return answer({"access_token": token, "expires_in": TOKEN_SECONDS})

    @app.post("/cgi-bin/stable_token")
    def stable_token() -> Response:
        if not st.rules.stable_token:
            return answer({"error": "not found"}, 404)
        body = body_json() or {}
        appid = str(body.get("appid", ""))
        if body.get("grant_type") != "client_credential" or not appid or not body.get("secret"):
            return refuse(40013, "invalid appid or grant_type")
        at = now()
        with st.lock:
            current = st.stable.get(appid)
            if body.get("force_refresh"):
                day = f"{appid}:{at.date().isoformat()}"
                if st.stable_forced[day] >= STABLE_FORCE_PER_DAY:
                    return refuse(45009, "reach max api daily quota limit (force_refresh)")
                st.stable_forced[day] += 1
                if current:
                    st.tokens.pop(current, None)  # force_refresh ends the old token at once
                current = None
            if current is None or not st.token_valid(current, at):
                current = st.issue(appid, "stable", at)
                st.stable[appid] = current
            left = int((st.tokens[current].expires - at).total_seconds())
        return answer({"access_token": current, "expires_in": left})

    # -- customer-service and template messages ------------------------------------------------------------------
    @app.post("/cgi-bin/message/custom/send")
    def custom_send() -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        body = body_json() or {}
        openid = str(body.get("touser", ""))
        at = now()
        with st.lock:
            if strict():
                verdict = st.custom_verdict(openid, at)
                if verdict == 45015:
                    return refuse(45015, "response out of time limit or subscription is canceled")
                if verdict == 45047:
                    return refuse(45047, "out of response count limit")
            st.person(openid).custom_sent.append((at, next(st.seq)))
            st.received[openid].append(str((body.get("text") or {}).get("content", "")))
        return answer({"errcode": 0, "errmsg": "ok"})

    def template_data_problem(data: Any, template_id: str) -> str | None:
        if not isinstance(data, dict) or not data:
            return "data missing"
        known = st.templates.get(template_id)
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            problem = template_value_problem(str(key), value)
            if problem:
                return problem
            if known is not None and key not in known:
                return f"{key} is not a field of template {template_id}"
        return None

    def template_refusal() -> Response | None:
        """Either template API (模板消息, 订阅通知) called without a valid token, or on an account without it."""
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        return no_such_api()

    def template_received(openid: str, data: Any) -> None:
        """What the follower reads of a template message: its values in order."""
        values = [str(v.get("value", "")) for v in (data or {}).values() if isinstance(v, dict)]
        st.received[openid].append(" | ".join(values))

    @app.post("/cgi-bin/message/template/send")
    def template_send() -> Response:
        refused = template_refusal()
        if refused is not None:
            return refused
        body = body_json() or {}
        openid, template_id = str(body.get("touser", "")), str(body.get("template_id", ""))
        at = now()
        with st.lock:
            p = st.people.get(openid)
            if strict():
                if p is None or not p.follows:
                    return refuse(43004, "require subscribe")
                if p.refuses_templates:
                    return refuse(43101, "user refuse to accept the msg")
                if st.templates and template_id not in st.templates:
                    return refuse(40037, "invalid template_id")
                problem = template_data_problem(body.get("data"), template_id)
                if problem:
                    return refuse(47003, f"argument invalid! {problem}")
            client_id = str(body.get("client_msg_id") or "")
            if client_id:
                seen = st.template_ids.get((openid, client_id))
                if seen is not None and at - seen[0] < CLIENT_MSG_ID_WINDOW:
                    return answer({"errcode": 0, "errmsg": "ok", "msgid": seen[1], "deduplicated": True})
            msgid = next(st.msg_counter)
            if client_id:
                st.template_ids[(openid, client_id)] = (at, msgid)
            template_received(openid, body.get("data"))
        return answer({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    @app.post("/cgi-bin/message/subscribe/bizsend")
    def subscribe_send() -> Response:
        refused = template_refusal()
        if refused is not None:
            return refused
        body = body_json() or {}
        openid, template_id = str(body.get("touser", "")), str(body.get("template_id", ""))
        with st.lock:
            p = st.people.get(openid)
            if strict():
                left = p.subscriptions.get(template_id, 0) if p and p.follows else 0
                if left == 0:
                    return refuse(43101, "user refuse to accept the msg")
                problem = template_data_problem(body.get("data"), template_id)
                if problem:
                    return refuse(47003, f"argument invalid! {problem}")
                if left > 0 and p is not None:
                    p.subscriptions[template_id] = left - 1
            template_received(openid, body.get("data"))
        return answer({"errcode": 0, "errmsg": "ok", "msgid": next(st.msg_counter)})

    # -- 群发: cover image, drafts, mass send, tags ----------------------------------------------------------------
    @app.post("/cgi-bin/material/add_material")
    def add_material() -> Response:
        if request.args.get("type") != "image" or "media" not in request.files:
            return refuse(40004, "invalid media type")
        media_id = f"FAKE_IMAGE_{next(st.msg_counter)}"
        with st.lock:
            st.media[media_id] = "image"
        return api({"media_id": media_id, "url": f"http://mmbiz.qpic.cn/fake/{media_id}"})

    @app.post("/cgi-bin/material/add_news")
    def add_news() -> Response:
        return refuse(45103, "This API has been unsupported")

    @app.post("/cgi-bin/draft/add")
    def draft_add() -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        articles = (body_json() or {}).get("articles") or []
        if not articles:
            return refuse(40007, "invalid media_id (no articles)")
        for a in articles:
            if not str(a.get("title", "")).strip() or len(str(a["title"])) > 32:
                return refuse(45003, "title size out of limit (1-32 characters)")
            if not str(a.get("content", "")).strip() or len(str(a["content"])) >= 20000:
                return refuse(45002, "content size out of limit")
            if strict() and st.media.get(str(a.get("thumb_media_id", ""))) != "image":
                return refuse(40007, "invalid media_id (thumb_media_id must be a permanent image)")
        media_id = f"FAKE_DRAFT_{next(st.msg_counter)}"
        with st.lock:
            st.media[media_id] = "draft"
            st.drafts[media_id] = {"articles": articles}
        return answer({"errcode": 0, "errmsg": "ok", "media_id": media_id})

    def mass_content(body: dict[str, Any]) -> tuple[str | None, str]:
        """(a problem, the text people read)."""
        kind = body.get("msgtype")
        if kind == "text":
            content = str((body.get("text") or {}).get("content", ""))
            return (None, content) if content.strip() else ("text content missing", "")
        if kind == "mpnews":
            draft = st.drafts.get(str((body.get("mpnews") or {}).get("media_id", "")))
            if draft is None:
                return "invalid media_id", ""
            first = draft["articles"][0]
            return None, f"{first.get('title', '')}\n{first.get('content', '')}"
        return f"msgtype {kind!r} not supported here", ""

    def mass(recipients: list[str], body: dict[str, Any]) -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        at = now()
        with st.lock:
            client_id = str(body.get("clientmsgid") or "")
            if client_id and client_id in st.mass_ids:
                return answer({"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": st.mass_ids[client_id]})
            if strict():
                st.mass_calls[:] = [t for t in st.mass_calls if at - t < timedelta(minutes=1)]
                if len(st.mass_calls) >= MASS_API_PER_MINUTE:
                    return refuse(45009, "reach max api minute quota limit (mass send)")
                st.mass_calls.append(at)
            problem, text = mass_content(body)
            if problem:
                return refuse(40007, problem)
            month, day = _beijing_month(at), _beijing_day(at)
            followers = [o for o in dict.fromkeys(recipients) if (p := st.people.get(o)) is not None and p.follows]
            if strict() and st.rules.account == "subscription" and st.mass_days[day] >= 1:
                return refuse(45028, "has no masssend quota (one a day)")
            if strict() and any(st.people[o].mass[month] >= MASS_PER_MONTH for o in followers):
                return refuse(45028, "has no masssend quota")
            st.mass_days[day] += 1
            for o in followers:
                st.people[o].mass[month] += 1
                st.received[o].append(text)
            msg_id = next(st.msg_counter)
            if client_id:
                st.mass_ids[client_id] = msg_id
        return answer({"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id,
                       "msg_data_id": msg_id * 10, "reached": len(followers)})

    @app.post("/cgi-bin/message/mass/send")
    def mass_send() -> Response:
        body = body_json() or {}
        if strict() and st.rules.account == "subscription":  # a 订阅号 reaches everyone or a tag, never a list
            return refuse(48001, "api unauthorized (mass send by openid list)")
        touser = body.get("touser")
        if not isinstance(touser, list) or not MASS_MIN <= len(set(touser)) <= MASS_MAX:
            return refuse(40130, f"invalid openid list size, at least {MASS_MIN}, at most {MASS_MAX}")
        return mass([str(o) for o in touser], body)

    @app.post("/cgi-bin/message/mass/sendall")
    def mass_sendall() -> Response:
        body = body_json() or {}
        flt = body.get("filter") or {}
        with st.lock:
            if flt.get("is_to_all"):
                people = [p.openid for p in st.people.values() if p.follows]
            else:
                tag = _int(flt.get("tag_id"))
                if tag not in st.tag_names:
                    return refuse(40050, "invalid tag id")
                people = [p.openid for p in st.people.values() if p.follows and tag in p.tags]
        return mass(people, body)

    # -- user tags: create, list, delete, tag and untag followers, a follower's tags, a tag's followers ------------
    def tag_refusal(tag: int | None) -> Response | None:
        if tag is None or tag not in st.tag_names:
            return refuse(45159, "invalid tag id")
        return None

    def tagged_openids(body: dict[str, Any]) -> tuple[list[str], Response | None]:
        """The openid_list of a (un)tagging call: 1-50 followers of the account, else WeChat's refusal."""
        openids = body.get("openid_list")
        if not isinstance(openids, list) or not 1 <= len(openids) <= TAGGING_MAX:
            return [], refuse(40032, f"invalid openid list size, at most {TAGGING_MAX}")
        unknown = [o for o in openids if (p := st.people.get(str(o))) is None or not p.follows]
        if unknown and strict():
            return [], refuse(40003, f"invalid openid {unknown[0]}")
        return [str(o) for o in openids if str(o) not in unknown], None

    @app.post("/cgi-bin/tags/create")
    def tags_create() -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        name = str(((body_json() or {}).get("tag") or {}).get("name", ""))
        if not name.strip() or len(name.encode("utf-8")) > TAG_NAME_BYTES:
            return refuse(45158, f"tag name too long (at most {TAG_NAME_BYTES} bytes)")
        with st.lock:
            if name in st.tag_names.values() or name in SYSTEM_TAGS.values():
                return refuse(45157, "invalid tag name (the same as another tag)")
            if len(st.tag_names) >= TAGS_MAX:
                return refuse(45056, f"too many tags (at most {TAGS_MAX})")
            tag_id = next(st.tag_counter)
            st.tag_names[tag_id] = name
        return answer({"tag": {"id": tag_id, "name": name}})

    @app.get("/cgi-bin/tags/get")
    def tags_get() -> Response:
        with st.lock:
            counts = Counter(t for p in st.people.values() if p.follows for t in p.tags)
            tags = [{"id": i, "name": n, "count": counts.get(i, 0)}
                    for i, n in sorted({**SYSTEM_TAGS, **st.tag_names}.items())]
        return api({"tags": tags})

    @app.post("/cgi-bin/tags/delete")
    def tags_delete() -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        tag = _int(((body_json() or {}).get("tag") or {}).get("id"))
        if tag in SYSTEM_TAGS:
            return refuse(45058, "can't modify sys tag")
        with st.lock:
            refused = tag_refusal(tag)
            if refused is not None:
                return refused
            under = [p for p in st.people.values() if tag in p.tags]
            if len(under) > TAG_DELETE_MAX:
                return refuse(45057, f"can't delete the tag that has more than {TAG_DELETE_MAX} fans")
            for p in under:
                p.tags.discard(tag)
            assert tag is not None
            del st.tag_names[tag]
        return answer({"errcode": 0, "errmsg": "ok"})

    def members_call(change: Callable[[int, list[str]], Response | None]) -> Response:
        """A batch (un)tagging call: the token, the openid_list and the tag are checked, then
        `change(tag, openids)` runs under the lock and either refuses (a Response) or makes the change (None)."""
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        body = body_json() or {}
        tag = _int(body.get("tagid"))
        with st.lock:
            openids, refused = tagged_openids(body)
            refused = refused or tag_refusal(tag)
            if refused is not None:
                return refused
            assert tag is not None
            refused = change(tag, openids)
            if refused is not None:
                return refused
        return answer({"errcode": 0, "errmsg": "ok"})

    @app.post("/cgi-bin/tags/members/batchtagging")
    def tags_batch() -> Response:
        def tag_them(tag: int, openids: list[str]) -> Response | None:
            full = [o for o in openids if tag not in st.people[o].tags and len(st.people[o].tags) >= TAGS_PER_USER]
            if full and strict():
                return refuse(45059, f"{full[0]} has too many tags (at most {TAGS_PER_USER})")
            for o in openids:  # all or nothing: WeChat tags the whole list or refuses it
                st.people[o].tags.add(tag)
            return None
        return members_call(tag_them)

    @app.post("/cgi-bin/tags/members/batchuntagging")
    def tags_unbatch() -> Response:
        def untag_them(tag: int, openids: list[str]) -> Response | None:
            for o in openids:
                st.people[o].tags.discard(tag)
            return None
        return members_call(untag_them)

    @app.post("/cgi-bin/tags/getidlist")
    def tags_of_user() -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        openid = str((body_json() or {}).get("openid", ""))
        with st.lock:
            p = st.people.get(openid)
            if p is None or not p.follows:
                return refuse(40003, f"invalid openid {openid}")
            return answer({"tagid_list": sorted(p.tags)})

    @app.post("/cgi-bin/user/tag/get")
    def users_of_tag() -> Response:
        if not authorised():
            return refuse(40001, "invalid credential, access_token is invalid or not latest")
        body = body_json() or {}
        tag = _int(body.get("tagid"))
        after = str(body.get("next_openid") or "")
        with st.lock:
            refused = tag_refusal(tag)
            if refused is not None:
                return refused
            under = sorted(p.openid for p in st.people.values() if p.follows and tag in p.tags)
        page = [o for o in under if o > after][:TAG_PAGE]
        return answer({"count": len(page), "data": {"openid": page}, "next_openid": page[-1] if page else ""})

    # -- the rest of the official account ------------------------------------------------------------------------
    @app.post("/cgi-bin/menu/create")
    def menu_create() -> Response:
        return api({})

    @app.get("/cgi-bin/user/info")
    def user_info() -> Response:
        openid = request.args.get("openid", "")
        with st.lock:
            p = st.people.get(openid)
            follows = p is not None and p.follows or not strict()
        if not follows:
            return api({"subscribe": 0, "openid": openid})
        return api({"subscribe": 1, "openid": openid, "nickname": f"用户{openid[-4:]}", "language": "zh_CN"})

    @app.post("/cgi-bin/qrcode/create")
    def qrcode_create() -> Response:
        n = next(st.msg_counter)
        return api({"ticket": f"FAKE_TICKET_{n}", "expire_seconds": 2592000, "url": f"http://weixin.qq.com/q/fake{n}"})

    # -- WeCom group robot ----------------------------------------------------------------------------------------
    @app.post("/cgi-bin/webhook/send")
    def robot_send() -> Response:
        key = request.args.get("key", "")
        if not key:
            return refuse(93000, "invalid webhook url")
        body = body_json() or {}
        kind = body.get("msgtype", "text")
        content = str((body.get(kind) or {}).get("content", "")) if isinstance(body.get(kind), dict) else ""
        limit = ROBOT_MARKDOWN_BYTES if kind == "markdown" else ROBOT_TEXT_BYTES
        if len(content.encode("utf-8")) > (limit if strict() else ROBOT_MARKDOWN_BYTES):
            return refuse(40058, "content exceed max length")
        at = now()
        with st.lock:
            recent = [t for t in st.robot_sends[key] if at - t < timedelta(minutes=1)]
            if strict() and len(recent) >= ROBOT_PER_MINUTE:
                st.robot_sends[key] = recent
                return refuse(45009, "api freq out of limit")
            st.robot_sends[key] = [*recent, at]
            st.received["robot:" + key].append(content)
        return answer({"errcode": 0, "errmsg": "ok"})

    # -- WeCom (企业微信) app API: gettoken, message/send, appchat/send --
    @app.get("/cgi-bin/gettoken")
    def wecom_token() -> Response:
        if not request.args.get("corpid") or not request.args.get("corpsecret"):
            return refuse(40013, "invalid corpid")
        with st.lock:
            token = st.issue(request.args["corpid"], "wecom", now())
        return answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": TOKEN_SECONDS})

    @app.post("/cgi-bin/message/send")
    def wecom_message_send() -> Response:
        body = body_json() or {}
        if not body.get("touser") or not body.get("agentid"):
            return refuse(40003 if not body.get("touser") else 40056, "invalid touser/agentid")
        return api({"invaliduser": "", "msgid": f"wecom{next(st.msg_counter)}"})

    @app.post("/cgi-bin/appchat/send")
    def wecom_appchat_send() -> Response:
        body = body_json() or {}
        if not body.get("chatid"):
            return refuse(86003, "chat not exists")
        return api({})

    # -- the test's and the demo's side -------------------------------------------------------------------------
    @app.get("/__sent__")
    def sent() -> Response:
        path = request.args.get("path")
        with st.lock:
            calls = [c for c in st.calls if path is None or c["path"] == path]
        return jsonify(calls)

    @app.get("/__received__")
    def received() -> Response:
        openid = request.args.get("openid")
        with st.lock:
            got = {k: list(v) for k, v in st.received.items() if openid is None or k == openid}
        return jsonify(got)

    @app.post("/__push__")
    def push() -> Response:
        st.push(request.get_data())
        return jsonify({"ok": True})

    @app.post("/__user__")
    def user() -> Response:
        spec = request.get_json(force=True)
        at = spec.get("at")
        when = datetime.fromtimestamp(float(at), UTC) if isinstance(at, int | float) else \
            datetime.fromisoformat(at) if isinstance(at, str) else None
        st.user_did(str(spec["openid"]), str(spec["did"]), when, template_id=str(spec.get("template_id", "")),
                    accept=bool(spec.get("accept", True)), long_term=bool(spec.get("long_term", False)))
        return jsonify({"ok": True})

    @app.post("/__rules__")
    def rules() -> Response:
        spec = request.get_json(force=True)
        with st.lock:
            for name in ("strict", "stable_token"):
                if name in spec:
                    setattr(st.rules, name, bool(spec[name]))
            if spec.get("account") in ("service", "subscription"):
                st.rules.account = str(spec["account"])
            if "templates" in spec:
                st.templates = {str(k): tuple(v) for k, v in dict(spec["templates"]).items()}
        return jsonify({"strict": st.rules.strict, "stable_token": st.rules.stable_token, "account": st.rules.account})

    @app.post("/__fail__")
    def fail() -> Response:
        spec = request.get_json(force=True)
        with st.lock:
            st.failures.append(_Failure(path=spec["path"], times=int(spec.get("times", 1)),
                                        errcode=spec.get("errcode"), http_status=spec.get("http_status"),
                                        delay=float(spec.get("delay", 0))))
        return jsonify({"ok": True})

    @app.post("/__expire_token__")
    def expire_token() -> Response:
        with st.lock:
            st.tokens.clear()
            st.stable.clear()
        return jsonify({"ok": True})

    @app.post("/__reset__")
    def reset() -> Response:
        with st.lock:
            st.calls.clear()
            st.failures.clear()
            st.tokens.clear()
            st.stable.clear()
            st.people.clear()
            st.received.clear()
            st.template_ids.clear()
            st.mass_ids.clear()
            st.mass_days.clear()
            st.robot_sends.clear()
            st.tag_names.clear()
        return jsonify({"ok": True})

    return app


class FakeWeChatServer:
    """The fake server on a background thread; `port=0` picks a free port. `clock`: the time the platform's
    windows are judged on (the tests' FakeClock); `strict=False` relaxes every sending rule (experiments only)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: Clock | None = None,
                 strict: bool = True) -> None:
        self.state = FakeState(clock=clock or SystemClock(), rules=Rules(strict=strict))
        self.app = create_fake_app(self.state)
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(poll_interval=0.05),
                                        name="fake-wechat", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.state.clock = clock

    @property
    def rules(self) -> Rules:
        return self.state.rules

    def start(self) -> FakeWeChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what users did --
    def push(self, xml: str | bytes) -> None:
        """WeChat delivered this plaintext XML to the bot (call it with what you post to the webhook)."""
        self.state.push(xml)

    def user_did(self, openid: str, did: str, at: datetime | None = None, **kw: Any) -> None:
        self.state.user_did(openid, did, at, **kw)

    def follower(self, openid: str, *, wrote_at: datetime | None = None) -> None:
        """Someone who followed the account before the fake started (sample data); `wrote_at`: their last message."""
        self.state.user_did(openid, "follower")
        if wrote_at is not None:
            self.state.user_did(openid, "message", wrote_at)

    def adopt_users(self, sessions: Any) -> int:
        """Sample data: whoever the bot's users table says follows, and this fake has never heard of, is a follower
        here too, who wrote at their last_inbound_at (when there is one). Returns how many were adopted. People
        this fake already knows are left as they are: what they do during a test or the demo is learnt from `push`."""
        with sessions() as s:
            rows = s.execute(select(User.openid, User.last_inbound_at).where(User.subscribed.is_(True))).all()
        with self.state.lock:
            new = [(o, w) for o, w in rows if o not in self.state.people and not o.startswith("wecom:")]
            for openid, wrote in new:
                self.follower(openid, wrote_at=wrote.replace(tzinfo=wrote.tzinfo or UTC) if wrote else None)
        return len(new)

    def register_templates(self, templates: dict[str, tuple[str, ...]]) -> None:
        """The category templates the account has added (id -> field keys): others are 40037, unknown keys 47003."""
        with self.state.lock:
            self.state.templates = dict(templates)

    # -- what it received --
    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(c) for c in self.state.calls if path is None or c["path"] == path]

    def refused(self) -> list[dict[str, Any]]:
        """Calls WeChat refused (an errcode, 40001 and injected failures aside): what a strict test counts."""
        return [c for c in self.calls() if c["result"].get("errcode") not in (0, None, 40001)
                and not c["result"].get("injected")]

    def received(self, openid: str | None = None) -> dict[str, list[str]]:
        """What each person (or robot, "robot:<key>") received, in order, as text."""
        with self.state.lock:
            return {k: list(v) for k, v in self.state.received.items() if openid is None or k == openid}

    def custom_sent_to(self, openid: str) -> int:
        with self.state.lock:
            p = self.state.people.get(openid)
            return len(p.custom_sent) if p else 0

    def fail(self, path: str, *, errcode: int | None = None, http_status: int | None = None,
             delay: float = 0.0, times: int = 1) -> None:
        with self.state.lock:
            self.state.failures.append(_Failure(path, times, errcode, http_status, delay))

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.tokens.clear()
            self.state.stable.clear()

    def __enter__(self) -> FakeWeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: str, port: int, *, strict: bool = True) -> None:
    """Run in the foreground (the `leifeng fake-wechat` command)."""
    server = make_server(host, port, create_fake_app(FakeState(rules=Rules(strict=strict))), threaded=True)
    print(f"fake WeChat API on http://{host}:{server.server_port}  (GET /__sent__ shows what it received; "
          f"{'the platform rules enforced' if strict else 'RELAXED rules: not what WeChat does'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


__all__ = ["FakeState", "FakeWeChatServer", "Person", "Rules", "create_fake_app", "readable", "serve",
           "template_value_problem"]
