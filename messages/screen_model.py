"""The screen's learned layer: for each of crisis, lapse and craving, a logistic regression over
TF-IDF character n-grams (which survive typos, voice-to-text and Spanish or Portuguese accents,
and span short phrases) and word n-grams. Trained deterministically from the corpus when first
needed, once per process; no pickled model is ever loaded.

scikit-learn fits the model, in a child process (`python -m messages.screen_model`): importing
scikit-learn alone (it imports scipy.stats) holds about 90 MB for the life of a process, and the
fit about 60 MB more at its peak, while the fitted numbers are a few MB. The child prints them as
JSON (floats written as repr, so they come back to the bit) and exits; the bot scores with plain
Python and never imports scikit-learn or numpy. Should the child fail, the model is trained in
this process instead: the bot must not start without it. Pure apart from that: no I/O beyond
reading the corpus.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import re
import subprocess
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from messages.char_tfidf import CharTfidf
from messages.screen_corpus import CORPUS_DIR, LABELS, Example, cached_corpus

log = logging.getLogger(__name__)

# Regularization and features; measured by leave-one-writer-out (docs/screen.md).
C = 4.0
CLASS_WEIGHT: str | None = None  # unweighted: the thresholds, not the weights, set the balance
SOLVER = "liblinear"
# A term in fewer messages than this is left out. 3, not 2, since the character n-grams span
# words: a third fewer terms (82,000 of 110,000), a faster fit, the same leave-one-writer-out
# ranking (docs/screen.md).
MIN_DF = 3
# 3 to 5 characters: two-character terms added nothing on leave-one-writer-out (23 writers: the
# same figures, to the point) and cost a quarter of the terms to count and to score.
CHAR_NGRAMS = (3, 5)
WORD_NGRAMS = (1, 2)
WORDS = re.compile(r"(?u)\b\w+\b")  # one-letter words too: "i", "u", "y" (Spanish "and")
CHILD_TIMEOUT_S = 600  # a child that takes longer is given up on, and the model trained here
# liblinear calls BLAS on vectors too short to share out: with a thread per core, OpenBLAS's
# threads spin for most of the fit (on 2 busy cores, 8 s of CPU instead of 5), and the sums
# come out in an order that depends on the number of cores. One thread: less time, and the
# same numbers on every machine.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_WHITE_SPACES = re.compile(r"\s\s+")
_REPEATS = re.compile(r"(.)\1{2,}")


def prepare(text: str) -> str:
    """Lower case, accents off (so "não" and "nao", "todavía" and "todavia" meet), apostrophes
    dropped, long letter repeats shortened ("sooooo" -> "soo"), one space between words."""
    text = text.translate(_APOSTROPHES)
    if not text.isascii():  # plain ASCII has no accents to take off
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _REPEATS.sub(r"\1\1", text.lower().replace("'", ""))
    return " ".join(text.split())


def char_ngrams(text: str) -> list[str]:
    """Character n-grams across the whole message, spaces included: scikit-learn's `char`
    analyzer (lower case, CHAR_NGRAMS), term for term and in its order (a test compares them).
    Across words, not within them: "the roof", "ya tengo", "all my" are terms of their own,
    and leave-one-writer-out caught more crises at fewer calm alarms than with `char_wb`
    (docs/screen.md)."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    low, high = CHAR_NGRAMS
    length = len(text)
    return [text[i : i + n] for n in range(low, min(high, length) + 1)
            for i in range(length - n + 1)]  # fmt: skip


def word_ngrams(text: str) -> list[str]:
    """Words (WORDS) and runs of them (WORD_NGRAMS): scikit-learn's `word` analyzer."""
    words = WORDS.findall(text.lower())
    low, high = WORD_NGRAMS
    grams = list(words) if low == 1 else []
    for n in range(max(low, 2), min(high, len(words)) + 1):
        grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


ANALYZERS: tuple[Callable[[str], list[str]], ...] = (char_ngrams, word_ngrams)


