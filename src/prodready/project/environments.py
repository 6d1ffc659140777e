"""Which files, compose services, Dockerfile stages and launch commands serve production, and
which are development, test or one-shot jobs: decided once, here, with a reason, and read by
every command and every rule.

Names are one signal among several. The rest comes from how the files refer to each other:
which compose file builds which Dockerfile and to which stage (`build.target`), which compose
file has a production sibling (`docker-compose.prod.yml`), what a service runs (a reloading dev
server over a bind mount of the source, `pytest`, a copy that exits), its profiles, the
Dockerfile it is built from (`Dockerfile.dev`), and which proxy service mounts an nginx config.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
from collections.abc import Iterable

from prodready.project.files import ENV_EXAMPLE
from prodready.project.images import is_backing_service
from prodready.project.limits import SHELL_SPLIT_MAX_CHARS
from prodready.project.model import (
    UNCLASSIFIED,
    EnvFact,
    Environment,
    FileKind,
    LaunchCommand,
    Project,
    SourceFile,
)
from prodready.project.parsers.commands import judge, unwrap
from prodready.project.parsers.compose import ComposeFile, ComposeService
from prodready.project.parsers.dockerfile import Dockerfile
from prodready.project.parsers.envfile import EnvFile
from prodready.project.parsers.systemd import Unit

DEV, TEST, PROD, ONE_SHOT = (
    Environment.DEVELOPMENT,
    Environment.TEST,
    Environment.PRODUCTION,
    Environment.ONE_SHOT,
)

DEV_MARK = re.compile(
    r"(^|[.\-_/])(dev|devel|development|test|tests|testing|local|override|example|sample|"
    r"template|dist|ci|debug|lint|docs)([.\-_/]|$)",
    re.IGNORECASE,
)
"""Marks in a file name that say it never reaches production (compose overrides, examples)."""
CONFIG_DEV_MARK = re.compile(
    r"(^|[.\-_/])(dev|devel|development|test|tests|testing|local|debug|ci)([.\-_/]|$)",
    re.IGNORECASE,
)
"""The same for nginx and systemd files, by name or folder; `*.conf.template` is left out: it
is how the nginx image takes its production config."""
PROD_MARK = re.compile(r"(^|[.\-_])(prod|production|live|release|deploy)([.\-_]|$)", re.IGNORECASE)
SETTINGS_TAIL = re.compile(r"(?:settings|configuration).*$")
DEV_SETTINGS = re.compile(
    r"(?:^|[_/.-])(dev|develop|development|local|test|tests|testing|unittests?|ci)(?:[_/.-]|$)"
)
"""settings/dev.py, settings_local.py, settings/test.py, configuration_testing.py: not what
production loads."""
DEV_SETTINGS_FILE = re.compile(r"^(dev|development|test|testing)_settings\.py$")
"""mediacms's cms/dev_settings.py (not local_settings.py: often the production override)."""
SMOKE_TEST = re.compile(r"^smoke_?tests?[_.]")
"""netbox's scripts/smoketest_configuration.py: settings for a CI smoke test."""
DATA_SCRIPT = re.compile(r"^(populate|fake|faker|fake_data|seeds?(_\w+)?)\.py$")
"""populate.py, seeds_load.py: fill a database with made-up users for a developer."""
MANAGEMENT_COMMAND = re.compile(r"(?:^|/)management/commands/(?!__init__\.py$)[^/]+\.py$")
"""`app/management/commands/import_data.py`: `manage.py import_data` runs it in a process of
its own, once; no server worker imports it."""
TEST_WORD = re.compile(r"^(test|tests|testing|unittests?|ci|e2e|integration)$", re.IGNORECASE)
DEV_WORD = re.compile(r"^(dev|devel|develop|development|local|debug)$", re.IGNORECASE)
WORD_SPLIT = re.compile(r"[.\-_]")
ONE_SHOT_NAME = re.compile(
    r"migrat|^init|setup|seed|collectstatic|createsuperuser|backup", re.IGNORECASE
)
DEV_FOLDER_WORDS = frozenset({"dev", "devel", "develop", "development", "devcontainer"})
SCRIPT_FOLDER_WORDS = frozenset({"docs", "demo", "demos"})
"""Folders whose Python is tooling or a demonstration (docs/scripts/, demos/python/). Not
their deployment files: docs/install/compose.yml is often the documented production stack."""
TEST_FOLDER_WORDS = frozenset(
    {"test", "tests", "testing", "e2e", "ci", "circleci", "regtest", "cypress"}
)
"""Words of a folder name (`.devcontainer`, `.ci`, `test-environments`, `docker/regtest`)
that say everything below it is a developer's or CI's, whatever the files are named."""
CI_FOLDERS = frozenset({".github", ".gitlab"})
TEST_RUNNERS = frozenset({"pytest", "py.test", "tox", "nox", "behave", "coverage"})
RESTART_ONCE = frozenset({"no", "on-failure"})
DEVELOPMENT_HEADER = re.compile(
    r"\b(?:this|the)\s+(?:[\w-]+\s+){0,2}(?:file|stack|setup)\s+is\s+(?:only\s+)?(?:meant\s+)?"
    r"for\s+(?:the\s+)?(?:local\s+)?(development|dev|testing)\b",
    re.IGNORECASE,
)
"""What a compose file's opening comment says of itself: `This configuration file is for the
**development** setup.`"""


