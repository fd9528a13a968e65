"""The content file, answer parsing, callback data and rendering: pure, no bot, no database."""

from __future__ import annotations

import copy
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages import render
from messages.answers import parse_answer, parse_clock_time, parse_quiet_hours, parse_timezone
from messages.callback_data import (
    AnswerButton,
    ConsentButton,
    DischargeButton,
    LanguageButton,
    QuietButton,
    SettingsButton,
    TimeButton,
    TimezoneButton,
    decode,
    encode,
)
from messages.catalog import (
    CONTENT_DIR,
    SHARED_SECTIONS,
    ContentError,
    load_catalog,
    load_catalogs,
    parse_catalog,
)
from messages.html import check_html, escape, strip_html

CATALOG = load_catalog()
RAW = tomllib.loads((CONTENT_DIR / "en.toml").read_text())


def test_shipped_content_is_valid_and_has_the_daily_core():
    assert CATALOG.core_questions() == ["mood", "craving", "use"]
    assert len(CATALOG.rotating_questions()) >= 5
    stages = {CATALOG.questions[k].stage for k in CATALOG.questions}
    assert stages == {"emotional", "mental", "physical", "safety"}


def test_crisis_numbers_are_in_content_not_code():
    assert "988" in CATALOG.text("general", "not_enrolled")
    assert "1-800-662-4357" in CATALOG.text("general", "not_enrolled")


@pytest.mark.parametrize(
    "break_it, complaint",
    [
        (lambda d: d["general"].pop("note_saved"), "missing 'note_saved'"),
        (lambda d: d["checkin"].update(done="Thanks {nme}"), "placeholders"),
        (lambda d: d["general"].update(error="<blink>oops</blink>"), "unsupported tag"),
        (lambda d: d["general"].update(error="Tom & Jerry"), "bare &"),
        (lambda d: d["questions"][0].update(max=99), "at most 11 points"),
        (lambda d: d["questions"][2]["options"][0].update(risk="scary"), "unknown risk"),
        (lambda d: d["questions"].pop(0), "'mood'"),
        (lambda d: d["timezones"][0].update(zone="Mars/Olympus"), "unknown zone"),
        (lambda d: d["schedule"].update(time_buttons=["25:00"]), "not HH:MM"),
        (lambda d: d["schedule"].update(quiet_buttons=["22:00-22:00"]), "not HH:MM-HH:MM"),
        (lambda d: d["settings"].update(menu="{time}"), "placeholders"),
        (lambda d: d.pop("language_name"), "missing 'language_name'"),
        (lambda d: d["questions"].append(copy.deepcopy(d["questions"][0])), "defined twice"),
        # messages are matched with accents off: an accented pattern could never fire
        (lambda d: d["screen_categories"][0]["patterns"].append("\\brecaí\\b"), "accented"),
        (lambda d: d["screen_rules"]["story_markers"].append("\\bhace (dos|tres) años\\b"),
         "story_markers: pattern .* accented"),
        (lambda d: d["screen_rules"]["story_markers"].append("(years ago"),
         "story_markers: bad pattern"),
    ],
)
def test_broken_content_is_refused_with_a_clear_message(break_it, complaint):
    data = copy.deepcopy(RAW)
    break_it(data)
    with pytest.raises(ContentError, match=complaint):
        parse_catalog(data)


def test_missing_content_file(tmp_path):
    with pytest.raises(ContentError, match="not found"):
        load_catalog("xx", tmp_path)


@pytest.mark.parametrize(
    "key, text, value, problem",
    [
        ("craving", "7", "7", None),
        ("craving", " 10 ", "10", None),
        ("craving", "0", "0", None),
        ("craving", "11", None, "out_of_range"),
        ("craving", "-1", None, "out_of_range"),
        ("craving", "5.5", None, "not_a_number"),
        ("craving", "seven", None, "not_a_number"),
        ("craving", "99999999999999999999", None, "out_of_range"),
        ("mood", "0", None, "out_of_range"),
        ("mood", "5", "5", None),
        ("use", "Yes", "yes", None),
        ("use", "no.", "no", None),
        ("use", "rather not say", "skip", None),
        ("use", "maybe", None, "not_an_option"),
    ],
)
def test_typed_answers(key, text, value, problem):
    parsed = parse_answer(CATALOG.questions[key], text)
    assert (parsed.value, parsed.problem) == (value, problem)


@given(st.text(max_size=50))
def test_any_text_parses_to_a_valid_value_or_a_problem(text):
    for question in CATALOG.questions.values():
        parsed = parse_answer(question, text)
        assert parsed.ok != (parsed.problem is not None)
        if parsed.ok:
            assert parsed.value in question.values()


@pytest.mark.parametrize(
    "text, expected",
    [("09:30", "09:30"), ("9:30", "09:30"), ("21.15", "21:15"), ("24:00", None), ("9", None),
     ("noon", None), ("12:60", None)],
)  # fmt: skip
def test_clock_times(text, expected):
    parsed = parse_clock_time(text)
    assert (parsed.strftime("%H:%M") if parsed else None) == expected


