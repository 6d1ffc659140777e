"""Settings a production module assigns again over a module it copies with `import *`.

Django and Flask projects often keep a development value in `settings/base.py` and replace it
in `settings/prod.py` (`from .base import *` then `SECRET_KEY = os.environ[...]`). The base
value never runs in production, so a finding on it is false; one on a name the production
module does not assign again stays.

A production module may live elsewhere in the checkout than where the image runs it: taiga's
Dockerfile runs `cp docker/config.py settings/config.py`, so `from .common import *` in
docker/config.py copies settings/common.py. Such copies are read from the production
Dockerfiles and the star imports resolved from where the module lands.
"""

from __future__ import annotations

import posixpath

from prodready.project.model import Project
from prodready.project.parsers.commands import split_shell
from prodready.project.parsers.dockerfile import built_lineage, instructions
from prodready.project.pyscan import module_name

COPY_PROGRAMS = frozenset({"cp", "mv"})


def find_overrides(project: Project) -> dict[tuple[str, str], str]:
    """(module, NAME) -> the first production module that star-imports the module and assigns
    NAME again. Read after environments.classify(): development modules override nothing."""
    rel_of = {summary.module: rel for rel, summary in project.modules.items()}
    installed = installed_copies(project)
    overrides: dict[tuple[str, str], str] = {}
    for rel, summary in sorted(project.modules.items()):
        if not summary.star_imports or not project.env_of(rel).deployed:
            continue
        copied_modules = list(summary.star_imports)
        for destination in installed.get(rel, ()):
            copied_modules += [_moved(name, rel, destination) for name in summary.star_imports]
        for copied in copied_modules:
            base = rel_of.get(copied)
            if base is None or base == rel:
                continue
            for name in summary.top_level_names - {"*"}:
                overrides.setdefault((base, name), rel)
    return overrides


def installed_copies(project: Project) -> dict[str, list[str]]:
    """Python module -> the paths (relative to the checkout) production Dockerfiles copy it to
    with `RUN cp|mv a.py b.py` or `COPY a.py b.py`, both paths relative: the image's working
    copy mirrors the checkout."""
    copies: dict[str, list[str]] = {}
    for dockerfile in project.dockerfiles:
        if not project.env_of(dockerfile.rel).deployed:
            continue
        for inst in instructions(built_lineage(dockerfile), "RUN", "COPY"):
            if inst.keyword == "COPY":
                pairs = [list(inst.args)] if "from" not in inst.flags else []
            else:
                commands = split_shell(inst.value)
                pairs = [words[1:] for words in commands if words and words[0] in COPY_PROGRAMS]
            for words in pairs:
                paths = [w for w in words if not w.startswith("-")]
                if len(paths) != 2 or not all(p.endswith(".py") for p in paths):
                    continue
                source, destination = (posixpath.normpath(p) for p in paths)
                if source in project.modules and not destination.startswith(("/", "..")):
                    copies.setdefault(source, []).append(destination)
    return copies


def _moved(imported: str, rel: str, destination: str) -> str:
    """A star import resolved from the module's own package, resolved again from the package
    it is copied into: `docker.common` of docker/config.py is `settings.common` once the file
    is settings/config.py. Absolute imports stay."""
    package = module_name(rel).rpartition(".")[0]
    new_package = module_name(destination).rpartition(".")[0]
    if package and imported.startswith(package + "."):
        return f"{new_package}.{imported[len(package) + 1 :]}" if new_package else imported
    return imported
