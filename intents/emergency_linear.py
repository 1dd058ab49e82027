"""A linear emergency classifier over sentence embeddings: the semantic second opinion's other half.

The kNN second opinion (:class:`intents.semantic.SemanticEmergency`) fires only when a message is very close to a
labelled example; on text written by people the examples never saw, most emergencies the rules miss are not that
close to any single example. A multinomial logistic regression over the same 384-d vectors (six kinds and the
look-alikes, ``none``) draws the line between the labels from all the examples at once and generalises further.

* :func:`train` -- fit it (numpy only: full-batch gradient descent with Nesterov momentum on the L2-regularised,
  class-weighted cross-entropy; deterministic). Then per kind a threshold on ``1 - p(none)`` calibrated on
  out-of-fold probabilities of the training rows (:func:`calibrate`): the lowest that keeps that kind's false
  alarms on the look-alikes within its share of a budget, so that recall is favoured up to the budget.
* :class:`LinearEmergency` -- the weights, the thresholds and the name of the embedding model they were fitted for;
  :meth:`LinearEmergency.assess` gives (best kind, its probability, ``p(none)``, fires).
* :func:`save` / :func:`load` -- one small ``.npz`` (intents/data/emergency_linear.npz, ~11 KB), written by
  ``python benchmarks/emergency_linear.py --write`` from the tuning rows and the examples, read once per process.

Pure apart from :func:`save` and :func:`load`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from intents.emergency import KINDS

NONE = "none"
LABELS: tuple[str, ...] = (*KINDS, NONE)
WEIGHTS_FILE = Path(__file__).with_name("data") / "emergency_linear.npz"
# Chosen by leave-one-set-out on the tuning sets (benchmarks/emergency_linear.py; never on a held-out set)
L2 = 1e-2  # the L2 penalty on the weights (of the standardised dimensions)
STEPS = 300  # gradient steps
RATE = 0.5  # step size (2.0 diverges on the standardised dimensions)
FOLDS = 5  # out-of-fold probabilities for the thresholds
FALSE_ALARM_BUDGET = 0.04  # the look-alikes (not vetoed) the classifier may raise, all kinds together ...
TRAFFIC_BUDGET = 0.007  # ... and the everyday messages among them (service requests, chit-chat, the tuned corpora)
# not vetoed, out of fold: about one a kind, two a lean kind. With 0 one chat line (我孙女给我拉进来的) held crime at
# 0.973; pooled leave-one-set-out recall 85.1 → 88.6 %, false alarms 19 → 20 of 550 (benchmarks/emergency_linear.py)
LEAN = ("medical", "fire", "gas", "self_harm")  # these kinds get twice their share of the budget


@dataclass(frozen=True)
class LinearEmergency:
    """Softmax(W·x + b) over :data:`LABELS`; a kind fires when it is the best kind and ``1 - p(none)`` reaches its
    threshold."""

    weights: npt.NDArray[np.float32]  # (dim, len(LABELS))
    bias: npt.NDArray[np.float32]  # (len(LABELS),)
    thresholds: Mapping[str, float]  # per kind
    model: str  # the embedder's name the weights were fitted for (intents.semantic.Embedder.name)
    labels: tuple[str, ...] = field(default=LABELS)

    def probabilities(self, vectors: npt.ArrayLike) -> npt.NDArray[np.float64]:
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        return _softmax(x.astype(np.float64) @ self.weights.astype(np.float64) + self.bias)

    def assess(self, vector: npt.ArrayLike) -> tuple[str, float, float, bool]:
        """(best kind, its probability, p(none), whether it fires)."""
        p = self.probabilities(vector)[0]
        none = float(p[self.labels.index(NONE)])
        kinds = [(label, float(p[i])) for i, label in enumerate(self.labels) if label != NONE]
        best, score = max(kinds, key=lambda item: item[1])
        return best, score, none, 1.0 - none >= self.thresholds.get(best, 1.1)


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def fit_weights(
    vectors: npt.ArrayLike, labels: Sequence[str], *, l2: float = L2, steps: int = STEPS, rate: float = RATE
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(W, b) of the class-weighted (each label's rows weigh 1/sqrt of its count), L2-penalised softmax regression.

    The embedding's dimensions are standardised first (the rows are unit vectors crowded into a narrow cone: raw,
    the regression barely moves off the mean); the scaling is folded into the returned W and b, which apply to
    the raw vectors."""
    raw = np.asarray(vectors, dtype=np.float64)
    mean = raw.mean(axis=0)
    scale = np.where(raw.std(axis=0) > 1e-8, raw.std(axis=0), 1.0)
    x = (raw - mean) / scale
    y = np.array([LABELS.index(label) for label in labels])
    n, dim = x.shape
    onehot = np.zeros((n, len(LABELS)))
    onehot[np.arange(n), y] = 1.0
    counts = np.maximum(onehot.sum(axis=0), 1.0)
    weight = (1.0 / np.sqrt(counts))[y]
    weight *= n / weight.sum()
    w = np.zeros((dim, len(LABELS)))
    b = np.zeros(len(LABELS))
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(steps):  # Nesterov momentum
        lw, lb = w + 0.9 * vw, b + 0.9 * vb
        p = _softmax(x @ lw + lb)
        g = (p - onehot) * weight[:, None] / n
        gw = x.T @ g + l2 * lw
        gb = g.sum(axis=0)
        vw = 0.9 * vw - rate * gw
        vb = 0.9 * vb - rate * gb
        w, b = w + vw, b + vb
    w_raw = w / scale[:, None]
    return w_raw.astype(np.float32), (b - mean @ w_raw).astype(np.float32)


