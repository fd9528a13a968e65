"""Typed callback data: every inline button's payload is built and read here, nowhere else.

Telegram allows 64 bytes; encoding refuses anything longer, so a too-long button fails at
build time in our tests rather than as a 400 in front of a participant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class AnswerButton:
    checkin_id: int
    index: int  # position of the question in the check-in
    value: str


@dataclass(frozen=True)
class ConsentButton:
    agree: bool


@dataclass(frozen=True)
class TimezoneButton:
    zone: str


@dataclass(frozen=True)
class TimeButton:
    hhmm: str  # "09:30"


@dataclass(frozen=True)
class CopingButton:
    """ "Another idea": a different coping prompt."""


@dataclass(frozen=True)
class SosButton:
    """ "I need help now"."""


@dataclass(frozen=True)
class AlertButton:
    action: str  # a = acknowledge, r = resolve, h = history
    alert_id: int


@dataclass(frozen=True)
class ContactOfferButton:
    """The participant's choice when asked about a support contact."""

    levels: str  # h = high and crisis, c = crisis only, n = not now


@dataclass(frozen=True)
class ContactAnswerButton:
    """The invited contact's answer."""

    consent_id: int
    accept: bool


@dataclass(frozen=True)
class ContactLanguageButton:
    """The invited contact's choice of language, on the offer."""

    consent_id: int
    locale: str


@dataclass(frozen=True)
class WeekdayButton:
    day: int  # 0 = Monday


@dataclass(frozen=True)
class MeetingMenuButton:
    """/meetings actions: p = pick from the program's list, o = add my own, s = skip the
    place (own meeting), x = cancel adding my own."""

    action: str


@dataclass(frozen=True)
class MeetingFilterButton:
    """A step of filtering the program's list; each choice carries the earlier ones.
    "-" = not chosen yet, "*" = any."""

    day: str  # 0-6 (0 = Monday)
    part: str  # m = morning, a = afternoon, e = evening
    where: str  # p = in person, o = online
    kind: str  # a Meeting Guide type code


@dataclass(frozen=True)
class MeetingPickButton:
    """Add this program meeting, on this weekday (0 = Monday)."""

    meeting_id: int
    day: int


@dataclass(frozen=True)
class MeetingDayButton:
    """The day of a meeting the participant is adding themselves (0 = Monday)."""

    day: int


@dataclass(frozen=True)
class MeetingManageButton:
    """Show one of the participant's meetings, to change its reminder or remove it."""

    meeting_id: int  # a participant meeting


@dataclass(frozen=True)
class MeetingLeadButton:
    meeting_id: int  # a participant meeting
    minutes: int


@dataclass(frozen=True)
class MeetingRemoveButton:
    meeting_id: int  # a participant meeting


@dataclass(frozen=True)
class AttendanceButton:
    """The answer to "did you make it?" for one occurrence."""

    attendance_id: int
    answer: str  # yes | no | skipped


MeetingButton = (
    MeetingMenuButton
    | MeetingFilterButton
    | MeetingPickButton
    | MeetingDayButton
    | MeetingManageButton
    | MeetingLeadButton
    | MeetingRemoveButton
    | AttendanceButton
)


@dataclass(frozen=True)
class PlanButton:
    """A step of /plan. action: go (start), no (not now), dn (done with this part), sk (skip
    it), st (add suggested first step `index`), ep/es/er (change people, steps, reasons),
    sy/sn (share or not, asked at set-up), s1/s0 (start or stop sharing, from the plan)."""

    action: str
    index: int = 0


@dataclass(frozen=True)
class MedicationSetupButton:
    """A step of /medication. action: p (pick medication `value`, or "other" / "none"),
    t (dose time `value`), r (reminder: "y" / "n"), a (add another)."""

    action: str
    value: str = ""


@dataclass(frozen=True)
class MedicationButton:
    """Managing one medication: t (change its time or date), r (reminders on/off), s (stopped)."""

    medication_id: int
    action: str