# --- by name ------------------------------------------------------------------------------------


def by_name(rel: str, kind: FileKind) -> EnvFact:
    """What the path alone says (Python files, dependency sets and scripts have no other
    signal; for deployment files `classify` weighs it with the rest)."""
    lower = rel.lower()
    name = lower.rsplit("/", 1)[-1]
    shown = rel.rsplit("/", 1)[-1]
    folder = dev_folder(rel)
    if kind == FileKind.PYTHON:
        if (folder and folder.env == TEST) or name.startswith("test_") or name.endswith("_test.py"):
            return EnvFact(TEST, "a test module")
        if name == "conftest.py":
            return EnvFact(TEST, "pytest's conftest.py")
        if SMOKE_TEST.match(name):
            return EnvFact(TEST, f"{shown} configures a smoke test")
        if DATA_SCRIPT.match(name):
            return EnvFact(DEV, f"{shown} fills a database with made-up data")
        if MANAGEMENT_COMMAND.search(lower):
            return EnvFact(
                ONE_SHOT, "a Django management command: run from the command line, not by workers"
            )
        for part in rel.split("/")[:-1]:
            if set(WORD_SPLIT.split(part.lower())) & SCRIPT_FOLDER_WORDS:
                return EnvFact(DEV, f"in {part}/, tooling or a demonstration")
        if match := DEV_SETTINGS_FILE.match(name):
            env = TEST if match[1].startswith("test") else DEV
            return EnvFact(env, f"a `{match[1]}` settings module")
        tail = SETTINGS_TAIL.search(lower)
        if tail and (match := DEV_SETTINGS.search(tail[0])):
            env = TEST if match[1].startswith("test") or match[1] == "ci" else DEV
            return EnvFact(env, f"a `{match[1]}` settings module")
        return folder or UNCLASSIFIED
    if kind == FileKind.ENV:
        if ENV_EXAMPLE.search(name):
            return EnvFact(DEV, f"{shown} is an example of the settings, not the settings")
        return _marked(DEV_MARK, name.removeprefix(".env"), shown)
    if kind in (FileKind.COMPOSE, FileKind.DOCKERFILE, FileKind.REQUIREMENTS, FileKind.SCRIPT):
        stem = name.replace("docker-compose", "").replace("compose", "").replace("dockerfile", "")
        return folder or _marked(DEV_MARK, stem, shown)
    if kind in (FileKind.NGINX, FileKind.SYSTEMD):
        test_folder = folder if folder and folder.env == TEST else None
        return test_folder or _marked(CONFIG_DEV_MARK, lower, rel)
    return folder or UNCLASSIFIED


