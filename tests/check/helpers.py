"""Running `check` on a fixture tree from tests."""

from __future__ import annotations

from pathlib import Path

from prodready.check.engine import run_check
from prodready.check.model import Finding

FIXTURES = Path(__file__).parent / "fixtures"


def findings_for(root: Path, rule_id: str | None = None) -> list[Finding]:
    """Findings of one rule (or all) on a tree, with that rule alone enabled when given."""
    result = run_check(root, select={rule_id} if rule_id else None)
    crashed = [f.message for f in result.findings if "internal error" in f.message]
    assert not crashed, f"a rule crashed: {crashed}"
    return [f for f in result.findings if rule_id is None or f.rule_id == rule_id]


def expected_locations(case: Path) -> set[tuple[str, int]]:
    """`expected.txt` in a bad fixture: one `path:line` per finding the rule must report."""
    listing = case / "expected.txt"
    if not listing.is_file():
        return set()
    result = set()
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, _, number = line.strip().rpartition(":")
            result.add((path, int(number)))
    return result