def test_time_zones():
    assert parse_timezone("America/Chicago") == "America/Chicago"
    assert parse_timezone("america/new york") == "America/New_York"
    assert parse_timezone("Mars/Olympus") is None
    assert parse_timezone("../../etc/passwd") is None
    assert parse_timezone("") is None


@pytest.mark.parametrize(
    "data",
    [
        AnswerButton(123456789012, 3, "rather_not"),
        ConsentButton(True),
        ConsentButton(False),
        TimezoneButton("America/Argentina/ComodRivadavia"),
        TimeButton("09:30"),
        SettingsButton("quiet"),
        QuietButton("22:00-07:00"),
        QuietButton("off"),
        LanguageButton("es"),
        LanguageButton("pt-BR"),
        DischargeButton(123456789012, True),
        DischargeButton(7, False),
    ],
)
def test_callback_data_round_trip(data):
    text = encode(data)
    assert len(text.encode()) <= 64
    assert decode(text) == data


def test_callback_data_refuses_what_it_cannot_carry():
    with pytest.raises(ValueError):
        encode(TimezoneButton("x" * 70))
    with pytest.raises(ValueError):
        encode(AnswerButton(1, 0, "has:colon"))


@given(st.text(max_size=80))
def test_decode_never_raises(text):
    decoded = decode(text)
    assert decoded is None or decode(encode(decoded)) == decoded


def test_every_question_keyboard_fits_telegram():
    big_id = 10**12 - 1
    for key in CATALOG.questions:
        rendered = render.question(CATALOG, [key] * 10, 9, big_id)
        markup = rendered.reply_markup()
        assert markup and all(len(b["callback_data"].encode()) <= 64
                              for row in markup["inline_keyboard"] for b in row)  # fmt: skip
        assert check_html(rendered.text) is None


def test_values_are_escaped_in_rendered_html():
    name = "<b>Ana</b> & co"
    rendered = render.consent(CATALOG, name)
    assert check_html(rendered.text) is None
    assert escape(name) in rendered.text
    assert name in strip_html(rendered.text)


def test_summary_adds_support_only_when_an_answer_carries_risk():
    calm = render.summary(CATALOG, "Ana", [("mood", "4"), ("craving", "2"), ("use", "no")])
    hard = render.summary(CATALOG, "Ana", [("mood", "4"), ("craving", "9"), ("use", "no")])
    support = CATALOG.text("checkin", "support")
    assert support not in calm
    assert support in hard
    assert "9/10" in strip_html(hard)


def test_daily_composition_rotates():
    seen = [render.compose_daily(CATALOG, n)[-1] for n in range(len(CATALOG.rotating_questions()))]
    assert sorted(seen) == sorted(CATALOG.rotating_questions())
    assert render.compose_daily(CATALOG, 0)[:3] == ["mood", "craving", "use"]


@pytest.mark.parametrize(
    "text, ok",
    [("<b>x</b>", True), ("<b>x", False), ("<foo>x</foo>", False), ("a &amp; b", True),
     ("a & b", False), ("<i><b>x</i></b>", False), ("&#128154;", True), ("1 < 2", False)],
)  # fmt: skip
def test_html_checker(text, ok):
    assert (check_html(text) is None) == ok


@pytest.mark.parametrize(
    "text, expected",
    [("22:00-07:00", ("22:00", "07:00")), ("22:00 – 7:00", ("22:00", "07:00")),
     ("13:00 to 15:30", ("13:00", "15:30")), ("9:00-9:00", None), ("22-07", None),
     ("22:00", None), ("", None), ("25:00-07:00", None), ("night", None)],
)  # fmt: skip
def test_quiet_hours_typed(text, expected):
    parsed = parse_quiet_hours(text)
    assert (tuple(t.strftime("%H:%M") for t in parsed) if parsed else None) == expected


def test_forged_settings_and_discharge_data_decode_to_nothing():
    for text in ("st:everything", "qh:22:00", "qh:on", "lg:../en", "lg:", "dc:1", "dc:x:y"):
        assert decode(text) is None, text


# --- languages --------------------------------------------------------------------------------

FIXTURE = Path(__file__).parent / "data" / "content" / "zz.toml"


def content_dir(tmp_path, **files: str) -> Path:
    """The shipped English plus `files` (name without .toml -> TOML text)."""
    shutil.copy(CONTENT_DIR / "en.toml", tmp_path / "en.toml")
    for name, text in files.items():
        (tmp_path / f"{name}.toml").write_text(text)
    return tmp_path


def test_a_second_content_file_is_picked_up_over_english(tmp_path):
    catalogs = load_catalogs(content_dir(tmp_path, zz=FIXTURE.read_text()))
    assert catalogs.locales() == ["en", "zz"]
    zedish = catalogs.get("zz")
    assert zedish.language_name == "Zedish (test)"
    assert zedish.text("general", "note_saved") == "ZZ: kept for your counselor."
    # What it leaves out stays English, clinical content included.
    assert zedish.text("crisis", "resources") == CATALOG.text("crisis", "resources")
    assert zedish.questions == CATALOG.questions
    # English is the fallback for a language with no file, or none.
    assert catalogs.get("fr") is catalogs.default and catalogs.get(None) is catalogs.default
    assert catalogs.default.locale == "en"


