"""`aftercare screen` as an outside check runs it: its own process, no token, no database, one
message a line in and one JSON object a line out, whatever the lines hold."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli import WAIT, operator_env, with_test_shortcuts

KEYS = {"text", "response", "categories", "scores", "why"}
RESPONSES = {"crisis", "ask", "lapse", "craving", None}


def screen(tmp_path, *lines: str, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    # No token, no database setting, and a working directory with no .env or database in it.
    # The model this process trained (with_test_shortcuts): its training in a child is
    # tests/test_screen_rules.py's, and test_cli_end_to_end's `aftercare run` trains it too.
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "bot.cli", "screen", *args],
        input="\n".join(lines) + "\n", capture_output=True, text=True, encoding="utf-8",
        env=with_test_shortcuts(operator_env()), cwd=tmp_path, timeout=4 * WAIT, check=False,
    )  # fmt: skip


def test_one_json_object_a_line_for_every_kind_of_line(tmp_path):
    lines = ["I want to kill myself", "", ("a long day at work " * 300)[:5000],
             "relapsed last night, used again",
             "   ", "ya no quiero vivir", "tab\there", "🙂 ‮ zero​width", "x" * 5000]  # fmt: skip
    done = screen(tmp_path, *lines)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["text"] for o in out] == lines  # one object a line, in order, text as given
    for o in out:
        assert set(o) == KEYS and o["response"] in RESPONSES
        assert isinstance(o["categories"], list) and isinstance(o["why"], str)
        assert all(isinstance(v, float) and 0 <= v <= 1 for v in o["scores"].values())
    crisis, empty, long = out[0], out[1], out[2]
    assert crisis["response"] == "crisis" and crisis["categories"][0] == "crisis"
    assert "kill myself" in crisis["why"]  # the lexicon's phrase
    assert empty == {"text": "", "response": None, "categories": [], "scores": {}, "why": ""}
    assert set(long["scores"]) == {"crisis", "lapse", "craving"}
    assert "lapse" in out[3]["categories"]
    for o in out:  # every flag says why: the lexicon's words, or the model's score
        assert all(f"{category}: " in o["why"] for category in o["categories"])
        assert ("model score" in o["why"]) or ("the words" in o["why"]) or not o["categories"]
    assert not list((tmp_path).iterdir())  # no database, no file of any kind


def test_explain_prints_the_same_in_words(tmp_path):
    done = screen(tmp_path, "I want to kill myself", "", "had a good day at work",
                  args=("--explain",))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "crisis resources and an alert" in done.stdout
    assert "the words “kill myself”" in done.stdout
    assert done.stdout.count("response:") == 3


def test_no_input_is_no_output(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot.cli", "screen"], input="",  # noqa: S603
                          capture_output=True, text=True, env=operator_env(), cwd=tmp_path,
                          timeout=WAIT, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")
