"""benchmarks/ecosystem.py on a tiny synthetic corpus: real `prodready check` runs, real files."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ecosystem.py"
spec = importlib.util.spec_from_file_location("ecosystem", SCRIPT)
ecosystem = importlib.util.module_from_spec(spec)
sys.modules["ecosystem"] = ecosystem  # dataclasses look their module up there
spec.loader.exec_module(ecosystem)

COMMIT = "0" * 40
ROOT_IMAGE = 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/app.py"]\n'


def write_corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    for name in ("acme__shop", "acme__blog"):
        (corpus / name).mkdir(parents=True)
        (corpus / name / "Dockerfile").write_text(ROOT_IMAGE)
    projects = tmp_path / "projects.yaml"
    projects.write_text(
        yaml.safe_dump(
            {
                "projects": [
                    {"repo": "acme/shop", "commit": COMMIT},
                    {"repo": "acme/blog", "commit": COMMIT},
                ]
            }
        )
    )
    return corpus, projects


def judgement(repo: str, line: int, verdict: bool, text: str = "") -> dict:
    return {
        "repo": f"{repo}@{COMMIT}",
        "file": "Dockerfile",
        "line": line,
        "rule": "PR201",
        "text": text,
        "verdict": verdict,
        "why": "test",
    }


def run_script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def headline(stdout: str) -> dict[str, str]:
    return dict(pair.split("=") for pair in stdout.strip().splitlines()[-1].split())


def test_run_counts_rules_measures_precision_and_records_deltas(tmp_path: Path) -> None:
    corpus, projects = write_corpus(tmp_path)
    judged = tmp_path / "judged.yaml"
    judged.write_text(
        yaml.safe_dump([judgement("acme/shop", 1, True), judgement("acme/blog", 1, False)])
    )
    last = tmp_path / "last.json"
    options = ["--corpus", corpus, "--projects", projects, "--judged", judged, "--last", last]

    first = run_script(*options, "--record")

    assert first.returncode == 0, first.stderr
    figures = headline(first.stdout)
    assert figures["projects"] == "2"
    assert figures["judged"] == "2"
    assert figures["true"] == "1" and figures["false"] == "1"
    assert figures["precision"] == "0.5000"
    assert int(figures["unjudged"]) == int(figures["findings"]) - 2
    recorded = json.loads(last.read_text())
    assert recorded["per_rule"]["PR201"] == 2

    (corpus / "acme__blog" / "Dockerfile").write_text(ROOT_IMAGE.replace("CMD", "USER app\nCMD"))
    second = run_script(*options)

    pr201 = next(line for line in second.stdout.splitlines() if line.startswith("PR201"))
    assert pr201.split()[1:3] == ["1", "-1"]
    assert "1 gone" in second.stdout
    assert headline(second.stdout)["precision"] == "1.0000"


def test_missing_corpus_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _, projects = write_corpus(tmp_path)

    result = run_script("--corpus", tmp_path / "nowhere", "--projects", projects)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "lacks 2 of 2 projects" in result.stderr


def test_malformed_judgement_is_one_line_and_exit_2(tmp_path: Path) -> None:
    corpus, projects = write_corpus(tmp_path)
    judged = tmp_path / "judged.yaml"
    judged.write_text(yaml.safe_dump([{**judgement("acme/shop", 1, True), "verdict": "maybe"}]))

    result = run_script("--corpus", corpus, "--projects", projects, "--judged", judged)

    assert result.returncode == 2
    assert "judgement 1 is malformed" in result.stderr
    assert "Traceback" not in result.stderr


def test_judgement_follows_its_line_when_the_line_moved() -> None:
    moved = ecosystem.Finding(
        "acme/shop", "app.py", 12, "PR113", "warning", "m", "requests.get(url)"
    )
    other = ecosystem.Finding(
        "acme/shop", "app.py", 30, "PR113", "warning", "m", "requests.post(url)"
    )
    judged = ecosystem.Judgement(
        "acme/shop", COMMIT, "app.py", 10, "PR113", True, "t", "requests.get(url)"
    )

    matched = ecosystem.match_judgements([moved, other], [judged])

    assert matched == {moved: judged}


def test_a_moved_judgement_covers_one_line_even_if_two_lines_share_its_text() -> None:
    first = ecosystem.Finding("acme/shop", "app.py", 5, "PR101", "warning", "m", "now = utcnow()")
    second = ecosystem.Finding("acme/shop", "app.py", 9, "PR101", "warning", "m", "now = utcnow()")
    judged = ecosystem.Judgement(
        "acme/shop", COMMIT, "app.py", 1, "PR101", False, "t", "now = utcnow()"
    )

    assert ecosystem.match_judgements([first, second], [judged]) == {first: judged}


def test_a_judgement_covers_every_service_reported_on_its_line() -> None:
    server = ecosystem.Finding("acme/shop", "compose.yaml", 10, "PR301", "error", "server", "X: y")
    worker = ecosystem.Finding("acme/shop", "compose.yaml", 10, "PR301", "error", "worker", "X: y")
    judged = ecosystem.Judgement(
        "acme/shop", COMMIT, "compose.yaml", 10, "PR301", True, "t", "X: y"
    )

    matched = ecosystem.match_judgements([server, worker], [judged])

    assert matched == {server: judged, worker: judged}
    assert ecosystem.precision(matched).judged == 2


def test_rule_deltas_cover_rules_that_vanished() -> None:
    deltas = ecosystem.rule_deltas(Counter({"PR201": 3, "PR113": 1}), {"PR201": 5, "PR999": 2})

    assert deltas == {"PR113": (1, 1), "PR201": (3, -2), "PR999": (0, -2)}


def known(line: int, rule: str | None = "PR201", path: str = "Dockerfile") -> object:
    return ecosystem.KnownProblem("acme/shop", COMMIT, path, line, "runs-as-root", rule)


def finding(line: int, rule: str = "PR201", path: str = "Dockerfile") -> object:
    return ecosystem.Finding("acme/shop", path, line, rule, "warning", "m", "")


def test_a_finding_of_the_problem_s_rule_in_its_file_finds_it_once() -> None:
    """Two problems of one rule in one file and one finding: one found, the nearer; a problem
    no rule covers, or one whose rule fires in another file only, is missed."""
    near, far = known(3), known(40)
    uncovered = known(5, rule=None)
    elsewhere = known(2, path="docker/Dockerfile")
    findings = [finding(1), finding(7, rule="PR209")]
    found = ecosystem.found_problems(findings, [far, near, uncovered, elsewhere])
    assert found == {near}
    assert ecosystem.found_problems([*findings, finding(30)], [far, near]) == {near, far}


def test_recall_is_on_the_headline_when_known_problems_exist(tmp_path: Path) -> None:
    corpus, projects = write_corpus(tmp_path)
    known_file = tmp_path / "known.yaml"
    entries = [
        {"repo": f"acme/shop@{COMMIT}", "file": "Dockerfile", "line": 3,
         "class": "runs-as-root", "why": "test", "rule": "PR201"},
        {"repo": f"acme/blog@{COMMIT}", "file": "app.py", "line": 1,
         "class": "no-request-timeout", "why": "test", "rule": "none"},
    ]  # fmt: skip
    known_file.write_text(yaml.safe_dump(entries))
    done = run_script(
        "--corpus", corpus, "--projects", projects, "--judged", tmp_path / "none.yaml",
        "--known", known_file, "--last", tmp_path / "last.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = headline(done.stdout)
    assert figures["known"] == "2" and figures["found"] == "1" and figures["recall"] == "0.5000"
    assert "known problems missed per class: no-request-timeout=1" in done.stdout
