"""A tick renders each check-in's first question from one template per language and
composition; every message must be exactly what rendering it on its own gives."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from messages import render
from messages.catalog import load_catalog

CATALOG = load_catalog()
COMPOSITIONS = [
    ("daily", render.compose_daily(CATALOG, 0)),
    ("daily", render.compose_daily(CATALOG, 3, on_medication=True)),
    ("weekly", render.compose_weekly(CATALOG)),
    ("weekly", render.compose_weekly(CATALOG, on_medication=True)),
]


def rendered_alone(kind: str, keys: list[str], checkin_id: int, name: str) -> dict:
    intro = render.intro(CATALOG, kind, name)
    return render.question(CATALOG, keys, 0, checkin_id, intro=intro).payload()


@settings(max_examples=200, deadline=None)
@given(
    composition=st.sampled_from(COMPOSITIONS),
    checkin_id=st.integers(min_value=1, max_value=10**11),
    name=st.text(max_size=40),
)
def test_a_filled_template_is_the_message_rendered_alone(composition, checkin_id, name):
    kind, keys = composition
    questions = render.FirstQuestions()
    questions.payload(CATALOG, kind, keys, 7, "Someone else")  # the template is reused
    assert questions.payload(CATALOG, kind, keys, checkin_id, name) == rendered_alone(
        kind, keys, checkin_id, name
    )


def test_names_with_html_are_escaped():
    kind, keys = COMPOSITIONS[0]
    payload = render.FirstQuestions().payload(CATALOG, kind, keys, 42, "<b>Ana</b> & co")
    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; co" in payload["text"]
    assert "<b>Ana" not in payload["text"]


@settings(max_examples=200, deadline=None)
@given(
    composition=st.sampled_from(COMPOSITIONS),
    checkin_id=st.integers(min_value=1, max_value=10**11),
    name=st.text(max_size=40) | st.sampled_from(["a:100000000000:", '"}\\', "\u2028Zoë"]),
)
def test_the_json_template_decodes_to_the_message_rendered_alone(composition, checkin_id, name):
    kind, keys = composition
    questions = render.FirstQuestions()
    questions.payload_json(CATALOG, kind, keys, 7, "Someone else")  # the template is reused
    encoded = questions.payload_json(CATALOG, kind, keys, checkin_id, name)
    assert json.loads(encoded) == rendered_alone(kind, keys, checkin_id, name)
