"""Outside development the app refuses the published secrets, in one line that says what to set."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import create_app
from bot.config import DEV_SECRET_KEY, DEV_WECHAT_TOKEN, MIN_SECRET_KEY_LENGTH, load_config, production_problems
from bot.errors import ConfigError
from bot.services import build_services
from bot.worker.process import Worker

REAL_TOKEN = "Wq7ZtK2pLm9xVb4N"
REAL_KEY = "f3J9-qk2VYc8rT1mZpW6xNbA0sLdE5uH"  # 32 characters
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(autouse=True)
def _no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LEIFENG_WECHAT_TOKEN", "LEIFENG_SECRET_KEY", "LEIFENG_WECHAT_AES_KEY"):
        monkeypatch.delenv(name, raising=False)


def production(db_url: str, **settings: Any) -> dict[str, Any]:
    return {"env": "production", "database_url": db_url, **settings}


def test_with_no_configuration_the_app_refuses_to_start_and_says_what_to_set(db_url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app(production(db_url))
    line = str(refused.value)
    assert "\n" not in line
    assert "LEIFENG_WECHAT_TOKEN" in line and "LEIFENG_SECRET_KEY" in line and "LEIFENG_ENV=development" in line


@pytest.mark.parametrize("token,key,missing", [
    (DEV_WECHAT_TOKEN, REAL_KEY, ["LEIFENG_WECHAT_TOKEN"]),
    (REAL_TOKEN, DEV_SECRET_KEY, ["LEIFENG_SECRET_KEY"]),
    (REAL_TOKEN, "change-me", ["LEIFENG_SECRET_KEY"]),  # the old .env.example value
    (REAL_TOKEN, REAL_KEY[: MIN_SECRET_KEY_LENGTH - 1], ["LEIFENG_SECRET_KEY"]),  # too short to be a key
    ("", REAL_KEY, ["LEIFENG_WECHAT_TOKEN"]),
    (REAL_TOKEN, REAL_KEY, []),
])
def test_published_or_short_secrets_are_named(token: str, key: str, missing: list[str]) -> None:
    cfg = load_config({"env": "production", "wechat_token": token, "secret_key": key}, environ={})
    named = [problem.split(" ")[0] for problem in production_problems(cfg)]
    assert named == missing


def test_the_environment_variable_is_how_production_sets_them(db_url: str) -> None:
    cfg = load_config({"database_url": db_url}, environ={"LEIFENG_ENV": "production",
                                                         "LEIFENG_WECHAT_TOKEN": REAL_TOKEN,
                                                         "LEIFENG_SECRET_KEY": REAL_KEY,
                                                         "LEIFENG_WECHAT_AES_KEY": AES_KEY})
    services = build_services(cfg)
    try:
        assert services.config.wechat_token == REAL_TOKEN and not services.config.development
    finally:
        services.close()


def test_the_worker_refuses_too(db_url: str) -> None:
    with pytest.raises(ConfigError, match="LEIFENG_SECRET_KEY"):
        Worker(build_services(load_config(production(db_url, wechat_token=REAL_TOKEN), environ={}), worker=True))


def test_development_allows_the_published_defaults(db_url: str) -> None:
    cfg = load_config({"env": "development", "database_url": db_url}, environ={})
    assert cfg.wechat_token == DEV_WECHAT_TOKEN and production_problems(cfg) == []
    create_app(services=build_services(cfg)).extensions["leifeng"].close()


def test_production_is_the_default_and_other_values_are_an_error() -> None:
    assert load_config({}, environ={}).env == "production"
    with pytest.raises(ConfigError, match="LEIFENG_ENV must be production or development"):
        load_config({}, environ={"LEIFENG_ENV": "staging"})


def test_plaintext_mode_in_production_is_logged(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot"):
        app = create_app(production(db_url, wechat_token=REAL_TOKEN, secret_key=REAL_KEY))
    app.extensions["leifeng"].close()
    assert any("LEIFENG_WECHAT_AES_KEY is empty" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot"):
        app = create_app(production(db_url, wechat_token=REAL_TOKEN, secret_key=REAL_KEY, wechat_aes_key=AES_KEY))
    app.extensions["leifeng"].close()
    assert not [r for r in caplog.records if "AES" in r.getMessage()]
