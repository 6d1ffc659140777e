"""Compose files (compose-spec) with line numbers for every key."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from prodready.project.model import FileProblem
from prodready.project.parsers.commands import shell_words
from prodready.project.parsers.yamlines import LineDict, LineList, load

DB_IMAGES = {
    "postgres": "postgresql",
    "postgis/postgis": "postgresql",
    "bitnami/postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "bitnami/mysql": "mysql",
    "redis": "redis",
    "bitnami/redis": "redis",
    "valkey/valkey": "redis",
    "mongo": "mongodb",
    "rabbitmq": "rabbitmq",
    "memcached": "memcached",
    "elasticsearch": "elasticsearch",
}
PROXY_IMAGES = ("nginx", "caddy", "traefik", "haproxy", "envoyproxy/envoy", "openresty")
PORT = re.compile(
    r"^(?:(?P<host_ip>\[[^\]]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?P<host>[\d\-]+|\$\{[^}]+\}):)?(?P<container>[\d\-]+|\$\{[^}]+\})(?:/\w+)?$"
)
VAR_DEFAULT = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])(?P<value>[^}]*)\}")


@dataclass(frozen=True)
class PublishedPort:
    host_ip: str | None
    host: str | None
    container: int | None
    line: int

    @property
    def published(self) -> bool:
        return self.host is not None and self.host_ip not in ("127.0.0.1", "[::1]", "::1")


@dataclass
class ComposeService:
    name: str
    data: LineDict
    line: int

    @property
    def image(self) -> str:
        return str(self.data.get("image") or "")

    @property
    def image_name(self) -> str:
        image = self.image.split("@")[0]
        last = image.split("/")[-1]
        return image.rsplit(":", 1)[0] if ":" in last else image

    @property
    def builds(self) -> bool:
        return "build" in self.data

    def build_context_rel(self, compose_rel: str) -> str | None:
        """The project path of the build context `build:` names, for a service of `compose_rel`."""
        build = self.data.get("build")
        if build is None:
            return None
        context = "."
        if isinstance(build, str):
            context = build
        elif isinstance(build, dict):
            context = str(build.get("context") or ".")
        return posixpath.normpath(posixpath.join(posixpath.dirname(compose_rel), context))

    def dockerfile_rel(self, compose_rel: str) -> str | None:
        """The project path of the Dockerfile `build:` names, for a service of `compose_rel`."""
        context = self.build_context_rel(compose_rel)
        if context is None:
            return None
        build = self.data.get("build")
        name = (
            str(build.get("dockerfile") or "Dockerfile")
            if isinstance(build, dict)
            else "Dockerfile"
        )
        return posixpath.normpath(posixpath.join(context, name))

    @property
    def build_target(self) -> str | None:
        """`build.target`: the Dockerfile stage the service is built to."""
        build = self.data.get("build")
        target = build.get("target") if isinstance(build, dict) else None
        return str(target) if target else None

    @property
    def profiles(self) -> list[str]:
        raw = self.data.get("profiles")
        return [str(p) for p in raw] if isinstance(raw, list) else []

    def bind_sources(self) -> list[tuple[str, int]]:
        """(host path as written, line) of every bind mount, short and long syntax; named
        volumes are left out."""
        raw = self.data.get("volumes")
        if not isinstance(raw, LineList):
            return []
        found: list[tuple[str, int]] = []
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            if isinstance(item, dict):
                if item.get("type") == "bind" and item.get("source"):
                    found.append((str(item["source"]), line))
                continue
            host, sep, _ = str(item).partition(":")
            if sep and host.startswith((".", "/", "~", "$")):
                found.append((host, line))
        return found

    @property
    def database_kind(self) -> str | None:
        name = self.image_name.removeprefix("docker.io/").removeprefix("library/")
        return DB_IMAGES.get(name)

    @property
    def is_proxy(self) -> bool:
        name = self.image_name.removeprefix("docker.io/").removeprefix("library/")
        return name.startswith(PROXY_IMAGES) or self.name in ("nginx", "proxy", "caddy", "traefik")

    def ports(self) -> list[PublishedPort]:
        raw = self.data.get("ports") or []
        if not isinstance(raw, list):
            return []
        result: list[PublishedPort] = []
        for index, item in enumerate(raw):
            line = raw.line_of(index) if isinstance(raw, LineList) else self.line
            if isinstance(item, dict):
                target = _int(item.get("target"))
                published = item.get("published")
                result.append(
                    PublishedPort(
                        item.get("host_ip"),
                        None if published is None else str(published),
                        target,
                        line,
                    )
                )
                continue
            match = PORT.match(str(item).strip())
            if match:
                result.append(
                    PublishedPort(
                        match["host_ip"], match["host"], _int(_default(match["container"])), line
                    )
                )
        return result

    def command_argv(self, key: str = "command") -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, list):
            return [str(v) for v in value]
        return shell_words(str(value))

    def environment(self) -> list[tuple[str, str | None, int]]:
        """(name, value or None when only named, line) for `environment:` in list or map form."""
        env = self.data.get("environment")
        result: list[tuple[str, str | None, int]] = []
        if isinstance(env, LineDict):
            for key, value in env.items():
                result.append((str(key), None if value is None else str(value), env.line_of(key)))
        elif isinstance(env, LineList):
            for index, item in enumerate(env):
                text = str(item)
                name, sep, value = text.partition("=")
                result.append((name, value if sep else None, env.line_of(index)))
        return result

    def healthcheck_test(self) -> tuple[list[str], int] | None:
        health = self.data.get("healthcheck")
        if not isinstance(health, LineDict) or health.get("disable"):
            return None
        test = health.get("test")
        line = health.line_of("test")
        if isinstance(test, list):
            items = [str(t) for t in test]
            if items and items[0] == "CMD-SHELL":
                return ["/bin/sh", "-c", " ".join(items[1:])], line
            if items and items[0] == "CMD":
                return items[1:], line
            if items and items[0] == "NONE":
                return None
            return items, line
        if isinstance(test, str):
            return ["/bin/sh", "-c", test], line
        return None


@dataclass
class ComposeFile:
    rel: str
    data: LineDict | None
    services: list[ComposeService] = field(default_factory=list)
    problem: FileProblem | None = None
    _by_name: dict[str, ComposeService] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def service(self, name: str) -> ComposeService | None:
        """The service called `name` (the first, as a duplicate key is a YAML error anyway);
        looked up in a dict built on first use: rules ask once per depends_on entry."""
        if self._by_name is None:
            self._by_name = {}
            for service in reversed(self.services):
                self._by_name[service.name] = service
        return self._by_name.get(name)


def parse(rel: str, text: str) -> ComposeFile:
    try:
        data = load(text)
    except (yaml.YAMLError, RecursionError) as error:  # RecursionError: nested too deeply
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return ComposeFile(rel, None, problem=FileProblem(rel, line, f"malformed YAML: {problem}"))
    if data is None:
        return ComposeFile(rel, None)
    if not isinstance(data, LineDict):
        return ComposeFile(rel, None, problem=FileProblem(rel, 1, "compose file is not a mapping"))
    services: list[ComposeService] = []
    raw = data.get("services")
    if isinstance(raw, LineDict):
        for name, body in raw.items():
            if isinstance(body, LineDict):
                services.append(ComposeService(str(name), body, raw.line_of(name)))
    return ComposeFile(rel, data, services)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).split("-")[0])
    except (TypeError, ValueError):
        return None


def _default(value: str) -> str:
    """`${PORT:-8000}` -> `8000`."""
    match = VAR_DEFAULT.fullmatch(value)
    return match["value"] if match and match["op"] in (":-", "-") else value
