"""The command-line tests' shared helper: `leifeng ...` through click on a migrated SQLite file with the demo hub."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import CliRunner, Result

from bot.cli.main import cli
from bot.clock import FakeClock
from bot.devtools.seed import seed_demo_hub
from storage.db import transaction
from tests.conftest import make_services


def demo_hub_cli(db_url: str, clock: FakeClock, env: dict[str, str] | None = None, *,
                 catch_exceptions: bool = True) -> Callable[..., Result]:
    """`leifeng <args>` on `db_url` once the demo hub is seeded there, with WeChat at a closed port (nothing reaches
    it) and `env` on top; catch_exceptions=False lets an unexpected error fail the test with its traceback."""
    svc = make_services(db_url, clock)
    with transaction(svc.sessions) as s:
        seed_demo_hub(s, clock.now())
    svc.close()
    environ = {"LEIFENG_DATABASE_URL": db_url, "LEIFENG_WECHAT_API_BASE_URL": "http://127.0.0.1:9", **(env or {})}

    def invoke(*args: str) -> Result:
        return CliRunner(env=environ).invoke(cli, list(args), catch_exceptions=catch_exceptions)

    return invoke