def dev_folder(rel: str) -> EnvFact | None:
    """The development or test folder the file lies in (`.devcontainer/`, `.ci/`,
    `scripts/test-environments/`, `docker/regtest/`, `tests/`), if any. Whole words of the
    folder name only: `devices/` or `contest/` say nothing."""
    for part in rel.split("/")[:-1]:
        lower = part.lower()
        if lower in CI_FOLDERS:
            return EnvFact(TEST, f"in {part}/, the CI's folder")
        words = set(WORD_SPLIT.split(lower.lstrip(".")))
        if words & TEST_FOLDER_WORDS:
            return EnvFact(TEST, f"in a test folder ({part}/)")
        if words & DEV_FOLDER_WORDS:
            return EnvFact(DEV, f"in a development folder ({part}/)")
    return None


def _marked(pattern: re.Pattern[str], text: str, shown: str) -> EnvFact:
    match = next((m for m in pattern.finditer(text) if not _distribution(m, text)), None)
    if match is None:
        return UNCLASSIFIED
    word = match[2].lower()
    env = TEST if word in ("test", "tests", "testing", "ci") else DEV
    if word == "override":
        return EnvFact(DEV, f"{shown} is a compose override (merged over the base locally)")
    where = "path" if "/" in text[match.end(2) :] else "name"
    return EnvFact(env, f"`{word}` in its {where} ({shown})")


def _distribution(match: re.Match[str], text: str) -> bool:
    """`dist` says "an example to copy" only as the last suffix (`settings.py.dist`,
    `.env.dist`); elsewhere it is the distribution build: searxng's `dist.dockerfile` builds
    the image it publishes."""
    return match[2].lower() == "dist" and text[match.end(2) :] != ""


# --- the graph ----------------------------------------------------------------------------------


def classify(project: Project) -> None:
    """Sets the environment of every file, compose service and Dockerfile stage, and the
    stage each Dockerfile is built to for production. Run by detect() after parsing."""
    facts = {source.rel: by_name(source.rel, source.kind) for source in project.files}
    look = _Lookups.of(project)
    for env_file in project.env_files:
        if facts[env_file.rel].production and (said := _env_file_says(env_file)) is not None:
            facts[env_file.rel] = said
    for compose in project.compose_files:
        facts[compose.rel] = _compose_fact(project, compose, facts, look)
    for compose in project.compose_files:
        for service in compose.services:
            project.services_env[(compose.rel, service.name)] = _service_fact(
                compose, service, facts, look
            )
        facts[compose.rel] = _all_services(project, compose, facts[compose.rel])
    for dockerfile in project.dockerfiles:
        facts[dockerfile.rel] = _dockerfile_fact(project, dockerfile, facts[dockerfile.rel], look)
        if dockerfile.target is None:
            dockerfile.target = _last_production_stage(dockerfile)
        _stage_facts(project, dockerfile, facts[dockerfile.rel])
    for source in project.files:
        if source.kind == FileKind.NGINX and facts[source.rel].production:
            facts[source.rel] = _mounted_by(project, source, facts[source.rel])
    for unit in project.systemd_units:
        if facts[unit.rel].production and (job := _one_shot_unit(unit)) is not None:
            facts[unit.rel] = job
    project.replace_files(
        [
            dataclasses.replace(source, env=facts[source.rel])
            if facts[source.rel] != source.env
            else source
            for source in project.files
        ]
    )


