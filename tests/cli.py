"""Running `aftercare` as its own process, as an operator would, for tests and the bench."""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

WAIT = 30.0
# Start-up: imports, migrations and the screen's training, on a machine that may be busy. How
# fast it starts is the bench's business; here it only has to start.
START_WAIT = 180.0


def operator_env(**values: str) -> dict[str, str]:
    """This process's environment without any bot or database settings, plus `values`: the
    command sees only what the test gives it, never a developer's own .env choices."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(values)
    return env


SITE = Path(__file__).resolve().parent / "subprocess_site"
_model_file: list[Path] = []


def _screen_model_file() -> Path:
    """The screen's model (ScreenModel.to_bytes), trained once in this process (model_for, as
    the harness does), for the processes this one starts."""
    if not _model_file:
        from messages.screen_model import model_for

        folder = Path(tempfile.mkdtemp(prefix="aftercare-test-model-"))
        path = folder / "model.bin"
        path.write_bytes(model_for().to_bytes())
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _model_file.append(path)
    return _model_file[0]


def with_test_shortcuts(env: dict[str, str]) -> dict[str, str]:
    """`env` for an `aftercare` process a test starts: the model trained once by this process
    instead of in a child per process, and SQLite commits without waiting for the disk
    (tests/subprocess_site/sitecustomize.py). A test of the real start-up passes env as it is
    to its own create_subprocess_exec (tests/test_cli_end_to_end.py does)."""
    path = os.pathsep.join(filter(None, (str(SITE), env.get("PYTHONPATH"))))
    return env | {"PYTHONPATH": path, "AFTERCARE_TEST_SQLITE_NO_SYNC": "1",
                  "AFTERCARE_TEST_SCREEN_MODEL": str(_screen_model_file())}  # fmt: skip


async def aftercare(env, cwd, *args: str, wait: float = WAIT) -> tuple[int, str, str]:
    """Run `aftercare ARGS` to the end (with_test_shortcuts); its exit code, stdout and
    stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=with_test_shortcuts(env), cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), wait)
    assert process.returncode is not None  # communicate() waited for it to end
    return process.returncode, out.decode(), err.decode()


def _ports() -> Iterator[int]:
    """Ports below the kernel's ephemeral range, a share of them for each xdist worker, each
    handed out once. A port bound to 0 and closed comes from the ephemeral range, where any
    outgoing connection (a database's, an HTTP client's) may take it as its own end in the
    seconds before a starting `aftercare` binds it: "address already in use" at start-up on a
    busy machine. Below that range only a listener takes a port, and the two workers' shares
    never meet."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index, share = (int(worker) if worker.isdigit() else 0), 2000
    start = max(1024, low - (index % 8 + 1) * share)
    offset = random.randrange(share)  # a fresh start each run: a lingering port is unlikely
    for step in range(share):
        yield start + (offset + step) % share


_free = _ports()


def free_port() -> int:
    """A port nothing listens on now, never handed out before in this process."""
    import socket

    for port in _free:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # someone else's
            return port
    raise RuntimeError("no free port left in this worker's share")


async def start_bot(env, cwd, log_path, *args: str) -> asyncio.subprocess.Process:
    """`aftercare run` (or ARGS) in the background (with_test_shortcuts), its output appended
    to `log_path`: a file, not a pipe, which an unread pipe would fill and block."""
    env = with_test_shortcuts(env)
    with open(log_path, "ab") as log:  # noqa: ASYNC230 - a local file, opened once
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *(args or ("run",)), env=env, cwd=cwd,
            stdout=log, stderr=log,
        )  # fmt: skip


async def until_started(process: asyncio.subprocess.Process, log_path) -> None:
    """Wait for `aftercare run`'s start-up line ("aftercare … started: …") in its log, up to
    START_WAIT; fail at once, with the log, if the process ends first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_WAIT
    while " started: " not in (text := log_path.read_text()):
        assert process.returncode is None, f"exited with {process.returncode}:\n{text[-3000:]}"
        assert loop.time() < deadline, f"not started after {START_WAIT:g} s:\n{text[-3000:]}"
        await asyncio.sleep(0.1)


async def metric(port: int, name: str, labels: dict[str, str] | None = None) -> float | None:
    """One sample from a running bot's /metrics, parsed by prometheus-client's own parser;
    None when the status server does not answer."""
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families

    try:
        async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError):
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and (labels or {}).items() <= sample.labels.items():
                return sample.value
    return None
