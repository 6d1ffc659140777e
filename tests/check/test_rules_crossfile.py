"""The tricky parts of the cross-file rules: .dockerignore semantics, durations, what counts as
a development server, trusted proxies, defaults, git tracking."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from prodready.check.fix import apply_fixes
from prodready.check.rules.crossfile import _ignored, _seconds
from prodready.check.rules.crossfile_apps import AllowedHosts
from tests.check.helpers import FIXTURES, findings_for

FLASK = 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/health")\ndef health():\n    return "ok"\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def places(root: Path, rule_id: str) -> list[tuple[str, int]]:
    return sorted((f.path, f.line) for f in findings_for(root, rule_id))


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        ([".env"], ".env", True),
        ([".env"], "app/.env", False),
        (["**/.env"], "app/.env", True),
        (["**/.env"], ".env", True),
        ([".env*", "!.env.example"], ".env.production", True),
        ([".env*", "!.env.example"], ".env.example", False),
        (["*", "!app"], ".env", True),
        (["*", "!app"], "app/.env", False),
        (["config"], "config/.env", True),
        (["/.env"], ".env", True),
        (["*.env"], ".env", True),
        (["__pycache__", ".git"], ".env", False),
    ],
)
def test_dockerignore_semantics(patterns: list[str], path: str, ignored: bool) -> None:
    assert _ignored(path, patterns) is ignored


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1m30s", 90), ("90", 90), ("1min 30s", 90), ("2m", 120), ("500ms", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert _seconds(text) == pytest.approx(seconds)


def test_durations_without_a_limit() -> None:
    assert _seconds("infinity") is None
    assert _seconds("0") is None


def test_uvicorn_run_without_reload_is_a_production_server(tmp_path: Path) -> None:
    main = "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\nif __name__ == '__main__':\n"
    write(
        tmp_path,
        {
            "main.py": main + "    uvicorn.run('main:app', host='0.0.0.0', workers=4)\n",
            "reload.py": main + "    uvicorn.run('main:app', reload=True)\n",
            # mealie: the operator sets the worker count; uvicorn supervises them
            "configured.py": main + "    uvicorn.run('main:app', workers=settings.WORKERS)\n",
            "single.py": main + "    uvicorn.run('main:app', host='0.0.0.0')\n",
            "Procfile": "web: python main.py\nalt: python reload.py\n"
            "cfg: python configured.py\none: python single.py\n",
        },
    )
    assert places(tmp_path, "PR901") == [("Procfile", 2), ("Procfile", 4)]


def test_app_target_through_package_reexport_and_factory(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shop/__init__.py": "from .web import app\n",
            "shop/web.py": FLASK,
            "shop/factory.py": "from flask import Flask\n\n\ndef make():\n    return Flask(__name__)\n",
            "Procfile": (
                "web: gunicorn shop:app\n"
                "alt: gunicorn 'shop.factory:make()'\n"
                "bad: gunicorn shop.factory:create_app\n"
            ),
        },
    )
    assert places(tmp_path, "PR902") == [("Procfile", 3)]


def test_proxy_on_loopback_is_trusted_by_gunicorn_default(tmp_path: Path) -> None:
    nginx = """
        server {
            listen 80;
            location / {
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_pass http://%s:8000;
            }
        }
        """
    files = {
        "app.py": FLASK,
        "deploy/shop.service": "[Service]\nExecStart=/srv/.venv/bin/gunicorn -b 127.0.0.1:8000 app:app\n",
        "deploy/nginx/site.conf": nginx % "127.0.0.1",
    }
    assert places(write(tmp_path / "local", files), "PR912") == []
    files["deploy/nginx/site.conf"] = nginx % "10.0.0.7"
    files["deploy/shop.service"] = files["deploy/shop.service"].replace("127.0.0.1", "0.0.0.0")
    # a proxy on another host that is not a compose service: where it points is unknown
    assert places(write(tmp_path / "remote", files), "PR912") == []


def test_django_secure_proxy_header_counts_as_trust(tmp_path: Path) -> None:
    files = {
        "shop/settings.py": 'ROOT_URLCONF = "shop.urls"\nWSGI_APPLICATION = "shop.wsgi.application"\n',
        "shop/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "shop.wsgi:application"]\n',
        "compose.yaml": "services:\n  web:\n    build: .\n  nginx:\n    image: nginx:1.27\n",
        "deploy/nginx/site.conf": (
            "server {\n  location / {\n    proxy_set_header X-Forwarded-Proto $scheme;\n"
            "    proxy_pass http://web:8000;\n  }\n}\n"
        ),
    }
    assert places(write(tmp_path / "untrusted", files), "PR912") == [("deploy/nginx/site.conf", 3)]
    files["shop/settings.py"] += 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")\n'
    assert places(write(tmp_path / "trusted", files), "PR912") == []


def test_prodready_serve_proxy_option_counts_as_trust(tmp_path: Path) -> None:
    files = {
        "app.py": FLASK,
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["prodready", "serve", "app:app"]\n',
        "compose.yaml": "services:\n  web:\n    build: .\n  nginx:\n    image: nginx:1.27\n",
        "deploy/nginx/site.conf": (
            "server {\n  location / {\n    proxy_set_header X-Forwarded-Proto $scheme;\n"
            "    proxy_pass http://web:8000;\n  }\n}\n"
        ),
    }
    assert places(write(tmp_path / "untrusted", files), "PR912") == [("deploy/nginx/site.conf", 3)]
    files["Dockerfile"] = files["Dockerfile"].replace(
        '"app:app"', '"app:app", "--proxy", "172.18.0.0/16"'
    )
    assert places(write(tmp_path / "trusted", files), "PR912") == []


def test_default_stop_timeouts_alone_are_not_reported(tmp_path: Path) -> None:
    files = {
        "app.py": FLASK,
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
        "compose.yaml": "services:\n  web:\n    build: .\n",
    }
    assert places(write(tmp_path / "defaults", files), "PR908") == []
    files["deploy/app.service"] = (
        "[Service]\nExecStart=/srv/.venv/bin/gunicorn --graceful-timeout 60 app:app\n"
        "TimeoutStopSec=45\n"
    )
    assert places(write(tmp_path / "systemd", files), "PR908") == [("deploy/app.service", 3)]


def test_only_tracked_env_files_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".env": "SECRET_KEY=x\n",
            ".env.example": "SECRET_KEY=change-me\n",
            ".env.prod.db-sample": "POSTGRES_PASSWORD=hello_flask\n",
            "deploy/.env.production": "SECRET_KEY=y\n",
            "app.py": FLASK,
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "add",
            ".env.example",
            ".env.prod.db-sample",
            "deploy/.env.production",
            "app.py",
        ],
        check=True,
    )
    assert places(tmp_path, "PR909") == [("deploy/.env.production", 1)]


def test_fastapi_docs_and_routes_registered_in_code_are_known(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.py": (
                "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
                '@app.get("/items")\ndef items():\n    return []\n\n\n'
                'app.add_api_route("/ping", lambda: "pong")\n'
            ),
            "Dockerfile": (
                "FROM python:3.12\n"
                "HEALTHCHECK CMD curl -f http://localhost:8000/docs && "
                "curl -f http://localhost:8000/ping && curl -f http://localhost:8000/ready\n"
                'CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]\n'
            ),
        },
    )
    found = findings_for(tmp_path, "PR903")
    assert [(f.line, "/ready" in f.message) for f in found] == [(2, True)]


def test_router_prefix_computed_at_run_time_is_not_a_missing_route(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/config.py": 'API_V1_STR = "/api/v1"\n',
            "app/utils.py": (
                "from fastapi import APIRouter\n\nrouter = APIRouter(prefix='/utils')\n\n\n"
                "@router.get('/health-check/')\ndef health_check():\n    return True\n"
            ),
            "app/main.py": (
                "from fastapi import FastAPI\n\nfrom app import config, utils\n\n"
                "app = FastAPI()\napp.include_router(utils.router, prefix=config.API_V1_STR)\n"
            ),
            "compose.yaml": """
                services:
                  backend:
                    build: .
                    command: fastapi run --workers 4 app/main.py
                    healthcheck:
                      test: ["CMD", "curl", "-f", "http://localhost:8000/api/v1/utils/health-check/"]
                      timeout: 5s
                  other:
                    build: .
                    command: fastapi run app/main.py
                    healthcheck:
                      test: ["CMD", "curl", "-f", "http://localhost:8000/api/v1/utils/ready"]
                """,
        },
    )
    assert places(tmp_path, "PR903") == [("compose.yaml", 12)]


@pytest.mark.parametrize(
    ("patterns", "host", "allowed"),
    [
        (("shop.example.com",), "shop.example.com", True),
        (("shop.example.com",), "www.shop.example.com", False),
        ((".example.com",), "www.shop.example.com", True),
        ((".example.com",), "example.com", True),
        ((".example.com",), "badexample.com", False),
        (("SHOP.example.com",), "shop.EXAMPLE.com.", True),
    ],
)
def test_allowed_hosts_follow_django(patterns: tuple[str, ...], host: str, allowed: bool) -> None:
    assert AllowedHosts("settings.py", 1, patterns).allows(host) is allowed


def test_granian_interface_must_match_the_app(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "Procfile": (
                "web: granian --host 0.0.0.0 main:app\n"
                "alt: granian --interface asgi --host 0.0.0.0 main:app\n"
            ),
        },
    )
    assert places(tmp_path, "PR919") == [("Procfile", 1)]


@pytest.mark.parametrize(("interface", "reported"), [("wsgi", False), ("asgi", True)])
def test_granian_interface_from_its_environment_variable(
    tmp_path: Path, interface: str, reported: bool
) -> None:
    """From the ecosystem run: the image sets GRANIAN_INTERFACE and the start script gives no
    --interface; granian takes the variable, so a WSGI app served that way matches."""
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "start.sh": "#!/bin/sh\nexec granian --host 0.0.0.0 app:app\n",
            "Dockerfile": (
                f'FROM python:3.12-slim\nENV GRANIAN_INTERFACE="{interface}"\nUSER 1000\n'
                'COPY . .\nCMD ["./start.sh"]\n'
            ),
        },
    )
    assert places(tmp_path, "PR919") == ([("start.sh", 2)] if reported else [])


def test_odd_but_parsable_files_do_not_crash_the_cross_file_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": FLASK + "\nif __name__ == '__main__':\n    app.run(port=int('5000'))\n",
            "compose.yaml": """
                services:
                  web:
                    build: 123
                    command: ["gunicorn", "-b", "unix:/run/x.sock", "-c", "", "app:"]
                    ports: [8000, "abc", {target: "x"}]
                    volumes: {a: b}
                    healthcheck: {test: {x: 1}}
                    stop_grace_period: forever
                    depends_on: web
                  nginx:
                    image: nginx
                    ports: ["80"]
                    depends_on: {web: {condition: service_started}}
                    volumes: ["./:/x", {type: bind}, "named:/data", 42]
                  db:
                    image: postgres
                    command: postgres -c max_connections=
                """,
            "Dockerfile": "FROM\nCMD\nHEALTHCHECK NONE\nEXPOSE abc\n",
            "gunicorn.conf.py": "bind = ['0.0.0.0:8000', 1, None]\nworkers = 'many'\ntimeout = None\n",
            "deploy/x.service": "[Service]\nExecStart=\nTimeoutStopSec=infinity\n",
            "deploy/nginx/x.conf": (
                "upstream u { server unix:; server :; }\n"
                "server { location / { proxy_pass; proxy_pass http://u; proxy_pass http://$x; "
                "proxy_set_header; proxy_read_timeout abc; } }\n"
            ),
            ".dockerignore": "!\n**\n[\n",
            ".python-version": "system\n",
            "pyproject.toml": '[project]\nname = "x"\nrequires-python = "not a spec"\n',
            "Procfile": "web:\nweb: gunicorn\n: gunicorn app:app\n",
        },
    )
    for number in range(901, 922):
        findings_for(tmp_path, f"PR{number}")


def test_app_port_beside_proxy_fix_binds_loopback(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "PR906" / "bad", root)
    found = findings_for(root, "PR906")
    assert all(f.fix is not None and not f.fix.safe for f in found)
    assert apply_fixes(root, found, unsafe=False) == []
    assert len(apply_fixes(root, found, unsafe=True)) == len(found)
    assert '"127.0.0.1:8000:8000"' in (root / "compose.yaml").read_text()
    assert findings_for(root, "PR906") == []


def test_loopback_proxy_to_a_container_is_not_trusted_by_default(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
            "compose.yaml": 'services:\n  web:\n    build: .\n    ports: ["127.0.0.1:8000:8000"]\n',
            "deploy/nginx/site.conf": (
                "server {\n  location / {\n    proxy_set_header X-Forwarded-For $remote_addr;\n"
                "    proxy_pass http://127.0.0.1:8000;\n  }\n}\n"
            ),
        },
    )
    assert places(tmp_path, "PR912") == [("deploy/nginx/site.conf", 3)]


def test_socket_activated_service_may_use_a_low_port(tmp_path: Path) -> None:
    files = {
        "app.py": FLASK,
        "deploy/web.service": "[Service]\nUser=web\nExecStart=/srv/.venv/bin/gunicorn -b 0.0.0.0:80 app:app\n",
    }
    assert places(write(tmp_path / "plain", files), "PR922") == [("deploy/web.service", 3)]
    files["deploy/web.socket"] = "[Socket]\nListenStream=80\n"
    assert places(write(tmp_path / "activated", files), "PR922") == []


@pytest.mark.parametrize(
    ("probe", "reported"),
    [("/health", False), ("/${CONTEXT_PATH}health", False), ("/${CONTEXT_PATH}healthz", True)],
)
def test_a_variable_in_the_probed_path_is_a_prefix_set_at_run_time(
    tmp_path: Path, probe: str, reported: bool
) -> None:
    """linkding probes `/${LD_CONTEXT_PATH}health`: the app serves /health under that prefix."""
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "Dockerfile": f"FROM python:3.12\nHEALTHCHECK CMD curl -f http://localhost:8000{probe}\n"
            'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
        },
    )
    assert bool(places(tmp_path, "PR903")) is reported


@pytest.mark.parametrize(("probe", "reported"), [("/health/ready", False), ("/healthz", True)])
def test_healthcheck_knows_the_runtime_kits_routes(
    tmp_path: Path, probe: str, reported: bool
) -> None:
    write(
        tmp_path,
        {
            "app.py": FLASK
            + "\nfrom prodready.runtime import Production\n\nprod = Production(app)\n",
            "Dockerfile": f"FROM python:3.12\nHEALTHCHECK CMD curl -f http://localhost:8000{probe}\n"
            'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
        },
    )
    assert bool(places(tmp_path, "PR903")) is reported


@pytest.mark.parametrize(
    ("nginx_socket", "reported"),
    [
        ("/run/shop/blue.sock", False),
        ("/run/shop/green.sock", False),
        ("/run/other/blue.sock", True),
    ],
)
def test_proxy_socket_matches_a_systemd_template_units_instances(
    tmp_path: Path, nginx_socket: str, reported: bool
) -> None:
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
            "deploy/shop@.service": "[Service]\nUser=shop\n"
            "ExecStart=/srv/shop/.venv/bin/gunicorn app:app\n",
            "deploy/shop@.socket": "[Socket]\nListenStream=/run/shop/%i.sock\n",
            "deploy/nginx/shop.conf": "server {\n    listen 80;\n    location / {\n"
            f"        proxy_pass http://unix:{nginx_socket};\n    }}\n}}\n",
        },
    )
    assert places(tmp_path, "PR905") == ([("deploy/nginx/shop.conf", 4)] if reported else [])


def test_one_app_side_cause_seen_through_many_locations_is_one_finding(tmp_path: Path) -> None:
    locations = "".join(
        f"  location /{name}/ {{\n    proxy_set_header X-Forwarded-For $remote_addr;\n"
        "    proxy_pass http://web:8080;\n  }\n"
        for name in ("api", "admin", "static", "media", "ws")
    )
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
            "gunicorn.conf.py": "timeout = 120\n",
            "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "-c", "gunicorn.conf.py", '
            '"-b", "0.0.0.0:8000", "app:app"]\n',
            "compose.yaml": "services:\n  web:\n    build: .\n  nginx:\n    image: nginx:1.27\n"
            '    ports: ["80:80"]\n',
            "deploy/nginx/site.conf": "server {\n  listen 80;\n" + locations + "}\n",
        },
    )
    for rule_id, first in (("PR905", 5), ("PR912", 4), ("PR908", 5)):
        (found,) = findings_for(tmp_path, rule_id)
        assert found.line == first, rule_id
        assert f"(also lines {first + 4}, {first + 8}, {first + 12}, {first + 16})" in found.message


@pytest.mark.parametrize(
    ("target", "reported"),
    [
        ("src.shop.api.main:app", False),
        ("shop.api.main:app", False),
        ("api.main:app", False),
        ("src.shop.api.missing:app", True),
        ("src.shop.api.main:application", True),
    ],
)
def test_src_layout_targets_resolve_to_their_files(
    tmp_path: Path, target: str, reported: bool
) -> None:
    write(
        tmp_path,
        {
            "src/shop/__init__.py": "",
            "src/shop/api/__init__.py": "",
            "src/shop/api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.0\n",
            "Procfile": f"web: uvicorn {target} --host 0.0.0.0\n",
        },
    )
    assert bool(places(tmp_path, "PR902")) is reported


SOCKETIO_APP = (
    "from flask import Flask\nfrom flask_socketio import SocketIO\n\napp = Flask(__name__)\n"
    'socketio = SocketIO(app)\n\nif __name__ == "__main__":\n    socketio.run(app, host="0.0.0.0")\n'
)
UVICORN_APP = (
    "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n"
    'if __name__ == "__main__":\n    uvicorn.run(app, host="0.0.0.0", port=8000)\n'
)


@pytest.mark.parametrize(
    ("app", "requirements", "severity"),
    [
        (SOCKETIO_APP, "flask==3.0.3\nflask-socketio==5.4.1\n", "error"),
        (SOCKETIO_APP, "flask==3.0.3\nflask-socketio==5.4.1\neventlet==0.37.0\n", None),
        (UVICORN_APP, "fastapi==0.115.0\nuvicorn==0.30.0\n", "warning"),
    ],
)
def test_dev_servers_started_from_code_that_the_image_reaches(
    tmp_path: Path, app: str, requirements: str, severity: str | None
) -> None:
    write(
        tmp_path,
        {
            "app.py": app,
            "requirements.txt": requirements,
            "Dockerfile": 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/app.py"]\n',
        },
    )
    found = findings_for(tmp_path, "PR901")
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_committed_env_files_are_judged_by_content(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "frontend/.env": "VITE_API_URL=https://api.example.com\n",
            ".env.development": "DEBUG=1\nSECRET_KEY=dev\n",
            "deploy/.env.local": "DEBUG=1\nSTRIPE_API_KEY=sk_live_51HxYzQ2eZvKYlo2C8b3fA9xN\n",
            "deploy/prod.env": "LOG_LEVEL=info\nDEBUG=true\n",
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    found = {f.path: f for f in findings_for(tmp_path, "PR909")}
    assert sorted(found) == ["deploy/.env.local", "deploy/prod.env"]
    assert found["deploy/.env.local"].severity == "error"
    assert "STRIPE_API_KEY" in found["deploy/.env.local"].message
    assert "sk_live" not in found["deploy/.env.local"].message
    assert found["deploy/prod.env"].severity == "warning" and found["deploy/prod.env"].line == 2


def test_start_script_continuation_lines_are_one_command(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
            "docker-entrypoint.sh": "#!/bin/sh\nset -e\nexec gunicorn app:app \\\n"
            "    --bind '0.0.0.0:8000' \\\n    --workers 3 \\\n    \"$@\"\n",
            "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n"
            'ENTRYPOINT ["/app/docker-entrypoint.sh"]\n',
        },
    )
    assert places(tmp_path, "PR916") == []  # the --bind on the next line is seen
    assert places(tmp_path, "PR215") == []  # "$@" is an argument of the exec'd gunicorn
    script = tmp_path / "docker-entrypoint.sh"
    script.write_text(script.read_text().replace("exec gunicorn", "gunicorn"))
    assert places(tmp_path, "PR215") == [("docker-entrypoint.sh", 3)]


@pytest.mark.parametrize("case", ["wheels", "group"])
def test_a_server_the_image_installs_is_provided(case: str) -> None:
    """From the ecosystem run: healthchecks builds uwsgi's wheel in a builder stage that the
    final stage installs; wger's image installs the `docker` dependency group that holds
    gunicorn (`pip wheel --group docker`). PR914 and PR803 said the server was missing."""
    root = FIXTURES / "PR914" / "installed_elsewhere" / case
    assert [f for f in findings_for(root) if f.rule_id in ("PR914", "PR803")] == []


def test_a_server_only_in_a_group_no_image_installs_is_still_missing(tmp_path: Path) -> None:
    root = FIXTURES / "PR914" / "installed_elsewhere" / "group"
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("--group docker ", ""))
    assert {f.rule_id for f in findings_for(tmp_path)} >= {"PR914", "PR803"}


def test_a_script_the_healthcheck_runs_is_a_probe_not_the_service(tmp_path: Path) -> None:
    """healthchecks' HEALTHCHECK CMD ./fetchstatus.py opens a URL at module level without a
    timeout: Docker's healthcheck timeout ends it (PR110, PR113)."""
    probe = (  # it reads the app's settings, as fetchstatus.py imports hc.local_settings
        "import flask\nfrom urllib.request import urlopen\n\n"
        "with urlopen('http://127.0.0.1:8000/') as r:\n    pass\n"
    )
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "docker/fetchstatus.py": probe,
            "notify.py": probe,
            "Dockerfile": "FROM python:3.12-slim\nCOPY docker/fetchstatus.py /app/\n"
            "HEALTHCHECK CMD ./fetchstatus.py\n"
            'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
        },
    )
    for rule_id in ("PR110", "PR113"):
        assert places(tmp_path, rule_id) == [("notify.py", 4)]


