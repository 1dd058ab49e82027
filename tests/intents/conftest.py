"""Shared fixtures: one matcher per test session (building it loads jieba's dictionary)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intents.catalogue import Catalogue, load_catalogue
from intents.matcher import Matcher

DATA = Path(__file__).resolve().parent.parent / "data"


def load_requests(folder: Path) -> list[tuple[str, str]]:
    rows = []
    for line in (folder / "requests.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, text = line.split("\t", 1)
            rows.append((code, text))
    return rows


def load_non_requests(folder: Path) -> list[str]:
    lines = (folder / "non_requests.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def matcher(catalogue: Catalogue) -> Iterator[Matcher]:
    yield Matcher(catalogue)
