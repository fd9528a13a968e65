"""Benchmarks run by hand (`make bench`, `make screen-eval`), never in the suite: each prints
ratios measured side by side in one run and writes bench/results.json. It may import anything
of ours, the test harness (tests/) and the local Bot API server (fake_telegram) included;
nothing imports bench."""
