"""The risk rules, one table row per rule, and the property that a riskier answer never lowers
the level."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages.catalog import load_catalog
from messages.risk import PastCheckin, assess, rank

CATALOG = load_catalog()
MONDAY = date(2026, 1, 5)
CALM = {"mood": "4", "craving": "2", "use": "no"}


def days_ago(n: int, **answers: str) -> PastCheckin:
    return PastCheckin(day=MONDAY - timedelta(days=n), answers=answers)


def calm(**changes: str) -> dict[str, str]:
    return {**CALM, **changes}


@pytest.mark.parametrize(
    "rule, answers, history, missed, level",
    [
        ("calm day", calm(), [], 0, "none"),
        ("craving 8 is high", calm(craving="8"), [], 0, "high"),
        ("craving 10 is high", calm(craving="10"), [], 0, "high"),
        ("craving 7 is only watch", calm(craving="7"), [], 0, "watch"),
        ("mood 1 is high", calm(mood="1"), [], 0, "high"),
        ("mood 2 once is watch", calm(mood="2"), [], 0, "watch"),
        ("mood <= 2 three days running is high", calm(mood="2"),
         [days_ago(1, mood="2"), days_ago(2, mood="1")], 0, "high"),
        ("mood <= 2 twice is still watch", calm(mood="2"),
         [days_ago(1, mood="2"), days_ago(2, mood="4")], 0, "watch"),
        ("craving rising 3 over three check-ins is watch", calm(craving="5"),
         [days_ago(1, craving="3"), days_ago(2, craving="2")], 0, "watch"),
        ("craving up 2 is not a rise", calm(craving="4"),
         [days_ago(1, craving="3"), days_ago(2, craving="2")], 0, "none"),
        ("craving up and down is not a rise", calm(craving="5"),
         [days_ago(1, craving="1"), days_ago(2, craving="2")], 0, "none"),
        ("any use is a lapse, high", calm(use="yes"), [], 0, "high"),
        ("rather not say is watch", calm(use="skip"), [], 0, "watch"),
        ("2 missed in a row is watch", {}, [], 2, "watch"),
        ("3 missed in a row is high", {}, [], 3, "high"),
        ("1 missed is nothing", {}, [], 1, "none"),
        ("item 9 yes is high", calm(mood="2", item9="yes"), [], 0, "high"),
        ("C-SSRS wish to be dead only is high",
         calm(item9="yes", cssrs_1="yes", cssrs_2="no", cssrs_6="no"), [], 0, "high"),
        ("C-SSRS thoughts of killing oneself is crisis",
         calm(item9="yes", cssrs_1="yes", cssrs_2="yes"), [], 0, "crisis"),
        ("C-SSRS method is crisis", calm(cssrs_2="yes", cssrs_3="yes"), [], 0, "crisis"),
        ("C-SSRS intent is crisis", calm(cssrs_4="yes"), [], 0, "crisis"),
        ("C-SSRS plan is crisis", calm(cssrs_5="yes"), [], 0, "crisis"),
        ("C-SSRS behaviour in 3 months is crisis", calm(cssrs_6="recent"), [], 0, "crisis"),
        ("C-SSRS behaviour long ago is high", calm(cssrs_6="past"), [], 0, "high"),
        ("weekly: no confidence is high", calm(bam_confidence="none"), [], 0, "high"),
        ("weekly: no meetings is watch", calm(bam_meetings="none"), [], 0, "watch"),
    ],
)  # fmt: skip
def test_rule(rule, answers, history, missed, level):
    assert assess(CATALOG, answers, history, missed).level == level, rule


def test_reasons_read_like_a_person_wrote_them():
    result = assess(CATALOG, calm(craving="9"), [days_ago(0, craving="4")])
    assert result.reasons == ("Cravings: 9/10, up from 4 on Monday",)
    assert result.stage == "mental" and result.high_craving and not result.lapse


def test_lapse_and_crisis_flags_and_stage():
    lapse = assess(CATALOG, calm(use="yes", mood="2"))
    assert lapse.lapse and lapse.stage == "physical" and "lapse" in lapse.triggers
    crisis = assess(CATALOG, calm(cssrs_5="yes"))
    assert crisis.crisis and crisis.stage == "safety"


def test_missed_history_does_not_count_as_answers():
    history = [PastCheckin(MONDAY, {}, missed=True), days_ago(2, mood="1"), days_ago(3, mood="1")]
    assert assess(CATALOG, calm(mood="2"), history).level == "high"


def _riskier_pairs(key: str) -> st.SearchStrategy[tuple[str, str]]:
    """(a value, a value at least as risky) for one question."""
    question = CATALOG.questions[key]
    values = question.values()
    if key == "mood":
        order = list(reversed(values))  # lower mood is riskier
    elif key == "craving":
        order = values
    else:
        meaning_rank = {"none": 0, "watch": 1, "high": 2, "lapse": 2, "crisis": 3}
        order = sorted(values, key=lambda v: meaning_rank[question.risk_of(v)])
    return st.tuples(st.integers(0, len(order) - 1), st.integers(0, len(order) - 1)).map(
        lambda ij: (order[min(ij)], order[max(ij)])
    )


QUESTION_KEYS = sorted(CATALOG.questions)


@st.composite
def scenario(draw):
    keys = draw(st.lists(st.sampled_from(QUESTION_KEYS), unique=True, max_size=8))
    answers = {k: draw(st.sampled_from(CATALOG.questions[k].values())) for k in keys}
    changed = draw(st.sampled_from(QUESTION_KEYS))
    safer, riskier = draw(_riskier_pairs(changed))
    history = [
        days_ago(
            n + 1,
            mood=draw(st.sampled_from(CATALOG.questions["mood"].values())),
            craving=draw(st.sampled_from(CATALOG.questions["craving"].values())),
        )
        for n in range(draw(st.integers(0, 4)))
    ]
    missed = draw(st.integers(0, 5))
    return answers, changed, safer, riskier, history, missed


@given(scenario())
def test_a_riskier_answer_never_lowers_the_level(case):
    answers, key, safer, riskier, history, missed = case
    low = assess(CATALOG, {**answers, key: safer}, history, missed)
    high = assess(CATALOG, {**answers, key: riskier}, history, missed)
    assert rank(high.level) >= rank(low.level), (key, safer, riskier, low, high)


@given(st.integers(0, 10))
def test_more_missed_check_ins_never_lower_the_level(missed):
    assert rank(assess(CATALOG, {}, (), missed + 1).level) >= rank(
        assess(CATALOG, {}, (), missed).level
    )
