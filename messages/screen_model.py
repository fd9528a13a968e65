"""The screen's learned layer: for each of crisis, lapse and craving, a logistic regression over
TF-IDF character n-grams (which survive typos, voice-to-text and Spanish or Portuguese accents,
and span short phrases) and word n-grams. Trained deterministically from the corpus when first
needed, once per process; no pickled model is ever loaded.

scikit-learn fits the model, in a child process (`python -m messages.screen_model`): importing
scikit-learn alone (it imports scipy.stats) holds about 90 MB for the life of a process, and the
fit about 60 MB more at its peak, while the fitted numbers are a few MB. The child shares the
work out over the cores to processes it forks (fit()), in a process group of its own so that
stopping it stops them too. It writes the numbers (ScreenModel.to_bytes: the floats as float64
bytes, so they come back to the bit) and exits; the bot scores with plain Python and never
imports scikit-learn or numpy. Should the child fail, the model is trained in this process
instead: the bot must not start without it. Pure apart from that: no I/O beyond reading the
corpus.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from messages.ngram_tfidf import NgramTfidf
from messages.screen_corpus import CORPUS_DIR, LABELS, Example, cached_corpus

log = logging.getLogger(__name__)

# Regularization and features; measured by leave-one-writer-out (docs/screen.md).
C = 4.0
CLASS_WEIGHT: str | None = None  # unweighted: the thresholds, not the weights, set the balance
SOLVER = "liblinear"
# The dual problem: with fewer messages (12,500) than terms (105,000) liblinear solves it in half
# the time, to the same model (logits within 0.001 of the primal's on the corpus). It shuffles
# with a random generator that threads would share, so the fits run one after another (fit()).
DUAL = True
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
    text = characters(text)
    low, high = CHAR_NGRAMS
    length = len(text)
    return [text[i : i + n] for n in range(low, min(high, length) + 1)
            for i in range(length - n + 1)]  # fmt: skip


def characters(text: str) -> str:
    """What char_ngrams cuts: lower case, one space for any run of white space."""
    return _WHITE_SPACES.sub(" ", text.lower())


def words_of(text: str) -> list[str]:
    """What word_ngrams joins: the words (WORDS), lower case."""
    return WORDS.findall(text.lower())


def word_ngrams(text: str) -> list[str]:
    """Words (WORDS) and runs of them (WORD_NGRAMS): scikit-learn's `word` analyzer."""
    words = words_of(text)
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

    def to_bytes(self) -> bytes:
        """The model as the child sends it (_encoded): its rows as float64s, exact, and a tenth
        of the time of JSON numbers for 100,000 rows (half a second each way on this machine)."""
        return _encoded(self.digest, self.intercepts, [
            (list(b.terms), array("d", [x for row in b.terms.values() for x in row]).tobytes())
            for b in self.blocks
        ])  # fmt: skip

    @classmethod
    def from_bytes(cls, data: bytes) -> ScreenModel:
        line, _, rest = data.partition(b"\n")
        header = json.loads(line)
        sizes = header["blocks"]
        if len(sizes) != len(ANALYZERS) or len(header["intercepts"]) != 3:
            raise ValueError("a screen model of another shape")
        if header["byteorder"] != sys.byteorder:
            raise ValueError("a screen model written on another kind of machine")
        blocks, at = [], 0
        for analyze, size in zip(ANALYZERS, sizes, strict=True):
            count, text_bytes = size["terms"], size["text_bytes"]
            terms = rest[at : at + text_bytes].decode("utf-8").split("\n") if count else []
            at += text_bytes
            rows = array("d")
            rows.frombytes(rest[at : at + 8 * 4 * count])
            at += 8 * 4 * count
            if len(terms) != count or len(rows) != 4 * count:
                raise ValueError("a screen model cut short")
            values = iter(rows.tolist())  # four a term: idf, then the weight for each label
            quads = zip(values, values, values, values, strict=True)
            blocks.append(_Block(analyze, dict(zip(terms, quads, strict=True))))
        if at != len(rest):
            raise ValueError("a screen model with bytes to spare")
        return cls(header["digest"], tuple(blocks), tuple(header["intercepts"]))


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0  # exp(700) is near the limit


def _counted(messages: Sequence[str]):
    """The vectorizers (one for each of ANALYZERS), fitted, and the messages' features."""
    from scipy.sparse import hstack

    texts = [prepare(m) for m in messages]
    # The n-grams counted with numpy: TfidfVectorizer's numbers, in a third of its time.
    vectorizers = [NgramTfidf(char_ngrams, characters, CHAR_NGRAMS, MIN_DF),
                   NgramTfidf(word_ngrams, words_of, WORD_NGRAMS, MIN_DF)]  # fmt: skip
    features = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    # Tidied once here: scikit-learn's checks would otherwise tidy it in place (summing
    # duplicates) on every fit.
    features.sum_duplicates()
    return vectorizers, features


