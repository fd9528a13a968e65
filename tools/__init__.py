"""One-off maintenance scripts for the project's data, run by hand from a checkout (for example
`.venv/bin/python tools/import_screen_corpus.py FILE`). They may import messages only; nothing
imports tools."""
