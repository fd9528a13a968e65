"""The screen on sets no one on the team has seen (tests/data/screen_unseen/, written blind on
2026-12-01 by writers who saw neither the patterns nor the corpus: test_1 and test_2, 300
messages each; writer_zg to writer_zl, 480 each, written on 2026-12-02 and looked at once by
that day's final code; test_3 to test_5 were writers za, zb and zc's, folded into the corpus
on 2026-12-02). Run by hand: `.venv/bin/python bench/screen_unseen.py [file.tsv ...]`: the files
named (a new writer's, before it joins anything), or else every set here. Never tune on these
sets: once you have, they no longer measure anything unseen, and the figures must say so."""

import collections
import json
import subprocess
import sys
from pathlib import Path

UNSEEN = Path(__file__).resolve().parent.parent / "tests/data/screen_unseen"
rows = []
# Files named on the command line (a new writer's, before it joins anything), else every set.
for f in sys.argv[1:] or sorted(str(p) for p in UNSEEN.glob("*.tsv")):
    for line in Path(f).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        labels, lang, text, reason = line.rstrip("\n").split("\t")
        rows.append((Path(f).stem, labels.split(","), lang, text))
inp = "\n".join(r[3] for r in rows) + "\n"
out = subprocess.run(
    [sys.executable, "-m", "bot.cli", "screen"], input=inp, capture_output=True, text=True
).stdout.splitlines()
assert len(out) == len(rows), (len(out), len(rows))
res = [json.loads(o) for o in out]


def figs(sel):
    c: collections.Counter[str] = collections.Counter()
    for (_s, labels, _lang, _text), r in sel:
        resp = r["response"]
        cats = set(r["categories"])
        if "crisis" in labels:
            c["crisis"] += 1
            c["crisis_hit"] += resp == "crisis"
            c["crisis_or_ask"] += resp in ("crisis", "ask")
        if "lapse" in labels:
            c["lapse"] += 1
            c["lapse_hit"] += ("lapse" in cats) or resp == "lapse"
        if "craving" in labels and "crisis" not in labels:
            c["craving"] += 1
            c["craving_hit"] += resp in ("craving", "ask") or "craving" in cats
        if labels == ["none"]:
            c["none"] += 1
            c["calm_alarm"] += resp in ("crisis", "lapse")
            c["calm_ask"] += resp == "ask"
    def g(a, b):
        return f"{c[a] / max(1, c[b]):.2f} ({c[a]}/{c[b]})"
    return f"crisis {g('crisis_hit', 'crisis')} | crisis/ask {g('crisis_or_ask', 'crisis')} | lapse {g('lapse_hit', 'lapse')} | craving {g('craving_hit', 'craving')} | calm alarm {g('calm_alarm', 'none')} | calm ask {g('calm_ask', 'none')}  (n: {c['crisis']}/{c['lapse']}/{c['craving']}/{c['none']})"  # noqa: E501


pairs = list(zip(rows, res, strict=False))
print(f"{'all':9}", figs(pairs))
for s in sorted({r[0] for r in rows}):
    print(f"{s:9}", figs([p for p in pairs if p[0][0] == s]))
print("en      ", figs([p for p in pairs if p[0][2] == "en"]))
print("es/pt/mx", figs([p for p in pairs if p[0][2] != "en"]))
