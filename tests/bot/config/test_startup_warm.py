"""create_app and the worker build the language understanding before the first message, not on it."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

import intents
from bot.app import create_app
from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account
from bot.dialogue import nlu
from bot.worker.process import Worker
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
