"""The Flask app factory."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.admin import bp as admin_bp
from bot.clock import Clock
from bot.config import Config, load_config
from bot.errors import LeifengError, StorageError
from bot.services import Services, build_services
from bot.web.calendar import bp as calendar_bp
from bot.web.webhook import bp as wechat_bp
from bot.web.wecom import bp as wecom_bp

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None, *, clock: Clock | None = None,
               services: Services | None = None) -> Flask:
    """Defaults, then LEIFENG_* environment variables, then the `config` mapping (tests).

    Refuses to build outside development with the published secrets (bot.config.require_production_secrets), and
    builds the language understanding before returning, so the first message is not the one that waits for it."""
    app = Flask(__name__)
    svc = services or build_services(load_config(config), clock)
    cfg = svc.config
    app.config.update(MAX_CONTENT_LENGTH=cfg.max_body_bytes, SECRET_KEY=cfg.secret_key)
    app.extensions["leifeng"] = svc
    app.session_interface = ConsoleSessions()
    if cfg.trusted_proxies:
        # behind that many proxies, the client's address, scheme and host are the last ones they appended
        proxies = cfg.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    logging.getLogger("bot").setLevel(cfg.log_level)
    _say_what_is_unsafe(cfg)
    svc.warm_up()

    app.register_blueprint(wechat_bp)
    app.register_blueprint(admin_bp)  # the staff web console, /admin (bot/admin)
    app.register_blueprint(wecom_bp)  # the WeCom app callback, /wecom
    app.register_blueprint(calendar_bp)  # street events' calendar files, /events/...ics

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Response:
        return Response("request body too large", status=413, mimetype="text/plain")

    return app


def wsgi() -> Flask:
    """The app for gunicorn (the Procfile: `bot.app:wsgi()`): create_app() from the environment, and a refusal to
    start (published secrets, an unmigrated database) as its one line on stderr and exit status 1, not a traceback."""
    try:
        return create_app()
    except (LeifengError, StorageError) as exc:
        print(f"错误: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def _say_what_is_unsafe(cfg: Config) -> None:
    if not cfg.development and not cfg.safe_mode:
        log.warning("LEIFENG_WECHAT_AES_KEY is empty: the default hub's webhook accepts plaintext messages "
                    "(明文模式), whose signature covers only the timestamp and nonce; choose 安全模式 and set the key")


class ConsoleSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions (the staff console's sign-in), but not for WeChat's and WeCom's callbacks: they
    never use a session, so they skip building a cookie signer on every message."""

    NO_SESSION = ("/wechat", "/wecom")

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(self.NO_SESSION):
            return self.null_session_class()
        return super().open_session(app, request)
