"""The layout's rules, read from the source with ast: which package may import what (the
docstring of each package's __init__.py says it in words), no import cycle inside the pure and
data packages, every module importable on its own. A new import that breaks a rule fails
here, so the layout cannot erode without someone deciding to change the rule."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "care", "config", "db", "delivery", "messages", "scheduler", "fake_telegram",
        "bench", "tools", "tests", "scripts")  # fmt: skip
SHIPPED = ("bot", "care", "config", "db", "delivery", "messages", "scheduler",
           "fake_telegram")  # pyproject's  # fmt: skip
PACKAGES = (*SHIPPED, "bench", "tools", "tests", "bot/dashboard")
STDLIB = frozenset(sys.stdlib_module_names)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@cache
def imports(path: Path) -> frozenset[str]:
    """Every module `path` imports, anywhere in it (in functions and under TYPE_CHECKING too):
    `from a.b import c` counts as a.b and as a.b.c, which may be a module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return frozenset(found)


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def offenders(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in sorted(imports(path))
        if within(name, forbidden)
    ]


def outside(paths: list[Path], allowed: tuple[str, ...]) -> list[str]:
    """Imports that are neither the standard library nor `allowed`."""
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in sorted(imports(path))
        if name.split(".")[0] not in STDLIB and not within(name, allowed)
    ]


# ---- what each package may import ----------------------------------------------------------

IO_LIBRARIES = (
    "telegram", "sqlalchemy", "alembic", "aiohttp", "aiohttp_jinja2", "apscheduler", "asyncpg",
    "aiosqlite", "httpx", "prometheus_client", "pydantic_settings",
)  # fmt: skip
SCHEDULE_MATH = ("scheduler/schedule.py", "scheduler/meeting_schedule.py")
PURE_DELIVERY = ("delivery/priority.py", "delivery/paid_policy.py")


def test_messages_is_pure_and_imports_nothing_of_ours_but_itself():
    paths = files("messages")
    allowed = ("messages", "matplotlib", "sklearn", "numpy", "scipy", "threadpoolctl")
    assert outside(paths, allowed) == []
    assert offenders(paths, IO_LIBRARIES) == []


def test_db_imports_no_telegram_no_bot_no_scheduler_and_of_delivery_only_the_priorities():
    forbidden = ("telegram", "bot", "scheduler", "fake_telegram", "aiohttp", "apscheduler")
    assert offenders(files("db"), forbidden) == []
    delivery = [name for path in files("db") for name in imports(path)
                if within(name, ("delivery",))]  # fmt: skip
    assert set(delivery) <= {"delivery.priority", "delivery.priority.Priority",
                             "delivery.priority.URGENT_UP_TO"}  # fmt: skip


def test_migrations_import_only_db():
    paths = files("db/migrations")
    assert outside(paths, ("db", "alembic", "sqlalchemy", "pydantic_settings")) == []


def test_care_imports_no_telegram_no_bot_and_no_aiohttp():
    """The domain services: what a handler calls, runnable without the Telegram edge."""
    assert offenders(files("care"), ("telegram", "bot", "fake_telegram", "aiohttp")) == []


def test_config_imports_no_bot_and_no_telegram():
    """The settings: read by the edge, the services and the migrations alike."""
    allowed = ("config", "db.url", "delivery.paid_policy", "scheduler.schedule", "pydantic",
               "pydantic_settings", "dotenv", "sqlalchemy")  # fmt: skip
    assert outside(files("config"), allowed) == []


def test_scheduler_imports_no_bot_and_no_telegram():
    """The jobs and the schedule math: sending is delivery's."""
    assert offenders(files("scheduler"), ("bot", "fake_telegram", "telegram", "aiohttp")) == []


def test_delivery_imports_no_bot_and_of_scheduler_only_alerting():
    paths = files("delivery")
    assert offenders(paths, ("bot", "fake_telegram", "apscheduler")) == []
    scheduler = {name for path in paths for name in imports(path) if within(name, ("scheduler",))}
    assert scheduler <= {"scheduler", "scheduler.alerting"}


def test_the_priorities_and_the_paid_policy_are_the_standard_library_alone():
    paths = [ROOT / p for p in PURE_DELIVERY]
    assert outside(paths, ("delivery.priority",)) == []


