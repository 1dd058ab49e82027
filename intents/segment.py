"""Private jieba tokenizers: quiet, without the global instance and without pkg_resources."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, Protocol, cast


class Tokenizer(Protocol):
    """The part of ``jieba.Tokenizer`` the matcher uses."""

    FREQ: dict[str, int]  # noqa: N815 - jieba's name

    def lcut(self, sentence: str, cut_all: bool = False, HMM: bool = True) -> list[str]: ...  # noqa: N803

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> None: ...


def _import_jieba() -> Any:
    # jieba's _compat imports pkg_resources only to open its own data files, and falls back to a
    # plain open() without it. pkg_resources is slow to import, warns on new setuptools and drags in
    # email/socket, which the pure core must not load; hide it while jieba is imported.
    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    hide = "pkg_resources" not in sys.modules
    if hide:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if hide:
            del sys.modules["pkg_resources"]
    return jieba


def new_tokenizer(words: Iterable[str] = ()) -> Tokenizer:
    """A fresh ``jieba.Tokenizer`` with the default dictionary loaded and ``words`` added.

    Loading the dictionary costs about a second (less with jieba's cache file), so build one per
    process at start-up, never per message.
    """
    jieba = _import_jieba()
    # jieba logs its dictionary loading at DEBUG to stderr on every initialisation.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    result = cast(Tokenizer, tokenizer)
    add_words(result, words)
    return result


def add_words(tokenizer: Tokenizer, words: Iterable[str]) -> None:
    """Add ``words`` to the tokenizer's dictionary so they are cut out whole."""
    for word in sorted(set(words)):
        if len(word) >= 2:
            tokenizer.add_word(word)


def token_spans(tokenizer: Tokenizer, text: str) -> tuple[tuple[int, int], ...]:
    """jieba's words as (start, end) character offsets into ``text``."""
    spans = []
    offset = 0
    for token in tokenizer.lcut(text, HMM=False):
        spans.append((offset, offset + len(token)))
        offset += len(token)
    return tuple(spans)


def crosses_word(start: int, end: int, spans: tuple[tuple[int, int], ...]) -> bool:
    """True if text[start:end] cuts through a word: 理发 in 处理|发票 (but not 打扫 in 打扫卫生)."""
    return any((a < start < b < end) or (start < a < end < b) for a, b in spans)
