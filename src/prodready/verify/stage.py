"""The app booted as production will run it, for every scorecard item to measure: the served
app on a loopback port, nginx in front with TLS, scratch PostgreSQL/Redis, a work directory
outside the user's tree. Items that must stop or misconfigure a server start their own with
`start_extra`, so the shared one stays up for the rest."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from prodready.check.model import Finding
from prodready.errors import AppNotFoundError
from prodready.project.model import Project
from prodready.verify.backing import Backing, prepare_backing
from prodready.verify.front import SERVER_NAME, Front, start_front
from prodready.verify.http import Reply
from prodready.verify.launch import BootSource
from prodready.verify.release import run_release
from prodready.verify.server import ServerProcess, start_server


@dataclass(frozen=True)
class VerifyOptions:
    server: str = "gunicorn"
    database_url: str | None = None
    redis_url: str | None = None
    quick: bool = False
    server_name: str = SERVER_NAME
    """The name nginx serves (and the certificate holds): one the app's allowed hosts accept."""
    env: tuple[tuple[str, str], ...] = ()
    """Extra environment for the app (KEY=VALUE given on the command line)."""


@dataclass
class Stage:
    root: Path
    project: Project
    options: VerifyOptions
    work: Path
    backing: Backing
    source: BootSource
    server: ServerProcess
    front: Front | None
    front_missing: str = ""
    """Why there is no nginx front (items through nginx are skipped with it)."""
    extras: list[ServerProcess] = field(default_factory=list)
    check_findings: list[Finding] = field(default_factory=list)
    release_note: str | None = None
    """What `prodready check` found (its detection pass is the Project every item reads)."""

    @property
    def app_env(self) -> dict[str, str]:
        """The app's environment: the production launch's options, the scratch services, then
        what the user gave with --env."""
        return {**self.source.env, **self.backing.env, **dict(self.options.env)}

    @property
    def app_dir(self) -> Path:
        """Where the app is served from (a compose build context, or the project root)."""
        return (self.root / self.source.app_dir).resolve()

    @property
    def target(self) -> str:
        """MODULE:ATTR of the app, importable from `app_dir`."""
        return self.source.target or app_target(self.project)

    @property
    def app_from_root(self) -> str:
        """The app as the project root names it (what `init` generates files for)."""
        return _from_root(self.source.app_dir, self.target)

    def get(self, path: str, **kw: object) -> Reply:
        """One request straight to the shared server."""
        return self.server.get(path, **kw)

    def start_extra(
        self, name: str, env: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()
    ) -> ServerProcess:
        """Another server of the same app (its own port, pid and log), stopped at the end."""
        served = start_server(
            self.app_dir,
            self.work,
            name,
            {**self.app_env, **(env or {})},
            server=self.options.server,
            target=self.target,
            extra_args=extra_args,
        )
        self.extras.append(served)
        return served

    def boot_notes(self) -> list[str]:
        own = [f.rel for f in self.project.files if f.rel.endswith("gunicorn.conf.py")]
        notes = [
            self.source.note,
            f"served by `prodready serve --server {self.options.server}` on "
            f"127.0.0.1:{self.server.port}"
            + (f" with the settings of {own[0]}" if own else " with the computed plan")
            + (f", ready in {self.server.ready_s:.1f} s" if self.server.ready_s else ""),
        ]
        if self.release_note:
            notes.append(self.release_note)
        if self.front:
            notes.append(
                f"nginx with the generated site: https 127.0.0.1:{self.front.https_port}, "
                f"http 127.0.0.1:{self.front.http_port}, throwaway certificate"
            )
        else:
            notes.append(f"no nginx front: {self.front_missing}")
        return notes + self.backing.notes

    def close(self) -> None:
        for served in self.extras:
            served.stop()
        self.server.stop()
        if self.front:
            self.front.stop()
        self.backing.drop()
        shutil.rmtree(self.work, ignore_errors=True)


def app_target(project: Project) -> str:
    """The detected app; raises AppNotFoundError when there is none or several."""
    if project.app is not None:
        return project.app.target
    if project.apps:
        names = ", ".join(sorted(a.target for a in project.apps))
        raise AppNotFoundError(
            f"several apps found ({names}) and no production launch names one",
            "say which in a Procfile (web: gunicorn MODULE:ATTR) or a gunicorn.conf.py wsgi_app",
        )
    raise AppNotFoundError(
        f"no WSGI or ASGI app found in {project.root}",
        "run it in the app's directory, or give the directory: prodready verify DIR",
    )


def boot(
    root: Path,
    project: Project,
    findings: list[Finding],
    source: BootSource,
    options: VerifyOptions,
) -> Stage:
    """Boots the app and its front; raises BootError (exit 2) when the app does not start."""
    target = source.target or app_target(project)
    work = Path(tempfile.mkdtemp(prefix="prodready-verify-"))
    backing = prepare_backing(project, options.database_url, options.redis_url)
    env = {**source.env, **backing.env, **dict(options.env)}
    try:
        release_note = run_release(project, backing, env, work)
        server = start_server(
            (root / source.app_dir).resolve(),
            work,
            "app",
            env,
            server=options.server,
            target=target,
        )
        try:
            front = start_front(
                project, _from_root(source.app_dir, target), server.port, work,
                options.server_name,
            )  # fmt: skip
        except BaseException:
            server.stop()
            raise
    except BaseException:
        backing.drop()
        shutil.rmtree(work, ignore_errors=True)
        raise
    if isinstance(front, str):
        return Stage(root, project, options, work, backing, source, server, None, front,
                     check_findings=findings, release_note=release_note)  # fmt: skip
    return Stage(root, project, options, work, backing, source, server, front,
                 check_findings=findings, release_note=release_note)  # fmt: skip


def _from_root(app_dir: str, target: str) -> str:
    """MODULE:ATTR importable from `app_dir` as the project root names it."""
    if app_dir in (".", ""):
        return target
    return f"{app_dir.strip('/').replace('/', '.')}.{target}"
