"""Import a writer's finished corpus file into messages/content/screen/, unchanged except that
invalid lines and duplicates (within the file, or of a message another writer already wrote)
are dropped; prints how many of each.

    .venv/bin/python tools/import_screen_corpus.py /path/to/writer_a.tsv [name]
"""

from __future__ import annotations

import sys
from pathlib import Path

from messages.screen_corpus import CORPUS_DIR, HEADER, duplicate_key, parse_line


def existing_keys(skip: str) -> set[str]:
    keys = set()
    for path in sorted(CORPUS_DIR.glob("*.tsv")):
        if path.stem == skip:
            continue
        for raw in path.read_text(encoding="utf-8").splitlines()[1:]:
            parsed = parse_line(raw)
            if not isinstance(parsed, str):
                keys.add(duplicate_key(parsed[2]))
    return keys


def main(source: Path, name: str) -> None:
    lines = source.read_text(encoding="utf-8").splitlines()
    others = existing_keys(name)
    kept, invalid, duplicates, seen = [], [], 0, set()
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.strip() == HEADER:
            continue
        if not raw.strip() or raw.startswith("#"):
            continue
        parsed = parse_line(raw)
        if isinstance(parsed, str):
            invalid.append(f"{number}: {parsed}")
            continue
        key = duplicate_key(parsed[2])
        if key in others or key in seen:
            duplicates += 1
            continue
        seen.add(key)
        kept.append(raw)
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    target = CORPUS_DIR / f"{name}.tsv"
    target.write_text("\n".join([HEADER, *kept]) + "\n", encoding="utf-8")
    print(f"{target.name}: {len(kept)} kept, {len(invalid)} invalid, {duplicates} duplicates")
    for problem in invalid:
        print("  invalid line", problem)


if __name__ == "__main__":
    path = Path(sys.argv[1])
    main(path, sys.argv[2] if len(sys.argv) > 2 else path.stem)
