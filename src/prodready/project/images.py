"""What a Dockerfile's image is made of: the external image each stage starts from, its name
as Docker Hub spells it, its ENV and ARG settings, and the tools it is known to lack or installs.
Shared by the Dockerfile, compose and cross-file rules."""

from __future__ import annotations

import re

from prodready.project.files import project_text
from prodready.project.model import Project
from prodready.project.parsers.dockerfile import Dockerfile, Instruction, Stage, instructions

ARG_REFERENCE = re.compile(r"\$\{(\w+)(?::?[-+]([^}]*))?\}|\$(\w+)")


def root_image(dockerfile: Dockerfile, stage: Stage) -> str:
    """The external image a stage starts from, global ARG defaults substituted."""
    return resolve_args(dockerfile, dockerfile.lineage(stage)[0].base)


def resolve_args(dockerfile: Dockerfile, text: str) -> str:
    defaults: dict[str, str] = {}
    for inst in dockerfile.global_args:
        for name, value in arg_pairs(inst):
            if value is not None:
                defaults[name] = value

    def substitute(match: re.Match[str]) -> str:
        name = match[1] or match[3]
        if name in defaults:
            return defaults[name]
        return match[2] if match[2] is not None else match[0]

    return ARG_REFERENCE.sub(substitute, text)


def split_image(image: str) -> tuple[str, str | None, bool]:
    """`registry/python:3.12-slim@sha256:..` -> (`registry/python`, `3.12-slim`, has digest)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = name.rsplit(":", 1)
        return repo, tag, bool(digest)
    return name, None, bool(digest)


def official_name(image: str) -> str:
    """`docker.io/library/postgres:16` -> `postgres`: the repository as Docker Hub names it."""
    repo, _, _ = split_image(image)
    return repo.removeprefix("docker.io/").removeprefix("library/")


BACKING_SERVICES = frozenset(
    {
        "postgres", "postgis", "mysql", "mariadb", "redis", "valkey", "mongo", "memcached",
        "rabbitmq", "elasticsearch", "opensearch", "minio", "minio-client", "localstack",
        "tinybird-local", "prometheus", "grafana", "pgadmin4", "adminer", "mongo-express",
        "phpmyadmin", "redis-commander", "maildev", "mailhog", "mailpit",
    }
)  # fmt: skip
"""Images of databases, brokers, object stores, mail catchers and admin consoles, by the last
part of their name (`bitnamilegacy/minio`, `docker.io/library/postgres`): services an app
uses, never the app itself."""


def is_backing_service(image: str) -> bool:
    return official_name(image).rsplit("/", 1)[-1].lower() in BACKING_SERVICES


def env_pairs(inst: Instruction) -> list[tuple[str, str]]:
    """`ENV A=1 B=2` and the legacy `ENV NAME value with spaces`."""
    if not inst.args:
        return []
    if "=" not in inst.args[0]:
        return [(inst.args[0], " ".join(inst.args[1:]))]
    return [tuple(arg.split("=", 1)) for arg in inst.args if "=" in arg]  # type: ignore[misc]


def arg_pairs(inst: Instruction) -> list[tuple[str, str | None]]:
    result: list[tuple[str, str | None]] = []
    for arg in inst.args:
        name, sep, value = arg.partition("=")
        result.append((name, value if sep else None))
    return result


def environment(stages: list[Stage]) -> dict[str, tuple[str, Instruction]]:
    """Name -> (value, ENV instruction) as the image ends up with it (later ENV wins)."""
    result: dict[str, tuple[str, Instruction]] = {}
    for inst in instructions(stages, "ENV"):
        for name, value in env_pairs(inst):
            result[name] = (value, inst)
    return result


def image_lacks(image: str) -> set[str]:
    """Which of curl and wget an external base image is known not to ship."""
    repo, tag, _ = split_image(image)
    tag = tag or ""
    if image == "scratch" or "distroless" in repo:
        return {"curl", "wget"}
    if repo.startswith("cgr.dev/chainguard/") and not tag.endswith("-dev"):
        return {"curl", "wget"}
    if "alpine" in tag or repo.rsplit("/", 1)[-1] == "alpine":
        return {"curl"}  # busybox provides wget
    if "slim" in tag:
        return {"curl", "wget"}
    return set()


def installs(stages: list[Stage], tool: str) -> bool:
    """A RUN of the stages installs `tool` with the system package manager, or a COPY adds it.
    The RUN is read with the stages' ARG and ENV values put in, as the build shell would."""
    package_install = re.compile(
        rf"\b(?:apt-get|apt|apk|yum|dnf|microdnf)\b[^;&|]*\b(?:install|add)\b[^;&|]*\b{tool}\b"
    )
    values: dict[str, str] = {}
    for inst in instructions(stages, "ARG", "ENV", "RUN", "COPY"):
        if inst.keyword in ("ARG", "ENV"):
            pairs = arg_pairs(inst) if inst.keyword == "ARG" else env_pairs(inst)
            values.update((name, value) for name, value in pairs if value is not None)
            continue
        text = " ".join(inst.args) if inst.exec_form else inst.value
        text = _expand(text, values)  # `apt-get install ${RUNTIME_PACKAGES}` (paperless-ngx)
        if inst.keyword == "RUN" and package_install.search(text):
            return True
        if inst.keyword == "COPY" and any(a.rsplit("/", 1)[-1] == tool for a in inst.args):
            return True
    return False


def _expand(text: str, values: dict[str, str]) -> str:
    """`$NAME` and `${NAME}` replaced by the values set so far; unknown references stay."""

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match[1] or match[3])
        return match[0] if value is None else value.strip("\"'")

    return ARG_REFERENCE.sub(substitute, text)


WORKFLOW_FOLDER = ".github/workflows"
PUBLISHED_IMAGE = re.compile(
    r"^\s*(?:images|tags)\s*:\s*[|>]?[-+]?\s*\n?((?:[ \t]*[\w.-]+/[\w./-]+[^\n]*\n?)+)"
    r"|\bdocker\s+push\s+([\w.-]+/[\w./-]+)",
    re.MULTILINE,
)
"""docker/metadata-action's `images:` and build-push-action's `tags:` (one per line or
comma-separated), and `docker push owner/name`."""
IMAGE_NAME = re.compile(r"(?:^|[\s,'\"])([\w.-]+(?:/[\w.-]+)+)(?::[^\s,'\"]*)?")


def published_images(project: Project) -> frozenset[str]:
    """The last path segment of each image the project's CI pushes (Tandoor's workflow pushes
    vabene1111/recipes, the image its documented compose files pull): images of this very
    project, whatever the checkout's folder is called."""
    folder = project.root / WORKFLOW_FOLDER
    if not folder.is_dir():
        return frozenset()
    names: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yml", ".yaml"):
            continue
        text = project_text(project, f"{WORKFLOW_FOLDER}/{path.name}") or ""
        for match in PUBLISHED_IMAGE.finditer(text):
            for image in IMAGE_NAME.findall(match[1] or match[2] or ""):
                if "${{" not in image and not image.endswith(("-", ".")):
                    names.add(image.rsplit("/", 1)[-1].lower())
    return frozenset(names)
