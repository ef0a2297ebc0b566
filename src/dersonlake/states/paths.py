"""JSONPath as ASL uses it: reference paths, context (``$$``) and variable (``$name``) paths.

AWS follows Jayway JsonPath. Definite paths (names and indexes only) return the value itself or
fail when it is missing; indefinite paths (``*``, ``..``, slices, filters) return a list, maybe
empty. We parse definite paths ourselves (they are also what ResultPath writes to) and hand the
rest to jsonpath-ng's extended parser, which understands ``&&``/``||`` filters.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext import parse as _jp_parse

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*|[^.\[\]\s'\"*@?()$]+")
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class PathMissing(Exception):
    """A definite path named something the data does not have."""


class PathSyntax(Exception):
    """The text is not a path we can evaluate."""


@dataclass(frozen=True)
class Path:
    """A parsed path: where it reads from, and either definite steps or a library expression."""

    text: str
    root: str  # "input", "context" or "variable"
    variable: str | None
    steps: tuple[str | int, ...] | None  # None when indefinite
    expr: Any = None  # jsonpath-ng expression for indefinite paths

    @property
    def definite(self) -> bool:
        return self.steps is not None


def _parse_steps(rest: str) -> tuple[str | int, ...] | None:
    """Steps of a reference path suffix such as ``.a.b[0]['c d']``; None if not definite."""
    steps: list[str | int] = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == ".":
            if rest.startswith("..", i):
                return None
            m = _NAME.match(rest, i + 1)
            if not m:
                return None
            steps.append(m.group(0))
            i = m.end()
        elif ch == "[":
            end = rest.find("]", i)
            if end < 0:
                raise PathSyntax(f"unclosed '[' in {rest!r}")
            inner = rest[i + 1 : end].strip()
            if inner.isdigit():
                steps.append(int(inner))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                steps.append(inner[1:-1])
            else:
                return None
            i = end + 1
        else:
            return None
    return tuple(steps)


@lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """Parse ``$...``, ``$$...`` or ``$var...``; raises PathSyntax for anything else."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntax(f"a path must start with '$': {text!r}")
    if text.startswith("$$"):
        root, variable, rest = "context", None, text[2:]
    else:
        m = _VAR.match(text)
        if m:
            root, variable, rest = "variable", m.group(1), text[m.end() :]
        else:
            root, variable, rest = "input", None, text[1:]
    steps = _parse_steps(rest)
    if steps is not None:
        return Path(text, root, variable, steps)
    try:
        expr = _jp_parse("$" + rest)
    except Exception as exc:  # jsonpath-ng raises several unrelated types
        raise PathSyntax(f"invalid JSONPath {text!r}: {exc}") from exc
    return Path(text, root, variable, None, expr)


def is_reference_path(text: str) -> bool:
    """Whether ``text`` is a reference path (definite, plain ``$``), as ResultPath requires."""
    try:
        p = parse_path(text)
    except PathSyntax:
        return False
    return p.root == "input" and p.definite


def bracketed(text: str) -> str:
    """The normalised form AWS's path errors print: ``$.a.b[0]`` -> ``$['a']['b'][0]``."""
    try:
        p = parse_path(text)
    except PathSyntax:
        return text
    if p.steps is None:
        return text
    head = "$" if p.root == "input" else ("$$" if p.root == "context" else f"${p.variable}")
    return head + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in p.steps)


def check_path(text: Any) -> str | None:
    """The problem with a path in a definition, or None when it parses."""
    if not isinstance(text, str):
        return "must be a string path"
    try:
        parse_path(text)
    except PathSyntax as exc:
        return str(exc)
    return None


def _walk(value: Any, steps: tuple[str | int, ...], text: str) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(value, list):
            if step >= len(value):
                raise PathMissing(f"index {step} out of range in {text!r}")
            value = value[step]
        elif isinstance(value, dict) and str(step) in value:
            value = value[str(step)]
        else:
            raise PathMissing(f"the JSONPath {text!r} could not be found in the input")
    return value


def resolve(text: str, data: Any, context: Any = None, variables: dict[str, Any] | None = None) -> Any:
    """The value ``text`` selects; PathMissing when a definite path does not exist."""
    p = parse_path(text)
    if p.root == "context":
        base = context
    elif p.root == "variable":
        vars_ = variables or {}
        if p.variable not in vars_:
            raise PathMissing(f"variable ${p.variable} is not defined")
        base = vars_[p.variable]
    else:
        base = data
    if p.steps is not None:
        return _walk(base, p.steps, text)
    return [m.value for m in p.expr.find(base)]


def write(data: Any, text: str, value: Any) -> Any:
    """A copy of ``data`` with ``value`` placed at the reference path ``text`` (ResultPath).

    Missing intermediate objects are created. Raises ValueError when the path cannot be applied
    (it crosses a non-object, or is not a reference path): the caller reports
    ``States.ResultPathMatchFailure``.
    """
    p = parse_path(text)
    if p.root != "input" or p.steps is None:
        raise ValueError(f"{text!r} is not a reference path")
    if not p.steps:
        return copy.deepcopy(value)
    out = copy.deepcopy(data)
    if not isinstance(out, dict | list):
        raise ValueError(f"cannot apply ResultPath {text!r} to a {type(out).__name__} input")
    node = out
    for i, step in enumerate(p.steps):
        last = i == len(p.steps) - 1
        if isinstance(node, list) and isinstance(step, int):
            if step >= len(node):
                raise ValueError(f"index {step} out of range for ResultPath {text!r}")
            if last:
                node[step] = value
            else:
                node = node[step]
        elif isinstance(node, dict):
            key = str(step)
            if last:
                node[key] = value
            else:
                if key not in node:
                    node[key] = {}
                elif not isinstance(node[key], dict | list):
                    raise ValueError(f"cannot apply ResultPath {text!r}: {key!r} is not an object")
                node = node[key]
        else:
            raise ValueError(f"cannot apply ResultPath {text!r}: {type(node).__name__} in the way")
    return out
