"""Medication's pure parts: dose and injection schedule math across DST, reading times, dates
and a counselor's line, and the adherence rules. No bot, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages import medication as med
from messages.catalog import load_catalog
from messages.render import compose_daily, compose_weekly
from messages.risk import assess_adherence, medication_stopped, skipped_in_a_row
from scheduler.schedule import injection_reminder, next_dose

CATALOG = load_catalog()
NEW_YORK = "America/New_York"
TODAY = date(2026, 1, 5)  # a Monday


def local(instant: datetime, zone: str = NEW_YORK) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


# --- schedule ---------------------------------------------------------------------------------


def test_two_daily_doses_stay_at_local_time_across_spring_forward():
    times = [time(8, 0), time(20, 0)]
    after, slots = datetime(2026, 3, 7, 14, tzinfo=UTC), []  # 09:00 EST
    for _ in range(4):
        after = next_dose(after, times, NEW_YORK)
        slots.append(local(after))
    assert slots == [
        "2026-03-07 20:00 EST", "2026-03-08 08:00 EDT",
        "2026-03-08 20:00 EDT", "2026-03-09 08:00 EDT",
    ]  # fmt: skip


def test_a_dose_in_the_autumn_overlap_happens_once():
    after = datetime(2026, 10, 31, 12, tzinfo=UTC)
    first = next_dose(after, [time(1, 30)], NEW_YORK)
    second = next_dose(first, [time(1, 30)], NEW_YORK)
    assert local(first) == "2026-11-01 01:30 EDT"  # the first of the two 01:30s
    assert local(second) == "2026-11-02 01:30 EST"


def test_next_dose_needs_a_time():
    with pytest.raises(ValueError):
        next_dose(datetime(2026, 1, 5, tzinfo=UTC), [], NEW_YORK)


@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    hours=st.lists(st.integers(0, 23), min_size=1, max_size=4),
)
def test_next_dose_is_the_earliest_dose_time_ahead(start, hours):
    after = start.replace(tzinfo=UTC)
    times = [time(h, 15) for h in hours]
    slot = next_dose(after, times, NEW_YORK)
    assert after < slot <= after + timedelta(hours=25)
    assert slot.astimezone(ZoneInfo(NEW_YORK)).hour in set(hours) | {h + 1 for h in hours}


def test_injection_reminders_the_day_before_and_on_the_day_then_the_next_month():
    on, rules = date(2026, 3, 9), CATALOG.medication_rules
    at, days = rules.injection_reminder_time, rules.injection_reminder_days_before
    after, seen = datetime(2026, 3, 1, tzinfo=UTC), []
    for _ in range(3):
        on, after = injection_reminder(after, on, 28, days, at, NEW_YORK)
        seen.append((on.isoformat(), local(after)))
    assert seen == [
        ("2026-03-09", "2026-03-08 10:00 EDT"),  # the day DST begins
        ("2026-03-09", "2026-03-09 10:00 EDT"),
        ("2026-04-06", "2026-04-05 10:00 EDT"),
    ]


def test_an_injection_date_long_past_rolls_forward_by_whole_intervals():
    at = time(10, 0)
    on, reminder = injection_reminder(
        datetime(2026, 6, 1, tzinfo=UTC), date(2026, 1, 5), 28, (1, 0), at, NEW_YORK
    )
    assert on == date(2026, 6, 22) and local(reminder) == "2026-06-21 10:00 EDT"
    assert (on - date(2026, 1, 5)).days % 28 == 0


def test_upcoming_injection_for_display():
    assert med.upcoming_injection(date(2026, 1, 20), 28, TODAY) == date(2026, 1, 20)
    assert med.upcoming_injection(date(2026, 1, 1), 28, TODAY) == date(2026, 1, 29)
    assert med.upcoming_injection(date(2026, 1, 1), None, TODAY) == date(2026, 1, 1)


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, times",
    [
        ("08:00", ("08:00",)),
        ("8:00, 20:00", ("08:00", "20:00")),
        ("20:00 and 8.00", ("08:00", "20:00")),
        ("08:00 08:00", ("08:00",)),
        ("7h30 / 12:00 / 18:00 / 22:00", ("07:30", "12:00", "18:00", "22:00")),
        ("06:00 08:00 10:00 12:00 14:00", None),  # more than four
        ("after breakfast", None),
        ("25:00", None),
        ("", None),
    ],
)
def test_parse_dose_times(text, times):
    assert med.parse_dose_times(text) == times


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-02-03", date(2026, 2, 3)),
        ("2/3", date(2026, 2, 3)),
        ("2/3/2026", date(2026, 2, 3)),
        ("02/03/26", date(2026, 2, 3)),
        ("3 Feb", date(2026, 2, 3)),
        ("Feb 3rd", date(2026, 2, 3)),
        ("february 3, 2026", date(2026, 2, 3)),
        ("today", TODAY),
        ("tomorrow", date(2026, 1, 6)),
        ("Jan 2", date(2027, 1, 2)),  # passed this year: next year's
        ("2026-01-04", None),  # in the past
        ("2028-01-01", None),  # more than a year ahead
        ("2026-02-30", None),
        ("13/1", None),
        ("next tuesday", None),
        ("ju 3", None),  # June or July?
    ],
)
def test_parse_date(text, expected):
    assert med.parse_date(text, TODAY) == expected


def test_parse_counselor_entry():
    entry = med.parse_counselor_entry(CATALOG, ["Methadone", "08:00"], TODAY)
    assert (entry.option.key, entry.dose_times, entry.reminders) == ("methadone", ("08:00",), True)
    entry = med.parse_counselor_entry(
        CATALOG, ["naltrexone_injection", "2026-02-03", "no-reminder"], TODAY
    )
    assert (entry.injection_on, entry.reminders) == (date(2026, 2, 3), False)
    assert med.parse_counselor_entry(CATALOG, ["aspirin", "08:00"], TODAY) == "problem_medication"
    assert med.parse_counselor_entry(CATALOG, ["methadone"], TODAY) == "problem_times"
    assert med.parse_counselor_entry(CATALOG, ["buprenorphine-injection", "soon"], TODAY) == (
        "problem_date"
    )
    assert med.parse_counselor_entry(CATALOG, [], TODAY) == "problem_medication"


def test_times_label():
    english, spanish = load_catalog(), load_catalog("es")
    assert med.times_label(english, ["08:00"]) == "08:00"
    assert med.times_label(english, ["08:00", "20:00"]) == "08:00 and 20:00"
    assert med.times_label(english, ["08:00", "14:00", "20:00"]) == "08:00, 14:00 and 20:00"
    assert med.times_label(spanish, ["08:00", "14:00", "20:00"]) == "08:00, 14:00 y 20:00"
    assert med.day_label(spanish, date(2026, 2, 3)) == "martes 3 de febrero"


def test_reminder_escapes_a_typed_name():
    rendered = med.dose_reminder(CATALOG, 7, "<b>Pills & co</b>", "08:00")
    assert "&lt;b&gt;Pills &amp; co&lt;/b&gt;" in rendered.text
    assert [b.answer for _, b in rendered.buttons[0]] == ["t", "n", "s"]


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "skipped, count, level",
    [
        ([], 0, "none"),
        ([TODAY], 1, "none"),
        ([TODAY, TODAY - timedelta(days=1)], 2, "watch"),
        ([TODAY - timedelta(days=1), TODAY - timedelta(days=2)], 0, "none"),  # not today
        ([TODAY, TODAY - timedelta(days=2)], 1, "none"),  # a gap between
        ([TODAY - timedelta(days=n) for n in range(4)], 4, "watch"),
    ],
)
def test_skipped_days_in_a_row(skipped, count, level):
    assert skipped_in_a_row(skipped, TODAY) == count
    assessment = assess_adherence(CATALOG, skipped, TODAY)
    assert assessment.level == level
    if level == "watch":
        assert assessment.reasons == (f"Skipped their medication {count} days in a row",)


def test_stopping_is_high_and_names_the_medication():
    assessment = medication_stopped(CATALOG, ["methadone"])
    assert assessment.level == "high"
    assert assessment.reasons == (
        "Said they stopped taking methadone: their overdose risk is higher now",
    )


def test_the_adherence_question_only_for_participants_on_medication():
    assert "medication" not in compose_daily(CATALOG, 0)
    daily = compose_daily(CATALOG, 0, on_medication=True)
    assert daily[:4] == ["mood", "craving", "use", "medication"]
    weekly = compose_weekly(CATALOG, on_medication=True)
    assert weekly[:4] == ["mood", "craving", "use", "medication"] and weekly[-1] == "item9"
    assert "medication" not in compose_weekly(CATALOG)


def test_a_typed_medication_name_is_a_few_words():
    assert med.parse_name("  Suboxone   film 8 mg ") == "Suboxone film 8 mg"
    assert med.parse_name("I have not been sleeping at all this week") is None
    assert med.parse_name("12 34") is None
