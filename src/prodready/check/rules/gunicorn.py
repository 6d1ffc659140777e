"""Rules for Gunicorn configuration files (PR601-PR649): gunicorn.conf.py read statically
(top-level assignments; `Setting.value` is the literal, None for an expression).

Rules judge the settings in force, not the file alone: a setting that every launch using the
file gives again on its command line (Dockerfile CMD, compose `command:`, systemd ExecStart,
Procfile) or in GUNICORN_CMD_ARGS is Gunicorn's to take from there, and those win."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prodready.check.context import FileContext
from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import gunicorn_setups
from prodready.project.model import FileKind
from prodready.project.parsers.gunicorn import ARG_SETTINGS, GunicornConfig, Setting

CPU_COUNT = re.compile(r"\bcpu_count\s*\(")
MAX_TIMEOUT = 300


@dataclass(frozen=True)
class InForce:
    """A config file's settings as the launches that use it run with them."""

    config: GunicornConfig
    overrides: dict[str, Setting]
    """Settings every launch using the file gives on its command line or GUNICORN_CMD_ARGS."""

    def get(self, name: str) -> Setting | None:
        """The file's setting, when it is the one in force."""
        return None if name in self.overrides else self.config.get(name)

    def given(self, name: str) -> Setting | None:
        """The setting in force wherever it is given (a command line's line is not this
        file's: only test its value)."""
        return self.overrides.get(name) or self.config.get(name)


def _config(ctx: FileContext) -> InForce:
    cache = vars(ctx)
    if "_in_force" not in cache:
        setups = [
            s
            for s in gunicorn_setups(ctx.project)
            if s.config is not None and s.config.rel == ctx.rel
        ]
        overrides: dict[str, Setting] = {}
        if setups:
            for name in ctx.parsed.settings.keys() | ARG_SETTINGS.values():
                given = [s.override(name) for s in setups]
                if all(given) and given[0] is not None:
                    overrides[name] = given[0]
        cache["_in_force"] = InForce(ctx.parsed, overrides)
    return cache["_in_force"]


def _true(setting: Setting | None) -> bool:
    return setting is not None and setting.value is True


def _switched_on(ctx: FileContext, name: str, consequence: str) -> Iterator[Hit]:
    """`name = True` in the config: a hit `name = True<consequence>`, fixed by setting False."""
    setting = _config(ctx).get(name)
    if _true(setting):
        assert setting is not None
        fix = _replace_literal(ctx, setting, "False", f"set {name} = False")
        yield Hit(setting.line, f"{name} = True{consequence}", fix=fix)


def _replace_literal(ctx: FileContext, setting: Setting, new: str, description: str) -> Fix | None:
    """A fix replacing the setting's literal value (as written on its line) with `new`."""
    line = ctx.line_text(setting.line)
    match = re.search(rf"\b{re.escape(setting.name)}\s*(:[^=]*)?=\s*", line)
    if not match:
        return None
    written = [setting.source]
    if isinstance(setting.value, str):
        written += [f'"{setting.value}"', f"'{setting.value}'"]
    rest = line[match.end() :]
    old = next((w for w in written if rest.startswith(w)), None)
    if old is None:
        return None
    if isinstance(setting.value, str):
        new = old[0] + new + old[0]
    edit = Edit(ctx.rel, setting.line, match.group(0) + old, match.group(0) + new)
    return Fix(description, (edit,))


# --- PR601 -------------------------------------------------------------------------------------


@rule(
    "PR601",
    "gunicorn-reload",
    title="Gunicorn reload = True (development mode)",
    severity=Severity.WARNING,
    kind=FileKind.GUNICORN,
    why="""
`reload = True` makes every worker watch the source tree and restart when a file changes:
a development convenience. In production it costs CPU (polling, or an inotify watch per
file), restarts workers mid-request when a log or upload lands in a watched directory, and
turns any write access to the code directory into instant code execution.
""",
    fix="reload = False (deploy by restarting, or `kill -HUP` the arbiter).",
    bad="reload = True",
    good="reload = False",
)
def gunicorn_reload(ctx: FileContext) -> Iterator[Hit]:
    yield from _switched_on(ctx, "reload", " restarts workers on every file change")


# --- PR602 -------------------------------------------------------------------------------------


