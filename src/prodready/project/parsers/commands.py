"""Command lines that start things: unwrapped to the program that really runs, and judged
(which server, which app target, which bind, dev server or not)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from prodready.project.limits import SHELL_SPLIT_MAX_CHARS

WRAPPERS = {
    "exec",
    "dumb-init",
    "tini",
    "gosu",
    "su-exec",
    "nohup",
    "ddtrace-run",
    "opentelemetry-instrument",
    "doppler",
    "chpst",
}
RUNNERS = {
    ("poetry", "run"),
    ("uv", "run"),
    ("pipenv", "run"),
    ("pdm", "run"),
    ("hatch", "run"),
    ("rye", "run"),
    ("newrelic-admin", "run-program"),
}
SHELLS = {"sh", "bash", "dash", "zsh", "ash"}
PYTHON = re.compile(r"^python(\d(\.\d+)?)?$")
SERVERS = {
    "gunicorn",
    "uvicorn",
    "granian",
    "hypercorn",
    "daphne",
    "waitress-serve",
    "uwsgi",
    "flask",
    "django-admin",
    "fastapi",
    "prodready",
    "bjoern",
    "cheroot",
    "gevent",
}
APP_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(.*\))?$")


@dataclass(frozen=True)
class ServerCommand:
    program: str  # gunicorn | uvicorn | granian | flask | python | manage.py | ...
    argv: tuple[str, ...]  # after unwrapping, program first
    app_target: str | None  # module:attr when named
    script: str | None  # `python app.py` -> app.py
    dev_server: str | None  # why this is a development server, or None
    host: str | None
    port: int | None


HEREDOC = re.compile(r"(?<!<)<<-?(?!<)\s*(['\"]?)([A-Za-z_]\w*)\1")
"""`cat <<EOF`, `<<-'END'`; not `<<<` (a here-string) nor `$((x << 2))`."""


CASE_START = re.compile(r"^case\s.*\sin$")
CASE_LABEL = re.compile(r"^\(?\s*([^()\s;][^()]*?)\s*\)\s*(.*)$")


class CaseBranches:
    """Which branch of a `case "$1" in ... esac` each line of a script is in: an entrypoint's
    `dev_server)` branch runs the development server, its `server)` branch production."""

    def __init__(self) -> None:
        self.depth = 0
        self.label = ""

    def read(self, line: str) -> tuple[str, str]:
        """(the line without its branch label, the label of the branch it is in or "")."""
        if CASE_START.match(line):
            self.depth += 1
            self.label = ""
            return "", ""
        if self.depth and line == "esac":
            self.depth -= 1
            self.label = ""
            return "", ""
        if self.depth and (match := CASE_LABEL.match(line)) and not line.startswith(("[", "$")):
            self.label = match[1].strip("\"'")
            line = match[2]
        label = self.label
        if self.depth and line.rstrip().endswith(";;"):
            self.label = ""
            line = line.rstrip().removesuffix(";;")
        return line, label


ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(.*\s.*)$", re.DOTALL)


def evaluated_assignment(argv: list[str], script: str) -> list[str] | None:
    """`cmd="exec gunicorn app:app -b 0.0.0.0:$PORT"` in a script that later runs
    `eval "$cmd"`: the command the variable holds, or None for any other line."""
    match = ASSIGNMENT.match(argv[0]) if len(argv) == 1 else None
    if match is None or not re.search(rf'\beval\s+"?\$\{{?{match[1]}\b', script):
        return None
    return [word for command in split_shell(match[2]) for word in command] or None


def logical_lines(text: str) -> list[tuple[int, str]]:
    """A shell script's commands, each with the number of its first physical line: backslash
    continuations joined (`exec gunicorn app:app \\` + `--bind 0.0.0.0:8000` is one command), a
    quoted string over several lines kept in its command (`PACKAGES="uwsgi ..."` runs nothing),
    and here-document bodies (usage text) left out."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start, quote, heredoc = 0, "", ""
    for number, raw in enumerate(text.splitlines(), start=1):
        if heredoc:
            heredoc = "" if raw.strip() == heredoc else heredoc
            continue
        if not pending:
            start = number
        stripped = raw.rstrip()
        quote = _open_quote(stripped, quote)
        continued = stripped.endswith("\\") and not stripped.lstrip().startswith("#")
        pending.append(stripped[:-1] if continued else raw)
        if not continued and not quote:
            line = " ".join(part.strip() for part in pending)
            result.append((start, line))
            pending = []
            if match := HEREDOC.search(line):
                heredoc = match[2]
    if pending:
        result.append((start, " ".join(part.strip() for part in pending)))
    return result


