"""The screen's costs (`python -m bench.screen_speed`), each in a fresh process: what start-up
adds (the time to load every catalog alone, against the time to load them and have the model,
its training started first as `aftercare run` and `aftercare screen` start it), the memory the
model adds (peak RSS of the bot's process; and, apart, the peak of the child process that
trains it and exits), and the time to screen one message (corpus messages, mean, median and
p99, and a line of 5,000 characters). Three runs; their medians are printed and written to
bench/screen_speed.json, with the load average. Goals (issue 13): start-up ≤ 5 s and ≤ 100 MB
added, ≤ 2 ms a message.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

PROBE = r"""
import json, resource, statistics, sys, time
def rss(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024
def cpu():  # this process's and its children's, since it started
    own, child = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + child.ru_utime + child.ru_stime
begin = time.perf_counter()
if sys.argv[1] == "train":  # as `aftercare run` and `aftercare screen` do: training first
    from messages.screen_model import train_in_background
    train_in_background()
from messages.catalog import load_catalogs
catalogs = load_catalogs()
loaded = time.perf_counter()
before = rss()
out = {"load_catalogs_s": loaded - begin, "rss_mb": before, "cpu_s": cpu()}
if sys.argv[1] == "train":
    model = catalogs.default.screen.model()
    out["ready_s"] = time.perf_counter() - begin
    out["after_catalogs_s"] = time.perf_counter() - loaded
    out["rss_after_mb"] = rss()
    out["child_peak_mb"] = rss(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = cpu()
    out["sklearn_imported"] = "sklearn" in sys.modules
    out["digest"] = model.digest[:12]
    from messages.screen import screen
    from messages.screen_corpus import cached_corpus
    rules = catalogs.default.screen
    texts = [e.text for e in cached_corpus().examples]
    for text in texts[:50]:
        screen(text, rules)  # warm
    cpu = time.process_time()
    for text in texts:
        screen(text, rules)
    out["per_message_cpu_ms_mean"] = 1000 * (time.process_time() - cpu) / len(texts)
    times, cpu_times = [], []
    for text in texts:
        t, c = time.perf_counter(), time.process_time()
        screen(text, rules)
        times.append(time.perf_counter() - t); cpu_times.append(time.process_time() - c)
    times.sort(); cpu_times.sort()
    out["per_message_cpu_ms_p99"] = 1000 * cpu_times[int(0.99 * len(cpu_times))]
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


RUNS = 3  # fresh processes; the figures are their medians (a shared machine is noisy)
OUT = Path(__file__).resolve().parent / "screen_speed.json"


def probe(kind: str) -> dict:
    command = [sys.executable, "-c", PROBE, kind]  # our own code, nothing from outside
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(done.stdout)


def main() -> None:
    load_before = os.getloadavg()[0]
    bares = [probe("bare") for _ in range(RUNS)]
    bare = {key: statistics.median(b[key] for b in bares) for key in bares[0]}
    runs = [probe("train") for _ in range(RUNS)]
    load_after = os.getloadavg()[0]

    def median(key):
        return statistics.median(r[key] for r in runs)

    def spread(key, digits=2):
        values = sorted(r[key] for r in runs)
        return f"{median(key):.{digits}f} (runs {', '.join(f'{v:.{digits}f}' for v in values)})"

    for r in runs:
        # against the process that loaded the catalogs alone
        r["added_mb"] = r["rss_after_mb"] - bare["rss_mb"]
        r["train_s"] = r["ready_s"] - bare["load_catalogs_s"]
        r["train_cpu_s"] = r["cpu_s"] - bare["cpu_s"]
    first = runs[0]
    print(f"corpus {first['digest']}: {first['messages']} messages; {RUNS} runs, medians; "
          f"load average {load_before:.1f} before, {load_after:.1f} after")  # fmt: skip
    print(f"load_catalogs (validates the corpus): {bare['load_catalogs_s']:.2f} s")
    print(f"start-up added by training the model: {spread('train_s')} s (goal ≤ 5 s): "
          f"catalogs and model in {median('ready_s'):.2f} s, the model "
          f"{median('after_catalogs_s'):.2f} s after the catalogs; "
          f"{median('train_cpu_s'):.2f} CPU-seconds, the child's included")  # fmt: skip
    print(f"memory added by the model (peak RSS): {spread('added_mb', 0)} MB (goal ≤ 100 MB); "
          f"process {median('rss_after_mb'):.0f} MB")  # fmt: skip
    sklearn = "imported" if any(r["sklearn_imported"] for r in runs) else "not imported"
    print(f"the child process that trained it: peak {median('child_peak_mb'):.0f} MB, exited; "
          f"scikit-learn {sklearn} in the bot's process")  # fmt: skip
    print(f"one message: mean {spread('per_message_ms_mean')} ms (goal ≤ 2 ms), "
          f"median {median('per_message_ms_median'):.2f} ms, "
          f"p99 {spread('per_message_ms_p99')} ms, "
          f"CPU mean {median('per_message_cpu_ms_mean'):.2f} ms, "
          f"p99 {median('per_message_cpu_ms_p99'):.2f} ms; 5,000 characters "
          f"{median('per_message_ms_5000_chars'):.1f} ms")  # fmt: skip
    keys = ("train_s", "ready_s", "after_catalogs_s", "train_cpu_s", "added_mb", "rss_after_mb",
            "child_peak_mb",
            "per_message_ms_mean", "per_message_ms_median", "per_message_ms_p99",
            "per_message_cpu_ms_mean", "per_message_cpu_ms_p99", "per_message_ms_5000_chars")
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus": first["digest"], "messages": first["messages"], "runs": RUNS,
        "load_average_before": round(load_before, 2), "load_average_after": round(load_after, 2),
        "load_catalogs_s": round(bare["load_catalogs_s"], 3),
        "sklearn_in_bot_process": sklearn == "imported",
        **{key: round(median(key), 3) for key in keys},
        "goals": {"train_s": 5, "added_mb": 100, "per_message_ms_mean": 2},
    }  # fmt: skip
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
