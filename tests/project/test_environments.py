"""Production, development, test and one-shot, decided once in the Project from how the files
refer to each other, and read by check's rules: each case is a small project tree under
fixtures/environments, checked for the classification with its reason, for the false findings
that are gone and for the true ones on the production files that remain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodready.check.engine import run_check
from prodready.check.model import Finding
from prodready.project import detect
from prodready.project.environments import by_name
from prodready.project.model import EnvFact, Environment, FileKind, Project
from tests.conftest import run_prodready

FIXTURES = Path(__file__).parent / "fixtures" / "environments"
PROD, DEV, TEST, ONE_SHOT = (
    Environment.PRODUCTION,
    Environment.DEVELOPMENT,
    Environment.TEST,
    Environment.ONE_SHOT,
)


def findings(root: Path) -> list[Finding]:
    result = run_check(root)
    crashed = [f.message for f in result.findings if "internal error" in f.message]
    assert not crashed, crashed
    return result.findings


def rules_on(found: list[Finding], path: str) -> set[str]:
    return {f.rule_id for f in found if f.path == path}


def env_of(project: Project, rel: str) -> tuple[Environment, str]:
    fact = project.env_of(rel)
    return fact.env, fact.reason


# --- a plain docker-compose.yml beside docker-compose.prod.yml ----------------------------------


def test_plain_compose_beside_a_prod_one_is_the_development_stack() -> None:
    project = detect(FIXTURES / "dev_compose_beside_prod")
    env, reason = env_of(project, "docker-compose.yml")
    assert env == DEV
    assert "docker-compose.prod.yml" in reason and "manage.py runserver" in reason
    assert env_of(project, "docker-compose.prod.yml")[0] == PROD
    # the Dockerfile only the development stack builds is development too
    env, reason = env_of(project, "Dockerfile")
    assert env == DEV and "service web of docker-compose.yml" in reason
    env, reason = env_of(project, "Dockerfile.prod")
    assert env == PROD and "docker-compose.prod.yml" in reason
    assert project.service_env("docker-compose.yml", "db").env == DEV
    runserver = [launch for launch in project.launches if "runserver" in launch.argv]
    assert runserver and all(launch.dev_only for launch in runserver)


def test_development_stack_loses_its_false_findings_and_keeps_real_secrets() -> None:
    found = findings(FIXTURES / "dev_compose_beside_prod")
    # no "runs as root", "no --no-cache-dir" or "dev server" on the development Dockerfile
    assert rules_on(found, "Dockerfile") == set()
    assert {"PR201", "PR207"} <= rules_on(found, "Dockerfile.prod")
    # the development compose file: only the committed real secret, not `postgres`
    on_dev = [f for f in found if f.path == "docker-compose.yml"]
    assert [(f.rule_id, f.line) for f in on_dev] == [("PR301", 11)]
    assert "PAYMENT_API_SECRET" in on_dev[0].message
    # the production stack still gets the weak default password
    assert any(
        f.rule_id == "PR301" and f.path == "docker-compose.prod.yml" and f.line == 18 for f in found
    )


# --- signals inside one compose file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "env", "reason"),
    [
        ("web", PROD, "serves production"),
        ("web-dev", DEV, "service name `web-dev`"),
        ("worker-debug", DEV, "service name `worker-debug`"),
        ("tests", TEST, "service name `tests`"),
        ("unit", TEST, "its command runs pytest"),
        ("docs", DEV, "profile `dev`"),
        ("static-init", ONE_SHOT, "restart: no, and it runs no server"),
        ("collect", ONE_SHOT, "restart: no, and it runs no server"),  # `no` unquoted: YAML false
        ("app", DEV, "over a bind mount of the source (./)"),
        ("verify", TEST, "built to Dockerfile stage `test`"),
    ],
)
def test_each_compose_service_is_classified_with_its_reason(
    service: str, env: Environment, reason: str
) -> None:
    fact = detect(FIXTURES / "service_signals").service_env("docker-compose.yml", service)
    assert fact.env == env
    assert reason in fact.reason


def test_build_target_names_the_stage_that_is_judged() -> None:
    project = detect(FIXTURES / "service_signals")
    [dockerfile] = [d for d in project.dockerfiles if d.rel == "Dockerfile"]
    assert dockerfile.target == "production"
    assert dockerfile.built is not None and dockerfile.built.alias == "production"
    stages = {
        index: fact.env for (rel, index), fact in project.stages_env.items() if rel == "Dockerfile"
    }
    assert stages == {0: PROD, 1: PROD, 2: DEV, 3: TEST}
    assert "stage name `development`" in project.stages_env[("Dockerfile", 2)].reason
    # the image's command is the production stage's, not the last stage's --reload
    [launch] = [launch for launch in project.launches if launch.rel == "Dockerfile"]
    assert "--reload" not in launch.argv and "--workers" in launch.argv


def test_services_that_do_not_serve_production_lose_their_server_findings() -> None:
    found = findings(FIXTURES / "service_signals")
    # the production stage has USER and --no-cache-dir: only its missing HEALTHCHECK (nothing in
    # compose probes it either) is left on the Dockerfile
    assert rules_on(found, "Dockerfile") == {"PR221"}
    messages = [f.message for f in found if f.path == "docker-compose.yml"]
    for name in (
        "web-dev",
        "worker-debug",
        "tests",
        "unit",
        "docs",
        "static-init",
        "collect",
        "app",
    ):
        assert not any(f"service {name} " in m or f"service {name}:" in m for m in messages)
    assert not any(f.rule_id == "PR901" for f in found)  # `app` runs --reload in development
    # the production service keeps its own
    assert any("service web has no memory limit" in m for m in messages)


# --- nginx and systemd files named for development ----------------------------------------------


def test_nginx_and_systemd_files_named_dev_or_local_are_development() -> None:
    project = detect(FIXTURES / "named_configs")
    assert env_of(project, "deploy/nginx/dev.conf") == (
        DEV,
        "`dev` in its name (deploy/nginx/dev.conf)",
    )
    assert env_of(project, "deploy/nginx/local/site.conf") == (
        DEV,
        "`local` in its path (deploy/nginx/local/site.conf)",
    )
    assert env_of(project, "deploy/systemd/app-dev.service")[0] == DEV
    assert env_of(project, "deploy/nginx/site.conf")[0] == PROD
    assert env_of(project, "deploy/systemd/app.service")[0] == PROD
    # the name of a Dockerfile tells about the service that builds it, and up to its file
    assert project.service_env("docker-compose.yml", "web") == EnvFact(
        DEV, "built from Dockerfile.dev, `dev` in its name (Dockerfile.dev)"
    )
    assert env_of(project, "docker-compose.yml") == (DEV, "none of its services reaches production")
    # an nginx config only a development service mounts
    assert env_of(project, "deploy/nginx/proxy.conf") == (
        DEV,
        "mounted only by development service proxy-dev (docker-compose.yml)",
    )

    found = findings(FIXTURES / "named_configs")
    for rel in ("deploy/nginx/dev.conf", "deploy/nginx/local/site.conf", "deploy/nginx/proxy.conf"):
        assert rules_on(found, rel) == set()
    # flask run --debug and SECRET_KEY=changeme are fine in development; a live token is not
    on_dev_unit = [(f.rule_id, f.line) for f in found if f.path == "deploy/systemd/app-dev.service"]
    assert on_dev_unit == [("PR504", 7)]
    assert rules_on(found, "Dockerfile.dev") == set()
    assert rules_on(found, "docker-compose.yml") == set()  # `postgres` as the local password
    assert "PR401" in rules_on(found, "deploy/nginx/site.conf")
    assert "PR501" in rules_on(found, "deploy/systemd/app.service")


@pytest.mark.parametrize(
    ("rel", "kind", "env"),
    [
        ("deploy/nginx/site.conf.template", FileKind.NGINX, PROD),  # the nginx image's templates
        ("deploy/ci/app.service", FileKind.SYSTEMD, TEST),
        ("docker/regtest/data/boltz-nginx/default.conf", FileKind.NGINX, TEST),  # lnbits
        ("tests/nginx/site.conf", FileKind.NGINX, TEST),
        ("tests/test_app.py", FileKind.PYTHON, TEST),
        ("docker-compose.override.yml", FileKind.COMPOSE, DEV),
        (".env.example", FileKind.ENV, DEV),
        ("requirements-dev.txt", FileKind.REQUIREMENTS, DEV),
        ("app/latest.py", FileKind.PYTHON, PROD),
        # from the ecosystem run: a test configuration, data-population scripts, docs tooling
        ("netbox/netbox/configuration_testing.py", FileKind.PYTHON, TEST),
        ("netbox/netbox/configuration.py", FileKind.PYTHON, PROD),
        ("populate.py", FileKind.PYTHON, DEV),
        ("scripts/smoketest_configuration.py", FileKind.PYTHON, TEST),
        ("app/smoke.py", FileKind.PYTHON, PROD),
        ("cms/dev_settings.py", FileKind.PYTHON, DEV),
        ("deploy/docker/local_settings.py", FileKind.PYTHON, PROD),
        ("server/scripts/seeds_load.py", FileKind.PYTHON, DEV),
        ("app/seeding.py", FileKind.PYTHON, PROD),
        ("docs/scripts/generate_api_schema.py", FileKind.PYTHON, DEV),
        ("apps/accounts/demos/python/demo.py", FileKind.PYTHON, DEV),
        ("docsearch/app.py", FileKind.PYTHON, PROD),
        ("docs/install/docker-compose.yml", FileKind.COMPOSE, PROD),  # documented production
        ("extras/docker/demo/Dockerfile", FileKind.DOCKERFILE, PROD),  # a published image
        # `dist` as the last suffix is an example to copy; as a word of a Dockerfile's name it
        # is the distribution image (searxng's container/dist.dockerfile)
        ("container/dist.dockerfile", FileKind.DOCKERFILE, PROD),
        ("Dockerfile.dist", FileKind.DOCKERFILE, DEV),
        (".env.dist", FileKind.ENV, DEV),
        ("settings.yml.dist", FileKind.COMPOSE, DEV),
    ],
)
def test_names_alone(rel: str, kind: FileKind, env: Environment) -> None:
    assert by_name(rel, kind).env == env


# --- the fact in the report ---------------------------------------------------------------------


def test_json_report_carries_each_environment_and_reason() -> None:
    result = run_prodready("check", FIXTURES / "dev_compose_beside_prod", "--format", "json")
    assert result.returncode == 1, result.stderr
    environments = json.loads(result.stdout)["environments"]
    files = {f["path"]: f for f in environments["files"]}
    assert files["docker-compose.yml"]["environment"] == "development"
    assert "docker-compose.prod.yml" in files["docker-compose.yml"]["reason"]
    assert files["Dockerfile.prod"]["environment"] == "production"
    assert files["manage.py"] == {
        "path": "manage.py",
        "kind": "python",
        "environment": "production",
        "reason": "nothing marks it as development or test",
    }
    services = {(s["path"], s["service"]): s["environment"] for s in environments["services"]}
    assert services[("docker-compose.yml", "web")] == "development"
    assert services[("docker-compose.prod.yml", "web")] == "production"
    launches = {(la["path"], la["environment"]) for la in environments["launches"]}
    assert ("Dockerfile", "development") in launches
    assert ("Dockerfile.prod", "production") in launches


def test_show_env_lists_files_services_and_stages_before_the_findings() -> None:
    result = run_prodready("check", FIXTURES / "service_signals", "--show-env", "--no-color")
    lines = result.stdout.splitlines()
    assert lines[0] == "Environments"
    table = lines[1 : lines.index("")]
    assert any(
        line.split()[:5] == ["docker-compose.yml", "service", "static-init", "one-shot", "restart:"]
        for line in table
    )
    assert any(
        line.split()[:4] == ["Dockerfile", "stage", "development", "development"] for line in table
    )
    without = run_prodready("check", FIXTURES / "service_signals", "--no-color")
    assert "Environments" not in without.stdout
    assert without.stdout.splitlines() == lines[len(table) + 2 :]


def test_readme_shows_the_real_output() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    command = (
        "check tests/project/fixtures/environments/dev_compose_beside_prod --show-env "
        "--select PR201,PR301"
    )
    start = readme.index(f"  $ prodready {command}\n")
    shown = readme[readme.index("\n", start) + 1 : readme.index("  ```\n", start)]
    result = run_prodready(*command.split(), "--no-color", cwd=Path(__file__).resolve().parents[2])
    assert shown == "".join(
        f"  {line}" if line.strip() else line for line in result.stdout.splitlines(keepends=True)
    )


def test_a_development_app_mounting_the_whole_project_leaves_nginx_configs_alone() -> None:
    project = detect(FIXTURES / "service_signals")
    assert project.service_env("docker-compose.yml", "app").env == DEV  # mounts ./ on /app
    assert env_of(project, "deploy/nginx.conf")[0] == PROD


def test_an_image_whose_command_runs_the_tests_is_a_test_image() -> None:
    project = detect(FIXTURES / "service_signals")
    assert env_of(project, "checks/Dockerfile") == (TEST, "its CMD runs pytest")
    [launch] = [launch for launch in project.launches if launch.rel == "checks/Dockerfile"]
    assert launch.env.env == TEST
    assert rules_on(findings(FIXTURES / "service_signals"), "checks/Dockerfile") == set()


FRONTEND_DEV_IMAGE = """FROM node:12
ADD package.json /package.json
RUN npm install
WORKDIR /app
ADD . /app
EXPOSE 8000
EXPOSE 35729
CMD ["npm", "start"]
"""


def test_an_image_that_exposes_livereload_beside_another_image_is_a_development_one(
    tmp_path: Path,
) -> None:
    """From the ecosystem run: Buuntu/fastapi-react's frontend image runs the React dev server
    and exposes LiveReload; PR201 and PR205 were reported on it as on a production image."""
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend/Dockerfile").write_text(FRONTEND_DEV_IMAGE)
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend/Dockerfile").write_text(
        'FROM python:3.12-slim\nRUN useradd app\nUSER app\nCMD ["gunicorn", "app:app"]\n'
    )
    project = detect(tmp_path)
    assert env_of(project, "frontend/Dockerfile") == (DEV, "it exposes LiveReload's port 35729")
    assert env_of(project, "backend/Dockerfile")[0] == PROD
    assert rules_on(findings(tmp_path), "frontend/Dockerfile") == set()


def test_the_only_image_stays_production_whatever_port_it_exposes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(FRONTEND_DEV_IMAGE.replace("35729", "5678"))
    assert env_of(detect(tmp_path), "Dockerfile")[0] == PROD
    assert "PR201" in rules_on(findings(tmp_path), "Dockerfile")


# --- development and CI folders -----------------------------------------------------------------


def test_files_in_development_and_ci_folders_are_not_production() -> None:
    """From the ecosystem run: .devcontainer images, a CI compose file, test-environment
    stacks and dev scripts got production findings (PR201, PR304, PR305, PR113)."""
    project = detect(FIXTURES / "dev_folders")
    assert env_of(project, ".devcontainer/Dockerfile") == (
        DEV,
        "in a development folder (.devcontainer/)",
    )
    assert env_of(project, ".devcontainer/docker-compose.yml")[0] == DEV
    assert env_of(project, ".ci/compose.cypress.yaml") == (TEST, "in a test folder (.ci/)")
    assert env_of(project, "scripts/test-environments/postgres/compose.yml")[0] == TEST
    assert env_of(project, "dev/codegen/gen_locales.py")[0] == DEV
    assert env_of(project, "devices/client.py")[0] == PROD  # whole words of a folder only
    # the CI stack builds the production Dockerfile, which stays production
    assert env_of(project, "Dockerfile")[0] == PROD

    found = findings(FIXTURES / "dev_folders")
    assert rules_on(found, ".devcontainer/Dockerfile") == set()
    assert rules_on(found, ".devcontainer/docker-compose.yml") == set()
    assert rules_on(found, "scripts/test-environments/postgres/compose.yml") == set()
    assert rules_on(found, "dev/codegen/gen_locales.py") == set()
    # the CI's throwaway database password is not a leak, an outside service's key is (line
    # 13); the production image keeps its own findings
    ci_secrets = [(f.rule_id, f.line) for f in found if f.path == ".ci/compose.cypress.yaml"]
    assert ci_secrets == [("PR301", 13)]
    assert "PR201" in rules_on(found, "Dockerfile")
    assert rules_on(found, "devices/client.py") == {"PR113"}


# --- what a compose file runs and what it says of itself ----------------------------------------


def test_a_compose_file_of_backing_services_only_or_that_says_development_is_not_production() -> (
    None
):
    """From the ecosystem run: a compose file with only postgres + pgadmin (the app is not in
    it) and one whose opening comment says it is for development got production findings
    (PR301, PR303, PR305, PR307, PR315). The only Dockerfile of the project, which that
    development stack builds, is still the image that ships."""
    root = FIXTURES / "backing_and_header"
    project = detect(root)
    env, reason = env_of(project, "docker/docker-compose.yml")
    assert env == DEV and "postgres, pgadmin" in reason and "not the app" in reason
    env, reason = env_of(project, "compose.yaml")
    assert env == DEV and "opening comment" in reason
    env, reason = env_of(project, "Dockerfile")
    assert env == PROD and "the project's only image" in reason

    found = findings(root)
    assert rules_on(found, "docker/docker-compose.yml") == set()
    assert "PR303" not in rules_on(found, "compose.yaml")
    assert "PR201" in rules_on(found, "Dockerfile")  # runs as root: still reported


@pytest.mark.parametrize(
    ("header", "env"),
    [
        ("# This compose file is meant for local development only\n", DEV),
        ("# The stack is for testing\n", TEST),
        ("# Production stack. For development use compose.dev.yaml\n", PROD),
    ],
)
def test_the_opening_comment_decides_only_when_it_speaks_of_the_file(
    tmp_path: Path, header: str, env: Environment
) -> None:
    (tmp_path / "compose.yaml").write_text(header + "services:\n  web:\n    image: shop:1\n")
    assert env_of(detect(tmp_path), "compose.yaml")[0] == env


# --- base settings a production module assigns again --------------------------------------------


def test_a_base_setting_the_production_module_assigns_again_is_not_reported() -> None:
    """From the ecosystem run: linkding's and bakerydemo's settings/base.py keep a development
    SECRET_KEY and DEBUG = True that prod.py / production.py replace (PR107, PR104, PR106).
    What production does not assign again still runs there and stays reported; a development
    module assigning it again changes nothing."""
    root = FIXTURES / "settings_overrides"
    project = detect(root)
    base, production = "shop/settings/base.py", "shop/settings/production.py"
    assert project.settings_overrides[(base, "SECRET_KEY")] == production
    assert project.settings_overrides[(base, "DEBUG")] == production
    assert (base, "ALLOWED_HOSTS") not in project.settings_overrides  # only dev.py sets it

    on_base = {(f.rule_id, f.line) for f in findings(root) if f.path == base}
    assert ("PR107", 1) not in on_base and ("PR104", 2) not in on_base
    assert ("PR106", 3) in on_base  # production keeps ALLOWED_HOSTS = ["*"]
    assert ("PR107", 9) in on_base  # the database password is not replaced in production


@pytest.mark.parametrize("copied", [True, False])
def test_a_production_module_the_image_copies_into_the_settings_package(
    tmp_path: Path, copied: bool
) -> None:
    """From the ecosystem run: taiga keeps its container settings in docker/config.py
    (`from .common import *`, SECRET_KEY from the environment) and its Dockerfile runs
    `cp docker/config.py settings/config.py`, so the star import copies settings/common.py and
    its literal SECRET_KEY never runs in the image. Without the copy, docker/config.py would
    import a docker/common.py that does not exist: the base value stays reported."""
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "__init__.py").write_text("")
    (tmp_path / "settings" / "common.py").write_text(
        'SECRET_KEY = "q8v#2m!x0kd7$e4w9zr&1p6t3y5u8b0n"\nDEBUG = False\n'
    )
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.py").write_text(
        "from .common import *\nimport os\n\nSECRET_KEY = os.getenv('APP_SECRET_KEY')\n"
    )
    copy = "RUN cp docker/config.py settings/config.py\n" if copied else ""
    (tmp_path / "docker" / "Dockerfile").write_text(
        f"FROM python:3.12-slim\nWORKDIR /srv\nCOPY . /srv\n{copy}"
        "ENV DJANGO_SETTINGS_MODULE=settings.config\nUSER 1000\n"
        'CMD ["gunicorn", "wsgi:application"]\n'
    )
    project = detect(tmp_path)
    key = ("settings/common.py", "SECRET_KEY")
    assert (project.settings_overrides.get(key) == "docker/config.py") is copied
    on_common = {f.rule_id for f in findings(tmp_path) if f.path == "settings/common.py"}
    assert ("PR107" in on_common) is not copied


def test_with_no_build_target_production_builds_the_last_stage_not_named_for_dev_or_tests(
    tmp_path: Path,
) -> None:
    """DefectDojo's Dockerfile ends in `release`, `development`, `django-unittests`, and no
    compose file builds it for production: the release stage is the image that ships (PR220
    reported the development stage's requirements-dev.txt)."""
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim AS base\nFROM base AS release\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCMD ["gunicorn", "app:app"]\n'
        "FROM release AS development\nRUN pip install --no-cache-dir -r requirements-dev.txt\n"
        "FROM development AS django-unittests\n"
    )
    project = detect(tmp_path)
    [dockerfile] = project.dockerfiles
    assert dockerfile.target == "release"
    assert project.stages_env[("Dockerfile", 2)].env == DEV  # development
    assert project.stages_env[("Dockerfile", 3)].env == TEST  # django-unittests
    assert "PR220" not in rules_on(findings(tmp_path), "Dockerfile")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12 AS build\nFROM python:3.12-slim\n")
    assert detect(tmp_path).dockerfiles[0].target is None  # the last stage, as Docker builds


