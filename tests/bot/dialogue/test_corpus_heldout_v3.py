"""Held-out part v3 through the pure step: it keeps the pass rate it had when it was written, never tuned on."""

from __future__ import annotations

from bot.inbox.actions.registry import ACTIONS
from tests.bot.dialogue.corpus import actions_asked, pass_rate
from tests.bot.dialogue.corpus_heldout import HELDOUT
from tests.bot.dialogue.corpus_heldout_v3 import HELDOUT_V3, THEMES
from tests.bot.dialogue.corpus_probe import PROBE
from tests.bot.dialogue.corpus_tuned import TUNED
from tests.bot.dialogue.corpus_volunteers import TUNED_VOLUNTEERS
from tests.bot.dialogue.corpus_volunteers_heldout import HELDOUT_VOLUNTEERS

# Measured on the first run (written blind, every expectation before any run, nothing changed after): 104/120
# (0.867). The floor is that rate less 0.05. A change that drops the rate below it is a regression to look at, not a
# reason to edit the conversations.
HELDOUT_V3_FLOOR = 0.816


def test_the_part_is_big_enough_covers_every_theme_and_its_names_are_new() -> None:
    mine = [c.name for c in HELDOUT_V3]
    others = {c.name for c in TUNED + HELDOUT + PROBE + TUNED_VOLUNTEERS + HELDOUT_VOLUNTEERS}
    assert len(mine) >= 70 and len(mine) == len(set(mine)) and not set(mine) & others
    assert all(name.startswith("h3_") for name in mine)
    assert all(len(part) >= 10 for part in THEMES.values())


def test_held_out_v3_pass_rate() -> None:
    passed, total, failures = pass_rate(HELDOUT_V3)
    report = "\n".join(f"{name}: {p}" for name, problems in failures.items() for p in problems)
    assert passed / total >= HELDOUT_V3_FLOOR, f"held-out v3 {passed}/{total}\n{report}"


def test_every_action_asked_for_has_a_domain_handler() -> None:
    asked = actions_asked(HELDOUT_V3)
    assert asked and asked <= set(ACTIONS), sorted(asked - set(ACTIONS))
