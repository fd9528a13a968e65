#!/usr/bin/env bash
# The Dockerfile's Python steps without Docker: the same files copied into an empty folder,
# installed into a clean virtual environment, then the installed command run. For machines
# with no Docker engine (the image itself is built by `docker compose build`).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
cp "$here/pyproject.toml" "$here/README.md" "$work/src/"
cp -r "$here/bot" "$here/db" "$here/messages" "$here/scheduler" "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --no-cache-dir --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
(cd "$work/src" && "$work/venv/bin/pip" install --quiet --no-cache-dir . 2>&1 | grep -v "^WARNING: Location" | grep -v "^ " || true)
cd "$work"  # not the source: the installed package must carry its content and migrations
"$work/venv/bin/aftercare" --version
DATABASE_URL="sqlite+aiosqlite:///$work/check.db" "$work/venv/bin/aftercare" db upgrade
python3 - "$work/venv" <<'PY'
import subprocess, sys
venv = sys.argv[1]
code = ("import bot.status, bot.metrics, bot.polling\n"
        "from messages.catalog import load_catalogs\n"
        "print(sorted(load_catalogs().locales()))")
out = subprocess.run([f"{venv}/bin/python", "-c", code], capture_output=True, text=True)
assert out.returncode == 0, out.stderr
print("content", out.stdout.strip(), "and the status, metrics and polling modules load")
PY
echo "image Python steps: OK"
