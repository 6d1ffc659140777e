"""The production server settings for one app on one machine, each with the reason for it.

`compute_plan(project, machine=None, overrides=Overrides(), probe=None) -> ServerPlan` is the one
place these numbers are decided. `prodready serve` runs the plan, `--explain` prints
`plan.explain()`, `--print-config` and `prodready init` write `plan.to_gunicorn_conf()`.
Nothing here starts a process or imports user code: `probe` (see `probe.py`) brings what can
only be measured by loading the app (its interface and its memory per worker).
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from prodready.errors import AppNotFoundError, UsageError
from prodready.project.gunicornsettings import project_gunicorn_settings
from prodready.project.model import Project, RouteInfo
from prodready.serve.machine import Machine, this_machine
from prodready.serve.probe import AppTarget, ProbeResult
from prodready.serve.projectconfig import DangerContext, apply_project_settings
from prodready.serve.runtimedir import state_dir_for
from prodready.serve.setting import COMPUTED, Setting

ASGI_WORKER = "asgi"
"""Gunicorn's own asyncio ASGI worker (Gunicorn 25+), not uvicorn-worker: see _concurrency."""
THREAD_WORKER = "prodready.serve.threadworker.PollingThreadWorker"
"""Gunicorn's gthread worker, but a connection holds no thread until its first bytes arrive."""
DEFAULT_BIND = "127.0.0.1:8000"
IO_THREADS = 32
"""Threads per worker when handlers wait on I/O. A waiting request holds a thread, so threads
bound concurrency: 2 workers x 32 = 64 requests in flight = 1,280 rps at 50 ms (Little's law)."""
STREAM_THREADS = 100
"""Threads per worker when the app has streaming routes: under gthread an open stream holds a
thread for its whole life, so threads per worker are the streams a worker can hold."""
CPU_THREADS = 4
"""Threads per worker otherwise: enough that a slow client or an occasional wait does not
stall the worker, few enough that the GIL is not fought over."""
MEMORY_SHARE = 0.8
"""Share of the memory limit workers may take; the rest is the master, page cache, spikes."""
ESTIMATED_WORKER_RSS = 100 << 20
MAX_REQUESTS = 10_000
TIMEOUT_S = 30
GRACEFUL_TIMEOUT_S = 25
KEEPALIVE_DIRECT_S = 5
KEEPALIVE_BEHIND_PROXY_S = 65
SERVERS = ("gunicorn", "granian")
LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
GRANIAN_SETTINGS = frozenset(
    {
        "wsgi_app",
        "workers",
        "blocking_threads",
        "runtime_threads",
        "graceful_timeout",
        "bind",
        "chdir",
        "pidfile",
        "loglevel",
        "accesslog",
    }
)
"""The settings Granian has an equivalent for; the others are Gunicorn's only."""
GRANIAN_RUNTIME_THREADS = 1


@dataclass(frozen=True)
class Overrides:
    """What the user fixed on the command line; everything else is computed."""

    target: str | None = None
    server: str = "gunicorn"
    bind: str | None = None
    workers: int | None = None
    threads: int | None = None
    max_requests: int | None = None
    proxies: tuple[str, ...] = ()
    pidfile: str | None = None
    access_log: bool = False
    state_dir: str | None = None
    log_format: str = "auto"
    timeout: int | None = None
    graceful_timeout: int | None = None
    log_level: str | None = None
    override: bool = False
    """Dangerous values from the project's Gunicorn configuration give way to computed ones."""
    project_config: bool = True
    """Honour the project's own Gunicorn settings (off for `prodready init`, which writes
    that configuration rather than runs under it)."""


