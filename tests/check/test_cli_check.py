"""`prodready check` as users run it: formats, exit codes, SARIF validity, config, suppression,
baselines and fixes, on real files in temporary trees."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from prodready.check.registry import load_rules
from tests.conftest import run_prodready

SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"

BAD_DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
ADD requirements.txt /app/
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
"""
APP = """\
from datetime import datetime

from flask import Flask

app = Flask(__name__)


@app.get("/health")
def health():
    return {"now": datetime.utcnow().isoformat()}
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(BAD_DOCKERFILE)
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "requirements.txt").write_text("flask==3.1.0\ngunicorn==23.0.0\n")
    return tmp_path


def test_text_report_groups_by_file_and_ends_with_summary(tree: Path) -> None:
    result = run_prodready("check", tree)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "Dockerfile" in lines and "app.py" in lines
    assert "PR101" in result.stdout and "fix:" in result.stdout
    assert lines[-1].startswith(tuple("0123456789")) and "finding" in lines[-1]


def test_json_is_clean_on_stdout(tree: Path) -> None:
    result = run_prodready("check", tree, "--format", "json")
    data = json.loads(result.stdout)
    rules = {f["rule"] for f in data["findings"]}
    assert "PR101" in rules
    assert data["summary"]["total"] == len(data["findings"])
    assert all(not Path(f["path"]).is_absolute() for f in data["findings"])


def test_sarif_is_valid_against_the_official_schema(tree: Path) -> None:
    result = run_prodready("check", tree, "--format", "sarif")
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    driver = sarif["runs"][0]["tool"]["driver"]
    assert {r["id"] for r in driver["rules"]} == set(load_rules())
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["help"]["text"]
    results = sarif["runs"][0]["results"]
    assert results
    for item in results:
        uri = item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and (tree / uri).is_file()
        assert driver["rules"][item["ruleIndex"]]["id"] == item["ruleId"]


def test_fail_on_threshold(tree: Path) -> None:
    assert run_prodready("check", tree, "--fail-on", "never").returncode == 0
    assert run_prodready("check", tree, "--fail-on", "error", "--select", "PR101").returncode == 0
    assert run_prodready("check", tree, "--fail-on", "warning", "--select", "PR101").returncode == 1


def test_inline_suppression_in_python_and_dockerfile(tree: Path) -> None:
    app = tree / "app.py"
    app.write_text(APP.replace(".isoformat()}", ".isoformat()}  # prodready: ignore[PR101] legacy"))
    result = run_prodready("check", tree, "--format", "json", "--select", "PR101")
    assert json.loads(result.stdout)["findings"] == []
    assert json.loads(result.stdout)["summary"]["suppressed"] == 1


def test_config_ignores_and_excludes(tree: Path) -> None:
    (tree / ".prodready.toml").write_text('ignore = ["PR101"]\nexclude = ["Dockerfile"]\n')
    data = json.loads(run_prodready("check", tree, "--format", "json").stdout)
    assert not any(f["rule"] == "PR101" for f in data["findings"])
    assert not any(f["path"] == "Dockerfile" for f in data["findings"])


def test_per_path_ignores_in_pyproject(tree: Path) -> None:
    (tree / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\n'
        '[tool.prodready.per-path-ignores]\n"app.py" = ["PR101"]\n'
    )
    data = json.loads(run_prodready("check", tree, "--format", "json").stdout)
    assert not any(f["rule"] == "PR101" for f in data["findings"])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('ignore = ["PR999"]\n', "unknown rule PR999"),
        ('colour = "red"\n', "unknown setting 'colour'"),
        ("ignore = [\n", "cannot read .prodready.toml"),
    ],
)
def test_bad_config_is_one_line_exit_2(tree: Path, config: str, message: str) -> None:
    (tree / ".prodready.toml").write_text(config)
    result = run_prodready("check", tree)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")


def test_baseline_reports_only_new_findings(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    baseline = tmp_path_factory.mktemp("baseline") / "baseline.json"
    first = run_prodready("check", tree, "--write-baseline", baseline, "--format", "json")
    assert json.loads(first.stdout)["findings"]
    assert first.returncode == 0, "writing a baseline succeeded: exit 0 despite the findings"
    again = run_prodready("check", tree, "--baseline", baseline, "--format", "json")
    assert json.loads(again.stdout)["findings"] == [] and again.returncode == 0
    # A line inserted above moves old findings without making them new.
    (tree / "app.py").write_text(
        "# moved\n" + APP + "\n\ndef later():\n    return datetime.utcnow().timestamp()\n"
    )
    moved = json.loads(
        run_prodready("check", tree, "--baseline", baseline, "--format", "json").stdout
    )
    assert [(f["rule"], f["line"]) for f in moved["findings"]] == [("PR101", 15)]


def test_fix_applies_safe_fixes_only(tree: Path) -> None:
    result = run_prodready("check", tree, "--fix", "--select", "PR101,PR205")
    assert "fixed Dockerfile:3 PR205" in result.stderr
    assert "COPY requirements.txt /app/" in (tree / "Dockerfile").read_text()
    assert "datetime.utcnow()" in (tree / "app.py").read_text()  # unsafe: not applied
    result = run_prodready("check", tree, "--fix", "--unsafe-fixes", "--select", "PR101")
    assert "utcnow" not in (tree / "app.py").read_text()
    assert result.returncode == 0
    compile((tree / "app.py").read_text(), "app.py", "exec")


@pytest.mark.parametrize("head", ["", "# the stack\n"])
def test_fix_removing_version_leaves_no_blank_first_line(tmp_path: Path, head: str) -> None:
    services = "services:\n  web:\n    image: nginx:1.27\n"
    compose = tmp_path / "compose.yaml"
    compose.write_text(f'{head}version: "3.8"\n\n{services}')
    result = run_prodready("check", tmp_path, "--fix", "--select", "PR311")
    assert "fixed compose.yaml:" in result.stderr and "PR311" in result.stderr
    assert compose.read_text() == head + services


def _line_of(report: str, rule_id: str) -> str:
    return next(line for line in report.splitlines() if f" {rule_id} " in line)


def test_unsafe_fixes_are_hidden_unless_asked_for(tree: Path) -> None:
    """As in ruff: a behaviour-changing fix is not labelled fixable; the summary counts it as
    hidden, and --unsafe-fixes shows it as such."""
    plain = run_prodready("check", tree, "--select", "PR101,PR205").stdout
    assert _line_of(plain, "PR205").endswith("(fixable)")
    assert "(fixable)" not in _line_of(plain, "PR101")
    assert "1 fixable with --fix, 1 hidden fix can be enabled with --fix --unsafe-fixes" in plain
    shown = run_prodready("check", tree, "--select", "PR101,PR205", "--unsafe-fixes").stdout
    assert _line_of(shown, "PR101").endswith("(unsafe fix available)")
    assert "1 more with --fix --unsafe-fixes" in shown
    after_fix = run_prodready("check", tree, "--fix", "--select", "PR101,PR205").stdout
    assert "PR205" not in after_fix
    assert "(fixable)" not in _line_of(after_fix, "PR101")
    assert "fixable with --fix;" not in after_fix and "1 hidden fix" in after_fix


def test_rules_command_lists_and_explains() -> None:
    listing = run_prodready("rules")
    assert listing.returncode == 0
    assert all(rule_id in listing.stdout for rule_id in load_rules())
    explained = run_prodready("rules", "PR001")
    assert "Why" in explained.stdout and "Fix" in explained.stdout
    lowered = run_prodready("rules", "PR102")
    assert 'severity: error; warning when the call is inside `if __name__ == "__main__":`' in (
        lowered.stdout
    )
    unknown = run_prodready("rules", "PR999")
    assert unknown.returncode == 2 and "no rule PR999" in unknown.stderr


def test_rules_doc_is_generated_from_registry() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
    generated = run_prodready("rules", "--markdown").stdout
    assert doc.read_text() == generated, "docs/rules.md is stale: run `make rules-doc`"


def test_example_copy_is_not_modified_without_fix(tree: Path) -> None:
    before = {p.name: p.read_bytes() for p in tree.iterdir()}
    run_prodready("check", tree)
    assert {p.name: p.read_bytes() for p in tree.iterdir()} == before
