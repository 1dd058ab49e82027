"""The /admin blueprint, sign-in, security headers and the shared helpers of every page.

The pages themselves live in bot/admin/pages_*.py (gathered by bot/admin/views.py); every change they make
goes through a domain module (bot.serviceloop.orders, bot.people.volunteers, bot.community.events, ...) inside
one transaction with an AuditLog row.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import ValidationError

from bot.admin import auth
from bot.admin.auth import Staff
from bot.admin.forms import MAX_ID, HubForm, LoginForm
from bot.clock import SHANGHAI, as_utc
from bot.dialogue.nlu import Understanding
from bot.errors import LeifengError
from bot.serviceloop.lifecycle import IllegalTransitionError
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Hub
from storage.models_admin import StaffAccount

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")
F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})

# Numbers from outside (paths, filters, forms) must fit the columns they are looked up in: ids are signed
# 64-bit and positive, a catalogue version a 32-bit integer. A path whose number does not fit is a 404 before
# any view runs (Werkzeug's int converter with bounds); a query-string number that does not fit is ignored.
MAX_INT = 2**31 - 1
ID = f"int(min=1, max={MAX_ID})"
VERSION = f"int(min=1, max={MAX_INT})"
_WHOLE = re.compile(r"[0-9]{1,19}")  # ASCII digits only: str.isdigit() takes "²", which int() refuses


def whole_number(text: str | None, *, most: int = MAX_ID) -> int | None:
    """A positive whole number from a query string, or None when it is missing or fits nothing."""
    if not text or not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= most else None


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    """Session cookie and CSRF settings for the app the console is registered on."""
    app = state.app
    cfg = app.extensions["leifeng"].config
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.admin_cookie_secure),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=cfg.admin_session_minutes),
        WTF_CSRF_TIME_LIMIT=cfg.admin_session_minutes * 60,
        # WTForms' own messages from its shipped zh catalogue (forms.ConsoleForm), not Flask-WTF's Babel hook (no
        # Babel here: its messages stayed English, "Not a valid decimal value.")
        WTF_I18N_ENABLED=False,
        WTF_CSRF_SSL_STRICT=bool(cfg.admin_cookie_secure),
    )


def services() -> Services:
    return cast(Services, current_app.extensions["leifeng"])


def now() -> datetime:
    return services().clock.now()


def staff() -> Staff:
    return cast(Staff, g.staff)


def hub_id() -> int:
    return cast(int, g.hub_id)


def lockout_rule() -> auth.LockoutRule:
    cfg = services().config
    return auth.LockoutRule(attempts=cfg.admin_lockout_attempts, minutes=cfg.admin_lockout_minutes)


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only session (one per request at a time: SQLite must never have two open in one thread)."""
    with services().sessions() as s:
        yield s


@contextmanager
def changing() -> Iterator[Session]:
    with transaction(services().sessions) as s:
        yield s


def audit(s: Session, action: str, subject: str, **detail: Any) -> None:
    s.add(AuditLog(hub_id=hub_id(), actor=staff().actor, action=action, subject=subject, detail=detail, at=now()))


def nlu(s: Session) -> Understanding:
    return services().nlu_for(s, hub_id())


def requires(permission: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not staff().can(permission):
                abort(403)
            return view(*args, **kwargs)
        return cast(F, wrapped)
    return decorate


def plain_error(exc: Exception) -> str:
    """Domain refusals are already plain Chinese; an illegal lifecycle move is worded here."""
    if isinstance(exc, IllegalTransitionError):
        return exc.plain
    return str(exc)


def run_change(change: Callable[[Session], str | None], back: str) -> Response:
    """Do a change in one transaction; say how it went; go back. Refusals roll everything back."""
    try:
        with changing() as s:
            message = change(s)
    except LeifengError as exc:
        flash(plain_error(exc), "error")
    except ValueError as exc:  # CatalogueError and friends: plain words too
        flash(str(exc), "error")
    except IntegrityError:  # e.g. two people saved a catalogue version at the same moment
        flash("有人同时做了修改，请刷新页面后再试一次。", "error")
    else:
        if message:
            flash(message, "ok")
    return redirect(back)


def form_errors(form: Any) -> None:
    for name, errors in form.errors.items():
        label = getattr(getattr(form, name, None), "label", None)
        for error in errors:
            flash(f"{label.text if label else name}：{error}", "error")


def rejected(form: Any) -> bool:
    """Validate a submitted form (CSRF included); on failure flash its errors and return True."""
    if form.validate_on_submit():
        return False
    form_errors(form)
    return True


# -- the guard on every request -------------------------------------------------------------------


def _nul_in_input() -> bool:
    """A NUL anywhere in what was sent: PostgreSQL refuses it in text, so it would be a 500 wherever it reached
    a query. No console field can hold one; the request is refused at the door instead."""
    sent = [*request.args.items(multi=True), *request.form.items(multi=True)]
    texts = [text for pair in sent for text in pair] + [v for v in (request.view_args or {}).values()
                                                         if isinstance(v, str)]
    return any("\x00" in text for text in texts)


@bp.before_request
def _guard() -> Response | None:
    if _nul_in_input():
        abort(400)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:  # every form: a missing or wrong CSRF token is refused before any view runs
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from exc
    g.staff = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    account = _signed_in()
    if account is None:
        session.clear()
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    g.staff = account
    g.hub_id = session.get("hub_id", account.hub_id) if account.role == "admin" else account.hub_id
    return None


def _signed_in() -> Staff | None:
    staff_id, stamp = session.get("staff_id"), session.get("stamp")
    if not isinstance(staff_id, int) or not isinstance(stamp, str):
        return None
    with reading() as s:
        account = s.get(StaffAccount, staff_id)
        if account is None or not account.active or not secrets.compare_digest(account.session_stamp, stamp):
            return None
        return auth.staff_of(account)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "frame-ancestors 'none'; form-action 'self'")
    if request.endpoint != "admin.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> tuple[str, int]:
    return render_template("admin/error.html", code=400, message="页面已过期或表单无效，请刷新页面后再提交。"), 400


