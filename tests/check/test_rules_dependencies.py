"""The Python-version parsing behind PR804."""

from __future__ import annotations

import pytest

from prodready.check.rules.dependencies import allowed_minors, to_specifier
from prodready.project.deps import from_pyproject


@pytest.mark.parametrize(
    ("declared", "newest"),
    [
        (">=3.8,<3.10", 9),
        ("~=3.9", 20),
        ("^3.8", 20),
        ("~3.9", 9),
        ("3.9", 9),
        ("3.9.18", 9),
        ("python-3.8.10", 8),
        ("==3.11.*", 11),
        (">=3.8,<3.10 || >=3.12", 20),
    ],
)
def test_python_declarations(declared: str, newest: int) -> None:
    spec = to_specifier(declared)
    assert spec is not None
    assert allowed_minors(spec)[-1] == (3, newest)


def test_pyproject_dependency_line_is_not_the_project_name() -> None:
    text = '[project]\nname = "flask-api"\ndependencies = [\n    "flask==3.1.2",\n]\n'
    deps, _, _ = from_pyproject("pyproject.toml", text, locked=False)
    assert [(d.name, d.line) for d in deps] == [("flask", 4)]
