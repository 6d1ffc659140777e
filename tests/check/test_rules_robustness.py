"""Adversarial but legal (or merely odd) inputs never make a rule raise: empty files, null
sections, YAML anchors and recursion, exec forms with non-strings, directives without
arguments, huge values, include loops. `run_check` must return findings, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.engine import run_check

CASES: dict[str, dict[str, str]] = {}


def case(name: str, files: dict[str, str]) -> None:
    CASES[name] = files


def cases(prefix: str, rel: str, bodies: list[str]) -> None:
    """One case per body, each a project holding that body at `rel`."""
    for index, body in enumerate(bodies):
        case(f"{prefix}{index}", {rel: body})


# compose
cases(
    "compose",
    "compose.yaml",
    [
        "services:\n",
        "services: []\n",
        "services:\n  web:\n",
        "services:\n  web: x\n",
        "services:\n  web:\n    environment:\n    ports:\n    depends_on:\n    healthcheck:\n    deploy:\n    logging:\n    volumes:\n    build:\n    command:\n    image:\n    entrypoint:\n    cap_add:\n    restart:\n    profiles:\n",
        "services:\n  web:\n    environment: [null, 1, {a: b}, 'A=', '=x']\n    ports: [8000, 'x:y:z', {target: null}, null, {published: [1]}, '${P}:${Q}']\n",
        "services:\n  web:\n    depends_on: {db: null, x: 5}\n  db:\n    image: postgres\n",
        "services:\n  web:\n    build: .\n    healthcheck: {test: null}\n  a:\n    healthcheck: {test: []}\n  b:\n    healthcheck: {test: [CMD]}\n  c:\n    healthcheck: {test: 5}\n  d:\n    healthcheck: {test: [CMD-SHELL]}\n  e:\n    healthcheck: {test: [5, null]}\n",
        "services:\n  web:\n    build: .\n    deploy: {resources: null}\n    logging: {options: null, driver: null}\n  w2:\n    build: .\n    deploy: x\n    logging: 5\n",
        "services:\n  web:\n    volumes: [null, {source: null}, 5, {type: bind}]\n    cap_add: [null, 5]\n    image: 123\n  w:\n    image: [a]\n    build: {context: null, dockerfile: null}\n  z:\n    build: 5\n  y:\n    build: {context: [1]}\n",
        "x: &a [*a]\nservices:\n  web:\n    environment: *a\n",
        "services: &s\n  web:\n    command: *s\n",
        "version: null\n",
        "- a\n- b\n",
        "just a string\n",
        "services:\n  web:\n    image: a\n---\nservices:\n  b:\n    image: c\n",
        "services:\n  web:\n    environment:\n      SECRET_KEY: " + "x" * 500000 + "\n",
        "services:\n  web:\n    environment:\n      DATABASE_URL: 'postgres://u:@/'\n      B: 'http://[::1'\n      C: 'redis://:pa ss@h'\n",
        "a: " + "[" * 2000 + "]" * 2000 + "\n",
        "services:\n  web:\n    command: 'sh -c \"unterminated'\n    entrypoint: ['sh', '-c']\n  x:\n    command: [sh, -c, null]\n",
        "services:\n  'null':\n    image: ~\n  123:\n    image: x:latest\n  true:\n    image: y\n",
        "services:\n  web:\n    <<: 5\n",
        "services:\n  web:\n    ports: ['99999999999999999999:80', '-:-', '1-2:3-4', '::1:80:80']\n",
        "services:\n  web:\n    image: '@'\n  b:\n    image: ':'\n  c:\n    image: '/'\n",
        "services:\n  web:\n    env_file: [null, {path: null}, 5]\n    secrets: [null, 5]\n",
    ],
)

# Dockerfile
cases(
    "docker",
    "Dockerfile",
    [
        "",
        "ARG X\n",
        "ARG X=1\nFROM python:${X}\n",
        "FROM\n",
        "FROM ${UNSET}\n",
        "FROM a AS a\nFROM a\n",
        "FROM base AS base\n",
        "FROM python:3.12 AS x\nFROM x AS y\nFROM y AS x\nUSER root\n",
        "FROM python:3.12-slim\nHEALTHCHECK\n",
        "FROM python:3.12-slim\nHEALTHCHECK CMD []\n",
        'FROM python:3.12-slim\nHEALTHCHECK CMD [1, {"a": 2}]\n',
        "FROM python:3.12-slim\nHEALTHCHECK --interval=5s CMD\n",
        "FROM python:3.12-slim\nCMD []\nENTRYPOINT []\n",
        "FROM python:3.12-slim\nENV\nENV A\nENV =\nUSER\nCOPY a\nADD\nWORKDIR\nEXPOSE\n",
        "FROM python:3.12-slim\nONBUILD RUN x\nRUN\n\\\n",
        "FROM python:3.12-slim\nRUN <<EOF\napt-get install gcc\n",
        "# syntax=docker/dockerfile:1\n# escape=`\nFROM python:3.12-slim\nRUN echo `\n  hi\n",
        "FROM python:3.12-slim\nRUN " + "a && " * 50000 + "b\n",
        "FROM python:3.12-slim\nCMD [1, 2]\n",
        'FROM python:3.12-slim\nCMD ["a", null]\nENTRYPOINT ["sh", "-c"]\n',
        'FROM python:3.12-slim\nENTRYPOINT ["sh"]\nCMD "unterminated\n',
        "FROM scratch\nCOPY --from= / /\nUSER 0:0\n",
        'FROM python:3.12-slim\nSHELL ["/bin/bash", "-c"]\nCMD gunicorn app:app\n',
        "FROM python:3.12-slim\nARG =\nARG ${A}=b\nENV ${X}=y\n",
        "FROM python@\nFROM :\nFROM /\n",
        'FROM python:3.12-slim\nCMD [""]\n',
    ],
)

# nginx
cases(
    "nginx",
    "nginx/site.conf",
    [
        "# only a comment\n# server {\n",
        "server {}\n",
        "server {\n listen;\n add_header;\n ssl_protocols;\n proxy_pass;\n alias;\n include;\n return;\n server_tokens;\n ssl_ciphers;\n autoindex;\n}\n",
        "server {\n location {\n  alias /x/;\n }\n}\nupstream {\n keepalive;\n}\n",
        "alias /x/;\nhttp {\n server {\n  listen 443 ssl;\n  add_header Strict-Transport-Security;\n  ssl_prefer_server_ciphers on;\n  location / { proxy_pass http://; }\n }\n}\n",
        "server {\n include nginx;\n include ../x;\n include /;\n include site.conf;\n}\n",
        "server " + "{ location / " * 300 + "}" * 301 + "\n",
        'server {\n listen 443 ssl;\n add_header Strict-Transport-Security "max-age='
        + "9" * 5000
        + '";\n}\n',
        "server {\n if ($x) { add_header A b; }\n ssl_ciphers '';\n ssl_ciphers '!:!:-';\n location = / { alias x; }\n location ^~ { alias x/; }\n}\n",
        "events {}\nhttp {\n server_tokens;\n server { listen 80; return 301; rewrite; }\n}\n",
    ],
)

# systemd
cases(
    "systemd",
    "deploy/app.service",
    [
        "",
        "[Service]\n",
        '[Service]\nExecStart=\nUser=\nEnvironment=\nEnvironment="unterminated\nType=\n',
        "[Service]\nExecStart=@\nExecStart=-\nEnvironment=A\nEnvironment==x\nEnvironmentFile=\n",
        "ExecStart=x\n[Service\n=\n[]\n",
        "[Service]\nExecStart=/usr/bin/gunicorn \\\n",
        "[Service]\nExecStart=/bin/sh -c 'unterminated\nEnvironment=PASSWORD='a b\n",
        '[Service]\nEnvironment=DATABASE_URL=postgres://u:@h/d "X=http://[::1"\nExecStart=gunicorn\n',
    ],
)

# gunicorn
cases(
    "gunicorn",
    "gunicorn.conf.py",
    [
        "",
        "workers = \n",
        "workers = os.cpu_count() if x else (\n",
        "bind = None\ntimeout = 'abc'\nmax_requests = True\n",
        "timeout = -1\nworkers = 10**100\ngraceful_timeout = 1e309\nkeepalive = None\n",
        "workers: int = 3\nforwarded_allow_ips = ['*']\ndaemon = 1\nreload = 'yes'\n",
        "workers, threads = 2, 4\nraw_env = None\nloglevel = 5\nbind = 5\nworker_tmp_dir = 5\npreload_app = 'x'\n",
        "bind = ['0.0.0.0:8000', None, 5]\nforwarded_allow_ips = None\nmax_requests = -5\nmax_requests_jitter = 'x'\n",
        "import os\nworkers = min()\nthreads = min(*x)\nworkers = os.cpu_count\n",
        "x = " + "(" * 500 + "1" + ")" * 500 + "\nworkers = x\n",
        "a = b\nb = a\nworkers = a\n",
    ],
)

# env
cases(
    "env",
    ".env.production",
    [
        "",
        '=value\nKEY\nexport\nKEY="unterminated\n',
        "A=${\nB=${A\nC=$\n",
        "A=1\r\nA=2\r\n",
        "DATABASE_URL=postgres://:@/\nREDIS_URL=redis://:@\nX_URL=http://[::1\n",
        "export =\n#\n  \n'A'=1\n",
    ],
)

# dependencies
deps = [
    {"requirements.txt": "-r other.txt\n", "other.txt": "-r requirements.txt\n"},
    {
        "requirements.txt": "-r missing.txt\n-c\n-r\n--hash=sha256:x\nflask>=\nx===\n===\n[\n@\nflask @\n-e\n\\\n"
    },
    {"pyproject.toml": "[project\n"},
    {"pyproject.toml": "[project]\ndependencies = 'flask'\n"},
    {
        "pyproject.toml": "[project]\ndependencies = [1, null]\nrequires-python = '>=garbage'\n[project.optional-dependencies]\nx = 'a'\n".replace(
            "null", "'x'"
        )
    },
    {
        "pyproject.toml": "[tool.poetry.dependencies]\npython = {version = '^3.11'}\nflask = 5\n[tool.poetry.group.dev]\ndependencies = 'x'\n"
    },
    {"pyproject.toml": "[tool.poetry]\ndependencies = [1]\n[tool.poetry.dependencies.python]\n"},
    {"pyproject.toml": "[tool.poetry.dependencies]\npython = 3.11\n"},
    {"Pipfile": "[packages\n", "Pipfile.lock": "{"},
    {"Pipfile": "[packages]\nflask = 5\ndjango = {version = 1}\n[requires]\npython_version = 3\n"},
    {"poetry.lock": "\x00", "uv.lock": "garbage ["},
    {"requirements.txt": "flask\n" * 100000},
    {
        "pyproject.toml": "[project]\nrequires-python = '~=3'\n",
        ".python-version": "garbage\n",
        "runtime.txt": "python-\n",
    },
    {"pyproject.toml": "[project]\nrequires-python = ''\ndependencies = ['']\n"},
]
for index, files in enumerate(deps):
    case(f"deps{index}", files)
case("env_long_secret", {".env.production": "SECRET_KEY=" + "a1B2-c3D4_" * 8 + "\n"})
case("requires_python_number", {"pyproject.toml": "[project]\nrequires-python = 3.11\n"})
case(
    "start_script_with_stray_block_ends",
    {
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["/start.sh"]\n',
        "start.sh": "#!/bin/sh\nif true; then\n  gunicorn app:app\nelse\n  fi\n  fi\n;;\n",
    },
)
case(
    "nginx_include_of_binary_and_folder",
    {
        "nginx/site.conf": "server {\n listen 443 ssl;\n include snippets/bin.conf;\n"
        " include snippets;\n}\n",
        "nginx/snippets/bin.conf": "\x00\x01" * 10,
        "nginx/snippets/placeholder/x": "y",
    },
)
case("procfile", {"Procfile": "web:\n:\nweb gunicorn\nweb: gunicorn 'unterminated\n"})
case(
    "script",
    {
        "start.sh": '#!/bin/sh\nexec\n"$@"\ngunicorn \'x\n',
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["sh", "start.sh"]\n',
    },
)


@pytest.mark.parametrize(
    "name",
    sorted(CASES),
)
def test_rules_never_raise(tmp_path: Path, name: str) -> None:
    for rel, text in CASES[name].items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    crashed = [f.message for f in run_check(tmp_path).findings if "internal error" in f.message]
    assert not crashed, crashed
