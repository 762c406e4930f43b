"""Read YAML keeping each value's line, so config errors can say where they are."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]


class _DecimalConstructor(SafeConstructor):
    """Numbers with a fraction become Decimal: ``3.6725`` must stay exactly that."""

    def construct_yaml_float(self, node: Any) -> Any:
        try:
            return Decimal(str(self.construct_scalar(node)).replace("_", ""))
        except InvalidOperation:  # .inf, .nan: kept as floats for validation to reject
            return SafeConstructor.construct_yaml_float(self, node)


_DecimalConstructor.add_constructor("tag:yaml.org,2002:float", _DecimalConstructor.construct_yaml_float)


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


class LinedYaml:
    """A parsed document: ``data`` plus the 1-based line of every path in it."""

    def __init__(self, text: str) -> None:
        yaml = YAML(typ="safe", pure=True)
        yaml.Constructor = _DecimalConstructor
        yaml.allow_duplicate_keys = True
        try:
            node = yaml.compose(text)
            self.data: Any = yaml.constructor.construct_document(node) if node is not None else None
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise YamlSyntaxError((mark.line + 1) if mark else 1, f"YAML syntax: {exc.problem or exc}") from None
        self.lines: dict[Path, int] = {}
        self.duplicates: list[tuple[Path, int]] = []
        if node is not None:
            self._index(node, ())

    def line_of(self, path: Path) -> int:
        """The line of the deepest part of ``path`` that exists in the file."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def _index(self, node: Node, path: Path) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    continue  # a list or mapping as a key: no line to index; validation names it
                key = key_node.value
                child = (*path, key)
                if key in seen:
                    self.duplicates.append((child, key_node.start_mark.line + 1))
                    continue
                seen.add(key)
                self.lines[child] = key_node.start_mark.line + 1
                self._index(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._index(item, (*path, index))


def dotted(path: Path) -> str:
    """``('sources', 2, 'every')`` → ``sources[2].every``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