def test_the_schedule_math_is_the_standard_library_alone():
    paths = [ROOT / p for p in SCHEDULE_MATH]
    assert outside(paths, ("scheduler.schedule",)) == []


def test_the_local_bot_api_server_is_independent_of_the_code_it_stands_in_for():
    """Standard library and aiohttp only: not python-telegram-bot, nothing of ours."""
    assert outside(files("fake_telegram"), ("fake_telegram", "aiohttp")) == []


def test_only_the_demo_and_the_cli_of_the_bot_use_the_local_bot_api_server():
    paths = [p for p in files("bot") if p.name not in ("demo.py", "cli.py")]
    assert offenders(paths, ("fake_telegram",)) == []


def test_nothing_shipped_imports_the_tests_the_bench_or_the_tools():
    paths = [path for package in SHIPPED for path in files(package)]
    assert offenders(paths, ("tests", "bench", "tools", "scripts")) == []


def test_only_the_edge_imports_bot():
    paths = [path for package in ("care", "config", "db", "delivery", "messages", "scheduler",
                                  "fake_telegram", "tools")
             for path in files(package)]  # fmt: skip
    assert offenders(paths, ("bot",)) == []


def test_tools_import_messages_only():
    paths = files("tools")
    assert offenders(paths, tuple(p for p in OURS if p not in ("messages", "tools"))) == []


def test_the_dashboard_uses_shared_pieces_of_the_bot_not_its_handlers():
    wiring = ("app", "runner", "cli", "demo", "polling", "webhook", "gate")
    handlers = (
        "participant", "counselor", "contacts", "start", "conversation", "meetings", "medication",
        "privacy", "discharge",
    )  # fmt: skip
    forbidden = tuple(f"bot.{name}" for name in (*wiring, *handlers))
    assert offenders(files("bot/dashboard"), forbidden) == []
    users = [p for p in files("bot") if "dashboard" not in p.parts]
    assert {p.name for p in users if any(within(n, ("bot.dashboard",)) for n in imports(p))} <= {
        "app.py",
        "runner.py",
    }


# ---- cycles and imports on their own ----------------------------------------------------------


def graph_of(package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (every import counted, in functions
    and under TYPE_CHECKING too)."""
    modules = {module_name(p): p for p in files(package) if "migrations" not in p.parts}
    return {
        name: {n for n in imports(path) if n in modules and n != name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for nxt in sorted(graph[name]):
            if nxt not in index:
                visit(nxt)
                low[name] = min(low[name], low[nxt])
            elif nxt in stack:
                low[name] = min(low[name], index[nxt])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


@pytest.mark.parametrize(
    "package", ["messages", "db", "delivery", "scheduler", "fake_telegram", "care", "config"]
)
def test_no_import_cycle(package):
    """A cycle means two modules that can't be read, or typed, one without the other (it was
    messages/answers.py and catalog.py until the catalog was split)."""
    assert cycles(graph_of(package)) == []


_IMPORT_ALONE = """
import importlib, json, sys
ours, names = sys.argv[1].split(","), sys.argv[2:]
failures = []
for name in names:
    # Forget every module of ours (but those that register Prometheus metrics, which may be
    # defined once a process), so this one is imported as if it were the first.
    for loaded in [m for m in sys.modules if m.split(".")[0] in ours
                   and m not in ("bot.metrics", "bot.status", "delivery.metrics")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures.append(f"{name}: {exc!r}")
print(json.dumps(failures))
"""


def test_modules_import_on_their_own():
    """An import cycle that works in one order breaks in another. Each module of messages, and
    each module of bot in a cycle (bot/ may have them), is imported first, in a fresh state."""
    names = sorted(graph_of("messages"))
    names += [name for group in cycles(graph_of("bot")) for name in group]
    result = subprocess.run(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-c", _IMPORT_ALONE, ",".join(OURS), *names],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


# ---- the docstrings that say it in words ------------------------------------------------------


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_is_for_and_what_it_may_import(package):
    docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    assert docstring, f"{package}/__init__.py needs a docstring"
    assert "\n\n" not in docstring.strip(), "one paragraph"
    assert "import" in docstring, "it says what the package may import"
