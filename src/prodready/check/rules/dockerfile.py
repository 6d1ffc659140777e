"""Rules for Dockerfiles (PR201-PR249).

Runtime properties (user, healthcheck, launch command, environment) are judged on the final
stage together with the stages it is built `FROM`: builder stages never run in production.
Properties of the build itself (base image pins, ADD, layer order) apply to every stage.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Iterator

from prodready.check.context import FileContext
from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import (
    debug_setting,
    env_file_secrets,
    leak,
    literal_secret,
    on_dockerfile,
    url_secret,
)
from prodready.check.rules.dockerfile_facts import (
    ROOT_USERS,
    launch_drops_privileges,
    user_of,
)
from prodready.project.files import ENV_EXAMPLE
from prodready.project.images import (
    arg_pairs,
    env_pairs,
    environment,
    image_lacks,
    installs,
    official_name,
    resolve_args,
    root_image,
    split_image,
)
from prodready.project.model import FileKind
from prodready.project.parsers.commands import SHELLS as SHELL_PROGRAMS
from prodready.project.parsers.commands import (
    ends_with_exec,
    exec_form_shell_problem,
    logical_lines,
    sh_c_script,
    split_shell,
    traps_sigterm,
    unwrap,
)
from prodready.project.parsers.commands import judge as judge_command
from prodready.project.parsers.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    built_lineage,
    instructions,
    last_instruction,
)

KIND = FileKind.DOCKERFILE.value

PYTHON_LAUNCHERS = frozenset(
    {"python", "python3", "gunicorn", "uvicorn", "granian", "hypercorn", "daphne", "waitress-serve"}
)


# --- shared helpers ---------------------------------------------------------------------------


def _keyword_as_written(ctx: FileContext, inst: Instruction) -> str:
    words = ctx.line_text(inst.line).split(None, 1)
    return words[0] if words else inst.keyword


# --- PR201 ------------------------------------------------------------------------------------

PRIVILEGE_DROPPING_IMAGES = frozenset(
    {"postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq", "memcached", "nginx", "httpd"}
)
"""Official images whose entrypoint switches to their own user (gosu/su-exec), or whose
request-handling workers run unprivileged (nginx, httpd: only the master keeps root)."""


@rule(
    "PR201",
    "runs-as-root",
    title="Container runs as root",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
Without a USER instruction the final image runs its process as root (uid 0). Any code
execution bug in the app (a deserialisation flaw, a template injection, a vulnerable
dependency) then owns the whole container: it can rewrite the app's code, read every mounted
secret, install tools, and with a kernel or runtime escape (runc CVE-2019-5736, CVE-2024-21626)
reach the host. Docker's own guidance and the CIS Docker Benchmark (4.1) require a non-root
user. Builder stages may run as root; only the stage that ships is judged. Official images
that drop privileges themselves (postgres, redis ... switch user in their entrypoint; nginx
and httpd serve requests from unprivileged workers) are left alone unless ENTRYPOINT changes,
and so is a stage built on a project's own base image that chowns every file it copies to one
unprivileged user: the base, which this file does not show, runs as that user.
""",
    fix="""
Create an unprivileged user in the final stage and switch to it before CMD.
RUN useradd --create-home --uid 10001 app
USER app
""",
    bad='FROM python:3.12-slim\nCOPY . /app\nCMD ["gunicorn", "app:app"]',
    good=(
        "FROM python:3.12-slim\nRUN useradd --create-home --uid 10001 app\n"
        'COPY --chown=app . /app\nUSER app\nCMD ["gunicorn", "app:app"]'
    ),
)
@on_dockerfile
def runs_as_root(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    image = root_image(dockerfile, stages[-1])
    if image == "scratch" or _nonroot_by_default(image) or image.startswith(LAMBDA_IMAGES):
        return
    if _runs_nothing(ctx, stages, image):
        return
    if _drops_privileges(image) and not instructions(stages, "ENTRYPOINT"):
        return
    user = last_instruction(stages, "USER")
    if (user is None or user_of(user.value) in ROOT_USERS) and (launch_drops_privileges(ctx)):
        return
    if user is None:
        if "/" in official_name(image) and _owned_by_one_user(stages[-1]):
            return
        yield Hit(
            stages[-1].line,
            f"final stage (from {image}) has no USER instruction: the app runs as root",
        )
        return
    name = user_of(user.value)
    if name in ROOT_USERS:
        yield Hit(
            user.line, f"final stage switches to USER {user.value.strip()}: the app runs as root"
        )


def _owned_by_one_user(stage: Stage) -> bool:
    """Every file the stage copies in is chowned to one unprivileged user (searxng's
    `COPY --chown=977:977` over its own searxng/base image): the files are made for the user
    the base image runs as, which this file cannot see. Said of an official image (python,
    debian), whose user is root, it proves nothing."""
    copies = stage.all("COPY") + stage.all("ADD")
    owners = {user_of(copy.flags.get("chown", "")) for copy in copies}
    return len(owners) == 1 and not owners & {"", *ROOT_USERS}


LAMBDA_IMAGES = ("public.ecr.aws/lambda/", "amazon/aws-lambda-")
"""AWS Lambda runs the function as its own unprivileged sandbox user, whatever USER says."""
SHELL_IMAGES = frozenset(
    {"python", "ubuntu", "debian", "alpine", "fedora", "rockylinux", "almalinux", "buildpack-deps"}
)
"""Images whose default command is a shell or a REPL: nothing to serve until a CMD is given."""


def _runs_nothing(ctx: FileContext, stages: list[Stage], image: str) -> bool:
    """A base or builder image that other images start FROM: no CMD or ENTRYPOINT of its own
    over an image whose default command is a shell or a REPL (python, debian ...), and no
    compose service that builds it and gives it a command."""
    if instructions(stages, "CMD", "ENTRYPOINT"):
        return False
    if official_name(image) not in SHELL_IMAGES and not _a_builder(stages[-1], image):
        return False  # FROM caddy, node ...: the base image's own server runs
    composes = ctx.project.compose_files
    if any(not compose.services for compose in composes):
        return False  # a compose file we could not read (a template) may build it
    return not any(
        service.dockerfile_rel(compose.rel) == ctx.rel
        for compose in composes
        for service in compose.services
    )


def _a_builder(stage: Stage, image: str) -> bool:
    """A stage named `builder` (or `build`) over an image tagged as one (searxng's
    builder.dockerfile: `FROM searxng/base:searxng-builder AS builder`): it builds, runs nothing."""
    _, tag, _ = split_image(image)
    return (stage.alias or "").lower() in ("builder", "build") and "build" in (tag or "")


def _drops_privileges(image: str) -> bool:
    return official_name(image) in PRIVILEGE_DROPPING_IMAGES


def _nonroot_by_default(image: str) -> bool:
    """Images whose default user is already unprivileged."""
    repo, tag, _ = split_image(image)
    return (
        "nonroot" in (tag or "")
        or repo.endswith("-unprivileged")  # nginxinc/nginx-unprivileged runs as nginx (101)
        or image.startswith("cgr.dev/chainguard/")
    )


# --- PR202 ------------------------------------------------------------------------------------

PYTHON_VERSION_TAG = re.compile(r"^\d+\.\d+")


WHOLE_ARG = re.compile(r"\$\{?\w+\}?")


@rule(
    "PR202",
    "unpinned-base-image",
    title="Base image not pinned",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
`FROM python`, `FROM python:latest` or `FROM python:3-slim` resolve to whatever the registry
points them at on the day of the build. The next rebuild (a security patch, a CI cache miss)
can silently move the app to a new Python minor release (3.12 -> 3.13 removed modules and
changed C-API behaviour that wheels depend on) or a new Debian release, so the image that
passed the tests is not the one that ships. Pin at least the minor version
(`python:3.12-slim`); a digest (`@sha256:...`) makes the build reproducible.
""",
    fix="""
Pin the base image to a minor version, ideally with a digest.
FROM python:3.12-slim@sha256:<digest>
""",
    bad="FROM python:3-slim",
    good="FROM python:3.12-slim-bookworm",
)
@on_dockerfile
def unpinned_base_image(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for stage in dockerfile.stages:
        if dockerfile.stage_named(stage.base) is not None or _tag_is_build_arg(stage.base):
            continue
        image = resolve_args(dockerfile, stage.base)
        problem = _pin_problem(image)
        if problem:
            yield Hit(stage.line, f"base image {image} {problem}")


def _tag_is_build_arg(base: str) -> bool:
    """`FROM app:${TAG}`, the whole tag one ARG: whoever builds passes it (`--build-arg
    TAG=v1.2`, as release workflows do for images built from their own release); the default
    is a fallback. A tag that is partly an ARG (`python:${PY}-slim`) is a version knob whose
    default is judged."""
    _, tag, _ = split_image(base)
    return tag is not None and WHOLE_ARG.fullmatch(tag) is not None


def _pin_problem(image: str) -> str | None:
    if not image or image == "scratch" or "$" in image or "{" in image:
        return None  # unresolved ARG or a template (Dockerfile.j2): the real value is unknown
    repo, tag, digest = split_image(image)
    if digest:
        return None
    if tag is None:
        return "has no tag: it means :latest and changes under you on every rebuild"
    if tag == "latest":
        return "uses :latest: it changes under you on every rebuild"
    is_python = repo.rsplit("/", 1)[-1] in ("python", "pypy")
    if is_python and not PYTHON_VERSION_TAG.match(tag):
        return "does not pin the Python minor version: a rebuild can move to a new Python release"
    return None


# --- PR203 ------------------------------------------------------------------------------------

HTTP_TOOLS = ("curl", "wget")
TOKEN_SPLIT = re.compile(r"[\s\"',\[\];&|()]+")


@rule(
    "PR203",
    "healthcheck-tool-missing",
    title="HEALTHCHECK uses a tool the image does not have",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`python:*-slim`, distroless and `scratch` images have neither curl nor wget, and Alpine has
only busybox wget. A HEALTHCHECK that calls a missing tool fails on every probe ("curl: not
found"), so Docker marks a perfectly healthy container unhealthy: Swarm and orchestrators
restart it in a loop, compose `depends_on: condition: service_healthy` never starts the
services behind it, and load balancers that follow Docker health drop it.
""",
    fix="""
Probe with the Python that the image already has, or install the tool in the final stage.
HEALTHCHECK CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"
""",
    bad="FROM python:3.12-slim\nHEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1",
    good=(
        'FROM python:3.12-slim\nHEALTHCHECK CMD python -c "import urllib.request; '
        "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)\""
    ),
)
@on_dockerfile
def healthcheck_tool_missing(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    check = last_instruction(stages, "HEALTHCHECK")
    if check is None:
        return
    used = {t.rsplit("/", 1)[-1] for t in TOKEN_SPLIT.split(check.value)} & set(HTTP_TOOLS)
    image = root_image(dockerfile, stages[-1])
    missing = image_lacks(image)
    for tool in sorted(used & missing):
        if not installs(stages, tool):
            yield Hit(
                check.line,
                f"HEALTHCHECK runs {tool}, but the final image ({image}) does not have it "
                "and no RUN installs it: every probe fails",
            )


# --- PR204 ------------------------------------------------------------------------------------

SHELL_SYNTAX = re.compile(r"[$&|;<>`*?~(){}\[\]\\!#]")
ENV_PREFIX = re.compile(r"^\w+=")
QUOTED_PARTS = re.compile(r"'[^']*'|\"[^\"]*\"|[^'\"]+")
DOUBLE_QUOTED_SPECIAL = re.compile(r"[$`\\!]")


@rule(
    "PR204",
    "shell-form-command",
    title="CMD/ENTRYPOINT runs under a shell that swallows SIGTERM",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
In shell form (`CMD gunicorn app:app`) Docker starts `/bin/sh -c "gunicorn app:app"`: the shell
is PID 1 and the server its child (Debian's dash does not exec the command). `docker stop`,
a rolling deploy or Kubernetes send SIGTERM to PID 1; the shell ignores it, the server never
hears it, and after the grace period (10 s) everything is SIGKILLed: in-flight requests are
cut, database transactions aborted, no graceful shutdown. `["sh", "-c", "..."]` has the same
problem unless the script ends with `exec`.
""",
    fix="""
Use the exec form, or end a shell script with `exec` so the server replaces the shell.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
""",
    bad="CMD gunicorn --bind 0.0.0.0:8000 app:app",
    good='CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]',
)
@on_dockerfile
def shell_form_command(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    entry = last_instruction(stages, "ENTRYPOINT")
    cmd = last_instruction(stages, "CMD")
    if entry is not None and _signal_forwarding_init(entry):
        return
    for inst in (entry, cmd):
        if inst is None:
            continue
        if inst is cmd and entry is not None and not entry.exec_form:
            continue  # ignored by a shell-form ENTRYPOINT (PR213 reports that)
        script = _shell_script(inst)
        if not script or ends_with_exec(script) or traps_sigterm(script):
            continue
        yield Hit(
            inst.line,
            f"{inst.keyword} runs under /bin/sh as PID 1: SIGTERM never reaches the server, "
            "so every stop or deploy ends in SIGKILL",
            fix=_exec_form_fix(ctx, inst, has_cmd=cmd is not None),
        )


def _shell_script(inst: Instruction) -> str | None:
    """The script a CMD/ENTRYPOINT hands to a shell, or None when it runs a program directly."""
    if not inst.exec_form:
        return inst.value.strip()
    return sh_c_script(list(inst.args))


def _signal_forwarding_init(entry: Instruction) -> bool:
    """dumb-init and `tini -g` signal the whole process group, so a shell child is fine."""
    args = list(entry.args) if entry.exec_form else entry.value.split()
    if not args:
        return False
    program = args[0].rsplit("/", 1)[-1]
    return program == "dumb-init" or (program in ("tini", "docker-init") and "-g" in args)


def _needs_shell(script: str) -> bool:
    """True when the script uses anything a shell would interpret beyond word splitting and
    quoting: expansions, operators, redirects, globs (checked outside single quotes)."""
    parts = QUOTED_PARTS.findall(script)
    if "".join(parts) != script:
        return True  # an unbalanced quote
    for part in parts:
        if part.startswith("'"):
            continue
        pattern = DOUBLE_QUOTED_SPECIAL if part.startswith('"') else SHELL_SYNTAX
        if pattern.search(part):
            return True
    return False


def _exec_form_fix(ctx: FileContext, inst: Instruction, has_cmd: bool) -> Fix | None:
    """Only for a one-line shell form with no shell syntax, where exec form means the same.
    An exec-form ENTRYPOINT would start appending CMD, so not when a CMD exists."""
    script = inst.value.strip()
    if inst.exec_form or inst.line != inst.end_line or not inst.args:
        return None
    if _needs_shell(script) or ENV_PREFIX.match(script):
        return None
    if inst.keyword == "ENTRYPOINT" and has_cmd:
        return None
    new = json.dumps(list(inst.args), ensure_ascii=False)
    return Fix(
        f"{inst.keyword} in exec form",
        (Edit(ctx.rel, inst.line, script, new),),
    )


# --- PR205 ------------------------------------------------------------------------------------

REMOTE_SOURCE = re.compile(r"^(?:https?://|git@|git://|ssh://)", re.IGNORECASE)
ARCHIVE = re.compile(r"\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$", re.IGNORECASE)
COPY_COMPATIBLE_FLAGS = frozenset({"chown", "chmod", "link"})


@rule(
    "PR205",
    "add-instead-of-copy",
    title="ADD used for a local file",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
ADD does more than copy: it unpacks local tar archives and downloads URLs. Used for plain
files it hides that magic in the build (a `.tar.gz` fixture or vendored archive gets silently
extracted into the image) and makes a later change of the source into a URL fetch unreviewed
code at build time. COPY does exactly what it says; Docker's best practices ask for COPY
whenever ADD's extras are not needed.
""",
    fix="Use COPY for local files and directories; keep ADD only for archives you mean to unpack.",
    bad="ADD . /app",
    good="COPY . /app",
)
@on_dockerfile
def add_instead_of_copy(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    """One finding per Dockerfile (one root cause), at the first ADD, naming the others; its
    fix turns every one of them into COPY."""
    local: list[tuple[Instruction, list[str]]] = []
    for stage in dockerfile.stages:
        for inst in stage.all("ADD"):
            sources = list(inst.args[:-1])
            if sources and not any(REMOTE_SOURCE.match(s) or ARCHIVE.search(s) for s in sources):
                local.append((inst, sources))
    if not local:
        return
    edits = []
    for inst, _ in local:
        written = _keyword_as_written(ctx, inst)
        if set(inst.flags) <= COPY_COMPATIBLE_FLAGS and written.upper() == "ADD":
            edits.append(Edit(ctx.rel, inst.line, written, "COPY"))
    first, sources = local[0]
    others = [str(inst.line) for inst, _ in local[1:]]
    also = f" (and on line{'s' if len(others) > 1 else ''} {', '.join(others)})" if others else ""
    fix = Fix("ADD -> COPY", tuple(edits)) if edits else None
    yield Hit(first.line, f"ADD {' '.join(sources)}{also}: use COPY for local files", fix=fix)


# --- PR206 ------------------------------------------------------------------------------------

APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b")
DIST_UPGRADE = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*(dist-upgrade|full-upgrade)\b")
"""Not `upgrade`: pulling security fixes at build time is what Docker and OWASP now advise
(hadolint dropped it from DL3005 in 2.x and kept dist-upgrade)."""
NO_RECOMMENDS = re.compile(r"--no-install-recommends|APT::Install-Recommends=(?:false|0)")
LISTS_REMOVED = re.compile(r"\brm\s+(?:-\S+\s+)*/var/lib/apt/lists")
"""`rm -rf`, `rm -r -f`, `rm --recursive --force --verbose`: any options before the path."""


@rule(
    "PR206",
    "apt-bloat",
    title="apt-get install bloats the image",
    severity=Severity.INFO,
    kind=KIND,
    why="""
`apt-get install` without `--no-install-recommends` pulls in recommended packages (often
hundreds of MB: compilers, docs, X libraries), and package lists not removed in the same RUN
stay in the layer forever (tens of MB, and stale). Every extra package is attack surface your
vulnerability scanner reports and you must patch. `apt-get dist-upgrade` may move packages to
another release inside the image; plain `apt-get upgrade`, which pulls the distribution's
security fixes at build time, is fine and not reported.
""",
    fix="""
Install only what is needed and clean up in the same RUN.
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
    && rm -rf /var/lib/apt/lists/*
""",
    bad="RUN apt-get update && apt-get install -y libpq5",
    good=(
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\\n"
        "    && rm -rf /var/lib/apt/lists/*"
    ),
)
@on_dockerfile
def apt_bloat(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for inst in instructions(built_lineage(dockerfile), "RUN"):
        text = inst.value
        if upgrade := DIST_UPGRADE.search(text):
            yield Hit(
                inst.line,
                f"apt-get {upgrade[1]} in the image build: use a newer base image instead",
                severity=Severity.WARNING,
            )
        if not APT_INSTALL.search(text):
            continue
        problems = []
        if not NO_RECOMMENDS.search(text):
            problems.append("without --no-install-recommends")
        cached = "/var/lib/apt" in inst.flags.get("mount", "")
        if not LISTS_REMOVED.search(text) and not cached:
            problems.append("without rm -rf /var/lib/apt/lists/* in the same RUN")
        if problems:
            yield Hit(inst.line, f"apt-get install {' and '.join(problems)}")


# --- PR207 ------------------------------------------------------------------------------------

PIP_INSTALL = re.compile(r"\b(?:pip3?|python[\d.]*\s+-m\s+pip)\s+install\b")
PIP_CACHE_CLEARED = re.compile(
    r"\bpip3?\s+cache\s+(?:purge|remove)\b|\buv\s+cache\s+(?:clean|prune)\b"
    r"|\brm\s[^;&|]*?(?:~|\$\{?HOME\}?|/root|/home/[^/\s]+|\s)?/?\.cache(?:/(?:pip|uv)\S*|/\*)?/?"
    r"(?=[\s;&|)]|$)"
    r"|--no-cac(?:h(?:e(?:-(?:d(?:ir?)?)?)?)?)?(?:[=\s]|$)"
)
"""The cache is gone when the layer is written: `pip cache purge`, `rm -rf /root/.cache` in
the same RUN, or --no-cache-dir under any prefix pip accepts (`--no-cache`, `--no-cache-d`:
optparse takes an unambiguous prefix, and `--no-cac` is already one)."""
UV_PIP_INSTALL = re.compile(r"\buv\s+pip\s+install\b")
UV_NO_CACHE = re.compile(r"\s(?:--no-cache|-n)\b")


@rule(
    "PR207",
    "pip-cache-in-image",
    title="pip cache left in the image",
    severity=Severity.INFO,
    kind=KIND,
    why="""
pip keeps every downloaded wheel in ~/.cache/pip (uv in ~/.cache/uv). In an image layer that
cache is dead weight that ships to every host: often as large as the installed packages
themselves (hundreds of MB with numpy, torch, pandas), slowing every pull, deploy and
autoscale. A BuildKit cache mount keeps the speed-up without putting the cache in the image.
""",
    fix="""
Add --no-cache-dir (uv: --no-cache), or use a BuildKit cache mount.
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
""",
    bad="RUN pip install -r requirements.txt",
    good="RUN pip install --no-cache-dir -r requirements.txt",
)
@on_dockerfile
def pip_cache_in_image(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    env = environment(stages)
    if "PIP_NO_CACHE_DIR" in env:
        return
    cached: list[tuple[Instruction, str]] = []
    for inst in instructions(stages, "RUN"):
        text = " ".join(inst.args) if inst.exec_form else inst.value
        if not PIP_INSTALL.search(text) or PIP_CACHE_CLEARED.search(text):
            continue
        if "type=cache" in inst.flags.get("mount", ""):
            continue
        uv = bool(UV_PIP_INSTALL.search(text))
        if uv and ("UV_NO_CACHE" in env or UV_NO_CACHE.search(text)):
            continue
        cached.append((inst, "--no-cache" if uv else "--no-cache-dir"))
    if cached:
        yield _pip_cache_hit(ctx, cached)


def _pip_cache_hit(ctx: FileContext, cached: list[tuple[Instruction, str]]) -> Hit:
    """One finding per image, naming every RUN that leaves the cache: one cause, one fix."""
    first, option = cached[0]
    uv = option == "--no-cache"
    others = [inst.line for inst, _ in cached[1:]]
    also = f" (also line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"
    fixes = [_no_cache_fix(ctx, inst, opt) for inst, opt in cached]
    edits = tuple(edit for fix in fixes if fix is not None for edit in fix.edits)
    return Hit(
        first.line,
        f"{'uv ' if uv else ''}pip install without {option}: the download cache ships in "
        f"the image{also if others else ''}",
        fix=Fix(f"pip install {option}", edits) if all(fixes) else None,
    )


def _no_cache_fix(ctx: FileContext, inst: Instruction, option: str) -> Fix | None:
    edits = []
    for number in range(inst.line, inst.end_line + 1):
        match = PIP_INSTALL.search(ctx.line_text(number))
        if match:
            edits.append(Edit(ctx.rel, number, match[0], f"{match[0]} {option}"))
    return Fix(f"pip install {option}", tuple(edits)) if edits else None


# --- PR208 ------------------------------------------------------------------------------------


@rule(
    "PR208",
    "secret-in-env-arg",
    title="Secret hard-coded in ENV or ARG",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
An ENV value is stored in the image config: anyone who can pull the image reads it with
`docker inspect`, and it sits in the Dockerfile in git. ARG defaults and values land in
`docker history` of every image built with them. Leaked registry images are a classic source
of credential breaches, and a default password there is the same on every deployment.
""",
    fix="""
Pass secrets at run time (env_file, Docker/compose secrets, your platform's secret store);
at build time use RUN --mount=type=secret.
""",
    bad="ENV SECRET_KEY=changeme",
    good="# SECRET_KEY comes from the environment at run time",
    dev_files=True,
)
@on_dockerfile
def secret_in_env_arg(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    """In a development Dockerfile only real-looking secrets count (a weak local default is
    expected there; a committed live key is not)."""
    development = ctx.in_development()
    candidates = list(dockerfile.global_args) + instructions(dockerfile.stages, "ENV", "ARG")
    for inst in candidates:
        pairs = env_pairs(inst) if inst.keyword == "ENV" else arg_pairs(inst)
        for name, value in pairs:
            hit = _secret_hit(inst, name, value, only_real=development)
            if hit:
                yield hit


def _secret_hit(
    inst: Instruction, name: str, value: str | None, only_real: bool = False
) -> Hit | None:
    """The hit for a literal secret; with `only_real`, none for a weak or default one."""
    judgement, subject = literal_secret(name, value), f"{inst.keyword} {name}"
    if judgement is None and value and "$" not in value and (found := url_secret(value)):
        scheme, judgement = found
        subject += f": the {scheme} password"
    if judgement is None or (only_real and judgement.is_problem):
        return None
    where = "image config" if inst.keyword == "ENV" else "image history"
    return Hit(inst.line, f"{subject} {leak(judgement)}; it is baked into the {where}")


# --- PR209 ------------------------------------------------------------------------------------


@rule(
    "PR209",
    "python-unbuffered",
    title="PYTHONUNBUFFERED not set",
    severity=Severity.INFO,
    kind=KIND,
    why="""
In a container stdout is a pipe, not a terminal, so Python block-buffers it: `print()` output
and stdout log handlers appear in `docker logs` late, in chunks, and whatever is still in the
buffer is lost when the process crashes or is SIGKILLed: exactly the lines that explain the
crash. PYTHONUNBUFFERED=1 writes through.
""",
    fix="""
Set it right after the final FROM.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
""",
    bad='FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]',
    good='FROM python:3.12-slim\nENV PYTHONUNBUFFERED=1\nCMD ["gunicorn", "app:app"]',
)
@on_dockerfile
def python_unbuffered(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    if not _is_python_image(dockerfile, stages):
        return
    image = root_image(dockerfile, stages[-1])
    if image.startswith(LAMBDA_IMAGES):
        return  # the Lambda runtime reads the handler's output itself
    if _runs_nothing(ctx, stages, image):
        return  # a base image: the image built FROM it runs the app and is judged itself
    env = environment(stages)
    if env.get("PYTHONUNBUFFERED", ("", None))[0].strip():
        return
    launch = dockerfile.launch_argv()
    if launch and "-u" in launch[0][:3]:
        return
    final = stages[-1]
    new = "ENV PYTHONUNBUFFERED=1"
    if "PYTHONDONTWRITEBYTECODE" not in env:
        new += " PYTHONDONTWRITEBYTECODE=1"
    from_end = final.instructions[0].end_line
    yield Hit(
        final.line,
        "PYTHONUNBUFFERED is not set in the final stage: stdout is delayed and lost on a crash",
        fix=Fix(new, (Edit(ctx.rel, from_end + 1, "", new),)),
    )


def _is_python_image(dockerfile: Dockerfile, stages: list[Stage]) -> bool:
    repo, _, _ = split_image(root_image(dockerfile, stages[-1]))
    if "python" in repo.rsplit("/", 1)[-1]:
        return True
    launch = dockerfile.launch_argv()
    if launch is None:
        return False
    argv = launch[0]
    words = argv[2].split() if argv[:2] == ["/bin/sh", "-c"] and len(argv) > 2 else argv
    return bool(words) and words[0].rsplit("/", 1)[-1] in PYTHON_LAUNCHERS


# --- PR210 ------------------------------------------------------------------------------------

DEPENDENCY_INSTALL = re.compile(
    r"\b(?:pip3?|python[\d.]*\s+-m\s+pip|uv\s+pip)\s+install\b|\b(?:poetry|pipenv|pdm)\s+"
    r"(?:install|sync)\b|\buv\s+sync\b"
)
WHOLE_CONTEXT = frozenset({".", "./", "*"})


@rule(
    "PR210",
    "copy-all-before-install",
    title="Whole build context copied before installing dependencies",
    severity=Severity.INFO,
    kind=KIND,
    why="""
Docker reuses a cached layer only while every layer before it is unchanged. With `COPY . .`
before `pip install`, any edit to any file (a typo in a template) invalidates the dependency
layer, so every build and every CI run reinstalls every package: minutes per deploy, and a
fresh resolution that can pull different versions than the last build.
""",
    fix="""
Copy the dependency manifests first, install, then copy the code.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
""",
    bad="COPY . .\nRUN pip install --no-cache-dir -r requirements.txt",
    good="COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .",
)
@on_dockerfile
def copy_all_before_install(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for stage in dockerfile.stages:
        whole: Instruction | None = None
        for inst in stage.instructions:
            if inst.keyword in ("COPY", "ADD") and "from" not in inst.flags:
                if whole is None and any(s in WHOLE_CONTEXT for s in inst.args[:-1]):
                    whole = inst
            elif inst.keyword == "RUN" and DEPENDENCY_INSTALL.search(inst.value):
                if whole is not None:
                    yield Hit(
                        whole.line,
                        f"COPY of the whole build context comes before the dependency install "
                        f"on line {inst.line}: any code change reinstalls every package",
                    )
                break


# --- PR211 ------------------------------------------------------------------------------------


@rule(
    "PR211",
    "debug-env-in-image",
    title="Debug mode baked into the image",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
FLASK_DEBUG=1 (or FLASK_ENV=development) turns on the Werkzeug debugger: any visitor who
triggers an error gets an interactive Python console, i.e. remote code execution (the debugger
PIN has been brute-forced and derived from leaked files many times). DEBUG=True in Django shows
settings, SQL and source in error pages. An ENV in the image applies to every deployment of it.
""",
    fix="Remove the debug ENV from the image; enable debug only in a local compose override.",
    bad="ENV FLASK_DEBUG=1",
    good="ENV FLASK_DEBUG=0",
)
@on_dockerfile
def debug_env_in_image(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for inst in instructions(built_lineage(dockerfile), "ENV"):
        for name, value in env_pairs(inst):
            reason = debug_setting(name, value)
            if reason:
                yield Hit(inst.line, f"ENV {reason} in every container of this image")


# --- PR212 ------------------------------------------------------------------------------------

SECRET_FILE = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example|sample|template|dist|defaults?)[\w.-]+)?|id_rsa|id_ecdsa|"
    r"id_ed25519|\.netrc|\.pypirc|\.git-credentials|[\w.-]+\.(?:pem|key|p12|pfx))$",
    re.IGNORECASE,
)
PUBLIC_PEM = re.compile(
    r"cert|chain|(?:^|[-_.])(?:ca|root|bundle|trust(?:ed)?|pub(?:lic)?)(?:[-_.]|$)", re.IGNORECASE
)
"""A .pem named as a certificate (fullchain.pem, corp-root-ca.pem): public, not a key."""


def _is_secret_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not SECRET_FILE.search(path) or ENV_EXAMPLE.search(name):
        return False  # .env.production.example: a template, like .env.example
    return not (name.lower().endswith(".pem") and PUBLIC_PEM.search(name[:-4]))


@rule(
    "PR212",
    "secret-file-in-image",
    title="Secret file copied into the image",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
A `.env`, private key or credentials file COPYed into the image is readable by anyone who can
pull it, forever: deleting it in a later layer does not remove it from the earlier one. Images
are pushed to registries, cached on CI runners and shared far more widely than the secrets
they now contain.
""",
    fix="""
Provide secrets at run time (env_file, secrets, mounted volume); at build time use
RUN --mount=type=secret. Add the file to .dockerignore.
""",
    bad="COPY .env /app/.env",
    good="# .env is passed at run time: docker run --env-file .env",
)
@on_dockerfile
def secret_file_in_image(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for inst in instructions(built_lineage(dockerfile), "COPY", "ADD"):
        if "from" in inst.flags:
            continue
        for source in inst.args[:-1]:
            if _is_secret_file(source.rstrip("/")) and not _env_without_secrets(ctx, source):
                yield Hit(inst.line, f"{inst.keyword} {source} puts a secret file into the image")


def _env_without_secrets(ctx: FileContext, source: str) -> bool:
    """An env file the project has, beside the Dockerfile, that holds no secret (only
    settings such as VITE_API_URL): copying it leaks nothing. An env file the project does
    not have is unknown, so it still counts as a secret file."""
    rel = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.rel), source.rstrip("/")))
    env = next((e for e in ctx.project.env_files if e.rel == rel), None)
    return env is not None and not env_file_secrets((v.name, v.value) for v in env.variables)


# --- PR213 ------------------------------------------------------------------------------------


@rule(
    "PR213",
    "dead-launch-command",
    title="CMD or ENTRYPOINT that never runs",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
Only the last CMD and the last ENTRYPOINT of the final stage take effect, and a shell-form
ENTRYPOINT ignores CMD entirely. A Dockerfile that reads as if it starts gunicorn may really
start something else: reviewers read the first CMD, Docker runs the last one.
""",
    fix="Keep a single CMD (and ENTRYPOINT) in the final stage; use exec form for ENTRYPOINT.",
    bad='CMD ["python", "app.py"]\nCMD ["gunicorn", "app:app"]',
    good='CMD ["gunicorn", "app:app"]',
)
@on_dockerfile
def dead_launch_command(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    final = dockerfile.stages[-1]
    for keyword in ("CMD", "ENTRYPOINT"):
        found = final.all(keyword)
        for dead in found[:-1]:
            yield Hit(
                dead.line,
                f"{keyword} never runs: the {keyword} on line {found[-1].line} replaces it",
            )
    stages = built_lineage(dockerfile)
    entry = last_instruction(stages, "ENTRYPOINT")
    cmd = last_instruction(stages, "CMD")
    if entry is not None and cmd is not None and not entry.exec_form:
        yield Hit(
            cmd.line,
            f"CMD is ignored: the shell-form ENTRYPOINT on line {entry.line} does not pass it on",
        )


# --- PR214 ------------------------------------------------------------------------------------

NO_WORKDIR_IMAGES = frozenset({"python", "debian", "ubuntu", "alpine", "pypy"})


@rule(
    "PR214",
    "copy-without-workdir",
    title="Files copied to a relative path with no WORKDIR",
    severity=Severity.INFO,
    kind=KIND,
    why="""
Without WORKDIR the working directory of python, debian, ubuntu and alpine images is `/`, so
`COPY . .` spreads the project over the root filesystem: a project folder named `lib`, `bin`
or `etc` merges into the system's (or breaks the build), the app's files cannot be told apart
from the OS's, and relative paths in CMD work only by accident.
""",
    fix="Set WORKDIR /app before the first COPY.",
    bad="FROM python:3.12-slim\nCOPY . .",
    good="FROM python:3.12-slim\nWORKDIR /app\nCOPY . .",
)
@on_dockerfile
def copy_without_workdir(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    if official_name(root_image(dockerfile, stages[-1])) not in NO_WORKDIR_IMAGES:
        return
    for inst in _before_workdir(stages):
        destination = inst.args[-1] if len(inst.args) >= 2 else ""
        if destination and not destination.startswith(("/", "$")):
            yield Hit(
                inst.line,
                f"{inst.keyword} to relative path {destination} with no WORKDIR: "
                "files land in / of the image",
            )
            return


def _before_workdir(stages: list[Stage]) -> Iterator[Instruction]:
    for stage in stages:
        for inst in stage.instructions:
            if inst.keyword == "WORKDIR":
                return
            if inst.keyword in ("COPY", "ADD"):
                yield inst


# --- PR215 ------------------------------------------------------------------------------------

BLOCK_END = frozenset({"fi", "esac", "done", "}", "then", "do"})
SIGNAL_TRAP = re.compile(r"^\s*trap\b.*\b(?:TERM|SIGTERM|15)\b", re.MULTILINE)
ARGS_PASSTHROUGH = frozenset({'"$@"', "$@", '"${@}"', "${@}"})
ONE_SHOT_SUBCOMMANDS = frozenset({"flask", "django-admin", "fastapi"})


@rule(
    "PR215",
    "start-script-without-exec",
    title="Start script runs the server without exec",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
When the image starts a shell script (`ENTRYPOINT ["docker-entrypoint.sh"]`,
`CMD ["sh", "start.sh"]`), the shell is PID 1. If its last line starts the server as a child
(`gunicorn app:app`, `"$@"`) instead of replacing itself with it (`exec gunicorn app:app`),
the SIGTERM from `docker stop` or a rolling deploy goes to the shell, which ignores it; the
server never starts its graceful shutdown and is SIGKILLed after the grace period, cutting
in-flight requests.
""",
    fix="""
Start the server with exec on the script's last line.
exec gunicorn -c gunicorn.conf.py app:app
""",
    bad='#!/bin/sh\nflask db upgrade\ngunicorn app:app   # Dockerfile: CMD ["sh", "start.sh"]',
    good="#!/bin/sh\nflask db upgrade\nexec gunicorn app:app",
)
@on_dockerfile
def start_script_without_exec(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    launch = dockerfile.launch_argv()
    if launch is None:
        return
    for rel in _started_scripts(ctx, launch[0]):
        text = ctx.project.texts.get(rel)
        if text is None or SIGNAL_TRAP.search(text):
            continue
        yield from _unexeced_servers(rel, text.splitlines())


def _started_scripts(ctx: FileContext, argv: list[str]) -> list[str]:
    """Project scripts the launch command runs, matched by path or by unique file name."""
    scripts = [f.rel for f in ctx.project.files_of(FileKind.SCRIPT)]
    found = []
    for command in unwrap(argv):
        words = [w for w in command[1:] if not w.startswith("-")]
        name = words[0] if command[0] in SHELL_PROGRAMS and words else command[0]
        rel = _project_file(scripts, name)
        if rel:
            found.append(rel)
    return found


def _project_file(scripts: list[str], path: str) -> str | None:
    wanted = path.removeprefix("./")
    if wanted in scripts:
        return wanted
    base = wanted.rsplit("/", 1)[-1]
    matches = [rel for rel in scripts if rel.rsplit("/", 1)[-1] == base]
    return matches[0] if len(matches) == 1 else None


def _unexeced_servers(rel: str, physical: list[str]) -> Iterator[Hit]:
    lines = logical_lines("\n".join(physical))
    for index, (number, text) in enumerate(lines):
        text = text.strip()
        if not text or text.startswith("#") or text.endswith("&"):
            continue
        commands = split_shell(text)
        if len(commands) != 1 or not _starts_server(commands[0]):
            continue
        if not _runs_last([following for _, following in lines[index + 1 :]]):
            continue  # something runs after the server exits: a supervisor loop, cleanup ...
        raw = physical[number - 1]
        indent = raw[: len(raw) - len(raw.lstrip())]
        yield Hit(
            number,
            f"start script runs {commands[0][0]} without exec: the shell stays PID 1 and "
            "SIGTERM never reaches the server",
            path=rel,
            fix=Fix(
                "start the server with exec",
                (Edit(rel, number, raw, f"{indent}exec {raw.lstrip()}"),),
            ),
        )


def _runs_last(following: list[str]) -> bool:
    """True when no command of the script can run after the line these lines follow: only
    block ends, and other branches (`else`, `elif`, `;;` up to the matching fi/esac)."""
    skipping = 0
    for line in following:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        word = text.split()[0].rstrip(";")
        if skipping:
            skipping += word in ("if", "case")
            skipping -= word in ("fi", "esac")
            continue
        if word in ("else", "elif") or text.startswith(";;"):
            skipping = 1
        elif word not in BLOCK_END:
            return False
    return True


def _starts_server(words: list[str]) -> bool:
    if words[0] == "exec":
        return False
    if words[0] in ARGS_PASSTHROUGH:
        return True
    for command in unwrap(words):
        if command[0] == "celery" and {"worker", "beat"} & set(command):
            return True
        server = judge_command(command)
        if server is None:
            continue
        if server.program in ONE_SHOT_SUBCOMMANDS and server.dev_server is None:
            return server.program == "fastapi" and command[1:2] == ["run"]
        return True
    return False


# --- PR216 ------------------------------------------------------------------------------------


@rule(
    "PR216",
    "healthcheck-exec-form-shell-syntax",
    title="HEALTHCHECK in exec form uses shell syntax",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`HEALTHCHECK CMD ["curl", "-f", "http://localhost/", "||", "exit", "1"]` runs curl directly,
without a shell: `||`, `exit` and `1` become extra URLs, `$PORT` stays the literal text
`$PORT`, and `["curl -f http://..."]` names a program with spaces in its name. The probe then
fails every time (the container is unhealthy forever and orchestrators restart it in a loop)
or checks something other than what it says.
""",
    fix="""
Use the shell form for shell syntax, or drop it from the exec form.
HEALTHCHECK CMD curl -f http://127.0.0.1:8000/health || exit 1
""",
    bad='HEALTHCHECK CMD ["curl", "-f", "http://127.0.0.1:8000/health", "||", "exit", "1"]',
    good='HEALTHCHECK CMD ["curl", "-f", "http://127.0.0.1:8000/health"]',
)
@on_dockerfile
def healthcheck_exec_form_shell_syntax(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    check = last_instruction(built_lineage(dockerfile), "HEALTHCHECK")
    if check is None:
        return
    argv = _healthcheck_exec_argv(check)
    found = exec_form_shell_problem(argv) if argv else None
    if found:
        problem, always_fails = found
        yield Hit(
            check.line,
            f"HEALTHCHECK in exec form {problem}",
            severity=None if always_fails else Severity.WARNING,
        )


def _healthcheck_exec_argv(check: Instruction) -> list[str] | None:
    """The JSON array after `HEALTHCHECK [options] CMD`, or None for the shell form."""
    _, found, rest = check.value.partition("CMD")
    rest = rest.strip()
    if not found or not rest.startswith("["):
        return None
    try:
        loaded = json.loads(rest)
    except json.JSONDecodeError:
        return None
    return [str(item) for item in loaded] if isinstance(loaded, list) else None


# --- PR217 ------------------------------------------------------------------------------------

PACKAGE_INSTALL = re.compile(
    r"\b(?:apt-get|apt|apk|dnf|yum|microdnf)\s+(?:-\S+\s+)*(?:install|add)\b(?P<rest>[^;&|]*)"
)
BUILD_PACKAGE = re.compile(
    r"^(?:build-essential|build-base|gcc|g\+\+|clang|make|cmake|libc6?-dev|musl-dev|"
    r"python3?(?:\.\d+)?-dev|lib[\w.+-]+-dev|[\w.+-]+-devel)(?:[=:].*)?$"
)
BUILD_DEPS_REMOVED = re.compile(
    r"\b(?:apt-get|apt)\s+(?:-\S+\s+)*(?:purge|remove)\b|\bapk\s+(?:-\S+\s+)*del\b"
)
"""Options may come before the subcommand: `apk --purge del .build-deps` removes them too."""


@rule(
    "PR217",
    "build-tools-in-final-image",
    title="Compilers and headers ship in the final image",
    severity=Severity.INFO,
    kind=KIND,
    why="""
gcc, build-essential and `*-dev` header packages are needed to compile wheels, not to run
them. Left in the final image they add hundreds of MB to every pull and autoscale, put a
compiler at the disposal of anyone who gets code execution in the container, and fill
vulnerability reports with packages the app never uses. A builder stage compiles; the final
stage copies the result and installs only the runtime libraries (libpq5, not libpq-dev).
""",
    fix="""
Build wheels in a builder stage and install them in a clean final stage.
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
RUN pip wheel --no-cache-dir -r requirements.txt -w /wheels
FROM python:3.12-slim
COPY --from=build /wheels /wheels
""",
    bad="FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc libpq-dev",
    good="FROM python:3.12-slim\nRUN apt-get update && apt-get install -y libpq5",
)
@on_dockerfile
def build_tools_in_final_image(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for inst in instructions(built_lineage(dockerfile), "RUN"):
        if BUILD_DEPS_REMOVED.search(inst.value):
            continue
        packages = [
            word
            for match in PACKAGE_INSTALL.finditer(inst.value)
            for word in match["rest"].split()
            if BUILD_PACKAGE.match(word)
        ]
        if packages:
            yield Hit(
                inst.line,
                f"the final image keeps build-only packages {', '.join(dict.fromkeys(packages))}",
            )
