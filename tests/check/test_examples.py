"""`prodready check` on each example app reports every problem its EXPECTED.md lists.

EXPECTED.md holds a Markdown table `| file:line | rule | problem |`. A row whose rule is not
registered yet is skipped (the rule modules land one by one); a registered rule that misses its
row fails."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from prodready.check.model import Finding
from prodready.check.registry import load_rules
from tests.check.helpers import findings_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROW = re.compile(
    r"^\|\s*(?P<path>[^|\s]+):(?P<line>\d+)\s*\|\s*(?P<rule>PR\d{3})\s*\|(?P<text>.*)\|"
)


def expected_rows(example: str) -> list[tuple[str, int, str, str]]:
    """(path, line, rule id, problem) for each table row of the example's EXPECTED.md."""
    rows = []
    for text in (EXAMPLES / example / "EXPECTED.md").read_text().splitlines():
        match = ROW.match(text.strip())
        if match:
            rows.append((match["path"], int(match["line"]), match["rule"], match["text"].strip()))
    return rows


@functools.cache
def findings(example: str) -> tuple[Finding, ...]:
    return tuple(findings_for(EXAMPLES / example))


CASES = [
    pytest.param(example, row, id=f"{example}:{row[2]}@{row[0]}:{row[1]}")
    for example in ("riskapi", "flashcards", "bookshop")
    for row in expected_rows(example)
]


def test_every_example_lists_its_problems() -> None:
    for example in ("riskapi", "flashcards", "bookshop"):
        assert len(expected_rows(example)) >= 10, f"{example}/EXPECTED.md has too few rows"
        assert (EXAMPLES / example / "README.md").is_file()


@pytest.mark.parametrize(("example", "row"), CASES)
def test_example_problem_is_reported(example: str, row: tuple[str, int, str, str]) -> None:
    path, line, rule_id, problem = row
    if rule_id not in load_rules():
        pytest.skip(f"{rule_id} is not written yet")
    assert (EXAMPLES / example / path).is_file(), f"EXPECTED.md names a missing file {path}"
    reported = [f for f in findings(example) if f.rule_id == rule_id]
    assert any(f.path == path and f.line == line for f in reported), (
        f"{rule_id} did not report {path}:{line} ({problem}); it reported "
        f"{sorted((f.path, f.line) for f in reported)}"
    )
