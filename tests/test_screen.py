"""The free-text screen against a labelled table of sentences; prints precision and recall.

The table (tests/data/screen_sentences.tsv) was written from how people in early recovery
talk, not from the patterns. Outside checks use sentences we have not seen, so the bar here is
a floor, not a target to tune to. A missed crisis is far worse than a false alarm.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages.catalog import load_catalog
from messages.screen import normalize, screen

RULES = load_catalog().screen
DATA = Path(__file__).parent / "data"
# Our own table, and two sets written by someone who had not seen the patterns.
TABLES = ["screen_sentences.tsv", "screen_holdout.tsv", "screen_blind.tsv"]


def labelled(name: str = "screen_sentences.tsv") -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text().splitlines():
        if line and not line.startswith("#"):
            label, sentence = line.split("\t", 1)
            rows.append((label, sentence))
    return rows


def predicted(sentence: str) -> str:
    return screen(sentence, RULES).response or "none"


def scores(label: str, table: str) -> tuple[float, float, list[str], list[str]]:
    rows = labelled(table)
    hits = [s for lab, s in rows if lab == label and predicted(s) == label]
    missed = [s for lab, s in rows if lab == label and predicted(s) != label]
    false_alarms = [s for lab, s in rows if lab != label and predicted(s) == label]
    precision = len(hits) / max(1, len(hits) + len(false_alarms))
    recall = len(hits) / max(1, len(hits) + len(missed))
    return precision, recall, missed, false_alarms


@pytest.mark.parametrize("table", TABLES)
def test_the_tables_are_big_enough(table):
    rows = labelled(table)
    assert len(rows) >= 80
    assert {label for label, _ in rows} == {"crisis", "lapse", "craving", "none"}


@pytest.mark.parametrize("table", TABLES)
def test_crisis_recall_and_precision(table):
    precision, recall, missed, false_alarms = scores("crisis", table)
    print(f"\n{table} crisis: precision {precision:.2f}, recall {recall:.2f}; missed {missed}; "
          f"false alarms {false_alarms}")  # fmt: skip
    assert recall >= 0.95, f"missed crises: {missed}"
    assert precision >= 0.85


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("label", ["lapse", "craving"])
def test_lapse_and_craving_recall_and_precision(label, table):
    precision, recall, missed, false_alarms = scores(label, table)
    print(f"\n{table} {label}: precision {precision:.2f}, recall {recall:.2f}; missed {missed}; "
          f"false alarms {false_alarms}")  # fmt: skip
    assert recall >= 0.9 and precision >= 0.85


@pytest.mark.parametrize("table", TABLES)
def test_risky_sentences_rarely_pass_as_ordinary_chat(table):
    rows = labelled(table)
    silent = [s for lab, s in rows if lab != "none" and predicted(s) == "none"]
    assert len(silent) <= 0.05 * len(rows), silent


@pytest.mark.parametrize(
    "sentence, response",
    [
        ("I don't want to die", None),
        ("I don't want to live", "crisis"),
        ("I'm not going to use", None),
        ("I used last night", "lapse"),
        ("I'm NOT suicidal", None),
        ("I DON’T WANT TO LIVE", "crisis"),  # curly apostrophe, capitals
        ("i dont wanna live", "crisis"),
        ("I want 2 die", "crisis"),
        ("I relapsed and now I want to kill myself", "crisis"),  # the most urgent wins
    ],
)
def test_negation_spelling_and_priority(sentence, response):
    assert screen(sentence, RULES).response == response


def test_normalize():
    assert normalize("I Can’t   DO this!! but, ok") == "i can not do this . ok"


@given(st.text(max_size=300))
def test_screen_never_raises(text):
    result = screen(text, RULES)
    assert result.response in (None, "crisis", "lapse", "craving")
