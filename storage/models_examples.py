"""Models of what hubs teach the semantic matcher: example requests per service, and one version number per hub.

The catalogue's own examples live in its versions (storage.models_admin.CatalogueVersion); these are the hub's
further examples, most of them residents' own words that staff filed under the right service when they corrected
an order in the console. A removed example (an undo) keeps its row, with who removed it and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId

EXAMPLE_SOURCES = ("correction", "console")  # an order's service corrected in the console; typed in by staff


class HubExample(Base):
    """One example text for one of the hub's services."""

    __tablename__ = "hub_examples"
    __table_args__ = (Index("ix_hub_examples_hub_removed", "hub_id", "removed_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    service_code: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # one of EXAMPLE_SOURCES
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))  # the corrected order, if any
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    removed_by: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[datetime | None]


class HubExamplesVersion(Base):
    """The hub's examples version: one more on every change, in the change's transaction. Each message's one
    read carries it (bot.services.language_version), so a web worker rebuilds a hub's matcher only when it moved."""

    __tablename__ = "hub_example_versions"
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), primary_key=True)
    version: Mapped[int]
    updated_at: Mapped[datetime]