@bp.errorhandler(400)
def _bad_request(_exc: Exception) -> tuple[str, int]:
    return render_template("admin/error.html", code=400, message="提交的内容里有无法识别的字符，请检查后再试。"), 400


@bp.errorhandler(403)
def _forbidden(_exc: Exception) -> tuple[str, int]:
    return render_template("admin/error.html", code=403, message="您没有权限查看这个页面。"), 403


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> tuple[str, int]:
    return render_template("admin/error.html", code=404, message="没有找到。"), 404


@bp.app_errorhandler(404)
def _no_such_page(exc: HTTPException) -> Any:
    """A path under /admin that no page has, or whose number fits no id (the route's bounds refuse it before
    any view), gets the console's 404 in Chinese; other paths are left as they were."""
    if request.path == "/admin" or request.path.startswith("/admin/"):
        return render_template("admin/error.html", code=404, message="没有找到。"), 404
    return exc


@bp.app_template_filter("local")
def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return as_utc(value).astimezone(SHANGHAI).strftime(fmt) if value else ""


@bp.app_template_filter("dict_without_page")
def _without_page(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k != "page"}


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    me = g.get("staff")
    hubs: list[tuple[int, str]] = []
    if me is not None and me.can("hubs.switch"):
        with reading() as s:
            hubs = [(h.id, h.name) for h in s.execute(select(Hub).order_by(Hub.id)).scalars()]
        hubs = hubs if len(hubs) > 1 else []
    return {"csrf_token": generate_csrf, "me": me, "ROLE_NAMES": auth.ROLE_NAMES, "hub_name": _hub_name(),
            "hubs": hubs, "current_hub": g.get("hub_id"),
            "has_events": "admin.events_page" in current_app.view_functions,
            "has_broadcasts": "admin.broadcasts_page" in current_app.view_functions}


def _hub_name() -> str:
    if g.get("staff") is None:
        return ""
    if "hub_name" not in g:
        with reading() as s:
            g.hub_name = s.scalar(select(Hub.name).where(Hub.id == hub_id())) or ""
    return cast(str, g.hub_name)


def safe_next(target: str | None) -> str:
    """Only a path inside /admin (never another site)."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.home")


# -- sign in and out ------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        with changing() as s:  # commits failures too: they are the lock-out
            result = auth.authenticate(s, form.username.data or "", form.password.data or "", now=now(),
                                       remote_addr=request.remote_addr, rule=lockout_rule())
            signed = (result.account.id, result.account.session_stamp) if result.account else None
        if signed is None:
            flash(result.error or "登录失败。", "error")
            return render_template("admin/login.html", form=form), 401
        session.clear()  # a fresh session on sign-in (no fixation)
        session.permanent = True
        session["staff_id"], session["stamp"] = signed
        return redirect(safe_next(request.args.get("next")))
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out on the server too: the account's session stamp changes, so no copy of the cookie still works."""
    me = staff()
    with changing() as s:
        account = s.get(StaffAccount, me.id)
        if account is not None:
            auth.sign_out(s, account, actor=me.actor, now=now())
    session.clear()
    flash("已退出。", "ok")
    return redirect(url_for("admin.login"))


@bp.get("/")
def home() -> Response:
    me = staff()
    if me.can("dashboard"):
        return redirect(url_for("admin.dashboard"))
    if me.can("orders.view"):
        return redirect(url_for("admin.orders_board"))
    return redirect(url_for("admin.volunteers_list"))


@bp.post("/hub")
@requires("hubs.switch")
def switch_hub() -> Response:
    form = HubForm()
    if form.validate_on_submit():
        with reading() as s:
            if s.get(Hub, form.hub.data) is None:
                abort(404)
        session["hub_id"] = form.hub.data
    return redirect(safe_next(request.form.get("next")))
