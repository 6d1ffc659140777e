"""Rules for systemd service units (PR501-PR549). Only `.service` units with a [Service]
section are judged; `.socket` units and drop-in fragments without it are left alone."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from prodready.check.context import FileContext
from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import leak, literal_secret, url_secret
from prodready.check.systemd_exposure import exposure
from prodready.project.limits import SHELL_SPLIT_MAX_CHARS
from prodready.project.model import Environment, FileKind
from prodready.project.parsers import gunicorn as gunicorn_parser
from prodready.project.parsers.systemd import Unit, environment_assignments
from prodready.secretstrength import Verdict

SERVICE = "Service"
TRUE_VALUES = frozenset({"yes", "true", "on", "1"})
SHORT_LIVED_TYPES = frozenset({"oneshot"})


def _service(ctx: FileContext) -> Unit | None:
    unit: Unit = ctx.parsed
    if not ctx.rel.endswith(".service") or not unit.has_section(SERVICE):
        return None
    return unit


def _section_line(ctx: FileContext, section: str) -> int:
    header = f"[{section}]"
    return next((n for n, line in enumerate(ctx.lines, 1) if line.strip() == header), 1)


def _is_true(unit: Unit, key: str) -> bool:
    return unit.value(SERVICE, key).strip().lower() in TRUE_VALUES


def _long_running(unit: Unit) -> bool:
    return unit.value(SERVICE, "Type", "simple").strip() not in SHORT_LIVED_TYPES


def _exec_start(unit: Unit) -> str:
    return unit.value(SERVICE, "ExecStart")


def _drives_docker(unit: Unit) -> bool:
    """ExecStart runs the docker client (`docker run`, `docker compose up`): the app runs in a
    container the Docker daemon starts, so User= and sandboxing of the client confine nothing,
    and the client needs the daemon's socket (root, or the root-equivalent docker group)."""
    words = _exec_start(unit).lstrip("@-:+!").split()
    return bool(words) and words[0].rsplit("/", 1)[-1] in ("docker", "docker-compose")


# --- PR501 -------------------------------------------------------------------------------------


@rule(
    "PR501",
    "systemd-runs-as-root",
    title="Service runs as root",
    severity=Severity.WARNING,
    kind=FileKind.SYSTEMD,
    why="""
A system service without User= (or DynamicUser=yes) runs as root. Any remote code execution
in the app (a deserialisation bug, a template injection, a vulnerable dependency) is then
root on the host: it can read every secret, install a backdoor and cover its tracks. A web
app never needs root; binding port 80/443 is nginx's job, or AmbientCapabilities=
CAP_NET_BIND_SERVICE. A unit that only drives the docker client (`docker compose up`) is left
alone: the app runs in the container, whose user the Dockerfile sets. So is a `Type=oneshot`
unit that starts no server (a seed, a backup): it listens on nothing.
""",
    fix="Add User=<app user> (and Group=) to [Service], or DynamicUser=yes.",
    bad="[Service]\nExecStart=/srv/app/.venv/bin/gunicorn app:app",
    good="[Service]\nUser=app\nGroup=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app",
)
def systemd_runs_as_root(ctx: FileContext) -> Iterator[Hit]:
    unit = _service(ctx)
    if unit is None or _is_true(unit, "DynamicUser") or _is_user_unit(ctx, unit):
        return
    if _drives_docker(unit):  # the container's USER is what counts: PR201
        return
    if ctx.source.env.env == Environment.ONE_SHOT:  # listens on nothing a client could exploit
        return
    user = unit.get(SERVICE, "User")
    if user is None:
        yield Hit(_section_line(ctx, SERVICE), "service has no User= and runs as root")
    elif user.value.strip() in ("root", "0"):
        yield Hit(user.line, f"User={user.value.strip()}: the service runs as root")


def _is_user_unit(ctx: FileContext, unit: Unit) -> bool:
    """A unit for `systemctl --user` runs as its user already: installed under
    systemd/user/, or wanted by default.target only (system units use multi-user.target)."""
    wanted = unit.value("Install", "WantedBy").split()
    return "/user/" in f"/{ctx.rel}" or (bool(wanted) and set(wanted) <= {"default.target"})