def _uses_cpu_count(config: GunicornConfig, source: str, seen: set[str]) -> bool:
    """True when the expression calls cpu_count(), directly or through another top-level name
    (`cores = multiprocessing.cpu_count(); workers = cores * 2 + 1`). `seen` holds the names
    already followed (and the setting's own, which names its earlier value)."""
    if CPU_COUNT.search(source):
        return True
    for name in re.findall(r"\b[A-Za-z_]\w*\b", source):
        other = config.get(name)
        if other is not None and name not in seen:
            seen.add(name)
            if _uses_cpu_count(config, other.source, seen):
                return True
    return False


def _cpu_count_only_caps(config: GunicornConfig, setting: Setting) -> bool:
    """`min(int(os.environ["WEB_CONCURRENCY"]), cpu_count() * 2 + 1)`: the number comes from
    elsewhere and the CPU count can only lower it."""
    try:
        node = ast.parse(setting.source.strip(), mode="eval").body
    except SyntaxError:
        return False
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    return node.func.id == "min" and any(
        not _uses_cpu_count(config, ast.unparse(arg), {setting.name}) for arg in node.args
    )


@rule(
    "PR602",
    "gunicorn-workers-from-cpu-count",
    title="Workers computed from the host's CPU count",
    severity=Severity.WARNING,
    kind=FileKind.GUNICORN,
    why="""
`multiprocessing.cpu_count()` and `os.cpu_count()` count the host's CPUs, not the CPU quota
of the container or systemd slice. In a 2-CPU container on a 32-core node,
`cpu_count() * 2 + 1` starts 65 workers: each loads the app (memory goes up 30x, the pod is
OOM-killed), and they fight over 2 CPUs. Each worker also opens its own database pool.
A CPU count that only caps a number set another way (`min(WEB_CONCURRENCY, ...)`) is fine.
""",
    fix="Set workers from an env var (WEB_CONCURRENCY) or from the cgroup CPU quota.",
    bad="import multiprocessing\nworkers = multiprocessing.cpu_count() * 2 + 1",
    good='import os\nworkers = int(os.environ.get("WEB_CONCURRENCY", "3"))',
)
def gunicorn_workers_from_cpu_count(ctx: FileContext) -> Iterator[Hit]:
    config = _config(ctx)
    for name in ("workers", "threads"):
        setting = config.get(name)
        if setting is None or not _uses_cpu_count(config.config, setting.source, {name}):
            continue
        if not _cpu_count_only_caps(config.config, setting):
            yield Hit(
                setting.line,
                f"{name} = {setting.source}: counts the host's CPUs, not the container's quota",
            )


# --- PR603 -------------------------------------------------------------------------------------


@rule(
    "PR603",
    "gunicorn-timeout",
    title="Worker timeout disabled or above five minutes",
    severity=Severity.WARNING,
    kind=FileKind.GUNICORN,
    why="""
The arbiter kills a worker that has not checked in for `timeout` seconds. With 0 (disabled)
or a very large value, a worker stuck on a hung database query or an upstream with no
timeout is never replaced: with 4 sync workers, four such requests take the whole site down
until someone restarts it. Long jobs belong in a task queue, not in a request.
""",
    fix="timeout = 30 to 120; move long work to a background queue.",
    bad="timeout = 0",
    good="timeout = 60",
)
def gunicorn_timeout(ctx: FileContext) -> Iterator[Hit]:
    setting = _config(ctx).get("timeout")
    if setting is None or not isinstance(setting.value, int | float):
        return
    if setting.value == 0:
        yield Hit(setting.line, "timeout = 0 disables the worker timeout: hung workers stay")
    elif setting.value > MAX_TIMEOUT:
        yield Hit(
            setting.line,
            f"timeout = {setting.value}: a hung worker blocks for over {MAX_TIMEOUT} seconds",
        )


# --- PR604 -------------------------------------------------------------------------------------


HOST_ONLY_BINDS = ("unix:", "fd://", "127.0.0.1:", "localhost:", "[::1]:")


def _network_binds(config: InForce) -> list[str] | None:
    """The binds other hosts can reach (TCP, not loopback), or None when neither the config
    nor the launches say (no bind, or one computed at run time)."""
    setting = config.given("bind")
    if setting is None or setting.value is None:
        return None
    return [b for b in _binds(setting.value) if not b.startswith(HOST_ONLY_BINDS)]