def _open_quote(line: str, quote: str) -> str:
    """The quote still open at the end of `line`, given the one open at its start."""
    escaped = False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            break
    return quote


def shell_words(text: str) -> list[str]:
    """`shlex.split`, bounded: unbalanced quotes or a line too long for shlex (see
    SHELL_SPLIT_MAX_CHARS) fall back to splitting on whitespace."""
    if len(text) > SHELL_SPLIT_MAX_CHARS:
        return text.split()
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def split_shell(text: str) -> list[list[str]]:
    """A shell line into simple commands (split at && || ; |); good enough for start scripts."""
    if len(text) > SHELL_SPLIT_MAX_CHARS:
        return [text.split()] if text.split() else []
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError:
        tokens = text.split()
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= set(";&|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def unwrap(argv: list[str]) -> list[list[str]]:
    """Peels `sh -c "..."`, `exec`, `env A=1`, `poetry run`, `tini --`, `python -m gunicorn`,
    and absolute paths, returning each simple command that really runs."""
    argv = list(argv)
    while argv:
        head = argv[0].rsplit("/", 1)[-1]
        if head in SHELLS and len(argv) >= 3 and argv[1] in ("-c", "-lc", "-ec", "-ce"):
            return [cmd for part in split_shell(argv[2]) for cmd in unwrap(part)]
        if head in WRAPPERS:
            argv = argv[1:]
            while argv and argv[0].startswith("-"):
                argv = argv[1:]
                if head in ("gosu", "su-exec") and argv:
                    argv = argv[1:]
            if head in ("gosu", "su-exec") and argv and not argv[0].startswith("-"):
                argv = argv[1:]
            continue
        if head == "env":
            argv = argv[1:]
            while argv and ("=" in argv[0] or argv[0].startswith("-")):
                argv = argv[1:]
            continue
        if len(argv) >= 2 and (head, argv[1]) in RUNNERS:
            argv = argv[2:]
            continue
        break
    if not argv:
        return []
    head = argv[0].rsplit("/", 1)[-1]
    if PYTHON.match(head) and len(argv) >= 3 and argv[1] == "-m":
        argv = [argv[2], *argv[3:]]
    else:
        argv = [head, *argv[1:]]
    return [argv]


def judge(argv: list[str]) -> ServerCommand | None:
    """What a simple (unwrapped) command runs, when it runs a Python web server or app."""
    if not argv:
        return None
    program = argv[0]
    rest = argv[1:]
    if PYTHON.match(program):
        script = next((a for a in rest if not a.startswith("-")), None)
        if script is None:
            return None
        if script.endswith("manage.py"):
            return _manage(argv, rest[rest.index(script) + 1 :])
        if script.endswith(".py"):
            return ServerCommand("python", tuple(argv), None, script, None, None, None)
        return None
    if program == "manage.py" or program.endswith("/manage.py") or program == "django-admin":
        return _manage(argv, rest)
    if program not in SERVERS or not _serves(program, rest):
        return None
    target = next((a for a in rest if APP_TARGET.match(a)), None)
    host, port = _bind(program, rest)
    dev = None
    if program == "flask" and "run" in rest:
        dev = "`flask run` starts Werkzeug's development server"
        target = option_value(rest, "--app", "-A") or target
    elif program == "fastapi" and rest[:1] == ["dev"]:
        dev = "`fastapi dev` is the auto-reloading development server"
    elif program in ("uvicorn", "gunicorn", "hypercorn", "granian") and (
        "--reload" in rest or any(a.startswith("--reload=") for a in rest)
    ):
        dev = f"`{program} --reload` watches files and restarts: a development mode"
    return ServerCommand(program, tuple(argv), target, None, dev, host, port)


def _serves(program: str, rest: list[str]) -> bool:
    """CLIs that also run one-off tasks serve only through their serving subcommand:
    `flask db upgrade` or `fastapi --version` start no server."""
    if program == "flask":
        return "run" in rest
    if program == "fastapi":
        return bool(rest) and rest[0] in ("dev", "run")
    return True


def _manage(argv: list[str], rest: list[str]) -> ServerCommand | None:
    if not rest or rest[0] not in ("runserver", "runserver_plus"):
        return None
    host, port = None, None
    addr = next((a for a in rest[1:] if not a.startswith("-")), None)
    if addr:
        host, port = _split_addr(addr)
    return ServerCommand(
        "manage.py",
        tuple(argv),
        None,
        None,
        "`manage.py runserver` is Django's development server",
        host,
        port,
    )


def option_value(rest: list[str], *names: str) -> str | None:
    """The value of the first of `names` in an argv: `--name value` or `--name=value`."""
    for index, word in enumerate(rest):
        for name in names:
            if word == name and index + 1 < len(rest):
                return rest[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def _bind(program: str, rest: list[str]) -> tuple[str | None, int | None]:
    bind = option_value(rest, "-b", "--bind")
    if bind:
        return _split_addr(bind)
    host = option_value(rest, "--host", "-h")
    port = option_value(rest, "--port", "-p")
    return host, port_number(port)


def _split_addr(addr: str) -> tuple[str | None, int | None]:
    if addr.startswith(("unix:", "fd://")):
        return addr, None
    if addr.startswith("["):
        host, _, port = addr[1:].partition("]:")
        return host, port_number(port)
    if ":" in addr:
        host, _, port = addr.rpartition(":")
        return host or None, port_number(port)
    if addr.isdigit():
        return None, int(addr)
    return addr, None


VAR_DEFAULT = re.compile(r"^\$\{?\w+(:?-(?P<default>\d+))?\}?$")


def port_number(text: str | None) -> int | None:
    """`8000`, or the default of `${PORT:-8000}` / `$PORT-8000`; None for anything else."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    match = VAR_DEFAULT.match(text)
    if match and match["default"]:
        return int(match["default"])
    return None


# --- shell scripts in commands (Dockerfile CMD/HEALTHCHECK, compose command/healthcheck) ------

SH_C_SHELLS = frozenset(
    {"sh", "bash", "dash", "ash", "/bin/sh", "/bin/bash", "/bin/dash", "/bin/ash"}
)
SEGMENT_SPLIT = re.compile(r"&&|\|\||;|\n")
SHELL_OPERATORS = frozenset({"||", "&&", "|", ";", ">", ">>", "<", "2>&1", ">/dev/null"})
VARIABLE = re.compile(r"\$\{?[A-Za-z_]")


def sh_c_script(argv: list[str]) -> str | None:
    """The script of `sh -c "script"` (any common shell, -c with -e/-x), or None."""
    if len(argv) >= 3 and argv[0] in SH_C_SHELLS and argv[1] in ("-c", "-ec", "-ex", "-exc", "-ce"):
        return argv[2]
    return None


def ends_with_exec(script: str) -> bool:
    """True when the script's last command is `exec ...`, so the server replaces the shell."""
    segments = [s.strip() for s in SEGMENT_SPLIT.split(script) if s.strip()]
    return bool(segments) and segments[-1].split()[0] == "exec"


TERM_TRAP = re.compile(r"""\btrap\s+(?:'[^']*'|"[^"]*"|\S+)(?:\s+\w+)*?\s+(?:SIG)?(?:TERM|15)\b""")


def traps_sigterm(script: str) -> bool:
    """True when the script handles SIGTERM itself (`trap '...' TERM`): a shell that must stay,
    such as a loop, passes the signal on to its child there. PID 1 ignores only the signals it
    has no handler for."""
    return TERM_TRAP.search(script) is not None


def exec_form_shell_problem(argv: list[str]) -> tuple[str, bool] | None:
    """Why an argv run without a shell will not do what it says, and whether that makes it fail
    every time (a program name with spaces) rather than test something else. Shared with
    compose."""
    if not argv or sh_c_script(argv) is not None:
        return None
    if " " in argv[0].strip():
        return f"names the program {argv[0]!r}, which does not exist: every probe fails", True
    operator = next((a for a in argv[1:] if a in SHELL_OPERATORS), None)
    if operator:
        return f"passes {operator!r} to {argv[0]} as an argument (no shell interprets it)", False
    variable = next((a for a in argv if VARIABLE.search(a)), None)
    if variable:
        return f"passes {variable!r} unexpanded (no shell expands it)", False
    return None
