"""What the project's own deployment already decides, so the files init writes agree with the
files it leaves alone: the port its server binds, its deployment folder, its nginx site."""

from __future__ import annotations

from prodready.project.model import FileKind, Project

DEFAULT_DEPLOY_DIR = "deploy"
DEPLOYMENT_KINDS = (FileKind.NGINX, FileKind.SYSTEMD)
DEPLOYMENT_FOLDERS = frozenset(
    {"deploy", "deployment", "deployments", "ops", "infra", "infrastructure", "devops", "etc"}
)
"""Names of folders that hold a project's deployment; a folder named after one tool (nginx/)
holds only that tool's files, so init does not put its systemd units there."""
SERVER_BIND_SOURCES = frozenset({"gunicorn bind"})
"""Binds that say where production listens (with any server's "... command line"); EXPOSE
and app.run() do not."""


def app_port(project: Project, default: int) -> tuple[int, list[str], list[str]]:
    """The port the project's own production server command or Gunicorn config binds, so the
    files init writes (healthchecks, nginx upstreams, probes) reach the app the files it
    leaves alone start; `default` when none says. Returns (port, notes, conflicts)."""
    binds = [
        b for b in project.binds if b.source in SERVER_BIND_SOURCES or "command line" in b.source
    ]
    ports = sorted({b.port for b in binds})
    if not ports:
        return default, [], []
    first = next(b for b in binds if b.port == ports[0])
    said = ", ".join(f"{b.rel}:{b.line} binds {b.port}" for b in binds)
    if len(ports) == 1:
        note = f"the app listens on {first.port} ({first.rel}:{first.line}): init's files use it"
        return first.port, [note] if first.port != default else [], []
    conflict = (
        f"the project's own files bind the app to different ports ({said}): make them agree; "
        f"init's files use {first.port}"
    )
    return first.port, [], [conflict]


def deploy_folder(project: Project) -> tuple[str, str]:
    """The deployment folder (DEPLOYMENT_FOLDERS) holding most of the project's production
    nginx and systemd files, and one of them as evidence; (deploy, "") when there is none."""
    folders: dict[str, list[str]] = {}
    for kind in DEPLOYMENT_KINDS:
        for source in project.files_of(kind):
            folder, _, rest = source.rel.partition("/")
            if rest and not source.dev_only and folder.lower() in DEPLOYMENT_FOLDERS:
                folders.setdefault(folder, []).append(source.rel)
    if not folders:
        return DEFAULT_DEPLOY_DIR, ""
    folder = max(sorted(folders), key=lambda name: len(folders[name]))
    return folder, sorted(folders[folder])[0]


def own_nginx_site(project: Project) -> str | None:
    sites = [f.rel for f in project.files_of(FileKind.NGINX) if not f.dev_only]
    return sites[0] if len(sites) == 1 else None
