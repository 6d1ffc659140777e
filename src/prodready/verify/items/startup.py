"""start-up: how long the app takes to answer, and what importing it does.

- time to ready: the shared server's first HTTP answer after `prodready serve` started.
- a second worker boot takes no longer than the first: the app imported in two fresh processes
  one after the other (what two worker boots do); a second import slower than the first by
  more than noise shows work that piles up with every boot (tables, files, locks).
- no network or database calls at import: the import under `strace -f -e trace=connect`; an
  AF_INET/AF_INET6 connect() is a fail with its address. Without strace, the import's own
  output is read for connection messages instead, and the item says so.
"""

from __future__ import annotations

import re

from prodready.verify.importprobe import ImportRun, strace_missing, timed_import, traced_import
from prodready.verify.model import ItemResult
from prodready.verify.stage import Stage

TITLE = "start-up"
SLOWER_RATIO = 1.5
SLOWER_NOISE_S = 0.25
"""A second import counts as slower past first x 1.5 + 0.25 s (process start-up jitters)."""
CONNECTION_WORDS = re.compile(
    r"connect(ed|ing)? to|connection (refused|to|failed)|could not connect|create table",
    re.IGNORECASE,
)


def verify(stage: Stage) -> ItemResult:
    env, folder, target = stage.app_env, stage.app_dir, stage.target
    first = timed_import(folder, target, env)
    if first.seconds is None:
        return ItemResult.warned(
            "startup", TITLE, f"could not import {target} outside the server to measure it",
            measures=_ready(stage), log=first.output[-2000:],
        )  # fmt: skip
    second = timed_import(folder, target, env)
    no_strace = strace_missing()
    traced = None if no_strace else traced_import(folder, target, env, stage.work / "strace.txt")
    measures: dict[str, int | float | str | bool] = {
        **_ready(stage),
        "import_first_s": round(first.seconds, 3),
        "import_second_s": round(second.seconds, 3) if second.seconds is not None else "failed",
        "strace": traced is not None,
    }
    details = [
        f"imported {target} in two fresh processes (cwd {folder}, the app's environment), as "
        f"two worker boots do: {first.seconds:.2f} s, then {_secs(second)}",
    ]
    said = [line for line in (first.output + "\n" + second.output).splitlines()
            if CONNECTION_WORDS.search(line)]  # fmt: skip
    if traced is not None:
        measures["connects_at_import"] = len(traced.connects)
        details.append(
            "strace -f -e trace=connect on a third import: "
            + (", ".join(traced.connects) if traced.connects else "no AF_INET/AF_INET6 connect()")
        )
        if traced.connects:
            return ItemResult.failed(
                "startup", TITLE, f"connects to {traced.connects[0].split()[0]} at import"
                + (f" (+{len(traced.connects) - 1} more)" if len(traced.connects) > 1 else ""),
                measures=measures, details=details,
                log="\n".join(traced.connects + said)[-2000:],
            )  # fmt: skip
    else:
        details.append(f"{no_strace}: connections at import judged from the import's output")
        if said:
            measures["connection_lines"] = len(said)
            return ItemResult.failed(
                "startup", TITLE, "the app's output at import speaks of a connection",
                measures=measures, details=details, log="\n".join(said)[-2000:],
            )  # fmt: skip
    if second.seconds is None:
        return ItemResult.failed(
            "startup", TITLE, "a second import of the app failed after the first succeeded",
            measures=measures, details=details, log=second.output[-2000:],
        )  # fmt: skip
    if second.seconds > first.seconds * SLOWER_RATIO + SLOWER_NOISE_S:
        return ItemResult.failed(
            "startup", TITLE,
            f"second boot's import {second.seconds:.2f} s > first's {first.seconds:.2f} s",
            measures=measures, details=details,
        )  # fmt: skip
    ready = f"ready in {stage.server.ready_s:.1f} s, " if stage.server.ready_s else ""
    return ItemResult.passed(
        "startup", TITLE,
        f"{ready}import {first.seconds:.2f} s then {second.seconds:.2f} s, "
        + ("no connect() at import" if traced is not None else "no connection in its output"),
        measures=measures, details=details,
    )  # fmt: skip


def _ready(stage: Stage) -> dict[str, int | float | str | bool]:
    ready = stage.server.ready_s
    return {"ready_s": round(ready, 2)} if ready is not None else {}


def _secs(run: ImportRun) -> str:
    return f"{run.seconds:.2f} s" if run.seconds is not None else "a failure"