@dataclass(frozen=True)
class _Block:
    """One fitted TF-IDF vectorizer, kept as plain data: its analyzer (text -> terms), and per
    term its idf and, for each label, idf * the classifier's coefficient (so a term's tf is all
    that scoring multiplies)."""

    analyze: Callable[[str], list[str]]
    terms: dict[str, tuple[float, ...]]  # term -> (idf, weight for each of LABELS)


@dataclass(frozen=True)
class ScreenModel:
    """Scores with the fitted models' own numbers, in plain Python: the same figures as
    scikit-learn's predict_proba to float precision, without its per-call checks or imports."""

    digest: str  # the corpus it was trained on
    blocks: tuple[_Block, ...]
    intercepts: tuple[float, ...]  # one per label

    def scores(self, text: str) -> dict[str, float]:
        prepared = prepare(text)
        crisis, lapse, craving = self.intercepts  # LABELS' order
        for block in self.blocks:
            get = block.terms.get
            norm = a = b = c = 0.0
            for term, count in Counter(block.analyze(prepared)).items():
                row = get(term)
                if row is None:
                    continue
                tf = 1.0 if count == 1 else 1.0 + math.log(count)  # sublinear tf
                idf, to_crisis, to_lapse, to_craving = row
                norm += (tf * idf) ** 2
                a += tf * to_crisis
                b += tf * to_lapse
                c += tf * to_craving
            if norm:
                norm = math.sqrt(norm)  # the row's L2 norm, as TfidfVectorizer divides by
                crisis, lapse, craving = crisis + a / norm, lapse + b / norm, craving + c / norm
        logits = (crisis, lapse, craving)
        return {label: round(_sigmoid(x), 4) for label, x in zip(LABELS, logits, strict=True)}

    def scores_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [self.scores(t) for t in texts]

    def to_json(self) -> str:
        blocks = [{"terms": list(b.terms), "rows": list(b.terms.values())} for b in self.blocks]
        return json.dumps({"digest": self.digest, "intercepts": self.intercepts,
                           "blocks": blocks})  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> ScreenModel:
        data = json.loads(text)
        shape = {len(row) for b in data["blocks"] for row in b["rows"]}
        if len(data["blocks"]) != len(ANALYZERS) or len(data["intercepts"]) != 3 or shape != {4}:
            raise ValueError("a screen model of another shape")
        blocks = tuple(
            _Block(analyze, dict(zip(b["terms"], map(tuple, b["rows"]), strict=True)))
            for analyze, b in zip(ANALYZERS, data["blocks"], strict=True)
        )
        return cls(data["digest"], blocks, tuple(data["intercepts"]))


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0  # exp(700) is near the limit


def fit(examples: Sequence[Example]):
    """scikit-learn's fitted vectorizers (one for each of ANALYZERS) and one classifier per
    label. The same examples always give the same fit: a fixed order, deterministic solvers."""
    # Imported here: scikit-learn takes a second and some 90 MB to import, for good.
    import numpy
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    ordered = sorted(examples, key=lambda e: (e.writer, e.line))
    texts = [prepare(e.text) for e in ordered]
    # The character n-grams counted with numpy (scikit-learn's numbers, a third of the time);
    # the words with scikit-learn.
    vectorizers = [CharTfidf(char_ngrams, CHAR_NGRAMS, MIN_DF),
                   TfidfVectorizer(analyzer=word_ngrams, min_df=MIN_DF, sublinear_tf=True,
                                   dtype=numpy.float64)]  # fmt: skip
    def fit_one(label: str):
        target = [label in e.labels for e in ordered]
        classifier = LogisticRegression(C=C, class_weight=CLASS_WEIGHT, solver=SOLVER,
                                        random_state=0, max_iter=1000)  # fmt: skip
        return classifier.fit(features, target)

    with threadpool_limits(limits=1):  # see ONE_THREAD
        features = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
        # Tidied once here: scikit-learn's checks would otherwise tidy it in place (summing
        # duplicates), which three threads must not do to one matrix at once.
        features.sum_duplicates()
        # One thread a label: liblinear lets go of the GIL while it fits, so the three fits
        # share the cores (1.8 s -> 1.3 s on two), and each fit is what it was alone.
        with ThreadPoolExecutor(max_workers=len(LABELS)) as pool:
            classifiers = list(pool.map(fit_one, LABELS))
    return vectorizers, classifiers


