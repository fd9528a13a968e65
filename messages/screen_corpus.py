"""The screen's corpus: labelled messages in messages/content/screen/<writer>.tsv, one file per
writer who had seen neither the patterns nor the other files. Pure parsing and validation; a
broken corpus stops the bot at start-up with the file and line to fix.

A file starts with the header line below; every other line (blank lines and # comments aside)
is `labels<TAB>lang<TAB>text<TAB>reason`, where labels are one or more of crisis, lapse,
craving (most urgent first, comma-separated) or `none`, and lang is en, es, pt or mixed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

LABELS = ("crisis", "lapse", "craving")
LANGUAGES = ("en", "es", "pt", "mixed")
HEADER = "# labels\tlang\ttext\treason"
CORPUS_DIR = Path(__file__).resolve().parent / "content" / "screen"


class CorpusError(ValueError):
    """The corpus is broken; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    writer: str  # the file's stem
    line: int
    labels: tuple[str, ...]  # empty: a calm message ("none")
    lang: str
    text: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    examples: tuple[Example, ...]
    digest: str  # sha256 of the files, so a figure or a model names the corpus it came from

    @property
    def writers(self) -> tuple[str, ...]:
        return tuple(sorted({e.writer for e in self.examples}))


def duplicate_key(text: str) -> str:
    """Two messages that differ only in case or spacing are the same message."""
    return " ".join(text.casefold().split())


def parse_line(raw: str) -> tuple[tuple[str, ...], str, str, str] | str:
    """(labels, lang, text, reason), or what is wrong with the line."""
    fields = raw.split("\t")
    if len(fields) != 4:
        return f"expected 4 tab-separated fields (labels, lang, text, reason), found {len(fields)}"
    label_field, lang, text, reason = (f.strip() for f in fields)
    labels = tuple(label.strip() for label in label_field.split(","))
    if labels == ("none",):
        labels = ()
    elif any(label not in LABELS for label in labels) or len(set(labels)) < len(labels):
        return f"labels {label_field!r}: one or more of {', '.join(LABELS)}, or none"
    if lang not in LANGUAGES:
        return f"language {lang!r}: one of {', '.join(LANGUAGES)}"
    if not text:
        return "the message is empty"
    if not reason:
        return "the reason is empty"
    return labels, lang, text, reason


def parse_file(path: Path) -> list[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise CorpusError(f"{path}: the first line must be the header {HEADER!r}")
    examples = []
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip() or raw.startswith("#"):
            continue
        parsed = parse_line(raw)
        if isinstance(parsed, str):
            raise CorpusError(f"{path}:{number}: {parsed}")
        labels, lang, text, reason = parsed
        examples.append(Example(path.stem, number, labels, lang, text, reason))
    if not examples:
        raise CorpusError(f"{path}: no messages")
    return examples


def load_corpus(directory: Path = CORPUS_DIR) -> Corpus:
    """Every <writer>.tsv in `directory`, validated: labels, languages, no duplicates within or
    across writers, every label present."""
    paths = sorted(directory.glob("*.tsv"))
    if not paths:
        raise CorpusError(f"{directory}: no corpus files (<writer>.tsv)")
    digest = hashlib.sha256()
    examples: list[Example] = []
    seen: dict[str, Example] = {}
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        for example in parse_file(path):
            key = duplicate_key(example.text)
            if key in seen:
                first = seen[key]
                raise CorpusError(
                    f"{path}:{example.line}: the same message as {first.writer}.tsv:{first.line}"
                )
            seen[key] = example
            examples.append(example)
    present = {label for e in examples for label in e.labels} | (
        {"none"} if any(not e.labels for e in examples) else set()
    )
    missing = [label for label in (*LABELS, "none") if label not in present]
    if missing:
        raise CorpusError(f"{directory}: no messages labelled {', '.join(missing)}")
    return Corpus(tuple(examples), digest.hexdigest())


@functools.cache
def cached_corpus(directory: Path = CORPUS_DIR) -> Corpus:
    """load_corpus, once per process (every language's catalog checks the same corpus)."""
    return load_corpus(directory)
