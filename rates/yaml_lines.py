"""Read YAML keeping each value's line, so config errors can say where they are.

A config file is small and plain: no aliases (``*name``), no deep nesting, no control
characters. Refusing those before the document is built means a hostile file (a
"billion laughs" of aliases of aliases, ten thousand nested brackets, a NUL byte) costs
one linear pass and gives one ``FILE:LINE`` problem, never a traceback or gigabytes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scanner import Scanner, ScannerError

Path = tuple[str | int, ...]

# The bundled config nests four deep (sources[1].rates.USD.rate); sixteen is generous.
MAX_DEPTH = 16
# What YAML 1.2 allows in a stream (tab, newlines, printable Unicode); anything else is refused by line.
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _ShallowScanner(Scanner):
    """Stops at the first bracket or indent past ``MAX_DEPTH``.

    The scanner's look-ahead for flow keys costs time quadratic in the nesting, so a line
    of ten thousand ``[`` must be refused while it is read, not after.
    """

    def fetch_more_tokens(self) -> Any:
        if self.flow_level > MAX_DEPTH or len(self.indents) > MAX_DEPTH:
            raise ScannerError(None, None, f"nested deeper than {MAX_DEPTH} levels", self.reader.get_mark())
        return super().fetch_more_tokens()


class _DecimalConstructor(SafeConstructor):
    """Numbers with a fraction become Decimal: ``3.6725`` must stay exactly that.

    A scalar that looks like a number or a date but is none (``2001-02-30``, an integer of
    5,000 digits) stays a string, so validation names it with its path and line.
    """

    def construct_yaml_float(self, node: Any) -> Any:
        try:
            return Decimal(str(self.construct_scalar(node)).replace("_", ""))
        except InvalidOperation:  # .inf, .nan: kept as floats for validation to reject
            return SafeConstructor.construct_yaml_float(self, node)

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return SafeConstructor.construct_yaml_int(self, node)
        except ValueError:
            return str(self.construct_scalar(node))

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node, values)
        except (ValueError, OverflowError):
            return str(self.construct_scalar(node))


_DecimalConstructor.add_constructor("tag:yaml.org,2002:float", _DecimalConstructor.construct_yaml_float)
_DecimalConstructor.add_constructor("tag:yaml.org,2002:int", _DecimalConstructor.construct_yaml_int)
_DecimalConstructor.add_constructor("tag:yaml.org,2002:timestamp", _DecimalConstructor.construct_yaml_timestamp)


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


class LinedYaml:
    """A parsed document: ``data`` plus the 1-based line of every path in it."""

    def __init__(self, text: str) -> None:
        _refuse_control_characters(text)
        yaml = YAML(typ="safe", pure=True)
        yaml.Constructor = _DecimalConstructor
        yaml.Scanner = _ShallowScanner
        yaml.allow_duplicate_keys = True
        try:
            _refuse_aliases_and_depth(yaml, text)
            node = yaml.compose(text)
            self.data: Any = yaml.constructor.construct_document(node) if node is not None else None
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = str(exc.problem or exc)
            prefix = "" if problem.startswith("nested deeper") else "YAML syntax: "
            raise YamlSyntaxError((mark.line + 1) if mark else 1, prefix + problem) from None
        except YAMLError as exc:  # unmarked: the reader's own refusals
            raise YamlSyntaxError(1, f"YAML: {str(exc).splitlines()[0]}") from None
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


def _refuse_control_characters(text: str) -> None:
    found = _NOT_YAML.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    char = found.group()
    what = "a NUL byte" if char == "\0" else f"the control character U+{ord(char):04X}"
    raise YamlSyntaxError(line, f"{what} is not allowed in a config file")


def _refuse_aliases_and_depth(yaml: YAML, text: str) -> None:
    """One pass over the parser's events, before anything is built.

    Aliases are refused outright rather than bounded: a config never needs them, and
    every alias would otherwise be expanded (and indexed) once per use.
    """
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, AliasEvent):
            raise YamlSyntaxError(
                event.start_mark.line + 1, f"YAML aliases (*{event.anchor}) are not supported: write the value out"
            )
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSyntaxError(event.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def dotted(path: Path) -> str:
    """``('sources', 2, 'every')`` → ``sources[2].every``."""
    text = ""
    for part in path:
        if isinstance(part, str) and not part.isprintable():  # a NUL or newline in a key: shown escaped
            part = part.encode("unicode_escape").decode("ascii")
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
