"""Commands that read a whole period (the ledger export, the monthly and honours reports) run with the worker's
database timeouts, not the web's (sized to WeChat's 5 seconds); quick commands keep the web's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import bot.cli.volunteers as volunteers_cli
from bot.cli.main import cli
from bot.services import build_services


@pytest.mark.parametrize("args,long", [
    (("export", "ledger", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"), True),
    (("report", "monthly", "--month", "2026-11"), True),
    (("report", "honours", "--quarter", "2026Q4"), True),
    (("volunteers", "list"), False),
    (("points", "show", "1"), False),
])
def test_long_reads_get_the_workers_statement_timeout(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path, args: tuple[str, ...], long: bool) -> None:
    built: list[float] = []

    def recording(config: Any, clock: Any = None, **kw: Any) -> Any:
        svc = build_services(config, clock, **kw)
        built.append(_busy_timeout(svc))
        return svc

    monkeypatch.setattr(volunteers_cli, "build_services", recording)
    monkeypatch.chdir(tmp_path)  # the export's file lands here
    env = {"LEIFENG_DATABASE_URL": db_url, "LEIFENG_ENV": "development", "LEIFENG_DB_STATEMENT_TIMEOUT_SECONDS": "3",
           "LEIFENG_WORKER_DB_STATEMENT_TIMEOUT_SECONDS": "45"}
    CliRunner().invoke(cli, list(args), env=env)
    assert built == [45.0 if long else 3.0]


def _busy_timeout(svc: Any) -> float:
    """SQLite's statement timeout is its wait for the write lock (storage.db): PRAGMA busy_timeout, in ms."""
    with svc.engine.connect() as conn:
        return float(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()) / 1000
