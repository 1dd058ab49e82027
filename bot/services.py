"""The one services object built by create_app (and the worker): every collaborator, passed explicitly."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, ScalarSelect, func, select
from sqlalchemy.orm import Session, sessionmaker

import storage.models_events  # noqa: F401  (the community's models join the ORM registry)
from bot.channels.wechat_client import AccessTokens, HubWeChatClient, token_store
from bot.clock import Clock, SystemClock
from bot.config import Config, require_production_secrets
from bot.dialogue.nlu import Understanding, hub_understanding, load_understanding
from bot.hubs import HubAccount, HubDirectory
from storage.db import Timeouts, check_migrated, make_engine, make_session_factory
from storage.models import Hub
from storage.models_admin import CatalogueVersion

# Matched once at start-up so that jieba's dictionary and the matcher's indexes exist before the first message.
WARM_UP_TEXT = "明天上午帮我理个发"


def latest_catalogue_version(hub_id: Any) -> ScalarSelect[Any]:
    """The hub's newest catalogue version number (NULL: none saved, the catalogue file applies); hub_id may be
    a bound parameter."""
    return (select(func.max(CatalogueVersion.version)).where(CatalogueVersion.hub_id == hub_id)
            .scalar_subquery())


@dataclass
class Services:
    config: Config
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    hubs: HubDirectory
    tokens: AccessTokens
    nlu: Understanding
    _clients: dict[str, HubWeChatClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _database_key: str | None = None

    def client_for(self, account: HubAccount) -> HubWeChatClient:
        with self._lock:
            client = self._clients.get(account.appid)
            if client is None:
                client = HubWeChatClient(account.appid, account.secret, self.config.wechat_api_base_url,
                                         self.tokens, timeout=self.config.http_timeout_seconds)
                self._clients[account.appid] = client
            return client

    def nlu_for(self, s: Session | Connection, hub_id: int) -> Understanding:
        """The hub's newest catalogue version saved in /admin, else `self.nlu` (the catalogue file).

        One indexed query per call; the Understanding is built once per (hub, version) per process
        (bot.dialogue.nlu.hub_understanding), so an edit needs no restart."""
        return self.nlu_at(s, hub_id, s.scalar(select(latest_catalogue_version(hub_id))))

    def nlu_at(self, s: Session | Connection, hub_id: int, version: int | None) -> Understanding:
        """The Understanding for a catalogue version the caller has already looked up (None = the file)."""
        if version is None:
            return self.nlu

        def load() -> dict[str, Any]:
            return dict(s.scalar(select(CatalogueVersion.data).where(CatalogueVersion.hub_id == hub_id,
                                                                     CatalogueVersion.version == version)) or {})

        if self._database_key is None:
            self._database_key = self.engine.url.render_as_string(hide_password=True)
        return hub_understanding(self._database_key, hub_id, int(version), load)

    def warm_up(self) -> int:
        """Build every hub's language understanding now (the matcher and jieba's dictionary take a second or
        more), so the first message after a start is as fast as the others; the number of catalogues built.

        Ends with no pooled connection open: a process that forks after this (gunicorn --preload) must not hand
        the parent's database connections to its children."""
        with self.sessions() as s:
            hubs = [(row[0], row[1]) for row in s.execute(select(Hub.id, latest_catalogue_version(Hub.id)))]
            understandings = {id(u): u for u in [self.nlu, *(self.nlu_at(s, hub_id, version)
                                                               for hub_id, version in hubs)]}
        for understanding in understandings.values():
            understanding.matcher.match(WARM_UP_TEXT)  # past the memo: nothing is cached for this text
        self.engine.dispose()
        return len(understandings)

    def close(self) -> None:
        self.engine.dispose()


def build_services(config: Config, clock: Clock | None = None, *, check_schema: bool = True,
                   worker: bool = False) -> Services:
    """Everything a process needs. `worker`: the worker's (and long CLI commands') longer statement timeout
    instead of the web processes' one, which is sized to WeChat's 5-second wait."""
    require_production_secrets(config)
    statement = config.worker_db_statement_timeout_seconds if worker else config.db_statement_timeout_seconds
    engine = make_engine(config.database_url, Timeouts.of(config.db_connect_timeout_seconds, statement))
    if check_schema:
        check_migrated(engine)
    sessions = make_session_factory(engine)
    clock = clock or SystemClock()
    return Services(config=config, clock=clock, engine=engine, sessions=sessions,
                    hubs=HubDirectory(sessions, config),
                    tokens=token_store(config.redis_url, sessions, clock, config.redis_key_prefix),
                    nlu=load_understanding(config.catalogue_path or None))
