"""The content catalog: messages/content/<locale>.toml loaded into typed, validated data.

A broken content file must stop the bot at start-up with a message that says what is wrong,
never half-work in front of a participant.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from messages.answers import parse_clock_time, parse_quiet_hours
from messages.html import check_html

CONTENT_DIR = Path(__file__).resolve().parent / "content"
DEFAULT_LOCALE = "en"  # the fallback for anyone whose language has no content file
RISK_MEANINGS = ("none", "watch", "high", "lapse", "crisis")
STAGES = ("emotional", "mental", "physical", "safety")  # safety: the suicide screen
CORE_DAILY = ("mood", "craving", "use")

# Every text the code asks for, by section, with the placeholders it fills in.
REQUIRED_TEXTS: dict[str, dict[str, set[str]]] = {
    "consent": {"text": {"name"}, "agree": set(), "decline": set(), "declined": set()},
    "enrollment": {
        "ask_timezone": set(),
        "timezone_invalid": {"text"},
        "ask_time": {"timezone"},
        "time_invalid": {"text"},
        "ask_weekly": {"time"},
        "weekly_invalid": {"text"},
        "consent_needed": set(),
        "done": {"name", "time", "timezone", "first", "weekday"},
    },
    "invites": {
        "invalid": set(),
        "counselor_welcome": {"name"},
        "counselor_already": {"name"},
        "participant_already": {"name"},
        "counselor_cannot_enroll": set(),
        "participant_cannot_be_counselor": set(),
        "created": {"for_label", "expires", "link"},
        "for_label": {"label"},
    },
    "general": {
        "not_enrolled": set(),
        "unknown_command": set(),
        "media_not_read": set(),
        "note_saved": set(),
        "error": set(),
        "not_for_you": set(),
        "edit_not_read": set(),
        "expired_button": set(),
        "participant_help": {"time", "timezone"},
        "enrolling_help": set(),
        "counselor_help": set(),
    },
    "commands": {"checkin": set(), "coping": set(), "sos": set(), "help": set()},
    "crisis": {"resources": set(), "alerted": set(), "no_counselor": set(), "help_button": set()},
    "lapse": {"support": {"days"}, "overdose": set()},
    "craving": {"intro": set(), "another": set(), "help_now": set()},
    "coping": {"intro": set(), "none_left": set()},
    "screen": {"acknowledged": set()},
    "milestones": {"text": {"milestone"}},
    "contact": {
        "version": set(),
        "purpose": set(),
        "ttl_days": set(),
        "explain": {"name"},
        "button_high": set(),
        "button_crisis": set(),
        "button_no": set(),
        "link": {"expires", "link"},
        "not_now": set(),
        "status": {"contact", "levels"},
        "pending": set(),
        "removed": set(),
        "removed_none": set(),
        "levels_high": set(),
        "levels_crisis": set(),
        "offer": {"contact", "name"},
        "accept": set(),
        "decline": set(),
        "accepted_contact": {"name"},
        "accepted_participant": {"contact", "levels"},
        "declined_contact": {"name"},
        "declined_participant": {"contact"},
        "message": {"name"},
        "stopped_contact": {"name"},
        "stopped_participant": {"contact"},
        "stop_none": set(),
        "contact_help": set(),
    },
    "caseload": {
        "header": {"count"},
        "header_admin": {"count"},
        "line": {"id", "name", "status", "last", "days", "mood", "craving"},
        "never": set(),
        "none": set(),
        "status_active": set(),
        "status_paused": set(),
        "status_unreachable": set(),
        "status_enrolling": set(),
        "status_discharged": set(),
    },
    "history": {
        "usage": set(),
        "not_found": {"text"},
        "ambiguous": {"text"},
        "caption": {"name", "checked", "missed", "lapses", "mood", "craving", "alerts"},
    },
    "reasons": {
        "answer": {"label", "answer"},
        "change": {"label", "answer", "direction", "previous", "day"},
        "up": set(),
        "down": set(),
        "craving_rise": {"count", "series"},
        "low_mood_run": {"most", "days"},
        "missed": {"count"},
        "wrote": {"topics", "excerpt"},
        "sos": set(),
    },
    "alerts": {
        "counselor": {"level", "name", "reasons", "trend"},
        "level_crisis": set(),
        "level_high": set(),
        "level_watch": set(),
        "escalated": {"minutes"},
        "acknowledge": set(),
        "resolve": set(),
        "history": set(),
        "acknowledged": {"name"},
        "already_acknowledged": set(),
        "resolve_prompt": {"name"},
        "resolved": set(),
        "already_resolved": set(),
        "not_yours": set(),
        "flags_none": set(),
        "flags_header": {"count"},
        "trend_none": set(),
        "trend": {"mood", "craving"},
        "history_text": {"name", "trend", "reasons"},
        "unreachable": set(),
        "reachable_again": {"name"},
        "outside_hours": {"when"},
        "team_alert": {"level", "number", "caseload"},
        "team_escalated": {"level", "number", "caseload", "minutes"},
        "team_caseload": {"counselor"},
        "team_unassigned": set(),
    },
    "settings": {
        "menu": {"time", "timezone", "weekday", "quiet", "language"},
        "button_time": set(),
        "button_timezone": set(),
        "button_weekly": set(),
        "button_quiet": set(),
        "button_language": set(),
        "quiet_none": set(),
        "quiet_range": {"start", "end"},
        "ask_time": {"timezone"},
        "ask_timezone": set(),
        "ask_weekly": set(),
        "ask_quiet": set(),
        "quiet_off": set(),
        "quiet_invalid": {"text"},
        "ask_language": set(),
        "language_invalid": set(),
        "saved_time": {"time", "timezone", "next"},
        "saved_timezone": {"timezone", "time", "next"},
        "saved_weekly": {"weekday"},
        "saved_quiet": {"start", "end", "next"},
        "quiet_moves_checkin": {"time", "end"},
        "quiet_cleared": {"next"},
        "saved_language": {"language"},
        "paused_note": {"until"},
    },
    "pause": {
        "paused": {"until", "next"},
        "invalid": {"text", "max", "default"},
        "resumed": {"next"},
        "not_paused": {"next"},
        "paused_help": {"until"},
        "counselor_paused": {"name", "number", "until"},
        "counselor_resumed": {"name", "number"},
    },
    "discharge": {
        "usage": set(),
        "confirm": {"name", "number"},
        "button_confirm": set(),
        "button_cancel": set(),
        "done": {"name"},
        "cancelled": set(),
        "already": {"name"},
        "goodbye": {"name"},
        "ended": set(),
    },
    "checkin": {
        "intro_daily": {"name"},
        "intro_on_demand": {"name"},
        "intro_weekly": {"name"},
        "progress": {"n", "total"},
        "scale_hint": {"min", "max"},
        "choice_hint": {"options"},
        "media_hint": {"hint"},
        "answered": {"prompt", "answer"},
        "already_answered": set(),
        "closed": set(),
        "resumed": set(),
        "note_saved_during": set(),
        "done": {"name", "summary"},
        "summary_line": {"label", "answer"},
        "days": {"days", "checked", "checked_days"},
        "safety_summary": set(),
        "support": set(),
    },
}


class ContentError(ValueError):
    """The content file is missing something or contradicts itself."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    typed: tuple[str, ...]
    risk: str


