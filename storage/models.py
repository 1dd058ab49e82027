"""SQLAlchemy 2.x typed ORM models. Every hub-owned row carries hub_id (see DESIGN.md section 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_HUB_SLUG = "default"

# Ids are BigInteger on PostgreSQL but plain INTEGER on SQLite, where only INTEGER PRIMARY KEY
# autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class Hub(Base):
    """One 雷锋超市. WeChat credentials left empty fall back to the LEIFENG_WECHAT_* settings."""

    __tablename__ = "hubs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    wechat_appid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wechat_original_id: Mapped[str | None] = mapped_column(String(64))
    wechat_token: Mapped[str | None] = mapped_column(String(64))
    wechat_aes_key: Mapped[str | None] = mapped_column(String(64))
    wechat_secret: Mapped[str | None] = mapped_column(String(128))
    notice_template_id: Mapped[str | None] = mapped_column(String(128))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class User(Base):
    """Somebody who wrote to a hub's account; an openid is per official account, hence per hub."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("hub_id", "openid", name="uq_users_hub_openid"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    openid: Mapped[str] = mapped_column(String(128))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    nickname: Mapped[str | None] = mapped_column(String(100))
    subscribed: Mapped[bool] = mapped_column(default=True)
    subscribe_scene: Mapped[str | None] = mapped_column(String(100))
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Conversation(Base):
    """Dialogue state and slots per user, so a dialogue survives restarts and any process can continue it."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    state: Mapped[str] = mapped_column(String(40))
    slots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class ProcessedMessage(Base):
    """Dedupe: one row per WeChat message/event key; the unique key makes retries act once."""

    __tablename__ = "processed_messages"
    __table_args__ = (UniqueConstraint("hub_id", "dedupe_key", name="uq_processed_hub_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    openid: Mapped[str] = mapped_column(String(128))
    msg_type: Mapped[str] = mapped_column(String(40))
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(index=True)


class OutboxMessage(Base):
    """A message to send later, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # wechat | wecom_robot
    to: Mapped[str] = mapped_column(String(200))  # openid, or a robot key
    kind: Mapped[str] = mapped_column(String(20))  # text | markdown
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sending|sent|dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_via: Mapped[str | None] = mapped_column(String(20))  # custom | template | robot
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hubs.id"), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(index=True)


class AccessToken(Base):
    """The one shared access_token per AppID, used by every process."""

    __tablename__ = "access_tokens"
    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(String(600))
    expires_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
    refresh_count: Mapped[int] = mapped_column(default=0)
