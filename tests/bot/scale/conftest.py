"""The scale tests' services on each database under test (any_db_url: SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import FakeClock
from bot.services import Services
from tests.conftest import make_services


@pytest.fixture
def svc(any_db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = make_services(any_db_url, clock)
    yield services
    services.close()