@dataclass(frozen=True)
class DoseButton:
    """The answer to a dose reminder: t (taken), n (not yet), s (skipped today)."""

    dose_id: int
    answer: str


SETTINGS_ITEMS = ("time", "timezone", "weekly", "quiet", "language")


@dataclass(frozen=True)
class SettingsButton:
    """A /settings choice: which setting to change next."""

    item: str  # one of SETTINGS_ITEMS


@dataclass(frozen=True)
class QuietButton:
    hours: str  # "22:00-07:00", or "off"


@dataclass(frozen=True)
class LanguageButton:
    locale: str  # a content file's name, e.g. "en"


@dataclass(frozen=True)
class DischargeButton:
    """The counselor's confirmation (or not) of /discharge."""

    participant_id: int
    confirm: bool


@dataclass(frozen=True)
class ErasureButton:
    """/deleteme's buttons: a = ask the final question, b = delete now, x = keep my data.
    The nonce is the one stored with the request, so only the newest buttons work."""

    step: str
    nonce: str  # secrets.token_urlsafe: A-Z a-z 0-9 _ -


@dataclass(frozen=True)
class PickButton:
    """A participant chosen from a counselor's list: h = /history, d = /discharge,
    m = /medication."""

    command: str
    participant_id: int


@dataclass(frozen=True)
class SafetyAskButton:
    """An answer to "Are you safe right now?": s = I'm safe, h = I need help now, c = talk to
    my counselor."""

    ask_id: int
    answer: str


CallbackData = (
    SafetyAskButton
    | PickButton
    | AnswerButton
    | ConsentButton
    | TimezoneButton
    | TimeButton
    | CopingButton
    | SosButton
    | WeekdayButton
    | AlertButton
    | ContactOfferButton
    | ContactAnswerButton
    | ContactLanguageButton
    | MeetingButton
    | PlanButton
    | MedicationSetupButton
    | MedicationButton
    | DoseButton
    | SettingsButton
    | QuietButton
    | LanguageButton
    | DischargeButton
    | ErasureButton
)

_ANSWER = re.compile(r"a:(\d{1,12}):(\d{1,2}):([a-z0-9_]{1,16})")
_CONSENT = re.compile(r"c:([yn])")
_ZONE = re.compile(r"tz:([A-Za-z0-9_+\-/]{1,58})")
_TIME = re.compile(r"tm:(\d{2}:\d{2})")
_WEEKDAY = re.compile(r"wd:([0-6])")
_ALERT = re.compile(r"al:([arh]):(\d{1,12})")
_CONTACT_OFFER = re.compile(r"co:([hcn])")
_CONTACT_ANSWER = re.compile(r"ca:(\d{1,12}):([yn])")
_MEETING_MENU = re.compile(r"mm:([posx])")
_MEETING_FILTER = re.compile(r"mf:([0-6*-]):([mae*-]):([po*-]):([A-Z0-9]{1,10}|[*-])")
_MEETING_PICK = re.compile(r"mp:(\d{1,12}):([0-6])")
_MEETING_DAY = re.compile(r"md:([0-6])")
_MEETING_MANAGE = re.compile(r"mo:(\d{1,12})")
_MEETING_LEAD = re.compile(r"ml:(\d{1,12}):(\d{1,4})")
_MEETING_REMOVE = re.compile(r"mr:(\d{1,12})")
_ATTENDANCE = re.compile(r"at:(\d{1,12}):(yes|no|skipped)")
_PLAN = re.compile(r"pl:(go|no|dn|sk|st|ep|es|er|sy|sn|s1|s0)(?::(\d{1,2}))?")
_MEDICATION_SETUP = re.compile(r"ms:([ptra]):([a-z0-9:\-]{0,24})")
_MEDICATION = re.compile(r"rx:(\d{1,12}):([trs])")
_DOSE = re.compile(r"dz:(\d{1,12}):([tns])")
_PICK = re.compile(r"pk:([hdm]):(\d{1,12})")
_SETTINGS = re.compile(r"st:(" + "|".join(SETTINGS_ITEMS) + ")")
_QUIET = re.compile(r"qh:(off|\d{2}:\d{2}-\d{2}:\d{2})")
_LOCALE = r"([a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?)"
_LANGUAGE = re.compile(r"lg:" + _LOCALE)
_CONTACT_LANGUAGE = re.compile(r"cl:(\d{1,12}):" + _LOCALE)
_DISCHARGE = re.compile(r"dc:(\d{1,12}):([yn])")
_ERASURE = re.compile(r"dm:([abx]):([A-Za-z0-9_-]{8,24})")
_SAFETY_ASK = re.compile(r"sa:(\d{1,12}):([shc])")


