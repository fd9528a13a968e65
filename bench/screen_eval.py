"""The screen's figures (`make screen-eval`): leave-one-writer-out over the corpus (train on
every writer but one, screen that one's messages, for each writer), per writer, overall and by
language; then the tests/data/ tables, screened by the model trained on the whole corpus.

    .venv/bin/python -m bench.screen_eval           # the table, with the content's thresholds
    .venv/bin/python -m bench.screen_eval --choose  # first search thresholds (out-of-fold)
    .venv/bin/python -m bench.screen_eval --held-out writer_g writer_h  # one fit, no LOWO

--choose prints the table with the content's thresholds first, then with the chosen ones, from
the same out-of-fold scores (the leave-one-writer-out run is the slow part). --held-out trains
once on every writer but those named and screens theirs: for new writers, before anything is
tuned on them, the one figure on them that nothing saw.

Thresholds are chosen only on the leave-one-writer-out scores (the --choose search), so the
figures it reports are cross-validated but not untouched: the thresholds saw them. A set that
no one on the team has seen is the only honest measure.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from messages.catalog import ScreenThresholds, load_catalog
from messages.screen import ScreenResult, decide, is_short, lexicon, model_reads
from messages.screen_corpus import Example, cached_corpus
from messages.screen_model import train

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
TABLES = ("screen_sentences.tsv", "screen_holdout.tsv", "screen_blind.tsv")
GOALS = {
    "crisis→crisis": ("≥", 0.90),
    "crisis→crisis/ask": ("≥", 0.97),
    "lapse→lapse": ("≥", 0.85),
    "craving→coping/ask": ("≥", 0.75),
    "calm→crisis/lapse": ("≤", 0.05),
    "calm→ask": ("≤", 0.12),
}


@dataclass(frozen=True)
class Scored:
    labels: tuple[str, ...]
    lang: str
    writer: str
    phrases: dict[str, str]
    hints: dict[str, str]
    negated: dict[str, str]
    scores: dict[str, float]
    text: str
    short: bool = False  # fewer than model_short_words words (messages/screen.py's decide)


def figures(rows: Sequence[tuple[tuple[str, ...], ScreenResult]]) -> dict[str, tuple[int, int]]:
    """Each goal's (hits, out of)."""
    crisis = [r for labels, r in rows if "crisis" in labels]
    lapse = [r for labels, r in rows if "lapse" in labels]
    craving = [r for labels, r in rows if "craving" in labels]
    calm = [r for labels, r in rows if not labels]

    def count(results, hit):
        return sum(1 for r in results if hit(r)), len(results)

    return {
        "crisis→crisis": count(crisis, lambda r: r.response == "crisis"),
        "crisis→crisis/ask": count(crisis, lambda r: r.response in ("crisis", "ask")),
        "lapse→lapse": count(lapse, lambda r: r.lapse),
        "craving→coping/ask": count(craving, lambda r: r.craving or r.response == "ask"),
        "calm→crisis/lapse": count(calm, lambda r: r.response == "crisis" or r.lapse),
        "calm→ask": count(calm, lambda r: r.response == "ask"),
    }


def decided(rows: Sequence[Scored], thresholds: ScreenThresholds):
    return [(r.labels, decide(r.phrases, r.scores, thresholds, r.hints, r.negated, r.short))
            for r in rows]  # fmt: skip


def _scored(held: Sequence[Example], model, rules) -> list[Scored]:
    rows = []
    for example, scores in zip(held, model.scores_many([e.text for e in held]), strict=True):
        found = lexicon(example.text, rules)
        scores = scores if model_reads(example.text, rules) else {}
        rows.append(Scored(example.labels, example.lang, example.writer, found.phrases,
                           found.hints, found.negated, scores, example.text,
                           is_short(example.text, rules)))  # fmt: skip
    return rows


def out_of_fold(examples: Sequence[Example], rules) -> list[Scored]:
    """Every message scored by a model that never saw its writer."""
    rows = []
    for writer in sorted({e.writer for e in examples}):
        model = train([e for e in examples if e.writer != writer])
        rows += _scored([e for e in examples if e.writer == writer], model, rules)
    return rows


def held_out(examples: Sequence[Example], writers: Sequence[str], rules) -> list[Scored]:
    """The named writers' messages, scored by one model trained on all the other writers."""
    unknown = set(writers) - {e.writer for e in examples}
    if unknown:
        raise SystemExit(f"no such writer in the corpus: {', '.join(sorted(unknown))}")
    model = train([e for e in examples if e.writer not in writers])
    return _scored([e for e in examples if e.writer in writers], model, rules)


def by_writer(rows: Sequence[Scored], writers: Sequence[str], pooled: str):
    groups: dict[str, Sequence[Scored]] = {w: [r for r in rows if r.writer == w] for w in writers}
    groups[pooled] = rows
    groups["English"] = [r for r in rows if r.lang == "en"]
    groups["Spanish, Portuguese, mixed"] = [r for r in rows if r.lang != "en"]
    return groups


