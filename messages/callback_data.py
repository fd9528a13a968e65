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
class WeekdayButton:
    day: int  # 0 = Monday


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


CallbackData = (
    AnswerButton
    | ConsentButton
    | TimezoneButton
    | TimeButton
    | CopingButton
    | SosButton
    | WeekdayButton
    | AlertButton
    | ContactOfferButton
    | ContactAnswerButton
    | SettingsButton
    | QuietButton
    | LanguageButton
    | DischargeButton
)

_ANSWER = re.compile(r"a:(\d{1,12}):(\d{1,2}):([a-z0-9_]{1,16})")
_CONSENT = re.compile(r"c:([yn])")
_ZONE = re.compile(r"tz:([A-Za-z0-9_+\-/]{1,58})")
_TIME = re.compile(r"tm:(\d{2}:\d{2})")
_WEEKDAY = re.compile(r"wd:([0-6])")
_ALERT = re.compile(r"al:([arh]):(\d{1,12})")
_CONTACT_OFFER = re.compile(r"co:([hcn])")
_CONTACT_ANSWER = re.compile(r"ca:(\d{1,12}):([yn])")
_SETTINGS = re.compile(r"st:(" + "|".join(SETTINGS_ITEMS) + ")")
_QUIET = re.compile(r"qh:(off|\d{2}:\d{2}-\d{2}:\d{2})")
_LANGUAGE = re.compile(r"lg:([a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?)")
_DISCHARGE = re.compile(r"dc:(\d{1,12}):([yn])")


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
        case SettingsButton(item):
            text = f"st:{item}"
        case QuietButton(hours):
            text = f"qh:{hours}"
        case LanguageButton(locale):
            text = f"lg:{locale}"
        case DischargeButton(participant_id, confirm):
            text = f"dc:{participant_id}:{'y' if confirm else 'n'}"
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
    if m := _SETTINGS.fullmatch(text):
        return SettingsButton(m.group(1))
    if m := _QUIET.fullmatch(text):
        return QuietButton(m.group(1))
    if m := _LANGUAGE.fullmatch(text):
        return LanguageButton(m.group(1))
    if m := _DISCHARGE.fullmatch(text):
        return DischargeButton(int(m.group(1)), m.group(2) == "y")
    return {"cp": CopingButton(), "sos": SosButton()}.get(text)