def test_shipped_languages():
    catalogs = load_catalogs()
    assert catalogs.locales() == ["en", "es"]
    assert catalogs.get("es").language_name == "Español"


def _paths(data, prefix=()) -> set[tuple]:
    """Every key in a content file, items of a list of tables named by their own key."""
    found = set()
    for key, value in data.items():
        path = (*prefix, key)
        found.add(path)
        if isinstance(value, dict):
            found |= _paths(value, path)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                name = next((item[k] for k in ("key", "value", "zone", "minutes") if k in item), i)
                found |= _paths(item, (*path, name))
    return found


@pytest.mark.parametrize("locale", [p.stem for p in CONTENT_DIR.glob("*.toml") if p.stem != "en"])
def test_a_shipped_translation_has_every_english_key(locale):
    translation = tomllib.loads((CONTENT_DIR / f"{locale}.toml").read_text())
    wanted = {p for p in _paths(RAW) if p[0] not in SHARED_SECTIONS}
    missing = sorted(map(str, wanted - _paths(translation)))
    assert not missing, f"{locale}.toml lacks {missing}"
    # Shared sections come from en.toml only: a copy could drift from it.
    assert not set(translation) & set(SHARED_SECTIONS)


def test_a_key_left_out_of_a_translation_is_found():
    spanish = tomllib.loads((CONTENT_DIR / "es.toml").read_text())
    del spanish["questions"][0]["legend"]
    del spanish["dates"]["months"]
    missing = {p for p in _paths(RAW) if p[0] not in SHARED_SECTIONS} - _paths(spanish)
    assert {("questions", "mood", "legend"), ("dates", "months")} <= missing


SPANISH = load_catalog("es")


def test_spanish_crisis_help_has_its_spanish_ways_in():
    resources = SPANISH.text("crisis", "resources")
    for needed in ("988", "marca <b>2</b>", "AYUDA", "911", "1-800-662-4357", "1-800-484-3731",
                   "naloxona"):  # fmt: skip
        assert needed in resources, needed
    overdose = SPANISH.text("lapse", "overdose")
    assert "1-800-484-3731" in overdose and "naloxona" in overdose and "911" in overdose


def test_spanish_safety_prompts_name_their_official_source():
    text = (CONTENT_DIR / "es.toml").read_text()
    for key in ("item9", "cssrs_1", "cssrs_2", "cssrs_3", "cssrs_4", "cssrs_5", "cssrs_6"):
        block = text.split(f'key = "{key}"', 1)[1].split("prompt =", 1)[0]
        assert "# Source: " in block and ("PHQ-9" in block or "C-SSRS" in block), key


def test_spanish_keeps_the_clinical_shape(tmp_path):
    spanish = (CONTENT_DIR / "es.toml").read_text()
    # A crisis answer turned into a "high" one is refused, as is another medication key.
    block = spanish.split('key = "cssrs_2"', 1)[1]
    changed = spanish.replace(block, block.replace('risk = "crisis"', 'risk = "high"', 1), 1)
    assert changed != spanish
    with pytest.raises(ContentError, match="a translation changes wording only"):
        load_catalogs(content_dir(tmp_path, es=changed))
    other_key = spanish.replace('key = "methadone"', 'key = "metadona"', 1)
    with pytest.raises(ContentError, match="a translation changes wording only"):
        load_catalogs(content_dir(tmp_path, es=other_key))


def test_a_translation_may_not_change_clinical_meaning(tmp_path):
    english = (CONTENT_DIR / "en.toml").read_text().replace('locale = "en"', 'locale = "zz"')
    # A full copy is a valid (if untranslated) language...
    assert load_catalogs(content_dir(tmp_path, zz=english)).locales() == ["en", "zz"]
    # ...until it changes what an answer means, or a threshold.
    low_mood_is_fine = english.replace('1 = "high"\n2 = "watch"', '1 = "none"\n2 = "watch"', 1)
    assert low_mood_is_fine != english
    more_misses = FIXTURE.read_text() + "\n[risk]\nmissed_high = 9\n"
    for changed in (low_mood_is_fine, more_misses):
        with pytest.raises(ContentError, match="a translation changes wording only"):
            load_catalogs(content_dir(tmp_path, zz=changed))


def test_a_content_file_must_name_its_own_locale(tmp_path):
    wrong = FIXTURE.read_text().replace('locale = "zz"', 'locale = "yy"')
    with pytest.raises(ContentError, match="the file name says 'zz'"):
        load_catalogs(content_dir(tmp_path, zz=wrong))
    missing = FIXTURE.read_text().replace('locale = "zz"', "")
    with pytest.raises(ContentError, match="locale is 'en'"):
        load_catalogs(content_dir(tmp_path, zz=missing))
