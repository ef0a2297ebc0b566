"""``add-column`` expressions: DMS's SQLite expression language, checked up front, evaluated per batch.

DMS evaluates expressions in SQLite (reference/dms.md §1.3), so we do too, with Python's ``sqlite3``:
``$col`` references, ``$AR_H_*`` change headers and ``$AR_M_*`` metadata become bound parameters
(never text pasted into SQL), ``operation_indicator('D','U','I')`` becomes a parameter chosen by the
row's operation, and ``replaceChars`` / ``hash_sha256`` are registered as functions. An expression is
compiled once when the mapping is read, so a typo fails before any data moves.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dersonlake.errors import BadInput

HEADERS = (
    "AR_H_STREAM_POSITION",
    "AR_H_TIMESTAMP",
    "AR_H_COMMIT_TIMESTAMP",
    "AR_H_OPERATION",
    "AR_H_USER",
    "AR_H_CHANGE_SEQ",
)
METADATA = (
    "AR_M_SOURCE_SCHEMA",
    "AR_M_SOURCE_TABLE_NAME",
    "AR_M_SOURCE_COLUMN_NAME",
    "AR_M_SOURCE_COLUMN_DATATYPE",
)
OPERATIONS = ("DELETE", "UPDATE", "INSERT")  # the order of operation_indicator's arguments

_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_OP_INDICATOR = re.compile(
    r"operation_indicator\s*\(\s*'((?:[^']|'')*)'\s*,\s*'((?:[^']|'')*)'\s*,\s*'((?:[^']|'')*)'\s*\)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Ref:
    """What one SQL parameter stands for: kind is ``column``, ``header``, ``metadata`` or ``operation``;
    for ``operation`` the ``choices`` are the values for DELETE, UPDATE, INSERT."""

    param: str
    kind: str
    name: str
    choices: tuple[str, str, str] = ("", "", "")


@dataclass(frozen=True)
class Expression:
    """A checked expression: ``sql`` is SQLite text with ``:pN`` parameters described by ``refs``."""

    text: str
    sql: str
    refs: tuple[Ref, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Source columns the expression reads, in first-use order."""
        return tuple(dict.fromkeys(r.name for r in self.refs if r.kind == "column"))

    def concat_parts(self) -> list[tuple[str, str]] | None:
        """The expression as ``[("lit", text) | ("ref", param)]`` when it is only ``||`` of references and
        string literals (so it can run vectorised), else None."""
        parts: list[tuple[str, str]] = []
        for piece in _split_concat(self.sql):
            piece = piece.strip()
            if re.fullmatch(r":p\d+", piece):
                parts.append(("ref", piece[1:]))
            elif re.fullmatch(r"'(?:[^']|'')*'", piece):
                parts.append(("lit", piece[1:-1].replace("''", "'")))
            else:
                return None
        return parts


def parse_expression(text: Any, path: str) -> Expression:
    """Rewrite and compile ``text``; any problem is a BadInput at ``path``."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("must be a non-empty SQLite expression", path=path, value=text)
    refs: list[Ref] = []
    out: list[str] = []
    seen: dict[tuple[str, str], str] = {}

    def param_for(kind: str, name: str, choices: tuple[str, str, str] = ("", "", "")) -> str:
        key = (kind, name if kind != "operation" else "|".join(choices))
        if key not in seen:
            seen[key] = f"p{len(refs)}"
            refs.append(Ref(seen[key], kind, name, choices))
        return ":" + seen[key]

    def op_sub(m: re.Match[str]) -> str:
        choices = tuple(g.replace("''", "'") for g in m.groups())
        return param_for("operation", "operation_indicator", choices)  # type: ignore[arg-type]

    # the call's arguments are quoted literals, so it is replaced before the text is split at quotes
    for code, quoted in _segments(_OP_INDICATOR.sub(op_sub, text)):
        if quoted:
            out.append(code)
            continue
        if ";" in code:
            raise BadInput(
                "an expression must not contain ';' (only expressions, no statements)", path=path, value=text
            )
        if re.search(r"operation_indicator", code, re.IGNORECASE):
            raise BadInput(
                "operation_indicator takes three quoted flags",
                path=path,
                value=text,
                hint="write operation_indicator('D', 'U', 'I'): the values for delete, update, insert",
            )

        def ref_sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.upper().startswith("AR_H_"):
                if name not in HEADERS:
                    raise BadInput("unknown header column", path=path, value="$" + name, allowed=HEADERS)
                return param_for("header", name)
            if name.upper().startswith("AR_M_"):
                if name not in METADATA:
                    raise BadInput("unknown metadata column", path=path, value="$" + name, allowed=METADATA)
                return param_for("metadata", name)
            return param_for("column", name)

        out.append(_REF.sub(ref_sub, code))
    expr = Expression(text, "".join(out), tuple(refs))
    _compile_check(expr, path)
    return expr


def _segments(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (code, False) and quoted ('...' or "...") (literal, True) pieces."""
    pieces: list[tuple[str, bool]] = []
    i = start = 0
    while i < len(text):
        if text[i] in "'\"":
            quote = text[i]
            if start < i:
                pieces.append((text[start:i], False))
            j = i + 1
            while j < len(text):
                if text[j] == quote:
                    if text[j + 1 : j + 2] == quote:
                        j += 2
                        continue
                    break
                j += 1
            pieces.append((text[i : j + 1], True))
            i = start = j + 1
        else:
            i += 1
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces


