"""YAML loaded into dicts and lists that remember the line of every key and item, so findings in
compose files point at the right line. Safe loading only."""

from __future__ import annotations

from typing import Any

import yaml

from prodready import safeyaml


class LineDict(dict[Any, Any]):
    """A mapping that knows the line (1-based) of itself and of each key."""

    line: int = 1
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 1
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_sequence)


def _merge_tag(loader: _Loader, node: yaml.Node) -> Any:
    """Compose's merge tags `!reset` and `!override` (docker compose 2.24+) mark how an
    override file merges; the value under them is read as written (`!reset` with none: null)."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node) or None  # type: ignore[arg-type]


for _tag in ("!reset", "!override"):
    _Loader.add_constructor(_tag, _merge_tag)


def load(text: str) -> Any:
    """Raises yaml.YAMLError on malformed input, AliasBombError before expanding an alias bomb."""
    return safeyaml.load(text, _Loader)
