"""Edge cases of the Dockerfile rules that the bad/good fixtures do not pin down."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.fix import apply_fixes
from tests.check.helpers import findings_for
from tests.conftest import run_prodready


def lines_reported(tmp_path: Path, rule_id: str, dockerfile: str) -> list[int]:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return [f.line for f in findings_for(tmp_path, rule_id)]


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        # the final stage inherits USER from the stage it is built FROM
        ('FROM python:3.12-slim AS base\nUSER app\nFROM base\nCMD ["gunicorn"]\n', []),
        # a root builder stage is not judged
        ("FROM python:3.12 AS build\nRUN make\nFROM python:3.12-slim\nUSER 10001\n", []),
        ('FROM python:3.12-slim\nUSER app\nUSER 0:0\nCMD ["gunicorn"]\n', [3]),
        ("FROM gcr.io/distroless/python3-debian12:nonroot\nCOPY . /app\n", []),
        ("FROM scratch\nCOPY app /app\n", []),
        # the postgres entrypoint drops to the postgres user, unless it is replaced
        ("FROM postgres:16.4\nCOPY init.sql /docker-entrypoint-initdb.d/\n", []),
        ('FROM postgres:16.4\nENTRYPOINT ["postgres"]\n', [1]),
        # nginx serves from unprivileged workers; nginx-unprivileged runs as nginx entirely
        ("FROM nginx:1.27-alpine\nCOPY default.conf /etc/nginx/conf.d/\n", []),
        ("FROM nginxinc/nginx-unprivileged:1.27-alpine\nCOPY site.conf /etc/nginx/conf.d/\n", []),
        ("FROM caddy:2.8\nCOPY Caddyfile /etc/caddy/\n", [1]),
        # a builder image (searxng's builder.dockerfile) builds and runs nothing
        ("FROM searxng/base:searxng-builder AS builder\nRUN make venv\n", []),
        ('FROM searxng/base:searxng-builder AS builder\nRUN make\nCMD ["granian"]\n', [1]),
        ("FROM searxng/base:searxng AS builder\nRUN make venv\n", [1]),
        # the project's own base image runs as the user every copied file is chowned to
        (
            "FROM docker.io/searxng/base:searxng\nCOPY --chown=977:977 searx/ ./searx/\n"
            'COPY --chown=977:977 ./container/ ./\nENTRYPOINT ["./entrypoint.sh"]\n',
            [],
        ),
        # ... not when one copy keeps root's ownership, nor over an official image
        (
            "FROM searxng/base:searxng\nCOPY --chown=977:977 searx/ ./searx/\n"
            'COPY ./container/ ./\nENTRYPOINT ["./entrypoint.sh"]\n',
            [1],
        ),
        ('FROM python:3.12-slim\nCOPY --chown=app . /app\nCMD ["gunicorn", "app:app"]\n', [1]),
    ],
)
def test_pr201_judges_the_final_image(tmp_path: Path, dockerfile: str, expected: list[int]) -> None:
    assert lines_reported(tmp_path, "PR201", dockerfile) == expected


@pytest.mark.parametrize(
    ("base", "reported"),
    [
        ("python:3.12-slim", False),
        ("python:3.12.4-slim-bookworm", False),
        ("postgres:16", False),  # a major version is the normal pin for non-Python images
        ("python:slim", True),
        ("python:3-alpine", True),
        ("ubuntu", True),
        ("ubuntu:latest", True),
        ("python@sha256:" + "a" * 64, False),
    ],
)
def test_pr202_pins(tmp_path: Path, base: str, reported: bool) -> None:
    assert bool(lines_reported(tmp_path, "PR202", f"FROM {base}\n")) is reported


def test_pr202_leaves_a_tag_the_build_passes_as_an_argument(tmp_path: Path) -> None:
    """Release workflows pass `--build-arg TAG=v1.2`; the ARG's default is only a fallback.
    A floating repository part with a literal tag is still judged."""
    dockerfile = "ARG TAG=latest\nFROM lnbits/lnbits:${TAG}\n"
    assert lines_reported(tmp_path, "PR202", dockerfile) == []
    assert lines_reported(tmp_path, "PR202", "ARG REG=docker.io\nFROM ${REG}/ubuntu:latest\n") == [
        2
    ]


def test_pr202_resolves_global_args_and_skips_stage_references(tmp_path: Path) -> None:
    dockerfile = "ARG PY=3.12\nFROM python:${PY}-slim AS build\nFROM build\n"
    assert lines_reported(tmp_path, "PR202", dockerfile) == []


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        ("FROM python:3.12\nHEALTHCHECK CMD curl -f http://127.0.0.1/\n", []),
        ("FROM python:3.12-alpine\nHEALTHCHECK CMD wget -qO- http://127.0.0.1/\n", []),
        ("FROM python:3.12-alpine\nHEALTHCHECK CMD curl -f http://127.0.0.1/\n", [2]),
        (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends"
            " curl\nHEALTHCHECK CMD curl -f http://127.0.0.1/\n",
            [],
        ),
        # curl installed in a builder stage does not reach the final image
        (
            "FROM python:3.12-slim AS build\nRUN apt-get install -y curl\n"
            "FROM python:3.12-slim\nHEALTHCHECK CMD curl -f http://127.0.0.1/\n",
            [4],
        ),
        ("FROM python:3.12-slim\nHEALTHCHECK NONE\n", []),
    ],
)
def test_pr203_knows_what_each_image_ships(
    tmp_path: Path, dockerfile: str, expected: list[int]
) -> None:
    assert lines_reported(tmp_path, "PR203", dockerfile) == expected


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ('CMD ["gunicorn", "app:app"]', []),
        ("CMD exec gunicorn app:app", []),
        ('CMD ["sh", "-c", "alembic upgrade head && exec gunicorn app:app"]', []),
        ('CMD ["sh", "-c", "alembic upgrade head && gunicorn app:app"]', [2]),
        ('ENTRYPOINT ["tini", "-g", "--"]\nCMD gunicorn app:app', []),
        ('ENTRYPOINT ["/docker-entrypoint.sh"]\nCMD gunicorn app:app', [3]),
        ("ENTRYPOINT gunicorn app:app", [2]),
    ],
)
def test_pr204_shell_as_pid1(tmp_path: Path, tail: str, expected: list[int]) -> None:
    assert lines_reported(tmp_path, "PR204", f"FROM python:3.12-slim\n{tail}\n") == expected


def test_pr204_offers_a_fix_only_without_shell_syntax(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim AS a\nCMD gunicorn -b 0.0.0.0:$PORT app:app\n"
    )
    (found,) = findings_for(tmp_path, "PR204")
    assert found.fix is None
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD gunicorn 'app:create_app()'\n")
    (found,) = findings_for(tmp_path, "PR204")
    assert found.fix is not None
    assert found.fix.edits[0].new == '["gunicorn", "app:create_app()"]'


def test_pr206_and_pr207_ignore_builder_stages(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12 AS build\nRUN apt-get update && apt-get install -y gcc\n"
        "RUN pip install -r requirements.txt\nFROM python:3.12-slim\n"
    )
    assert lines_reported(tmp_path, "PR206", dockerfile) == []
    assert lines_reported(tmp_path, "PR207", dockerfile) == []


def test_pr207_accepts_cache_mounts_and_env(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n"
    assert lines_reported(tmp_path, "PR207", dockerfile) == []


@pytest.mark.parametrize(
    "line",
    [
        "ENV DB_PASSWORD_FILE=/run/secrets/db",
        "ENV SECRET_KEY=${SECRET_KEY}",
        "ARG API_TOKEN",
        "ENV JWT_ALGORITHM=HS256",
        "ENV TOKEN_URL=https://auth.example.com/oauth/token",
        'ENV SECRET_KEY=""',
        "ENV DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app",
        "ENV DATABASE_URL=postgres://app@db/app",
    ],
)
def test_pr208_ignores_references(tmp_path: Path, line: str) -> None:
    assert lines_reported(tmp_path, "PR208", f"FROM python:3.12-slim\n{line}\n") == []


def test_pr208_judges_the_password_of_a_database_url(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12-slim\nENV DATABASE_URL=postgres://postgres:postgres@db/app\n"
        "ENV CACHE_URL=redis://:Vq7x-Rt2m-Lp9k-Wz4n@cache:6379/0\n"
    )
    (tmp_path / "Dockerfile").write_text(dockerfile)
    found = {f.line: (f.severity, f.message) for f in findings_for(tmp_path, "PR208")}
    assert found[2][0] == "error"
    assert "the postgres password is a well-known default" in found[2][1]
    assert found[3][0] == "error" and "Vq7x" not in found[3][1]
    assert "real-looking credential" in found[3][1]


def test_pr208_placeholder_is_the_value_the_image_runs_with(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nENV API_KEY=<your-api-key>\n")
    (found,) = findings_for(tmp_path, "PR208")
    assert found.severity == "error" and "placeholder" in found.message


def test_pr208_never_prints_the_value(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nENV DB_PASSWORD hunter2\n")
    (found,) = findings_for(tmp_path, "PR208")
    assert "hunter2" not in found.message


def test_pr210_layering_done_right_then_project_install(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
        "RUN pip install --no-cache-dir --no-deps .\n"
    )
    assert lines_reported(tmp_path, "PR210", dockerfile) == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("#!/bin/sh\ngunicorn app:app\n", [2]),
        ("#!/bin/sh\nexec gunicorn app:app\n", []),
        # the server is not the last step: something runs after it exits
        ("#!/bin/sh\ngunicorn app:app\necho stopped\n", []),
        ("#!/bin/sh\nflask db upgrade\nexec gunicorn app:app\n", []),
        ("#!/bin/sh\ntrap 'kill -TERM $child' TERM\ngunicorn app:app &\nchild=$!\nwait\n", []),
        (
            '#!/bin/sh\ncase "$1" in\n  web) gunicorn app:app ;;\n  worker)\n'
            "    celery -A app worker\n    ;;\nesac\n",
            [5],
        ),
    ],
)
def test_pr215_finds_the_last_step(tmp_path: Path, script: str, expected: list[int]) -> None:
    (tmp_path / "start.sh").write_text(script)
    dockerfile = 'FROM python:3.12-slim\nCOPY start.sh /start.sh\nCMD ["/start.sh"]\n'
    assert lines_reported(tmp_path, "PR215", dockerfile) == expected


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("certs/corp-root-ca.pem", False),
        ("deploy/tls/fullchain.pem", False),
        ("deploy/tls/cert.pem", False),
        (".env.production.example", False),
        ("config/.env.sample", False),
        ("deploy/tls/privkey.pem", True),
        ("deploy/tls/server.pem", True),  # cert and key bundled (haproxy style)
        ("deploy/tls/server.key", True),
        (".env.production", True),
        (".env", True),
    ],
)
def test_pr212_certificates_and_templates_are_not_secrets(
    tmp_path: Path, source: str, reported: bool
) -> None:
    dockerfile = f"FROM python:3.12-slim\nCOPY {source} /etc/app/\n"
    assert bool(lines_reported(tmp_path, "PR212", dockerfile)) is reported


HEREDOC_DOCKERFILE = """# syntax=docker/dockerfile:1
FROM python:3.12-slim
RUN <<EOT bash
set -eux
apt-get update
apt-get install -y --no-install-recommends curl gcc
rm -rf /var/lib/apt/lists/*
EOT
RUN useradd --uid 10001 app
USER app
COPY <<-"CONF" /etc/app/app.conf
user root
CMD never
CONF
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["gunicorn", "app:app"]
"""


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        ("PR203", []),  # curl is installed inside the RUN heredoc
        ("PR201", []),  # `user root` is file content of the COPY heredoc, not a USER
        ("PR213", []),  # so is `CMD never`
        ("PR217", [3]),  # gcc installed in the heredoc, reported on the RUN line
    ],
)
def test_heredoc_bodies_are_part_of_their_instruction(
    tmp_path: Path, rule_id: str, expected: list[int]
) -> None:
    assert lines_reported(tmp_path, rule_id, HEREDOC_DOCKERFILE) == expected


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("RUN uv pip install --system --no-cache -r requirements.txt", []),
        ("RUN --mount=type=cache,target=/root/.cache/uv uv pip install --system flask", []),
        (
            "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
            "    --mount=type=bind,source=requirements.txt,target=/tmp/r.txt \\\n"
            "    pip install -r /tmp/r.txt",
            [],
        ),
        ("RUN uv pip install --system flask", [3]),
        ("RUN pip install flask", [3]),
        ("RUN pip install --no-cache -r requirements.txt", []),
        ("RUN pip install --no-cache-d flask", []),
        ("RUN pip install --no-color flask", [3]),
        ("RUN pip install -r requirements.txt && rm -rf /root/.cache", []),
        ("RUN pip install flask; rm -rf ~/.cache/pip", []),
        ("RUN pip install flask && pip cache purge", []),
        ("RUN pip install flask && rm -rf /tmp/build", [3]),
    ],
)
def test_pr207_uv_and_several_mounts(tmp_path: Path, run: str, expected: list[int]) -> None:
    dockerfile = f"FROM python:3.12-slim\nWORKDIR /app\n{run}\n"
    assert lines_reported(tmp_path, "PR207", dockerfile) == expected


def test_pr207_fix_for_uv_uses_its_own_option(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nRUN uv pip install --system x\n")
    (found,) = findings_for(tmp_path, "PR207")
    assert found.fix is not None
    assert found.fix.edits[0].new == "pip install --no-cache"


def test_pr206_apt_cache_mount_among_several(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12-slim\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n"
        "    --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
        "    apt-get update && apt-get install -y --no-install-recommends libpq5\n"
    )
    assert lines_reported(tmp_path, "PR206", dockerfile) == []


@pytest.mark.parametrize(
    ("run", "reported"),
    [
        ("RUN poetry install --no-root", True),
        ("RUN poetry install --only main --no-root", False),
        ("RUN poetry install --without dev,test", False),
        ("RUN uv sync --frozen", True),
        ("RUN uv sync --frozen --no-dev", False),
        ("RUN pipenv install --system --deploy --dev", True),
        ("RUN pipenv install --system --deploy", False),
        ("RUN pip install -r requirements/test.txt", True),
        ("RUN pip install -r requirements/production.txt", False),
        ('RUN pip install ".[dev,postgres]"', True),
    ],
)
def test_pr220_installers_and_their_dev_groups(tmp_path: Path, run: str, reported: bool) -> None:
    dockerfile = f"FROM python:3.12-slim\nWORKDIR /app\n{run}\n"
    assert lines_reported(tmp_path, "PR220", dockerfile) == ([3] if reported else [])


@pytest.mark.parametrize(
    ("run", "reported"),
    [
        ("RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -", True),
        ("RUN curl -fsSL https://x.example/i.sh | sudo -E bash", True),
        ('RUN sh -c "$(curl -fsSL https://x.example/i.sh)"', True),
        ("RUN curl -fsSL https://x.example/key.gpg | gpg --dearmor -o /k.gpg", False),
        (
            "RUN curl -fsSLo /tmp/i.sh https://x.example/i.sh && sha256sum -c s && sh /tmp/i.sh",
            False,
        ),
    ],
)
def test_pr218_what_runs_a_download_unverified(tmp_path: Path, run: str, reported: bool) -> None:
    dockerfile = f"FROM python:3.12-slim\n{run}\n"
    assert lines_reported(tmp_path, "PR218", dockerfile) == ([2] if reported else [])


def test_pr207_is_one_finding_per_image_and_its_fix_covers_every_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n"
        "RUN pip install gunicorn==23.0.0\n"
    )
    (found,) = findings_for(tmp_path, "PR207")
    assert found.line == 2 and "(also line 3)" in found.message
    assert found.fix is not None
    apply_fixes(tmp_path, [found], unsafe=False)
    assert findings_for(tmp_path, "PR207") == []
    assert (tmp_path / "Dockerfile").read_text().count("--no-cache-dir") == 2


@pytest.mark.parametrize(
    ("files", "reported"),
    [
        ({"entrypoint.sh": '#!/bin/sh\nchown -R app /data\nexec gosu app "$@"\n'}, False),
        ({"entrypoint.sh": "#!/bin/sh\nexec su-exec app:app gunicorn app:app\n"}, False),
        ({"entrypoint.sh": "#!/bin/sh\nexec gunicorn --user www-data app:app\n"}, False),
        ({"deploy/uwsgi.ini": "[uwsgi]\nmodule = app:app\nuid = www-data\n"}, False),
        ({"entrypoint.sh": "#!/bin/sh\nexec gunicorn app:app\n"}, True),
    ],
)
def test_pr201_privileges_dropped_by_the_launch(
    tmp_path: Path, files: dict[str, str], reported: bool
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    dockerfile = (
        "FROM python:3.12-slim\nCOPY entrypoint.sh /entrypoint.sh\n"
        "COPY deploy/uwsgi.ini /etc/uwsgi/uwsgi.ini\n"
        'ENTRYPOINT ["/entrypoint.sh"]\nCMD ["uwsgi", "--ini", "/etc/uwsgi/uwsgi.ini"]\n'
    )
    assert lines_reported(tmp_path, "PR201", dockerfile) == ([1] if reported else [])


@pytest.mark.parametrize(("uid_line", "reported"), [("uid = www-data\n", False), ("", True)])
def test_pr201_privileges_dropped_by_a_config_the_start_script_names(
    tmp_path: Path, uid_line: str, reported: bool
) -> None:
    """From the ecosystem run: the Dockerfile (in docker/) runs a start script, and only the
    script names the uwsgi config that drops root. The names are followed through both hops."""
    (tmp_path / "start.sh").write_text("#!/bin/sh\nexec uwsgi --http :8000 server.ini\n")
    (tmp_path / "server.ini").write_text(f"[uwsgi]\nmodule = app:app\n{uid_line}")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "app.Dockerfile").write_text(
        'FROM python:3.12-slim\nCOPY . .\nCMD ["./start.sh"]\n'
    )
    found = [f.path for f in findings_for(tmp_path, "PR201")]
    assert found == (["docker/app.Dockerfile"] if reported else [])


def test_pr208_an_upstream_named_pass_is_not_a_password(tmp_path: Path) -> None:
    dockerfile = 'FROM nginx:1.27\nENV DD_UWSGI_PASS="uwsgi_server" DB_PASS=hunter2\n'
    (found,) = [f.message for f in _pr208(tmp_path, dockerfile)]
    assert found.startswith("ENV DB_PASS")


def _pr208(tmp_path: Path, dockerfile: str) -> list:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return findings_for(tmp_path, "PR208")


@pytest.mark.parametrize(
    ("files", "reported"),
    [
        # from the ecosystem run: a base image others start FROM, an AWS Lambda image
        (
            {"Dockerfile-base": "FROM python:3.12-slim\nRUN pip install --no-cache-dir x==1\n"},
            False,
        ),
        (
            {
                "Dockerfile": "FROM public.ecr.aws/lambda/python:3.12\nCOPY app.py .\n"
                'CMD ["app.handler"]\n'
            },
            False,
        ),
        # no CMD, but compose builds it and gives the command: it runs the app as root
        (
            {
                "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
                "compose.yaml": "services:\n  web:\n    build: .\n    command: gunicorn app:app\n",
            },
            True,
        ),
        ({"Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n'}, True),
    ],
)
def test_root_is_judged_on_images_that_run_something(
    tmp_path: Path, files: dict[str, str], reported: bool
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert bool(findings_for(tmp_path, "PR201")) == reported


def test_an_unreadable_compose_file_may_build_a_dockerfile_without_cmd(tmp_path: Path) -> None:
    """From the ecosystem run: a cookiecutter compose template gave the backend its command."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  {% if use_celery %}worker:{% endif %}\n    build: .\n"
    )
    assert findings_for(tmp_path, "PR201")


def test_pr205_is_one_finding_per_dockerfile_whose_fix_turns_every_add_into_copy(
    tmp_path: Path,
) -> None:
    """bakerydemo's second ADD was the same problem reported again."""
    dockerfile = (
        "FROM python:3.12-slim\nADD requirements.txt /code/\nRUN pip install -r /code/r.txt\n"
        "ADD . /code/\nADD vendor/data.tar.gz /srv/\n"
    )
    (found,) = _findings(tmp_path, dockerfile, "PR205")
    assert found.line == 2 and "(and on line 4)" in found.message
    result = run_prodready("check", tmp_path, "--fix", "--select", "PR205")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (tmp_path / "Dockerfile").read_text().splitlines()
    assert lines[1].startswith("COPY ") and lines[3].startswith("COPY ")
    assert lines[4].startswith("ADD ")  # an archive to unpack stays ADD


def _findings(tmp_path: Path, dockerfile: str, rule_id: str) -> list:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return findings_for(tmp_path, rule_id)


def test_pr209_leaves_a_lambda_image_alone(tmp_path: Path) -> None:
    """polar's last stage is `FROM public.ecr.aws/lambda/python:3.14`: Lambda reads the output."""
    dockerfile = 'FROM public.ecr.aws/lambda/python:3.14\nCOPY app.py .\nCMD ["app.handler"]\n'
    assert _findings(tmp_path, dockerfile, "PR209") == []
    assert _findings(tmp_path, dockerfile.replace("public.ecr.aws/lambda/", ""), "PR209")


@pytest.mark.parametrize(
    ("cleanup", "expected"),
    [(" && \\\n    apk --purge del .build-deps", []), ("", [2])],
)
def test_pr217_virtual_build_deps_removed_with_options_first(
    tmp_path: Path, cleanup: str, expected: list[int]
) -> None:
    """From the ecosystem run: `apk --purge del .build-deps` (an option before `del`) removes
    the virtual set in the same RUN; without it the compilers ship."""
    dockerfile = (
        "FROM python:3.12-alpine\n"
        "RUN apk add --no-cache --virtual .build-deps gcc musl-dev libffi-dev && \\\n"
        f"    pip install --no-cache-dir cffi==1.17.1{cleanup}\n"
    )
    assert lines_reported(tmp_path, "PR217", dockerfile) == expected


@pytest.mark.parametrize(("packages", "expected"), [("curl tini", []), ("tini", [4])])
def test_pr203_tool_installed_through_a_package_list_arg(
    tmp_path: Path, packages: str, expected: list[int]
) -> None:
    """From the ecosystem run: the final stage installs its runtime packages from an ARG list
    (`apt-get install ${RUNTIME_PACKAGES}`); curl in that list is installed."""
    dockerfile = (
        f'FROM python:3.12-slim\nARG RUNTIME_PACKAGES="{packages}"\n'
        "RUN apt-get update && apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES}\n"
        "HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1\n"
    )
    assert lines_reported(tmp_path, "PR203", dockerfile) == expected


@pytest.mark.parametrize(
    ("files", "reported"),
    [
        # from the ecosystem run: jumpserver's Dockerfile-base holds the dependencies the
        # main Dockerfile starts FROM; it has no command and nothing runs it
        (
            {"Dockerfile-base": "FROM python:3.12-slim\nRUN pip install --no-cache-dir x==1\n"},
            False,
        ),
        ({"Dockerfile": 'FROM python:3.12-slim\nUSER 1000\nCMD ["gunicorn", "app:app"]\n'}, True),
    ],
)
def test_pr209_is_judged_on_images_that_run_something(
    tmp_path: Path, files: dict[str, str], reported: bool
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert bool(findings_for(tmp_path, "PR209")) == reported


@pytest.mark.parametrize(
    ("listed", "expected"),
    [("lxml==5.2.1\npysaml2==7.5.0\n", []), ("lxml==5.2.1\npytest==8.3.2\n", [3])],
)
def test_pr220_a_ci_requirements_file_is_judged_by_what_it_holds(
    tmp_path: Path, listed: str, expected: list[int]
) -> None:
    """From the ecosystem run: alerta's image installs requirements-ci.txt, which holds the
    optional SAML/LDAP libraries the image needs, not test tools."""
    (tmp_path / "requirements.txt").write_text("flask==3.1.2\n")
    (tmp_path / "requirements-ci.txt").write_text(listed)
    dockerfile = (
        "FROM python:3.12-slim\nCOPY requirements*.txt /app/\n"
        "RUN pip install --no-cache-dir -r /app/requirements.txt -r /app/requirements-ci.txt\n"
        'USER 1000\nCMD ["gunicorn", "app:app"]\n'
    )
    assert lines_reported(tmp_path, "PR220", dockerfile) == expected


@pytest.mark.parametrize(
    ("dockerfile", "reported"),
    [
        # root installs with uv, the image's USER cannot write the .pyc files into it
        ("FROM python:3.12-slim\nRUN uv pip install --system -r requirements.txt\n"
         "USER app\nCMD [\"gunicorn\", \"app:app\"]\n", True),
        # ... unless uv compiled them, or the files were handed to that user
        ("FROM python:3.12-slim\nENV UV_COMPILE_BYTECODE=1\n"
         "RUN uv pip install --system -r requirements.txt\nUSER app\n", False),
        ("FROM python:3.12-slim AS build\nRUN uv venv /venv && uv pip install -r r.txt\n"
         "FROM python:3.12-slim\nCOPY --from=build --chown=app /venv /venv\nUSER app\n", False),
        ("FROM python:3.12-slim\nUSER app\nRUN uv sync --no-dev\n", False),
        # root runs it and writes them itself at the first start of each container
        ("FROM python:3.12-slim\nRUN uv pip install --system -r requirements.txt\n"
         "CMD [\"gunicorn\", \"app:app\"]\n", False),
        # nothing forbids writing, a later compileall wrote them: quiet either way
        ("FROM python:3.12-slim\nENV PYTHONDONTWRITEBYTECODE=1\nRUN uv sync --no-dev\n"
         "RUN python -m compileall -q /app/.venv\n", False),
    ],
)  # fmt: skip
def test_pr222_uv_bytecode_the_server_cannot_write(
    tmp_path: Path, dockerfile: str, reported: bool
) -> None:
    assert bool(lines_reported(tmp_path, "PR222", dockerfile)) == reported


PROD_IMAGE_RUNS_WHAT_COMPOSE_SAYS = """FROM python:3.12-slim
RUN useradd --system app
COPY . /app
USER app
ENTRYPOINT ["/app/entrypoint.sh"]
"""


@pytest.mark.parametrize(
    ("service", "reported"),
    [
        ("    command: gunicorn --bind 0.0.0.0:5000 manage:app\n", True),
        (
            "    command: gunicorn --bind 0.0.0.0:5000 manage:app\n"
            "    healthcheck:\n      test: ['CMD', 'python', '-c', 'print(1)']\n",
            False,
        ),
        ("    command: python manage.py migrate\n", False),
    ],
    ids=["server-in-compose", "compose-probes-it", "one-off-command"],
)
def test_pr221_sees_the_server_a_compose_service_runs_on_the_image(
    tmp_path: Path, service: str, reported: bool
) -> None:
    """testdriven.io's Dockerfile.prod: its ENTRYPOINT script ends in `exec "$@"` and the
    production compose names gunicorn as the service's command."""
    (tmp_path / "Dockerfile.prod").write_text(PROD_IMAGE_RUNS_WHAT_COMPOSE_SAYS)
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\nset -e\nexec "$@"\n')
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (tmp_path / "compose.prod.yml").write_text(
        "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.prod\n"
        + service
    )
    found = findings_for(tmp_path, "PR221")
    assert [(f.path, f.line) for f in found] == ([("Dockerfile.prod", 1)] if reported else [])
