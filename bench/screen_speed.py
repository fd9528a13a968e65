"""The screen's costs (`python -m bench.screen_speed`), each in a fresh process: what start-up
adds (loading every catalog with and without training the model), the memory the model adds
(peak RSS of the bot's process; and, apart, the peak of the child process that trains it and
exits), and the time to screen one message (corpus messages, mean, median and p99, and a line
of 5,000 characters). Goals (issue 13): start-up ≤ 5 s and ≤ 100 MB added, ≤ 2 ms a message.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, resource, statistics, sys, time
def rss(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024
begin = time.perf_counter()
from messages.catalog import load_catalogs
catalogs = load_catalogs()
loaded = time.perf_counter()
before = rss()
out = {"load_catalogs_s": loaded - begin, "rss_before_mb": before}
if sys.argv[1] == "train":
    model = catalogs.default.screen.model()
    out["train_s"] = time.perf_counter() - loaded
    out["rss_after_mb"] = rss()
    out["child_peak_mb"] = rss(resource.RUSAGE_CHILDREN)
    out["sklearn_imported"] = "sklearn" in sys.modules
    out["digest"] = model.digest[:12]
    from messages.screen import screen
    from messages.screen_corpus import cached_corpus
    rules = catalogs.default.screen
    texts = [e.text for e in cached_corpus().examples]
    for text in texts[:50]:
        screen(text, rules)  # warm
    times = []
    for text in texts:
        t = time.perf_counter(); screen(text, rules); times.append(time.perf_counter() - t)
    times.sort()
    out["per_message_ms_mean"] = 1000 * statistics.mean(times)
    out["per_message_ms_median"] = 1000 * statistics.median(times)
    out["per_message_ms_p99"] = 1000 * times[int(0.99 * len(times))]
    long = ("i have been thinking about a lot of things today and " * 100)[:5000]
    t = time.perf_counter()
    for _ in range(20):
        screen(long, rules)
    out["per_message_ms_5000_chars"] = 1000 * (time.perf_counter() - t) / 20
    out["messages"] = len(texts)
print(json.dumps(out))
"""


def probe(kind: str) -> dict:
    command = [sys.executable, "-c", PROBE, kind]  # our own code, nothing from outside
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(done.stdout)


def main() -> None:
    bare = probe("bare")
    trained = probe("train")
    added_s = trained["train_s"]
    added_mb = trained["rss_after_mb"] - trained["rss_before_mb"]
    print(f"corpus {trained['digest']}: {trained['messages']} messages")
    print(f"load_catalogs (validates the corpus): {bare['load_catalogs_s']:.2f} s")
    print(f"start-up added by training the model: {added_s:.2f} s (goal ≤ 5 s)")
    print(f"memory added by the model (peak RSS): {added_mb:.0f} MB (goal ≤ 100 MB); "
          f"process {trained['rss_after_mb']:.0f} MB")  # fmt: skip
    sklearn = "imported" if trained["sklearn_imported"] else "not imported"
    print(f"the child process that trained it: peak {trained['child_peak_mb']:.0f} MB, exited; "
          f"scikit-learn {sklearn} in the bot's process")  # fmt: skip
    print(f"one message: mean {trained['per_message_ms_mean']:.2f} ms, "
          f"median {trained['per_message_ms_median']:.2f} ms, "
          f"p99 {trained['per_message_ms_p99']:.2f} ms, 5,000 characters "
          f"{trained['per_message_ms_5000_chars']:.2f} ms (goal ≤ 2 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
