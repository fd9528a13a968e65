"""Running `aftercare` as its own process, as an operator would, for tests and the bench."""

from __future__ import annotations

import asyncio
import os
import sys

WAIT = 30.0


def operator_env(**values: str) -> dict[str, str]:
    """This process's environment without any bot or database settings, plus `values`: the
    command sees only what the test gives it, never a developer's own .env choices."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(values)
    return env


async def aftercare(env, cwd, *args: str, wait: float = WAIT) -> tuple[int, str, str]:
    """Run `aftercare ARGS` to the end; its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), wait)
    return process.returncode, out.decode(), err.decode()