def encode(data: CallbackData) -> str:
    match data:
        case AnswerButton(checkin_id, index, value):
            text = f"a:{checkin_id}:{index}:{value}"
        case ConsentButton(agree):
            text = "c:y" if agree else "c:n"
        case TimezoneButton(zone):
            text = f"tz:{zone}"
        case TimeButton(hhmm):
            text = f"tm:{hhmm}"
        case CopingButton():
            text = "cp"
        case SosButton():
            text = "sos"
        case WeekdayButton(day):
            text = f"wd:{day}"
        case AlertButton(action, alert_id):
            text = f"al:{action}:{alert_id}"
        case ContactOfferButton(levels):
            text = f"co:{levels}"
        case ContactAnswerButton(consent_id, accept):
            text = f"ca:{consent_id}:{'y' if accept else 'n'}"
        case ContactLanguageButton(consent_id, locale):
            text = f"cl:{consent_id}:{locale}"
        case MeetingMenuButton(action):
            text = f"mm:{action}"
        case MeetingFilterButton(day, part, where, kind):
            text = f"mf:{day}:{part}:{where}:{kind}"
        case MeetingPickButton(meeting_id, day):
            text = f"mp:{meeting_id}:{day}"
        case MeetingDayButton(day):
            text = f"md:{day}"
        case MeetingManageButton(meeting_id):
            text = f"mo:{meeting_id}"
        case MeetingLeadButton(meeting_id, minutes):
            text = f"ml:{meeting_id}:{minutes}"
        case MeetingRemoveButton(meeting_id):
            text = f"mr:{meeting_id}"
        case AttendanceButton(attendance_id, answer):
            text = f"at:{attendance_id}:{answer}"
        case PlanButton(action, index):
            text = f"pl:{action}:{index}" if action == "st" else f"pl:{action}"
        case MedicationSetupButton(action, value):
            text = f"ms:{action}:{value}"
        case MedicationButton(medication_id, action):
            text = f"rx:{medication_id}:{action}"
        case DoseButton(dose_id, answer):
            text = f"dz:{dose_id}:{answer}"
        case SettingsButton(item):
            text = f"st:{item}"
        case QuietButton(hours):
            text = f"qh:{hours}"
        case LanguageButton(locale):
            text = f"lg:{locale}"
        case DischargeButton(participant_id, confirm):
            text = f"dc:{participant_id}:{'y' if confirm else 'n'}"
        case PickButton(command, participant_id):
            text = f"pk:{command}:{participant_id}"
        case ErasureButton(step, nonce):
            text = f"dm:{step}:{nonce}"
        case SafetyAskButton(ask_id, answer):
            text = f"sa:{ask_id}:{answer}"
        case _:
            raise TypeError(f"not callback data: {data!r}")
    if len(text.encode()) > MAX_BYTES or decode(text) != data:
        raise ValueError(f"callback data does not fit Telegram's {MAX_BYTES} bytes: {text!r}")
    return text