def _fit_label(features, target: list[bool]):
    """One label's classifier. The same wherever it runs: liblinear's dual solver seeds its
    random generator afresh from random_state on every fit."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    classifier = LogisticRegression(C=C, class_weight=CLASS_WEIGHT, solver=SOLVER, dual=DUAL,
                                    random_state=0, max_iter=1000)  # fmt: skip
    with threadpool_limits(limits=1):  # see ONE_THREAD
        return classifier.fit(features, target)


_features: Any = None  # fit()'s matrix, for the processes it forks to fit the labels


def _fit_forked(target: list[bool]):
    return _fit_label(_features, target)


def fit(examples: Sequence[Example], forks: bool = False):
    """scikit-learn's fitted vectorizers (one for each of ANALYZERS) and one classifier per
    label. The same examples always give the same fit: a fixed order, deterministic solvers.

    With `forks`, the work is shared out to forked processes, over both cores: one counts the
    n-grams while this one imports scikit-learn (each 1.3 s here), then each label is fitted in
    a process of its own, the features shared with it, not copied (0.8 s for the three, not
    1.5). Only for a process running no other thread, as the training child is: a fork copies
    none of them, so a lock one held would stay locked."""
    global _features
    ordered = sorted(examples, key=lambda e: (e.writer, e.line))
    texts = [e.text for e in ordered]
    targets = [[label in e.labels for e in ordered] for label in LABELS]
    if not forks:
        # One after another: liblinear's dual solver draws from C's one random generator, so
        # fits in threads at once would draw each other's numbers, run to run.
        vectorizers, features = _counted(texts)
        return vectorizers, [_fit_label(features, target) for target in targets]
    forking = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=forking) as counting:
        counted = counting.submit(_counted, texts)
        # Imported here meanwhile: scikit-learn takes over a second and some 90 MB, for good.
        from sklearn.linear_model import LogisticRegression  # noqa: F401

        vectorizers, features = counted.result()
    _features = features
    try:
        with ProcessPoolExecutor(len(LABELS), mp_context=forking) as fitting:
            return vectorizers, list(fitting.map(_fit_forked, targets))
    finally:
        _features = None


def fitted_numbers(examples: Sequence[Example], forks: bool = False):
    """The fit as numbers: the intercepts, and for each of ANALYZERS its terms in column order
    with a float64 array of rows (idf, then idf times each label's coefficient)."""
    import numpy

    vectorizers, classifiers = fit(examples, forks)
    coefficient = numpy.array([c.coef_[0] for c in classifiers]).T  # features x labels
    blocks, start = [], 0
    for vectorizer in vectorizers:
        idf = vectorizer.idf_.astype(numpy.float64)
        weights = idf[:, None] * coefficient[start : start + len(idf)]
        by_column = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        blocks.append((by_column, numpy.ascontiguousarray(numpy.column_stack([idf, weights]))))
        start += len(idf)
    return tuple(float(c.intercept_[0]) for c in classifiers), blocks


def train(examples: Sequence[Example], digest: str = "") -> ScreenModel:
    """The fit, in this process, kept as plain numbers (the scikit-learn objects are let go)."""
    intercepts, fitted = fitted_numbers(examples)
    blocks = tuple(
        _Block(analyze, dict(zip(terms, map(tuple, rows.tolist()), strict=True)))  # exact floats
        for analyze, (terms, rows) in zip(ANALYZERS, fitted, strict=True)
    )
    return ScreenModel(digest, blocks, intercepts)


def _encoded(digest: str, intercepts: Sequence[float], blocks) -> bytes:
    """ScreenModel.from_bytes's input: a JSON line (corpus digest, intercepts, sizes), then each
    block's terms, one a line, and its rows as native float64s ((terms, bytes) a block)."""
    parts, sizes = [], []
    for terms, rows in blocks:
        if any("\n" in term for term in terms):  # prepare() leaves no line breaks
            raise ValueError("a term with a line break")
        text = "\n".join(terms).encode("utf-8")
        parts += [text, rows]
        sizes.append({"terms": len(terms), "text_bytes": len(text)})
    header = {"digest": digest, "intercepts": list(intercepts), "blocks": sizes,
              "byteorder": sys.byteorder}  # fmt: skip
    return json.dumps(header).encode("utf-8") + b"\n" + b"".join(parts)


_children: list[subprocess.Popen] = []  # training now
_exiting = threading.Event()


@atexit.register
def _stop_training() -> None:
    """A child still training when this process exits is stopped: no one would read it."""
    _exiting.set()
    for child in list(_children):
        _kill(child)


def _kill(child: subprocess.Popen) -> None:
    """The child and the processes it forked to fit (its process group): they would otherwise
    wait for it forever."""
    if child.returncode is None:  # not yet reaped, so its process group is still its own
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def train_in_child(directory: Path = CORPUS_DIR) -> ScreenModel:
    """train() on the corpus in `directory`, in a child process that exits when done (so this
    process never holds scikit-learn); the model it returns names the corpus this process read."""
    digest = cached_corpus(directory).digest
    root = str(Path(__file__).resolve().parent.parent)  # the child imports this same code
    path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": path}
    command = [sys.executable, "-m", "messages.screen_model", str(directory)]  # our own code
    pipe = subprocess.PIPE
    # A process group of its own, so that _kill() reaches the processes it forks.
    with subprocess.Popen(command, stdout=pipe, stderr=pipe, env=env,  # noqa: S603
                          process_group=0) as child:  # fmt: skip
        _children.append(child)
        try:
            out, err = child.communicate(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill(child)
            raise
        finally:
            _children.remove(child)
    if child.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        last = (lines or ["(nothing on stderr)"])[-1][:300]
        raise RuntimeError(f"training exited with {child.returncode}: {last}")
    model = ScreenModel.from_bytes(out)
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
    """The child: train on the corpus in the directory given and write the model (to_bytes)."""
    args = sys.argv[1:] if argv is None else argv
    corpus = cached_corpus(Path(args[0]) if args else CORPUS_DIR)
    # The child runs no other thread: fit() may fork, where the system can (not on Windows).
    forks = "fork" in multiprocessing.get_all_start_methods()
    intercepts, blocks = fitted_numbers(corpus.examples, forks=forks)  # straight to bytes
    rows = [(terms, numbers.tobytes()) for terms, numbers in blocks]
    sys.stdout.buffer.write(_encoded(corpus.digest, intercepts, rows))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Out at once: tearing down the fit's 500 MB of arrays and modules takes a third of a second,
    # and this process has nothing else to close.
    os._exit(code)