@dataclasses.dataclass
class _Lookups:
    """What classify() asks per compose service and per Dockerfile, gathered once: each was a
    scan of every module, service or compose file per question (quadratic in services)."""

    source_folders: set[str]
    """Every Python module's path and each folder above it ("." when there is any)."""
    waited_to_complete: dict[tuple[str, str], str]
    """(compose file, service) -> the first service that waits for it to complete."""
    builders: dict[str, list[tuple[ComposeFile, ComposeService]]]
    """Dockerfile -> the compose services built from it, in file order."""
    compose_folders: dict[str, list[ComposeFile]]
    plain_dockerfiles: set[str]
    """Dockerfiles whose path says nothing of development or test."""

    @classmethod
    def of(cls, project: Project) -> _Lookups:
        look = cls(set(), {}, {}, {}, set())
        for dockerfile in project.dockerfiles:
            if by_name(dockerfile.rel, FileKind.DOCKERFILE).production:
                look.plain_dockerfiles.add(dockerfile.rel)
        for module in project.modules:
            look.source_folders.add(module)
            folder = posixpath.dirname(module)
            while folder and folder not in look.source_folders:
                look.source_folders.add(folder)
                folder = posixpath.dirname(folder)
        if project.modules:
            look.source_folders.add(".")
        for compose in project.compose_files:
            look.compose_folders.setdefault(posixpath.dirname(compose.rel), []).append(compose)
            for other in compose.services:
                deps = other.data.get("depends_on")
                for name, spec in deps.items() if isinstance(deps, dict) else ():
                    if isinstance(spec, dict):
                        completed = spec.get("condition") == "service_completed_successfully"
                        if completed:
                            look.waited_to_complete.setdefault((compose.rel, name), other.name)
                rel = other.dockerfile_rel(compose.rel)
                if rel:
                    look.builders.setdefault(rel, []).append((compose, other))
        return look


def _compose_fact(
    project: Project, compose: ComposeFile, facts: dict[str, EnvFact], look: _Lookups
) -> EnvFact:
    """A plain compose file beside a production one (`docker-compose.prod.yml`) is the
    development stack when what it runs says so (a dev server, the source mounted in)."""
    named = facts[compose.rel]
    if not named.production:
        return named
    folder = posixpath.dirname(compose.rel)
    name = posixpath.basename(compose.rel)
    if PROD_MARK.search(name.replace("docker-compose", "").replace("compose", "")):
        return EnvFact(PROD, f"`prod` in its name ({name})")
    if said := _header_says(project.texts.get(compose.rel, "")):
        env = TEST if said == "testing" else DEV
        return EnvFact(env, f"its opening comment says it is for {said}")
    if compose.services and all(
        "build" not in service.data and is_backing_service(service.image)
        for service in compose.services
    ):
        names = ", ".join(service.name for service in compose.services[:3])
        return EnvFact(
            DEV, f"it runs only services the app uses ({names}), not the app: a local stack"
        )
    siblings = [
        other.rel
        for other in look.compose_folders[folder]
        if other is not compose and PROD_MARK.search(posixpath.basename(other.rel))
    ]
    if siblings:
        for service in compose.services:
            signal = _dev_signal(compose, service, facts, look)
            if signal:
                sibling = posixpath.basename(siblings[0])
                return EnvFact(
                    DEV, f"{sibling} beside it is the production stack, and {service.name} {signal}"
                )
    return named


ENVIRONMENT_VARIABLE = re.compile(
    r"^(?:[A-Z]+_)?(?:ENV|ENVIRONMENT|STAGE|RUN_MODE)$|^(?:FLASK|FASTAPI|DJANGO|APP|NODE)_ENV$"
)
"""Variables through which an env file names the environment it is for (FASTAPI_ENV,
APP_ENV, ENVIRONMENT, DJANGO_ENV)."""


def _env_file_says(env_file: EnvFile) -> EnvFact | None:
    """An env file that sets its environment to development, local or test is that
    environment's settings, whatever the file is called (full-stack-fastapi-template's `.env`
    opens with FASTAPI_ENV=development). Not when another of its values names production
    (`DJANGO_SETTINGS_MODULE=shop.settings.production` beside APP_ENV=development): that is a
    production file with a development switch left on, which PR702 reports."""
    if any(PROD_MARK.search(variable.value) for variable in env_file.variables):
        return None
    said = _environment_named((variable.name, variable.value) for variable in env_file.variables)
    return EnvFact(said[0], f"it sets {said[1]}") if said else None