@pytest.mark.parametrize(
    ("version_file", "reported"),
    [(".python-version", True), ("server/.python-version", True), ("sdk/.python-version", False)],
)
def test_python_version_files_of_a_sibling_project_are_not_the_images(
    tmp_path: Path, version_file: str, reported: bool
) -> None:
    """polar: server/Dockerfile runs 3.14; sdk/python/.python-version (3.11) is the SDK's."""
    write(
        tmp_path,
        {
            "server/app.py": FLASK,
            "server/Dockerfile": 'FROM python:3.14-slim\nCMD ["gunicorn", "app:app"]\n',
            version_file: "3.11\n",
        },
    )
    assert bool(places(tmp_path, "PR915")) is reported


def test_granian_interface_from_the_distribution_image(tmp_path: Path) -> None:
    """From the ecosystem run: the published image is built from `dist.dockerfile`, which sets
    GRANIAN_INTERFACE=wsgi for the start script's granian. `dist` there is no example mark."""
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "container/entrypoint.sh": "#!/bin/sh\nexec granian --host 0.0.0.0 app:app\n",
            "container/dist.dockerfile": (
                'FROM python:3.12-slim\nENV GRANIAN_INTERFACE="wsgi"\nUSER 1000\nCOPY . .\n'
                'CMD ["container/entrypoint.sh"]\n'
            ),
        },
    )
    assert places(tmp_path, "PR919") == []