# --- a service that says development and runs its working copy ----------------------------------


def test_a_service_that_names_development_and_mounts_its_build_context_is_development(
    tmp_path: Path,
) -> None:
    """NODE_ENV=development with the build context mounted over the image (a React dev server
    beside the API) is the development setup; the same variable without the mount is a
    production service with a development switch left on, and stays production."""
    (tmp_path / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\nCOPY . /app\nUSER nobody\n"
        'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
    )
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend" / "Dockerfile").write_text(
        'FROM node:20\nCOPY . /app\nCMD ["npm", "start"]\n'
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  web:\n    build: .\n    restart: always\n    environment:\n      APP_ENV: development\n"
        "  frontend:\n    build:\n      context: frontend\n    volumes:\n"
        "      - './frontend:/app:cached'\n    environment:\n      - NODE_ENV=development\n"
    )
    project = detect(tmp_path)
    frontend = project.services_env[("compose.yaml", "frontend")]
    assert (frontend.env, frontend.reason) == (
        DEV,
        "sets NODE_ENV=development and mounts its source over the image (./frontend)",
    )
    assert project.services_env[("compose.yaml", "web")].env == PROD
    assert env_of(project, "frontend/Dockerfile")[0] == DEV
    assert "PR201" not in rules_on(findings(tmp_path), "frontend/Dockerfile")


