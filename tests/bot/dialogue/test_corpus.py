"""The transcript corpus through the pure step: every tuned conversation passes; the held-out part keeps its rate."""

from __future__ import annotations

import pytest

from bot.inbox.actions.registry import ACTIONS
from tests.bot.dialogue.corpus import Conv, actions_asked, pass_rate, run
from tests.bot.dialogue.corpus_heldout import HELDOUT
from tests.bot.dialogue.corpus_probe import PROBE
from tests.bot.dialogue.corpus_tuned import TUNED

# Measured when the held-out part was written (before the dialogue changed): 17/61. After: 61/61. A change that
# drops it below this floor is a regression to look at, not a reason to edit the held-out conversations.
HELDOUT_FLOOR = 0.95
# The probe was written after the changes, as a check of how far they carry: 24/30 on its first run. Three generic
# gaps it showed were fixed (个把小时, "我下的单怎么样了", "师傅什么时候到"); the rest are the matcher's
# ("理个头") and the emergency rules' (a burst pipe is answered as flooding first: their rule, not a dialogue bug).
PROBE_FLOOR = 0.8


def test_the_corpus_is_big_enough_and_its_names_are_unique() -> None:
    names = [c.name for c in TUNED + HELDOUT + PROBE]
    assert len(names) == len(set(names))
    assert len(TUNED) + len(HELDOUT) >= 200 and len(HELDOUT) >= 40


@pytest.mark.parametrize("c", TUNED, ids=[c.name for c in TUNED])
def test_tuned_conversation(c: Conv) -> None:
    problems = run(c)
    assert not problems, "\n".join(problems)


def test_held_out_pass_rate() -> None:
    passed, total, failures = pass_rate(HELDOUT)
    report = "\n".join(f"{name}: {p}" for name, problems in failures.items() for p in problems)
    assert passed / total >= HELDOUT_FLOOR, f"held-out {passed}/{total}\n{report}"


def test_probe_pass_rate() -> None:
    passed, total, failures = pass_rate(PROBE)
    assert passed / total >= PROBE_FLOOR, f"probe {passed}/{total}: {sorted(failures)}"


def test_every_action_the_corpus_asks_for_has_a_domain_handler() -> None:
    """An action the edge does not know is a crash in the webhook: the dialogue only asks for registered ones."""
    asked = actions_asked(TUNED + HELDOUT + PROBE)
    assert asked and asked <= set(ACTIONS), sorted(asked - set(ACTIONS))
