"""The threshold search (bench/screen_eval.py) applies decide()'s rules vectorized, to try
thousands of thresholds in seconds. If the two drift apart, the thresholds it chooses are
chosen for rules the bot does not run: this compares them outcome for outcome."""

from __future__ import annotations

import itertools

from bench.screen_eval import Columns, Scored
from messages.catalog import ScreenThresholds
from messages.screen import decide

THRESHOLDS = [
    ScreenThresholds(0.425, 0.125, 0.35, 0.275, 0.05, negated=0.9, short=0.8),
    ScreenThresholds(0.6, 0.3, 0.5, 0.4, 0.2, negated=0.85, short=0.7),
]


def rows() -> list[Scored]:
    """Every combination of a phrase, a hint, a negation and a short message, at scores on
    both sides of every bar above."""
    found = []
    levels = (0.04, 0.1, 0.2, 0.3, 0.4, 0.45, 0.55, 0.75, 0.82, 0.88, 0.95)
    lexicon = [
        ({}, {}, {}),
        ({"crisis": "kill myself"}, {}, {}),
        ({"lapse": "i relapsed"}, {}, {}),
        ({}, {"crisis": "dead"}, {}),
        ({}, {}, {"crisis": "want to die"}),
        ({}, {}, {"lapse": "use tonight"}),
        ({"craving": "craving"}, {}, {"crisis": "want to die"}),
        ({}, {"crisis": "dead"}, {"crisis": "want to die"}),
    ]
    for (phrases, hints, negated), short, crisis, lapse in itertools.product(
        lexicon, (False, True), levels, levels[::2]
    ):
        scores = {"crisis": crisis, "lapse": lapse, "craving": 1 - lapse}
        found.append(Scored(("crisis",), "en", "w", phrases, hints, negated, scores, "", short))
    found.append(Scored((), "en", "w", {}, {}, {}, {}, "", False))  # no model: no scores
    return found


def test_the_search_applies_decides_rules():
    cases = rows()
    for thresholds in THRESHOLDS:
        cols = Columns(cases, thresholds)
        crisis = cols.fired("crisis", thresholds.crisis)
        asked = cols.asked(crisis, thresholds.ask, thresholds.hinted)
        lapse = cols.fired("lapse", thresholds.lapse)
        craving = cols.fired("craving", thresholds.craving)
        for i, r in enumerate(cases):
            result = decide(r.phrases, r.scores, thresholds, r.hints, r.negated, r.short)
            crisis_outcome = result.response if result.response in ("crisis", "ask") else None
            expected = (crisis_outcome == "crisis", crisis_outcome == "ask",
                        "lapse" in result.categories, "craving" in result.categories)  # fmt: skip
            got = (bool(crisis[i]), bool(asked[i]), bool(lapse[i]), bool(craving[i]))
            assert got == expected, (r, thresholds)
