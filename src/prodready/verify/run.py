"""Runs the scorecard: one detection pass (`prodready check`), one boot, then each item in
order, timed, with progress for people."""

from __future__ import annotations

import datetime
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from prodready.check.engine import run_check
from prodready.verify.items import ITEMS, Item
from prodready.verify.launch import boot_source
from prodready.verify.model import ItemResult, Scorecard, Status
from prodready.verify.stage import VerifyOptions, app_target, boot

Progress = Callable[[str], None]


def _silent(_message: str) -> None:
    pass


def selected_items(only: set[str] | None, quick: bool) -> tuple[list[Item], list[Item]]:
    """(items to run, items skipped by --quick)."""
    chosen = [item for item in ITEMS if only is None or item.id in only]
    if quick:
        return [i for i in chosen if not i.loads], [i for i in chosen if i.loads]
    return chosen, []


def run_verify(
    root: Path,
    options: VerifyOptions,
    *,
    only: set[str] | None = None,
    progress: Progress = _silent,
) -> Scorecard:
    """Boots the app in `root` and runs the items; raises a UserError (exit 2) when the
    directory holds no app or the app does not boot."""
    started = time.monotonic()
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    progress("detecting the app and running check")
    checked = run_check(root)
    project = checked.project
    source = boot_source(project)
    target = source.target or app_target(project)
    to_run, skipped = selected_items(only, options.quick)
    progress(f"booting {target}")
    stage = boot(root, project, checked.findings, source, options)
    results: list[ItemResult] = []
    try:
        for number, item in enumerate(to_run, 1):
            progress(f"[{number}/{len(to_run)}] {item.title}")
            results.append(_timed(item, stage))
        results += [ItemResult.skipped(i.id, i.title, "--quick skips load") for i in skipped]
        boot_notes = stage.boot_notes()
    finally:
        stage.close()
    order = {item.id: n for n, item in enumerate(ITEMS)}
    results.sort(key=lambda r: order[r.id])
    return Scorecard(
        app=target,
        root=str(root),
        boot=boot_notes,
        items=results,
        seconds=time.monotonic() - started,
        started_at=started_at,
    )


def _timed(item: Item, stage: object) -> ItemResult:
    began = time.monotonic()
    try:
        result = item.function()(stage)  # type: ignore[arg-type]
    except Exception as error:  # a bug in verify itself: reported on its item, the rest runs
        result = ItemResult(
            item.id, item.title, Status.FAIL, f"verify could not measure this: {error!r}",
            log=traceback.format_exc(),
        )  # fmt: skip
    result.seconds = time.monotonic() - began
    return result
