"""Edge cases of the compose rules that the bad/good fixtures do not pin down."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.rules.compose import interpolation_defaults, url_password
from tests.check.helpers import findings_for


def lines_reported(tmp_path: Path, rule_id: str, compose: str) -> list[int]:
    (tmp_path / "compose.yaml").write_text(compose)
    return sorted(f.line for f in findings_for(tmp_path, rule_id))


def test_escaped_interpolation_is_not_a_default() -> None:
    assert list(interpolation_defaults("$${DB_PASSWORD:-postgres}")) == []
    assert list(interpolation_defaults("x ${A:-1} ${B-2} ${C:?e}")) == [("A", "1"), ("B", "2")]


def test_url_password() -> None:
    assert url_password("postgresql+psycopg://app:s3cr3t@db:5432/app") == "s3cr3t"
    assert url_password("redis://cache:6379/0") is None
    assert url_password("https://example.com/a@b") is None


def test_pr301_skips_references_and_pass_through(tmp_path: Path) -> None:
    compose = """services:
  web:
    build: .
    environment:
      - SECRET_KEY
      - API_TOKEN=$API_TOKEN
      - DB_PASSWORD_FILE=/run/secrets/db_password
      - REDIS_URL=redis://cache:6379/0
"""
    assert lines_reported(tmp_path, "PR301", compose) == []


def test_pr301_judges_by_leakage_not_strength(tmp_path: Path) -> None:
    """A placeholder is the value production runs with; a strong literal is still committed;
    a password equal to its user name is a default."""
    (tmp_path / "compose.yaml").write_text(
        """services:
  web:
    build: .
    environment:
      STRIPE_API_KEY: <your-stripe-key>
      JWT_SECRET: Vq7x-Rt2m-Lp9k-Wz4n-Hc8d
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: shopkeeper
      POSTGRES_PASSWORD: shopkeeper
"""
    )
    found = {f.line: f for f in findings_for(tmp_path, "PR301")}
    assert sorted(found) == [5, 6, 11]
    assert all(f.severity == "error" for f in found.values())
    assert "placeholder" in found[5].message and "publicly known" in found[5].message
    assert "real-looking credential" in found[6].message and "Vq7x" not in found[6].message
    assert "equals its user" in found[11].message


def test_pr301_list_form_and_never_prints_the_value(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    build: .\n"
        "  db:\n    image: mysql:8.4\n    environment:\n      - MYSQL_ROOT_PASSWORD=root\n"
    )
    (found,) = findings_for(tmp_path, "PR301")
    assert found.line == 7
    assert "=root" not in found.message and "root " not in found.message.split(":", 1)[1]


def test_pr302_ignores_required_and_strong_defaults(tmp_path: Path) -> None:
    compose = """services:
  web:
    build: .
    environment:
      DB_PASSWORD: ${DB_PASSWORD?required}
      SECRET_KEY: ${SECRET_KEY:-}
      LOG_LEVEL: ${LOG_LEVEL:-info}
"""
    assert lines_reported(tmp_path, "PR302", compose) == []


def test_pr302_scans_command_strings(tmp_path: Path) -> None:
    compose = """services:
  worker:
    build: .
    command: ["celery", "-b", "amqp://guest:${RABBITMQ_PASSWORD:-guest}@mq//", "worker"]
"""
    assert lines_reported(tmp_path, "PR302", compose) == [4]


@pytest.mark.parametrize(
    ("ports", "reported"),
    [
        ('["127.0.0.1:6379:6379"]', False),
        ('["6379"]', True),  # container port only: a random host port on all interfaces
        ('["6379:6379"]', True),
        ('["0.0.0.0:6379:6379"]', True),
        ('["${REDIS_PORT:-6379}:6379"]', True),
    ],
)
def test_pr303_ports(tmp_path: Path, ports: str, reported: bool) -> None:
    compose = (
        f"services:\n  web:\n    build: .\n  cache:\n    image: redis:7.2\n    ports: {ports}\n"
    )
    assert bool(lines_reported(tmp_path, "PR303", compose)) is reported


def test_pr304_skips_one_shot_jobs(tmp_path: Path) -> None:
    compose = """services:
  web:
    build: .
    restart: unless-stopped
    depends_on:
      setup-db:
        condition: service_completed_successfully
  setup-db:
    build: .
    command: flask db upgrade
  mailhog:
    image: mailhog/mailhog:v1.0.1
    profiles: [debug]
"""
    assert lines_reported(tmp_path, "PR304", compose) == []


def test_pr305_ignores_the_name_of_a_built_image(tmp_path: Path) -> None:
    compose = "services:\n  web:\n    build: .\n    image: registry.example.com/shop/web\n"
    assert lines_reported(tmp_path, "PR305", compose) == []


def test_rules_skip_dev_overrides(tmp_path: Path) -> None:
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  db:\n    image: postgres\n    ports: ['5432:5432']\n"
        "    environment:\n      POSTGRES_PASSWORD: postgres\n"
    )
    for rule_id in ("PR301", "PR303", "PR305"):
        assert findings_for(tmp_path, rule_id) == []


APP_DOCKERFILE = (
    "FROM python:3.12-slim\nRUN useradd app\nUSER app\n"
    "HEALTHCHECK CMD python -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:8000/')\"\n"
    'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
)


def test_healthcheck_declared_in_the_image_counts(tmp_path: Path) -> None:
    """PR310 accepts the HEALTHCHECK of the Dockerfile a service is built from; PR308 then
    wants `condition: service_healthy` for it like for a compose healthcheck."""
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(APP_DOCKERFILE)
    compose = """services:
  web:
    build: {context: ., dockerfile: docker/Dockerfile}
  plain:
    build: .
  proxy:
    image: nginx:1.27
    depends_on: [web, plain]