def train(examples: Sequence[Example], digest: str = "") -> ScreenModel:
    """The fit, in this process, kept as plain numbers (the scikit-learn objects are let go)."""
    import numpy

    vectorizers, classifiers = fit(examples)
    coefficient = numpy.array([c.coef_[0] for c in classifiers]).T  # features x labels
    blocks, start = [], 0
    for analyze, vectorizer in zip(ANALYZERS, vectorizers, strict=True):
        idf = vectorizer.idf_.astype(numpy.float64)
        weights = idf[:, None] * coefficient[start : start + len(idf)]
        rows = numpy.column_stack([idf, weights]).tolist()  # Python floats, exactly
        by_column = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        blocks.append(_Block(analyze, dict(zip(by_column, map(tuple, rows), strict=True))))
        start += len(idf)
    intercepts = tuple(float(c.intercept_[0]) for c in classifiers)
    return ScreenModel(digest, tuple(blocks), intercepts)


_children: list[subprocess.Popen] = []  # training now
_exiting = threading.Event()


@atexit.register
def _stop_training() -> None:
    """A child still training when this process exits is stopped: no one would read it."""
    _exiting.set()
    for child in list(_children):
        child.kill()


def train_in_child(directory: Path = CORPUS_DIR) -> ScreenModel:
    """train() on the corpus in `directory`, in a child process that exits when done (so this
    process never holds scikit-learn); the model it returns names the corpus this process read."""
    digest = cached_corpus(directory).digest
    root = str(Path(__file__).resolve().parent.parent)  # the child imports this same code
    path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": path}
    command = [sys.executable, "-m", "messages.screen_model", str(directory)]  # our own code
    pipe = subprocess.PIPE
    with subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, env=env) as child:  # noqa: S603
        _children.append(child)
        try:
            out, err = child.communicate(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
        finally:
            _children.remove(child)
    if child.returncode != 0:
        last = (err.strip().splitlines() or ["(nothing on stderr)"])[-1][:300]
        raise RuntimeError(f"training exited with {child.returncode}: {last}")
    model = ScreenModel.from_json(out)
    if model.digest != digest:
        raise RuntimeError("the child trained on another corpus than this process read")
    return model


_models: dict[Path, ScreenModel] = {}
_training = threading.Lock()


def model_for(directory: Path = CORPUS_DIR) -> ScreenModel:
    """The model trained on the corpus in `directory`, trained once per process. A caller while
    it trains (train_in_background's thread, say) waits for it: no one gets a model half-made
    or none."""
    with _training:
        model = _models.get(directory)
        if model is None:
            model = _models[directory] = trained_on(directory)
        return model


def train_in_background(directory: Path = CORPUS_DIR) -> threading.Thread:
    """Start model_for(directory) in a thread, so the child trains while this process does
    other work; model_for() then returns its model, waiting for it if need be. Should that
    training fail, the next model_for() tries again, and its caller gets the error."""

    def quietly() -> None:
        with contextlib.suppress(Exception):
            model_for(directory)

    thread = threading.Thread(target=quietly, name="screen-model", daemon=True)
    thread.start()
    return thread


def trained_on(directory: Path) -> ScreenModel:
    """A model trained on the corpus in `directory`: in a child process, or here if that fails
    (more memory, but never no model)."""
    try:
        return train_in_child(directory)
    except (OSError, RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
        if _exiting.is_set():  # stopped by _stop_training: this process is on its way out
            raise
        log.warning("free-text screen: training in a child process failed (%s); training here",
                    exc)  # fmt: skip
        corpus = cached_corpus(directory)
        return train(corpus.examples, corpus.digest)


def main(argv: Sequence[str] | None = None) -> int:
    """The child: train on the corpus in the directory given and print the model as JSON."""
    args = sys.argv[1:] if argv is None else argv
    corpus = cached_corpus(Path(args[0]) if args else CORPUS_DIR)
    sys.stdout.write(train(corpus.examples, corpus.digest).to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
