"""Typed SQLAlchemy models: the whole schema in one place.

Every timestamp is timezone-aware UTC; local time exists only in schedule math and rendering.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime

# Stable constraint names, so batch migrations on SQLite can find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Counselor(Base):
    __tablename__ = "counselors"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_status_next_checkin_at", "status", "next_checkin_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable so that a deleted participant can leave an anonymous tombstone.
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    first_name: Mapped[str | None] = mapped_column(String(200))
    counselor_id: Mapped[int | None] = mapped_column(ForeignKey("counselors.id"))
    # enrolling -> active <-> paused | unreachable; active or paused -> discharged;
    # any of them -> deleted (/deleteme: the anonymous tombstone)
    status: Mapped[str] = mapped_column(String(20))
    # Where enrollment stands (consent, timezone, time); None once active.
    enroll_step: Mapped[str | None] = mapped_column(String(20))
    timezone: Mapped[str | None] = mapped_column(String(64))
    checkin_time: Mapped[str | None] = mapped_column(String(5))  # local "HH:MM"
    next_checkin_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consented_at: Mapped[datetime | None]
    recovery_start: Mapped[date | None] = mapped_column(Date)
    checkins_started: Mapped[int] = mapped_column(Integer, default=0)
    # The weekly (fuller) check-in's local weekday, 0 = Monday.
    weekly_day: Mapped[int | None] = mapped_column(SmallInteger)
    last_coping_key: Mapped[str | None] = mapped_column(String(40))
    last_milestone: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    # Which content file they read (messages/content/<language>.toml); English is the fallback.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    # Quiet hours, local "HH:MM" (may cross midnight): no scheduled message starts inside them.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    # While paused, check-ins stop until this instant (the tick resumes them).
    paused_until: Mapped[datetime | None]
    discharged_at: Mapped[datetime | None]
    # /deleteme asks twice: the step its buttons stand at (first | final) and a one-time nonce
    # the buttons carry, so a stale, forged or repeated press does nothing.
    erasure_step: Mapped[str | None] = mapped_column(String(10))
    erasure_nonce: Mapped[str | None] = mapped_column(String(24))
    erasure_asked_at: Mapped[datetime | None]
    # Set when the participant deleted their data: the row stays as an anonymous tombstone
    # (status "deleted", no name, no Telegram ids) so alerts and the audit log still add up.
    deleted_at: Mapped[datetime | None]

    counselor: Mapped[Counselor | None] = relationship(lazy="raise")


class Invite(Base):
    """A single-use deep-link token; only its hash is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # counselor | participant | contact
    label: Mapped[str | None] = mapped_column(String(200))
    created_by_counselor_id: Mapped[int | None] = mapped_column(ForeignKey("counselors.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        # One check-in per participant and slot, however many ticks or workers see it.
        UniqueConstraint("participant_id", "slot_at"),
        Index("ix_checkins_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # daily | on_demand
    slot_at: Mapped[datetime]
    # pending -> sent -> completed | missed | skipped
    status: Mapped[str] = mapped_column(String(20))
    question_keys: Mapped[list[str]]
    current_index: Mapped[int] = mapped_column(Integer, default=0)
    question_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Immediate responses already given in this check-in (crisis, lapse, coping): never twice.
    responses: Mapped[list[str]] = mapped_column(default=list)
    risk_level: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("checkin_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10))  # button | typed
    answered_at: Mapped[datetime]


class Alert(Base):
    """A risk signal that a person must see. Delivery to people goes through the outbox."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_participant_id_status", "participant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    counselor_id: Mapped[int | None] = mapped_column(ForeignKey("counselors.id"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    level: Mapped[str] = mapped_column(String(10))  # watch | high | crisis
    # checkin | lapse | craving | screen | sos | missed | unreachable | meeting_skips | meeting_gap
    cause: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[str]]
    # open -> acknowledged -> resolved; only an open alert escalates. An alert still open or
    # acknowledged when its participant deletes their data is closed.
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    # How many signals this alert stands for (a new one while it is open updates it).
    signals: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None]
    last_notified_at: Mapped[datetime | None]
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("counselors.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("counselors.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)


class AlertNotification(Base):
    """Every message in an alert's chain: who was told, when, and why."""

    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(40))  # e.g. "counselor:3"
    chat_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(20))  # new | update | crisis | escalation
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class Consent(Base):
    """A participant's consent to tell a support contact when they could use a check-in.
    Holds what 42 CFR Part 2 asks of a consent: who, to whom, what, why, until when, revocable."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_participant_id_status", "participant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # support_contact
    # offered (link made) -> accepted | declined; then revoked or expired
    status: Mapped[str] = mapped_column(String(20))
    recipient_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    shares: Mapped[list[str]]  # what may be disclosed, e.g. ["first_name", "check_in_request"]
    levels: Mapped[list[str]]  # alert levels that are disclosed, e.g. ["high", "crisis"]
    purpose: Mapped[str] = mapped_column(String(200))
    text_version: Mapped[str] = mapped_column(String(40))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    given_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(20))  # participant | contact


class Disclosure(Base):
    """Every message to a support contact: to whom, when, under which consent, for which alert."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    # None once the participant deleted their data: the disclosure stays, its recipient goes.
    recipient_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    at: Mapped[datetime]


class Note(Base):
    """Free text a participant wrote that was not an answer: kept, never dropped."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class SafetyAsk(Base):
    """"Are you safe right now?", asked when the screen was unsure whether a message spoke of a
    crisis. The words are the note's: erasing the note erases the question with them."""

    __tablename__ = "safety_asks"
    __table_args__ = (Index("ix_safety_asks_open", "participant_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"))
    why: Mapped[str] = mapped_column(String(300))  # e.g. "model score 0.41"
    created_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(10))  # safe | help | counselor | sos
    answered_at: Mapped[datetime | None]
    unanswered_alert_at: Mapped[datetime | None]  # the watch alert for no answer


class Meeting(Base):
    """A meeting on the program's list, imported from a Meeting Guide feed (upserted by slug).
    Times are local wall-clock times in the meeting's own zone."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Bit d is set when it meets on weekday d (0 = Monday), so one AND filters by day.
    day_mask: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    types: Mapped[list[str]]  # Meeting Guide codes, e.g. ["O", "D", "TC"]
    location: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    conference_url: Mapped[str | None] = mapped_column(String(500))
    conference_phone: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    feed_updated: Mapped[str | None] = mapped_column(String(40))  # the feed's own `updated`
    # in_person is false while the room is temporarily closed (TC); online: a link or phone.
    in_person: Mapped[bool] = mapped_column(Boolean)
    online: Mapped[bool] = mapped_column(Boolean)
    imported_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ParticipantMeeting(Base):
    """A meeting on a participant's own list: picked from the program's list (a copy of it on
    one of its days, brought up to date when an import changes it) or typed in. Its reminder
    and follow-up are driven by next_due_at, scanned by the meeting tick."""

    __tablename__ = "participant_meetings"
    __table_args__ = (
        Index("ix_participant_meetings_status_next_due_at", "status", "next_due_at"),
        Index("ix_participant_meetings_participant_id_status", "participant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    # draft (being typed in) -> active -> removed; removed ones keep their attendance history
    status: Mapped[str] = mapped_column(String(10))
    draft_step: Mapped[str | None] = mapped_column(String(10))  # name | day | time | place
    name: Mapped[str | None] = mapped_column(String(200))
    weekday: Mapped[int | None] = mapped_column(SmallInteger)  # 0 = Monday, in `timezone`
    start_time: Mapped[str | None] = mapped_column(String(5))
    end_time: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(60))
    lead_minutes: Mapped[int] = mapped_column(Integer)
    # The occurrence being tracked, and its next step: remind -> follow_up -> the next one.
    next_step: Mapped[str | None] = mapped_column(String(10))
    next_due_at: Mapped[datetime | None]
    occurrence_at: Mapped[datetime | None]
    occurrence_ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class MeetingAttendance(Base):
    """One occurrence a participant was asked about, and their answer (yes, no, skipped)."""

    __tablename__ = "attendance"
    __table_args__ = (
        # Asked once per occurrence, however many ticks or workers see it.
        UniqueConstraint("participant_meeting_id", "occurrence_at"),
        Index("ix_attendance_participant_id_occurrence_at", "participant_id", "occurrence_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_meeting_id: Mapped[int] = mapped_column(
        ForeignKey("participant_meetings.id", ondelete="CASCADE")
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    occurrence_at: Mapped[datetime]
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(10))  # yes | no | skipped
    source: Mapped[str | None] = mapped_column(String(10))  # button | typed
    answered_at: Mapped[datetime | None]


class RecoveryPlan(Base):
    """A participant's relapse-prevention plan: people they trust, first steps, their reasons.
    Shown to them at hard moments; to their counselor only if they chose to share it."""

    __tablename__ = "recovery_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), unique=True
    )
    # [{"name": ..., "contact": ...}]: shown to the participant, never contacted by the bot.
    people: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    first_steps: Mapped[list[str]] = mapped_column(default=list)
    reasons: Mapped[str | None] = mapped_column(Text)
    # None until asked (once, at the end of the first set-up); then their answer.
    share_with_counselor: Mapped[bool | None] = mapped_column(Boolean)
    share_answered_at: Mapped[datetime | None]
    # When a hard moment last offered to make a plan (at most once a week).
    offered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Medication(Base):
    """A medication a participant takes, and when its next reminder is due (None: no reminder).
    Daily medications have local dose times; long-acting injections the next injection date."""

    __tablename__ = "medications"
    __table_args__ = (Index("ix_medications_status_next_due_at", "status", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))  # the content's medication key, or "other"
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # daily | injection
    dose_times: Mapped[list[str]] = mapped_column(default=list)  # local "HH:MM"
    next_injection_on: Mapped[date | None] = mapped_column(Date)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20))  # active | stopped
    next_due_at: Mapped[datetime | None]
    added_by: Mapped[str] = mapped_column(String(40))  # participant | counselor:<id>
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class MedicationDose(Base):
    """One reminded dose and the participant's one-tap answer (taken, not yet, skipped)."""

    __tablename__ = "medication_doses"
    __table_args__ = (
        # One dose per medication and time, however many ticks or workers see it.
        UniqueConstraint("medication_id", "due_at"),
        Index("ix_medication_doses_participant_id_due_at", "participant_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    medication_id: Mapped[int] = mapped_column(ForeignKey("medications.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(20))  # taken | not_yet | skipped
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Conversation(Base):
    """Where a participant's guided set-up (/plan, /medication) stands, so typed answers go to
    the right step and a restart continues mid-set-up. One at a time per participant."""

    __tablename__ = "conversations"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(20))  # plan | medication
    step: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class Awaiting(Base):
    """What a person's next typed message answers: the one question asked of them last.

    Whoever asks writes it (a handler replying, or the dispatcher when it actually sends a
    scheduled question); an answer, any command and the next question replace or clear it.
    The flows keep their own data in their own tables; this is only the routing."""

    __tablename__ = "awaiting"

    # Keyed by Telegram user: participants, counselors, contacts and strangers alike.
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # enrollment | checkin | settings | setup | meeting | attendance | dose | contact_offer |
    # resolution | discharge | erasure | safety
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int | None] = mapped_column(Integer)  # the check-in, alert, meeting... asked
    step: Mapped[str | None] = mapped_column(String(20))  # the flow's own step, when it has one
    asked_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_priority_due", "status", "priority", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Makes re-running a tick or a handler harmless: the same message is written once.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    priority: Mapped[int] = mapped_column(SmallInteger)  # 0 crisis ... 3 reminders
    # pending -> sending -> sent | failed | skipped
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The participant it is sent to (a 403 marks them unreachable).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    # The participant a message to someone else is about (an alert to a counselor, a notice to
    # a support contact), so /deleteme finds every message that names them.
    about_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    # The question this message asks (an "awaiting" kind and its id), recorded when it is sent:
    # a scheduled question is asked when it arrives, not when it was queued.
    asks: Mapped[str | None] = mapped_column(String(20))
    asks_ref: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class InboundUpdate(Base):
    """Each Telegram update, stored before it is handled, keyed by Telegram's update_id."""

    __tablename__ = "inbound_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    # When its effect (an answer, a note) was committed: a replay after a failed send or a
    # crash, before processed_at, must not apply it again (to the question after it).
    applied_at: Mapped[datetime | None]


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(60))  # e.g. "counselor:3", "participant:7", "cli"
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(60))
    details: Mapped[dict[str, Any] | None]


class BotState(Base):
    """Small key/value facts about the running bot (e.g. its username for deep links)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))


class DashboardLoginToken(Base):
    """A one-time dashboard login link sent by /dashboard: bound to one counselor, short-lived,
    single use, and stored only as a hash."""

    __tablename__ = "dashboard_login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselors.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DashboardSession(Base):
    """A counselor's signed-in dashboard session, kept server-side; the cookie holds the only
    copy of its id, the table a hash. It ends at logout, after idling, or at its absolute end."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counselor_id: Mapped[int] = mapped_column(
        ForeignKey("counselors.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute end, whatever the activity
    ended_at: Mapped[datetime | None]


class PaidBroadcastDay(Base):
    """Paid broadcast messages of one UTC day, against PAID_BROADCAST_DAILY_STARS. Reserved
    before they are sent and given back when they are not, so the cap is never passed, even by
    several workers at once."""

    __tablename__ = "paid_broadcast_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
