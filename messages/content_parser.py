"""The content parser: each section of a content file (a TOML table) checked and turned into
the content's types (content_types.py). Every problem is a ContentError that names the section
and the key; catalog.py puts the sections together into a Catalog. It reads no file itself,
except that the screen's section loads the screen corpus (messages/screen_corpus.py), so that
a broken corpus stops the bot at start-up too.
"""

from __future__ import annotations

import importlib
import re
import string
import unicodedata
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from messages import screen_corpus, screen_model
from messages.answers import parse_clock_time, parse_quiet_hours
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
from messages.html import check_html
from messages.required_texts import REQUIRED_TEXTS

# Limits on what a participant puts in their plan (and on the suggestions' button labels).
PLAN_SUGGESTION_MAX = 60
_TYPE_CODE = re.compile(r"[A-Z0-9]{1,10}")


def require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ContentError(f"{where}: missing '{key}'")
    return data[key]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


DATE_PARTS = frozenset({"weekday", "weekday_short", "day", "month", "month_short", "year",
                        "time", "zone"})  # fmt: skip
_DATE_LISTS = {"weekdays": 7, "weekdays_short": 7, "weekdays_every": 7, "months": 12,
               "months_short": 12}  # fmt: skip
_DATE_FORMATS = ("today", "tomorrow", "later", "moment", "date", "stamp")


def parse_dates(data: dict[str, Any]) -> Dates:
    raw = require(data, "dates", "content")
    lists = {}
    for key, size in _DATE_LISTS.items():
        words = tuple(str(w).strip() for w in require(raw, key, "[dates]"))
        if len(words) != size or not all(words):
            raise ContentError(f"[dates].{key}: exactly {size} words")
        lists[key] = words
    formats = {}
    for key in _DATE_FORMATS:
        template = str(require(raw, key, "[dates]"))
        if unknown := placeholders(template) - DATE_PARTS:
            raise ContentError(f"[dates].{key}: unknown placeholders {sorted(unknown)}")
        formats[key] = template
    for key in ("today", "tomorrow", "later", "moment", "stamp"):
        if "time" not in placeholders(formats[key]):
            raise ContentError(f"[dates].{key}: must show the {{time}}")
    plain = {key: str(require(raw, key, "[dates]")) for key in ("one_day", "many_days", "and")}
    return Dates(**lists, formats=formats, one_day=plain["one_day"],
                 many_days=plain["many_days"], and_word=plain["and"])  # fmt: skip


def parse_question(raw: dict[str, Any], index: int) -> Question:
    where = f"questions[{index}]"
    key = require(raw, "key", where)
    where = f"question '{key}'"
    stage = require(raw, "stage", where)
    if stage not in STAGES:
        raise ContentError(f"{where}: stage must be one of {STAGES}, not {stage!r}")
    kind = require(raw, "kind", where)
    daily = raw.get("daily", "none")
    if daily not in DAILY_KINDS:
        raise ContentError(f"{where}: daily must be one of {DAILY_KINDS}")
    follow_ups = tuple(
        (frozenset(str(v) for v in require(f, "when", where)), tuple(require(f, "ask", where)))
        for f in raw.get("follow_ups", [])
    )
    common = dict(
        key=key,
        in_summary=bool(raw.get("in_summary", True)),
        follow_ups=follow_ups,
        stage=stage,
        daily=daily,
        kind=kind,
        prompt=require(raw, "prompt", where),
        summary_label=require(raw, "summary_label", where),
        legend=raw.get("legend", ""),
    )
    if kind == "scale":
        low, high = int(require(raw, "min", where)), int(require(raw, "max", where))
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
        for raw_option in require(raw, "options", where):
            value = require(raw_option, "value", where)
            risk = require(raw_option, "risk", f"{where} option '{value}'")
            if risk not in RISK_MEANINGS:
                raise ContentError(f"{where} option '{value}': unknown risk meaning {risk!r}")
            if not value.replace("_", "").isalnum() or len(value) > 16:
                raise ContentError(f"{where} option '{value}': values are short [a-z0-9_] words")
            typed = tuple(t.casefold() for t in raw_option.get("typed", []))
            options.append(Option(value, require(raw_option, "label", where), typed, risk))
        if len(options) < 2 or len({o.value for o in options}) != len(options):
            raise ContentError(f"{where}: a choice needs two or more distinct options")
        return Question(**common, options=tuple(options))
    raise ContentError(f"{where}: kind must be scale or choice, not {kind!r}")


