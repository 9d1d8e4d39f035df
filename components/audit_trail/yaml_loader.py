"""The fastest safe YAML loader at hand (libyaml's when PyYAML was built with it, as its wheels are), and a
bounded load for files that may come from anyone (a pull request's Pulumi.<stack>.yaml in CI).

libyaml parses the project file and the Sigma rules about ten times faster than the pure-Python loader. The
safe loader builds no Python objects from tags, but it does follow aliases: a few hundred bytes of nested
aliases (the "billion laughs") stand for billions of nodes, and whatever walks the result - `json.dumps` of a
config value - takes seconds and gigabytes. `load_bounded` counts the nodes the document stands for, aliases
expanded, before building anything, and refuses one over the limit.
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NODES = 100_000
"""Nodes a project or stack file may stand for once aliases are expanded: a real one has a few hundred."""


class TooLarge(ValueError):
    """The document stands for more nodes than allowed (nested aliases), or refers to itself."""


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many nodes ROOT stands for with every alias expanded; TooLarge past LIMIT or on a cycle.

    Aliases share node objects in the composed graph, so sizes are memoised by node: linear in the text."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise TooLarge("an alias refers to a node that contains it")
        on_path.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        on_path.discard(key)
        if total > limit:
            raise TooLarge(f"it stands for more than {limit:,} values once its aliases are expanded")
        sizes[key] = total
        return total

    return size(root)


def load_bounded(text: str, max_nodes: int = MAX_NODES) -> Any:
    """TEXT's single YAML document, refused (TooLarge) when aliases expand it past MAX_NODES nodes;
    yaml.YAMLError when it is not YAML."""
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, max_nodes)
        return loader.construct_document(node)
    except RecursionError:
        raise TooLarge("it is nested too deeply") from None
    finally:
        loader.dispose()
