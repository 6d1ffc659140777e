"""Settings a production module assigns again over a module it copies with `import *`.

Django and Flask projects often keep a development value in `settings/base.py` and replace it
in `settings/prod.py` (`from .base import *` then `SECRET_KEY = os.environ[...]`). The base
value never runs in production, so a finding on it is false; one on a name the production
module does not assign again stays.
"""

from __future__ import annotations

from prodready.project.model import Project


def find_overrides(project: Project) -> dict[tuple[str, str], str]:
    """(module, NAME) -> the first production module that star-imports the module and assigns
    NAME again. Read after environments.classify(): development modules override nothing."""
    rel_of = {summary.module: rel for rel, summary in project.modules.items()}
    overrides: dict[tuple[str, str], str] = {}
    for rel, summary in sorted(project.modules.items()):
        if not summary.star_imports or not project.env_of(rel).deployed:
            continue
        for copied in summary.star_imports:
            base = rel_of.get(copied)
            if base is None or base == rel:
                continue
            for name in summary.top_level_names - {"*"}:
                overrides.setdefault((base, name), rel)
    return overrides