def parse_texts(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every required text (required_texts.py), with exactly its placeholders, as safe HTML."""
    texts: dict[str, dict[str, str]] = {}
    for section, keys in REQUIRED_TEXTS.items():
        raw_section = require(data, section, "content")
        texts[section] = {}
        for key, expected in keys.items():
            template = require(raw_section, key, f"[{section}]")
            found = placeholders(template)
            if found != expected:
                raise ContentError(
                    f"[{section}].{key}: placeholders {sorted(found)} should be {sorted(expected)}"
                )
            problem = check_html(template.replace("{", "").replace("}", ""))
            if problem:
                raise ContentError(f"[{section}].{key}: {problem}")
            texts[section][key] = template.strip("\n")
    return texts


def parse_questions(data: dict[str, Any]) -> dict[str, Question]:
    questions: dict[str, Question] = {}
    for index, raw in enumerate(require(data, "questions", "content")):
        question = parse_question(raw, index)
        if question.key in questions:
            raise ContentError(f"question '{question.key}' is defined twice")
        questions[question.key] = question
    for key in CORE_DAILY:
        if key not in questions or questions[key].daily != "core":
            raise ContentError(f"the daily core needs a question '{key}' marked daily = \"core\"")
    if not any(q.daily == "rotating" for q in questions.values()):
        raise ContentError('at least one question must be marked daily = "rotating"')
    for question in questions.values():
        for when, ask in question.follow_ups:
            unknown = [k for k in ask if k not in questions]
            if unknown or not when <= set(question.values()):
                raise ContentError(f"question '{question.key}': follow_ups name unknown {unknown}")
    return questions


def parse_timezones(data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    zones = []
    for raw in require(data, "timezones", "content"):
        zone = require(raw, "zone", "[[timezones]]")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ContentError(f"[[timezones]]: unknown zone {zone!r}") from exc
        zones.append((zone, require(raw, "label", "[[timezones]]")))
    return tuple(zones)


def parse_schedule(
    data: dict[str, Any], texts: dict[str, dict[str, str]]
) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """The time buttons, the quiet-hours buttons and the typed words for "no quiet hours"."""
    schedule = require(data, "schedule", "content")
    times = tuple(require(schedule, "time_buttons", "[schedule]"))
    for value in times:
        if parse_clock_time(value) is None:
            raise ContentError(f"[schedule].time_buttons: {value!r} is not HH:MM")
    quiet = tuple(require(schedule, "quiet_buttons", "[schedule]"))
    for value in quiet:
        if parse_quiet_hours(value) is None:
            raise ContentError(f"[schedule].quiet_buttons: {value!r} is not HH:MM-HH:MM")
    off_words = [str(w).casefold() for w in require(schedule, "quiet_off_words", "[schedule]")]
    return times, quiet, frozenset([*off_words, texts["settings"]["quiet_off"].casefold()])


def parse_checkins(
    data: dict[str, Any], questions: dict[str, Question]
) -> tuple[tuple[str, ...], int]:
    """The weekly check-in's questions and how many rotating ones a daily check-in asks."""
    composition = require(data, "checkins", "content")
    weekly = tuple(require(composition, "weekly", "[checkins]"))
    if unknown := [k for k in weekly if k not in questions]:
        raise ContentError(f"[checkins].weekly names unknown questions {unknown}")
    rotating_per_day = int(require(composition, "rotating_per_day", "[checkins]"))
    if not 1 <= rotating_per_day <= 2:
        raise ContentError("[checkins].rotating_per_day must be 1 or 2")
    return weekly, rotating_per_day


def parse_risk(data: dict[str, Any]) -> RiskThresholds:
    raw_risk = require(data, "risk", "content")
    return RiskThresholds(
        **{f: int(require(raw_risk, f, "[risk]")) for f in RiskThresholds.__dataclass_fields__}
    )


def parse_coping_prompts(data: dict[str, Any]) -> tuple[CopingPrompt, ...]:
    prompts = []
    for raw in require(data, "coping_prompts", "content"):
        where = f"coping prompt '{raw.get('key')}'"
        text = require(raw, "text", where).strip()
        if problem := check_html(text):
            raise ContentError(f"{where}: {problem}")
        prompts.append(
            CopingPrompt(
                require(raw, "key", where),
                tuple(require(raw, "stages", where)),
                tuple(require(raw, "triggers", where)),
                text,
            )
        )
    if len(prompts) < 2:
        raise ContentError("at least two coping prompts are needed (never the same twice)")
    return tuple(prompts)


def parse_milestones(data: dict[str, Any]) -> dict[int, str]:
    milestones = {}
    for key, words in require(data, "milestones", "content").items():
        if key != "text":
            if not key.isdigit():
                raise ContentError(f"[milestones]: {key!r} is not a day number")
            milestones[int(key)] = str(words)
    return milestones


def parse_meetings(data: dict[str, Any]) -> MeetingContent:
    answers = []
    for raw in require(data, "meeting_answers", "content"):
        value = require(raw, "value", "[[meeting_answers]]")
        where = f"meeting answer '{value}'"
        reply = require(raw, "reply", where).strip()
        if problem := check_html(reply):
            raise ContentError(f"{where}: {problem}")
        typed = tuple(t.casefold() for t in raw.get("typed", []))
        answers.append(MeetingAnswer(value, require(raw, "label", where), typed, reply))
    if sorted(a.value for a in answers) != sorted(MEETING_ANSWERS):
        raise ContentError(f"[[meeting_answers]] must be exactly {MEETING_ANSWERS}")
    typed_words = [word for a in answers for word in a.typed]
    if len(typed_words) != len(set(typed_words)):
        raise ContentError("[[meeting_answers]]: a typed word belongs to two answers")

    leads = []
    for raw in require(data, "meeting_leads", "content"):
        minutes = require(raw, "minutes", "[[meeting_leads]]")
        if not isinstance(minutes, int) or not 0 < minutes <= 24 * 60:
            raise ContentError(f"[[meeting_leads]]: {minutes!r} is not 1-1440 minutes")
        leads.append((minutes, str(require(raw, "label", "[[meeting_leads]]"))))
    if not leads or len({m for m, _ in leads}) != len(leads):
        raise ContentError("[[meeting_leads]] needs distinct choices")

    types = {
        str(code): str(label) for code, label in require(data, "meeting_types", "content").items()
    }
    if bad := [code for code in types if not _TYPE_CODE.fullmatch(code)]:
        raise ContentError(f"[meeting_types]: codes are short capitals, not {bad}")

    options = require(data, "meeting_options", "content")
    where = "[meeting_options]"
    default_lead = require(options, "default_lead", where)
    if default_lead not in {m for m, _ in leads}:
        raise ContentError(f"{where}.default_lead must be one of the [[meeting_leads]]")
    bounds: dict[str, time] = {}
    for key in ("morning_before", "evening_from"):
        bound = parse_clock_time(str(require(options, key, where)))
        if bound is None:
            raise ContentError(f"{where}.{key} is not HH:MM")
        bounds[key] = bound
    if not bounds["morning_before"] < bounds["evening_from"]:
        raise ContentError(f"{where}: morning must end before evening begins")
    filter_types = tuple(require(options, "filter_types", where))
    if unknown := [code for code in filter_types if code not in types]:
        raise ContentError(f"{where}.filter_types names codes not in [meeting_types]: {unknown}")
    max_meetings = require(options, "max_meetings", where)
    if not isinstance(max_meetings, int) or not 1 <= max_meetings <= 20:
        raise ContentError(f"{where}.max_meetings must be 1-20")
    return MeetingContent(
        answers=tuple(answers),
        leads=tuple(leads),
        default_lead=default_lead,
        morning_before=bounds["morning_before"],
        evening_from=bounds["evening_from"],
        max_meetings=max_meetings,
        filter_types=filter_types,
        types=types,
    )


def parse_plan_suggestions(data: dict[str, Any]) -> tuple[str, ...]:
    raw = require(require(data, "plan_suggestions", "content"), "first_steps",
                   "[plan_suggestions]")  # fmt: skip
    steps = tuple(str(s).strip() for s in raw)
    if not 2 <= len(steps) <= 8 or len(set(steps)) != len(steps):
        raise ContentError("[plan_suggestions].first_steps: 2 to 8 distinct suggestions")
    for step in steps:
        if not step or len(step) > PLAN_SUGGESTION_MAX:
            raise ContentError(
                f"[plan_suggestions].first_steps: {step!r} must be 1-{PLAN_SUGGESTION_MAX} "
                "characters (it is a button label)"
            )
    return steps


_MEDICATION_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


def parse_medications(data: dict[str, Any]) -> tuple[MedicationOption, ...]:
    options = []
    for raw in require(data, "medications", "content"):
        key = str(require(raw, "key", "[[medications]]"))
        where = f"medication '{key}'"
        if not _MEDICATION_KEY.fullmatch(key):
            raise ContentError(f"{where}: keys are short lower-case words joined by '-'")
        kind = require(raw, "kind", where)
        if kind not in ("daily", "injection"):
            raise ContentError(f"{where}: kind must be daily or injection, not {kind!r}")
        interval = raw.get("interval_days")
        if kind == "injection" and not (isinstance(interval, int) and 1 <= interval <= 366):
            raise ContentError(f"{where}: an injection needs interval_days (1-366)")
        button = str(require(raw, "button", where))
        name = str(require(raw, "name", where))
        if not 0 < len(button) <= 40 or not 0 < len(name) <= 60:
            raise ContentError(f"{where}: button up to 40 characters, name up to 60")
        options.append(MedicationOption(key, button, name, kind, interval))
    if not options or len({o.key for o in options}) != len(options):
        raise ContentError("[[medications]]: one or more, each with its own key")
    return tuple(options)


def parse_medication_rules(
    data: dict[str, Any], questions: dict[str, Question]
) -> MedicationRules:
    raw = require(data, "medication_rules", "content")
    where = "[medication_rules]"
    key = require(raw, "adherence_question", where)
    question = questions.get(key)
    if question is None or question.daily != "medication":
        raise ContentError(
            f'{where}: adherence_question must name a question with daily = "medication"'
        )
    others = [k for k, q in questions.items() if q.daily == "medication" and k != key]
    if others:
        raise ContentError(f'{where}: only the adherence question is daily = "medication"')
    skipped = require(raw, "skipped_answer", where)
    stopped = require(raw, "stopped_answer", where)
    if skipped not in question.values() or stopped not in question.values():
        raise ContentError(f"{where}: skipped_answer and stopped_answer must be answers of '{key}'")
    if question.risk_of(stopped) != "high":
        raise ContentError(f"{where}: stopping medication must mean high risk")
    at = parse_clock_time(str(require(raw, "injection_reminder_time", where)))
    if at is None:
        raise ContentError(f"{where}: injection_reminder_time is not HH:MM")
    days = require(raw, "injection_reminder_days_before", where)
    if not days or any(not isinstance(d, int) or not 0 <= d <= 14 for d in days):
        raise ContentError(f"{where}: injection_reminder_days_before: whole days from 0 to 14")
    return MedicationRules(key, skipped, stopped, at, tuple(sorted(set(days), reverse=True)))


# A backreference (\1, (?P=name)) counts groups, which an alternation renumbers.
_BACKREFERENCE = re.compile(r"(?<!\\)(\\\\)*\\[1-9]|\(\?P=")
# CPython's own pattern parser and its opcodes, for the first letters a pattern can start with.
_SRE_PARSER = importlib.import_module("re._parser")
_SRE_CONSTANTS = importlib.import_module("re._constants")


def _first_letters(items) -> tuple[frozenset[int] | None, bool]:
    """The characters a match of a parsed pattern can start with (None: any), and whether it
    can match the empty string. Zero-width assertions (\\b, ^, lookbehinds) are stepped over."""
    sre = _SRE_CONSTANTS
    found: set[int] = set()
    for op, av in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op is sre.LITERAL:
            return frozenset(found | {av}), False
        if op is sre.IN and all(kind is sre.LITERAL for kind, _ in av):
            return frozenset(found | {c for _, c in av}), False
        if op is sre.SUBPATTERN:
            if av[1] or av[2]:  # a flag inside, such as (?i:…): letters no longer as written
                return None, False
            first, empty = _first_letters(av[3])
        elif op is sre.BRANCH:
            branches = [_first_letters(b) for b in av[1]]
            if any(f is None for f, _ in branches):
                return None, False
            first = frozenset().union(*(f for f, _ in branches if f is not None))
            empty = any(e for _, e in branches)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            first, empty = _first_letters(av[2])
            empty = empty or av[0] == 0
        else:  # any character, a category (\\w, \\d), a negated set...
            return None, False
        if first is None:
            return None, False
        found |= first
        if not empty:
            return frozenset(found), False
    return frozenset(found), True


def _by_first_letter(patterns: list[str]) -> list[str]:
    """The patterns grouped by the characters they can start with, each group behind a
    lookahead of its first character: Python's re tries every alternative of an alternation at
    every position, and one that opens with a group of twenty words costs twenty checks where a
    lookahead costs one. Patterns whose first characters cannot be told are left as they are."""
    groups: dict[int, list[str]] = {}
    loose = []
    for pattern in patterns:
        try:
            first, empty = _first_letters(_SRE_PARSER.parse(pattern))
        except Exception:  # noqa: BLE001 - an optimization only: the pattern is kept whole
            first, empty = None, True
        if first is None or empty:
            loose.append(f"(?:{pattern})")
            continue
        for letter in first:
            groups.setdefault(letter, []).append(pattern)
    joined = [f"(?={re.escape(chr(letter))})(?:" + "|".join(f"(?:{p})" for p in group) + ")"
              for letter, group in sorted(groups.items())]  # fmt: skip
    return joined + loose


def alternation(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that matches where any of `patterns` does; None if they cannot be joined.
    It only tells whether some pattern matches (the screen then tries them one by one), so a
    pattern may appear in it more than once."""
    if not patterns or any(_BACKREFERENCE.search(p.pattern) or p.flags & ~re.UNICODE
                           for p in patterns):  # fmt: skip
        return None
    try:
        return re.compile("|".join(_by_first_letter([p.pattern for p in patterns])))
    except re.error:  # a global flag such as (?i) inside one of them
        return None


def _accented(pattern: str) -> bool:
    """A letter with an accent: it never matches, as messages are matched with accents off
    (messages/screen.py's normalize)."""
    return not pattern.isascii() and any(
        unicodedata.normalize("NFKD", c) != c for c in pattern if c.isalpha()
    )


def _screen_pattern(pattern: str, where: str) -> re.Pattern[str]:
    """A screen pattern compiled, or a ContentError that says where and why."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ContentError(f"{where}: bad pattern {pattern!r}: {exc}") from exc
    if _accented(pattern):
        raise ContentError(
            f"{where}: pattern {pattern!r} has an accented letter, which the screen takes off "
            "every message before matching: write it without the accent"
        )
    return compiled


def _stories(markers: list[str]) -> re.Pattern[str] | None:
    """[screen_rules] story_markers as one pattern (None: there are none), joined as the
    categories' patterns are (alternation), since it is searched in every clause."""
    compiled = tuple(_screen_pattern(m, "[screen_rules] story_markers") for m in markers)
    if not compiled:
        return None
    return alternation(compiled) or re.compile("|".join(f"(?:{m})" for m in markers))


def parse_screen(data: dict[str, Any]) -> ScreenRules:
    rules = require(data, "screen_rules", "content")
    categories = []
    for raw in require(data, "screen_categories", "content"):
        name = require(raw, "name", "[[screen_categories]]")
        response = require(raw, "response", f"screen category '{name}'")
        if response not in ("crisis", "lapse", "craving"):
            raise ContentError(
                f"screen category '{name}': response must be crisis, lapse or craving"
            )
        compiled: dict[str, list[re.Pattern[str]]] = {}
        for key in ("patterns", "hints"):
            compiled[key] = []
            raws = require(raw, key, f"screen category '{name}'") if key == "patterns" else (
                raw.get(key, []))  # fmt: skip
            for pattern in raws:
                compiled[key].append(_screen_pattern(pattern, f"screen category '{name}'"))
        patterns, hints = tuple(compiled["patterns"]), tuple(compiled["hints"])
        categories.append(ScreenCategory(name, response, patterns, hints,
                                         alternation(patterns + hints)))  # fmt: skip
    raw_thresholds = require(data, "screen_thresholds", "content")
    values = {}
    for key in ("crisis", "ask", "lapse", "craving", "hinted", "negated"):
        value = require(raw_thresholds, key, "[screen_thresholds]")
        if not isinstance(value, int | float) or not 0 < value <= 1:
            raise ContentError(f"[screen_thresholds] {key}: a model score between 0 and 1")
        values[key] = float(value)
    words = {}
    for key in ("model_min_words", "model_short_words"):
        count = raw_thresholds.get(key, 1)
        if not isinstance(count, int) or not 1 <= count <= 20:
            raise ContentError(f"[screen_thresholds] {key}: a whole number from 1 to 20")
        words[key] = count
    short = raw_thresholds.get("short", 1.0)
    if not isinstance(short, int | float) or not 0 < short <= 1:
        raise ContentError("[screen_thresholds] short: a model score between 0 and 1")
    if values["ask"] > values["crisis"]:
        raise ContentError("[screen_thresholds] ask must not be above crisis")
    languages = require(data, "screen_languages", "content")
    # Validated now, so a broken corpus stops the bot at start-up; trained when first needed.
    try:
        screen_corpus.cached_corpus()
    except screen_corpus.CorpusError as exc:
        raise ContentError(f"screen corpus: {exc}") from exc
    return ScreenRules(
        idioms=tuple(rules.get("idioms", [])),
        negations=frozenset(require(rules, "negations", "[screen_rules]")),
        fillers=frozenset(require(rules, "negation_fillers", "[screen_rules]")),
        categories=tuple(categories),
        thresholds=ScreenThresholds(
            values["crisis"], values["ask"], values["lapse"], values["craving"], values["hinted"],
            values["negated"], words["model_min_words"], words["model_short_words"], float(short),
        ),
        languages={lang: frozenset(words) for lang, words in languages.items()},
        model=screen_model.model_for,
        stories=_stories(rules.get("story_markers", [])),
    )