# --- PR502 -------------------------------------------------------------------------------------


@rule(
    "PR502",
    "systemd-no-restart",
    title="Long-running service is not restarted when it dies",
    severity=Severity.WARNING,
    kind=FileKind.SYSTEMD,
    why="""
systemd's default is Restart=no: when the app crashes, is OOM-killed, or its master process
exits on a bad deploy, it stays down until someone notices. Restart=on-failure (or always)
with a RestartSec= brings it back in seconds; the start rate limit (StartLimitBurst=) still
stops a crash loop.
""",
    fix="Restart=on-failure (with RestartSec=2).",
    bad="[Service]\nExecStart=/srv/app/.venv/bin/gunicorn app:app",
    good="[Service]\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n"
    "Restart=on-failure\nRestartSec=2",
)
def systemd_no_restart(ctx: FileContext) -> Iterator[Hit]:
    unit = _service(ctx)
    if unit is None or not _long_running(unit):
        return
    restart = unit.get(SERVICE, "Restart")
    if restart is None:
        line = _section_line(ctx, SERVICE)
        fix = Fix(
            "add Restart=on-failure",
            (Edit(ctx.rel, line + 1, "", "Restart=on-failure"),),
            safe=False,
        )
        yield Hit(line, "no Restart=: the service stays down after a crash", fix=fix)
    elif restart.value.strip() in ("no", ""):
        yield Hit(restart.line, "Restart=no: the service stays down after a crash")


# --- PR503 -------------------------------------------------------------------------------------

HARDENING = (
    ("NoNewPrivileges=yes", lambda u: _is_true(u, "NoNewPrivileges")),
    (
        "ProtectSystem=strict",
        lambda u: u.value(SERVICE, "ProtectSystem").strip() in ("strict", "full"),
    ),
    ("PrivateTmp=yes", lambda u: _is_true(u, "PrivateTmp")),
    (
        "ProtectHome=yes",
        lambda u: (
            u.value(SERVICE, "ProtectHome").strip().lower() in TRUE_VALUES | {"read-only", "tmpfs"}
        ),
    ),
)


@rule(
    "PR503",
    "systemd-no-hardening",
    title="Service poorly sandboxed (systemd-analyze security exposure 7 or more)",
    severity=Severity.WARNING,
    kind=FileKind.SYSTEMD,
    why="""
systemd can confine a service at no cost: NoNewPrivileges= stops setuid escalation,
ProtectSystem=strict makes /usr, /boot and /etc read-only, ProtectHome= hides /home and
/root, PrivateTmp= gives the service its own /tmp (no symlink races with other users),
CapabilityBoundingSet=, SystemCallFilter= and RestrictAddressFamilies= take away what a web
app never needs. Without them, an exploited app can rewrite system files and read every
user's SSH keys. The unit is scored as `systemd-analyze security --offline=yes` scores it
(0 safe .. 10 unsafe; run when installed, estimated with its weights otherwise): UNSAFE (9+)
is a warning, EXPOSED (7-9) info. Type=oneshot jobs (migrations, backups) are left alone:
nothing reaches them over the network. So is a unit that only drives the docker client:
sandboxing the client does not confine the container the daemon starts.
""",
    fix="""Add NoNewPrivileges=yes, ProtectSystem=strict, ProtectHome=yes and PrivateTmp=yes,
then the rest `systemd-analyze security <unit>` lists (CapabilityBoundingSet=,
SystemCallFilter=@system-service, RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX ...).""",
    bad="[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app",
    good="[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n"
    "NoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n"
    "CapabilityBoundingSet=\nSystemCallFilter=@system-service\n"
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\nRestrictNamespaces=yes ...",
)
def systemd_no_hardening(ctx: FileContext) -> Iterator[Hit]:
    unit = _service(ctx)
    if unit is None or _drives_docker(unit) or not _long_running(unit):
        return  # a oneshot job (migrations, backups) serves nobody over the network
    scored = exposure(ctx.project.root / ctx.rel, unit)
    if scored.score < EXPOSED:
        return
    basic = [setting for setting, present in HARDENING if not present(unit)]
    start = f"; start with {', '.join(basic)}" if basic else ""
    how = "scores" if scored.measured else "would score (prodready's estimate)"
    yield Hit(
        _section_line(ctx, SERVICE),
        f"`systemd-analyze security` {how} this unit {scored.score} {scored.level}{start}",
        severity=Severity.WARNING if scored.score >= UNSAFE else Severity.INFO,
    )