def _split_concat(sql: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for code, quoted in _segments(sql):
        if quoted:
            current += code
            continue
        chunks = code.split("||")
        current += chunks[0]
        for chunk in chunks[1:]:
            parts.append(current)
            current = chunk
    parts.append(current)
    return parts


def connect() -> sqlite3.Connection:
    """An in-memory SQLite with DMS's extra functions registered."""
    conn = sqlite3.connect(":memory:")
    conn.create_function("replaceChars", 3, replace_chars, deterministic=True)
    conn.create_function("hash_sha256", 1, hash_sha256, deterministic=True)
    return conn


def _compile_check(expr: Expression, path: str) -> None:
    conn = connect()
    try:
        conn.execute(f"EXPLAIN SELECT ({expr.sql})", {r.param: None for r in expr.refs})
    except sqlite3.Error as exc:
        hint = "refer to source columns as $name" if "no such column" in str(exc) else None
        raise BadInput(
            f"is not a valid SQLite expression: {exc}", path=path, value=expr.text, hint=hint
        ) from None
    finally:
        conn.close()


def replace_chars(text: Any, find: Any, replace: Any) -> Any:
    """DMS's ``replaceChars(X, Y, Z)``: each character of X found in Y at index i becomes Z[i], cycling
    through Z when it is shorter (``replaceChars('abcde','abcd','123')`` is ``'1231e'``)."""
    if text is None or find is None or replace is None:
        return None
    text, find, replace = str(text), str(find), str(replace)
    if not replace:
        return "".join(ch for ch in text if ch not in find)
    return "".join(replace[find.index(ch) % len(replace)] if ch in find else ch for ch in text)


def hash_sha256(value: Any) -> Any:
    """DMS's ``hash_sha256(x)``: the SHA-256 of the value, as lower-case hex (NULL stays NULL)."""
    if value is None:
        return None
    data = bytes(value) if isinstance(value, bytes | bytearray | memoryview) else str(value).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def evaluate(
    expr: Expression,
    rows: int,
    columns: Mapping[str, Sequence[Any]],
    headers: Mapping[str, Any],
    metadata: Mapping[str, Any],
    affinity: Mapping[str, str] | None = None,
) -> list[Any]:
    """The expression's value for each of ``rows`` rows, evaluated by SQLite.

    ``columns`` maps source column names to Python values (SQLite-bindable: str, int, float, bytes,
    None); ``headers`` values are scalars or per-row sequences; ``affinity`` gives each column's SQLite
    declared type (INTEGER, NUMERIC, TEXT, BLOB) so numbers held as text compare as numbers.
    """
    affinity = affinity or {}
    conn = connect()
    try:
        cols = [r.param for r in expr.refs]
        if not cols:
            value = conn.execute(f"SELECT ({expr.sql})").fetchone()[0]
            return [value] * rows
        decl = ", ".join(f"{p} {_affinity_of(r, affinity)}" for p, r in zip(cols, expr.refs, strict=True))
        conn.execute(f"CREATE TEMP TABLE t ({decl})")
        series = [_series(r, rows, columns, headers, metadata) for r in expr.refs]
        conn.executemany(
            f"INSERT INTO t VALUES ({', '.join('?' for _ in cols)})",
            zip(*series, strict=True) if rows else [],
        )
        body = re.sub(r":(p\d+)", r"\1", expr.sql)
        return [row[0] for row in conn.execute(f"SELECT ({body}) FROM t ORDER BY rowid")]
    finally:
        conn.close()


def _affinity_of(ref: Ref, affinity: Mapping[str, str]) -> str:
    return affinity.get(ref.name, "TEXT") if ref.kind == "column" else "TEXT"


def _series(
    ref: Ref,
    rows: int,
    columns: Mapping[str, Sequence[Any]],
    headers: Mapping[str, Any],
    metadata: Mapping[str, Any],
) -> Sequence[Any]:
    if ref.kind == "column":
        return columns[ref.name]
    if ref.kind == "metadata":
        return [metadata.get(ref.name)] * rows
    ops = headers.get("AR_H_OPERATION", "INSERT") if ref.kind == "operation" else headers.get(ref.name)
    values = list(ops) if isinstance(ops, list | tuple) else [ops] * rows
    if ref.kind == "operation":
        return [ref.choices[OPERATIONS.index(op)] if op in OPERATIONS else None for op in values]
    return values