def _binds(value: Any) -> list[str]:
    if isinstance(value, str):
        return [b.strip() for b in value.split(",") if b.strip()]
    if isinstance(value, list | tuple):
        return [str(b) for b in value]
    return []


def _allows_anyone(value: Any) -> bool:
    if isinstance(value, str):
        return "*" in [v.strip() for v in value.split(",")]
    if isinstance(value, list | tuple):
        return "*" in value
    return False


@rule(
    "PR604",
    "gunicorn-forwarded-allow-all",
    title='forwarded_allow_ips = "*" on a TCP bind',
    severity=Severity.ERROR,
    kind=FileKind.GUNICORN,
    why="""
Gunicorn trusts X-Forwarded-Proto / X-Forwarded-For (and sets wsgi.url_scheme and
REMOTE_ADDR from them) only from the addresses in forwarded_allow_ips. With `*` on a TCP
socket, anyone who reaches the port directly can claim any client IP (defeating rate limits,
IP allow-lists and audit logs) and claim HTTPS (secure-cookie and redirect logic). On a
unix socket or a loopback address only the local proxy can connect, so `*` is safe there.
""",
    fix='List the proxy\'s addresses: forwarded_allow_ips = "10.0.0.5" (or bind a unix socket).',
    bad='bind = "0.0.0.0:8000"\nforwarded_allow_ips = "*"',
    good='bind = "0.0.0.0:8000"\nforwarded_allow_ips = "10.0.0.5"',
)
def gunicorn_forwarded_allow_all(ctx: FileContext) -> Iterator[Hit]:
    config = _config(ctx)
    setting = config.get("forwarded_allow_ips")
    if setting is None or not _allows_anyone(setting.value):
        return
    tcp = _network_binds(config)
    if tcp is None:
        where = "with a bind the config does not fix (a network address would be open)"
    elif tcp:
        where = f"while bound to {', '.join(tcp)}"
    else:
        return
    yield Hit(
        setting.line,
        f'forwarded_allow_ips = "*" {where}: any client can spoof its IP and scheme',
    )


# --- PR605 -------------------------------------------------------------------------------------


@rule(
    "PR605",
    "gunicorn-max-requests-without-jitter",
    title="max_requests without max_requests_jitter",
    severity=Severity.WARNING,
    kind=FileKind.GUNICORN,
    why="""
Workers start together and the load balances evenly across them, so with max_requests alone
they all reach the limit at about the same moment and restart together: for the few seconds
the app takes to import, no worker serves and requests queue or fail (a periodic latency
spike). max_requests_jitter adds a random 0..N to each worker's limit so restarts spread out.
""",
    fix="max_requests_jitter = max_requests // 10 (or more).",
    bad="max_requests = 1000",
    good="max_requests = 1000\nmax_requests_jitter = 100",
)
def gunicorn_max_requests_without_jitter(ctx: FileContext) -> Iterator[Hit]:
    config = _config(ctx)
    limit = config.get("max_requests")
    if limit is None or not (isinstance(limit.value, int) and limit.value > 0):
        return
    jitter = config.given("max_requests_jitter")
    if jitter is None or jitter.value == 0:
        yield Hit(
            limit.line,
            f"max_requests = {limit.value} without max_requests_jitter: "
            "all workers restart at once",
        )


# --- PR606 -------------------------------------------------------------------------------------


@rule(
    "PR606",
    "gunicorn-debug-loglevel",
    title='loglevel = "debug"',
    severity=Severity.INFO,
    kind=FileKind.GUNICORN,
    why="""
Debug logging in production multiplies log volume (cost, disk, slower log search) and logs
request details such as headers, which can include cookies and Authorization tokens.
""",
    fix='loglevel = "info"',
    bad='loglevel = "debug"',
    good='loglevel = "info"',
)
def gunicorn_debug_loglevel(ctx: FileContext) -> Iterator[Hit]:
    setting = _config(ctx).get("loglevel")
    if setting is not None and str(setting.value).lower() == "debug":
        fix = _replace_literal(ctx, setting, "info", 'set loglevel = "info"')
        yield Hit(setting.line, 'loglevel = "debug" in the production config', fix=fix)


# --- PR607 -------------------------------------------------------------------------------------


