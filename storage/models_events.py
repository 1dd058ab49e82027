"""Models of the community: street events and subscriptions, broadcasts, call-outs, the scheduler's lock and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId, ProcessedMessage


class Event(Base):
    """A 雷锋一条街 street event (or another hub activity): generated from the rule or added by staff."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("hub_id", "rule_key", name="uq_events_hub_rule_key"),
                      Index("ix_events_hub_starts", "hub_id", "starts_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200))
    teams: Mapped[list[Any]] = mapped_column(default=list)  # team codes taking part
    services: Mapped[list[Any]] = mapped_column(default=list)  # service codes offered
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled | cancelled
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(12))  # rule | staff
    # "rule:2026-12-12" for a generated event: regenerating never duplicates it, nor revives a cancelled one
    rule_key: Mapped[str | None] = mapped_column(String(40))
    # bumped when the event moves, so reminders for the new time go out again (their keys carry it)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventSubscription(Base):
    """A person's opt-in (or opt-out) for event reminders in one hub; no row means not subscribed."""

    __tablename__ = "event_subscriptions"
    __table_args__ = (UniqueConstraint("hub_id", "user_id", name="uq_event_subscriptions_hub_user"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subscribed: Mapped[bool]
    source: Mapped[str] = mapped_column(String(100))  # chat | qr:<scene> | cli
    updated_at: Mapped[datetime]


class JobRun(Base):
    """A scheduled run that has done its work (e.g. "event 12 rev 1 day-before reminders"), so scans skip it.

    Each message also carries its own outbox idempotency key; this row only saves re-checking them.
    """

    __tablename__ = "job_runs"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hubs.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class Broadcast(Base):
    """An announcement from staff to a segment (all subscribers, a team, a community)."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    segment: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # enqueuing | queued
    total: Mapped[int] = mapped_column(default=0)
    # how it goes: "mass" (群发 through a draft, to followers), "direct" (a message each: a team, or one person)
    channel: Mapped[str | None] = mapped_column(String(12))
    media_id: Mapped[str | None] = mapped_column(String(200))  # the 群发's draft, made once
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]


class BroadcastRecipient(Base):
    """One person of a broadcast: queued (with its outbox row) or skipped (and why)."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (UniqueConstraint("broadcast_id", "user_id", name="uq_broadcast_recipients_broadcast_user"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12))  # queued | skipped
    reason: Mapped[str | None] = mapped_column(String(40))  # unfollowed | opted_out | ...
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)


class Callout(Base):
    """An emergency call-out (一呼百应) of a team: message, meeting point, who answered."""

    __tablename__ = "callouts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    message: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(8))  # open | closed
    bonus_points: Mapped[int] = mapped_column(default=0)
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class CalloutResponse(Base):
    """Every team member called, and their answer (None until they answer)."""

    __tablename__ = "callout_responses"
    __table_args__ = (UniqueConstraint("callout_id", "volunteer_id", name="uq_callout_responses_callout_volunteer"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    callout_id: Mapped[int] = mapped_column(ForeignKey("callouts.id"), index=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str | None] = mapped_column(String(20))
    answered_at: Mapped[datetime | None]


class TeamChannel(Base):
    """Where a team's group chat lives besides its robot: a WeCom app group chat (appchat) id."""

    __tablename__ = "team_channels"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    appchat_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class SchedulerLock(Base):
    """Who runs the scheduler: one row per lock name, held while its owner renews it before expires_at."""

    __tablename__ = "scheduler_locks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class RobotQuota(Base):
    """The last send times of a WeCom group robot (a sliding one-minute window shared by processes)."""

    __tablename__ = "robot_quota"
    robot_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent: Mapped[list[Any]] = mapped_column(default=list)


# APScheduler 3's SQLAlchemyJobStore table, declared here with its exact shape so the migration creates
# it (and autogenerate does not offer to drop it); the job store's own create_all then finds it in place.
apscheduler_jobs = Table(
    "apscheduler_jobs", Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class Incident(Base):
    """An emergency a resident reported in chat (a fall, fire, gas, crime, self-harm talk, flooding): shown to
    staff on the console until someone marks it handled."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_hub_status", "hub_id", "status", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # medical | fire | gas | crime | self_harm | water
    # the dialogue's sub-kind (fraud, wound, bite, lift ...; bot.community.incidents.SUB_WORDS), migration 0025
    sub: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)  # what the resident wrote, as written
    cue: Mapped[str | None] = mapped_column(String(200))  # the words that were recognised
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | handled
    created_at: Mapped[datetime]
    handled_by: Mapped[str | None] = mapped_column(String(80))
    handled_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


# -- delivery: what WeChat allows each person, and the hub's templates --------------------------------------------

# The sender reads a person's recent messages and events (their customer-service quota) from processed_messages.
Index("ix_processed_messages_hub_openid_at", ProcessedMessage.hub_id, ProcessedMessage.openid,
      ProcessedMessage.received_at)


class CustomerServiceQuota(Base):
    """The customer-service messages sent to one person lately (their times), shared by every worker, so two never
    spend the same slot of the person's quota; `spent_at`: WeChat refused (45015/45047) then, so no action of the
    person before that still counts."""

    __tablename__ = "customer_service_quota"
    __table_args__ = (UniqueConstraint("hub_id", "openid", name="uq_customer_service_quota_hub_openid"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    openid: Mapped[str] = mapped_column(String(128))
    sent: Mapped[list[Any]] = mapped_column(default=list)  # ISO times of the last 48 hours' sends
    spent_at: Mapped[datetime | None]


class NoticeTemplate(Base):
    """A hub's category template (类目模板) for one kind of notice (bot.outbox_rules.Notice, or "*" for any service
    notice): its id and which of its fields carries which slot ({"subject": "thing1", "time": "time3", ...})."""

    __tablename__ = "notice_templates"
    __table_args__ = (UniqueConstraint("hub_id", "notice", name="uq_notice_templates_hub_notice"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    notice: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[str] = mapped_column(String(128))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class MassSendCount(Base):
    """群发 a follower received in a calendar month (Beijing time): WeChat allows a 服务号 four."""

    __tablename__ = "mass_send_counts"
    __table_args__ = (UniqueConstraint("hub_id", "user_id", "month", name="uq_mass_send_counts_hub_user_month"),
                      # migration 0024: the month's counts of a hub in one range (broadcasts.mass_left)
                      Index("ix_mass_send_counts_hub_month", "hub_id", "month"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-11"
    count: Mapped[int] = mapped_column(default=0)


class WeChatMedia(Base):
    """A permanent material uploaded once per hub (the cover image of 群发 articles)."""

    __tablename__ = "wechat_media"
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    media_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class WeChatTag(Base):
    """A WeChat user tag the bot keeps for one 群发 segment of a hub (a team, a community, every follower who has
    not opted out): a 订阅号 can 群发 only to everyone or to a tag. `tag_id` is WeChat's, None until created."""

    __tablename__ = "wechat_tags"
    __table_args__ = (UniqueConstraint("hub_id", "segment", name="uq_wechat_tags_hub_segment"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    segment: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(64))
    tag_id: Mapped[int | None]
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]  # its last 群发