def decode(text: str | None) -> CallbackData | None:
    """The button behind `text`, or None for anything we did not make (forged or stale)."""
    if not text or len(text.encode()) > MAX_BYTES:
        return None
    if m := _ANSWER.fullmatch(text):
        return AnswerButton(int(m.group(1)), int(m.group(2)), m.group(3))
    if m := _CONSENT.fullmatch(text):
        return ConsentButton(m.group(1) == "y")
    if m := _ZONE.fullmatch(text):
        return TimezoneButton(m.group(1))
    if m := _TIME.fullmatch(text):
        return TimeButton(m.group(1))
    if m := _WEEKDAY.fullmatch(text):
        return WeekdayButton(int(m.group(1)))
    if m := _ALERT.fullmatch(text):
        return AlertButton(m.group(1), int(m.group(2)))
    if m := _CONTACT_OFFER.fullmatch(text):
        return ContactOfferButton(m.group(1))
    if m := _CONTACT_ANSWER.fullmatch(text):
        return ContactAnswerButton(int(m.group(1)), m.group(2) == "y")
    if m := _CONTACT_LANGUAGE.fullmatch(text):
        return ContactLanguageButton(int(m.group(1)), m.group(2))
    if m := _SAFETY_ASK.fullmatch(text):
        return SafetyAskButton(int(m.group(1)), m.group(2))
    plain: dict[str, CallbackData] = {"cp": CopingButton(), "sos": SosButton()}
    return (
        _decode_meeting(text)
        or _decode_plan_and_medication(text)
        or _decode_settings_and_discharge(text)
        or plain.get(text)
    )


def _decode_meeting(text: str) -> MeetingButton | None:
    if m := _MEETING_MENU.fullmatch(text):
        return MeetingMenuButton(m.group(1))
    if m := _MEETING_FILTER.fullmatch(text):
        return MeetingFilterButton(m.group(1), m.group(2), m.group(3), m.group(4))
    if m := _MEETING_PICK.fullmatch(text):
        return MeetingPickButton(int(m.group(1)), int(m.group(2)))
    if m := _MEETING_DAY.fullmatch(text):
        return MeetingDayButton(int(m.group(1)))
    if m := _MEETING_MANAGE.fullmatch(text):
        return MeetingManageButton(int(m.group(1)))
    if m := _MEETING_LEAD.fullmatch(text):
        return MeetingLeadButton(int(m.group(1)), int(m.group(2)))
    if m := _MEETING_REMOVE.fullmatch(text):
        return MeetingRemoveButton(int(m.group(1)))
    if m := _ATTENDANCE.fullmatch(text):
        return AttendanceButton(int(m.group(1)), m.group(2))
    return None


def _decode_plan_and_medication(text: str) -> CallbackData | None:
    if m := _PLAN.fullmatch(text):
        # Only a suggested step carries an index; anything else with one is not ours.
        if (m.group(1) == "st") != (m.group(2) is not None):
            return None
        return PlanButton(m.group(1), int(m.group(2) or 0))
    if m := _MEDICATION_SETUP.fullmatch(text):
        return MedicationSetupButton(m.group(1), m.group(2))
    if m := _MEDICATION.fullmatch(text):
        return MedicationButton(int(m.group(1)), m.group(2))
    if m := _DOSE.fullmatch(text):
        return DoseButton(int(m.group(1)), m.group(2))
    return None


def _decode_settings_and_discharge(text: str) -> CallbackData | None:
    if m := _SETTINGS.fullmatch(text):
        return SettingsButton(m.group(1))
    if m := _QUIET.fullmatch(text):
        return QuietButton(m.group(1))
    if m := _LANGUAGE.fullmatch(text):
        return LanguageButton(m.group(1))
    if m := _DISCHARGE.fullmatch(text):
        return DischargeButton(int(m.group(1)), m.group(2) == "y")
    if m := _ERASURE.fullmatch(text):
        return ErasureButton(m.group(1), m.group(2))
    if m := _PICK.fullmatch(text):
        return PickButton(m.group(1), int(m.group(2)))
    return None
