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
    event,
    inspect,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from intents.address import community_of
from storage import orderrefs
from storage.sealed import Sealed, SealedJSON, hash_phone_of

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


STAFF_ROLE_SQL = """CAST(roles AS TEXT) LIKE '%"staff"%'"""  # roles is a JSON list; confirm in Python


class User(Base):
    """Somebody who wrote to a hub's account; an openid is per official account, hence per hub."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("hub_id", "openid", name="uq_users_hub_openid"),
        # Staff are a handful among a hub's residents: a partial index finds them without reading every user.
        # Queries must use STAFF_ROLE_SQL verbatim (a literal, not a bound parameter) for the planner to use it.
        Index("ix_users_staff", "hub_id", "id", sqlite_where=text(STAFF_ROLE_SQL),
              postgresql_where=text(STAFF_ROLE_SQL)),
        Index("ix_users_hub_phone_hash", "hub_id", "phone_hash"),  # migration 0017: a resident found by phone
        # migration 0023: who followed through a community's QR code (scene "community:<name>"), for its 群发
        Index("ix_users_hub_scene", "hub_id", "subscribe_scene"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    openid: Mapped[str] = mapped_column(String(128))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    nickname: Mapped[str | None] = mapped_column(String(100))
    subscribed: Mapped[bool] = mapped_column(default=True)
    subscribe_scene: Mapped[str | None] = mapped_column(String(100))
    last_inbound_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(Sealed)  # the phone on file, offered when ordering (encrypted)
    phone_hash: Mapped[str | None] = mapped_column(String(64))  # storage.sealed.phone_lookup finds it
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    created_at: Mapped[datetime]


# Conversations in the middle of a dialogue (every state but bot.serviceloop.orders.WAITING_STATES_EXEMPT): the
# dialogue sweep reads them through a partial index, so queries must use this text verbatim (as STAFF_ROLE_SQL).
DIALOGUE_WAITING_SQL = "state NOT IN ('IDLE', 'HUMAN', 'RATE', 'RATE_COMMENT')"
# orders waiting for the worker's dispatch (bot.serviceloop.orders.claim_waiting; migration 0021)
DISPATCH_WAITING_SQL = "state = 'submitted'"


class Conversation(Base):
    """Dialogue state and slots per user, so a dialogue survives restarts and any process can continue it."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_waiting", "hub_id", "updated_at", sqlite_where=text(DIALOGUE_WAITING_SQL),
              postgresql_where=text(DIALOGUE_WAITING_SQL)),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    state: Mapped[str] = mapped_column(String(40))
    slots: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)  # an address, a phone: encrypted
    updated_at: Mapped[datetime]
    # Bumped by every UPDATE (the ORM does it through version_id_col; bot.inbox.handler does it by hand): the
    # webhook computes a dialogue step outside its write transaction and writes it back only if unchanged.
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}


