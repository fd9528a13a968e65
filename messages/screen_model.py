"""The screen's learned layer: for each of crisis, lapse and craving, a logistic regression over
TF-IDF character n-grams (which survive typos, voice-to-text and Spanish or Portuguese accents)
and word n-grams. Trained deterministically from the corpus when first needed, once per process;
no pickled model is ever loaded. Pure: no I/O beyond reading the corpus.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from messages.screen_corpus import CORPUS_DIR, LABELS, Example, cached_corpus

# Regularization and features; measured by leave-one-writer-out (docs/screen.md).
C = 4.0
CLASS_WEIGHT: str | None = None  # unweighted: the thresholds, not the weights, set the balance
SOLVER = "liblinear"
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
WORDS = r"(?u)\b\w+\b"  # one-letter words too: "i", "u", "y" (Spanish "and")

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def prepare(text: str) -> str:
    """Lower case, accents off (so "não" and "nao", "todavía" and "todavia" meet), apostrophes
    dropped, long letter repeats shortened ("sooooo" -> "soo"), one space between words."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("'", "")
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class _Block:
    """One fitted TF-IDF vectorizer, kept as plain data: its analyzer (text -> terms), and per
    term its column, idf and the classifiers' weights."""

    analyze: Callable[[str], list[str]]
    columns: dict[str, int]
    weights: Any  # numpy array, terms x labels: idf * coefficient, so a term's tf is all we add
    idf: Any  # numpy array of the terms' idf, for the L2 norm


@dataclass(frozen=True)
class ScreenModel:
    """Scores with the fitted models' own numbers, without scikit-learn's per-call checks
    (which cost ~10 ms a message): the same figures to float precision."""

    digest: str  # the corpus it was trained on
    blocks: tuple[_Block, ...]
    intercepts: Any  # numpy array, one per label

    def scores(self, text: str) -> dict[str, float]:
        import numpy

        prepared = prepare(text)
        logits = self.intercepts.copy()
        for block in self.blocks:
            counts: dict[int, int] = {}
            for term in block.analyze(prepared):
                column = block.columns.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = numpy.fromiter(counts, dtype=numpy.int64, count=len(counts))
            tf = 1.0 + numpy.log(numpy.fromiter(counts.values(), dtype=numpy.float64))
            norm = float(numpy.sqrt(numpy.sum((tf * block.idf[columns]) ** 2)))
            logits += tf @ block.weights[columns] / norm
        probabilities = 1.0 / (1.0 + numpy.exp(-logits))
        return {label: round(float(p), 4) for label, p in zip(LABELS, probabilities, strict=True)}

    def scores_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [self.scores(t) for t in texts]


def fit(examples: Sequence[Example]):
    """scikit-learn's fitted vectorizers and one classifier per label. The same examples always
    give the same fit: a fixed order, deterministic solvers."""
    # Imported here: scikit-learn takes a moment to import, and most commands never screen.
    import numpy
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    ordered = sorted(examples, key=lambda e: (e.writer, e.line))
    texts = [prepare(e.text) for e in ordered]
    vectorizers = [
        TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=2, sublinear_tf=True,
                        dtype=numpy.float64),
        TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, min_df=2, sublinear_tf=True,
                        token_pattern=WORDS, dtype=numpy.float64),
    ]  # fmt: skip
    features = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    classifiers = []
    for label in LABELS:
        target = [label in e.labels for e in ordered]
        classifier = LogisticRegression(C=C, class_weight=CLASS_WEIGHT, solver=SOLVER,
                                        random_state=0, max_iter=1000)  # fmt: skip
        classifiers.append(classifier.fit(features, target))
    return vectorizers, classifiers


def train(examples: Sequence[Example], digest: str = "") -> ScreenModel:
    """The fit, kept as plain numbers (the scikit-learn objects are let go)."""
    import numpy

    vectorizers, classifiers = fit(examples)
    coefficient = numpy.array([c.coef_[0] for c in classifiers]).T  # features x labels
    blocks, start = [], 0
    for vectorizer in vectorizers:
        idf = vectorizer.idf_.astype(numpy.float64)
        weights = idf[:, None] * coefficient[start : start + len(idf)]
        columns = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        blocks.append(_Block(vectorizer.build_analyzer(), columns, weights, idf))
        start += len(idf)
    intercepts = numpy.array([c.intercept_[0] for c in classifiers])
    return ScreenModel(digest, tuple(blocks), intercepts)


@functools.cache
def model_for(directory: Path = CORPUS_DIR) -> ScreenModel:
    """The model trained on the corpus in `directory`, trained once per process."""
    corpus = cached_corpus(directory)
    return train(corpus.examples, corpus.digest)
