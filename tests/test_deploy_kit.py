"""The deployment kit, checked as far as this machine can without a Docker engine: the compose
file parses and wires two workers to PostgreSQL, the Dockerfile builds the package from the
same files as pyproject and runs it non-root with a health check, the systemd unit is valid,
and .env.example names only real settings. (deploy/check-image-steps.sh runs the image's
Python steps in a clean virtual environment; it installs from PyPI, so it is run by hand.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_postgres_and_two_workers():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    bots = [name for name in services if name.startswith("bot-")]
    assert len(bots) == 2 and "db" in services
    for name in bots:
        bot = services[name]
        assert bot["build"] == "."
        assert bot["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@db:5432/" in bot["environment"]["DATABASE_URL"]
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
        assert bot["restart"].startswith("on-failure")
        assert all(port.startswith("127.0.0.1:") for port in bot["ports"])  # status stays local
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["bot-1"]["ports"] != services["bot-2"]["ports"]


def test_the_dockerfile_is_slim_non_root_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(image.endswith("-slim") for image in [f for f in froms if ":" in f])
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert text.index("USER ") < text.index("ENTRYPOINT")
    assert re.search(r"^HEALTHCHECK .*\n.*healthz", text, re.M)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]  # fmt: skip
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.M))
    assert copied == {name.rstrip("*") for name in packages}


def test_the_systemd_unit_restarts_on_failure_after_postgres(tmp_path):
    path = ROOT / "deploy" / "systemd" / "aftercare@.service"
    unit = path.read_text()
    assert re.search(r"^After=.*\bpostgresql\.service\b", unit, re.M)
    assert re.search(r"^Restart=on-failure$", unit, re.M)
    assert re.search(r"^RestartPreventExitStatus=2$", unit, re.M)  # configuration errors
    assert re.search(r"^ExecStart=\S+/aftercare run$", unit, re.M)
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; the unit was checked by its text only")
    instance = tmp_path / "aftercare@1.service"
    shutil.copyfile(path, instance)
    verified = subprocess.run(["systemd-analyze", "verify", str(instance)],  # noqa: S603 S607
                              capture_output=True, text=True, timeout=30)  # fmt: skip
    problems = [line for line in (verified.stdout + verified.stderr).splitlines()
                if line and "is not executable" not in line]  # fmt: skip
    assert problems == []  # the only complaint allowed: aftercare isn't installed here


def test_env_example_names_only_real_settings():
    names = re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    known = {field.upper() for field in Settings.model_fields} | {"POSTGRES_PASSWORD"}
    assert names and set(names) <= known, set(names) - known
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_URL", "STATUS_LISTEN"} <= set(names)
