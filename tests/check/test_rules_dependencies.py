"""The Python-version parsing behind PR804, and what PR801 counts as pinned."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.rules.dependencies import allowed_minors, to_specifier
from prodready.project.deps import from_pyproject
from tests.check.helpers import findings_for


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


@pytest.mark.parametrize(
    ("spec", "reported"),
    [
        (
            "mylib @ git+https://github.com/acme/mylib@3f2a9d1c5e0b8a7f6e5d4c3b2a1f0e9d8c7b6a5f",
            False,
        ),
        ("mylib @ git+https://github.com/acme/mylib.git@v1.4.2", False),
        ("wheelpkg @ https://files.example.com/wheelpkg-1.2.3-py3-none-any.whl", False),
        ("pkg @ https://files.example.com/pkg.tar.gz#sha256=" + "a" * 64, False),
        ("mylib @ git+https://github.com/acme/mylib@main", True),
        ("mylib @ git+https://github.com/acme/mylib", True),
        ("pkg @ https://files.example.com/pkg-latest.tar.gz", True),
        ("flask>=3.1", True),
    ],
)
def test_pr801_direct_references_pinned_by_commit_tag_or_file(
    tmp_path: Path, spec: str, reported: bool
) -> None:
    (tmp_path / "requirements.txt").write_text(f"{spec}\n")
    assert bool(findings_for(tmp_path, "PR801")) is reported


@pytest.mark.parametrize(
    ("requirements", "reported"),
    [
        ("django==5.1.4\nchannels[daphne]==4.2.0\n", False),
        ("fastapi[standard]==0.115.6\n", False),
        ("django==5.1.4\nchannels==4.2.0\n", True),
        ("django==5.1.4\ndjango-storages[s3]==1.14.4\n", True),
    ],
)
def test_pr803_a_server_installed_through_an_extra(
    tmp_path: Path, requirements: str, reported: bool
) -> None:
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "manage.py").write_text("import django\n")
    (tmp_path / "app.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n"
        if "fastapi" in requirements
        else "from django.core.wsgi import get_wsgi_application\n\n"
        "application = get_wsgi_application()\n"
    )
    assert bool(findings_for(tmp_path, "PR803")) is reported


def test_unpinned_requirements_of_one_file_are_one_finding(tmp_path: Path) -> None:
    names = [f"package{i}" for i in range(40)]
    (tmp_path / "requirements.txt").write_text("# runtime\n" + "\n".join(names) + "\n")
    (finding,) = findings_for(tmp_path, "PR801")
    assert finding.line == 2
    assert finding.message.startswith("40 dependencies are not pinned (package0, package1")
    assert "and 32 more" in finding.message


def test_extras_line_of_a_package_pinned_on_another_line_is_pinned(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("bleach==6.3.0\nbleach[css]\nflask\n")
    (finding,) = findings_for(tmp_path, "PR801")
    assert finding.line == 3 and finding.message.startswith("flask has no version")


def test_dev_tools_the_production_code_imports_are_runtime_dependencies() -> None:
    """From the ecosystem run: debug_toolbar in INSTALLED_APPS (shynet, TandoorRecipes) and
    freezegun imported by CTFd's uploader were reported, though moving them out breaks the app;
    pytest-django and pytest-cov beside pytest were one finding each; requirements-lint.txt
    was read as runtime. What is left is one finding listing the file's real dev tools."""
    root = Path(__file__).parent / "fixtures" / "PR802" / "runtime_import"
    found = [f for f in findings_for(root) if f.rule_id == "PR802"]
    assert [(f.path, f.line) for f in found] == [("requirements.txt", 5)]
    assert found[0].message == (
        "3 development tools in the runtime dependencies: pytest, pytest-django, flake8"
    )


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.mark.parametrize(
    ("run", "reported"),
    [
        # the image installs the root file: the client's own requirements are another program's
        ("RUN pip install --no-cache-dir -r requirements.txt", {"requirements.txt"}),
        # an included file is installed too
        ("RUN pip install -r /code/requirements/production.txt && echo ok;",
         {"requirements/base.txt"}),
        # a file the image names through a variable: nothing is known, everything is judged
        ("RUN pip install -r $REQUIREMENTS", {"requirements.txt", "requirements/base.txt",
                                              "cli-tool/requirements.txt"}),
    ],
)  # fmt: skip
def test_unpinned_requirements_of_files_no_image_installs_are_not_reported(
    tmp_path: Path, run: str, reported: set[str]
) -> None:
    """mediacms' cli-tool/requirements.txt (an upload client beside the service) was reported
    as the service's unpinned dependencies; its Dockerfile installs requirements.txt only."""
    _tree(
        tmp_path,
        {
            "Dockerfile": f"FROM python:3.12-slim\nCOPY . /code\n{run}\n",
            "requirements.txt": "flask\n",
            "requirements/base.txt": "django>=5\n",
            "requirements/production.txt": "-r base.txt\ngunicorn==23.0.0\n",
            "cli-tool/requirements.txt": "click\nrequests\n",
            "cli-tool/cli.py": "print('upload')\n",
        },
    )
    assert {f.path for f in findings_for(tmp_path, "PR801")} == reported


def test_without_an_image_every_requirements_file_is_judged(tmp_path: Path) -> None:
    _tree(tmp_path, {"requirements.txt": "flask\n", "tools/requirements.txt": "click\n"})
    assert {f.path for f in findings_for(tmp_path, "PR801")} == {
        "requirements.txt",
        "tools/requirements.txt",
    }


def test_interactive_shells_and_http_clients_are_development_tools(tmp_path: Path) -> None:
    """ipython and httpie in the runtime requirements (fastapi-react, microblog): a shell and
    a command-line client for trying the API by hand, never imported by the service."""
    (tmp_path / "requirements.txt").write_text(
        "flask==3.1.2\nipython==8.28.0\ngunicorn==23.0.0\nhttpie==3.2.2\n"
    )
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    [finding] = findings_for(tmp_path, "PR802")
    assert finding.line == 2 and "ipython, httpie" in finding.message
