"""The bookshop example's real Django database, moved the preferred way: Django's own
migrations create the PostgreSQL schema, `db migrate` loads the data, and the app's queries
return the same results on both databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.db.conftest import Target

QUERY = (
    "from catalog.models import Book; from django.contrib.auth.models import User; "
    "print([(b.id, b.title, str(b.price), b.in_stock) for b in Book.objects.order_by('-price')[:5]]); "
    "print(Book.objects.filter(in_stock__gt=10).count(), User.objects.get(username='admin').is_superuser)"
)
SEED = (
    "from catalog.models import Book; from django.contrib.auth.models import User; "
    "[Book.objects.create(title=f'Book {i}', author=f'Author {i % 7}', price=f'{i % 40}.{i % 100:02d}', "
    "in_stock=i % 25) for i in range(120)]; User.objects.create_superuser('admin', 'a@example.com', 'pw')"
)


def manage(app: Path, *args: str, pg: Target | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DJANGO_"))}
    if pg is not None:
        env.update(DB_HOST="127.0.0.1", DB_NAME=pg.name, DB_USER="postgres", DB_PASSWORD="")
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bookshop_moves_with_its_own_migrations(prodready, tmp_path: Path, target: Target) -> None:
    app = tmp_path / "bookshop"
    shutil.copytree(REPO / "examples" / "bookshop", app)
    manage(app, "migrate", "-v0")
    manage(app, "shell", "-c", SEED)
    manage(app, "migrate", "-v0", pg=target)
    refused = prodready("db", "migrate", app / "db.sqlite3", target.url)
    assert refused.returncode == 2 and "django_migrations" in refused.stderr
    done = prodready("db", "migrate", "--truncate", app / "db.sqlite3", target.url)
    assert done.returncode == 0, done.stderr
    assert "(app schema kept)" in done.stdout and "verification: every row matches" in done.stdout
    assert manage(app, "shell", "-c", QUERY, pg=target) == manage(app, "shell", "-c", QUERY)
    assert target.column_types("catalog_book")["price"] == "numeric"
    assert target.column_types("auth_user")["is_superuser"] == "boolean"
    # the app can write after the move: its id sequence continues after the copied rows
    manage(
        app,
        "shell",
        "-c",
        "from catalog.models import Book; "
        "assert Book.objects.create(title='n', author='a', price=1).id == 121",
        pg=target,
    )
