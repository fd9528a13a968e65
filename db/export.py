"""The /mydata document: a participant's loaded records (db/records.py) as plain JSON data. Pure.

Everything stored about them is in it, counselors' alert resolution notes included (see the
README's "Privacy and data" for why), with two exceptions: the Telegram id of their support
contact (someone else's identifier; the contact's name is there), and copies of the messages
the bot sent them, which are already in their chat. Times are UTC, ISO 8601.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from db.records import Delivery, ParticipantRecords

FORMAT = "aftercare-mydata"
VERSION = 1
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class QuestionText:
    """How a check-in question and its answers read, so the file explains itself."""

    prompt: str
    answers: Mapping[str, str] = field(default_factory=dict)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _delivery(deliveries: Mapping[int, Delivery], outbox_id: int | None) -> dict[str, Any]:
    found = deliveries.get(outbox_id) if outbox_id is not None else None
    return {
        "delivery": found.status if found else None,
        "delivered_at": _time(found.sent_at) if found else None,
    }


def _person(records: ParticipantRecords, who: str | None) -> dict[str, Any]:
    """Who did something, in the participant's terms: an audit actor like "counselor:3"."""
    kind, _, number = (who or "").partition(":")
    if kind == "participant":
        return {"role": "you", "name": None}
    if kind == "counselor" and number.isdigit():
        counselor = records.counselors.get(int(number))
        return {"role": "counselor", "name": counselor.name if counselor else None}
    roles = {"contact": "support_contact", "bot": "bot", "cli": "operator"}
    return {"role": roles.get(kind, "other"), "name": None}


def _counselor_name(records: ParticipantRecords, counselor_id: int | None) -> str | None:
    counselor = records.counselors.get(counselor_id) if counselor_id is not None else None
    return counselor.name if counselor else None


def _profile(records: ParticipantRecords) -> dict[str, Any]:
    p = records.participant
    counselor = records.counselors.get(p.counselor_id) if p.counselor_id is not None else None
    quiet = (
        {"start": p.quiet_start, "end": p.quiet_end}
        if p.quiet_start is not None and p.quiet_end is not None
        else None
    )
    return {
        "number": p.id,
        "first_name": p.first_name,
        "telegram_user_id": p.telegram_user_id,
        "telegram_chat_id": p.chat_id,
        "status": p.status,
        "enrollment_step": p.enroll_step,
        "counselor": {"number": counselor.id, "name": counselor.name} if counselor else None,
        "language": p.language,
        "timezone": p.timezone,
        "checkin_time": p.checkin_time,
        "weekly_checkin_day": WEEKDAYS[p.weekly_day] if p.weekly_day is not None else None,
        "quiet_hours": quiet,
        "next_checkin_at": _time(p.next_checkin_at),
        "paused_until": _time(p.paused_until),
        "recovery_start": _day(p.recovery_start),
        "checkins_started": p.checkins_started,
        "last_milestone_days": p.last_milestone,
        "enrolled_at": _time(p.created_at),
        "activated_at": _time(p.activated_at),
        "discharged_at": _time(p.discharged_at),
    }


def _consents(records: ParticipantRecords) -> dict[str, Any]:
    p = records.participant
    enrollment = (
        {"version": p.consent_version, "given_at": _time(p.consented_at)}
        if p.consent_version is not None
        else None
    )
    contacts = [
        {
            "id": c.id,
            "kind": c.kind,
            "status": c.status,
            "contact_name": c.recipient_name,
            "shares": list(c.shares),
            "alert_levels": list(c.levels),
            "purpose": c.purpose,
            "consent_text_version": c.text_version,
            "given_at": _time(c.given_at),
            "accepted_at": _time(c.accepted_at),
            "expires_at": _time(c.expires_at),
            "revoked_at": _time(c.revoked_at),
            "revoked_by": c.revoked_by,
        }
        for c in records.consents
    ]
    return {"enrollment": enrollment, "support_contacts": contacts}


def _checkins(
    records: ParticipantRecords, questions: Mapping[str, QuestionText]
) -> list[dict[str, Any]]:
    by_checkin: dict[int, list[dict[str, Any]]] = {}
    for a in records.answers:
        text = questions.get(a.question_key)
        by_checkin.setdefault(a.checkin_id, []).append(
            {
                "question": a.question_key,
                "question_text": text.prompt if text else None,
                "answer": a.value,
                "answer_text": text.answers.get(a.value) if text else None,
                "how": a.source,
                "answered_at": _time(a.answered_at),
            }
        )
    return [
        {
            "id": c.id,
            "kind": c.kind,
            "scheduled_for": _time(c.slot_at),
            "status": c.status,
            "risk_level": c.risk_level,
            "responses_given": list(c.responses or []),
            "sent_at": _time(c.sent_at),
            "completed_at": _time(c.completed_at),
            "answers": by_checkin.get(c.id, []),
        }
        for c in records.checkins
    ]


