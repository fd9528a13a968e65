"""The screen's decision rules as a table, the corpus's validation, and the model's
determinism. Pure: no bot, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from messages.catalog import ScreenThresholds, load_catalog
from messages.screen import decide, language_of, screen
from messages.screen_corpus import HEADER, CorpusError, cached_corpus, load_corpus, parse_line
from messages.screen_model import (
    ScreenModel,
    char_ngrams,
    fit,
    model_for,
    prepare,
    train,
    word_ngrams,
)

T = ScreenThresholds(crisis=0.6, ask=0.3, lapse=0.5, craving=0.5, hinted=0.15)
RULES = load_catalog().screen


def scores(crisis=0.0, lapse=0.0, craving=0.0):
    return {"crisis": crisis, "lapse": lapse, "craving": craving}


@pytest.mark.parametrize(
    "phrases, model, hints, response, categories, why",
    [
        # nothing at all
        ({}, scores(), {}, None, (), {}),
        ({}, {}, {}, None, (), {}),  # no model: the lexicon alone
        # the lexicon is the floor: a phrase fires whatever the model says
        ({"crisis": "kill myself"}, scores(crisis=0.01), {}, "crisis", ("crisis",),
         {"crisis": "the words “kill myself”"}),
        ({"crisis": "kill myself"}, {}, {}, "crisis", ("crisis",),
         {"crisis": "the words “kill myself”"}),
        # the model decides the rest
        ({}, scores(crisis=0.83), {}, "crisis", ("crisis",), {"crisis": "model score 0.83"}),
        ({}, scores(crisis=0.6), {}, "crisis", ("crisis",), {"crisis": "model score 0.60"}),
        ({}, scores(crisis=0.59), {}, "ask", ("crisis",),
         {"crisis": "model score 0.59: not sure, so asked"}),
        ({}, scores(crisis=0.3), {}, "ask", ("crisis",),
         {"crisis": "model score 0.30: not sure, so asked"}),
        ({}, scores(crisis=0.29), {}, None, (), {}),
        # a broad word of danger lowers the bar for the question, never for the crisis response
        ({}, scores(crisis=0.2), {"crisis": "dead"}, "ask", ("crisis",),
         {"crisis": "model score 0.20 (the words “dead”): not sure, so asked"}),
        ({}, scores(crisis=0.1), {"crisis": "dead"}, None, (), {}),
        # lapse and craving are flagged on their own; the response is the most urgent
        ({}, scores(lapse=0.7), {}, "lapse", ("lapse",), {"lapse": "model score 0.70"}),
        ({}, scores(crisis=0.4, lapse=0.7), {}, "ask", ("crisis", "lapse"),
         {"crisis": "model score 0.40: not sure, so asked", "lapse": "model score 0.70"}),
        ({"lapse": "relapsed"}, scores(crisis=0.9), {}, "crisis", ("crisis", "lapse"),
         {"crisis": "model score 0.90", "lapse": "the words “relapsed”"}),
        ({}, scores(lapse=0.6, craving=0.9), {}, "lapse", ("lapse", "craving"),
         {"lapse": "model score 0.60", "craving": "model score 0.90"}),
        ({"craving": "craving"}, scores(), {}, "craving", ("craving",),
         {"craving": "the words “craving”"}),
        ({}, scores(crisis=0.35, craving=0.9), {}, "ask", ("crisis", "craving"),
         {"crisis": "model score 0.35: not sure, so asked", "craving": "model score 0.90"}),
    ],
)  # fmt: skip
def test_decision_rules(phrases, model, hints, response, categories, why):
    result = decide(phrases, model, T, hints)
    assert (result.response, result.categories, result.why) == (response, categories, why)
    assert result.lapse == ("lapse" in categories)


@pytest.mark.parametrize(
    "phrases, model, negated, response",
    [
        # the lexicon's words, negated ("i do not want to die"), raise the model's bar to 0.9
        ({}, scores(crisis=0.8), {"crisis": "want to die"}, None),
        ({}, scores(crisis=0.95), {"crisis": "want to die"}, "crisis"),
        # a denial of use with no explicit phrase anywhere raises the bars for lapse and craving
        # ("not going to use tonight"), never the crisis one: "no bebí y ya no aguanto más"
        ({}, scores(crisis=0.8), {"craving": "going to use"}, "crisis"),
        ({}, scores(crisis=0.4), {"lapse": "bebi"}, "ask"),
        ({}, scores(lapse=0.8), {"craving": "going to use"}, None),
        ({}, scores(craving=0.8), {"lapse": "drank"}, None),
        # an explicit phrase elsewhere: the other categories keep their own bars
        ({"lapse": "relapsed"}, scores(crisis=0.8), {"craving": "going to use"}, "crisis"),
        ({"lapse": "relapsed"}, scores(crisis=0.4), {"crisis": "suicidal"}, "lapse"),
    ],
)  # fmt: skip
def test_negated_words_raise_the_bar(phrases, model, negated, response):
    thresholds = ScreenThresholds(0.6, 0.3, 0.5, 0.5, 0.15, negated=0.9)
    assert decide(phrases, model, thresholds, {}, negated).response == response


@pytest.mark.parametrize(
    "phrases, model, response, categories",
    [
        # a short message's crisis score brings the question at `ask` (0.3), and the crisis
        # response only at `short` (0.8), not at `crisis` (0.6)
        ({}, scores(crisis=0.7), "ask", ("crisis",)),
        ({}, scores(crisis=0.85), "crisis", ("crisis",)),
        ({}, scores(crisis=0.29), None, ()),
        # lapse and craving need `short` (0.8 here), not their own bars (0.5)
        ({}, scores(lapse=0.7), None, ()),
        ({}, scores(lapse=0.85), "lapse", ("lapse",)),
        ({}, scores(craving=0.7), None, ()),
        ({}, scores(craving=0.81), "craving", ("craving",)),
        # an explicit phrase fires as ever
        ({"crisis": "kill myself"}, scores(crisis=0.1), "crisis", ("crisis",)),
        ({"lapse": "day 1 again"}, scores(), "lapse", ("lapse",)),
    ],
)  # fmt: skip
def test_a_short_message_needs_a_higher_score_from_the_model(
    phrases, model, response, categories
):
    thresholds = ScreenThresholds(0.6, 0.3, 0.5, 0.5, 0.15, short=0.8)
    result = decide(phrases, model, thresholds, short=True)
    assert (result.response, result.categories) == (response, categories)


@pytest.mark.parametrize(
    "text, response",
    [
        # short calm sentences the model once flagged (docs/screen.md): no alarm now
        ("I don't know the time", {None, "ask"}),
        ("I slept well last night", {None}),
        ("shot some hoops with my nephew", {None, "ask"}),
        # short risk in street words, by the lexicon
        ("day 1 again", {"lapse"}),
        ("did a bag this morning", {"lapse"}),
        ("I want to kill myself", {"crisis"}),
    ],
)
def test_short_messages_through_the_screen(text, response):
    assert screen(text, RULES).response in response


def test_explain_names_each_flag():
    result = decide({"crisis": "want to die"}, scores(lapse=0.91), T)
    assert result.explain() == "crisis: the words “want to die”; lapse: model score 0.91"


@pytest.mark.parametrize(
    "text, language",
    [
        ("ya no quiero vivir, tengo las pastillas aquí", "es"),
        ("me siento muy sola hoy", "es"),
        ("não aguento mais, eu to muito mal", "pt"),
        ("I can't do this anymore", "en"),
        ("my tía called, she's coming over", "en"),  # one Spanish word is not Spanish
        ("I relapsed anoche y me siento horrible", "es"),  # Spanglish
    ],
)
def test_language_of(text, language):
    assert language_of(text, RULES) == language


# --- the corpus -------------------------------------------------------------------------------


def test_the_corpus_is_valid_and_hashed():
    corpus = cached_corpus()
    assert len(corpus.writers) >= 3 and len(corpus.digest) == 64
    assert {lang for e in corpus.examples for lang in [e.lang]} >= {"en", "es", "pt"}


@pytest.mark.parametrize(
    "line, problem",
    [
        ("crisis\ten\tI want to die", "expected 4"),
        ("suicide\ten\tI want to die\tpassive wish", "labels 'suicide'"),
        ("crisis,crisis\ten\tI want to die\tx", "labels"),
        ("none,crisis\ten\tI want to die\tx", "labels"),
        ("crisis\tfr\tje veux mourir\tx", "language 'fr'"),
        ("crisis\ten\t \tx", "empty"),
        ("crisis\ten\tI want to die\t ", "reason is empty"),
    ],
)
def test_a_bad_line_says_what_is_wrong(line, problem):
    assert problem in parse_line(line)


def test_a_broken_corpus_names_the_file_and_line(tmp_path):
    good = [HEADER, "crisis\ten\tI want to die\tx", "lapse\tes\trecaí anoche\tx",
            "craving\tpt\testou com vontade\tx", "none\tmixed\tfui al meeting hoy\tx"]  # fmt: skip
    (tmp_path / "w1.tsv").write_text("\n".join(good) + "\n")
    assert len(load_corpus(tmp_path).examples) == 4
    (tmp_path / "w2.tsv").write_text(f"{HEADER}\nnone\ten\t  i WANT to   die\tdup\n")
    with pytest.raises(CorpusError, match=r"w2.tsv:2: the same message as w1.tsv:2"):
        load_corpus(tmp_path)
    (tmp_path / "w2.tsv").write_text(f"{HEADER}\nnone\tklingon\tqapla\tx\n")
    with pytest.raises(CorpusError, match=r"w2.tsv:2: language 'klingon'"):
        load_corpus(tmp_path)
    (tmp_path / "w2.tsv").write_text("labels\ttext\n")
    with pytest.raises(CorpusError, match="the first line must be the header"):
        load_corpus(tmp_path)
    (tmp_path / "w2.tsv").unlink()
    (tmp_path / "w1.tsv").write_text("\n".join(good[:2]) + "\n")
    with pytest.raises(CorpusError, match="no messages labelled lapse, craving, none"):
        load_corpus(tmp_path)


# --- the model --------------------------------------------------------------------------------


def test_training_is_deterministic_and_matches_scikit_learn():
    import numpy
    from scipy.sparse import hstack

    examples = cached_corpus().examples[::4]
    one, two = train(examples), train(list(reversed(examples)))
    texts = [e.text for e in cached_corpus().examples[1::37]] + ["", "x" * 5000, "día 1 otra vez"]
    assert [one.scores(t) for t in texts] == [two.scores(t) for t in texts]
    # The plain-numbers scorer gives scikit-learn's own probabilities.
    vectorizers, classifiers = fit(examples)
    features = hstack([v.transform([prepare(t) for t in texts]) for v in vectorizers]).tocsr()
    expected = numpy.array([c.predict_proba(features)[:, 1] for c in classifiers]).T
    got = numpy.array([list(one.scores(t).values()) for t in texts])
    assert numpy.allclose(got, expected, atol=1e-4)


@pytest.mark.parametrize("unit", ["characters", "words"])
def test_the_numpy_counts_are_scikit_learns(unit):
    """NgramTfidf, which counts the n-grams with numpy, gives TfidfVectorizer's
    vocabulary, idf and matrix; on new text too (transform), emoji and short lines included."""
    import numpy
    from sklearn.feature_extraction.text import TfidfVectorizer

    from messages.ngram_tfidf import NgramTfidf
    from messages.screen_model import CHAR_NGRAMS, MIN_DF, WORD_NGRAMS, characters, words_of

    texts = [prepare(e.text) for e in cached_corpus().examples[::7]]
    texts += ["", "a", "ab", "abc", "día 1 otra vez", "🙏🙏 ok", "x" * 300, "  spaced   out "]
    analyze = char_ngrams if unit == "characters" else word_ngrams
    expected = TfidfVectorizer(analyzer=analyze, min_df=MIN_DF, sublinear_tf=True,
                               dtype=numpy.float64)  # fmt: skip
    ours = (NgramTfidf(char_ngrams, characters, CHAR_NGRAMS, MIN_DF) if unit == "characters"
            else NgramTfidf(word_ngrams, words_of, WORD_NGRAMS, MIN_DF))  # fmt: skip
    want, got = expected.fit_transform(texts), ours.fit_transform(texts)
    assert ours.vocabulary_ == expected.vocabulary_
    assert numpy.allclose(ours.idf_, expected.idf_, rtol=0, atol=1e-12)
    assert abs(want - got).max() < 1e-12
    new = texts[::40] + ["", "🙃 something never seen: ĳ", "día"]
    assert abs(expected.transform(new) - ours.transform(new)).max() < 1e-12


def test_the_analyzers_are_scikit_learns_term_for_term():
    """The model's own analyzers, which score in the bot without scikit-learn, give the terms
    scikit-learn's char and word analyzers give."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from messages.screen_model import CHAR_NGRAMS, WORD_NGRAMS, WORDS

    chars = TfidfVectorizer(analyzer="char", ngram_range=CHAR_NGRAMS).build_analyzer()
    words = TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS,
                            token_pattern=WORDS.pattern).build_analyzer()  # fmt: skip
    texts = [prepare(e.text) for e in cached_corpus().examples[::3]]
    texts += ["", "a", "ab", "abc", "abcd", "i", "y yo", "  spaced   out  ", "Día 1 OTRA vez",
              "x" * 40]
    for text in texts:
        assert char_ngrams(text) == chars(text)
        assert word_ngrams(text) == words(text)