def out_of_fold(
    vectors: npt.ArrayLike, labels: Sequence[str], folds: int = FOLDS, l2: float = L2
) -> npt.NDArray[np.float64]:
    """Each row's probabilities from weights fitted without its fold (the i-th row of a label in fold i mod folds)."""
    x = np.asarray(vectors, dtype=np.float32)
    seen: dict[str, int] = {}
    fold = np.zeros(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        fold[i] = seen.get(label, 0) % folds
        seen[label] = seen.get(label, 0) + 1
    out = np.zeros((len(labels), len(LABELS)))
    for f in range(folds):
        train = np.flatnonzero(fold != f)
        w, b = fit_weights(x[train], [labels[int(i)] for i in train], l2=l2)
        test = np.flatnonzero(fold == f)
        out[test] = _softmax(x[test].astype(np.float64) @ w.astype(np.float64) + b)
    return out


def _lowest(scores: npt.NDArray[np.float64], allowed: int) -> float:
    """The lowest threshold at which at most ``allowed`` of ``scores`` reach it."""
    ordered = np.sort(scores)[::-1]
    return float(np.nextafter(ordered[allowed], 2.0)) if len(ordered) > allowed else 0.0


def calibrate(
    probabilities: npt.ArrayLike, labels: Sequence[str], counted: Sequence[bool],
    budget: float = FALSE_ALARM_BUDGET, traffic: Sequence[bool] | None = None,
    traffic_budget: float = TRAFFIC_BUDGET,
) -> dict[str, float]:
    """Per kind the lowest threshold on ``1 - p(none)`` at which the look-alikes that ``counted`` (not vetoed by the
    rules' guards) it raises as that kind stay within its share of ``budget`` (a share per kind, :data:`LEAN` kinds
    two), and the everyday messages among them (``traffic``: service requests, chit-chat) within its share of
    ``traffic_budget``; so the classifier finds as much as the budgets allow. Never below 0.5."""
    p = np.asarray(probabilities, dtype=np.float64)
    none = p[:, LABELS.index(NONE)]
    best = np.array([KINDS[i] for i in p[:, : len(KINDS)].argmax(axis=1)])
    negative = np.array([label == NONE for label in labels]) & np.asarray(counted, dtype=bool)
    everyday = np.zeros(len(labels), dtype=bool) if traffic is None else np.asarray(traffic, dtype=bool)
    shares = {kind: (2.0 if kind in LEAN else 1.0) / (len(KINDS) + len(LEAN)) for kind in KINDS}
    out = {}
    for kind in KINDS:
        lookalike, daily = negative & ~everyday & (best == kind), negative & everyday & (best == kind)
        out[kind] = max(0.5,
                        _lowest(1.0 - none[lookalike], int(budget * (negative & ~everyday).sum() * shares[kind])),
                        _lowest(1.0 - none[daily], int(traffic_budget * (negative & everyday).sum() * shares[kind])))
    return out


def train(
    vectors: npt.ArrayLike, labels: Sequence[str], counted: Sequence[bool], model: str, *,
    budget: float = FALSE_ALARM_BUDGET, traffic: Sequence[bool] | None = None,
    traffic_budget: float = TRAFFIC_BUDGET, l2: float = L2,
) -> LinearEmergency:
    """Weights on every row; thresholds calibrated on out-of-fold probabilities (:func:`calibrate`)."""
    w, b = fit_weights(vectors, labels, l2=l2)
    thresholds = calibrate(out_of_fold(vectors, labels, l2=l2), labels, counted, budget, traffic, traffic_budget)
    return LinearEmergency(w, b, thresholds, model)


def save(classifier: LinearEmergency, path: str | Path = WEIGHTS_FILE) -> None:
    np.savez(path, model=np.array(classifier.model), labels=np.array(classifier.labels),
             weights=classifier.weights.astype(np.float32), bias=classifier.bias.astype(np.float32),
             thresholds=np.array([classifier.thresholds[k] for k in KINDS], dtype=np.float64),
             kinds=np.array(KINDS))


def load(model: str, path: str | Path = WEIGHTS_FILE) -> LinearEmergency | None:
    """The packaged classifier, or None when there is none for this embedding model (no file, another model, a
    damaged file, other labels)."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            name, labels = str(stored["model"]), tuple(map(str, stored["labels"]))
            kinds = tuple(map(str, stored["kinds"]))
            weights, bias, thresholds = stored["weights"], stored["bias"], stored["thresholds"]
    except (OSError, ValueError, KeyError):
        return None
    if name != model or labels != LABELS or kinds != KINDS or weights.shape[1:] != (len(LABELS),) \
            or bias.shape != (len(LABELS),) or thresholds.shape != (len(KINDS),):
        return None
    return LinearEmergency(np.asarray(weights, dtype=np.float32), np.asarray(bias, dtype=np.float32),
                           dict(zip(KINDS, map(float, thresholds), strict=True)), name)
