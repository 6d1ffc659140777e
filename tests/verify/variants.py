"""The examples as `prodready verify` meets them: a temporary copy of the original, or of its
"fixed" variant (the patches in examples/fixed/<name>/, applied in name order with git apply).
A plain module: docs and benchmarks use it without pytest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_copy(name: str, into: Path, *, fixed: bool = False) -> Path:
    """Copies examples/<name> to into/<name> (patched when `fixed`) and returns it."""
    target = into / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if fixed:
        for patch in sorted((EXAMPLES / "fixed" / name).glob("*.patch")):
            subprocess.run(
                ["git", "apply", "--whitespace=nowarn", str(patch)],
                cwd=target, check=True, capture_output=True, text=True,
            )  # fmt: skip
    return target
