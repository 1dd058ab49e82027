"""Intent matcher: free text → service with a calibrated score, candidates and a decision."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from types import MappingProxyType
from typing import Literal

from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict as PINYIN_DICT  # noqa: N812
from rapidfuzz import fuzz, process

from intents.catalogue import Catalogue, Service
from intents.normalise import SEPARABLE_WORDS, Normaliser, default_normaliser
from intents.segment import Tokenizer, add_words, crosses_word, new_tokenizer, token_spans

Decision = Literal["accept", "clarify", "not_service"]

# How much one kind of match counts, relative to the resident writing a keyword exactly.
EXACT_QUALITY = 1.0
PINYIN_QUALITY = 0.85  # homophone typo: 礼发 for 理发
PINYIN_QUALITY_SHORT = 0.75  # two-syllable homophones collide more often (手机/收集)
FUZZY_PINYIN_QUALITY = 0.6  # dialect sounds: zh/z, ch/c, sh/s, n/l, -ng/-n
EDIT_QUALITY = 0.6  # rapidfuzz: a keyword with a character inserted or missing
HINT_WEIGHT = 0.45
MISALIGNED_FACTOR = 0.25  # the hit cuts through a jieba word (理发 inside 处理发票)
OTHER_HITS_FACTOR = 0.35  # further evidence adds less than the first
EDIT_SCORE_CUTOFF = 80.0
STRONG_HIT = 0.55  # hits at least this strong count towards coverage; a lone hint does not
COMMON_WORD_FREQ = 20  # jieba dictionary count above which a written word is taken as meant

# Words that make a message read as asking for something, or as chatting about something.
REQUEST_CUES: tuple[str, ...] = (
    "想", "要", "需要", "帮", "请", "麻烦", "能不能", "能否", "可以", "可不可以", "有没有", "有吗",
    "预约", "找", "派", "上门", "约", "申请", "报名", "怎么", "吗", "咨询", "求", "急", "不会", "服务",
    "不了", "不动", "坏了", "没人", "来", "哪", "啥时候", "什么时候",
    # who could do it, and the spoken yes-no question (谁会弄, 有会修的不, 帮送到学校行不)
    "谁能", "谁会", "谁给", "谁帮", "有会", "行不", "中不", "成不",
)
CHAT_CUES: tuple[str, ...] = (
    "上次", "天气", "哈哈", "机器人", "你是", "你们是", "你叫", "了吗", "快乐",
    "点赞", "昨天", "刚才", "刚刚",
    # about the bot or the group, forwarded notices, small talk (你们这系统是不是坏了, 速转, 晚饭吃什么好呢)
    "系统", "你能听", "别见怪", "通知", "速转", "转发", "吃什么好", "我在看", "吃完饭", "电视里",
    # a service that went well, told afterwards (上周来打扫卫生的阿姨真勤快, 水龙头已经修好了)
    "上周", "上个月", "真勤快", "真热情", "真耐心", "修好了", "弄好了", "搞好了",
)
# Thanks and greetings are chat on their own but mere politeness around a request (请人打扫卫生，谢谢;
# 你好我想约一下清洗空调).
THANKS_CUES: tuple[str, ...] = ("谢谢", "感谢", "辛苦", "多谢", "你好", "您好", "再见", "好久不见", "晚安", "早安")
# A report of something that happened (老伴去跳舞了) rather than a request, when nothing asks.
STATEMENT_ENDINGS: tuple[str, ...] = ("了", "呢", "啊", "的", "过")

# Calibration: probability that the top service is what a resident asked for, as a logistic
# function of the features below. Fitted on tests/data (not the held-out split) with
# ``python benchmarks/intents.py --fit``.
CALIBRATION: dict[str, float] = {
    "bias": -0.54,
    "evidence": 1.36,
    "margin": 1.97,
    "coverage": 1.21,
    "request": 0.37,
    "chat": -2.81,
    "statement": -0.58,
}
MIN_EVIDENCE = 0.3  # below this (a keyword cut through a word, a weak hint) nothing is offered
ACCEPT_AT = 0.75
CLARIFY_AT = 0.35
RIVAL_AT = 0.5  # a runner-up this likely means the message fits two services: ask, don't guess
MAX_CANDIDATES = 3


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What the matcher made of one message."""

    service: str | None
    decision: Decision
    score: float
    candidates: tuple[tuple[str, float], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "service": self.service,
            "decision": self.decision,
            "score": round(self.score, 4),
            "candidates": [[code, round(score, 4)] for code, score in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: a catalogue term found at text[start:end]."""

    start: int
    end: int
    written: str
    term: str
    services: tuple[tuple[int, float], ...]  # (service index, term weight)
    quality: float
    kind: str  # "exact", "pinyin", "fuzzy_pinyin", "edit"; quality already includes a word-cut penalty


@dataclass(frozen=True, slots=True)
class Analysis:
    """The matcher's working: normalised text, hits and per-service evidence (for debugging)."""

    text: str
    hits: tuple[Hit, ...]
    evidence: tuple[tuple[int, float], ...]  # (service index, evidence), best first
    coverage: float
    request_cue: bool
    chat_cue: bool
    statement: bool


def fuzzy_syllable(syllable: str) -> str:
    """Fold sounds that southern and northern speakers (and their typing) confuse."""
    for retroflex, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(retroflex):
            syllable = flat + syllable[2:]
            break
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    if syllable.endswith(("ang", "eng", "ing")):
        syllable = syllable[:-1]
    return syllable


def _length_factor(term: str) -> float:
    return {1: 0.6, 2: 1.0, 3: 1.2}.get(len(term), 1.35)


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def reading_table() -> Mapping[str, str]:
    """Every Chinese character's usual reading, toneless, as pypinyin's NORMAL style spells it."""
    table = {}
    for code, readings in PINYIN_DICT.items():
        table[chr(code)] = _strip_tone(readings.split(",")[0])
    return MappingProxyType(table)


@cache
def _syllables() -> frozenset[str]:
    """Every toneless syllable a Chinese character is usually read with (what pinyin typed alone may be made of)."""
    return frozenset(reading_table().values())


_TONE_MARKED = re.compile(r"[a-zA-Z\u00e0-\u01dc\u0101-\u016b\u01ce-\u01dc\u0144\u0148\u01f9\s'’1-5]+")
_LONGEST_SYLLABLE = 6  # zhuang, chuang, shuang


def pinyin_syllables(text: str) -> tuple[str, ...] | None:
    """"lifa" / "li fa" / "lǐ fà" / "li3fa4" / "zhao ren xiu shui guan": the syllables of a message typed in pinyin
    alone (latin letters that all parse as syllables), or None for any other text (hello, ok, 理发).

    Each run between spaces and apostrophes is split into the fewest syllables that spell it."""
    if not _TONE_MARKED.fullmatch(text.strip()) or not re.search(r"[a-zA-Z]", text):
        return None
    plain = re.sub(r"[1-5]", " ", _strip_tone(text.lower().replace("ü", "v")))
    known = _syllables()
    out: list[str] = []
    for run in re.split(r"[\s'’]+", plain.strip()):
        if not run:
            continue
        best: list[list[str] | None] = [[]] + [None] * len(run)  # best[i]: the fewest syllables spelling run[:i]
        for end in range(1, len(run) + 1):
            for start in range(max(0, end - _LONGEST_SYLLABLE), end):
                head = best[start]
                if head is not None and run[start:end] in known and \
                        (best[end] is None or len(head) + 1 < len(best[end] or ())):
                    best[end] = [*head, run[start:end]]
        split = best[len(run)]
        if split is None:
            return None
        out += split
    return tuple(out) if len(out) >= 2 else None


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


class Matcher:
    """Matches resident text against one catalogue. Build once (it indexes the catalogue); reuse."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        normaliser: Normaliser | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.catalogue = catalogue
        self._services: tuple[Service, ...] = catalogue.services
        self._normaliser = normaliser or default_normaliser()
        weights: dict[str, dict[int, float]] = {}
        for index, service in enumerate(self._services):
            for term, base in self._terms(service):
                slot = weights.setdefault(term, {})
                slot[index] = max(slot.get(index, 0.0), base * _length_factor(term))
        self._terms_exact: dict[str, tuple[tuple[int, float], ...]] = {
            term: tuple(sorted(entries.items())) for term, entries in weights.items()
        }
        self._max_term_len = max(len(t) for t in self._terms_exact)
        self._readings = reading_table()
        pinyin_index: dict[tuple[str, ...], set[str]] = {}
        fuzzy_index: dict[tuple[str, ...], set[str]] = {}
        for term in self._terms_exact:
            if len(term) < 2 or not all(ch in self._readings for ch in term):
                continue
            phrase = tuple(lazy_pinyin(term, style=Style.NORMAL, v_to_u=False))
            per_char = tuple(self._readings[ch] for ch in term)
            for syllables in {phrase, per_char}:
                pinyin_index.setdefault(syllables, set()).add(term)
                if len(syllables) >= 3:
                    # two-syllable dialect folds collide with everyday words (为什→卫生)
                    fuzzy_index.setdefault(tuple(fuzzy_syllable(s) for s in syllables), set()).add(term)
        self._pinyin_terms = {k: tuple(sorted(v)) for k, v in pinyin_index.items()}
        self._fuzzy_terms = {k: tuple(sorted(v)) for k, v in fuzzy_index.items()}
        self._syllable_counts = tuple(sorted({len(k) for k in self._pinyin_terms}))
        # 李个发 for 理个发: a separable keyword (intents.normalise.SEPARABLE_WORDS) typed as a homophone, with its 个;
        # the normaliser joins only the correctly written verb to its object (理个发 -> 理发)
        self._separable: dict[tuple[str, str], tuple[str, ...]] = {}
        for term in SEPARABLE_WORDS:
            if term in self._terms_exact and all(ch in self._readings for ch in term):
                key = (self._readings[term[0]], self._readings[term[1]])
                self._separable[key] = (*self._separable.get(key, ()), term)
        self._edit_terms: tuple[str, ...] = tuple(sorted(t for t in self._terms_exact if len(t) >= 3))
        self._tokenizer = tokenizer or new_tokenizer()
        add_words(self._tokenizer, self._terms_exact)

    def _terms(self, service: Service) -> Iterable[tuple[str, float]]:
        for word in (service.name, *service.keywords):
            term = self._normaliser.for_matching(word).replace(" ", "")
            if term:
                yield term, 1.0
        for word in service.hints:
            term = self._normaliser.for_matching(word).replace(" ", "")
            if term:
                yield term, HINT_WEIGHT

    def _is_word(self, written: str) -> bool:
        return self._tokenizer.FREQ.get(written, 0) >= COMMON_WORD_FREQ and written not in self._terms_exact

    @property
    def tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def service(self, code: str) -> Service:
        return self.catalogue.get(code)

    # -- matching ---------------------------------------------------------------------------

    def match(self, text: str) -> MatchResult:
        """Best service for ``text`` with a calibrated score, the runners-up and a decision."""
        analysis = self.analyse(text)
        if not analysis.evidence or analysis.evidence[0][1] < MIN_EVIDENCE:
            return MatchResult(service=None, decision="not_service", score=0.0, candidates=())
        scored = self._calibrated(analysis)
        best_code, best_score = scored[0]
        candidates = tuple(scored[:MAX_CANDIDATES])
        rival = scored[1][1] if len(scored) > 1 else 0.0
        # Accept only on a keyword (a lone hint is never enough) in a message that is not chat
        # (你是机器人吗 mentions a keyword but asks for nothing): those are offered a choice at most.
        sure = analysis.coverage > 0 and not analysis.chat_cue
        if best_score >= ACCEPT_AT and rival < RIVAL_AT and sure:
            return MatchResult(best_code, "accept", best_score, candidates)
        if best_score >= CLARIFY_AT:
            return MatchResult(best_code, "clarify", best_score, candidates)
        return MatchResult(None, "not_service", best_score, candidates)

    def analyse(self, text: str) -> Analysis:
        """Normalise ``text`` and collect every piece of evidence for every service."""
        typed = pinyin_syllables(text)
        if typed is not None:  # "lifa" / "xiu shui guan": pinyin without characters, read through the same keys
            kept = _drop_contained(self._syllable_hits(typed))
            return self._weighed(" ".join(typed), kept, len(typed), request=False, chat=False, statement=False)
        norm = self._normaliser.for_matching(text)
        compact = norm.replace(" ", "")
        if not compact:
            return Analysis(norm, (), (), 0.0, False, False, False)
        spans = token_spans(self._tokenizer, compact)
        hits = self._exact_hits(compact) + self._pinyin_hits(compact)
        hits += self._edit_hits(compact, spans, hits)
        hits = [
            replace(h, quality=h.quality * MISALIGNED_FACTOR) if crosses_word(h.start, h.end, spans) else h
            for h in hits
        ]
        kept = _drop_contained(hits)
        request = any(cue in compact for cue in REQUEST_CUES)
        chat = any(cue in compact for cue in CHAT_CUES) or (
            not request and any(cue in compact for cue in THANKS_CUES)
        )
        return self._weighed(compact, kept, len(compact), request=request, chat=chat,
                             statement=not request and compact.endswith(STATEMENT_ENDINGS))

    def _weighed(self, compact: str, kept: Sequence[Hit], length: int, *, request: bool, chat: bool,
                 statement: bool) -> Analysis:
        """The evidence per service from the hits kept, and how much of the message (``length`` positions) the best
        one's strong hits cover."""
        evidence: dict[int, list[float]] = {}
        covered: dict[int, set[int]] = {}
        for hit in kept:
            factor = hit.quality
            for index, weight in hit.services:
                evidence.setdefault(index, []).append(weight * factor)
                if weight * factor >= STRONG_HIT:
                    covered.setdefault(index, set()).update(range(hit.start, hit.end))
        totals = sorted(
            ((index, _combine(values)) for index, values in evidence.items()),
            key=lambda item: (-item[1], item[0]),
        )
        coverage = len(covered.get(totals[0][0], ())) / length if totals else 0.0
        return Analysis(
            text=compact,
            hits=tuple(kept),
            evidence=tuple(totals),
            coverage=coverage,
            request_cue=request,
            chat_cue=chat,
            statement=statement,
        )

    def features(self, analysis: Analysis, rank: int = 0) -> dict[str, float]:
        """Calibration features for the candidate at ``rank`` (0 = best)."""
        evidence = analysis.evidence
        own = evidence[rank][1]
        rival = max((e for i, (_, e) in enumerate(evidence) if i != rank), default=0.0)
        return {
            "bias": 1.0,
            "evidence": min(own, 2.0),
            "margin": min(own - rival, 1.5),
            "coverage": analysis.coverage if rank == 0 else 0.0,
            "request": 1.0 if analysis.request_cue else 0.0,
            "chat": 1.0 if analysis.chat_cue else 0.0,
            "statement": 1.0 if analysis.statement else 0.0,
        }

    def _calibrated(self, analysis: Analysis) -> list[tuple[str, float]]:
        scored = []
        for rank, (index, _) in enumerate(analysis.evidence[:MAX_CANDIDATES]):
            feats = self.features(analysis, rank)
            z = sum(CALIBRATION[name] * value for name, value in feats.items())
            scored.append((self._services[index].code, _sigmoid(z)))
        return scored

    # -- evidence ---------------------------------------------------------------------------

    def _exact_hits(self, text: str) -> list[Hit]:
        hits = []
        terms = self._terms_exact
        longest = self._max_term_len
        for start in range(len(text)):
            for end in range(start + 1, min(len(text), start + longest) + 1):
                entries = terms.get(text[start:end])
                if entries is not None:
                    hits.append(Hit(start, end, text[start:end], text[start:end], entries, EXACT_QUALITY, "exact"))
        return hits

    def _pinyin_hits(self, text: str) -> list[Hit]:
        """Keywords typed as homophones (礼发 for 理发) or with dialect sounds (zh/z, n/l, -ng/-n).

        Each character is read with its usual reading only: a pinyin-input typo is a character
        whose usual reading is the intended one, and rarer readings (不 fou, 车 ju) only add noise.
        """
        syllables = [self._readings.get(ch, "") for ch in text]
        folded = [fuzzy_syllable(s) if s else "" for s in syllables]
        hits: list[Hit] = []
        n = len(text)
        for start in range(n):
            if not syllables[start]:
                continue
            for count in self._syllable_counts:
                end = start + count
                if end > n:
                    break
                written = text[start:end]
                exact = self._pinyin_terms.get(tuple(syllables[start:end]), ())
                fuzzy = self._fuzzy_terms.get(tuple(folded[start:end]), ()) if count >= 3 else ()
                if not exact and not fuzzy:
                    continue
                if self._is_word(written):
                    # 屋里 is a word of its own, not a typo for 物理
                    continue
                quality = PINYIN_QUALITY if count > 2 else PINYIN_QUALITY_SHORT
                for term in exact:
                    if term != written:
                        hits.append(Hit(start, end, written, term, self._terms_exact[term], quality, "pinyin"))
                for term in fuzzy:
                    if term != written and term not in exact:
                        entries = self._terms_exact[term]
                        hits.append(Hit(start, end, written, term, entries, FUZZY_PINYIN_QUALITY, "fuzzy_pinyin"))
        for start in range(n - 2):
            if text[start + 1] != "个" or not syllables[start] or not syllables[start + 2]:
                continue
            written = text[start:start + 3]
            for term in self._separable.get((syllables[start], syllables[start + 2]), ()):
                if term != text[start] + text[start + 2]:  # (理个发 itself the normaliser has made 理发)
                    hits.append(Hit(start, start + 3, written, term, self._terms_exact[term], PINYIN_QUALITY_SHORT,
                                    "pinyin"))
        return hits

    def _syllable_hits(self, typed: Sequence[str]) -> list[Hit]:
        """Keywords spelt by pinyin typed without characters: the keys of the homophone and dialect readings
        (_pinyin_hits), looked up by the syllables typed. Typed on purpose, two syllables weigh as three do."""
        folded = [fuzzy_syllable(s) for s in typed]
        hits: list[Hit] = []
        for start in range(len(typed)):
            for count in self._syllable_counts:
                end = start + count
                if end > len(typed):
                    break
                written = " ".join(typed[start:end])
                exact = self._pinyin_terms.get(tuple(typed[start:end]), ())
                fuzzy = self._fuzzy_terms.get(tuple(folded[start:end]), ()) if count >= 3 else ()
                for term in exact:
                    hits.append(Hit(start, end, written, term, self._terms_exact[term], PINYIN_QUALITY, "pinyin"))
                for term in fuzzy:
                    if term not in exact:
                        hits.append(Hit(start, end, written, term, self._terms_exact[term], FUZZY_PINYIN_QUALITY,
                                        "fuzzy_pinyin"))
        return hits

    def _edit_hits(self, text: str, spans: tuple[tuple[int, int], ...], found: Sequence[Hit]) -> list[Hit]:
        """Keywords written with a character too many or too few, on stretches nothing else explains."""
        if not self._edit_terms:
            return []
        covered: set[int] = set()
        for hit in found:
            covered.update(range(hit.start, hit.end))
        edges = [0, *(end for _, end in spans)]
        hits = []
        for i, start in enumerate(edges[:-1]):
            # windows of one to three jieba words that no other hit touches
            for end in edges[i + 1 : i + 4]:
                if end - start < 3 or covered.intersection(range(start, end)):
                    continue
                window = text[start:end]
                if self._is_word(window):
                    continue
                best = process.extractOne(
                    window, self._edit_terms, scorer=fuzz.ratio, score_cutoff=EDIT_SCORE_CUTOFF
                )
                if best is not None:
                    term, score, _ = best
                    quality = EDIT_QUALITY * float(score) / 100.0
                    hits.append(Hit(start, end, window, term, self._terms_exact[term], quality, "edit"))
        return hits


def _combine(values: list[float]) -> float:
    ordered = sorted(values, reverse=True)
    return ordered[0] + OTHER_HITS_FACTOR * sum(ordered[1:])


def _drop_contained(hits: Sequence[Hit]) -> list[Hit]:
    """Keep the longest reading of each stretch: 借轮椅 hides 轮椅, 修水管 hides 水管."""
    exact_long = [h for h in hits if h.kind == "exact" and h.end - h.start >= 2]
    ordered = sorted(hits, key=lambda h: (-(h.end - h.start), -h.quality, h.start))
    kept: list[Hit] = []
    for hit in ordered:
        if hit.kind != "exact" and len(hit.term) == len(hit.written):
            # A typo reading must not overrule characters that a correctly written keyword
            # explains: 助餐服务 is 助餐 + 服务, not a typo for 助残服务.
            differing = [hit.start + i for i, (a, b) in enumerate(zip(hit.term, hit.written, strict=True)) if a != b]
            if any(k.start <= i < k.end for k in exact_long for i in differing):
                continue
        inside = any(
            k.start <= hit.start
            and hit.end <= k.end
            and (k.end - k.start) > (hit.end - hit.start)
            and k.quality >= hit.quality
            for k in kept
        )
        duplicate = any(
            k.start == hit.start
            and k.end == hit.end
            and {i for i, _ in k.services} >= {i for i, _ in hit.services}
            for k in kept
        )
        if not inside and not duplicate:
            kept.append(hit)
    return kept
