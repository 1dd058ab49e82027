"""Which hub a request is for, and its WeChat credentials (a hub's own, or the LEIFENG_WECHAT_* ones)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.crypto import WeChatCrypto

from bot.config import Config
from bot.errors import UnknownHubError
from bot.hubsettings import HubSettings, hub_settings
from storage.models import DEFAULT_HUB_SLUG, Hub


@dataclass(frozen=True)
class HubAccount:
    hub_id: int
    slug: str
    name: str
    appid: str
    token: str
    aes_key: str
    secret: str
    template_id: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # hubs.settings, cached like the rest

    @cached_property
    def crypto(self) -> WeChatCrypto | None:
        return WeChatCrypto(self.token, self.aes_key, self.appid) if self.aes_key else None

    @cached_property
    def parsed_settings(self) -> HubSettings:
        """`settings` over the defaults, checked once per cached account rather than on every message."""
        return hub_settings(self.settings)


class HubDirectory:
    """Hub lookups, cached for a short time so a webhook request costs no extra query."""

    def __init__(self, sessions: sessionmaker[Session], config: Config, ttl_seconds: float = 30.0) -> None:
        self._sessions = sessions
        self._config = config
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, HubAccount]] = {}
        self._lock = threading.Lock()

    def _account(self, hub: Hub) -> HubAccount:
        cfg = self._config
        return HubAccount(
            hub_id=hub.id, slug=hub.slug, name=hub.name,
            appid=hub.wechat_appid or cfg.wechat_appid,
            token=hub.wechat_token or cfg.wechat_token,
            aes_key=hub.wechat_aes_key if hub.wechat_aes_key is not None else cfg.wechat_aes_key,
            secret=hub.wechat_secret or cfg.wechat_secret,
            template_id=hub.notice_template_id or cfg.wechat_notice_template_id,
            settings=dict(hub.settings or {}),
        )

    def by_slug(self, slug: str | None) -> HubAccount:
        slug = slug or DEFAULT_HUB_SLUG
        if len(slug) > 64 or not slug.isprintable():  # from the URL, before any signature check: PostgreSQL
            raise UnknownHubError(f"no hub called {slug[:80]!r}")  # refuses NUL in text (a 500, not a 404)
        with self._lock:
            hit = self._cache.get(slug)
        if hit and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        with self._sessions() as s:
            hub = s.execute(select(Hub).where(Hub.slug == slug)).scalar_one_or_none()
            if hub is None:
                raise UnknownHubError(f"no hub called {slug!r}")
            account = self._account(hub)
        with self._lock:
            self._cache[slug] = (time.monotonic(), account)
        return account

    def by_id(self, hub_id: int) -> HubAccount:
        with self._sessions() as s:  # closed before by_slug opens its own (SQLite: one writer at a time)
            slug = s.scalar(select(Hub.slug).where(Hub.id == hub_id))
        if slug is None:
            raise UnknownHubError(f"no hub with id {hub_id}")
        return self.by_slug(slug)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
