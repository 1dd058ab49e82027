"""Catalogue loading and validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from intents.catalogue import Catalogue, CatalogueError, Service, catalogue_from_mapping, load_catalogue
from intents.matcher import Matcher

REQUIRED_CODES = {
    "housekeeping", "repair", "haircut", "escort", "health", "meals", "errands", "companionship", "tutoring",
    "parenting", "legal", "counselling", "disability", "digital", "skills", "science", "policy", "culture",
    "recycling", "safety", "sewing", "transport", "moving", "lending", "eldercare",
}

GOOD = """
[[service]]
code = "haircut"
name = "义务理发"
description = "免费理发"
team = "理发队"
at_home = false
duration_minutes = 30
minors_ok = false
keywords = ["理发", "剪头"]

[[service]]
code = "kites"
name = "风筝制作"
description = "教孩子做风筝"
team = "手工队"
at_home = false
duration_minutes = 60
minors_ok = true
keywords = ["风筝", "做风筝"]
examples = ["想教孩子做风筝"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_catalogue_has_the_25_services(catalogue: Catalogue) -> None:
    assert set(catalogue.codes) == REQUIRED_CODES
    assert len(catalogue) == 25


def test_every_service_is_complete(catalogue: Catalogue) -> None:
    for service in catalogue:
        assert service.name and service.description and service.team
        assert 0 < service.duration_minutes <= 24 * 60
        assert len(service.keywords) >= 5, service.code
        assert len(service.examples) >= 3, service.code
    assert any(s.minors_ok for s in catalogue) and not all(s.minors_ok for s in catalogue)
    assert catalogue.get("haircut").name == "义务理发"


def test_catalogue_examples_match_their_own_service(matcher: Matcher, catalogue: Catalogue) -> None:
    wrong = []
    for service in catalogue:
        for example in service.examples:
            result = matcher.match(example)
            top = result.candidates[0][0] if result.candidates else None
            if top != service.code:
                wrong.append((service.code, example, result))
    assert not wrong


def test_services_are_frozen(catalogue: Catalogue) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalogue.services[0].name = "x"  # type: ignore[misc]


def test_load_from_any_path(tmp_path: Path) -> None:
    loaded = load_catalogue(write(tmp_path, GOOD))
    assert loaded.codes == ("haircut", "kites")
    assert loaded.get("kites").minors_ok is True
    assert loaded.get("kites").examples == ("想教孩子做风筝",)
    assert "kites" in loaded and "repair" not in loaded
    with pytest.raises(KeyError):
        loaded.get("repair")


def test_hub_catalogue_drives_the_matcher(tmp_path: Path, matcher: Matcher) -> None:
    hub = Matcher(load_catalogue(write(tmp_path, GOOD)), tokenizer=matcher.tokenizer)
    assert hub.match("想教孩子做风筝").service == "kites"
    assert hub.match("想礼发").service == "haircut"
    assert hub.match("水管漏水了").decision == "not_service"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('code = "kites"', 'code = "haircut"'), "duplicate code 'haircut'"),
        (lambda t: t.replace('name = "风筝制作"', 'name = "  "'), "name must not be empty"),
        (lambda t: t.replace('name = "风筝制作"', 'name = "义务理发"'), "duplicate name"),
        (lambda t: t.replace('team = "手工队"\n', ""), "missing field(s): team"),
        (lambda t: t.replace("minors_ok = true", 'minors_ok = "yes"'), "minors_ok must be true or false"),
        (lambda t: t.replace("duration_minutes = 60", "duration_minutes = 0"), "duration_minutes must be between"),
        (lambda t: t.replace("duration_minutes = 60", "duration_minutes = 1.5"), "whole number"),
        (lambda t: t.replace('keywords = ["风筝", "做风筝"]', "keywords = []"), "at least one word"),
        (lambda t: t.replace('keywords = ["风筝", "做风筝"]', 'keywords = ["风筝", "风筝"]'), "twice"),
        (lambda t: t.replace('keywords = ["风筝", "做风筝"]', 'keywords = ["风筝", ""]'), "empty entry"),
        (lambda t: t.replace('code = "kites"', 'code = "Kites!"'), "lower-case ASCII"),
        (lambda t: t.replace("at_home = false\nduration_minutes = 60", "at_home = false\ncolour = 1\n"
                             "duration_minutes = 60"), "unknown field(s): colour"),
        (lambda t: t + "\n[extra]\nx = 1\n", "unknown top-level key(s): extra"),
        (lambda t: t.replace("[[service]]", "[[services]]"), "no [[service]] entries"),
        (lambda t: t + "\nthis is not toml", "not valid TOML"),
    ],
)
def test_validation_errors_say_what_is_wrong(tmp_path: Path, edit: object, message: str) -> None:
    assert callable(edit)
    path = write(tmp_path, edit(GOOD))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nope.toml")


def test_catalogue_checks_services_built_in_code() -> None:
    service = Service("a", "甲", "d", "t", False, 10, False, ("词",))
    with pytest.raises(CatalogueError, match="duplicate code"):
        Catalogue((service, service))
    with pytest.raises(CatalogueError, match="no services"):
        Catalogue(())
    with pytest.raises(CatalogueError, match="no \\[\\[service\\]\\]"):
        catalogue_from_mapping({"service": []})
