"""The rule registry: every rule module listed explicitly, each rule's kind (what it runs on)
apart from its family (its section in the docs), and the file it is written in."""

from __future__ import annotations

import re
from pathlib import Path

import prodready
from prodready.check.registry import RULE_MODULES, load_rules
from tests.conftest import run_prodready

PACKAGE = Path(prodready.__file__).resolve().parent
RULES_DIR = PACKAGE / "check" / "rules"


def test_every_module_that_defines_rules_is_listed() -> None:
    defining = {
        f"prodready.check.rules.{path.stem}"
        for path in RULES_DIR.glob("*.py")
        if re.search(r"^@rule\(", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert defining == set(RULE_MODULES)
    assert {rule.func.__module__ for rule in load_rules().values()} == set(RULE_MODULES)


def test_each_rule_names_the_file_it_is_written_in() -> None:
    for rule in load_rules().values():
        path = PACKAGE.parent / rule.source
        assert path.is_file(), rule.source
        text = path.read_text(encoding="utf-8")
        assert f'"{rule.id}"' in text and f"def {rule.func.__name__}(" in text, rule.id


def test_kind_and_family_are_apart() -> None:
    rules = load_rules()
    assert (rules["PR802"].kind, rules["PR802"].family) == ("project", "dependencies")
    assert (rules["PR801"].kind, rules["PR801"].family) == ("requirements", "dependencies")
    assert (rules["PR901"].kind, rules["PR901"].family) == ("project", "crossfile")
    doc = run_prodready("rules", "--markdown").stdout
    dependencies = doc.index("\n## Dependencies\n")
    crossfile = doc.index("\n## Cross-file rules (the whole project)\n")
    assert dependencies < doc.index("\n### PR802\n") < crossfile < doc.index("\n### PR901\n")


def test_rules_command_names_the_source_file() -> None:
    result = run_prodready("rules", "PR916")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "severity: error   runs on: project   family: crossfile"
    assert (
        lines[2]
        == "source: prodready/check/rules/crossfile_ports.py (container_listens_on_loopback)"
    )


def test_rule_modules_read_files_through_the_project() -> None:
    """Rules read `project.texts` (or files.project_text for what detect() did not hold), so
    no file is opened twice and every rule sees the same text."""
    for path in RULES_DIR.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bread_text\(|\bopen\(|\.read_bytes\(", text), path.name


def test_rule_modules_do_not_borrow_from_each_other() -> None:
    """Shared helpers live below (project.images, parsers, rules/_common, the facts modules),
    not in a sibling rule module."""
    for module in RULE_MODULES:
        path = RULES_DIR / f"{module.rsplit('.', 1)[1]}.py"
        imported = set(
            re.findall(r"^from (prodready\.check\.rules\.\w+) import", path.read_text(), re.M)
        )
        assert not imported & set(RULE_MODULES), (module, imported & set(RULE_MODULES))