def table_rows(model, rules) -> dict[str, list[Scored]]:
    tables = {}
    for name in TABLES:
        rows = []
        for line in (DATA / name).read_text().splitlines():
            if line and not line.startswith("#"):
                label, text = line.split("\t", 1)
                labels = () if label == "none" else (label,)
                found = lexicon(text, rules)
                scores = model.scores(text) if model_reads(text, rules) else {}
                rows.append(Scored(labels, "en", name, found.phrases, found.hints, found.negated,
                                   scores, text, is_short(text, rules)))  # fmt: skip
        tables[name] = rows
    return tables


def _cell(hits: int, total: int) -> str:
    return f"{hits / total:.2f} ({hits}/{total})" if total else "–"


def print_table(groups: Mapping[str, Sequence[Scored]], thresholds: ScreenThresholds) -> None:
    names = list(GOALS)
    print("| set | n | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    goal = " | ".join(f"{sign} {value:.2f}" for sign, value in GOALS.values())
    print(f"| goal | | {goal} |")
    for group, rows in groups.items():
        result = figures(decided(rows, thresholds))
        print(f"| {group} | {len(rows)} | " + " | ".join(_cell(*result[n]) for n in names) + " |")


def meets(result: dict[str, tuple[int, int]], margin: float = 0.0) -> bool:
    for name, (sign, value) in GOALS.items():
        hits, total = result[name]
        rate = hits / total if total else 0.0
        if sign == "≤" and rate > value - margin:
            return False
    return True


class Columns:
    """The rows' labels, scores and lexicon findings as numpy columns, and decide()'s rules on
    them, vectorized: the search below tries thousands of thresholds, and decide() message by
    message would take minutes. A test checks these give decide()'s outcomes."""

    def __init__(self, rows: Sequence[Scored], content: ScreenThresholds) -> None:
        import numpy

        def column(get) -> numpy.ndarray:
            return numpy.array([get(r) for r in rows])

        self.content = content
        self.crisis = column(lambda r: "crisis" in r.labels)
        self.lapse = column(lambda r: "lapse" in r.labels)
        self.calm = column(lambda r: not r.labels)
        self.score = {c: column(lambda r, c=c: r.scores.get(c, -1.0)) for c in CATEGORIES}
        self.phrase = {c: column(lambda r, c=c: c in r.phrases) for c in CATEGORIES}
        self.hinted = column(lambda r: "crisis" in r.hints)
        # decide()'s denial: negated words, for that category or (no phrase at all) for lapse
        # and craving.
        self.denied = {c: column(lambda r, c=c: c not in r.hints and (
                           c in r.negated or bool(r.negated and not r.phrases and c != "crisis")))
                       for c in CATEGORIES}  # fmt: skip
        self.short = column(lambda r: r.short)

    def fired(self, category: str, at: float):
        """decide()'s flag for `category` at the bar `at`: negated words raise the bar to
        `negated`, and a short message's to at least `short`."""
        import numpy

        bar = numpy.where(self.denied[category], max(at, self.content.negated), at)
        bar = numpy.where(self.short, numpy.maximum(bar, self.content.short), bar)
        return self.phrase[category] | (self.score[category] >= bar)

    def asked(self, is_crisis, t_ask: float, t_hinted: float):
        """decide()'s direct question, given who got the crisis response."""
        score = self.score["crisis"]
        return ~is_crisis & ~self.denied["crisis"] & (
            (score >= t_ask) | (self.hinted & (score >= min(t_ask, t_hinted))))


CATEGORIES = ("crisis", "lapse", "craving")
# New writers, screened before anything was tuned on them, had more calm alarms than
# leave-one-writer-out promised: 0.4 points more for r-t, 0.2 for u-w, 1.5 for x-z (5.4 %
# against 3.9 %). The search keeps the out-of-fold rate that much under the goal.
ALARM_MARGIN = 0.015


def choose(rows: Sequence[Scored], content: ScreenThresholds) -> ScreenThresholds:
    """The thresholds that catch the most risk on the out-of-fold scores while the calm
    messages stay within their goals, with a margin of one point, and a point and a half for
    calm alarms (unseen writers differ: see ALARM_MARGIN).
    Lapse, crisis, the question and the hinted question are searched together (a greedy
    lapse-first choice once cost 18 crisis responses for one calm alarm): most crises answered
    by the response or the question, up to a point and a half above that goal; then the
    larger of the two smaller margins above their goals, crisis→crisis's and lapse→lapse's,
    so that neither is bought with the other; then the most crisis responses; then the fewest
    calm people asked. Lapse bars run from the one that spends half the calm budget
    on false alarms up to the last that keeps lapse→lapse a point above its goal. Craving
    last, the lowest that leaves 95 calm messages in 100 without a coping prompt (its false
    alarms count against no goal, but they tire people). The bar for negated words and the
    short-message rule stay the content's."""
    import numpy

    cols = Columns(rows, content)
    calm, crisis, lapse = cols.calm, cols.crisis, cols.lapse
    grid = numpy.round(numpy.arange(0.05, 0.975, 0.025), 3)
    margin = 0.01
    alarms_budget = GOALS["calm→crisis/lapse"][1] - ALARM_MARGIN
    ask_budget = GOALS["calm→ask"][1] - margin
    # Beyond its goal and a point, more crises answered by the question is not worth more
    # calm people asked whether they are safe.
    answered_enough = GOALS["crisis→crisis/ask"][1] + 1.5 * margin

    def rate(hit, group) -> float:
        return float((hit & group).sum() / max(1, group.sum()))

    lapse_goal = GOALS["lapse→lapse"][1] + margin
    first = next((t for t in grid if rate(cols.fired("lapse", t), calm) <= alarms_budget / 2),
                 0.95)  # fmt: skip
    lapse_bars = [t for t in grid
                  if t >= first and rate(cols.fired("lapse", t), lapse) >= lapse_goal]  # fmt: skip
    best, best_key = None, None
    for t_lapse in lapse_bars or [first]:
        flagged_lapse = cols.fired("lapse", t_lapse)
        caught_lapses = rate(flagged_lapse, lapse)
        for t_crisis in grid:
            is_crisis = cols.fired("crisis", t_crisis)
            if rate(is_crisis | flagged_lapse, calm) > alarms_budget:
                continue
            for t_ask in grid[grid <= t_crisis]:
                for t_hinted in [*grid[grid <= t_ask], 1.0]:
                    asked = cols.asked(is_crisis, t_ask, t_hinted)
                    if rate(asked, calm) > ask_budget:
                        continue
                    caught = rate(is_crisis, crisis)
                    balance = min(caught - GOALS["crisis→crisis"][1],
                                  caught_lapses - GOALS["lapse→lapse"][1])  # fmt: skip
                    answered = min(rate(is_crisis | asked, crisis), answered_enough)
                    key = (answered, round(balance, 4), caught, -rate(asked, calm))
                    if best_key is None or key > best_key:
                        best_key, best = key, (t_lapse, t_crisis, t_ask, t_hinted)
    t_lapse, t_crisis, t_ask, t_hinted = best if best else (first, 0.95, 0.95, 1.0)
    t_craving = next((t for t in grid if rate(cols.fired("craving", t), calm) <= 0.05), 0.95)
    return replace(content, crisis=float(t_crisis), ask=float(t_ask), lapse=float(t_lapse),
                   craving=float(t_craving), hinted=float(t_hinted))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--choose", action="store_true", help="search thresholds (slow)")
    parser.add_argument("--misses", action="store_true", help="print what the screen got wrong")
    parser.add_argument("--held-out", nargs="+", metavar="WRITER",
                        help="train once on the other writers and screen only these")  # fmt: skip
    args = parser.parse_args()
    rules = load_catalog().screen
    corpus = cached_corpus()
    thresholds = rules.thresholds
    print(f"corpus {corpus.digest[:12]}: {len(corpus.examples)} messages, "
          f"{len(corpus.writers)} writers; thresholds {thresholds}")  # fmt: skip
    if args.held_out:
        rows = held_out(corpus.examples, args.held_out, rules)
        trained_on = sorted(set(corpus.writers) - set(args.held_out))
        print(f"\n{', '.join(args.held_out)}, screened by one model trained on "
              f"{', '.join(trained_on)}, with the content's thresholds:\n")  # fmt: skip
        print_table(by_writer(rows, args.held_out, "held out, pooled"), thresholds)
        return
    rows = out_of_fold(corpus.examples, rules)
    heading = "\nLeave one writer out (each writer screened by a model trained on the others)"
    groups = by_writer(rows, corpus.writers, "all writers")
    if args.choose:
        print(f"{heading}, with the content's thresholds:\n")
        print_table(groups, thresholds)
        thresholds = choose(rows, thresholds)
        print(f"\nchosen on the out-of-fold scores: {thresholds}")
    print(f"{heading}:\n")
    print_table(groups, thresholds)
    model = rules.trained_model()
    tables = table_rows(model, rules)
    print("\ntests/data/ tables (model trained on the whole corpus; the lexicon was written "
          "against screen_sentences.tsv):\n")  # fmt: skip
    print_table(tables, thresholds)
    no_model = replace(thresholds)
    lexicon_only = {name: [replace(r, scores={}) for r in rs] for name, rs in tables.items()}
    lexicon_only["corpus, all writers"] = [replace(r, scores={}) for r in rows]
    print("(the lexicon alone never asks: its broad words only ever lower the model's bar)")
    print("\nThe lexicon alone, for comparison:\n")
    print_table(lexicon_only, no_model)
    if args.misses:
        for r in rows:
            result = decide(r.phrases, r.scores, thresholds, r.hints, r.negated, r.short)
            wrong = (("crisis" in r.labels and result.response not in ("crisis", "ask"))
                     or (not r.labels and (result.response or result.categories)))  # fmt: skip
            if wrong:
                print(f"{','.join(r.labels) or 'none'}\t{result.response}\t{result.explain()}"
                      f"\t{r.text[:160]}")  # fmt: skip


if __name__ == "__main__":
    main()
