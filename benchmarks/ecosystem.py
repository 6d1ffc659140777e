"""Ecosystem check: `prodready check` over real public services, as ruff's ecosystem check does.

Runs `prodready check --format json` once per project of a corpus of checkouts (one directory
per repository, named `<owner>__<name>`, each the snapshot pinned in ecosystem_corpus.yaml),
counts the findings per rule, compares them with the last recorded run
(ecosystem_last.json, written with --record), and measures precision against the judged
sample in judged.yaml: every judgement pins repo@commit, file, line, rule, a verdict (true:
a real problem for that project's production; false: a false finding) and why.

A judgement matches a finding of the current run on repo, file and rule, and on the line, or,
when the line moved, on the stripped text of the line it pointed at. Findings the run no longer
reports do not count: precision is over what `check` says today.

Recall is measured against known_problems.yaml: production problems found by reviewing some of
the projects by hand, blind to what `check` reports (repo@commit, file, line, a class, why, and
afterwards the rule whose description covers it, or `none`). A known problem is found when a
finding of its rule is in its file; within one file and rule, problems and findings are paired
one to one, nearest lines first, so one finding never counts for two problems.

The projects' code is never committed, only the list of snapshots and the judgements. To build
the corpus, extract each listed commit into <corpus>/<owner>__<name>/ (for example
`git --git-dir=<mirror> archive <commit> | tar -x -C <corpus>/<owner>__<name>`).

    .venv/bin/python benchmarks/ecosystem.py [--corpus /work/corpus] [--record] [--dump FILE]

The last line holds the headline figures as name=value pairs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = Path("/work/corpus")
PRODREADY = Path(sys.executable).parent / "prodready"


@dataclass(frozen=True)
class Project:
    """One pinned snapshot of a public repository."""

    repo: str
    commit: str

    @property
    def directory_name(self) -> str:
        return self.repo.replace("/", "__")

    @property
    def pinned(self) -> str:
        return f"{self.repo}@{self.commit}"


@dataclass(frozen=True)
class Finding:
    """One finding of the run, with the stripped text of its line for matching moved lines.
    Two findings on one line (one per compose service sharing an anchor) differ by message."""

    repo: str
    path: str
    line: int
    rule: str
    severity: str
    message: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.repo}:{self.path}:{self.line}:{self.rule}"


@dataclass(frozen=True)
class Judgement:
    repo: str
    commit: str
    path: str
    line: int
    rule: str
    verdict: bool
    why: str
    text: str = ""


@dataclass(frozen=True)
class KnownProblem:
    """A production problem a reviewer found by hand; `rule` is None when no rule covers it."""

    repo: str
    commit: str
    path: str
    line: int
    problem_class: str
    rule: str | None


class CorpusError(Exception):
    """The corpus, the project list or the judgements cannot be used as given."""


def load_projects(path: Path) -> list[Project]:
    try:
        entries = yaml.safe_load(path.read_text())["projects"]
        return [Project(entry["repo"], str(entry["commit"])) for entry in entries]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise CorpusError(f"cannot read the project list {path}: {error}") from error


Entry = TypeVar("Entry")


def load_entries(path: Path, what: str, build: Callable[[dict], Entry]) -> list[Entry]:
    """Read a YAML list of entries; a missing file is an empty list, a malformed entry is an
    error naming its number."""
    if not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text()) or []
    except yaml.YAMLError as error:
        raise CorpusError(f"cannot parse {path}: {error}") from error
    built = []
    for number, entry in enumerate(entries, start=1):
        try:
            built.append(build(entry))
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise CorpusError(f"{path}: {what} {number} is malformed ({error})") from error
    return built


def load_judgements(path: Path) -> list[Judgement]:
    """Read judged.yaml."""
    return load_entries(path, "judgement", _judgement)


def _judgement(entry: dict) -> Judgement:
    repo, commit = entry["repo"].split("@", 1)
    if not isinstance(entry["verdict"], bool):
        raise ValueError("verdict must be true or false")
    return Judgement(
        repo=repo,
        commit=commit,
        path=entry["file"],
        line=int(entry["line"]),
        rule=entry["rule"],
        verdict=entry["verdict"],
        why=entry["why"],
        text=entry.get("text", ""),
    )


def load_known_problems(path: Path) -> list[KnownProblem]:
    """Read known_problems.yaml; without it, no recall is measured."""
    return load_entries(path, "known problem", _known_problem)


def _known_problem(entry: dict) -> KnownProblem:
    repo, commit = entry["repo"].split("@", 1)
    rule = str(entry["rule"])
    return KnownProblem(
        repo=repo,
        commit=commit,
        path=entry["file"],
        line=int(entry["line"]),
        problem_class=entry["class"],
        rule=None if rule == "none" else rule,
    )


def missing_projects(corpus: Path, projects: list[Project]) -> list[Project]:
    return [project for project in projects if not (corpus / project.directory_name).is_dir()]


def line_text(file: Path, line: int) -> str:
    try:
        lines = file.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def findings_from_report(repo: str, root: Path, report: dict) -> list[Finding]:
    return [
        Finding(
            repo=repo,
            path=item["path"],
            line=int(item["line"]),
            rule=item["rule"],
            severity=item["severity"],
            message=item["message"],
            text=line_text(root / item["path"], int(item["line"])),
        )
        for item in report["findings"]
    ]


def run_check(root: Path, timeout: float) -> dict:
    """One `prodready check` in a subprocess, so a crash or a hang is one project's problem."""
    command = [str(PRODREADY), "check", str(root)]
    command += ["--format", "json", "--quiet", "--fail-on", "never"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"exit {completed.returncode}: {last_line}")
    return json.loads(completed.stdout)


