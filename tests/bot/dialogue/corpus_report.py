"""Print the corpus pass rates (tuned, held-out) and every failed check: python -m tests.bot.dialogue.corpus_report"""

from __future__ import annotations

from tests.bot.dialogue.corpus import pass_rate
from tests.bot.dialogue.corpus_heldout import HELDOUT
from tests.bot.dialogue.corpus_heldout_v3 import HELDOUT_V3
from tests.bot.dialogue.corpus_heldout_v4 import HELDOUT_V4
from tests.bot.dialogue.corpus_heldout_v5 import HELDOUT_V5
from tests.bot.dialogue.corpus_heldout_v6 import HELDOUT_V6
from tests.bot.dialogue.corpus_probe import PROBE
from tests.bot.dialogue.corpus_tuned import TUNED
from tests.bot.dialogue.corpus_volunteers import TUNED_VOLUNTEERS
from tests.bot.dialogue.corpus_volunteers_heldout import HELDOUT_VOLUNTEERS


def main() -> None:
    for label, convs in (("tuned", TUNED), ("held-out", HELDOUT), ("held-out v3", HELDOUT_V3),
                         ("held-out v4", HELDOUT_V4), ("held-out v5", HELDOUT_V5), ("held-out v6", HELDOUT_V6),
                         ("probe", PROBE), ("volunteers tuned", TUNED_VOLUNTEERS),
                         ("volunteers held-out", HELDOUT_VOLUNTEERS)):
        passed, total, failures = pass_rate(convs)
        print(f"{label}: {passed}/{total} ({100 * passed / max(total, 1):.1f} %)")
        for name, problems in failures.items():
            print(f"  FAIL {name}")
            for p in problems:
                print(f"      {p}")


if __name__ == "__main__":
    main()