EXPOSED = 7.0
UNSAFE = 9.0


# --- PR504 -------------------------------------------------------------------------------------


def secret_problem(name: str, value: str) -> tuple[str, Verdict] | None:
    """What is wrong with a literal secret in a unit (never quoting it) and its verdict, or None."""
    if "://" in value:
        found = url_secret(value)
        if found is None:
            return None
        scheme, judgement = found
        return f"{name}: the {scheme} password {leak(judgement)}", judgement.verdict
    judgement = literal_secret(name, value)
    if judgement is None:
        return None
    return f"{name} is set in the unit and {leak(judgement)}", judgement.verdict


@rule(
    "PR504",
    "systemd-secret-in-environment",
    title="Secret written in an Environment= line",
    severity=Severity.ERROR,
    kind=FileKind.SYSTEMD,
    why="""
Unit files are world-readable (/etc/systemd/system is 0755, the file 0644) and
`systemctl show <unit>` prints Environment= to any local user; the unit also lands in
config repositories and backups. A secret written there is disclosed to everyone with a
shell on the host. A weak or default one is worse: it is guessable even without access.
""",
    fix="Move it to EnvironmentFile=/etc/<app>/env (mode 0600, root-owned) or LoadCredential=.",
    bad="[Service]\nEnvironment=SECRET_KEY=changeme DATABASE_URL=postgresql://app:app@db/app",
    good="[Service]\nEnvironmentFile=/etc/app/env\nLoadCredential=db-password:/etc/app/db-password",
    dev_files=True,
)
def systemd_secret_in_environment(ctx: FileContext) -> Iterator[Hit]:
    """In a development unit only real-looking secrets (the warnings) count: a weak local
    default is expected there, a committed live key is leaked wherever it is written."""
    unit = _service(ctx)
    if unit is None:
        return
    development = ctx.in_development()
    for setting in unit.all(SERVICE, "Environment"):
        for name, value in environment_assignments(setting.value):
            problem = secret_problem(name, value)
            if problem and not (development and problem[1] != Verdict.STRONG):
                yield Hit(setting.line, problem[0])


# --- PR505 -------------------------------------------------------------------------------------

GUNICORN = re.compile(r"(^|[\s/])gunicorn(\s|$)|-m\s+gunicorn\b")


@rule(
    "PR505",
    "systemd-gunicorn-lifecycle",
    title="Gunicorn unit: no readiness notification or reload, or workers orphaned on stop",
    severity=Severity.INFO,
    kind=FileKind.SYSTEMD,
    why="""
Gunicorn's arbiter calls sd_notify(READY=1) once its workers are up, so with Type=notify
systemd (and units ordered After= it) know when the app really serves; with Type=simple the
unit is "started" before the app has even imported. Gunicorn reloads code and config on
SIGHUP without dropping connections: ExecReload=/bin/kill -s HUP $MAINPID makes
`systemctl reload` do that instead of a full restart. KillMode=process is worse: on stop
systemd signals only the arbiter and leaves the workers running, holding the port and old
code, so the next start fails or serves two versions.
""",
    fix="Type=notify, NotifyAccess=main, ExecReload=/bin/kill -s HUP $MAINPID; "
    "KillMode=mixed (never process).",
    bad="[Service]\nExecStart=/srv/app/.venv/bin/gunicorn app:app\nKillMode=process",
    good="[Service]\nType=notify\nNotifyAccess=main\n"
    "ExecStart=/srv/app/.venv/bin/gunicorn app:app\n"
    "ExecReload=/bin/kill -s HUP $MAINPID\nKillMode=mixed",
)
def systemd_gunicorn_lifecycle(ctx: FileContext) -> Iterator[Hit]:
    unit = _service(ctx)
    if unit is None or not GUNICORN.search(_exec_start(unit)):
        return
    kill_mode = unit.get(SERVICE, "KillMode")
    if kill_mode is not None and kill_mode.value.strip() in ("process", "none"):
        yield Hit(
            kill_mode.line,
            f"KillMode={kill_mode.value.strip()}: stopping leaves gunicorn's workers running",
            severity=Severity.WARNING,
        )
    kind = unit.get(SERVICE, "Type")
    missing = []
    if kind is None or kind.value.strip() != "notify":
        missing.append(f"Type={kind.value.strip() if kind else 'simple'} (use notify)")
    if unit.get(SERVICE, "ExecReload") is None:
        missing.append("no ExecReload=/bin/kill -s HUP $MAINPID")
    if missing:
        line = kind.line if kind else _section_line(ctx, SERVICE)
        yield Hit(line, "gunicorn unit: " + "; ".join(missing))