def count_per_rule(findings: list[Finding]) -> Counter[str]:
    return Counter(finding.rule for finding in findings)


def rule_deltas(current: Counter[str], last: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Per rule seen in either run: (count now, change since the last recorded run)."""
    rules = set(current) | set(last)
    return {rule: (current[rule], current[rule] - last.get(rule, 0)) for rule in sorted(rules)}


def match_judgements(
    findings: list[Finding], judgements: list[Judgement]
) -> dict[Finding, Judgement]:
    """Pair findings with judgements. A judgement covers every finding at its place (several
    compose services sharing one anchored line are one place); when its line moved, it covers
    the findings at the one new line that has the same text."""
    by_place = {(j.repo, j.path, j.rule, j.line): j for j in judgements}
    by_text = {(j.repo, j.path, j.rule, j.text): j for j in judgements if j.text}
    matched: dict[Finding, Judgement] = {}
    for finding in findings:
        judgement = by_place.get((finding.repo, finding.path, finding.rule, finding.line))
        if judgement is not None:
            matched[finding] = judgement
    placed = set(matched.values())
    moved_to: dict[Judgement, int] = {}
    for finding in findings:
        if finding in matched or not finding.text:
            continue
        judgement = by_text.get((finding.repo, finding.path, finding.rule, finding.text))
        if judgement is None or judgement in placed:
            continue
        if moved_to.setdefault(judgement, finding.line) == finding.line:
            matched[finding] = judgement
    return matched


@dataclass(frozen=True)
class Precision:
    judged: int
    true: int
    false: int
    false_per_rule: Counter[str]

    @property
    def value(self) -> float:
        return self.true / self.judged if self.judged else 0.0


def precision(matched: dict[Finding, Judgement]) -> Precision:
    verdicts = list(matched.values())
    false_per_rule = Counter(j.rule for j in verdicts if not j.verdict)
    true = sum(j.verdict for j in verdicts)
    return Precision(len(verdicts), true, len(verdicts) - true, false_per_rule)


def found_problems(findings: list[Finding], problems: list[KnownProblem]) -> set[KnownProblem]:
    """The known problems that a finding of their rule covers, paired one to one per file and
    rule, nearest lines first."""
    by_place: dict[tuple[str, str, str], list[int]] = {}
    for finding in findings:
        by_place.setdefault((finding.repo, finding.path, finding.rule), []).append(finding.line)
    candidates = sorted(
        (abs(line - problem.line), index, line)
        for index, problem in enumerate(problems)
        if problem.rule is not None
        for line in by_place.get((problem.repo, problem.path, problem.rule), [])
    )
    found: set[int] = set()
    used: set[tuple[str, str, str, int]] = set()
    for _, index, line in candidates:
        problem = problems[index]
        place = (problem.repo, problem.path, problem.rule or "", line)
        if index not in found and place not in used:
            found.add(index)
            used.add(place)
    return {problems[index] for index in found}


Pinned = TypeVar("Pinned", Judgement, KnownProblem)


def stale(entries: list[Pinned], projects: list[Project]) -> list[Pinned]:
    """Judgements or known problems pinned to a commit other than the corpus's: they would
    measure another tree."""
    pinned = {project.repo: project.commit for project in projects}
    return [entry for entry in entries if pinned.get(entry.repo) != entry.commit]


def print_rule_table(
    deltas: dict[str, tuple[int, int]],
    matched: dict[Finding, Judgement],
    projects_per_rule: Counter[str],
) -> None:
    judged = Counter(f.rule for f in matched)
    false = Counter(f.rule for f, j in matched.items() if not j.verdict)
    print(f"{'rule':<7} {'findings':>8} {'change':>7} {'projects':>8} {'judged':>6} {'false':>5}")
    for rule, (count, change) in deltas.items():
        change_text = f"{change:+d}" if change else "="
        print(
            f"{rule:<7} {count:>8} {change_text:>7} {projects_per_rule[rule]:>8}"
            f" {judged[rule]:>6} {false[rule]:>5}"
        )


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--projects", type=Path, default=HERE / "ecosystem_corpus.yaml")
    parser.add_argument("--judged", type=Path, default=HERE / "judged.yaml")
    parser.add_argument("--known", type=Path, default=HERE / "known_problems.yaml")
    parser.add_argument("--last", type=Path, default=HERE / "ecosystem_last.json")
    parser.add_argument(
        "--record", action="store_true", help="save this run as the last run (if none failed)"
    )
    parser.add_argument("--dump", type=Path, help="write every finding of this run as JSON")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per project")
    parser.add_argument("--jobs", type=int, default=2, help="projects checked at once")
    return parser.parse_args()


def main() -> int:
    arguments = parse_arguments()
    try:
        projects = load_projects(arguments.projects)
        judgements = load_judgements(arguments.judged)
        known = load_known_problems(arguments.known)
        absent = missing_projects(arguments.corpus, projects)
        if absent:
            raise CorpusError(
                f"corpus {arguments.corpus} lacks {len(absent)} of {len(projects)} projects"
                f" (first: {absent[0].directory_name}); extract each pinned commit listed in"
                f" {arguments.projects.name} there"
            )
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def check_one(project: Project) -> list[Finding]:
        root = arguments.corpus / project.directory_name
        report = run_check(root, arguments.timeout)
        return findings_from_report(project.repo, root, report)

    findings: list[Finding] = []
    failed: list[str] = []
    with ThreadPoolExecutor(max_workers=arguments.jobs) as pool:
        for project, result in zip(projects, pool.map(_capture(check_one), projects), strict=True):
            if isinstance(result, Exception):
                failed.append(project.repo)
                print(f"{project.repo}: check failed: {result}", file=sys.stderr)
            else:
                findings.extend(result)

    last = json.loads(arguments.last.read_text()) if arguments.last.exists() else {}
    counts = count_per_rule(findings)
    deltas = rule_deltas(counts, last.get("per_rule", {}))
    projects_per_rule = Counter(rule for rule, _ in {(f.rule, f.repo) for f in findings})
    matched = match_judgements(findings, judgements)
    measured = precision(matched)
    print_rule_table(deltas, matched, projects_per_rule)

    previous_keys = set(last.get("findings", []))
    current_keys = {finding.key for finding in findings}
    if previous_keys:
        print(
            f"since the last recorded run: {len(current_keys - previous_keys)} new,"
            f" {len(previous_keys - current_keys)} gone"
        )
    for judgement in stale(judgements, projects):
        print(f"stale judgement (other commit): {judgement.repo} {judgement.path}:{judgement.line}")
    for problem in stale(known, projects):
        print(f"stale known problem (other commit): {problem.repo} {problem.path}:{problem.line}")
    if measured.false_per_rule:
        listed = ", ".join(f"{rule}={n}" for rule, n in sorted(measured.false_per_rule.items()))
        print(f"false findings per rule: {listed}")

    found = found_problems(findings, known)
    missed = Counter(problem.problem_class for problem in known if problem not in found)
    if missed:
        listed = ", ".join(f"{name}={n}" for name, n in missed.most_common())
        print(f"known problems missed per class: {listed}")

    if arguments.dump:
        arguments.dump.write_text(json.dumps([vars(f) for f in findings], indent=1))
    if arguments.record and not failed:
        record = {"per_rule": dict(sorted(counts.items())), "findings": sorted(current_keys)}
        arguments.last.write_text(json.dumps(record, indent=1) + "\n")

    judged_projects = len({f.repo for f in matched})
    print(
        f"projects={len(projects) - len(failed)} failed={len(failed)} findings={len(findings)}"
        f" judged={measured.judged} judged_projects={judged_projects} true={measured.true}"
        f" false={measured.false} precision={measured.value:.4f}"
        f" unjudged={len(findings) - measured.judged}"
        + (
            f" known={len(known)} known_projects={len({p.repo for p in known})}"
            f" found={len(found)} recall={len(found) / len(known):.4f}"
            if known
            else ""
        )
    )
    return 1 if failed else 0


def _capture(
    function: Callable[[Project], list[Finding]],
) -> Callable[[Project], list[Finding] | Exception]:
    """Return the exception instead of raising it, so one broken project does not stop the run."""

    def wrapper(argument: Project) -> list[Finding] | Exception:
        try:
            return function(argument)
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
            return error

    return wrapper


if __name__ == "__main__":
    sys.exit(main())
