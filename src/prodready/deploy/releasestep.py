"""Step 2: the release command (migrations), once, with the new code and the shared settings,
before anything of the new release serves."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from dotenv import dotenv_values

from prodready.deploy.failure import DeployFailed

ENV_FILE = ".env.production"
RELEASE_TIMEOUT_S = 1800


def release_env(release: Path) -> dict[str, str]:
    """The environment a release's processes get: ours, then shared/.env.production (linked
    into the release), with the release's venv first on PATH."""
    env = dict(os.environ)
    env_file = release / ENV_FILE
    if env_file.is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    venv_bin = release / ".venv" / "bin"
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(release / ".venv")
    env.pop("PYTHONHOME", None)
    return env


def release_argv(command: tuple[str, ...], release: Path) -> list[str]:
    """The command with its program taken from the release's venv when it has it."""
    program, *arguments = command
    venv_bin = release / ".venv" / "bin"
    if (venv_bin / program).exists():
        program = str(venv_bin / program)
    return [program, *arguments]


def run_release_command(command: tuple[str, ...], release: Path) -> str:
    """Runs it in the release directory; a non-zero exit is a DeployFailed with its output."""
    argv = release_argv(command, release)
    shown = shlex.join(command)
    try:
        done = subprocess.run(
            argv,
            cwd=release,
            env=release_env(release),
            capture_output=True,
            text=True,
            timeout=RELEASE_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as error:
        raise DeployFailed(f"release command {shown!r}: {command[0]} not found") from error
    except subprocess.TimeoutExpired as error:
        raise DeployFailed(f"release command {shown!r} ran over {RELEASE_TIMEOUT_S} s") from error
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        raise DeployFailed(
            f"release command {shown!r} exited {done.returncode}: nothing was switched",
            "fix the migration and deploy again; the old release still serves",
            details="\n".join(output[-15:]),
        )
    return shown