@dataclass(frozen=True)
class ServerPlan:
    server: str
    target: str
    interface: str
    root: Path
    state_dir: Path
    machine: Machine
    settings: tuple[Setting, ...] = field(default=())
    log_format: str = "auto"
    """json, console, or auto: JSON lines unless stdout is a terminal (decided where it runs)."""
    warnings: tuple[str, ...] = ()
    """Values the project set that prodready would not: each with why, kept unless --override."""

    def __getitem__(self, name: str) -> Any:
        for setting in self.settings:
            if setting.name == name:
                return setting.value
        raise KeyError(name)

    @property
    def control_socket(self) -> Path:
        return self.state_dir / "gunicorn.ctl"

    def explain(self) -> str:
        """Each value and why, one setting per paragraph."""
        lines = [
            f"{self.server} plan for {self.target} ({self.interface.upper()}) in {self.root}",
            f"machine: {self.machine.cpus} usable CPUs ({self.machine.cpus_why}); "
            f"{_mib(self.machine.memory_bytes)} ({self.machine.memory_why})",
            "",
        ]
        width = max(len(s.name) for s in self.settings)
        for setting in self.settings:
            shown = f"{setting.name.ljust(width)} = {_shown(setting.value)}"
            lines.append(f"{shown}  [{setting.source}]")
            lines.append(f"{' ' * width}   {setting.why}")
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return "\n".join(lines) + "\n"

    @property
    def json_logs(self) -> bool | None:
        """The log config's `json=`: None leaves it to where the server runs (a terminal?)."""
        return {"auto": None, "json": True, "console": False}[self.log_format]

    def to_gunicorn_conf(self) -> str:
        """A gunicorn.conf.py equivalent to this plan, runnable with `gunicorn -c FILE`.

        It needs prodready installed where it runs: the hooks (metrics directory, dead-worker
        merge, drain on SIGTERM, ready markers for `prodready reload`) and the JSON log config
        come from `prodready.serve.gunicorn_hooks` and `prodready.runtime.logs`.
        """
        if self.server != "gunicorn":
            raise UsageError(
                "--print-config writes a gunicorn.conf.py", "leave out --server granian"
            )
        out = [
            f'"""Gunicorn settings for {self.target}, computed by prodready serve on a machine',
            f"with {self.machine.cpus} usable CPUs and {_mib(self.machine.memory_bytes)}.",
            'Recompute with `prodready serve --print-config`; each comment says why."""',
            "",
            "from prodready.runtime.logs import gunicorn_logconfig_dict",
            "# Gunicorn finds hooks by name in this module.",
            "from prodready.serve.gunicorn_hooks import (  # noqa: F401",
            "    child_exit,",
            "    on_exit,",
            "    on_starting,",
            "    post_worker_init,",
            "    pre_request,",
            "    worker_exit,",
            ")",
            "",
        ]
        for setting in self.settings:
            out.extend(f"# {line}" for line in textwrap.wrap(setting.why, 96))
            out.append(f"{setting.name} = {setting.value!r}")
        out.extend(
            [
                "# Lines on stdout through prodready.runtime's structlog pipeline: "
                + _LOG_FORMAT_COMMENT[self.log_format],
                "logconfig_dict = gunicorn_logconfig_dict("
                f"json={self.json_logs}, level={self['loglevel']!r})",
                'logger_class = "prodready.runtime.logs.GunicornLogger"',
            ]
        )
        if self["accesslog"] is None:
            out.append('logconfig_dict["loggers"]["gunicorn.access"]["level"] = "CRITICAL"')
        return "\n".join([*out, ""])


