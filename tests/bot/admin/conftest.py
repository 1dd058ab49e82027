"""The console tests' shared fixtures: the seeded hub (tests.bot.admin.test_admin.seed_console) and a client signed
in as the hub's staff member xiaoli. A module that needs another seed defines its own `seeded`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services import Services
from tests.bot.admin.test_admin import Seeded, login, seed_console


@pytest.fixture
def seeded(services: Services) -> Seeded:
    return seed_console(services)


@pytest.fixture
def staff_client(client: Any, seeded: Seeded) -> Any:
    login(client, "xiaoli")
    return client