"""
    assert lines_reported(tmp_path, "PR310", compose) == [4]
    assert lines_reported(tmp_path, "PR308", compose) == [8]
    (tmp_path / "docker" / "Dockerfile").write_text(APP_DOCKERFILE + "HEALTHCHECK NONE\n")
    assert lines_reported(tmp_path, "PR310", compose) == [2, 4]


def test_database_image_built_from_the_project_is_not_an_app(tmp_path: Path) -> None:
    """`build:` of a Dockerfile `FROM postgres` (init scripts added) is no app: no memory limit
    or log rotation asked; an app built beside it still is."""
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "Dockerfile").write_text(
        "ARG PG=16.6\nFROM docker.io/postgres:${PG}-bookworm\n"
        "COPY init.sql /docker-entrypoint-initdb.d/\n"
    )
    compose = """services:
  db:
    build: ./db
    restart: unless-stopped
  web:
    build: .
    restart: unless-stopped
"""
    assert lines_reported(tmp_path, "PR307", compose) == [5]
    assert lines_reported(tmp_path, "PR315", compose) == [5]


def test_explicit_depends_on_condition_is_a_choice(tmp_path: Path) -> None:
    compose = """services:
  web:
    build: .
    depends_on:
      cache: {condition: service_started, required: false}
  worker:
    build: .
    depends_on:
      cache: {restart: true}
  cache:
    image: redis:7.4
    healthcheck: {test: [CMD, redis-cli, ping]}
"""
    assert lines_reported(tmp_path, "PR308", compose) == [8]


def test_pr301_url_under_a_secret_name_is_judged_as_a_url(tmp_path: Path) -> None:
    compose = """services:
  web:
    build: .
    environment:
      TOKEN_URL: https://auth.example.com/oauth/token
      SENTRY_DSN: https://3f2a9d1c@o1.ingest.sentry.io/42
      BROKER_PASSWORD_URL: amqp://app:guest@rabbit:5672/
"""
    assert lines_reported(tmp_path, "PR301", compose) == [7]


def test_pr304_swarm_stack_restarts_by_default(tmp_path: Path) -> None:
    compose = """services:
  web:
    image: registry.example.com/web:1.4.2
    deploy:
      replicas: 3
      update_config: {parallelism: 1, order: start-first}
  worker:
    image: registry.example.com/web:1.4.2
    deploy:
      resources: {limits: {memory: 512M}}
"""
    assert lines_reported(tmp_path, "PR304", compose) == [7]


@pytest.mark.parametrize(
    "command",
    [
        "sh -c 'until pg_isready -h db; do sleep 1; done; exec gunicorn app:app'",
        "bash -c 'while !</dev/tcp/db/5432; do sleep 1; done; exec gunicorn app:app'",
        "./wait-for-it.sh db:5432 -- gunicorn app:app",
    ],
)
def test_a_service_that_waits_for_its_database_itself_needs_no_condition(
    tmp_path: Path, command: str
) -> None:
    compose = (
        "services:\n  web:\n    build: .\n    restart: unless-stopped\n"
        f'    command: "{command}"\n    depends_on: [db]\n'
        "  db:\n    image: postgres:16\n    restart: unless-stopped\n"
    )
    (tmp_path / "waits").mkdir()
    (tmp_path / "plain").mkdir()
    assert lines_reported(tmp_path / "waits", "PR308", compose) == []
    assert lines_reported(tmp_path / "waits", "PR310", compose) == []
    plain = compose.replace(f'"{command}"', "gunicorn app:app")
    assert lines_reported(tmp_path / "plain", "PR308", plain) == [6]
    assert lines_reported(tmp_path / "plain", "PR310", plain) == [7]


def test_services_that_tolerate_start_order_need_no_condition(tmp_path: Path) -> None:
    """From the ecosystem run: adminer connects per request and Celery retries its broker
    connection, so their plain depends_on is harmless; the web app's and Celery's wait on a
    database are still reported."""
    compose = (
        "services:\n"
        "  adminer:\n    image: adminer:4.8.1\n    restart: unless-stopped\n"
        "    depends_on: [db]\n"
        "  celery_beat:\n    image: shop/app:1.4\n    restart: unless-stopped\n"
        "    depends_on: [redis]\n"
        "  worker:\n    build: .\n    restart: unless-stopped\n"
        "    command: celery -A shop worker\n    depends_on: [redis, db]\n"
        "  web:\n    build: .\n    restart: unless-stopped\n    depends_on: [redis]\n"
        "  db:\n    image: postgres:16\n    restart: unless-stopped\n"
        "  redis:\n    image: redis:7.4\n    restart: unless-stopped\n"
    )
    (tmp_path / "compose.yaml").write_text(compose)
    found = sorted(findings_for(tmp_path, "PR308"), key=lambda f: f.line)
    assert [(f.line, f.message.split(" without")[0]) for f in found] == [
        (14, "service worker depends on db (which has no healthcheck)"),
        (18, "service web depends on redis (which has no healthcheck)"),
    ]


def test_a_compose_file_in_a_subfolder_may_be_written_for_the_root(tmp_path: Path) -> None:
    """From the ecosystem run: mediacms keeps alternative stacks in docker-compose/ with paths
    written for the repository root, where its docs run them; a path missing from both is
    still reported."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "nginx.conf").write_text("events {}\n")
    (tmp_path / "docker-compose").mkdir()
    (tmp_path / "docker-compose" / "compose.yaml").write_text(
        "services:\n  proxy:\n    image: nginx:1.27\n    restart: unless-stopped\n"
        "    volumes:\n      - ./deploy/nginx.conf:/etc/nginx/nginx.conf:ro\n"
        "      - ./deploy/missing.conf:/etc/nginx/conf.d/extra.conf:ro\n"
    )
    found = findings_for(tmp_path, "PR911")
    assert [(f.path, f.line) for f in found] == [("docker-compose/compose.yaml", 7)]


