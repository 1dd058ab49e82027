"""Service catalogue (制单): load and validate the TOML file hub staff edit."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_DURATION_MINUTES = 24 * 60
_REQUIRED = ("code", "name", "description", "team", "at_home", "duration_minutes", "minors_ok", "keywords")
_OPTIONAL = ("hints", "examples")


class CatalogueError(ValueError):
    """The catalogue file is missing, unreadable or breaks a rule; the message says where."""


@dataclass(frozen=True, slots=True)
class Service:
    """One kind of service a hub offers."""

    code: str
    name: str
    description: str
    team: str
    at_home: bool
    duration_minutes: int
    minors_ok: bool
    keywords: tuple[str, ...]
    hints: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """An ordered, validated set of services with unique codes."""

    services: tuple[Service, ...]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        _check_catalogue(self.services, self.source)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    def __contains__(self, code: object) -> bool:
        return any(s.code == code for s in self.services)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.services)

    def get(self, code: str) -> Service:
        for service in self.services:
            if service.code == code:
                return service
        raise KeyError(code)


def default_catalogue_path() -> Path:
    """Where the packaged default catalogue lives."""
    return Path(str(resources.files("intents") / "data" / "catalogue.toml"))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue file; the packaged default when ``path`` is None."""
    source = Path(path) if path is not None else default_catalogue_path()
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{source}: cannot read catalogue: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{source}: catalogue is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML: {exc}") from exc
    return catalogue_from_mapping(data, source=str(source))


def catalogue_from_mapping(data: Mapping[str, Any], source: str = "<memory>") -> Catalogue:
    """Build a catalogue from already-parsed TOML (``{"service": [{...}, ...]}``)."""
    entries = data.get("service")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{source}: no [[service]] entries found")
    unknown_top = sorted(set(data) - {"service"})
    if unknown_top:
        raise CatalogueError(f"{source}: unknown top-level key(s): {', '.join(unknown_top)}")
    services = tuple(_service_from_entry(entry, i, source) for i, entry in enumerate(entries, start=1))
    return Catalogue(services=services, source=source)


def _service_from_entry(entry: object, position: int, source: str) -> Service:
    where = f"{source}: service #{position}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a table, got {type(entry).__name__}")
    code = entry.get("code")
    if isinstance(code, str) and code:
        where = f"{source}: service #{position} ({code!r})"
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise CatalogueError(f"{where}: missing field(s): {', '.join(missing)}")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s): {', '.join(unknown)}")
    return Service(
        code=_text(entry, "code", where),
        name=_text(entry, "name", where),
        description=_text(entry, "description", where),
        team=_text(entry, "team", where),
        at_home=_flag(entry, "at_home", where),
        duration_minutes=_minutes(entry, where),
        minors_ok=_flag(entry, "minors_ok", where),
        keywords=_words(entry, "keywords", where, required=True),
        hints=_words(entry, "hints", where, required=False),
        examples=_words(entry, "examples", where, required=False),
    )


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str):
        raise CatalogueError(f"{where}: {key} must be text, got {type(value).__name__}")
    if not value.strip():
        raise CatalogueError(f"{where}: {key} must not be empty")
    return value.strip()


def _flag(entry: Mapping[str, Any], key: str, where: str) -> bool:
    value = entry[key]
    if not isinstance(value, bool):
        raise CatalogueError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _minutes(entry: Mapping[str, Any], where: str) -> int:
    value = entry["duration_minutes"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogueError(f"{where}: duration_minutes must be a whole number, got {value!r}")
    if not 0 < value <= MAX_DURATION_MINUTES:
        raise CatalogueError(f"{where}: duration_minutes must be between 1 and {MAX_DURATION_MINUTES}")
    return value


def _words(entry: Mapping[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: {key} must be a list of text")
    words = tuple(v.strip() for v in value)
    if any(not w for w in words):
        raise CatalogueError(f"{where}: {key} contains an empty entry")
    if required and not words:
        raise CatalogueError(f"{where}: {key} must list at least one word")
    seen: set[str] = set()
    for word in words:
        if word in seen:
            raise CatalogueError(f"{where}: {key} lists {word!r} twice")
        seen.add(word)
    return words


def _check_catalogue(services: Sequence[Service], source: str) -> None:
    if not services:
        raise CatalogueError(f"{source}: the catalogue has no services")
    codes: dict[str, int] = {}
    names: dict[str, str] = {}
    for position, service in enumerate(services, start=1):
        if not isinstance(service, Service):
            raise CatalogueError(f"{source}: entry #{position} is not a Service")
        if not CODE_PATTERN.match(service.code):
            raise CatalogueError(
                f"{source}: service #{position}: code {service.code!r} must be lower-case ASCII letters, "
                "digits or '_' and start with a letter"
            )
        if not service.name.strip():
            raise CatalogueError(f"{source}: service #{position} ({service.code!r}): name must not be empty")
        if not service.keywords:
            raise CatalogueError(f"{source}: service {service.code!r}: keywords must not be empty")
        if service.code in codes:
            raise CatalogueError(
                f"{source}: duplicate code {service.code!r} (services #{codes[service.code]} and #{position})"
            )
        codes[service.code] = position
        if service.name in names:
            raise CatalogueError(
                f"{source}: duplicate name {service.name!r} (codes {names[service.name]!r} and {service.code!r})"
            )
        names[service.name] = service.code
