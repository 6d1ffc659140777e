"""Every rule has a bad fixture it reports and a good fixture it stays quiet on.

Layout: tests/check/fixtures/PRxxx/bad/ and tests/check/fixtures/PRxxx/good/, each a small
project tree with realistic file names. An optional bad/expected.txt lists `path:line` pairs
that must each be reported."""

from __future__ import annotations

import pytest

from prodready.check.registry import load_rules
from tests.check.helpers import FIXTURES, expected_locations, findings_for

RULE_IDS = sorted(load_rules())


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_bad_and_good_fixture(rule_id: str) -> None:
    assert (FIXTURES / rule_id / "bad").is_dir(), f"{rule_id} has no bad fixture"
    assert (FIXTURES / rule_id / "good").is_dir(), f"{rule_id} has no good fixture"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_reports_bad_fixture(rule_id: str) -> None:
    case = FIXTURES / rule_id / "bad"
    if not case.is_dir():
        pytest.fail(f"{rule_id} has no bad fixture")
    found = findings_for(case, rule_id)
    assert found, f"{rule_id} reported nothing on its bad fixture"
    reported = {(f.path, f.line) for f in found}
    missing = expected_locations(case) - reported
    assert not missing, f"{rule_id} missed {sorted(missing)}; reported {sorted(reported)}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_quiet_on_good_fixture(rule_id: str) -> None:
    case = FIXTURES / rule_id / "good"
    if not case.is_dir():
        pytest.fail(f"{rule_id} has no good fixture")
    found = findings_for(case, rule_id)
    assert not found, f"{rule_id} reported on its good fixture: {found}"


def test_at_least_45_rules_and_8_cross_file() -> None:
    rules = load_rules().values()
    file_rules = [r for r in rules if r.kind not in ("project", "meta")]
    cross = [r for r in rules if r.kind == "project"]
    assert len(file_rules) >= 45
    assert len(cross) >= 8