class ProcessedMessage(Base):
    """Dedupe: one row per WeChat message/event key; the unique key makes retries act once."""

    __tablename__ = "processed_messages"
    __table_args__ = (UniqueConstraint("hub_id", "dedupe_key", name="uq_processed_hub_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    openid: Mapped[str] = mapped_column(String(128))
    msg_type: Mapped[str] = mapped_column(String(40))
    reply: Mapped[str | None] = mapped_column(Sealed)  # encrypted at rest (storage.sealed), like the text
    received_at: Mapped[datetime] = mapped_column(index=True)
    # what the person wrote (text or voice transcript), kept a day (bot.inbox.handover.RECENT_TURNS_KEEP): a
    # hand-over shows staff the last turns before it
    text: Mapped[str | None] = mapped_column(Sealed)


# Outbox rows that reached their end and are never sent again (bot.outbox: sent, skipped, dead, told; not
# undelivered, which staff still have to call about): retention deletes them by age through a partial index, so the
# query must use this text verbatim (bot.worker.retention).
OUTBOX_FINISHED_SQL = "status IN ('sent', 'skipped', 'dead', 'told')"


class OutboxMessage(Base):
    """A message to send later, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      # migration 0020: retention deletes finished rows oldest first (bot.worker.retention)
                      Index("ix_outbox_finished_created", "created_at", sqlite_where=text(OUTBOX_FINISHED_SQL),
                            postgresql_where=text(OUTBOX_FINISHED_SQL)))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # wechat | wecom_robot
    to: Mapped[str] = mapped_column(String(200))  # openid, or a robot key
    kind: Mapped[str] = mapped_column(String(20))  # text | markdown
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON)  # may name a phone, an address: encrypted
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
    # Higher goes first among rows due at once (an emergency alert before a digest); bot.outbox names the levels.
    priority: Mapped[int] = mapped_column(default=0, server_default="0")


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


# -- the service loop (点单 → 派单 → 接单 → 配套 → 评单) ---------------------------------------------


class Team(Base):
    """A standing volunteer team of a hub (repair, haircut, medical...) and the services it covers."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("hub_id", "code", name="uq_teams_hub_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    services: Mapped[list[Any]] = mapped_column(default=list)  # service codes
    robot_key: Mapped[str | None] = mapped_column(String(200))  # WeCom group robot key
    leader_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", use_alter=True))
    emergency: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class Volunteer(Base):
    """A person who volunteers. Not hub-owned: hours and star level follow the person across hubs."""

    __tablename__ = "volunteers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(Sealed)  # encrypted at rest (storage.sealed)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # storage.sealed.phone_lookup finds it
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[datetime | None]
    id_number_enc: Mapped[str | None] = mapped_column(Text)  # encrypted at rest, never shown whole
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # finds the same person
    skills: Mapped[list[Any]] = mapped_column(default=list)  # service codes
    availability: Mapped[list[Any]] = mapped_column(default=list)  # [{"weekday": 0-6, "period": "am|pm|eve"}]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    guardian: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON)  # a minor's: name, phone (encrypted)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))  # 110***********1234, safe to show
    consented_at: Mapped[datetime | None]  # agreed to the volunteer rules (a minor's guardian too)
    created_at: Mapped[datetime]


class Membership(Base):
    """A volunteer's standing in one hub: status, team, open-task limit."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("hub_id", "volunteer_id", name="uq_memberships_hub_volunteer"),
                      # migration 0020: the volunteers list pages by key, applications first (bot.admin.paging)
                      Index("ix_memberships_hub_status_volunteer", "hub_id", "status", "volunteer_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # their openid in this hub
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # applied|approved|rejected|active|suspended|dismissed
    status_reason: Mapped[str | None] = mapped_column(Text)
    max_open_tasks: Mapped[int] = mapped_column(default=3)
    source: Mapped[str | None] = mapped_column(String(100))  # how they applied: chat, a QR scene, staff
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MembershipEvent(Base):
    """Every status change of a membership, who made it and why (dismissal records are kept)."""

    __tablename__ = "membership_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))  # one of the regulation's dismissal reasons
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class TeamMember(Base):
    """A volunteer in a team of the hub; a volunteer may belong to several teams."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "volunteer_id", name="uq_team_members_team_volunteer"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    joined_at: Mapped[datetime]


class Order(Base):
    """One request for help and its whole lifecycle."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_hub_state", "hub_id", "state"),
        # migration 0011: dispatch counts a volunteer's open and recent tasks; 我的任务
        Index("ix_orders_volunteer_state_accepted", "volunteer_id", "state", "accepted_at"),
        # 我的订单: a resident's open orders, whatever their history
        Index("ix_orders_orderer_state", "ordered_by_user_id", "state"),
        Index("ix_orders_resident_state", "resident_user_id", "state"),
        # the sweep reads only what is due (bot.serviceloop.orders.due_orders_query), by state and due time
        Index("ix_orders_hub_state_dispatched", "hub_id", "state", "dispatched_at"),
        Index("ix_orders_hub_state_completed", "hub_id", "state", "completed_at"),
        Index("ix_orders_hub_state_starts", "hub_id", "state", "start_at"),  # also appointment reminders
        Index("ix_orders_hub_state_ends", "hub_id", "state", "end_at"),
        # a hub's orders of a month (the monthly report, the ledger's summary), not its whole history
        Index("ix_orders_hub_created", "hub_id", "created_at"),
        Index("ix_orders_hub_phone_hash", "hub_id", "phone_hash"),  # migration 0017: the board's search by phone
        # migration 0016: the 单号 people see and type, random and unique per hub (storage/orderrefs.py)
        Index("uq_orders_hub_ref", "hub_id", "ref", unique=True),
        # migration 0020: the orders board pages by key, newest first (bot.admin.paging)
        Index("ix_orders_hub_id", "hub_id", "id"),
        # migration 0020: the few orders waiting for review (待核查), counted and listed without the history; a
        # query finds them with `Order.flagged == true()` (PostgreSQL reads that as the predicate)
        Index("ix_orders_hub_flagged", "hub_id", sqlite_where=text("flagged = 1"), postgresql_where=text("flagged")),
        # the dispatch queue (ix_orders_dispatch_queue, urgent first, then oldest first) is declared after the class
        # migration 0023: a community's residents for its 群发 (bot.community.broadcasts), by the plain community
        Index("ix_orders_hub_community", "hub_id", "community"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    ref: Mapped[int] = mapped_column(Integer)  # the 单号 in chat and the console: set on flush (storage.orderrefs)
    state: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    resident_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # who is served
    ordered_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who asked (代点单)
    resident_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(Sealed)  # encrypted at rest, like the address (storage.sealed)
    phone_hash: Mapped[str | None] = mapped_column(String(64))  # storage.sealed.phone_lookup finds it
    address: Mapped[str | None] = mapped_column(Sealed)
    # the address's 小区 (intents.address.community_of), in plaintext so that a community's 群发 finds its residents
    # in SQL: an estate or street name only, no door; kept on every ORM write of the address (migration 0023)
    community: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    time_kind: Mapped[str] = mapped_column(String(8))  # point|span|asap
    # 尽快 (time_kind asap), kept on every ORM write of time_kind: the worker dispatches these first (migration 0023)
    urgent: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    dispatch_round: Mapped[int] = mapped_column(default=0)
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    needs_support: Mapped[bool] = mapped_column(default=False)
    support_note: Mapped[str | None] = mapped_column(Text)
    hours: Mapped[float | None]
    completed_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(40))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(default=False)
    paid_with_hours: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


@event.listens_for(Session, "before_flush")
def _new_orders_get_refs(session: Session, _context: Any, _instances: Any) -> None:
    """Every new order gets its ref on its way to the database, however it was created."""
    new = [obj for obj in session.new if isinstance(obj, Order) and obj.ref is None]
    if new:
        orderrefs.assign_new(session.connection(), Order.__table__, new)  # type: ignore[arg-type]


# the lookup hash next to each phone that is searched, kept on every ORM write (storage.sealed)
for _model in (User, Volunteer, Order):
    hash_phone_of(_model)


# The dispatch queue, in the order the worker claims it (bot.serviceloop.orders.claim_waiting): urgent first, then
# oldest first; partial (migrations 0021, 0023), so a few rows however long the history.
Index("ix_orders_dispatch_queue", Order.urgent.desc(), Order.id, sqlite_where=text(DISPATCH_WAITING_SQL),
      postgresql_where=text(DISPATCH_WAITING_SQL))


@event.listens_for(Order, "before_insert")
def _new_order_community(_mapper: Any, _conn: Any, order: Order) -> None:
    """An order's community follows its address and its urgency its time_kind, however the ORM wrote them (Core
    writes set them themselves)."""
    order.community = community_of(order.address)
    order.urgent = order.time_kind == "asap"


@event.listens_for(Order, "before_update")
def _order_community(_mapper: Any, _conn: Any, order: Order) -> None:
    state = inspect(order)
    if state.attrs.address.history.has_changes():
        order.community = community_of(order.address)
    if state.attrs.time_kind.history.has_changes():
        order.urgent = order.time_kind == "asap"


class OrderEvent(Base):
    """Order history: every state change, who, when and why."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class OrderOffer(Base):
    """Who was offered an order in which dispatch round (fair ranking counts these)."""

    __tablename__ = "order_offers"
    __table_args__ = (UniqueConstraint("order_id", "volunteer_id", name="uq_order_offers_order_volunteer"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    round: Mapped[int]
    outcome: Mapped[str | None] = mapped_column(String(16))  # accepted|lost|returned
    at: Mapped[datetime]


class ServiceRecord(Base):
    """The ledger (台账): one row per completed service."""

    __tablename__ = "service_records"
    # migration 0011: a hub's ledger for a month (exports, the monthly report, honours)
    __table_args__ = (Index("ix_service_records_hub_date", "hub_id", "service_date"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(64))
    resident_label: Mapped[str] = mapped_column(String(100))  # masked
    content: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    service_date: Mapped[datetime] = mapped_column(index=True)
    hours: Mapped[float]
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    verified_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class PointsEntry(Base):
    """Append-only points ledger per hub (earn, redeem, adjust, reverse); the balance is the sum."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_hub_volunteer", "hub_id", "volunteer_id"),
                      # migration 0011: a hub's points of a month (the ledger, the monthly report, honours)
                      Index("ix_points_hub_at", "hub_id", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    kind: Mapped[str] = mapped_column(String(12))  # earn|redeem|adjust|reverse|expire
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)  # where redeemed
    actor: Mapped[str | None] = mapped_column(String(128))  # who made an adjustment or redemption
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    at: Mapped[datetime]


# -- merchants, redemption, time bank ------------------------------------------------------------


class Merchant(Base):
    """A partner unit (共建单位): may offer services as volunteers and accept points redemptions."""

    __tablename__ = "merchants"
    __table_args__ = (UniqueConstraint("hub_id", "code", name="uq_merchants_hub_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    service_point: Mapped[bool] = mapped_column(default=False)  # 便民服务点
    services: Mapped[list[Any]] = mapped_column(default=list)  # service codes they provide as volunteers
    accepts_redemptions: Mapped[bool] = mapped_column(default=False)
    # migration 0018: the counter shows the merchant's redemption QR code (scene merchant_redeem_<id>), so a
    # volunteer may redeem by scanning it; off: only a code the counter staff take (bot.people.merchants)
    shows_qr: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    staff_openid: Mapped[str | None] = mapped_column(String(128), index=True)  # who redeems at the counter
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class RedemptionCode(Base):
    """A short-lived code a volunteer shows at a merchant; the merchant enters it to take points."""

    __tablename__ = "redemption_codes"
    __table_args__ = (UniqueConstraint("hub_id", "code", name="uq_redemption_codes_hub_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    points_entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))


class TimeBankRecipient(Base):
    """Someone the hub names to receive donated hours (e.g. an elder living alone)."""

    __tablename__ = "time_bank_recipients"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class TimeBankEntry(Base):
    """Append-only time bank (志愿服务银行) per hub, in minutes; a balance is the sum, hours never expire.

    An entry belongs to a volunteer's account or to a named recipient's account (exactly one)."""

    __tablename__ = "time_bank_entries"
    __table_args__ = (Index("ix_time_bank_hub_volunteer", "hub_id", "volunteer_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("time_bank_recipients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # deposit|withdraw|refund|donate|receive|adjust
    minutes: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    beneficiary: Mapped[str | None] = mapped_column(String(100))  # whom a withdrawal served (self, a parent)
    actor: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    at: Mapped[datetime]


# -- the hand-over inbox (a resident handed over to staff: "人工") -------------------------------------------------


class Handover(Base):
    """A resident handed over to staff, open until staff hand back to the bot (or the resident goes back to it).

    waiting_since is the oldest resident message staff have not answered yet (None: nothing waits); the inbox
    lists open hand-overs by it, longest waiting first. At most one open hand-over per resident (the partial
    unique index), so two messages racing to open one end with a single row."""

    __tablename__ = "handovers"
    __table_args__ = (
        Index("ix_handovers_open_user", "user_id", unique=True, sqlite_where=text("closed_at IS NULL"),
              postgresql_where=text("closed_at IS NULL")),
        Index("ix_handovers_hub_closed_waiting", "hub_id", "closed_at", "waiting_since"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]
    waiting_since: Mapped[datetime | None]
    first_answer_at: Mapped[datetime | None]  # staff's first reply: the answer time is this minus opened_at
    last_message_at: Mapped[datetime]
    note_sent_at: Mapped[datetime | None]  # the one "nobody has answered yet" note to the resident
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(128))  # web:<username>, or "resident"


class ConversationMessage(Base):
    """One text of a handed-over conversation, either side (and the last turns before the hand-over), kept for
    the hub's hand-over retention (HubSettings.handover_keep_days)."""

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_conversation_messages_user_transcript", "user_id", "id"),
                      # migration 0020: outbox retention keeps a row a kept message points at (bot.worker.retention)
                      Index("ix_conversation_messages_outbox_id", "outbox_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in (the resident) | out (the bot or staff)
    author: Mapped[str] = mapped_column(String(16))  # resident | bot | staff
    staff_name: Mapped[str | None] = mapped_column(String(100))  # who of the staff wrote it
    text: Mapped[str] = mapped_column(Sealed)  # encrypted at rest (storage.sealed)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))  # a reply's delivery
    at: Mapped[datetime] = mapped_column(index=True)


# -- 订阅通知 and the kind of official account ------------------------------------------------------------------


class NoticeOptIn(Base):
    """A person's 订阅通知 choice for one template, from WeChat's subscribe_msg_* events: accepted (`left`: one-time
    notices that may still be sent, one per acceptance) or refused. `event_time` is the CreateTime of the last event
    applied, so WeChat's retry of the same event changes nothing."""

    __tablename__ = "notice_optins"
    __table_args__ = (UniqueConstraint("hub_id", "openid", "template_id", name="uq_notice_optins_hub_openid_template"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    openid: Mapped[str] = mapped_column(String(128))
    template_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(8))  # accept | reject
    left: Mapped[int] = mapped_column(default=0)
    event_time: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class SubscribeTemplate(Base):
    """A hub's 订阅通知 template for one kind of notice (bot.outbox_rules.Notice, or "*"): its id, which field
    carries which slot, and whether it is long-term (长期订阅, public-service categories) or one-time."""

    __tablename__ = "subscribe_templates"
    __table_args__ = (UniqueConstraint("hub_id", "notice", name="uq_subscribe_templates_hub_notice"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    notice: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[str] = mapped_column(String(128))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    long_term: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]


class WeChatAccount(Base):
    """Which kind of official account a hub runs on: `service` (认证服务号: templates, 订阅通知, 群发 4 a month to
    each follower) or `subscription` (公众号/订阅号: no templates nor 订阅通知, one 群发 a day). No row: service."""

    __tablename__ = "wechat_accounts"
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]
