"""TF-IDF over n-grams of characters or of words, counted with numpy: the numbers scikit-learn's
TfidfVectorizer(analyzer, min_df, sublinear_tf=True) gives (a test compares vocabulary, idf and
matrix), in a third of its time. scikit-learn cuts every n-gram of every message into a Python
string and counts them one by one (about 3.6 million for the corpus, 3 of the child's 10 seconds
on this machine); here each n-gram is a number computed from the codes of its units, and only
the terms kept become strings. Used by the training child alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast


class NgramTfidf:
    """fit_transform(), transform(), vocabulary_ and idf_, as TfidfVectorizer has them, for the
    analyzer `analyze`, whose terms are runs of `ngrams` units of `units(text)`: its characters
    when that is a string (a term is them joined), its words when a list (joined by spaces)."""

    def __init__(self, analyze: Callable[[str], list[str]],
                 units: Callable[[str], str] | Callable[[str], list[str]],
                 ngrams: tuple[int, int], min_df: int) -> None:  # fmt: skip
        self.analyze = analyze  # the same terms, for transform() and the fallback
        self.units = units
        self.low, self.high = ngrams
        self.min_df = min_df
        self.vocabulary_: dict[str, int] = {}
        self.idf_: Any = None  # a numpy array once fitted (numpy is imported only to fit)

    def fit_transform(self, texts: Sequence[str]):
        import numpy
        from scipy.sparse import csc_matrix

        lengths, codes, units, joiner = self._units(texts)
        base = len(units) + 1  # a unit's code is 1.., so no n-gram's number is another's
        n_docs = len(texts)
        if not len(codes) or base**self.high * max(1, n_docs) >= 2**63:
            return self._fit_by_scikit_learn(texts)  # numbers too large for int64: rare
        ends = numpy.repeat(numpy.cumsum(lengths), lengths)  # where each position's message ends
        doc_of = numpy.repeat(numpy.arange(n_docs, dtype=numpy.int64), lengths)
        position = numpy.arange(len(codes))
        keys, owners = [], []
        for n in range(self.low, self.high + 1):
            start = position[position + n <= ends]
            key = numpy.zeros(len(start), dtype=numpy.int64)
            for offset in range(n):
                key = key * base + codes[start + offset]
            keys.append(key)
            owners.append(doc_of[start])
        # (n-gram, message) pairs: how often each occurs (tf), and in how many messages (df)
        pairs, tf = numpy.unique(numpy.concatenate(keys) * n_docs + numpy.concatenate(owners),
                                 return_counts=True)  # fmt: skip
        pair_key, pair_doc = pairs // n_docs, pairs % n_docs  # sorted by n-gram, then message
        # Each n-gram's run of pairs: its messages in order, so df is the run's length, and the
        # runs of the n-grams kept are the columns of a CSC matrix as they stand.
        first = numpy.flatnonzero(numpy.r_[True, pair_key[1:] != pair_key[:-1]])
        runs = numpy.diff(numpy.r_[first, len(pair_key)])
        kept = runs >= self.min_df
        terms_key, df = pair_key[first[kept]], runs[kept]
        in_kept = numpy.repeat(kept, runs)
        terms = _spelled(terms_key, base, units, joiner, self.high)
        by_string = sorted(range(len(terms)), key=terms.__getitem__)  # scikit-learn's order
        self.vocabulary_ = {terms[i]: c for c, i in enumerate(by_string)}
        idf = numpy.log((1 + n_docs) / (1 + df.astype(numpy.float64))) + 1
        self.idf_ = idf[numpy.array(by_string, dtype=numpy.int64)]
        indptr = numpy.r_[0, numpy.cumsum(df)]
        by_key = csc_matrix((tf[in_kept].astype(numpy.float64), pair_doc[in_kept], indptr),
                            shape=(n_docs, len(terms)))  # fmt: skip
        matrix = by_key[:, by_string].tocsr()  # the columns in string order; sorted rows
        matrix.sort_indices()  # (a no-op when already sorted, as tocsr leaves them)
        return self._weigh(matrix)

    def _units(self, texts: Sequence[str]):
        """Each message's length in units, every unit's code (1..) in one array, the units by
        code (from 1), and what joins them in a term."""
        import numpy

        docs = [self.units(t) for t in texts]
        if docs and not isinstance(docs[0], str):  # words: each numbered in order of first sight
            tokens = cast(list[list[str]], docs)
            code_of: dict[str, int] = {}
            number = code_of.setdefault
            codes = numpy.fromiter((number(w, len(code_of) + 1) for d in tokens for w in d),
                                   dtype=numpy.int64)  # fmt: skip
            lengths = numpy.fromiter(map(len, tokens), dtype=numpy.int64, count=len(tokens))
            return lengths, codes, list(code_of), " "
        strings = cast(list[str], docs)  # characters: each numbered by its code point
        points = numpy.frombuffer("".join(strings).encode("utf-32-le"), dtype=numpy.uint32)
        alphabet, inverse = numpy.unique(points, return_inverse=True)
        lengths = numpy.fromiter(map(len, strings), dtype=numpy.int64, count=len(strings))
        chars = [chr(c) for c in alphabet.tolist()]
        return lengths, inverse.astype(numpy.int64).ravel() + 1, chars, ""

    def transform(self, texts: Sequence[str]):
        from scipy.sparse import csr_matrix

        rows, columns, counts = [], [], []
        for row, text in enumerate(texts):
            for term, count in Counter(self.analyze(text)).items():
                at = self.vocabulary_.get(term)
                if at is not None:
                    rows.append(row)
                    columns.append(at)
                    counts.append(float(count))
        matrix = csr_matrix((counts, (rows, columns)), shape=(len(texts), len(self.vocabulary_)))
        matrix.sort_indices()
        return self._weigh(matrix)

    def _weigh(self, matrix):
        """Sublinear tf, times idf, each row to unit length: TfidfTransformer's steps."""
        import numpy

        numpy.log(matrix.data, matrix.data)
        matrix.data += 1
        matrix.data *= self.idf_[matrix.indices]
        norms = numpy.sqrt(numpy.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        matrix.data /= numpy.repeat(norms, numpy.diff(matrix.indptr))
        return matrix

    def _fit_by_scikit_learn(self, texts: Sequence[str]):
        import numpy
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer=self.analyze, min_df=self.min_df,
                                     sublinear_tf=True, dtype=numpy.float64)  # fmt: skip
        matrix = vectorizer.fit_transform(texts)
        self.vocabulary_, self.idf_ = dict(vectorizer.vocabulary_), vectorizer.idf_
        return matrix


