"""A hub's service catalogue as numbered versions in the database (edited in /admin, validated before saving),
and the hub's further examples for the semantic matcher (typed in, or learned when staff correct an order's
service), each change one more examples version, so the bot uses them from the next message on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intents.catalogue import Catalogue, CatalogueError, catalogue_from_mapping
from storage.models import AuditLog, Order
from storage.models_admin import CatalogueVersion
from storage.models_examples import HubExample, HubExamplesVersion

MIN_EXAMPLE_CHARS = 2
MAX_EXAMPLE_CHARS = 200  # what an order keeps of the resident's words (its details)


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


# -- the hub's examples --------------------------------------------------------------------------------------------


def examples_version(s: Session, hub_id: int) -> int:
    """0 = the hub has no examples of its own yet."""
    return int(s.scalar(select(HubExamplesVersion.version).where(HubExamplesVersion.hub_id == hub_id)) or 0)


def _bump(s: Session, hub_id: int, now: datetime) -> int:
    """One more examples version, in the caller's transaction (two changes at once: one waits for the other's row
    lock, or the second first insert fails on the key and is asked to try again)."""
    moved = s.execute(update(HubExamplesVersion).where(HubExamplesVersion.hub_id == hub_id)
                      .values(version=HubExamplesVersion.version + 1, updated_at=now))
    if not getattr(moved, "rowcount", 0):
        s.add(HubExamplesVersion(hub_id=hub_id, version=1, updated_at=now))
        s.flush()
    return examples_version(s, hub_id)


def examples(s: Session, hub_id: int, *, removed: bool = False, limit: int = 500) -> Sequence[HubExample]:
    """The hub's examples in use (or, with ``removed``, the ones taken back), newest first."""
    gone = HubExample.removed_at.is_not(None) if removed else HubExample.removed_at.is_(None)
    return s.execute(select(HubExample).where(HubExample.hub_id == hub_id, gone)
                     .order_by(HubExample.id.desc()).limit(limit)).scalars().all()


def learned_from_order(s: Session, hub_id: int, order_id: int) -> Sequence[HubExample]:
    """The examples in use that this order's correction taught (for an undo button on the order's page)."""
    return s.execute(select(HubExample).where(HubExample.hub_id == hub_id, HubExample.order_id == order_id,
                                              HubExample.removed_at.is_(None)).order_by(HubExample.id)).scalars().all()


def clean_example(text: str | None) -> str:
    """The text as an example: one line, spaces squeezed; raises CatalogueError when too short or too long."""
    line = " ".join((text or "").split())
    if len(line) < MIN_EXAMPLE_CHARS:
        raise CatalogueError("示例太短了，请写一句居民会说的话")
    if len(line) > MAX_EXAMPLE_CHARS:
        raise CatalogueError(f"示例最多{MAX_EXAMPLE_CHARS}个字")
    return line


def _in_use(s: Session, hub_id: int, service_code: str, line: str) -> int | None:
    return s.scalar(select(HubExample.id).where(HubExample.hub_id == hub_id, HubExample.service_code == service_code,
                                                HubExample.text == line, HubExample.removed_at.is_(None)))


def add_example(s: Session, hub_id: int, service_code: str, text: str, *, catalogue: Catalogue, actor: str,
                now: datetime, source: str = "console", order_id: int | None = None) -> HubExample:
    """File ``text`` under one of the hub's services (raises CatalogueError in plain words)."""
    if service_code not in catalogue:
        raise CatalogueError(f"没有服务 {service_code}")
    line = clean_example(text)
    if _in_use(s, hub_id, service_code, line) is not None:
        raise CatalogueError(f"“{line}”已经是{catalogue.get(service_code).name}的示例了")
    row = HubExample(hub_id=hub_id, service_code=service_code, text=line, source=source, order_id=order_id,
                     created_by=actor, created_at=now)
    s.add(row)
    s.flush()
    version = _bump(s, hub_id, now)
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="example_add", subject=f"example:{row.id}",
                   detail={"service": service_code, "source": source, "order": order_id, "version": version}, at=now))
    return row


def learn_from_correction(s: Session, hub_id: int, order_id: int, service_code: str, *, catalogue: Catalogue,
                          actor: str, now: datetime) -> HubExample | None:
    """After staff corrected an order's service to ``service_code``: the resident's words (the order's details,
    already without address and phone) become an example of that service for the hub, used from the next
    message on. None when there is nothing to learn (no words, or already an example of it); undo with
    remove_example. Raises CatalogueError for an order of another hub or a service the hub does not offer."""
    if service_code not in catalogue:
        raise CatalogueError(f"没有服务 {service_code}")
    order = s.get(Order, order_id)
    if order is None or order.hub_id != hub_id:
        raise CatalogueError(f"没有编号为 {order_id} 的订单")
    try:
        line = clean_example(order.details)
    except CatalogueError:
        return None  # no words of the resident's to learn from
    if line == catalogue.get(service_code).name or _in_use(s, hub_id, service_code, line) is not None:
        return None  # only the service's name (what an order keeps without words), or learned already
    return add_example(s, hub_id, service_code, line, catalogue=catalogue, actor=actor, now=now,
                       source="correction", order_id=order_id)


def remove_example(s: Session, hub_id: int, example_id: int, *, actor: str, now: datetime) -> HubExample:
    """Take an example back (the undo); its row stays, with who removed it and when."""
    row = s.get(HubExample, example_id)
    if row is None or row.hub_id != hub_id or row.removed_at is not None:
        raise CatalogueError("这条示例已经撤销了或者不存在")
    row.removed_at, row.removed_by = now, actor
    version = _bump(s, hub_id, now)
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="example_remove", subject=f"example:{row.id}",
                   detail={"service": row.service_code, "version": version}, at=now))
    return row


def restore_example(s: Session, hub_id: int, example_id: int, *, actor: str, now: datetime) -> HubExample:
    """Put back an example that was taken back (an undo of the undo)."""
    row = s.get(HubExample, example_id)
    if row is None or row.hub_id != hub_id or row.removed_at is None:
        raise CatalogueError("这条示例没有撤销过或者不存在")
    if _in_use(s, hub_id, row.service_code, row.text) is not None:
        raise CatalogueError(f"“{row.text}”已经是这项服务的示例了")
    row.removed_at, row.removed_by = None, None
    version = _bump(s, hub_id, now)
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="example_restore", subject=f"example:{row.id}",
                   detail={"service": row.service_code, "version": version}, at=now))
    return row
