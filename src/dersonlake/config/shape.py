"""Small checks for hand-written YAML/JSON documents: which keys, which types.

They exist so every config error says the file, the key path, what was found and what is allowed,
instead of a KeyError deep inside the engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dersonlake.errors import BadInput


def expect_mapping(
    value: Any,
    *,
    file: str | None,
    path: str,
    allowed: Iterable[str],
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """``value`` as a dict whose keys are all in ``allowed`` and include ``required``."""
    if not isinstance(value, dict):
        raise BadInput("expected a mapping (key: value)", file=file, path=path or None, value=value)
    allowed = list(allowed)
    for key in value:
        if key not in allowed:
            raise BadInput("unknown key", file=file, path=join(path, str(key)), value=key, allowed=allowed)
    for key in required:
        if value.get(key) in (None, ""):
            raise BadInput("required key is missing", file=file, path=join(path, key))
    return value


def expect_type(value: Any, kind: type | tuple[type, ...], *, file: str | None, path: str, what: str) -> Any:
    """``value`` if it is of ``kind`` (bool is never accepted as an int)."""
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise BadInput(f"expected {what}", file=file, path=path, value=value)
    if not isinstance(value, kind):
        raise BadInput(f"expected {what}", file=file, path=path, value=value)
    return value


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def load_json_file(path: Path, *, what: str) -> Any:
    """Parse a JSON file; a syntax error names the line and column."""
    text = read_text_file(path, what=what)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file=str(path)
        ) from None
    except RecursionError:
        value = None
    except ValueError as exc:  # e.g. an integer longer than Python reads (4,300 digits)
        raise BadInput(f"not valid JSON: {exc}", file=str(path)) from None
    if (value is None and text.strip() != "null") or too_deep(value):
        raise BadInput(f"nested too deeply (more than {MAX_DEPTH} levels)", file=str(path))
    return value


# DMS documents nest a handful of levels; anything deeper would only exhaust the recursion of the
# code that walks them.
MAX_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit`` (iterative: nothing to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def read_text_file(path: Path, *, what: str) -> str:
    """A config file's UTF-8 text; a missing file, a folder, unreadable bytes are BadInput."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{what} not found", file=str(path)) from None
    except IsADirectoryError:
        raise BadInput(f"the {what} is a directory, not a file", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"not valid UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
            file=str(path),
            hint="Save the file as UTF-8",
        ) from None
    except OSError as exc:
        raise BadInput(f"cannot read the {what}: {exc.strerror}", file=str(path)) from None
