"""The breaking-migration scan: drops and renames in new migration files, with file and line."""

from __future__ import annotations

from pathlib import Path

from prodready.deploy.breaking import new_migration_files, scan

ALEMBIC = """
from alembic import op
import sqlalchemy as sa

def upgrade():
    op.add_column("card", sa.Column("deck", sa.String()))
    op.drop_column("card", "legacy")
    op.alter_column("card", "front", new_column_name="question")
    op.alter_column("card", "back", nullable=True)
    op.rename_table("deck", "decks")
    op.drop_table("old")
"""

DJANGO = """
from django.db import migrations

class Migration(migrations.Migration):
    operations = [
        migrations.AddField(model_name="book", name="isbn", field=None),
        migrations.RemoveField(model_name="book", name="legacy"),
        migrations.RenameField(model_name="book", old_name="t", new_name="title"),
        migrations.DeleteModel(name="Old"),
        migrations.RenameModel(old_name="Author", new_name="Writer"),
    ]
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_alembic_drops_and_renames_are_found_with_their_lines(tmp_path: Path):
    path = write(tmp_path, "alembic/versions/002_cards.py", ALEMBIC)
    found = [str(change) for change in scan([path], tmp_path)]
    assert found == [
        "alembic/versions/002_cards.py:7: op.drop_column drops a column",
        "alembic/versions/002_cards.py:8: op.alter_column(new_column_name=...) renames a column",
        "alembic/versions/002_cards.py:10: op.rename_table renames a table",
        "alembic/versions/002_cards.py:11: op.drop_table drops a table",
    ]


def test_django_removals_and_renames_are_found(tmp_path: Path):
    path = write(tmp_path, "catalog/migrations/0002_books.py", DJANGO)
    lines = [change.line for change in scan([path], tmp_path)]
    assert lines == [7, 8, 9, 10]


def test_an_unparsable_migration_is_skipped_not_a_crash(tmp_path: Path):
    path = write(tmp_path, "alembic/versions/003_bad.py", "def upgrade(:\n")
    assert scan([path], tmp_path) == []


def test_only_files_the_running_release_lacks_are_new(tmp_path: Path):
    running, new = tmp_path / "old", tmp_path / "new"
    write(running, "alembic/versions/001.py", "")
    files = [write(new, "alembic/versions/001.py", ""), write(new, "alembic/versions/002.py", "")]
    assert new_migration_files(files, new, running) == files[1:]
    assert new_migration_files(files, new, None) == files
