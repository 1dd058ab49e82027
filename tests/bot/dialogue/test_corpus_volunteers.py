"""The volunteers' corpus through the pure step: every tuned conversation passes; the held-out part keeps its rate."""

from __future__ import annotations

import pytest

from bot.inbox.actions.registry import ACTIONS
from tests.bot.dialogue.corpus import Conv, actions_asked, pass_rate, run
from tests.bot.dialogue.corpus_heldout import HELDOUT
from tests.bot.dialogue.corpus_probe import PROBE
from tests.bot.dialogue.corpus_tuned import TUNED
from tests.bot.dialogue.corpus_volunteers import TUNED_VOLUNTEERS
from tests.bot.dialogue.corpus_volunteers_heldout import HELDOUT_VOLUNTEERS

# Measured on the held-out part when it was written, before the dialogue changed: 8/24. After: 23/24 (the miss:
# "算了 有啥任务没" in the middle of an order, which the time question takes). Below the floor is a regression.
HELDOUT_FLOOR = 0.9


def test_the_part_is_big_enough_and_its_names_are_new() -> None:
    mine = [c.name for c in TUNED_VOLUNTEERS + HELDOUT_VOLUNTEERS]
    others = {c.name for c in TUNED + HELDOUT + PROBE}
    assert len(mine) == len(set(mine)) and not set(mine) & others
    assert len(mine) >= 40 and len(HELDOUT_VOLUNTEERS) >= 20


@pytest.mark.parametrize("c", TUNED_VOLUNTEERS, ids=[c.name for c in TUNED_VOLUNTEERS])
def test_tuned_conversation(c: Conv) -> None:
    problems = run(c)
    assert not problems, "\n".join(problems)


def test_held_out_pass_rate() -> None:
    passed, total, failures = pass_rate(HELDOUT_VOLUNTEERS)
    report = "\n".join(f"{name}: {p}" for name, problems in failures.items() for p in problems)
    assert passed / total >= HELDOUT_FLOOR, f"held-out {passed}/{total}\n{report}"


def test_every_action_asked_for_has_a_domain_handler() -> None:
    asked = actions_asked(TUNED_VOLUNTEERS + HELDOUT_VOLUNTEERS)
    assert {"open_tasks", "my_orders", "rate"} <= asked <= set(ACTIONS), sorted(asked - set(ACTIONS))
