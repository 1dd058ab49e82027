"""The held-out part v6 (written blind, see corpus_heldout_v6.py): its shape, its pass rate, and that every action
its conversations make the dialogue ask for has a domain handler."""

from __future__ import annotations

from bot.inbox.actions.registry import ACTIONS
from tests.bot.dialogue.corpus import actions_asked, pass_rate
from tests.bot.dialogue.corpus_heldout import HELDOUT
from tests.bot.dialogue.corpus_heldout_v3 import HELDOUT_V3
from tests.bot.dialogue.corpus_heldout_v4 import HELDOUT_V4
from tests.bot.dialogue.corpus_heldout_v5 import HELDOUT_V5
from tests.bot.dialogue.corpus_heldout_v6 import HELDOUT_V6, THEMES
from tests.bot.dialogue.corpus_probe import PROBE
from tests.bot.dialogue.corpus_tuned import TUNED
from tests.bot.dialogue.corpus_volunteers import TUNED_VOLUNTEERS
from tests.bot.dialogue.corpus_volunteers_heldout import HELDOUT_VOLUNTEERS

# First run, 2026-12-04, on the code as it had landed (b05fcea): 184/210 (0.876). (The writer's own first scoring
# said 174/210: ten of those failures were its checks misreading the API, "a reply" where the step answers with an
# action, mended in the checks only, before this run.) The floor is that rate less 0.05, rounded down to 3 decimals.
# The failures were mended afterwards with other words (corpus_tuned.V6FIX): the rate now is no blind figure.
HELDOUT_V6_FLOOR = 0.826


def test_the_part_is_big_enough_and_well_named() -> None:
    names = [c.name for c in HELDOUT_V6]
    assert len(names) >= 200
    assert len(names) == len(set(names)), "names must be unique"
    assert all(n.startswith("h6_") for n in names)
    others = {c.name for part in (TUNED, HELDOUT, HELDOUT_V3, HELDOUT_V4, HELDOUT_V5, PROBE,
                                  TUNED_VOLUNTEERS, HELDOUT_VOLUNTEERS) for c in part}
    assert not set(names) & others, f"names used elsewhere: {sorted(set(names) & others)}"


def test_every_conversation_is_in_exactly_one_theme() -> None:
    assert len(THEMES) >= 11
    assert all(len(v) >= 10 for v in THEMES.values()), {k: len(v) for k, v in THEMES.items()}
    themed = [n for v in THEMES.values() for n in v]
    assert len(themed) == len(set(themed)), "a conversation is in two themes"
    assert set(themed) == {c.name for c in HELDOUT_V6}


def test_pass_rate_holds() -> None:
    passed, total, failures = pass_rate(HELDOUT_V6)
    assert passed / total >= HELDOUT_V6_FLOOR, (
        f"{passed}/{total} ({passed / total:.3f}) below {HELDOUT_V6_FLOOR}:\n"
        + "\n".join(f"{name}: {problems[0]}" for name, problems in sorted(failures.items())))


def test_every_action_asked_has_a_domain_handler() -> None:
    asked = actions_asked(HELDOUT_V6)
    assert asked <= set(ACTIONS), f"no handler for {sorted(asked - set(ACTIONS))}"
