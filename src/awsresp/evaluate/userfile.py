"""Reads a user's YAML file (owners, accepted risks) keeping the line of every mapping and
list item, so each validation error names the file and the line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from awsresp.errors import AwsrespError


class UserFileError(AwsrespError):
    """A user's file is malformed: one line naming the file and the line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file, self.line = file, line
        super().__init__(f"{file}: line {line}: {message}" if line else f"{file}: {message}")


class Located(dict[str, Any]):
    """A YAML mapping that knows its line and the line of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list[Any]):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """The safe loader (no tags beyond YAML's own), recording lines (1-based)."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    out = Located()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | dt.date):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            )
        out[str(key)] = loader.construct_object(value_node, deep=True)
        out.key_lines[str(key)] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date as PyYAML reads it; an impossible one (2027-02-30) stays text, so the field's
    check names its line instead of PyYAML raising."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def parse(name: str, text: str) -> Any:
    """The document in `text` with lines kept; a YAML syntax error names the line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise UserFileError(name, line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise UserFileError(name, 0, f"not valid YAML: {exc}") from None


def read(path: Path) -> tuple[str, str]:
    """(name to show, text) of a user's file; a missing or unreadable file names itself."""
    try:
        return str(path), path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserFileError(str(path), 0, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserFileError(str(path), 0, "not UTF-8 text") from None


class Fields:
    """Typed access to one mapping of a user's file, every error naming file and line."""

    def __init__(self, file: str, node: Any, where: str, allowed: set[str]) -> None:
        self.file = file
        line = getattr(node, "line", 0)
        if not isinstance(node, dict):
            raise UserFileError(file, line, f"{where}: expected a mapping")
        self.node: Mapping[str, Any] = node
        self.line = line
        unknown = sorted(set(node) - allowed)
        if unknown:
            raise UserFileError(
                file,
                self.line_of(unknown[0]),
                f"{where}: unknown key(s) {', '.join(unknown)}"
                f" (known: {', '.join(sorted(allowed))})",
            )

    def line_of(self, key: str) -> int:
        return self.node.line_of(key) if isinstance(self.node, Located) else self.line

    def error(self, key: str, message: str) -> UserFileError:
        return UserFileError(self.file, self.line_of(key), message)

    def has(self, key: str) -> bool:
        return key in self.node

    def text(self, key: str, required: bool = True) -> str:
        value = self.node.get(key)
        if value is None:
            if required:
                raise UserFileError(self.file, self.line, f"missing '{key}'")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"'{key}' must be text")
        text = str(value).strip()
        if required and not text:
            raise self.error(key, f"'{key}' must not be empty")
        return text

    def texts(self, key: str) -> tuple[str, ...]:
        """A value given as one text or a list of texts; () when absent."""
        value = self.node.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if not items or not all(
            isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip() for v in items
        ):
            raise self.error(key, f"'{key}' must be a text or a list of texts")
        return tuple(str(v).strip() for v in items)

    def date(self, key: str, required: bool = True) -> dt.date | None:
        value = self.node.get(key)
        if value is None:
            if required:
                raise UserFileError(self.file, self.line, f"missing '{key}' (a date, YYYY-MM-DD)")
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.error(key, f"'{key}' must be a date (YYYY-MM-DD), not {value!r}")

    def string_map(self, key: str) -> dict[str, str]:
        value = self.node.get(key)
        if not isinstance(value, dict) or not value:
            raise self.error(key, f"'{key}' must be a mapping of tag keys to values")
        out = {}
        for k, v in value.items():
            if v is None or isinstance(v, bool | list | dict):
                raise self.error(key, f"'{key}': the value of {k!r} must be text")
            out[str(k)] = str(v)
        return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
