"""One detection pass over real files on disk builds the Project; it never imports user code."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from prodready.errors import InputError
from prodready.project import FileKind, detect, server_commands


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_flask_app_with_blueprint_prefix_and_dev_run(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": """
            from flask import Flask
            from api import bp

            app = Flask(__name__)
            app.register_blueprint(bp, url_prefix="/api")

            @app.route("/health")
            def health():
                return "ok"

            if __name__ == "__main__":
                app.run(debug=True, port=5001)
        """,
            "api.py": """
            import requests
            from flask import Blueprint

            bp = Blueprint("api", __name__, url_prefix="/v1")

            @bp.post("/score")
            def score():
                return requests.get("http://x", timeout=1).text
        """,
            "requirements.txt": "flask==3.1.0\npsycopg[binary]>=3\n",
        },
    )
    project = detect(tmp_path)
    assert project.app is not None and project.app.target == "app:app"
    assert project.framework == "flask" and project.app.interface == "wsgi"
    routes = {r.path: r for r in project.routes}
    # register_blueprint(url_prefix=...) replaces the Blueprint's own prefix, as in Flask.
    assert set(routes) == {"/health", "/api/score"}
    assert routes["/api/score"].blocking_io and routes["/api/score"].methods == ("POST",)
    assert not routes["/health"].blocking_io
    run = project.modules["app.py"].run_calls[0]
    assert run.under_main_guard and run.kwargs["debug"] is True
    assert any(b.port == 5001 for b in project.binds)
    assert [s.name for s in project.services] == ["postgresql"]


def test_flask_factory_and_wsgi_module(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shop/__init__.py": """
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                return app
        """,
            "wsgi.py": "from shop import create_app\n\napp = create_app()\n",
        },
    )
    project = detect(tmp_path)
    assert project.app is not None and project.app.target == "wsgi:app"
    assert "create_app() result" in project.app.found_by
    assert {c.target for c in project.candidates} == {"shop:create_app()", "wsgi:app"}


def test_fastapi_router_prefixes_and_async(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/cards/main.py": """
            from fastapi import FastAPI
            from cards.routes import router

            app = FastAPI()
            app.include_router(router, prefix="/api")
        """,
            "src/cards/routes.py": """
            from fastapi import APIRouter

            router = APIRouter(prefix="/decks")

            @router.get("/{deck_id}")
            async def get_deck(deck_id: int):
                return {}
        """,
            "pyproject.toml": """
            [project]
            name = "cards"
            version = "1"
            requires-python = ">=3.12"
            dependencies = ["fastapi>=0.110", "asyncpg", "redis>=5"]
            [dependency-groups]
            dev = ["pytest"]
        """,
            "uv.lock": "version = 1\n",
        },
    )
    project = detect(tmp_path)
    assert project.app is not None and project.app.target == "cards.main:app"
    assert project.app.interface == "asgi"
    assert [(r.path, r.is_async) for r in project.routes] == [("/api/decks/{deck_id}", True)]
    assert project.python_version == "3.12"
    assert {s.name for s in project.services} == {"postgresql", "redis"}
    deps = {d.name: d for d in project.dependencies}
    assert deps["fastapi"].pinned  # uv.lock pins everything
    assert deps["pytest"].dev


def test_django_entry_routes_and_settings(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "manage.py": "import os\n",
            "shop/settings.py": """
            DEBUG = True
            ALLOWED_HOSTS = ["*"]
            ROOT_URLCONF = "shop.urls"
            WSGI_APPLICATION = "shop.wsgi.application"
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
        """,
            "shop/wsgi.py": """
            from django.core.wsgi import get_wsgi_application
            application = get_wsgi_application()
        """,
            "shop/asgi.py": """
            from django.core.asgi import get_asgi_application
            application = get_asgi_application()
        """,
            "shop/urls.py": """
            from django.urls import include, path
            urlpatterns = [path("health/", lambda r: None), path("books/", include("books.urls"))]
        """,
            "books/urls.py": """
            from django.urls import path
            from . import views
            urlpatterns = [path("<int:pk>/", views.detail)]
        """,
            "Pipfile": '[packages]\ndjango = "==5.1"\n[requires]\npython_version = "3.11"\n',
        },
    )
    project = detect(tmp_path)
    assert project.app is not None and project.app.target == "shop.wsgi:application"
    assert project.framework == "django"
    assert {r.path for r in project.routes} == {"/health/", "/books/<int:pk>/"}
    assert project.python_version == "3.11"
    assert [s.name for s in project.services] == ["postgresql"]


def test_django_views_methods_come_from_their_decorators(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "manage.py": "import os\n",
            "shop/settings.py": 'ROOT_URLCONF = "shop.urls"\n',
            "shop/wsgi.py": """
            from django.core.wsgi import get_wsgi_application
            application = get_wsgi_application()
        """,
            "shop/urls.py": """
            from django.urls import path
            from django.views.decorators.http import require_POST
            from shop import views
            from shop.views import edit

            @require_POST
            def ping(request):
                return None

            urlpatterns = [
                path("", views.index),
                path("orders/", views.order),
                path("edit/<int:pk>/", edit),
                path("ping/", ping),
                path("plain/", views.plain),
            ]
        """,
            "shop/views.py": """
            from django.views.decorators import http
            from django.views.decorators.csrf import csrf_exempt
            from django.views.decorators.http import require_http_methods, require_safe

            @require_safe
            def index(request): ...

            @csrf_exempt
            @http.require_POST
            def order(request): ...

            @require_http_methods(["get", "PUT"])
            def edit(request, pk): ...

            def plain(request): ...
        """,
        },
    )
    routes = {r.path: r.methods for r in detect(tmp_path).routes}
    assert routes == {
        "/": ("GET", "HEAD"),
        "/orders/": ("POST",),
        "/edit/<int:pk>/": ("GET", "PUT"),
        "/ping/": ("POST",),
        "/plain/": ("GET",),
    }


def test_deployment_files_by_kind_and_dev_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            "Dockerfile": 'FROM python:3.12-slim\nEXPOSE 8000\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
            "Dockerfile.dev": "FROM python:3.12\n",
            "docker-compose.yml": "services:\n  web:\n    build: .\n    command: sh -c 'alembic upgrade head && exec uvicorn app:app --reload'\n",
            "docker-compose.override.yml": "services: {}\n",
            "deploy/nginx/site.conf": "server {\n  listen 80;\n}\n",
            "deploy/supervisord.conf": "[program:x]\ncommand=foo\n",
            "deploy/app.service": "[Service]\nExecStart=/srv/venv/bin/gunicorn -c gunicorn.conf.py app:app\n",
            "gunicorn.conf.py": "bind = '127.0.0.1:8001'\nworkers = 3\n",
            ".env": "A=1\n",
            ".env.example": "A=\n",
            "Procfile": "web: flask --app app run --port 5000\n",
            "start.sh": "#!/bin/sh\nexec python -m gunicorn app:app\n",
            "requirements-dev.txt": "pytest\n",
            "tests/test_app.py": "def test(): pass\n",
        },
    )
    project = detect(tmp_path)
    kinds = {f.rel: (f.kind, f.dev_only) for f in project.files}
    assert kinds["Dockerfile"] == (FileKind.DOCKERFILE, False)
    assert kinds["Dockerfile.dev"] == (FileKind.DOCKERFILE, True)
    assert kinds["docker-compose.override.yml"] == (FileKind.COMPOSE, True)
    assert kinds["deploy/nginx/site.conf"][0] == FileKind.NGINX
    assert "deploy/supervisord.conf" not in kinds
    assert kinds["gunicorn.conf.py"][0] == FileKind.GUNICORN
    assert kinds[".env.example"] == (FileKind.ENV, True)
    assert kinds["tests/test_app.py"] == (FileKind.PYTHON, True)
    assert kinds["requirements-dev.txt"] == (FileKind.REQUIREMENTS, True)
    judged = {
        (launch.source, j.program, j.dev_server is not None)
        for launch, j in server_commands(project)
    }
    assert ("dockerfile", "gunicorn", False) in judged
    assert ("compose", "uvicorn", True) in judged
    assert ("systemd", "gunicorn", False) in judged
    assert ("procfile", "flask", True) in judged
    assert ("script", "gunicorn", False) in judged
    ports = {(b.source, b.port) for b in project.binds}
    assert ("gunicorn bind", 8001) in ports and ("EXPOSE", 8000) in ports


def test_git_tracked_files(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "x = 1\n", ".env": "A=1\n", "other.py": "y = 2\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "app.py", ".env"], check=True)
    project = detect(tmp_path)
    assert project.git_tracked == {"app.py", ".env"}


def test_never_imports_user_code(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    write(
        tmp_path,
        {
            "app.py": f"open({str(marker)!r}, 'w').close()\nfrom flask import Flask\napp = Flask(__name__)\n"
        },
    )
    detect(tmp_path)
    assert not marker.exists()


def test_missing_and_file_paths_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        detect(tmp_path / "nope")
    (tmp_path / "f").write_text("")
    with pytest.raises(InputError, match="not a directory"):
        detect(tmp_path / "f")


def test_many_files_are_scanned_in_parallel_with_same_result(tmp_path: Path) -> None:
    for n in range(120):
        write(tmp_path, {f"pkg/m{n}.py": f"import os\nX{n} = os.environ.get('VAR_{n}')\n"})
    project = detect(tmp_path)
    reads = set()
    for summary in project.modules.values():
        reads.update(summary.env_reads)
    assert reads == {f"VAR_{n}" for n in range(120)}


@pytest.mark.parametrize(
    ("line", "serves"),
    [
        ("flask --app app db upgrade", False),
        ("python -m flask --app app run --port 5000", True),
        ("fastapi --version", False),
        ("fastapi run app/main.py", True),
    ],
)
def test_task_subcommands_are_not_servers(line: str, serves: bool) -> None:
    from prodready.project.parsers.commands import judge, split_shell, unwrap

    judged = [judge(simple) for argv in split_shell(line) for simple in unwrap(argv)]
    assert any(judged) is serves


def test_flask_blueprint_prefixes_through_imports_factories_and_nesting(tmp_path: Path) -> None:
    """The layout of a real project (Flask's tutorial and the mega-tutorial): blueprints
    registered in create_app() under an alias, routes in other modules of the package, a
    Blueprint(url_prefix=...) registered without one, and a blueprint nested in another."""
    write(
        tmp_path,
        {
            "shop/__init__.py": """
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                from shop.api import bp as api_bp
                app.register_blueprint(api_bp, url_prefix="/api")
                from shop import admin
                app.register_blueprint(admin.admin_bp)
                return app
        """,
            "shop/api/__init__.py": """
            from flask import Blueprint

            bp = Blueprint("api", __name__)

            from shop.api import tokens  # noqa: E402
        """,
            "shop/api/tokens.py": """
            import requests
            from shop.api import bp

            @bp.route("/tokens", methods=["POST"])
            def get_token():
                return requests.post("http://auth", timeout=2).text
        """,
            "shop/admin.py": """
            from flask import Blueprint
            from .reports import reports

            admin_bp = Blueprint("admin", __name__, url_prefix="/admin")
            admin_bp.register_blueprint(reports)

            @admin_bp.get("/users")
            def users():
                return []
        """,
            "shop/reports.py": """
            from flask import Blueprint

            reports = Blueprint("reports", __name__, url_prefix="/reports")

            @reports.get("/daily")
            def daily():
                return []
        """,
            "wsgi.py": "from shop import create_app\n\napp = create_app()\n",
        },
    )
    project = detect(tmp_path)
    routes = {r.path: r for r in project.routes}
    assert set(routes) == {"/api/tokens", "/admin/users", "/admin/reports/daily"}
    assert routes["/api/tokens"].blocking_io, "what reads routes sees the prefixed path"


@pytest.mark.parametrize(
    "wsgi",
    [
        "application = Production(get_wsgi_application())",
        "application = WhiteNoise(get_wsgi_application(), root='static')",
        "app = get_wsgi_application()\napplication = Production(ProxyFix(app))",
    ],
)
def test_a_wrapped_django_application_is_still_the_app(tmp_path: Path, wsgi: str) -> None:
    write(
        tmp_path,
        {
            "manage.py": "import os\n",
            "site_/settings.py": 'ROOT_URLCONF = "site_.urls"\n',
            "site_/wsgi.py": "from django.core.wsgi import get_wsgi_application\n"
            "from prodready.runtime import Production\n"
            "from whitenoise import WhiteNoise\n"
            "from werkzeug.middleware.proxy_fix import ProxyFix\n" + wsgi + "\n",
            "requirements.txt": "django\n",
        },
    )
    project = detect(tmp_path)
    assert [c.target for c in project.candidates] == ["site_.wsgi:application"]
    assert project.app is not None and project.app.interface == "wsgi"
    assert project.framework == "django"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("app = Flask(__name__)\napp = ProxyFix(app, x_for=1)\n", "main:app"),
        ("app = Flask(__name__)\napplication = ProxyFix(app)\n", "main:application"),
        ("app = Production(create_app())\n", "main:app"),
        ("app = create_app()\nwsgi = ProxyFix(app)\n", "main:wsgi"),
    ],
)
def test_a_wrapping_call_around_an_app_is_that_app(
    tmp_path: Path, source: str, target: str
) -> None:
    factory = "def create_app():\n    return Flask(__name__)\n"
    write(tmp_path, {"main.py": "from flask import Flask\n" + factory + source})
    project = detect(tmp_path)
    assert project.app is not None and project.app.target == target, project.candidates
    assert project.framework == "flask"


def test_an_extension_that_takes_the_app_is_not_the_app(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from flask import Flask\nfrom flask_migrate import Migrate\n"
        "from flask_sqlalchemy import SQLAlchemy\n\napp = Flask(__name__)\n"
        "db = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n"
    )
    project = detect(tmp_path)
    assert project.app is not None and project.app.target == "app:app"
