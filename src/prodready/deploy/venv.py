"""The release's own virtualenv, from the app's lock file, plus the server stack.

The app's dependencies are installed from its lock (uv.lock or requirements.txt) with uv when
available, else pip. Then the servers `prodready serve` drives are installed at the versions
prodready runs with (an app's older pin, e.g. gunicorn==21.2.0, lacks settings serve uses).
prodready itself comes through a .pth file that adds its site-packages after the venv's, so
the app's other pins win and `python -m prodready.cli.main serve` runs from the release's
interpreter.

Everything is compiled to bytecode at build time (pip does it by default, uv on request, and the
release's own code by compileall): a generation whose processes cannot write .pyc files (a
read-only release, PYTHONDONTWRITEBYTECODE) would otherwise compile every module it imports
from source at every boot, and a rollback is a boot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from prodready.deploy.build import disk_error
from prodready.deploy.failure import DeployFailed

PTH_NAME = "_prodready_server.pth"
INSTALL_TIMEOUT_S = 900
SERVER_STACK = ("gunicorn", "uvicorn", "uvicorn-worker", "granian")


def venv_python(release: Path) -> Path:
    return release / ".venv" / "bin" / "python"


def find_uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


def build_venv(release: Path) -> str:
    """Creates release/.venv and installs the locked dependencies; returns what it did."""
    venv = release / ".venv"
    uv = find_uv()
    if uv:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], release)
    else:
        _run([sys.executable, "-m", "venv", str(venv)], release)
    python = str(venv / "bin" / "python")
    if (release / "uv.lock").is_file() and uv:
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
        argv = [uv, "sync", "--quiet", "--frozen", "--no-dev", "--no-install-project"]
        argv.append("--compile-bytecode")
        _run(argv, release, env)
        what = "uv sync --frozen (uv.lock)"
    elif (release / "requirements.txt").is_file():
        _run([*_installer(uv, python), "-r", "requirements.txt"], release)
        what = f"{'uv pip' if uv else 'pip'} install -r requirements.txt"
    else:
        what = "no uv.lock or requirements.txt: only the server stack"
    pins = server_pins()
    if (release / "uv.lock").is_file() or (release / "requirements.txt").is_file():
        _run([*_installer(uv, python), *pins], release)
        what += f"; {', '.join(pins)}"
    _link_server_stack(Path(python))
    _compile_code(python, release)
    return what


def _compile_code(python: str, release: Path) -> None:
    """The release's own modules to bytecode. A file that does not compile is left to the
    health gate: only an import of it fails the deploy."""
    argv = [python, "-m", "compileall", "-q", "-j", "0", "-x", r"/\.venv/", str(release)]
    subprocess.run(argv, capture_output=True, timeout=INSTALL_TIMEOUT_S, check=False)


def _installer(uv: str | None, python: str) -> list[str]:
    if uv:
        return [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python]
    return [python, "-m", "pip", "install", "--quiet"]


def server_pins() -> list[str]:
    """The server packages at the versions prodready runs with, as NAME==VERSION."""
    pins = []
    for name in SERVER_STACK:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def _link_server_stack(python: Path) -> None:
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    try:
        # addsitedir, not a plain path line: prodready's own .pth files (an editable install)
        # are processed too. It appends, so the release's own packages come first.
        lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in ours)
        (Path(purelib) / PTH_NAME).write_text(lines)
    except OSError as error:
        raise disk_error(error, "writing the release's venv") from error


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise DeployFailed(f"{Path(argv[0]).name} took over {INSTALL_TIMEOUT_S} s") from error
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        if "No space left on device" in output or "os error 28" in output:
            raise DeployFailed(
                "disk full while building the release's venv",
                "free space on that file system; nothing was switched",
                details=output[-600:],
            )
        raise DeployFailed(
            f"building the release's venv failed: {' '.join(argv[:3])} exited {done.returncode}",
            "the lock file must install on this machine",
            details=output[-1200:],
        )