def _alerts(records: ParticipantRecords) -> list[dict[str, Any]]:
    chains: dict[int, list[dict[str, Any]]] = {}
    for n in records.notifications:
        to_counselor = n.recipient.startswith("counselor:")
        person = _person(records, n.recipient) if to_counselor else None
        chains.setdefault(n.alert_id, []).append(
            {
                "at": _time(n.created_at),
                "to": "counselor" if to_counselor else "counselor_team_group",
                "counselor": person["name"] if person else None,
                "reason": n.reason,
                **_delivery(records.deliveries, n.outbox_id),
            }
        )
    return [
        {
            "id": a.id,
            "level": a.level,
            "cause": a.cause,
            "reasons": list(a.reasons),
            "status": a.status,
            "checkin_id": a.checkin_id,
            "raised_at": _time(a.created_at),
            "updated_at": _time(a.updated_at),
            "signals": a.signals,
            "escalations": a.escalations,
            "acknowledged_at": _time(a.acknowledged_at),
            "acknowledged_by": _counselor_name(records, a.acknowledged_by),
            "resolved_at": _time(a.resolved_at),
            "resolved_by": _counselor_name(records, a.resolved_by),
            "resolution_note": a.resolution_note,
            "notifications": chains.get(a.id, []),
        }
        for a in records.alerts
    ]


def _meetings(records: ParticipantRecords) -> list[dict[str, Any]]:
    asked: dict[int, list[dict[str, Any]]] = {}
    for a in records.attendance:
        asked.setdefault(a.participant_meeting_id, []).append(
            {
                "occurrence_at": _time(a.occurrence_at),
                "asked_at": _time(a.asked_at),
                "answer": a.answer,
                "how": a.source,
                "answered_at": _time(a.answered_at),
            }
        )
    return [
        {
            "id": m.id,
            "name": m.name,
            "status": m.status,
            "from_program_list": m.meeting_id is not None,
            "weekday": WEEKDAYS[m.weekday] if m.weekday is not None else None,
            "start_time": m.start_time,
            "end_time": m.end_time,
            "timezone": m.timezone,
            "place": m.place,
            "link": m.link,
            "phone": m.phone,
            "reminder_minutes_before": m.lead_minutes,
            "added_at": _time(m.created_at),
            "removed_at": _time(m.removed_at),
            "attendance": asked.get(m.id, []),
        }
        for m in records.meetings
    ]


def _plan(records: ParticipantRecords) -> dict[str, Any] | None:
    plan = records.plan
    if plan is None:
        return None
    return {
        "people": [
            {"name": str(p.get("name", "")), "contact": str(p.get("contact", ""))}
            for p in plan.people or []
        ],
        "first_steps": list(plan.first_steps or []),
        "reasons": plan.reasons,
        "shared_with_counselor": plan.share_with_counselor,
        "created_at": _time(plan.created_at),
        "updated_at": _time(plan.updated_at),
    }


def _medications(records: ParticipantRecords) -> list[dict[str, Any]]:
    doses: dict[int, list[dict[str, Any]]] = {}
    for d in records.doses:
        doses.setdefault(d.medication_id, []).append(
            {"due_at": _time(d.due_at), "answer": d.answer, "answered_at": _time(d.answered_at)}
        )
    return [
        {
            "id": m.id,
            "name": m.name,
            "kind": m.kind,
            "dose_times": list(m.dose_times or []),
            "next_injection_on": _day(m.next_injection_on),
            "reminders": m.reminders,
            "status": m.status,
            "added_by": _person(records, m.added_by),
            "added_at": _time(m.created_at),
            "stopped_at": _time(m.stopped_at),
            "doses": doses.get(m.id, []),
        }
        for m in records.medications
    ]


def _disclosures(records: ParticipantRecords) -> list[dict[str, Any]]:
    consents = {c.id: c for c in records.consents}
    levels = {a.id: a.level for a in records.alerts}
    out = []
    for d in records.disclosures:
        consent = consents.get(d.consent_id)
        out.append(
            {
                "at": _time(d.at),
                "to": consent.recipient_name if consent else None,
                "consent_id": d.consent_id,
                "what": list(consent.shares) if consent else [],
                "alert_id": d.alert_id,
                "alert_level": levels.get(d.alert_id) if d.alert_id is not None else None,
                **_delivery(records.deliveries, d.outbox_id),
            }
        )
    return out


def document(
    records: ParticipantRecords,
    exported_at: datetime,
    questions: Mapping[str, QuestionText] | None = None,
    explanation: str = "",
) -> dict[str, Any]:
    """The whole export, ready for json.dumps."""
    conversation = records.conversation
    setup = (
        {
            "flow": conversation.flow,
            "step": conversation.step,
            "data": dict(conversation.data or {}),
            "updated_at": _time(conversation.updated_at),
        }
        if conversation is not None
        else None
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at.isoformat(),
        "explanation": explanation,
        "profile": _profile(records),
        "consents": _consents(records),
        "checkins": _checkins(records, questions or {}),
        "notes": [
            {
                "id": n.id,
                "text": n.text,
                "written_at": _time(n.created_at),
                "checkin_id": n.checkin_id,
            }
            for n in records.notes
        ],
        "alerts": _alerts(records),
        "meetings": _meetings(records),
        "plan": _plan(records),
        "medications": _medications(records),
        "setup_in_progress": setup,
        "disclosures": _disclosures(records),
        "activity_log": [
            {
                "at": _time(e.at),
                "action": e.action,
                "by": _person(records, e.actor),
                "details": dict(e.details) if e.details else None,
            }
            for e in records.audit
        ],
        "telegram_updates": [
            {
                "update_id": u.update_id,
                "received_at": _time(u.received_at),
                "processed_at": _time(u.processed_at),
                "payload": u.payload,
            }
            for u in records.updates
        ],
    }
