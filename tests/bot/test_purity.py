"""The dialogue core is pure: importing it pulls in no web framework, database or HTTP client."""

from __future__ import annotations

import subprocess
import sys


def test_the_state_machines_import_no_io_modules() -> None:
    code = ("import sys, bot.dialogue, bot.order_flow, bot.lifecycle, bot.flows, bot.registration, "
            "bot.volunteer_flow, bot.eventrule; "
            "bad = [m for m in ('flask', 'sqlalchemy', 'requests', 'werkzeug') if m in sys.modules]; "
            "print(','.join(bad))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ""


def test_volunteer_dialogues_import_no_io_modules() -> None:
    code = ("import sys, bot.registration, bot.volunteer_flow, bot.stars, intents.idcard; "
            "bad = [m for m in ('flask', 'sqlalchemy', 'requests', 'werkzeug') if m in sys.modules]; "
            "print(','.join(bad))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ""
