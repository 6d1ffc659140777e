"""What a load run is asked to do: the target, the requests, the model and its limits.

Everything here is validated once, up front, so the engine can trust it: a bad URL, a
malformed duration or an impossible combination of options becomes a `UsageError` with a hint.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from prodready.errors import InputError, UsageError

USER_AGENT = "prodready-load/0.1"
DEFAULT_CONNECTIONS = 50
DEFAULT_DURATION_S = 10.0
DEFAULT_TIMEOUT_S = 10.0
# In-flight requests get this long after the end of the run before the run is cut off.
MAX_GRACE_S = 2.0

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class Target:
    """Where the requests go: one scheme, host and port shared by every request of a run."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default_port = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default_port else f"{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host_header}{path}"


@dataclass(frozen=True)
class RequestSpec:
    """One kind of request of a run; a scenario mixes several by weight."""

    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    weight: int = 1
    name: str = ""

    def encode(self, target: Target) -> bytes:
        """The exact bytes sent on the wire, built once before the run (HTTP/1.1, keep-alive)."""
        names = {name.lower() for name, _ in self.headers}
        # Non-ASCII in the path is percent-encoded; what is already encoded stays as it is.
        path = quote(self.path, safe="/?&=%:@!$'()*+,;~#[]")
        lines = [f"{self.method} {path} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {target.host_header}")
        if "user-agent" not in names:
            lines.append(f"User-Agent: {USER_AGENT}")
        if "accept" not in names:
            lines.append("Accept: */*")
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + self.body


@dataclass(frozen=True)
class LoadConfig:
    """A validated load run. `rate` set means the open model; otherwise the closed model."""

    target: Target
    requests: tuple[RequestSpec, ...]
    connections: int = DEFAULT_CONNECTIONS
    duration_s: float | None = DEFAULT_DURATION_S
    total_requests: int | None = None
    rate: float | None = None
    workers: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    insecure: bool = False
    report_interval_s: float = 1.0

    @property
    def open_model(self) -> bool:
        return self.rate is not None

    @property
    def grace_s(self) -> float:
        return min(self.timeout_s, MAX_GRACE_S)

    @property
    def planned_duration_s(self) -> float | None:
        """How long the run sends requests, if known in advance."""
        if self.duration_s is not None:
            return self.duration_s
        if self.rate and self.total_requests:
            return self.total_requests / self.rate
        return None

    def describe(self) -> dict[str, object]:
        return {
            "url": self.target.url(self.requests[0].path),
            "requests": [
                {"name": r.name, "method": r.method, "path": r.path, "weight": r.weight}
                for r in self.requests
            ],
            "model": "open" if self.open_model else "closed",
            "rate": self.rate,
            "connections": self.connections,
            "duration_s": self.duration_s,
            "total_requests": self.total_requests,
            "workers": self.workers,
            "timeout_s": self.timeout_s,
        }


def parse_target(url: str) -> tuple[Target, str]:
    """Splits an http(s) URL into its target and its path (with query)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UsageError(
            f"bad URL {url!r}: {error}", "use a URL like http://127.0.0.1:8000/"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"bad URL {url!r}: expected http:// or https:// and a host",
            "use a URL like http://127.0.0.1:8000/health",
        )
    if port == 0:
        raise UsageError(
            f"bad URL {url!r}: port 0 is no server's port",
            "give the port the server listens on, e.g. http://127.0.0.1:8000/",
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    scheme = parts.scheme
    default_port = 443 if scheme == "https" else 80
    return Target(scheme, parts.hostname, default_port if port is None else port), path


def parse_duration(text: str) -> float:
    """'30s', '2m', '500ms', '1h' or a plain number of seconds."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"bad duration {text!r}", "use a positive duration like 30s, 2m or 500ms")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def parse_rate(text: str) -> float:
    """'200', '200/s' or '12000/m'."""
    number, _, per = text.strip().partition("/")
    seconds = {"": 1.0, "s": 1.0, "m": 60.0}.get(per.strip())
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if seconds is None or not math.isfinite(value) or value <= 0:  # nan and inf parse as floats
        raise UsageError(f"bad rate {text!r}", "use requests per second like 200 or 200/s")
    return value / seconds


def parse_header(text: str) -> tuple[str, str]:
    """'Name: value', as curl and wrk take it."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not _TOKEN.match(name) or "\r" in value or "\n" in value:
        raise UsageError(f"bad header {text!r}", "use -H 'Name: value'")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise UsageError(
            f"bad header {text!r}: HTTP/1.1 header values are Latin-1",
            "percent-encode or base64 the value",
        ) from None
    return name, value.strip()


def parse_method(text: str) -> str:
    method = text.strip().upper()
    if not _TOKEN.match(method):
        raise UsageError(f"bad method {text!r}", "use GET, POST, PUT, PATCH, DELETE or OPTIONS")
    return method


def usable_cpus() -> int:
    """The CPUs this process may run on (affinity and cpuset aware), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def build_config(
    url: str | None,
    *,
    requests: tuple[RequestSpec, ...] | None = None,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    connections: int | None = None,
    duration_s: float | None = None,
    total_requests: int | None = None,
    rate: float | None = None,
    workers: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    insecure: bool = False,
    target: Target | None = None,
) -> LoadConfig:
    """Checks one combination of options and fills in the defaults.

    `requests` (from a scenario) replaces the single request made from `url`, `method`,
    `headers` and `body`; a scenario brings its own `target`.
    """
    if requests is None:
        if url is None:
            raise UsageError("no URL given", "pass a URL or --scenario FILE")
        target, path = parse_target(url)
        requests = (
            RequestSpec(path=path, method=parse_method(method), headers=headers, body=body),
        )
    elif target is None:
        raise UsageError("a scenario needs a target URL", "set base_url in the scenario file")
    if connections is not None and connections < 1:
        raise UsageError("--connections must be at least 1", "use -c 50")
    if total_requests is not None and total_requests < 1:
        raise UsageError("--requests must be at least 1", "use -n 1000")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1", "leave it out to use every CPU")
    if timeout_s <= 0:
        raise UsageError("--timeout must be positive", "use --timeout 10s")
    if rate is not None and rate <= 0:
        raise UsageError("--rate must be positive", "use --rate 200")
    if duration_s is None and total_requests is None:
        duration_s = DEFAULT_DURATION_S
    connections = connections or DEFAULT_CONNECTIONS
    if total_requests is not None:
        connections = min(connections, total_requests)
    workers = min(workers or usable_cpus(), connections)
    return LoadConfig(
        target=target,
        requests=requests,
        connections=connections,
        duration_s=duration_s,
        total_requests=total_requests,
        rate=rate,
        workers=workers,
        timeout_s=timeout_s,
        insecure=insecure,
    )


def read_body_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(
            f"cannot read body file {path}: {error.strerror}", "check the path"
        ) from None
