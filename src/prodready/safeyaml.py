"""YAML that cannot explode. PyYAML expands aliases without limit: a 1 KB "billion laughs"
document took minutes and hundreds of MB once anything walked or printed it. Before any
object is constructed, the composed node graph is sized (each distinct node once, so in time
linear in what was written) and refused above a small budget, or when an alias loops.

Top-level (beside errors.py) so the load command's scenario files and the compose parser
share it without importing the detection layer."""

from __future__ import annotations

from typing import Any

import yaml

EXPANSION_FLOOR = 20_000
EXPANSION_RATIO = 10
"""Aliases may expand a document to at most max(FLOOR, RATIO x its written nodes) nodes:
generous for compose anchors and merge keys, far below an alias bomb."""


class AliasBombError(yaml.YAMLError):
    """The document's aliases would expand it far beyond what was written (or into a loop)."""


def load(text: str, loader_class: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """`yaml.load` with a safe loader; raises yaml.YAMLError on malformed input and
    AliasBombError, before constructing anything, for a document that aliases would blow up."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Counts the nodes the document would have with every alias expanded, in time linear in
    the nodes written (each distinct node is sized once), and refuses it above the budget."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_sized = stack.pop()
        key = id(node)
        if children_sized:
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            open_nodes.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise AliasBombError("an alias refers to a node that contains it (a loop): refused")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    budget = max(EXPANSION_FLOOR, EXPANSION_RATIO * len(sizes))
    if sizes[id(root)] > budget:
        raise AliasBombError(
            f"aliases expand {len(sizes):,} written nodes to {sizes[id(root)]:,}, "
            f"above the limit of {budget:,}: refused (an alias bomb?)"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