# --- PR506 -------------------------------------------------------------------------------------

APP_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.()]*$")
"""`module:attr` as gunicorn, uvicorn and granian take it."""


def _relative_import(argv: list[str]) -> str | None:
    """The module the command imports relative to its working directory, if any."""
    program = argv[0].rsplit("/", 1)[-1] if argv else ""
    if program.startswith("python") and "-m" in argv[1:]:
        index = argv.index("-m")
        module = argv[index + 1] if index + 1 < len(argv) else ""
        rest = argv[index + 2 :]
        if module in ("gunicorn", "uvicorn", "granian", "hypercorn", "daphne"):
            return next((a for a in rest if APP_TARGET.match(a)), None)
        return module or None
    if program in ("gunicorn", "uvicorn", "granian", "hypercorn", "daphne"):
        return next((a for a in argv[1:] if APP_TARGET.match(a)), None)
    return None


@rule(
    "PR506",
    "systemd-no-working-directory",
    title="Python app started by module name without WorkingDirectory=",
    severity=Severity.WARNING,
    kind=FileKind.SYSTEMD,
    why="""
systemd starts services in / unless WorkingDirectory= says otherwise. `gunicorn app:app` or
`python -m app` then cannot import the app (ModuleNotFoundError) and the unit fails at every
start, unless the app is installed into the virtualenv as a package.
""",
    fix="WorkingDirectory=/srv/<app> (or gunicorn --chdir, or PYTHONPATH in Environment=).",
    bad="[Service]\nExecStart=/srv/app/.venv/bin/gunicorn app:app",
    good="[Service]\nWorkingDirectory=/srv/app\nExecStart=/srv/app/.venv/bin/gunicorn app:app",
)
def systemd_no_working_directory(ctx: FileContext) -> Iterator[Hit]:
    unit = _service(ctx)
    if unit is None or unit.get(SERVICE, "WorkingDirectory") is not None:
        return
    start = unit.get(SERVICE, "ExecStart")
    if start is None or "--chdir" in start.value or "PYTHONPATH" in _environment(unit):
        return
    command = start.value.lstrip("@-:+!")
    if len(command) > SHELL_SPLIT_MAX_CHARS:
        return
    try:
        argv = shlex.split(command)
    except ValueError:
        return
    module = _relative_import(argv)
    if module and not _config_sets_path(ctx, argv):
        yield Hit(
            start.line,
            f"ExecStart imports {module} relative to the working directory, "
            "but there is no WorkingDirectory= (systemd starts in /)",
        )


def _config_sets_path(ctx: FileContext, argv: list[str]) -> bool:
    """`--pythonpath`, or the Gunicorn config given with -c (a project file of that name) sets
    chdir or pythonpath."""
    if any(arg.startswith("--pythonpath") for arg in argv):
        return True
    named = gunicorn_parser.from_argv(ctx.rel, argv[1:], 1).get("config")
    name = str(named.value).rsplit("/", 1)[-1] if named else ""
    return any(
        config.rel.rsplit("/", 1)[-1] == name
        and (config.get("chdir") is not None or config.get("pythonpath") is not None)
        for config in ctx.project.gunicorn_configs
    )


def _environment(unit: Unit) -> str:
    return " ".join(s.value for s in unit.all(SERVICE, "Environment"))
