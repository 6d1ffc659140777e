"""Bounded fuzzing of every parser prodready reads input with (issue 12, the permanent suite).

Real files (the example apps and every rule's fixture projects) are mutated by Hypothesis and
fed to `check` (and `check --fix`) and to `init`: Python, gunicorn configs, Dockerfiles,
compose files, nginx and systemd files, .env files, requirements, pyproject.toml and
.prodready.toml, lock files, Procfiles and scripts. The load and serve option parsers and the
scenario files get hostile strings. The contract, for every input: exit 0, 1 or 2, one
`error:` line when 2, machine output that parses, no traceback, and each input handled within
a time bound and the whole run within a memory bound. The example counts bound the run (about
half a minute in all); PRODREADY_FUZZ_SCALE=20 multiplies them for a deeper run by hand. A
failure prints the input that broke the contract.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from prodready.errors import UserError
from prodready.generate.nginxtarget import parse_version
from prodready.generate.run import parse_only
from prodready.load import config as load_options
from prodready.load.scenario import load_scenario
from prodready.load.slo import parse_slo
from prodready.serve.plan import parse_bind
from tests.conftest import REPO
from tests.faults.inprocess import Outcome, run_in_process
from tests.faults.mutate import hostile_text, mutated

EXAMPLE_BOUND_S = 30.0
"""Far above the 0.1-0.5 s an input takes: only a hang or a blow-up crosses it."""
MEMORY_BOUND_MIB = 400
"""Growth of this process's peak RSS over a whole fuzzing test (an alias bomb took 650 MB)."""
SCALE = int(os.environ.get("PRODREADY_FUZZ_SCALE", "1"))
NOT_SEEDS = {"expected.txt", "EXPECTED.md", "README.md"}

PROJECTS = sorted(
    [p for p in (REPO / "examples").iterdir() if p.is_dir() and p.name != "fixed"]
    + [p for p in (REPO / "tests/check/fixtures").glob("*/*") if p.is_dir()]
)

EXTRA_FILES = {
    ".prodready.toml": b'[tool.prodready]\nignore = ["PR101"]\nfail-on = "error"\n'
    b'[tool.prodready.per-file-ignores]\n"tests/*" = ["PR102"]\n',
    "pyproject.toml": b'[project]\nname = "shop"\nrequires-python = ">=3.11"\n'
    b'dependencies = ["flask>=3", "gunicorn>=22"]\n[dependency-groups]\ndev = ["pytest"]\n'
    b'[tool.prodready]\nselect = ["PR1"]\n',
    "uv.lock": b'version = 1\n[[package]]\nname = "flask"\nversion = "3.0.3"\n',
    "poetry.lock": b'[[package]]\nname = "gunicorn"\nversion = "22.0.0"\n',
    "Pipfile": b'[packages]\nflask = "*"\n[requires]\npython_version = "3.11"\n',
    ".python-version": b"3.11.7\n",
    "migrations/alembic.ini": b"[alembic]\nscript_location = migrations\n",
    "deploy/k8s/web.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
}
"""Kinds the fixture projects rarely hold, written into the project before mutating them."""

SCENARIO_SEEDS = {
    "s.toml": b'base_url = "http://127.0.0.1:9/api"\nheaders = {Accept = "application/json"}\n'
    b'[[requests]]\npath = "/books"\nweight = 3\n[[requests]]\nmethod = "POST"\n'
    b'path = "/orders"\nbody = "{}"\nname = "order"\n',
    "s.yaml": b"base_url: http://127.0.0.1:9/\nrequests:\n  - path: /a\n    weight: 2\n"
    b"  - {path: /b, method: PUT, body_file: body.json, headers: {X-A: b}}\n",
}

