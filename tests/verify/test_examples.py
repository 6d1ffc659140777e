"""`prodready verify` on the three examples and on their fixed variants: an original fails
exactly the items its EXPECTED.md lists under "What `prodready verify` must report", and the
fixed variant (the patches in examples/fixed/<name>/, applied in a temporary copy) passes every
item. Full runs, with a scratch PostgreSQL database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from prodready.verify.items import ITEMS
from prodready.verify.items.compare import NOISE
from tests.verify.conftest import FULL_RUN_TIMEOUT_S, by_id, require_tools, run_verify
from tests.verify.variants import EXAMPLES, example_copy

NAMES = ("riskapi", "flashcards", "bookshop")
HEADING = "## What `prodready verify` must report"
ROW = re.compile(r"^\|\s*(?P<item>[a-z]+)\s*\|(?P<evidence>[^|]+)\|(?P<problem>[^|]+)\|\s*$")
UNDER_LOAD = {"compare", "reload", "deploy"}
"""Items that load the app for seconds: on an original, whose plan is its own, a machine busy
with other work can tip them either way, so the EXPECTED tables list none of them and they are
left out of the comparison (the fixed variants must pass them)."""
ARGS = {
    "bookshop": ("--host", "shop.example.com", "-e", f"DJANGO_SECRET_KEY={'k7Q-' * 13}"),
}
"""bookshop's fixed settings take the secret key from the environment only and allow its nginx
name (the original ignores both)."""

Scorecards = Callable[[str, bool], dict[str, Any]]


def runtime_rows(name: str) -> dict[str, str]:
    """item id -> problem, from the verify table of the example's EXPECTED.md."""
    text = (EXAMPLES / name / "EXPECTED.md").read_text()
    assert HEADING in text, f"{name}/EXPECTED.md has no '{HEADING}' section"
    rows = {}
    for line in text.split(HEADING, 1)[1].splitlines():
        match = ROW.match(line.strip())
        if match and match["item"] != "item":
            rows[match["item"]] = match["problem"].strip()
    return rows


@pytest.fixture(scope="session")
def scorecards(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: str
) -> Scorecards:
    """scorecards(name, fixed): the full run of an example or its fixed variant, made once
    (the original riskapi's is the one conftest's riskapi_scorecard shares)."""
    require_tools("nginx", "openssl", "strace", "hadolint", "systemd-analyze")
    made: dict[tuple[str, bool], dict[str, Any]] = {}

    def scorecard(name: str, fixed: bool) -> dict[str, Any]:
        if (name, fixed) == ("riskapi", False):
            return request.getfixturevalue("riskapi_scorecard")  # type: ignore[no-any-return]
        if (name, fixed) not in made:
            folder = tmp_path_factory.mktemp(f"{name}-{'fixed' if fixed else 'original'}")
            app = example_copy(name, folder, fixed=fixed)
            result = run_verify(
                app, "--json", "--database-url", pg_server, *ARGS.get(name, ()),
                timeout=FULL_RUN_TIMEOUT_S,
            )  # fmt: skip
            assert result.returncode in (0, 1), result.stderr
            made[name, fixed] = json.loads(result.stdout)
        return made[name, fixed]

    return scorecard


def _shown(scorecard: dict[str, Any]) -> str:
    return "\n".join(f"{i['id']}: {i['status']} - {i['summary']}" for i in scorecard["items"])


def test_every_runtime_row_names_a_verify_item() -> None:
    known = {item.id for item in ITEMS}
    for name in NAMES:
        rows = runtime_rows(name)
        assert rows, f"{name}/EXPECTED.md lists no verify failures"
        assert set(rows) <= known, f"{name}: unknown items {set(rows) - known}"
        assert all(len(problem) > 20 for problem in rows.values()), rows


@pytest.mark.parametrize("name", NAMES)
def test_the_original_fails_exactly_the_items_expected_md_lists(
    scorecards: Scorecards, name: str
) -> None:
    scorecard = scorecards(name, False)
    failed = {item["id"] for item in scorecard["items"] if item["status"] == "fail"}
    rows = set(runtime_rows(name))
    assert not rows & UNDER_LOAD
    assert failed - UNDER_LOAD == rows, _shown(scorecard)


@pytest.mark.parametrize("name", NAMES)
def test_the_fixed_variant_passes_every_item(scorecards: Scorecards, name: str) -> None:
    scorecard = scorecards(name, True)
    items = by_id(scorecard)
    assert set(items) == {item.id for item in ITEMS}
    for item_id, item in items.items():
        allowed = ("pass", "warn") if item_id == "compare" else ("pass",)
        assert item["status"] in allowed, f"{item_id}: {item}\n\n{_shown(scorecard)}"
    assert _plan_beats_dev_server(items["compare"]), items["compare"]


def _plan_beats_dev_server(item: dict[str, Any]) -> bool:
    """Beyond "not slower": on the light route the plan serves more than NOISE more requests
    per second, on an I/O route more (the load carries twice the dev server's ceiling there),
    and it fails no request. compare may warn: at the same req/s on the I/O route, where both
    servers carry the load, which p99 comes out slower is the machine's noise (159 against
    133 ms in one CI run), so a warning there, which the item gives only after measuring it
    again, is the machine's and not the fix's."""
    m = item["measures"]
    no_failures = all(m.get(f"{kind}_plan_failed_requests", 0) == 0 for kind in ("light", "io"))
    return no_failures and m["light_rps_ratio"] > 1 + NOISE and m.get("io_rps_ratio", 2) > 1
