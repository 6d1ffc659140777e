"""Which of the project's Python files a served app imports, directly or through others.

Module names are the files' paths (`server/polar/app.py` is `server.polar.app`) while imports
name them from wherever the code runs (`polar.app`), so an imported name matches every file
whose dotted name ends with it. Importing `a.b.c` also runs the packages `a` and `a.b`."""

from __future__ import annotations

from collections import defaultdict

from prodready.project.model import ModuleSummary, Project


def reachable_files(project: Project, entries: list[str]) -> set[str]:
    """The files (rel) of the entry modules (dotted names) and of everything they import."""
    by_suffix = _by_suffix(project)
    reached: set[str] = set()
    pending = [summary for name in entries for summary in by_suffix.get(name, [])]
    while pending:
        summary = pending.pop()
        if summary.rel in reached:
            continue
        reached.add(summary.rel)
        for name in summary.imported_modules:
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                pending.extend(by_suffix.get(".".join(parts[:end]), []))
    return reached


def served_entry_modules(project: Project) -> list[str]:
    """The dotted modules production launches serve (`gunicorn shop.wsgi:app` gives
    shop.wsgi; `python app.py` gives the file's module)."""
    entries = []
    for launch in project.launches:
        if not launch.env.production:
            continue
        for server in launch.servers:
            if server.app_target:
                entries.append(server.app_target.split(":", 1)[0])
            elif server.script and server.script.endswith(".py"):
                entries.append(server.script.removesuffix(".py").lstrip("./").replace("/", "."))
    return [entry for entry in entries if entry]


def _by_suffix(project: Project) -> dict[str, list[ModuleSummary]]:
    index: dict[str, list[ModuleSummary]] = defaultdict(list)
    for summary in project.modules.values():
        parts = summary.module.split(".")
        for start in range(len(parts)):
            index[".".join(parts[start:])].append(summary)
    return index
