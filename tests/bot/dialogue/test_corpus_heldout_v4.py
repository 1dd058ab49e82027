"""Held-out part v4 through the pure step: it keeps the pass rate it had when it was written, never tuned on."""

from __future__ import annotations

from bot.inbox.actions.registry import ACTIONS
from tests.bot.dialogue.corpus import actions_asked, pass_rate
from tests.bot.dialogue.corpus_heldout import HELDOUT
from tests.bot.dialogue.corpus_heldout_v3 import HELDOUT_V3
from tests.bot.dialogue.corpus_heldout_v4 import HELDOUT_V4, THEMES
from tests.bot.dialogue.corpus_probe import PROBE
from tests.bot.dialogue.corpus_tuned import TUNED
from tests.bot.dialogue.corpus_volunteers import TUNED_VOLUNTEERS
from tests.bot.dialogue.corpus_volunteers_heldout import HELDOUT_VOLUNTEERS

# Measured on the first run, 2026-12-03 (written blind, every expectation before any run, nothing changed after;
# keyword-only, as the suite runs): 117/147 (0.796). The floor is that rate less 0.05. A change that drops the rate
# below it is a regression to look at, not a reason to edit the conversations.
HELDOUT_V4_FLOOR = 0.746


def test_the_part_is_big_enough_covers_every_theme_and_its_names_are_new() -> None:
    mine = [c.name for c in HELDOUT_V4]
    others = {c.name for c in TUNED + HELDOUT + HELDOUT_V3 + PROBE + TUNED_VOLUNTEERS + HELDOUT_VOLUNTEERS}
    assert len(mine) >= 100 and len(mine) == len(set(mine)) and not set(mine) & others
    assert all(name.startswith("h4_") for name in mine)
    assert len(THEMES) >= 10 and all(len(part) >= 10 for part in THEMES.values())
    themed = [name for part in THEMES.values() for name in part]
    assert sorted(themed) == sorted(mine)


def test_held_out_v4_pass_rate() -> None:
    passed, total, failures = pass_rate(HELDOUT_V4)
    report = "\n".join(f"{name}: {p}" for name, problems in failures.items() for p in problems)
    assert passed / total >= HELDOUT_V4_FLOOR, f"held-out v4 {passed}/{total}\n{report}"


def test_every_action_asked_for_has_a_domain_handler() -> None:
    asked = actions_asked(HELDOUT_V4)
    assert asked and asked <= set(ACTIONS), sorted(asked - set(ACTIONS))