def _environment_named(
    variables: Iterable[tuple[str, str | None]],
) -> tuple[Environment, str] | None:
    """The development or test environment the first variable naming one (APP_ENV, NODE_ENV,
    ENVIRONMENT ...) sets, as (environment, `NAME=value`)."""
    for name, raw in variables:
        if raw and ENVIRONMENT_VARIABLE.match(name):
            value = raw.strip().strip("\"'")
            if (env := _word_env(value)) is not None:
                return env, f"{name}={value}"
    return None


def _header_says(text: str) -> str | None:
    """`development` or `testing` when the comment block a file opens with says it is for that."""
    header = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        header.append(stripped.lstrip("#").replace("*", ""))
    match = DEVELOPMENT_HEADER.search(" ".join(header))
    return (
        None if match is None else ("testing" if match[1].lower() == "testing" else "development")
    )


def _all_services(project: Project, compose: ComposeFile, fact: EnvFact) -> EnvFact:
    """A compose file none of whose services reaches production is not production either."""
    services = [project.services_env[(compose.rel, s.name)] for s in compose.services]
    if not fact.production or not services or any(s.deployed for s in services):
        return fact
    env = TEST if all(s.env == TEST for s in services) else DEV
    return EnvFact(env, "none of its services reaches production")


def _service_fact(
    compose: ComposeFile, service: ComposeService, facts: dict[str, EnvFact], look: _Lookups
) -> EnvFact:
    file_fact = facts[compose.rel]
    if not file_fact.production:
        return EnvFact(file_fact.env, f"in {compose.rel}, a {file_fact.env.value} compose file")
    words = WORD_SPLIT.split(service.name)
    if any(TEST_WORD.match(w) for w in words):
        return EnvFact(TEST, f"service name `{service.name}`")
    if any(DEV_WORD.match(w) for w in words):
        return EnvFact(DEV, f"service name `{service.name}`")
    for profile in service.profiles:
        if TEST_WORD.match(profile) or DEV_WORD.match(profile):
            env = TEST if TEST_WORD.match(profile) else DEV
            return EnvFact(env, f"only started with profile `{profile}`")
    target = service.build_target
    if target and (env := _word_env(target)) is not None:
        return EnvFact(env, f"built to Dockerfile stage `{target}`")
    if (built := _built_for(service, compose, facts)) is not None:
        return built
    argv = _service_argv(service)
    if (runner := _test_runner(argv)) is not None:
        return EnvFact(TEST, f"its command runs {runner}")
    dev = _dev_server(argv)
    mount = _source_mount(compose, service, look)
    if dev and mount:
        return EnvFact(DEV, f"runs {dev} over a bind mount of the source ({mount})")
    live = mount or _context_mount(compose, service)
    if live and (said := _environment_named((n, v) for n, v, _ in service.environment())):
        return EnvFact(said[0], f"sets {said[1]} and mounts its source over the image ({live})")
    if "develop" in service.data:
        return EnvFact(DEV, "has `develop:` (compose watch syncs the source into it)")
    if (exits := _exits(compose, service, look)) and not _serves(argv):
        return EnvFact(ONE_SHOT, f"{exits}, and it runs no server")
    return EnvFact(PROD, f"a service of {compose.rel}, which serves production")


def _word_env(text: str) -> Environment | None:
    words = WORD_SPLIT.split(text)
    if any(TEST_WORD.match(w) for w in words):
        return TEST
    if any(DEV_WORD.match(w) for w in words):
        return DEV
    return None


def _built_for(
    service: ComposeService, compose: ComposeFile, facts: dict[str, EnvFact]
) -> EnvFact | None:
    """A service built from a Dockerfile whose name says development (Dockerfile.dev) is."""
    rel = service.dockerfile_rel(compose.rel)
    fact = facts.get(rel) if rel else None
    if fact is None or fact.production:
        return None
    return EnvFact(fact.env, f"built from {rel}, {fact.reason}")