def small_corpus(directory):
    """Every fourth message of each writer's file, under the same names: a quick fit."""
    from messages.screen_corpus import CORPUS_DIR

    directory.mkdir()
    for path in sorted(CORPUS_DIR.glob("*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        (directory / path.name).write_text("\n".join([lines[0], *lines[1::4]]) + "\n")
    return directory


def test_a_child_process_trains_the_model_and_the_bot_holds_no_scikit_learn(tmp_path):
    """As the bot does (model_for): the child's fit comes back the same to the bit, and the
    bot's process never imports scikit-learn or numpy (about 90 MB, for good)."""
    import subprocess
    import sys

    directory = small_corpus(tmp_path / "screen")
    probe = (
        "import sys; from pathlib import Path; from messages.screen_model import model_for; "
        f"model = model_for(Path({str(directory)!r})); "
        "print('sklearn' in sys.modules, 'numpy' in sys.modules, flush=True); "
        "sys.stdout.buffer.write(model.to_bytes())"
    )
    command = [sys.executable, "-c", probe]  # our own code
    done = subprocess.run(command, capture_output=True, check=True)  # noqa: S603
    imported, exported = done.stdout.split(b"\n", 1)
    assert imported == b"False False", done.stderr
    corpus = load_corpus(directory)
    here = train(corpus.examples, corpus.digest)
    assert ScreenModel.from_bytes(here.to_bytes()) == here
    assert ScreenModel.from_bytes(exported) == here
    assert len(here.blocks[0].terms) > 1000


def test_a_failed_child_process_trains_here_instead(tmp_path, monkeypatch, caplog):
    from messages import screen_model

    directory = small_corpus(tmp_path / "screen")
    monkeypatch.setattr(screen_model.sys, "executable", "/bin/false")
    model = screen_model.trained_on(directory)
    corpus = load_corpus(directory)
    assert model == train(corpus.examples, corpus.digest)
    assert "training in a child process failed (training exited with 1" in caplog.text


def test_the_model_names_its_corpus():
    assert model_for().digest == cached_corpus().digest


def test_screen_uses_the_model_for_what_the_lexicon_does_not_name():
    result = screen("took 3 blues in the car before work, day 1 again", RULES)
    assert set(result.scores) == {"crisis", "lapse", "craving"}
    assert screen("", RULES).scores == {}


def alive_in_group(group: int) -> list[int]:
    """The processes of a process group not yet dead (zombies left out), from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group and fields[0] != "Z":  # state, ppid, pgrp
            alive.append(int(stat.parent.name))
    return alive


def test_a_child_still_training_at_exit_is_stopped_and_not_replaced(tmp_path):
    """`aftercare run` that gives up early (no Bot API) leaves no training child behind, nor
    any process it forked to fit, and does not start training in its own process on the way
    out."""
    import time

    from messages import screen_model

    directory = small_corpus(tmp_path / "screen")
    thread = screen_model.train_in_background(directory)
    try:
        deadline = time.monotonic() + 60
        while not screen_model._children and time.monotonic() < deadline:
            time.sleep(0.01)
        [child] = screen_model._children
        while len(alive_in_group(child.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # until it has forked (it counts n-grams in a fork)
        assert len(alive_in_group(child.pid)) >= 2
        screen_model._stop_training()
        thread.join(60)
        assert not thread.is_alive()
        assert child.returncode is not None and child.returncode < 0  # killed
        deadline = time.monotonic() + 10
        while alive_in_group(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert alive_in_group(child.pid) == []
        assert directory not in screen_model._models
    finally:
        screen_model._exiting.clear()