# --- a developer's script that runs the dev server ----------------------------------------------


def _django_with_scripts(root: Path, dockerfile_cmd: str) -> None:
    (root / "manage.py").write_text("import django\n")
    (root / "requirements.txt").write_text("django==5.2\ngunicorn==23.0.0\n")
    (root / "Dockerfile").write_text(
        f"FROM python:3.12-slim\nCOPY . /app\nUSER nobody\n{dockerfile_cmd}\n"
    )
    (root / "scripts").mkdir()
    (root / "scripts" / "run-postgres.sh").write_text(
        "#!/usr/bin/env bash\ndocker run -d -p 5432:5432 postgres\nuv run manage.py migrate\n"
        "uv run manage.py runserver\n"
    )


def test_a_dev_server_script_nothing_starts_or_names_is_development(tmp_path: Path) -> None:
    _django_with_scripts(tmp_path, 'CMD ["gunicorn", "shop.wsgi"]')
    project = detect(tmp_path)
    [launch] = [launch for launch in project.launches if launch.rel == "scripts/run-postgres.sh"]
    assert (launch.env.env, launch.env.reason) == (
        DEV,
        "runs `manage.py runserver`, a development server, from scripts/, and no other file "
        "starts or names run-postgres.sh",
    )
    assert "PR901" not in rules_on(findings(tmp_path), "scripts/run-postgres.sh")


@pytest.mark.parametrize(
    "named_by",
    [
        ("Dockerfile", 'FROM python:3.12-slim\nCOPY . /app\nCMD ["scripts/run-postgres.sh"]\n'),
        ("README.md", "# Shop\n\nIn production run `scripts/run-postgres.sh`.\n"),
    ],
)
def test_a_dev_server_script_the_image_or_the_readme_names_stays_production(
    tmp_path: Path, named_by: tuple[str, str]
) -> None:
    _django_with_scripts(tmp_path, 'CMD ["gunicorn", "shop.wsgi"]')
    (tmp_path / named_by[0]).write_text(named_by[1])
    project = detect(tmp_path)
    [launch] = [launch for launch in project.launches if launch.rel == "scripts/run-postgres.sh"]
    assert launch.env.env == PROD
    assert "PR901" in rules_on(findings(tmp_path), "scripts/run-postgres.sh")