def _dev_signal(
    compose: ComposeFile, service: ComposeService, facts: dict[str, EnvFact], look: _Lookups
) -> str | None:
    """Why a service looks like a developer's: a dev server, the source mounted in, watch, a
    development Dockerfile."""
    if (built := _built_for(service, compose, facts)) is not None:
        return built.reason
    argv = _service_argv(service)
    if dev := _dev_server(argv):
        return f"runs {dev}"
    if mount := _source_mount(compose, service, look):
        return f"bind-mounts the source ({mount})"
    if "develop" in service.data:
        return "has `develop:` (compose watch)"
    if (runner := _test_runner(argv)) is not None:
        return f"runs {runner}"
    return None


def _service_argv(service: ComposeService) -> list[str]:
    return (service.command_argv("entrypoint") or []) + (service.command_argv("command") or [])


def _simple_commands(argv: list[str]) -> Iterable[list[str]]:
    return unwrap(list(argv)) if argv else []


def _dev_server(argv: list[str]) -> str | None:
    for simple in _simple_commands(argv):
        server = judge(simple)
        if server is not None and server.dev_server:
            return f"`{' '.join(simple)[:60]}`"
    return None


def _one_shot_unit(unit: Unit) -> EnvFact | None:
    """A `Type=oneshot` service that starts no server (a seed, a migration, a backup): it
    runs once to the end and listens on nothing."""
    if unit.value("Service", "Type").strip() != "oneshot":
        return None
    command = unit.value("Service", "ExecStart").lstrip("@-:+!")
    if len(command) > SHELL_SPLIT_MAX_CHARS:
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or _serves(argv):
        return None
    return EnvFact(ONE_SHOT, "a Type=oneshot service that starts no server")


def _serves(argv: list[str]) -> bool:
    return any(judge(simple) is not None for simple in _simple_commands(argv))


def _test_runner(argv: list[str]) -> str | None:
    for simple in _simple_commands(argv):
        words = [posixpath.basename(w) for w in simple[:4]]
        for index, word in enumerate(words):
            django_test = word == "test" and index > 0 and words[index - 1] == "manage.py"
            if word in TEST_RUNNERS or django_test:  # unwrap() made `python -m pytest` pytest
                return " ".join(simple[: index + 1])
    return None


def _source_mount(compose: ComposeFile, service: ComposeService, look: _Lookups) -> str | None:
    """The bind mount that puts the project's Python source into the container, if any."""
    folder = posixpath.dirname(compose.rel)
    for host, _ in service.bind_sources():
        rel = posixpath.normpath(posixpath.join(folder, host))
        if not host.startswith(".") or rel.startswith(".."):
            continue  # an absolute host path or one outside the project: not its source
        if rel in look.source_folders:
            return host
    return None


def _context_mount(compose: ComposeFile, service: ComposeService) -> str | None:
    """The bind mount of the service's own build context (`build: frontend` with
    `./frontend:/app`): the code baked into the image is replaced by the working copy."""
    context = service.build_context_rel(compose.rel)
    if context is None:
        return None
    folder = posixpath.dirname(compose.rel)
    for host, _ in service.bind_sources():
        if host.startswith(".") and posixpath.normpath(posixpath.join(folder, host)) == context:
            return host
    return None


def _exits(compose: ComposeFile, service: ComposeService, look: _Lookups) -> str | None:
    """What says a service is a job meant to exit: its restart policy, a service waiting
    for it to complete, or a job's name (migrate, init, seed ...)."""
    raw = service.data.get("restart")
    restart = "no" if raw is False else str(raw or "").strip().lower()  # `no` unquoted
    if restart in RESTART_ONCE:
        return f"restart: {restart}"
    if (other := look.waited_to_complete.get((compose.rel, service.name))) is not None:
        return f"{other} waits for it to complete"
    if ONE_SHOT_NAME.search(service.name):
        return f"service name `{service.name}`"
    return None


