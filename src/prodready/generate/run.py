"""`prodready init` as a library call: detect, build the context, render the chosen artifacts,
write what is new (or everything, with force)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from prodready.errors import InputError, UsageError
from prodready.generate import safevalues, writer
from prodready.generate.artifact import Kind, Rendered
from prodready.generate.compose import render_compose
from prodready.generate.context import DeployContext, Options, build_context
from prodready.generate.dockerfile import render_dockerfile
from prodready.generate.envfile import render_envfile
from prodready.generate.gunicorn import render_gunicorn
from prodready.generate.kubernetes import render_kubernetes
from prodready.generate.nginx import render_nginx
from prodready.generate.nginxtarget import nginx_target
from prodready.generate.prometheus import render_prometheus
from prodready.generate.systemd import render_systemd
from prodready.generate.writer import Outcome
from prodready.project import detect

RENDERERS: dict[Kind, Callable[[DeployContext], list[Rendered]]] = {
    Kind.GUNICORN: render_gunicorn,
    Kind.DOCKERFILE: render_dockerfile,
    Kind.COMPOSE: render_compose,
    Kind.SYSTEMD: render_systemd,
    Kind.NGINX: render_nginx,
    Kind.PROMETHEUS: render_prometheus,
    Kind.ENV: render_envfile,
    Kind.KUBERNETES: render_kubernetes,
}


@dataclass(frozen=True)
class InitResult:
    context: DeployContext
    outcomes: list[Outcome]


def parse_only(text: str | None) -> list[Kind]:
    if text is None:
        return list(RENDERERS)
    wanted = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = {kind.value for kind in Kind}
    if not wanted:
        raise UsageError(
            f"--only {text!r} names no kind", f"choose from {', '.join(sorted(known))}"
        )
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UsageError(
            f"--only names unknown kind {unknown[0]!r}", f"choose from {', '.join(sorted(known))}"
        )
    return [kind for kind in RENDERERS if kind.value in wanted]


def _require_directory(root: Path) -> None:
    try:
        exists, is_directory = root.exists(), root.is_dir()
    except OSError as error:
        raise InputError(
            f"cannot read {root}: {error.strerror}", "check its permissions"
        ) from error
    if not exists:
        raise InputError(f"{root} does not exist", "give the directory of the app")
    if not is_directory:
        raise InputError(f"{root} is not a directory", "give the directory of the app")


def init_project(
    root: Path, options: Options, kinds: Iterable[Kind] | None = None, force: bool = False
) -> InitResult:
    _require_directory(root)
    safevalues.server_name(options.server_name)  # refused before any work or file is written
    project = detect(root)
    target = nginx_target(options.nginx_version, options.openssl_version)
    context = build_context(project, options, target)
    rendered = [
        f for kind in (RENDERERS if kinds is None else kinds) for f in RENDERERS[kind](context)
    ]
    files = list({f.rel: f for f in rendered}.values())  # a file two kinds need, written once
    outcomes = writer.plan(root, files, force)
    writer.write(root, outcomes)
    return InitResult(context, outcomes)