def _spelled(keys, base: int, units: list[str], joiner: str, longest: int) -> list[str]:
    """The n-grams the numbers (sorted) stand for: a number's digits in `base` are its units'
    codes, the first unit the most significant. The digits are taken with numpy, a length at a
    time (the n-grams of length n are the numbers from base**(n-1) to base**n, all together once
    sorted); for characters the code points are read as strings whole (a fixed-width unicode
    view), where a Python loop over 80,000 terms took half a second."""
    import numpy

    # A unit that is itself NUL would be lost by the unicode view, which drops trailing NULs.
    as_text = joiner == "" and all(len(u) == 1 and u != "\0" for u in units)
    points = numpy.array([0] + [ord(u) for u in units] if as_text else [0], dtype=numpy.uint32)
    table = numpy.array([""] + units, dtype=object)
    terms: list[str] = []
    bounds = numpy.searchsorted(keys, [base**n for n in range(longest + 1)])
    for n in range(1, longest + 1):
        same_length = keys[bounds[n - 1] : bounds[n]]
        digits = numpy.empty((len(same_length), n), dtype=numpy.int64)
        rest = same_length.copy()
        for place in range(n - 1, -1, -1):
            rest, digits[:, place] = numpy.divmod(rest, base)
        if as_text:
            strings = numpy.ascontiguousarray(points[digits]).view(f"<U{n}").ravel()
            terms += strings.tolist()
        else:
            terms += [joiner.join(row) for row in table[digits].tolist()]
    return terms