FUZZ = settings(
    deadline=None,  # the time bound is EXAMPLE_BOUND_S, checked in each test
    database=None,  # nothing written into the repository
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _seed_files(project: Path) -> list[str]:
    return sorted(
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and p.name not in NOT_SEEDS and "__pycache__" not in p.parts
    )


@st.composite
def hostile_projects(draw: st.DrawFn) -> tuple[Path, str, bytes]:
    """A real project, and one of its files (or an added kind) mutated."""
    project = draw(st.sampled_from(PROJECTS))
    files = _seed_files(project)
    target = draw(st.sampled_from(files + sorted(EXTRA_FILES)))
    seed = EXTRA_FILES.get(target) or (project / target).read_bytes()
    return project, target, draw(mutated(seed))


@pytest.fixture(scope="module", autouse=True)
def _memory_bound() -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < MEMORY_BOUND_MIB, f"peak RSS grew {grown_mib:.0f} MiB while fuzzing"


def _copy_with(project: Path, target: str, data: bytes, into: Path) -> Path:
    root = into / "project"
    shutil.copytree(project, root, ignore=shutil.ignore_patterns("__pycache__", *NOT_SEEDS))
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    (root / target).write_bytes(data)
    return root


def assert_contract(outcome: Outcome, *, json_out: bool = False) -> None:
    """Exit 0/1 with output that parses, or one `error:` line and exit 2; no traceback."""
    assert outcome.crash is None, outcome.crash
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    assert outcome.code in (0, 1, 2), (outcome.code, outcome.stderr[-3000:])
    if outcome.code == 2:
        errors = [line for line in outcome.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, outcome.stderr[-3000:]
    elif json_out:
        json.loads(outcome.stdout)


def _timed(*args: str) -> Outcome:
    started = time.perf_counter()
    outcome = run_in_process(*args)
    elapsed = time.perf_counter() - started
    assert elapsed < EXAMPLE_BOUND_S, f"prodready {' '.join(args[:1])} took {elapsed:.0f} s"
    return outcome


@settings(FUZZ, max_examples=300 * SCALE)
@given(case=hostile_projects(), fix=st.booleans())
def test_check_survives_mutated_files(case: tuple[Path, str, bytes], fix: bool) -> None:
    project, target, data = case
    note(f"project {project.relative_to(REPO)}, file {target}, {len(data)} bytes")
    with tempfile.TemporaryDirectory() as scratch:
        root = _copy_with(project, target, data, Path(scratch))
        assert_contract(_timed("check", str(root), "--format", "json"), json_out=True)
        if fix:
            assert_contract(_timed("check", str(root), "--fix", "--unsafe-fixes", "--no-color"))


@settings(FUZZ, max_examples=100 * SCALE)
@given(case=hostile_projects())
def test_init_survives_mutated_files(case: tuple[Path, str, bytes]) -> None:
    project, target, data = case
    note(f"project {project.relative_to(REPO)}, file {target}, {len(data)} bytes")
    with tempfile.TemporaryDirectory() as scratch:
        root = _copy_with(project, target, data, Path(scratch))
        assert_contract(_timed("init", str(root), "--no-color"))


OPTION_PARSERS = (
    load_options.parse_target,
    load_options.parse_duration,
    load_options.parse_rate,
    load_options.parse_header,
    load_options.parse_method,
    parse_slo,
    parse_bind,
    parse_version,
    parse_only,
)


@settings(FUZZ, max_examples=1000 * SCALE)
@given(parser=st.sampled_from(OPTION_PARSERS), text=hostile_text())
def test_option_parsers_refuse_in_one_line(parser, text: str) -> None:
    """Each option value parses or is refused by a UserError (one line, exit 2); nothing else."""
    try:
        parser(text)
    except UserError as error:
        assert error.message and "\n" not in error.message, error.message


@settings(FUZZ, max_examples=400 * SCALE)
@given(name=st.sampled_from(sorted(SCENARIO_SEEDS)), data=st.data())
def test_scenario_files_load_or_refuse(name: str, data: st.DataObject) -> None:
    contents = data.draw(mutated(SCENARIO_SEEDS[name]))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / name
        path.write_bytes(contents)
        (Path(scratch) / "body.json").write_bytes(b"{}")
        started = time.perf_counter()
        try:
            target, requests = load_scenario(path)
            load_options.build_config(None, requests=requests, target=target)
        except UserError as error:
            assert error.message, "a refusal says why"
        assert time.perf_counter() - started < EXAMPLE_BOUND_S