@rule(
    "PR607",
    "gunicorn-daemon",
    title="Gunicorn daemonizes itself (daemon = True)",
    severity=Severity.ERROR,
    kind=FileKind.GUNICORN,
    why="""
With daemon = True gunicorn forks into the background and its first process exits. Under
Docker that is the container's PID 1: the container stops at once. Under systemd (Type=
simple or notify) the service is seen as exited, its workers are killed or orphaned, and
Restart= loops. Supervisors expect the server in the foreground.
""",
    fix="daemon = False (let Docker, systemd or supervisord run it in the foreground).",
    bad="daemon = True",
    good="daemon = False",
)
def gunicorn_daemon(ctx: FileContext) -> Iterator[Hit]:
    yield from _switched_on(ctx, "daemon", ": the supervisor loses track of gunicorn")


# --- PR608 -------------------------------------------------------------------------------------

TMPFS_DIRS = ("/dev/shm", "/run", "/tmp/ram")


@rule(
    "PR608",
    "gunicorn-worker-tmp-dir",
    title="Worker heartbeat file not on tmpfs in a container",
    severity=Severity.INFO,
    kind=FileKind.GUNICORN,
    why="""
Each worker signals it is alive by updating a file's metadata in worker_tmp_dir (the system
temp dir by default). In a container /tmp is on overlayfs, backed by disk: when the disk
stalls (a busy EBS volume, a full disk) the update blocks, workers miss their heartbeat and
the arbiter kills them as timed out. Gunicorn's FAQ ("How can I avoid Gunicorn blocking in
os.fchmod?") recommends a tmpfs such as /dev/shm. A config that binds only loopback or a
unix socket serves a host-local proxy, not a container, and is left alone.
""",
    fix='worker_tmp_dir = "/dev/shm"',
    bad='bind = "0.0.0.0:8000"',
    good='bind = "0.0.0.0:8000"\nworker_tmp_dir = "/dev/shm"',
)
def gunicorn_worker_tmp_dir(ctx: FileContext) -> Iterator[Hit]:
    if not ctx.project.dockerfiles or _network_binds(_config(ctx)) == []:
        return
    setting = _config(ctx).given("worker_tmp_dir")
    if setting is None:
        yield Hit(1, "no worker_tmp_dir: heartbeats go to /tmp on the container's overlayfs")
    elif setting is _config(ctx).get("worker_tmp_dir") and not _on_tmpfs(setting):
        yield Hit(setting.line, f"worker_tmp_dir = {setting.source} is not a tmpfs")


def _on_tmpfs(setting: Setting) -> bool:
    return not isinstance(setting.value, str) or setting.value.startswith(TMPFS_DIRS)


# --- PR609 -------------------------------------------------------------------------------------

HUP_RELOAD = re.compile(r"\bkill\b.*(-s\s*HUP|-HUP|-1\b|SIGHUP)")


@rule(
    "PR609",
    "gunicorn-preload-with-hup-reload",
    title="preload_app with a HUP reload: new code is never loaded",
    severity=Severity.INFO,
    kind=FileKind.GUNICORN,
    why="""
On SIGHUP gunicorn re-reads its config and replaces the workers, but it loads the new
version of the application only when the app is not preloaded: with preload_app = True the
new workers fork from the arbiter, which still holds the old code. A deploy that runs
`systemctl reload` (ExecReload=kill -HUP) reports success and keeps serving the old release.
""",
    fix="Restart the service to deploy (systemctl restart), or set preload_app = False.",
    bad="preload_app = True  # and ExecReload=/bin/kill -s HUP $MAINPID",
    good="preload_app = False",
)
def gunicorn_preload_with_hup_reload(ctx: FileContext) -> Iterator[Hit]:
    setting = _config(ctx).get("preload_app")
    if not _true(setting):
        return
    assert setting is not None
    for unit in ctx.project.systemd_units:
        reload = unit.get("Service", "ExecReload")
        runs_gunicorn = "gunicorn" in unit.value("Service", "ExecStart")
        if runs_gunicorn and reload is not None and HUP_RELOAD.search(reload.value):
            yield Hit(
                setting.line,
                f"preload_app = True while {unit.rel} reloads with SIGHUP: "
                "the reload keeps the old code",
            )
            return
