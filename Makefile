# `make run` and `make test` each create .venv when it is missing and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo lint bench screen-eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# With no TELEGRAM_BOT_TOKEN (in the environment or .env) this runs the demo instead.
run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ] || grep -qs '^TELEGRAM_BOT_TOKEN=.' .env; then \
		exec $(BIN)/aftercare run; \
	else \
		echo "TELEGRAM_BOT_TOKEN is not set: running the demo against a local Bot API server."; \
		exec $(BIN)/aftercare demo; \
	fi

demo: $(STAMP)
	$(BIN)/aftercare demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Types first ([tool.mypy] in pyproject.toml; incremental, cached in .mypy_cache), then the
# suite in three worker processes on two cores: the real-process tests spend most of their
# time waiting (a minute of two workers and a takeover, a broadcast killed midway, an outage),
# and the third worker keeps both cores busy meanwhile. Each takes the next test when it is
# free (--maxschedchunk 1), and the long tests come first (tests/conftest.py), so none ends up
# alone on them at the end.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 3 --maxschedchunk 1

# By hand, never in the suite: delivery figures on SQLite and PostgreSQL (a few minutes).
bench: $(STAMP)
	$(BIN)/python -m bench

# The free-text screen's figures: leave one writer out over the corpus, and tests/data/.
screen-eval: $(STAMP)
	$(BIN)/python -m bench.screen_eval

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
