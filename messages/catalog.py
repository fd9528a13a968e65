"""The content catalog: messages/content/<locale>.toml loaded into typed, validated data.

A broken content file must stop the bot at start-up with a message that says what is wrong,
never half-work in front of a participant. This module is the Catalog (one language's content)
and its loading (a translation read over the default language); the content's types are in
content_types.py, the parser of each section in content_parser.py and the texts the code
needs in required_texts.py. The public names of all three are importable from here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from messages.content_parser import (
    PLAN_SUGGESTION_MAX,
    alternation,
    parse_checkins,
    parse_coping_prompts,
    parse_dates,
    parse_medication_rules,
    parse_medications,
    parse_meetings,
    parse_milestones,
    parse_plan_suggestions,
    parse_questions,
    parse_risk,
    parse_schedule,
    parse_screen,
    parse_texts,
    parse_timezones,
    require,
)
from messages.content_types import (
    CORE_DAILY,
    DAILY_KINDS,
    MEETING_ANSWERS,
    RISK_MEANINGS,
    STAGES,
    ContentError,
    CopingPrompt,
    Dates,
    MedicationOption,
    MedicationRules,
    MeetingAnswer,
    MeetingContent,
    Option,
    Question,
    RiskThresholds,
    ScreenCategory,
    ScreenRules,
    ScreenThresholds,
)
from messages.required_texts import REQUIRED_TEXTS

__all__ = [
    "CONTENT_DIR", "alternation", "CORE_DAILY", "DAILY_KINDS", "DEFAULT_LOCALE", "MEETING_ANSWERS",
    "PLAN_SUGGESTION_MAX", "REQUIRED_TEXTS", "RISK_MEANINGS", "SHARED_SECTIONS", "STAGES",
    "Catalog", "Catalogs", "ContentError", "CopingPrompt", "Dates", "MedicationOption",
    "MedicationRules", "MeetingAnswer", "MeetingContent", "Option", "Question", "RiskThresholds",
    "ScreenCategory", "ScreenRules", "ScreenThresholds", "load_catalog", "load_catalogs",
    "parse_catalog",
]  # fmt: skip

CONTENT_DIR = Path(__file__).resolve().parent / "content"
DEFAULT_LOCALE = "en"  # the fallback for anyone whose language has no content file
# Sections that are the same in every language: a translation leaves them out and reads
# en.toml's. The free-text screen is language-independent (it reads any language's words).
SHARED_SECTIONS = ("screen_rules", "screen_categories", "screen_thresholds", "screen_languages",
                   "risk", "checkins", "medication_rules", "meeting_options")  # fmt: skip


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
    meetings: MeetingContent
    medication_rules: MedicationRules
    dates: Dates
    plan_first_steps: tuple[str, ...] = ()
    medications: tuple[MedicationOption, ...] = ()
    # Every language loaded with this one, so code that holds the program's catalog can speak
    # to a participant or contact in theirs (set by load_catalogs).
    family: Catalogs | None = field(default=None, compare=False, repr=False)

    def in_language(self, locale: str | None) -> Catalog:
        """This content in `locale` when it was loaded with it; itself otherwise."""
        return self.family.get(locale) if self.family is not None else self

    def text(self, section: str, key: str) -> str:
        return self.texts[section][key]

    def medication(self, key: str) -> MedicationOption | None:
        return next((m for m in self.medications if m.key == key), None)

    def medication_questions(self) -> list[str]:
        """Asked daily, after the core, only of participants on a daily medication."""
        return [k for k, q in self.questions.items() if q.daily == "medication"]

    def core_questions(self) -> list[str]:
        return [k for k, q in self.questions.items() if q.daily == "core"]

    def rotating_questions(self) -> list[str]:
        return [k for k, q in self.questions.items() if q.daily == "rotating"]


def parse_catalog(data: dict[str, Any]) -> Catalog:
    """One content file's data as a Catalog; ContentError says what is missing or wrong."""
    texts = parse_texts(data)
    questions = parse_questions(data)
    timezones = parse_timezones(data)
    time_buttons, quiet_buttons, quiet_off_words = parse_schedule(data, texts)
    weekly, rotating_per_day = parse_checkins(data, questions)
    thresholds = parse_risk(data)
    coping_prompts = parse_coping_prompts(data)
    milestones = parse_milestones(data)
    screen = parse_screen(data)
    meetings = parse_meetings(data)
    return Catalog(
        locale=require(data, "locale", "content"),
        language_name=require(data, "language_name", "content"),
        version=require(data, "version", "content"),
        consent_version=str(require(data["consent"], "version", "[consent]")),
        texts=texts,
        questions=questions,
        timezones=timezones,
        time_buttons=time_buttons,
        quiet_buttons=quiet_buttons,
        quiet_off_words=quiet_off_words,
        rotating_per_day=rotating_per_day,
        weekly=weekly,
        thresholds=thresholds,
        coping_prompts=coping_prompts,
        screen=screen,
        milestones=milestones,
        meetings=meetings,
        plan_first_steps=parse_plan_suggestions(data),
        medications=parse_medications(data),
        medication_rules=parse_medication_rules(data, questions),
        dates=parse_dates(data),
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
    medications = tuple((m.key, m.kind, m.interval_days) for m in catalog.medications)
    coping = tuple((p.key, p.stages, p.triggers) for p in catalog.coping_prompts)
    meetings = tuple(a.value for a in catalog.meetings.answers)
    return (questions, catalog.weekly, catalog.rotating_per_day, catalog.thresholds,
            tuple(sorted(catalog.milestones)), medications, coping, meetings,
            catalog.medication_rules)  # fmt: skip


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

    def match(self, language_code: str | None) -> str:
        """The shipped language for a Telegram `language_code` ('es', 'es-US', 'pt-br'): the
        exact one, else its base language, else the default."""
        code = (language_code or "").strip()
        exact = {k.casefold(): k for k in self.by_locale}
        base = code.split("-", 1)[0].split("_", 1)[0]
        return exact.get(code.casefold()) or exact.get(base.casefold()) or self.default_locale

    def others(self, locale: str) -> list[tuple[str, str]]:
        """The languages to switch to from `locale`: (code, name in its own words)."""
        return [(k, self.by_locale[k].language_name) for k in self.locales() if k != locale]


def load_catalogs(directory: Path = CONTENT_DIR) -> Catalogs:
    """Load and validate every messages/content/<locale>.toml; any broken file stops us."""
    locales = sorted(path.stem for path in directory.glob("*.toml"))
    catalogs = Catalogs({locale: load_catalog(locale, directory) for locale in locales})
    for catalog in catalogs.by_locale.values():
        object.__setattr__(catalog, "family", catalogs)  # frozen, but born together
    return catalogs