@pytest.mark.parametrize(("host_env", "reported"), [('GRANIAN_HOST="::"', False), ("", True)])
def test_granian_listen_address_from_its_environment_variable(
    tmp_path: Path, host_env: str, reported: bool
) -> None:
    """From the ecosystem run: the image sets GRANIAN_HOST/GRANIAN_PORT and the start script's
    granian gives no --host; granian takes the variables, so it does not listen on loopback."""
    env = f"ENV {host_env} GRANIAN_INTERFACE=wsgi\n" if host_env else "ENV GRANIAN_INTERFACE=wsgi\n"
    write(
        tmp_path,
        {
            "app.py": FLASK,
            "start.sh": "#!/bin/sh\nexec granian app:app\n",
            "Dockerfile": f'FROM python:3.12-slim\n{env}USER 1000\nCOPY . .\nCMD ["./start.sh"]\n',
        },
    )
    assert places(tmp_path, "PR916") == ([("start.sh", 2)] if reported else [])


@pytest.mark.parametrize(
    ("procfile", "expected"),
    [
        ("web: python serve.py\n", []),  # production starts its server another way
        ("web: python app.py\n", ["error"]),  # production runs this very file
        (None, ["info"]),  # nothing says how production runs
    ],
)
def test_pr116_reload_in_a_function_only_the_main_block_calls(
    tmp_path: Path, procfile: str | None, expected: list[str]
) -> None:
    """From the ecosystem run: mealie's app.py has `def main(): uvicorn.run(..., reload=True)`
    called only from its __main__ block (and a developer's console script), while the image
    runs `python mealie/main.py`, whose uvicorn.run has no reload."""
    server = "import uvicorn\n\nuvicorn.run('app:app', host='0.0.0.0', workers=2)\n"
    files = {
        "app.py": "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        "def main():\n    uvicorn.run('app:app', reload=True)\n\n\n"
        "if __name__ == '__main__':\n    main()\n",
        "serve.py": server,
    }
    if procfile is not None:
        files["Procfile"] = procfile
    write(tmp_path, files)
    found = findings_for(tmp_path, "PR116")
    assert [str(f.severity) for f in found] == expected
    assert all(f.path == "app.py" and f.line == 8 for f in found)


