"""nginx configuration through crossplane (NGINX's own parser), one file at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import crossplane

from prodready.project.model import FileProblem


@dataclass
class Directive:
    name: str
    args: list[str]
    line: int
    block: list[Directive] | None = None
    parent: Directive | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, list[Directive]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def children(self, name: str) -> list[Directive]:
        """The directives called `name` in this block, in order. Grouped by name on first
        use: rules ask per file, and a folder's file level holds every file's directives.
        The list is shared: do not modify it."""
        if self.block is None:
            return []
        if self._by_name is None:
            self._by_name = {}
            for directive in self.block:
                self._by_name.setdefault(directive.name, []).append(directive)
        return self._by_name.get(name, [])

    def child(self, name: str) -> Directive | None:
        found = self.children(name)
        return found[-1] if found else None

    def ancestors(self) -> Iterator[Directive]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass
class NginxConf:
    rel: str
    directives: list[Directive]
    problems: list[FileProblem] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def walk(self) -> Iterator[Directive]:
        stack = list(reversed(self.directives))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.block or []))

    def find(self, name: str) -> list[Directive]:
        return [d for d in self.walk() if d.name == name]

    def servers(self) -> list[Directive]:
        return [d for d in self.walk() if d.name == "server" and d.block is not None]


def parse(path: Path, rel: str, text: str) -> NginxConf:
    try:
        payload = crossplane.parse(
            str(path), single=True, check_ctx=False, check_args=False, catch_errors=True
        )
    except Exception as error:
        return NginxConf(rel, [], [FileProblem(rel, 1, f"cannot parse nginx config: {error}")])
    config = payload["config"][0] if payload["config"] else {"parsed": [], "errors": []}
    problems = [
        FileProblem(rel, int(e.get("line") or 1), f"nginx syntax: {e.get('error')}")
        for e in config.get("errors", [])
    ]
    return NginxConf(rel, _build(config.get("parsed", []), None), problems, text.splitlines())


def _build(items: list[dict[str, Any]], parent: Directive | None) -> list[Directive]:
    result: list[Directive] = []
    for item in items:
        if item.get("directive") == "#":
            continue
        node = Directive(item["directive"], list(item.get("args", [])), int(item.get("line", 1)))
        node.parent = parent
        if "block" in item:
            node.block = _build(item["block"], node)
        result.append(node)
    return result