def _dockerfile_fact(
    project: Project, dockerfile: Dockerfile, named: EnvFact, look: _Lookups
) -> EnvFact:
    """A Dockerfile is what the compose services that build it are: production when a
    production service builds it (to the stage it names), else the environment of those that
    do. One whose name says development keeps that; one no compose file builds is a test
    image when its command runs a test runner, else production."""
    if not named.production:
        return named
    builders = [
        (compose, service, project.service_env(compose.rel, service.name))
        for compose, service in look.builders.get(dockerfile.rel, [])
        if not _from_dev_folder(compose.rel, dockerfile.rel)
    ]
    builders.sort(key=lambda builder: not builder[2].production)
    for compose, service, fact in builders:
        if fact.deployed:
            if service.build_target and dockerfile.stage_named(service.build_target):
                dockerfile.target = service.build_target
            return EnvFact(PROD, f"built by service {service.name} of {compose.rel}")
    if builders:
        compose, service, fact = builders[0]
        if not service.build_target and _the_only_image(project, dockerfile, look):
            return EnvFact(
                PROD,
                f"the project's only image (built locally by {fact.env.value} service"
                f" {service.name} of {compose.rel})",
            )
        return EnvFact(
            fact.env, f"built only by {fact.env.value} service {service.name} of {compose.rel}"
        )
    launch = dockerfile.launch_argv()
    if launch and (runner := _test_runner(launch[0])) is not None:
        return EnvFact(TEST, f"its {launch[1].keyword} runs {runner}")
    tool = _exposes_development_port(dockerfile)
    if tool is not None and not _the_only_image(project, dockerfile, look):
        return EnvFact(DEV, f"it exposes {tool}")
    return named


DEVELOPMENT_PORTS = {
    35729: "LiveReload's port 35729",
    5678: "debugpy's port 5678",
    9229: "the Node.js inspector's port 9229",
}
"""Ports that only a developer's tools listen on: an image that publishes one is built to
be developed in (Buuntu/fastapi-react's frontend image runs the React dev server and exposes
LiveReload), not to serve. The project's only image ships whatever it exposes, so it stays
production and its findings are reported."""


def _exposes_development_port(dockerfile: Dockerfile) -> str | None:
    tools = (DEVELOPMENT_PORTS.get(port) for port, _ in dockerfile.exposed_ports())
    return next((tool for tool in tools if tool), None)


def _the_only_image(project: Project, dockerfile: Dockerfile, look: _Lookups) -> bool:
    """No other Dockerfile of the project could build the production image: a development
    compose file building this one builds what ships (a `Dockerfile.prod` beside it would not)."""
    return not any(
        other is not dockerfile and other.rel in look.plain_dockerfiles
        for other in project.dockerfiles
    )


def _from_dev_folder(compose_rel: str, dockerfile_rel: str) -> bool:
    """A CI or devcontainer compose file (`.ci/compose.yml`) that builds the project's own
    Dockerfile from outside its folder tests or develops that image; it does not make the
    image a test one."""
    return dev_folder(compose_rel) is not None and dev_folder(dockerfile_rel) is None


def _last_production_stage(dockerfile: Dockerfile) -> str | None:
    """With no build target known, production builds the last stage, unless the file ends in
    stages named for development or tests (DefectDojo's `release`, then `development`, then
    `django-unittests`): then the last stage before them."""
    stages = dockerfile.stages
    if not stages or not stages[-1].alias or _word_env(stages[-1].alias) is None:
        return None
    for stage in reversed(stages):
        if stage.alias and _word_env(stage.alias) is None:
            return stage.alias
    return None


def _stage_facts(project: Project, dockerfile: Dockerfile, file_fact: EnvFact) -> None:
    built = dockerfile.built
    production = set(id(s) for s in dockerfile.lineage(built)) if built else set()
    for stage in dockerfile.stages:
        if not file_fact.production:
            fact = file_fact
        elif id(stage) in production:
            what = "the stage production builds" if stage is built else "a stage it is built from"
            fact = EnvFact(PROD, what)
        elif stage.alias and (env := _word_env(stage.alias)) is not None:
            fact = EnvFact(env, f"stage name `{stage.alias}`")
        else:
            built_name = built.alias or built.index if built else "?"
            fact = EnvFact(DEV, f"production builds stage {built_name}, not from this one")
        project.stages_env[(dockerfile.rel, stage.index)] = fact