def test_a_production_overlay_in_the_same_folder_completes_a_service(tmp_path: Path) -> None:
    """The FastAPI template runs `docker compose -f compose.yml -f compose.deploy.yml`: the
    restart policy and log rotation set in the overlay are the service's (PR304, PR315)."""
    (tmp_path / "compose.yml").write_text(
        "services:\n  backend:\n    build: .\n  db:\n    image: postgres:16\n"
    )
    (tmp_path / "compose.deploy.yml").write_text(
        "services:\n  backend:\n    restart: always\n    logging:\n      options:\n"
        "        max-size: 10m\n  db:\n    restart: always\n"
    )
    found = {(f.rule_id, f.path, f.line) for f in findings_for(tmp_path)}
    assert not {rule for rule, path, _ in found if path == "compose.yml"} & {"PR304", "PR315"}
    (tmp_path / "compose.deploy.yml").unlink()
    (tmp_path / "compose.override.yml").write_text("services:\n  backend:\n    restart: always\n")
    on_base = {(f.rule_id, f.line) for f in findings_for(tmp_path) if f.path == "compose.yml"}
    assert ("PR304", 2) in on_base  # a development override is not what production runs


def test_the_projects_own_published_image_waits_as_its_dockerfile_says(tmp_path: Path) -> None:
    """Tandoor's and paperless-ngx's documented compose files pull the project's own image
    (vabene1111/recipes), whose boot script waits for the database with pg_isready."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "1"\n')
    (tmp_path / "boot.sh").write_text(
        "#!/bin/sh\nuntil pg_isready -h db; do sleep 1; done\nexec gunicorn shop:app\n"
    )
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nCOPY boot.sh /boot.sh\nENTRYPOINT ["/boot.sh"]\n'
    )
    compose = (
        "services:\n  db:\n    image: postgres:16\n    restart: unless-stopped\n"
        "  web:\n    image: {image}\n    restart: unless-stopped\n    depends_on: [db]\n"
    )
    (tmp_path / "compose.yaml").write_text(compose.format(image="example/shop:1.4"))
    assert findings_for(tmp_path, "PR308") == [] and findings_for(tmp_path, "PR310") == []
    (tmp_path / "compose.yaml").write_text(compose.format(image="example/other:1.4"))
    assert [f.line for f in findings_for(tmp_path, "PR308")] == [8]


def test_the_image_the_projects_ci_publishes_is_its_own(tmp_path: Path) -> None:
    """From the ecosystem run: Tandoor's pyproject has no [project] name and its checkout's
    folder need not be called `recipes`; its CI workflow pushes vabene1111/recipes, the image
    the documented compose file pulls, and that image's boot script waits for the database."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "docker.yml").write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/metadata-action@v5\n        with:\n          images: |\n"
        "            example/shop\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          push: true\n"
    )
    (tmp_path / "boot.sh").write_text(
        "#!/bin/sh\nuntil pg_isready -h db; do sleep 1; done\nexec gunicorn shop:app\n"
    )
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nCOPY boot.sh /boot.sh\nENTRYPOINT ["/boot.sh"]\n'
    )
    compose = (
        "services:\n  db:\n    image: postgres:16\n    restart: unless-stopped\n"
        "  web:\n    image: {image}\n    restart: unless-stopped\n    depends_on: [db]\n"
    )
    (tmp_path / "compose.yaml").write_text(compose.format(image="example/shop:1.4"))
    assert findings_for(tmp_path, "PR308") == [] and findings_for(tmp_path, "PR310") == []
    (tmp_path / "compose.yaml").write_text(compose.format(image="example/other:1.4"))
    assert [f.line for f in findings_for(tmp_path, "PR308")] == [8]