def compute_plan(
    project: Project,
    machine: Machine | None = None,
    overrides: Overrides | None = None,
    probe: ProbeResult | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerPlan:
    """The settings for `project`'s app on `machine` (this one by default).

    Under Gunicorn, values the project sets itself (its gunicorn.conf.py, then
    $GUNICORN_CMD_ARGS from `environ`, os.environ by default) win over computed ones, flags
    over both; see `projectconfig.py` for the dangerous ones.

    `probe` (from `probe.probe_app`) gives the measured memory per worker and the interface of
    an app given on the command line; without it the interface comes from detection and the
    memory per worker is estimated (and the explanation says so). `overrides.state_dir` is
    where the server keeps its pid file, control socket and metrics; a config rendered for
    another machine (`prodready init`) should give that machine's, e.g. /run/APP.
    """
    machine = machine or this_machine()
    overrides = overrides or Overrides()
    if overrides.server not in SERVERS:
        raise UsageError(f"unknown server {overrides.server!r}", "use gunicorn or granian")
    if overrides.log_level and overrides.log_level.lower() not in LOG_LEVELS:
        raise UsageError(
            f"unknown log level {overrides.log_level!r}", "use " + ", ".join(LOG_LEVELS)
        )
    if overrides.log_format not in LOG_FORMATS:
        raise UsageError(
            f"unknown log format {overrides.log_format!r}", "use auto, json or console"
        )
    target, interface = _app(project, overrides, probe)
    state_dir = Path(overrides.state_dir) if overrides.state_dir else state_dir_for(target)
    plan = ServerPlan(
        server=overrides.server,
        target=target,
        interface=interface,
        root=project.root.resolve(),
        state_dir=state_dir,
        machine=machine,
        log_format=overrides.log_format,
    )
    settings = [
        Setting("wsgi_app", target, "the app: " + _app_why(project, overrides, probe)),
        *_concurrency(project, machine, overrides, probe, interface),
        *_lifetimes(overrides),
        *_network(project, overrides),
        *_process(plan, machine, overrides),
    ]
    warnings: list[str] = []
    if plan.server == "granian":
        settings = [s for s in settings if s.name in GRANIAN_SETTINGS]
    elif overrides.project_config:
        found = project_gunicorn_settings(project, os.environ if environ is None else environ)
        context = DangerContext(
            interface, bool(_waiting_routes(project)), _memory_workers(machine, probe)
        )
        settings, warnings = apply_project_settings(
            settings, found, context, overrides.override, jitter_setting
        )
    return replace(plan, settings=tuple(settings), warnings=tuple(warnings))


# --- the app -------------------------------------------------------------------------------------


def _app(project: Project, overrides: Overrides, probe: ProbeResult | None) -> tuple[str, str]:
    if overrides.target:
        target = str(AppTarget.parse(overrides.target))
        known = next((c for c in project.candidates if c.target == target), None)
        interface = probe.interface if probe else (known.interface if known else "wsgi")
        return target, interface
    app = project.app
    if app is None:
        found = ", ".join(c.target for c in project.apps or project.candidates)
        raise AppNotFoundError(
            f"found {len(project.apps)} apps in {project.root}: {found}"
            if found
            else f"no WSGI or ASGI app found in {project.root}",
            "give APP as MODULE:ATTR, e.g. prodready serve app:app",
        )
    return app.target, probe.interface if probe else app.interface


def _app_why(project: Project, overrides: Overrides, probe: ProbeResult | None) -> str:
    source = "given on the command line" if overrides.target else "detected"
    if project.app and not overrides.target:
        source += f" in {project.app.rel}:{project.app.line} ({project.app.framework})"
    return source + ("; imports cleanly" if probe else "")


# --- workers, threads, worker class --------------------------------------------------------------


def _concurrency(
    project: Project,
    machine: Machine,
    overrides: Overrides,
    probe: ProbeResult | None,
    interface: str,
) -> list[Setting]:
    waiting = _waiting_routes(project)
    streaming = [r for r in project.routes if r.streams]
    if overrides.server == "granian":
        return _granian_concurrency(waiting, machine, overrides, probe, interface)
    if interface == "asgi":
        worker_class = Setting(
            "worker_class",
            ASGI_WORKER,
            "ASGI app: Gunicorn's own asyncio worker, one event loop per worker; when a worker "
            "stops it still answers requests arriving on kept-alive connections (uvicorn's "
            "worker closes them, failing a request or two at every reload)"
            + (
                f"; {_streaming_why(streaming)}: one event loop holds thousands of idle streams, "
                "and the worker timeout (a heartbeat of the worker, not a request limit) never "
                "cuts one"
                if streaming
                else ""
            ),
        )
        threads = None
        cpu_workers = max(2, machine.cpus)
        workers_why = (
            f"one event loop per usable CPU ({machine.cpus}), at least 2 so a recycle or a "
            "reload always leaves one serving"
        )
    else:
        worker_class = Setting(
            "worker_class",
            THREAD_WORKER,
            "Gunicorn's gthread: threads serve requests while others wait on I/O, and idle "
            "connections cost a poller entry, not a thread; unlike plain gthread, a new "
            "connection gets no thread before it sends bytes, so sockets that connect and say "
            "nothing cannot stall the server (the sync worker has no keep-alive)",
        )
        if overrides.threads:
            threads = Setting("threads", overrides.threads, "--threads given", "--threads")
        elif streaming:
            threads = Setting(
                "threads",
                STREAM_THREADS,
                f"{_streaming_why(streaming)}: an open stream holds a thread for its life, so "
                f"each worker holds {STREAM_THREADS} streams (with other requests); the worker "
                "timeout is the worker's own heartbeat under gthread, never a limit on a "
                "stream (the sync worker would kill streams at it: never use it here)",
            )
        elif waiting:
            threads = Setting(
                "threads",
                IO_THREADS,
                f"{_waiting_why(waiting)}, so threads bound concurrency (Little's law: "
                "rps = in flight / latency)",
            )
        else:
            threads = Setting(
                "threads",
                CPU_THREADS,
                "no handler found waiting on I/O: a few threads per worker so a slow client "
                "does not stall it, without fighting over the GIL",
            )
        cpu_workers = max(2, machine.cpus + 1)
        workers_why = (
            f"usable CPUs + 1 ({machine.cpus} + 1): one process per CPU for the GIL-bound "
            "part, one more to cover time spent in the kernel; at least 2 so a recycle or "
            "a reload always leaves one serving"
        )
    workers = _workers(cpu_workers, workers_why, machine, overrides, probe)
    return [s for s in (workers, worker_class, threads) if s is not None]


def _waiting_routes(project: Project) -> list[RouteInfo]:
    return [r for r in project.routes if r.blocking_io and not r.is_async]


def _streaming_why(streaming: list[RouteInfo]) -> str:
    shown = ", ".join(f"{r.path} ({r.rel}:{r.line})" for r in streaming[:3])
    return f"streaming routes: {shown}"


def _waiting_why(waiting: list[RouteInfo]) -> str:
    shown = ", ".join(f"{r.path} ({r.rel}:{r.line})" for r in waiting[:3])
    return f"handlers wait on I/O: {shown}; a waiting request holds a thread"


def _granian_concurrency(
    waiting: list[RouteInfo],
    machine: Machine,
    overrides: Overrides,
    probe: ProbeResult | None,
    interface: str,
) -> list[Setting]:
    """Granian's model: Rust runtime threads do all network I/O and never run Python; a WSGI
    handler runs on one of the worker's blocking threads. So only the blocking threads follow
    the app's nature, and Gunicorn's "threads" (which also read and write sockets) do not apply.
    """
    workers = _workers(
        max(2, machine.cpus),
        f"one process per usable CPU ({machine.cpus}): Granian's Rust runtime does the network "
        "I/O outside the GIL; at least 2 so a respawn always leaves one serving",
        machine,
        overrides,
        probe,
    )
    runtime = Setting(
        "runtime_threads",
        GRANIAN_RUNTIME_THREADS,
        "Rust threads per worker for network I/O (Granian's default): they never run Python "
        "and are almost never the limit; more than the CPUs only adds contention",
    )
    if interface == "asgi":
        return [workers, runtime]
    bound = granian_python_thread_bound(machine)
    if overrides.threads:
        blocking = Setting("blocking_threads", overrides.threads, "--threads given", "--threads")
    elif waiting:
        blocking = Setting(
            "blocking_threads",
            IO_THREADS,
            f"{_waiting_why(waiting)} (Little's law: rps = in flight / latency), so more than "
            f"Granian's rule of thumb for CPU-bound code (2 x CPUs + 1 = {bound}); Granian "
            "starts them on demand and stops them after 30 s idle",
        )
    else:
        blocking = Setting(
            "blocking_threads",
            min(CPU_THREADS, bound),
            "no handler found waiting on I/O: a few Python threads per worker so a brief wait "
            f"does not stall it, within Granian's bound for the GIL (2 x CPUs + 1 = {bound})",
        )
    # No backpressure setting: Granian's default (backlog / workers) queues requests in
    # Granian, which drains them on SIGTERM; backpressure = threads left them in the kernel's
    # backlog, which is reset when the listener closes (serve/granian.py).
    return [workers, blocking, runtime]


def granian_python_thread_bound(machine: Machine) -> int:
    """Granian warns above this many blocking threads per worker (2 x CPUs + 1)."""
    return 2 * machine.cpus + 1


def _workers(
    cpu_workers: int,
    why: str,
    machine: Machine,
    overrides: Overrides,
    probe: ProbeResult | None,
) -> Setting:
    if overrides.workers:
        return Setting("workers", overrides.workers, "--workers given", "--workers")
    rss = _worker_rss(probe)
    measured = "measured" if probe and probe.rss_bytes else "estimated (app not loaded)"
    by_memory = _memory_workers(machine, probe)
    if by_memory < cpu_workers:
        return Setting(
            "workers",
            by_memory,
            f"capped by memory: {MEMORY_SHARE:.0%} of {_mib(machine.memory_bytes)} / "
            f"{_mib(rss)} per worker ({measured}) = {by_memory}, below the CPU count's "
            f"{cpu_workers}",
        )
    return Setting(
        "workers",
        cpu_workers,
        f"{why}; memory allows {by_memory} at {_mib(rss)} per worker ({measured})",
    )


def _worker_rss(probe: ProbeResult | None) -> int:
    return probe.rss_bytes if probe and probe.rss_bytes else ESTIMATED_WORKER_RSS


def _memory_workers(machine: Machine, probe: ProbeResult | None) -> int:
    """How many workers fit in the memory share, at the measured (or estimated) size."""
    return max(1, int(machine.memory_bytes * MEMORY_SHARE) // _worker_rss(probe))


# --- lifetimes -----------------------------------------------------------------------------------


def _lifetimes(overrides: Overrides) -> list[Setting]:
    max_requests = overrides.max_requests or MAX_REQUESTS
    keepalive = KEEPALIVE_BEHIND_PROXY_S if overrides.proxies else KEEPALIVE_DIRECT_S
    return [
        Setting(
            "max_requests",
            max_requests,
            "--max-requests given"
            if overrides.max_requests
            else "recycle workers now and then so a slow leak never reaches the memory limit",
            "--max-requests" if overrides.max_requests else COMPUTED,
        ),
        jitter_setting(max_requests),
        _given_or(
            "timeout",
            overrides.timeout,
            TIMEOUT_S,
            "a worker silent this long is killed and replaced; >= graceful_timeout so a "
            "draining worker is not killed as hung",
        ),
        _given_or(
            "graceful_timeout",
            overrides.graceful_timeout,
            GRACEFUL_TIMEOUT_S,
            "on SIGTERM and reload, in-flight requests get this long to finish; below "
            "Kubernetes' default terminationGracePeriodSeconds (30) and systemd's "
            "TimeoutStopSec (90), so the drain ends before a SIGKILL",
        ),
        Setting(
            "keepalive",
            keepalive,
            "longer than the proxies' idle timeout (nginx and AWS ALB: 60 s) so the proxy, "
            "not Gunicorn, closes idle connections and never reuses a closing one"
            if overrides.proxies
            else "clients talk to Gunicorn directly: a short idle time frees connections "
            "(behind a proxy, --proxy raises it above the proxy's idle timeout)",
        ),
    ]


def jitter_setting(max_requests: int) -> Setting:
    jitter = max(1, max_requests // 2)
    return Setting(
        "max_requests_jitter",
        jitter,
        f"each worker recycles after {max_requests}..{max_requests + jitter} requests: "
        "half the range again, so workers spread out and never restart together",
    )


def _given_or(name: str, given: Any, computed: Any, why: str) -> Setting:
    """The flag's value when given, else the computed one with its reason."""
    flag = "--" + name.replace("_", "-")
    if given is not None:
        return Setting(name, given, f"{flag} given", flag)
    return Setting(name, computed, why)


# --- network -------------------------------------------------------------------------------------

_BIND = re.compile(r"^(unix:.+|fd://\d+|(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5}))$")


def parse_bind(text: str) -> str:
    """HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N; raises UsageError otherwise."""
    match = _BIND.match(text.strip())
    if not match or (match.group(3) and int(match.group(3)) > 65535):
        raise UsageError(
            f"bad --bind {text!r}", "use HOST:PORT, [IPV6]:PORT or unix:PATH, e.g. 0.0.0.0:8000"
        )
    return text.strip()


def _bind(project: Project, overrides: Overrides) -> Setting:
    if overrides.bind:
        return Setting("bind", [parse_bind(overrides.bind)], "--bind given", "--bind")
    port = os.environ.get("PORT")
    if port:
        if not port.isdigit() or int(port) > 65535:
            raise UsageError(f"PORT={port!r} is not a port number", "set PORT to e.g. 8000")
        return Setting("bind", [f"0.0.0.0:{port}"], "PORT from the environment, on all interfaces")
    gunicorn_binds = [b for b in project.binds if "gunicorn" in b.source]
    if gunicorn_binds:
        found = gunicorn_binds[0]
        return Setting(
            "bind",
            [f"{found.host}:{found.port}"],
            f"as in {found.rel}:{found.line} ({found.source})",
        )
    return Setting("bind", [DEFAULT_BIND], "no --bind and no PORT: loopback only, port 8000")


def _network(project: Project, overrides: Overrides) -> list[Setting]:
    proxies = ",".join(overrides.proxies)
    return [
        _bind(project, overrides),
        Setting(
            "forwarded_allow_ips",
            proxies or "127.0.0.1,::1",
            "X-Forwarded-* trusted only from the given --proxy addresses, never '*'"
            if proxies
            else "X-Forwarded-* trusted only from a proxy on this host; give --proxy for "
            "others, never '*' (anyone could claim any client address or https)",
        ),
    ]


# --- process -------------------------------------------------------------------------------------


def _process(plan: ServerPlan, machine: Machine, overrides: Overrides) -> list[Setting]:
    settings = [
        Setting(
            "preload_app",
            False,
            "each worker imports the app itself, so a reload (HUP or prodready reload) starts "
            "workers with the new code; the master never runs app code",
        ),
        Setting("chdir", str(plan.root), "the app's directory, so MODULE imports as in dev"),
        Setting(
            "pidfile",
            overrides.pidfile or str(plan.state_dir / "server.pid"),
            "--pid given" if overrides.pidfile else "for prodready reload and process managers",
            "--pid" if overrides.pidfile else COMPUTED,
        ),
        Setting(
            "control_socket",
            str(plan.control_socket),
            "Gunicorn's control socket (gunicornc; prodready reload uses it to start new "
            "workers before stopping old ones), in a private runtime directory",
        ),
        Setting(
            "proc_name",
            f"prodready:{plan.target}",
            "names the processes in ps and top",
        ),
    ]
    if machine.shm_dir:
        settings.append(
            Setting(
                "worker_tmp_dir",
                machine.shm_dir,
                "worker heartbeats on a RAM disk: on a disk-backed /tmp a slow disk stalls "
                "workers and gets them killed as hung",
            )
        )
    settings.append(
        _given_or(
            "loglevel",
            overrides.log_level.lower() if overrides.log_level else None,
            "info",
            "start-up, worker and error lines; debug is for chasing a problem, not for traffic",
        )
    )
    settings.append(
        Setting(
            "accesslog",
            "-" if overrides.access_log else None,
            "access lines on stdout as JSON (--access-log)"
            if overrides.access_log
            else "off: the proxy in front logs requests; --access-log turns it on (JSON on stdout)",
            "--access-log" if overrides.access_log else COMPUTED,
        )
    )
    return settings


_LOG_FORMAT_COMMENT = {
    "auto": "JSON, or lines for people when stdout is a terminal.",
    "json": "JSON (--log-format json).",
    "console": "for people (--log-format console).",
}

# --- formatting ----------------------------------------------------------------------------------


def _mib(size: int) -> str:
    return f"{size / (1 << 30):.1f} GiB" if size >= 1 << 30 else f"{size / (1 << 20):.0f} MiB"


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "off" if value is None else str(value)
