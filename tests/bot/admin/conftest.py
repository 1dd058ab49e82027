"""The console tests' shared fixtures: the seeded hub (tests.bot.admin.test_admin.seed_console) and a client signed
in as the hub's staff member xiaoli. A module that needs another seed defines its own `seeded`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services import Services
from tests.bot.admin.test_admin import Seeded, login, seed_console


@pytest.fixture
def seeded(services: Services) -> Seeded:
    made = seed_console(services)
    services.hubs.forget()  # the hub registry may hold what it read before the seed made this hub
    return made


@pytest.fixture
def staff_client(client: Any, seeded: Seeded) -> Any:
    assert login(client, "xiaoli").status_code == 302
    return client