def _mounted_by(project: Project, source: SourceFile, named: EnvFact) -> EnvFact:
    """An nginx config that only development proxy services mount (the file, or its folder)
    is development too; an app service mounting the whole project says nothing about it. Env
    files keep what their names say: a committed secret in one matters wherever it is read."""
    users: list[tuple[ComposeFile, ComposeService]] = []
    for compose in project.compose_files:
        folder = posixpath.dirname(compose.rel)
        for service in compose.services:
            if not service.is_proxy:
                continue
            for path in [host for host, _ in service.bind_sources()]:
                rel = posixpath.normpath(posixpath.join(folder, path))
                if rel == source.rel or (rel != "." and source.rel.startswith(rel + "/")):
                    users.append((compose, service))
    facts = [project.service_env(c.rel, s.name) for c, s in users]
    if not users or any(f.deployed for f in facts):
        return named
    compose, service = users[0]
    return EnvFact(
        facts[0].env, f"mounted only by {facts[0].env.value} service {service.name} ({compose.rel})"
    )


# --- launches -----------------------------------------------------------------------------------


def launch_fact(project: Project, launch: LaunchCommand) -> EnvFact:
    """A launch runs where its file (or compose service) runs, unless the command itself says
    otherwise: a test runner, a Procfile `release` task. `launch.servers` is already judged."""
    if launch.source == "compose":
        where = project.service_env(launch.rel, launch.context)
    else:
        where = project.env_of(launch.rel)
    if not where.deployed:
        return where
    if (runner := _test_runner(list(launch.argv))) is not None:
        return EnvFact(TEST, f"runs {runner}")
    if launch.source == "procfile" and launch.context == "release":
        return EnvFact(ONE_SHOT, "a Procfile release task runs once per deploy")
    if launch.source == "script" and (env := _word_env(launch.context)) is not None:
        return EnvFact(env, f"in the `{launch.context})` branch of the script's case")
    if launch.source == "script" and (helper := _unstarted_dev_script(project, launch)):
        return helper
    return where


DOCUMENTS = (
    "README*", "Makefile", "justfile", "Taskfile.y*ml", "docs/**/*.md", "docs/**/*.rst",
    ".github/workflows/*.y*ml",
)  # fmt: skip
"""Where a script that deploy files do not start may still be named as the way to run the app."""
MAX_DOCUMENTS = 500
TOOLING_FOLDERS = frozenset({"scripts", "script", "tools", "tooling", "utils", "hack"})
"""Folders of developer tooling. Not bin/: images start their entrypoints from there."""


def _unstarted_dev_script(project: Project, launch: LaunchCommand) -> EnvFact | None:
    """A script in a tooling folder (scripts/, tools/ ...) that runs a development server, and
    that no other file of the project starts or names (no Dockerfile, compose file, unit,
    Procfile, script, Makefile, README, docs page or CI workflow), is a developer's helper. A
    deploy/start.sh is not in such a folder and stays production whatever names it."""
    folders = launch.rel.lower().split("/")[:-1]
    tooling = next((part for part in folders if part in TOOLING_FOLDERS), None)
    if tooling is None or not any(server.dev_server for server in launch.servers):
        return None
    name = posixpath.basename(launch.rel)
    if any(name in text for rel, text in project.texts.items() if rel != launch.rel):
        return None
    documents = (path for pattern in DOCUMENTS for path in project.root.glob(pattern))
    for count, path in enumerate(documents):
        if count >= MAX_DOCUMENTS:
            return None  # too many to read: stay with production
        try:
            if path.is_file() and name in path.read_text(errors="replace"):
                return None
        except OSError:
            continue
    command = " ".join(launch.argv)[:60]
    return EnvFact(
        DEV,
        f"runs `{command}`, a development server, from {tooling}/, and no other file starts or "
        f"names {name}",
    )
