"""Facts rules derive from the whole Project, worked out once per project.

Rules run per file; a fact about every file (all TLS server names, where each environment
variable is set) recomputed in each rule call makes check quadratic in files or services.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from prodready.project.model import Project

T = TypeVar("T")


def once_per_project(build: Callable[[Project], T]) -> Callable[[Project], T]:
    """`build(project)`, kept for the last Project it was given (by identity). Only one is
    kept, so no finished Project stays alive beside the next one."""
    last: list[tuple[Project, T]] = []

    @functools.wraps(build)
    def cached(project: Project) -> T:
        if last and last[0][0] is project:
            return last[0][1]
        value = build(project)
        last[:] = [(project, value)]
        return value

    return cached
