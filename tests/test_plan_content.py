"""The plan's pure parts and the new content: reading a trusted person, rendering the plan
HTML-safe, the new callback data, and content validation of the plan and medication sections."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages import plan as plan_text
from messages.callback_data import (
    DoseButton,
    MedicationButton,
    MedicationSetupButton,
    PlanButton,
    decode,
    encode,
)
from messages.catalog import CONTENT_DIR, ContentError, load_catalog, parse_catalog
from messages.html import check_html, strip_html

CATALOG = load_catalog()
RAW = tomllib.loads((CONTENT_DIR / "en.toml").read_text())


@pytest.mark.parametrize(
    "text, name, contact",
    [
        ("Maria 555-123-4567", "Maria", "555-123-4567"),
        ("Mom: +1 (555) 123 4567", "Mom", "+1 (555) 123 4567"),
        ("Jo @jo_recovery", "Jo", "@jo_recovery"),
        ("555 1234 Aunt Rose", "Aunt Rose", "555 1234"),
        ("Dr. Lee (clinic) 212.555.0199", "Dr. Lee (clinic)", "212.555.0199"),
    ],
)
def test_parse_person(text, name, contact):
    assert plan_text.parse_person(text) == plan_text.TrustedPerson(name, contact)


@pytest.mark.parametrize(
    "text",
    ["Maria", "Maria 12345", "@jo_recovery", "555-123-4567", "Jo @ab", "x" * 61 + " 5551234567"],
)
def test_parse_person_needs_a_name_and_a_number_or_username(text):
    assert plan_text.parse_person(text) is None


def test_plan_renders_escaped_and_leaves_out_empty_parts():
    content = plan_text.PlanContent.of(
        [{"name": "<Maria>", "contact": "555 & 1234"}], [], "Lily </b> & me"
    )
    text = plan_text.at_hard_moment(CATALOG, content).text
    assert check_html(text) is None
    assert "&lt;Maria&gt;: 555 &amp; 1234" in text and "Lily &lt;/b&gt; &amp; me" in text
    assert "What you'll do first" not in strip_html(text)
    assert plan_text.PlanContent.of([], [], "").empty


def test_plan_view_buttons_follow_sharing():
    content = plan_text.PlanContent.of([], ["Call someone on my list"], None)
    shared = plan_text.view(CATALOG, content, shared=True)
    private = plan_text.view(CATALOG, content, shared=False)
    assert shared.buttons[-1][0] == ("Stop sharing", PlanButton("s0"))
    assert private.buttons[-1][0] == ("Share with my counselor", PlanButton("s1"))
    assert "Only you can see this plan" in strip_html(private.text)


def test_suggested_steps_already_chosen_are_not_offered_again():
    chosen = [CATALOG.plan_first_steps[0]]
    labels = [row[0][0] for row in plan_text.ask_steps(CATALOG, chosen).buttons]
    assert CATALOG.plan_first_steps[0] not in labels
    assert labels[-1] == "Done"
    assert plan_text.ask_steps(CATALOG).buttons[-1][0][0] == "Skip"


@given(
    st.one_of(
        st.builds(
            PlanButton,
            st.sampled_from(["go", "no", "dn", "sk", "ep", "es", "er", "sy", "sn", "s1", "s0"]),
        ),  # fmt: skip
        st.builds(PlanButton, st.just("st"), st.integers(0, 99)),
        st.builds(
            MedicationSetupButton,
            st.just("p"),
            st.sampled_from([m.key for m in CATALOG.medications] + ["other", "none"]),
        ),  # fmt: skip
        st.builds(MedicationSetupButton, st.just("t"), st.sampled_from(CATALOG.time_buttons)),
        st.builds(MedicationButton, st.integers(1, 10**12 - 1), st.sampled_from("trs")),
        st.builds(DoseButton, st.integers(1, 10**12 - 1), st.sampled_from("tns")),
    )
)
def test_new_buttons_round_trip_within_64_bytes(data):
    text = encode(data)
    assert len(text.encode()) <= 64 and decode(text) == data


@pytest.mark.parametrize("forged", ["pl:xx", "pl:go:1", "pl:st", "dz:1:x", "rx:1:z", "ms:q:1"])
def test_forged_new_buttons_are_not_read(forged):
    assert decode(forged) is None


def test_shipped_content_has_plan_and_medication():
    assert len(CATALOG.plan_first_steps) >= 3
    keys = [m.key for m in CATALOG.medications]
    assert {"methadone", "buprenorphine", "naltrexone-injection"} <= set(keys)
    assert CATALOG.medication("naltrexone-injection").interval_days == 28


def test_crisis_numbers_stay_out_of_the_new_code():
    root = Path(__file__).resolve().parents[1]
    for name in ("care/plan.py", "care/medication.py", "bot/medication.py", "messages/plan.py",
                 "messages/medication.py", "scheduler/reminders.py", "care/safety.py"):  # fmt: skip
        code = (root / name).read_text()
        assert "988" not in code and "1-800" not in code and "911" not in code, name


@pytest.mark.parametrize(
    "break_it, complaint",
    [
        (lambda d: d["plan"].pop("hard_moment"), "missing 'hard_moment'"),
        (lambda d: d["medication"].update(reminder_daily="{medication}"), "placeholders"),
        (lambda d: d["plan_suggestions"].update(first_steps=["only one"]), "2 to 8"),
        (lambda d: d["plan_suggestions"]["first_steps"].append("x" * 61), "button label"),
        (lambda d: d["medications"][0].update(kind="weekly"), "daily or injection"),
        (lambda d: d["medications"][3].pop("interval_days"), "interval_days"),
        (lambda d: d["medications"][0].update(key="Bad Key"), "lower-case"),
        (lambda d: d["medications"].append(copy.deepcopy(d["medications"][0])), "its own key"),
        (lambda d: d["medication_rules"].update(adherence_question="mood"), "daily = "),
        (lambda d: d["medication_rules"].update(stopped_answer="gone"), "answers of"),
        (lambda d: d["medication_rules"].update(injection_reminder_time="9am"), "HH:MM"),
        (lambda d: d["medication_rules"].update(injection_reminder_days_before=[30]), "0 to 14"),
        (lambda d: d["risk"].pop("skipped_medication_days"), "skipped_medication_days"),
    ],
)
def test_broken_plan_or_medication_content_is_refused(break_it, complaint):
    data = copy.deepcopy(RAW)
    break_it(data)
    with pytest.raises(ContentError, match=complaint):
        parse_catalog(data)


def test_stopping_must_mean_high_risk():
    data = copy.deepcopy(RAW)
    question = next(q for q in data["questions"] if q["key"] == "medication")
    next(o for o in question["options"] if o["value"] == "stopped")["risk"] = "watch"
    with pytest.raises(ContentError, match="must mean high risk"):
        parse_catalog(data)
