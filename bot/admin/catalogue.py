"""A hub's service catalogue as numbered versions in the database (edited in /admin, validated before saving)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intents.catalogue import Catalogue, CatalogueError, catalogue_from_mapping
from storage.models import AuditLog
from storage.models_admin import CatalogueVersion


def as_mapping(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue in the TOML file's shape ({"service": [...]}), for storing and editing."""
    return {"service": [{"code": sv.code, "name": sv.name, "description": sv.description, "team": sv.team,
                         "at_home": sv.at_home, "duration_minutes": sv.duration_minutes, "minors_ok": sv.minors_ok,
                         "keywords": list(sv.keywords), "hints": list(sv.hints), "examples": list(sv.examples)}
                        for sv in catalogue]}


def latest_version(s: Session, hub_id: int) -> int:
    """0 = the hub has never saved one (it uses the deployment's catalogue file)."""
    return int(s.scalar(select(func.max(CatalogueVersion.version)).where(CatalogueVersion.hub_id == hub_id)) or 0)


def versions(s: Session, hub_id: int, limit: int = 50) -> Sequence[CatalogueVersion]:
    return s.execute(select(CatalogueVersion).where(CatalogueVersion.hub_id == hub_id)
                     .order_by(CatalogueVersion.version.desc()).limit(limit)).scalars().all()


def save_version(s: Session, hub_id: int, data: Mapping[str, Any], *, actor: str, note: str | None,
                 now: datetime) -> CatalogueVersion:
    """Validate (raises CatalogueError in plain words) and store as the hub's next version."""
    catalogue = catalogue_from_mapping(data, source="目录")
    clean = as_mapping(catalogue)
    number = latest_version(s, hub_id) + 1
    row = CatalogueVersion(hub_id=hub_id, version=number, data=clean, note=(note or "").strip() or None,
                           created_by=actor, created_at=now)
    s.add(row)
    s.flush()  # the unique (hub, version) key: two editors saving at once cannot both get one number
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="catalogue_save", subject=f"catalogue:v{number}",
                   detail={"note": row.note, "services": len(clean["service"])}, at=now))
    return row


def with_service(catalogue: Catalogue, entry: Mapping[str, Any], replace_code: str | None) -> dict[str, Any]:
    """The catalogue mapping with one service replaced (by code) or appended."""
    data = as_mapping(catalogue)
    services = data["service"]
    if replace_code is None:
        if any(sv["code"] == entry["code"] for sv in services):
            raise CatalogueError(f"代码 {entry['code']} 已存在")
        services.append(dict(entry))
        return data
    for i, sv in enumerate(services):
        if sv["code"] == replace_code:
            services[i] = dict(entry)
            return data
    raise CatalogueError(f"没有服务 {replace_code}")


def without_service(catalogue: Catalogue, code: str) -> dict[str, Any]:
    data = as_mapping(catalogue)
    kept = [sv for sv in data["service"] if sv["code"] != code]
    if len(kept) == len(data["service"]):
        raise CatalogueError(f"没有服务 {code}")
    data["service"] = kept
    return data