@dataclass(frozen=True)
class Question:
    key: str
    stage: str
    daily: Literal["core", "rotating", "none"]
    kind: Literal["scale", "choice"]
    prompt: str
    summary_label: str
    legend: str = ""
    min: int = 0
    max: int = 0
    labels: dict[int, str] = field(default_factory=dict)
    scale_risk: dict[int, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    in_summary: bool = True
    # (answers that trigger, questions asked next), e.g. a low mood -> the safety question
    follow_ups: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = ()

    def follow_ups_for(self, value: str) -> tuple[str, ...]:
        asked: list[str] = []
        for when, ask in self.follow_ups:
            if value in when:
                asked.extend(ask)
        return tuple(asked)

    def values(self) -> list[str]:
        if self.kind == "scale":
            return [str(n) for n in range(self.min, self.max + 1)]
        return [o.value for o in self.options]

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def risk_of(self, value: str) -> str:
        if self.kind == "scale":
            return self.scale_risk.get(int(value), "none")
        option = self.option(value)
        return option.risk if option else "none"

    def answer_label(self, value: str) -> str:
        """How an answer reads back to a person: '4 (good)', 'Rather not say'."""
        if self.kind == "scale":
            word = self.labels.get(int(value))
            scale = f"{value}/{self.max}"
            return f"{scale} ({word})" if word else scale
        option = self.option(value)
        return option.label if option else value


@dataclass(frozen=True)
class CopingPrompt:
    key: str
    stages: tuple[str, ...]
    triggers: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ScreenCategory:
    name: str
    response: str  # crisis | lapse | craving
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class ScreenRules:
    idioms: tuple[str, ...]
    negations: frozenset[str]
    fillers: frozenset[str]
    categories: tuple[ScreenCategory, ...]


@dataclass(frozen=True)
class RiskThresholds:
    low_mood_at_most: int
    low_mood_days: int
    craving_rise_points: int
    craving_rise_checkins: int
    missed_watch: int
    missed_high: int


@dataclass(frozen=True)
class Catalog:
    locale: str
    language_name: str  # how /settings offers this language, in its own words
    version: str
    consent_version: str
    texts: dict[str, dict[str, str]]
    questions: dict[str, Question]
    timezones: tuple[tuple[str, str], ...]  # (zone, label)
    time_buttons: tuple[str, ...]
    quiet_buttons: tuple[str, ...]  # "22:00-07:00"
    quiet_off_words: frozenset[str]  # typed words (casefolded) that mean "no quiet hours"
    rotating_per_day: int
    weekly: tuple[str, ...]
    thresholds: RiskThresholds
    coping_prompts: tuple[CopingPrompt, ...]
    screen: ScreenRules
    milestones: dict[int, str]  # day number -> words

    def text(self, section: str, key: str) -> str:
        return self.texts[section][key]

    def core_questions(self) -> list[str]:
        return [k for k, q in self.questions.items() if q.daily == "core"]

    def rotating_questions(self) -> list[str]:
        return [k for k, q in self.questions.items() if q.daily == "rotating"]


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ContentError(f"{where}: missing '{key}'")
    return data[key]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _parse_question(raw: dict[str, Any], index: int) -> Question:
    where = f"questions[{index}]"
    key = _require(raw, "key", where)
    where = f"question '{key}'"
    stage = _require(raw, "stage", where)
    if stage not in STAGES:
        raise ContentError(f"{where}: stage must be one of {STAGES}, not {stage!r}")
    kind = _require(raw, "kind", where)
    daily = raw.get("daily", "none")
    if daily not in ("core", "rotating", "none"):
        raise ContentError(f"{where}: daily must be core, rotating or none")
    follow_ups = tuple(
        (frozenset(str(v) for v in _require(f, "when", where)), tuple(_require(f, "ask", where)))
        for f in raw.get("follow_ups", [])
    )
    common = dict(
        key=key,
        in_summary=bool(raw.get("in_summary", True)),
        follow_ups=follow_ups,
        stage=stage,
        daily=daily,
        kind=kind,
        prompt=_require(raw, "prompt", where),
        summary_label=_require(raw, "summary_label", where),
        legend=raw.get("legend", ""),
    )
    if kind == "scale":
        low, high = int(_require(raw, "min", where)), int(_require(raw, "max", where))
        if not low < high or high - low > 10:
            raise ContentError(f"{where}: a scale needs min < max and at most 11 points")
        labels = {int(k): str(v) for k, v in raw.get("labels", {}).items()}
        risk = {int(k): str(v) for k, v in raw.get("risk", {}).items()}
        for n in [*labels, *risk]:
            if not low <= n <= high:
                raise ContentError(f"{where}: {n} is outside the scale {low}-{high}")
        for meaning in risk.values():
            if meaning not in RISK_MEANINGS:
                raise ContentError(f"{where}: unknown risk meaning {meaning!r}")
        return Question(**common, min=low, max=high, labels=labels, scale_risk=risk)
    if kind == "choice":
        options = []
        for raw_option in _require(raw, "options", where):
            value = _require(raw_option, "value", where)
            risk = _require(raw_option, "risk", f"{where} option '{value}'")
            if risk not in RISK_MEANINGS:
                raise ContentError(f"{where} option '{value}': unknown risk meaning {risk!r}")
            if not value.replace("_", "").isalnum() or len(value) > 16:
                raise ContentError(f"{where} option '{value}': values are short [a-z0-9_] words")
            typed = tuple(t.casefold() for t in raw_option.get("typed", []))
            options.append(Option(value, _require(raw_option, "label", where), typed, risk))
        if len(options) < 2 or len({o.value for o in options}) != len(options):
            raise ContentError(f"{where}: a choice needs two or more distinct options")
        return Question(**common, options=tuple(options))
    raise ContentError(f"{where}: kind must be scale or choice, not {kind!r}")


def parse_catalog(data: dict[str, Any]) -> Catalog:
    texts: dict[str, dict[str, str]] = {}
    for section, keys in REQUIRED_TEXTS.items():
        raw_section = _require(data, section, "content")
        texts[section] = {}
        for key, expected in keys.items():
            template = _require(raw_section, key, f"[{section}]")
            found = _placeholders(template)
            if found != expected:
                raise ContentError(
                    f"[{section}].{key}: placeholders {sorted(found)} should be {sorted(expected)}"
                )
            problem = check_html(template.replace("{", "").replace("}", ""))
            if problem:
                raise ContentError(f"[{section}].{key}: {problem}")
            texts[section][key] = template.strip("\n")

    questions: dict[str, Question] = {}
    for index, raw in enumerate(_require(data, "questions", "content")):
        question = _parse_question(raw, index)
        if question.key in questions:
            raise ContentError(f"question '{question.key}' is defined twice")
        questions[question.key] = question
    for key in CORE_DAILY:
        if key not in questions or questions[key].daily != "core":
            raise ContentError(f"the daily core needs a question '{key}' marked daily = \"core\"")
    if not any(q.daily == "rotating" for q in questions.values()):
        raise ContentError('at least one question must be marked daily = "rotating"')

    zones = []
    for raw in _require(data, "timezones", "content"):
        zone = _require(raw, "zone", "[[timezones]]")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ContentError(f"[[timezones]]: unknown zone {zone!r}") from exc
        zones.append((zone, _require(raw, "label", "[[timezones]]")))
    schedule = _require(data, "schedule", "content")
    times = tuple(_require(schedule, "time_buttons", "[schedule]"))
    for value in times:
        if parse_clock_time(value) is None:
            raise ContentError(f"[schedule].time_buttons: {value!r} is not HH:MM")
    quiet = tuple(_require(schedule, "quiet_buttons", "[schedule]"))
    for value in quiet:
        if parse_quiet_hours(value) is None:
            raise ContentError(f"[schedule].quiet_buttons: {value!r} is not HH:MM-HH:MM")
    off_words = [str(w).casefold() for w in _require(schedule, "quiet_off_words", "[schedule]")]
    quiet_off = frozenset([*off_words, texts["settings"]["quiet_off"].casefold()])

    for question in questions.values():
        for when, ask in question.follow_ups:
            unknown = [k for k in ask if k not in questions]
            if unknown or not when <= set(question.values()):
                raise ContentError(f"question '{question.key}': follow_ups name unknown {unknown}")

    composition = _require(data, "checkins", "content")
    weekly = tuple(_require(composition, "weekly", "[checkins]"))
    if unknown := [k for k in weekly if k not in questions]:
        raise ContentError(f"[checkins].weekly names unknown questions {unknown}")
    rotating_per_day = int(_require(composition, "rotating_per_day", "[checkins]"))
    if not 1 <= rotating_per_day <= 2:
        raise ContentError("[checkins].rotating_per_day must be 1 or 2")

    raw_risk = _require(data, "risk", "content")
    thresholds = RiskThresholds(
        **{f: int(_require(raw_risk, f, "[risk]")) for f in RiskThresholds.__dataclass_fields__}
    )

    prompts = []
    for raw in _require(data, "coping_prompts", "content"):
        where = f"coping prompt '{raw.get('key')}'"
        text = _require(raw, "text", where).strip()
        if problem := check_html(text):
            raise ContentError(f"{where}: {problem}")
        prompts.append(
            CopingPrompt(
                _require(raw, "key", where),
                tuple(_require(raw, "stages", where)),
                tuple(_require(raw, "triggers", where)),
                text,
            )
        )
    if len(prompts) < 2:
        raise ContentError("at least two coping prompts are needed (never the same twice)")

    milestones = {}
    for key, words in _require(data, "milestones", "content").items():
        if key != "text":
            if not key.isdigit():
                raise ContentError(f"[milestones]: {key!r} is not a day number")
            milestones[int(key)] = str(words)

    return _build(data, texts, questions, zones, times, quiet, quiet_off, rotating_per_day,
                  weekly, thresholds, tuple(prompts), _parse_screen(data), milestones)  # fmt: skip


def _parse_screen(data: dict[str, Any]) -> ScreenRules:
    rules = _require(data, "screen_rules", "content")
    categories = []
    for raw in _require(data, "screen_categories", "content"):
        name = _require(raw, "name", "[[screen_categories]]")
        response = _require(raw, "response", f"screen category '{name}'")
        if response not in ("crisis", "lapse", "craving"):
            raise ContentError(
                f"screen category '{name}': response must be crisis, lapse or craving"
            )
        patterns = []
        for pattern in _require(raw, "patterns", f"screen category '{name}'"):
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                message = f"screen category '{name}': bad pattern {pattern!r}: {exc}"
                raise ContentError(message) from exc
        categories.append(ScreenCategory(name, response, tuple(patterns)))
    return ScreenRules(
        idioms=tuple(rules.get("idioms", [])),
        negations=frozenset(_require(rules, "negations", "[screen_rules]")),
        fillers=frozenset(_require(rules, "negation_fillers", "[screen_rules]")),
        categories=tuple(categories),
    )


def _build(data, texts, questions, zones, times, quiet, quiet_off, rotating_per_day, weekly,
           thresholds, prompts, screen, milestones) -> Catalog:  # fmt: skip
    consent = data["consent"]
    return Catalog(
        locale=_require(data, "locale", "content"),
        language_name=_require(data, "language_name", "content"),
        version=_require(data, "version", "content"),
        consent_version=str(_require(consent, "version", "[consent]")),
        texts=texts,
        questions=questions,
        timezones=tuple(zones),
        time_buttons=times,
        quiet_buttons=quiet,
        quiet_off_words=quiet_off,
        rotating_per_day=rotating_per_day,
        weekly=weekly,
        thresholds=thresholds,
        coping_prompts=prompts,
        screen=screen,
        milestones=milestones,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ContentError(f"content file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path} is not valid TOML: {exc}") from exc


def _overlay(base: dict[str, Any], translation: dict[str, Any]) -> dict[str, Any]:
    """The translation over the base: tables merge key by key, anything else (a text, a list
    such as the questions) replaces the base's whole."""
    merged = dict(base)
    for key, value in translation.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _overlay(base[key], value)
        else:
            merged[key] = value
    return merged


def _clinical_shape(catalog: Catalog) -> tuple:
    """Everything that decides clinical behaviour, with the wording left out."""
    questions = tuple(
        (q.key, q.stage, q.daily, q.kind, q.min, q.max, tuple(sorted(q.scale_risk.items())),
         tuple((o.value, o.risk) for o in q.options), q.in_summary, q.follow_ups)
        for q in catalog.questions.values()
    )  # fmt: skip
    return (questions, catalog.weekly, catalog.rotating_per_day, catalog.thresholds,
            tuple(sorted(catalog.milestones)))  # fmt: skip


def _parse_file(path: Path, data: dict[str, Any]) -> Catalog:
    try:
        catalog = parse_catalog(data)
    except ContentError as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if catalog.locale != path.stem:
        raise ContentError(
            f"{path}: locale is {catalog.locale!r}, but the file name says {path.stem!r}"
        )
    return catalog


def load_catalog(locale: str = DEFAULT_LOCALE, directory: Path = CONTENT_DIR) -> Catalog:
    """One language's catalog. A language other than the default is read over the default
    file, so a translation may leave untranslated texts out (they stay in the default)."""
    base_path = directory / f"{DEFAULT_LOCALE}.toml"
    base = _read(base_path)
    if locale == DEFAULT_LOCALE:
        return _parse_file(base_path, base)
    path = directory / f"{locale}.toml"
    catalog = _parse_file(path, _overlay(base, _read(path)))
    if _clinical_shape(catalog) != _clinical_shape(_parse_file(base_path, base)):
        raise ContentError(
            f"{path}: questions, answers, risk meanings and thresholds must be those of "
            f"{base_path.name}; a translation changes wording only"
        )
    return catalog


@dataclass(frozen=True)
class Catalogs:
    """Every language the content directory holds; the default one is the fallback."""

    by_locale: dict[str, Catalog]
    default_locale: str = DEFAULT_LOCALE

    @property
    def default(self) -> Catalog:
        return self.by_locale[self.default_locale]

    def get(self, locale: str | None) -> Catalog:
        return self.by_locale.get(locale or "", self.default)

    def locales(self) -> list[str]:
        """The default first, then the others by code."""
        return [self.default_locale, *sorted(k for k in self.by_locale if k != self.default_locale)]


def load_catalogs(directory: Path = CONTENT_DIR) -> Catalogs:
    """Load and validate every messages/content/<locale>.toml; any broken file stops us."""
    locales = sorted(path.stem for path in directory.glob("*.toml"))
    return Catalogs({locale: load_catalog(locale, directory) for locale in locales})
