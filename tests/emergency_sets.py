"""The emergency tuning sets, one home for every benchmark and test that reads them (tests/data/). Only tuning sets:
the held-out ones are listed where they are scored (benchmarks/emergency.py) and never become examples.

WRITTEN is the order the sets were written in (a replay's examples are the sets before its own); EXAMPLE_ORDER is the
order their rows are copied into the second opinion's examples (intents/data/emergency_examples.txt), which only
appends."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

WRITTEN: tuple[tuple[str, Path], ...] = (
    ("tune", DATA / "emergency_tune.tsv"),
    ("v2", DATA / "emergency_tune_v2.tsv"),
    ("v3", DATA / "v3" / "emergency_v3_tune.tsv"),  # outside-written (tests/data/v3/README.md)
    ("v4", DATA / "v4" / "emergency_v4_tune.tsv"),  # outside-written
    ("families", DATA / "emergency_tune_families.tsv"),  # probes of the rule families (by hand)
    ("v5", DATA / "v5" / "emergency_v5_tune.tsv"),  # outside-written
    ("indirect", DATA / "emergency_tune_indirect.tsv"),  # indirect crime/self-harm talk and look-alikes (by hand)
    ("v6", DATA / "v6" / "emergency_v6_tune.tsv"),  # outside-written, measured blind once
    ("v8", DATA / "v8" / "emergency_v8_tune.tsv"),  # outside-written look-alikes, measured blind once
    ("v10", DATA / "v10" / "emergency_v10_tune.tsv"),  # outside-written, weighted to self-harm, crime, look-alikes
)
_BY_NAME = dict(WRITTEN)
# v8 is not among the examples yet: copied in, with the classifier refitted on it, the held-out sets moved within
# noise and slightly the wrong way (pooled recall 93.1 -> 92.9 %, false alarms 4.84 -> 4.90 %; benchmarks/RESULTS.md,
# 2026-12-04), so it is scored as a tuning set and its rows guide the rules, not the second opinion. Tried again on
# top of v10 (tenth session): pooled held-out recall 93.5 -> 93.2 %, so still not. v10 is among the examples: pooled
# recall 93.2 -> 93.5 %, false alarms 5.6 -> 6.0 % (benchmarks/RESULTS.md, tenth session).
EXAMPLE_ORDER: tuple[Path, ...] = tuple(_BY_NAME[name] for name in
                                        ("tune", "v2", "v3", "v4", "v5", "families", "indirect", "v6", "v10"))
TUNING: tuple[Path, ...] = tuple(path for _, path in WRITTEN)  # every tuning set, scored by the benchmarks
