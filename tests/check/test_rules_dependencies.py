"""The Python-version parsing behind PR804."""

from __future__ import annotations

import pytest

from prodready.check.rules.dependencies import allowed_minors, to_specifier


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
