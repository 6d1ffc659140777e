"""`deploy` and `rollback` as library calls: the steps in order, and what happens when one
fails or the deploy is interrupted (the old release keeps serving; nothing is left half-done
that the next deploy does not clean up)."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from prodready.deploy import breaking, priority, switch
from prodready.deploy.build import Source, disk_error, link_shared, write_code
from prodready.deploy.failure import DeployFailed
from prodready.deploy.gate import Gate, wait_healthy
from prodready.deploy.journal import Journal, Progress
from prodready.deploy.layout import Layout
from prodready.deploy.lock import deploy_lock
from prodready.deploy.plan import plan_release
from prodready.deploy.releasestep import run_release_command
from prodready.deploy.supervisors import (
    ProcessSupervisor,
    ServeOptions,
    Supervisor,
    SystemdSupervisor,
)
from prodready.deploy.venv import build_venv
from prodready.errors import InputError, UserError
from prodready.interrupts import unwinding
from prodready.project.migrations import Migrations

Checker = Callable[[Path], list[str]]
"""Runs `prodready check` on a release; returns its error findings, one line each."""


@dataclass(frozen=True)
class DeployOptions:
    root: Path
    serve: ServeOptions = field(default_factory=ServeOptions)
    supervisor: str = "process"
    unit: str = "app"
    proxy: str = "nginx"
    nginx: switch.Nginx = field(default_factory=switch.Nginx)
    health_path: str | None = None
    passes: int = 3
    timeout_s: float = 60.0
    warmup: tuple[str, ...] = ()
    keep: int = 5
    release_command: str | None = None
    allow_breaking: bool = False
    skip_check: bool = False
    settle_s: float = 1.0
    """Between the switch and the old generation's SIGTERM: connections nginx opened just
    before the switch are accepted by the old generation, not reset."""


@dataclass
class Outcome:
    action: str
    release: str
    previous: str | None
    seconds: float
    notes: list[str]


class Interrupted(BaseException):
    """SIGTERM or SIGHUP while deploying: unwinds like Ctrl-C, so the cleanup runs."""


def deploy(source: Source, options: DeployOptions, checker: Checker, progress: Progress) -> Outcome:
    layout = Layout(options.root)
    layout.create()
    with deploy_lock(layout.lock), _interruptible():
        journal = Journal(layout.log, "deploy", progress)
        supervisor = _supervisor(options, layout)
        _recover(layout, supervisor, journal)
        old = layout.current_id()
        release_id = source.release_id(layout)
        journal.release = release_id
        release = layout.release(release_id)
        with _undo_unless_switched(layout, supervisor, journal, release_id) as state:
            with priority.background():
                with journal.step("build", str(release)) as note:
                    write_code(source, release)
                    note.append(build_venv(release))
                    try:
                        linked = link_shared(layout, release)
                    except OSError as error:
                        raise disk_error(error, "linking shared/") from error
                    note.append(f"shared: {', '.join(linked) or 'nothing'}")
                _check(release, options, checker, journal)
            plan = plan_release(
                release, options.serve.app, options.health_path, options.release_command
            )
            if plan.migrations is not None:
                with journal.step("migration-scan") as note:
                    note.append(_scan(layout, release, old, plan.migrations, options))
            if plan.release_command is not None:
                with journal.step("release-command") as note:
                    note.append(run_release_command(plan.release_command, release))
            else:
                journal.record("release-command", "skipped", 0, "no migrations detected")
            layout.mark_complete(
                release_id, {"source": _describe(source), "health_path": plan.health_path}
            )
            state.started = True
            _start_and_gate(layout, supervisor, journal, release_id, plan.health_path, options)
            _switch(layout, journal, release_id, options)
            state.switched = True
        notes = _after_switch(layout, supervisor, journal, old, options)
        return Outcome("deploy", release_id, old, time.monotonic() - journal.started, notes)


def rollback(to: str | None, options: DeployOptions, progress: Progress) -> Outcome:
    layout = Layout(options.root)
    if not layout.releases.is_dir():
        raise InputError(f"nothing is deployed under {options.root}", "deploy a release first")
    with deploy_lock(layout.lock), _interruptible():
        journal = Journal(layout.log, "rollback", progress)
        supervisor = _supervisor(options, layout)
        _recover(layout, supervisor, journal)
        current = layout.current_id()
        target = to or layout.previous_id()
        if target is None:
            raise UserError(
                "there is no previous release to roll back to", "deploy --status lists them"
            )
        if target not in layout.complete_releases():
            known = ", ".join(layout.complete_releases()) or "none"
            raise UserError(f"no release {target!r} under {layout.releases}", f"releases: {known}")
        if target == current:
            raise UserError(f"{target} is already the current release", "--to names another one")
        journal.release = target
        health_path = str(layout.release_info(target).get("health_path") or "/")
        with _undo_unless_switched(layout, supervisor, journal, None) as state:
            state.started = True
            state.generation = target
            _start_and_gate(layout, supervisor, journal, target, health_path, options)
            _switch(layout, journal, target, options)
            state.switched = True
        notes = _after_switch(layout, supervisor, journal, current, options, prune=False)
        return Outcome("rollback", target, current, time.monotonic() - journal.started, notes)


@dataclass
class _State:
    generation: str | None
    started: bool = False
    switched: bool = False


@contextmanager
def _undo_unless_switched(
    layout: Layout, supervisor: Supervisor, journal: Journal, release_id: str | None
) -> Iterator[_State]:
    """On any failure before the switch: stop the new generation, remove the unfinished
    release (a deploy's, not a rollback's), and say what the old release is doing."""
    state = _State(release_id)
    try:
        yield state
    except BaseException as error:
        if state.switched:
            raise
        tail = ""
        if state.started and state.generation:
            tail = supervisor.log_tail(state.generation)
            supervisor.stop(state.generation)
        if release_id is not None:
            shutil.rmtree(layout.release(release_id), ignore_errors=True)
        status = "failed" if isinstance(error, DeployFailed | UserError) else "interrupted"
        journal.record(journal.action, status, time.monotonic() - journal.started, str(error))
        if isinstance(error, DeployFailed) and tail and not error.details:
            error.details = f"last lines of the new generation's log:\n{tail}"
        if isinstance(error, KeyboardInterrupt | Interrupted):
            raise DeployFailed(
                f"{journal.action} interrupted: the new generation was stopped, nothing switched"
            ) from error
        raise


def _check(release: Path, options: DeployOptions, checker: Checker, journal: Journal) -> None:
    if options.skip_check:
        journal.record("check", "skipped", 0, "--skip-check")
        return
    with journal.step("check") as note:
        errors = checker(release)
        if errors:
            raise DeployFailed(
                f"prodready check found {len(errors)} error(s) in the release",
                "fix them (or deploy with --skip-check, which the log records)",
                details="\n".join(errors[:20]),
            )
        note.append("no errors")


def _scan(
    layout: Layout, release: Path, old: str | None, migrations: Migrations, options: DeployOptions
) -> str:
    running = layout.release(old) if old else None
    new_files = breaking.new_migration_files(migrations.versions(release), release, running)
    found = breaking.scan(new_files, release)
    if found and not options.allow_breaking:
        raise DeployFailed(
            f"{len(found)} new migration step(s) would break the running release",
            breaking.EXPAND_CONTRACT,
            details="\n".join(map(str, found)),
        )
    allowed = f"; allowed by --allow-breaking-migration: {'; '.join(map(str, found))}"
    return f"{len(new_files)} new migration file(s)" + (allowed if found else "")


def _start_and_gate(
    layout: Layout,
    supervisor: Supervisor,
    journal: Journal,
    release_id: str,
    health_path: str,
    options: DeployOptions,
) -> None:
    with journal.step("start", f"{options.serve.server} on {layout.socket(release_id)}") as note:
        supervisor.start(release_id)
        note.append(f"{options.serve.server} on {layout.socket(release_id)}")
    gate = Gate(health_path, options.passes, options.timeout_s, warmup=options.warmup)
    with journal.step("gate", f"GET {health_path} x{options.passes}") as note:
        note.append(
            wait_healthy(
                gate, str(layout.socket(release_id)), lambda: supervisor.running(release_id)
            )
        )
        supervisor.promote(release_id)


def _switch(layout: Layout, journal: Journal, release_id: str, options: DeployOptions) -> None:
    with journal.step("switch") as note:
        if options.proxy == "nginx":
            note.append(switch.ensure_include(layout, options.nginx))
        else:
            note.append("--proxy none: nginx not managed (point a proxy at run/app.sock)")
        switch.point_traffic(layout, release_id)
        switch.point_current(layout, release_id)
        layout.mark_served(release_id)


def _after_switch(
    layout: Layout,
    supervisor: Supervisor,
    journal: Journal,
    old: str | None,
    options: DeployOptions,
    prune: bool = True,
) -> list[str]:
    """Drain the old generation and prune. Failures here no longer touch the new release."""
    notes = []
    if old is not None and supervisor.running(old):
        with journal.step("drain", old) as note:
            time.sleep(options.settle_s)
            note.append(f"{old}: {supervisor.stop(old)}")
            notes.extend(note)
    if prune:
        with journal.step("prune") as note:
            removed = _prune(layout, options.keep)
            note.append(f"removed {', '.join(removed)}" if removed else "nothing to remove")
            notes.extend(note)
    journal.record(journal.action, "ok", time.monotonic() - journal.started, "")
    return notes


def _prune(layout: Layout, keep: int) -> list[str]:
    """Keeps the newest `keep` releases, and never the current or the previous one."""
    releases = layout.complete_releases()
    protect = {layout.current_id(), layout.previous_id()}
    doomed = [r for r in releases[: max(len(releases) - keep, 0)] if r not in protect]
    for release_id in doomed:
        shutil.rmtree(layout.release(release_id), ignore_errors=True)
        layout.serve_log(release_id).unlink(missing_ok=True)
    return doomed


def _recover(layout: Layout, supervisor: Supervisor, journal: Journal) -> None:
    """Undoes what an interrupted (even SIGKILLed) deploy left: `current` behind the stable
    socket, generations that never took traffic, unfinished release directories."""
    notes = []
    serving, current = layout.serving_id(), layout.current_id()
    if serving and serving != current and layout.release(serving).is_dir():
        switch.point_current(layout, serving)
        notes.append(f"current -> {serving} (it serves)")
    live = serving or current
    for generation in supervisor.generations():
        if generation != live:
            notes.append(f"stopped generation {generation}: {supervisor.stop(generation)}")
    for unfinished in layout.unfinished_releases():
        shutil.rmtree(layout.release(unfinished), ignore_errors=True)
        notes.append(f"removed unfinished release {unfinished}")
    if notes:
        journal.record("recover", "ok", 0, "; ".join(notes))
        journal.progress(f"recovered from an interrupted deploy: {'; '.join(notes)}")


def _supervisor(options: DeployOptions, layout: Layout) -> Supervisor:
    if options.supervisor == "systemd":
        return SystemdSupervisor(layout, options.serve, options.unit)
    return ProcessSupervisor(layout, options.serve)


def _describe(source: Source) -> str:
    return f"git {source.commit}" if source.commit else str(source.directory)


def _interruptible() -> AbstractContextManager[None]:
    """SIGTERM and SIGHUP unwind the deploy like Ctrl-C does, so its cleanup runs."""
    return unwinding((signal.SIGTERM, signal.SIGHUP), lambda sig: Interrupted(sig.name))
