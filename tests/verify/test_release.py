"""The app's release step runs on the scratch database before the boot; a failed one stops it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.verify.conftest import run_verify
from tests.verify.variants import example_copy

SETTINGS = """
import os
from urllib.parse import urlsplit

url = urlsplit(os.environ["DATABASE_URL"])
SECRET_KEY = "a-test-only-key-that-is-long-enough-for-django-checks-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "site_.urls"
WSGI_APPLICATION = "site_.wsgi.application"
INSTALLED_APPS = ["notes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": url.path[1:],
                         "USER": url.username, "PASSWORD": url.password or "",
                         "HOST": url.hostname, "PORT": url.port or 5432}}
"""
VIEWS = """
from django.http import JsonResponse
from notes.models import Note


def count(request):
    return JsonResponse({"notes": Note.objects.count()})
"""
MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.CreateModel("Note", [
        ("id", models.BigAutoField(primary_key=True)), ("body", models.TextField())])]
"""


def django_project(root: Path) -> Path:
    files = {
        "manage.py": "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'site_.settings')\nfrom django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n",
        "requirements.txt": "django\npsycopg\n",
        "site_/__init__.py": "",
        "site_/settings.py": SETTINGS,
        "site_/urls.py": "from django.urls import path\nfrom notes.views import count\n"
        "urlpatterns = [path('notes/', count)]\n",
        "site_/wsgi.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'site_.settings')\nfrom django.core.wsgi import get_wsgi_application\n"
        "application = get_wsgi_application()\n",
        "notes/__init__.py": "",
        "notes/models.py": "from django.db import models\n\n\nclass Note(models.Model):\n"
        "    body = models.TextField()\n\n    class Meta:\n        app_label = 'notes'\n",
        "notes/views.py": VIEWS,
        "notes/migrations/__init__.py": "",
        "notes/migrations/0001_initial.py": MIGRATION,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def test_django_migrations_run_on_the_scratch_database_before_the_boot(
    tmp_path: Path, pg_server: str
) -> None:
    app = django_project(tmp_path)
    result = run_verify(app, "--only", "check", "--json", "--database-url", pg_server)
    assert result.returncode in (0, 1), result.stderr
    boot = json.loads(result.stdout)["boot"]
    ran = [n for n in boot if n.startswith("release step `python manage.py migrate --noinput`")]
    assert ran and "ran on the scratch database" in ran[0], boot


def test_a_failing_release_step_stops_the_boot_with_its_log(tmp_path: Path, pg_server: str) -> None:
    app = django_project(tmp_path)
    (app / "Procfile").write_text(
        "release: python -c \"raise SystemExit('release broke: no seed file')\"\n"
        "web: gunicorn site_.wsgi:application\n"
    )
    result = run_verify(app, "--only", "check", "--json", "--database-url", pg_server)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "release step" in result.stderr and "Procfile release" in result.stderr
    assert "release broke: no seed file" in result.stderr
    assert "Traceback" not in result.stderr


def test_bookshop_is_migrated_on_a_scratch_postgresql_from_its_db_host_settings(
    tmp_path: Path, pg_server: str
) -> None:
    """bookshop builds DATABASES from DB_HOST, DB_NAME...: verify gives it the scratch database
    that way, and its Procfile release line migrates it there (never its SQLite file)."""
    app = example_copy("bookshop", tmp_path)
    result = run_verify(app, "--only", "check", "--json", "--database-url", pg_server)
    assert result.returncode in (0, 1), result.stderr
    boot = json.loads(result.stdout)["boot"]
    assert any("as DB_HOST" in n and "DB_NAME" in n for n in boot), boot
    ran = [n for n in boot if n.startswith("release step `python manage.py migrate --noinput`")]
    assert ran and "(Procfile release) ran on the scratch database" in ran[0], boot
    assert not (app / "db.sqlite3").exists(), "the app or its release ran on SQLite"