def test_pr913_leaves_out_a_reloading_development_launcher(tmp_path: Path) -> None:
    """uvicorn.run(reload=True) is a development launcher (the file watcher); the same trust
    in a launcher without it is production's."""
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    (tmp_path / "run.py").write_text(
        "import uvicorn\n\n\ndef develop():\n"
        '    uvicorn.run("main:app", reload=True, forwarded_allow_ips="*")\n\n\n'
        'def start():\n    uvicorn.run("main:app", forwarded_allow_ips="*")\n'
    )
    assert [f.line for f in findings_for(tmp_path, "PR913")] == [9]


POOLED_APP = {
    "Dockerfile": (
        "FROM python:3.12-slim\nCOPY . .\nUSER nobody\n"
        'CMD ["gunicorn", "-w", "4", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]\n'
    ),
    "compose.yaml": "services:\n  api:\n    build: .\n  db:\n    image: postgres:16\n",
    "requirements.txt": "fastapi==0.115.0\ngunicorn==23.0.0\nsqlalchemy==2.0.36\npsycopg==3.2.3\n",
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\nfrom .db import Session\n\napp = FastAPI()\n",
    "app/db.py": (
        "import os\n\nfrom sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
        'engine = create_engine(os.environ["DATABASE_URL"], pool_size=5, max_overflow=5)\n'
        "Session = sessionmaker(bind=engine)\n"
    ),
    "scripts/backfill.py": (
        "import os\n\nfrom sqlalchemy import create_engine\n\n"
        'engine = create_engine(os.environ["DATABASE_URL"], pool_size=40, max_overflow=10)\n'
    ),
}


def test_pools_of_scripts_the_app_never_imports_are_not_the_workers(tmp_path: Path) -> None:
    """polar's API process was charged for every create_engine of its one-off scripts (1,288
    connections a process): a script is a process of its own. 4 x (5 + 5) fits 100."""
    write(tmp_path, POOLED_APP)
    assert findings_for(tmp_path, "PR907") == []


def test_a_pool_the_app_reaches_through_its_imports_is_counted(tmp_path: Path) -> None:
    write(tmp_path, {**POOLED_APP, "app/db.py": "from scripts.backfill import engine\n"})
    found = findings_for(tmp_path, "PR907")
    assert [(f.path, f.line) for f in found] == [("scripts/backfill.py", 5)], found
    assert "4 workers" in found[0].message and "pool_size 40" in found[0].message
