"""DDL during CDC: what a statement does to a captured table, and the table's definition at a point
of the binlog.

``classify`` sorts a binlog DDL statement into what ``ChangeProcessingDdlHandlingPolicy`` governs
(dms.md §2, §4.4): ``alter`` (add / drop / modify / change / rename column, indexes, options),
``truncate``, ``drop``, ``create``; everything else that names a captured table (``RENAME TABLE``,
``ALTER TABLE .. RENAME TO``, partition maintenance) is ``unsupported`` and suspends the table, as
DMS does.

A table's definition at a point of the binlog is not what the catalog says *now* when the table was
altered again later. Row images carry the column names of their moment (``binlog_row_metadata=FULL``
puts them in the table map), so the definition used to convert them is rebuilt from those names,
each column's type taken from the first definition that knows it: the one in use (the lake's), then
the catalog's now. ``table_for_image`` returns None when a name is in neither (a column added and
dropped again since the checkpoint): the table cannot be converted faithfully and is suspended.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from dersonlake.dms_types import DmsType
from dersonlake.sources import Column, Table

ALTER, TRUNCATE, DROP, CREATE, UNSUPPORTED = "alter", "truncate", "drop", "create", "unsupported"

_COMMENTS = re.compile(r"/\*.*?\*/", re.S)
_NAME = r"(?:`(?:[^`]|``)+`|[\w$]+)"
_QUALIFIED = re.compile(rf"\s*(?P<schema>{_NAME})\s*\.\s*(?P<table>{_NAME})|\s*(?P<only>{_NAME})", re.S)
_TABLE_RENAME = re.compile(r"\bRENAME\s+(?!(?:COLUMN|INDEX|KEY)\b)", re.I)
_PARTITION_DDL = re.compile(
    r"\b(?:PARTITION\s+BY|REMOVE\s+PARTITIONING|(?:ADD|DROP|TRUNCATE|COALESCE|REORGANIZE|EXCHANGE|"
    r"ANALYZE|CHECK|OPTIMIZE|REBUILD|REPAIR|DISCARD|IMPORT|CONVERT)\s+PARTITION)\b",
    re.I,
)
_DROP_TABLE = re.compile(r"^\s*DROP\s+(?:TEMPORARY\s+)?TABLES?\s+(?:IF\s+EXISTS\s+)?", re.I)


def classify(sql: str) -> tuple[str, str]:
    """(kind, what it is in words) for a DDL statement that names a captured table."""
    text = _COMMENTS.sub(" ", sql).strip()
    words = text.upper().split()
    first = words[0] if words else ""
    if first == "TRUNCATE":
        return TRUNCATE, "TRUNCATE TABLE"
    if first == "DROP" and any(w in ("TABLE", "TABLES") for w in words[1:3]):
        return DROP, "DROP TABLE"
    if first == "CREATE" and "TABLE" in words[1:5]:  # any form: the definition comes from the catalog
        return CREATE, "CREATE TABLE"
    if first == "ALTER":
        if _TABLE_RENAME.search(text):
            return UNSUPPORTED, "a table rename (ALTER TABLE .. RENAME TO)"
        if _PARTITION_DDL.search(text):
            return UNSUPPORTED, "partition DDL"
        return ALTER, "ALTER TABLE"
    if first == "RENAME":
        return UNSUPPORTED, "RENAME TABLE"
    return UNSUPPORTED, f"{first or 'an unknown'} statement"


def dropped_tables(sql: str, default_schema: str) -> list[tuple[str, str]]:
    """Every ``(schema, table)`` a ``DROP TABLE a, b.c`` names (the session's schema when unqualified)."""
    text = _COMMENTS.sub(" ", sql)
    match = _DROP_TABLE.match(text)
    if not match:
        return []
    rest = re.split(r"\s+(?:RESTRICT|CASCADE)\b|;", text[match.end() :], flags=re.I)[0]
    out = []
    for part in _split_names(rest):
        m = _QUALIFIED.fullmatch(part)
        if not m:
            continue
        if m["only"]:
            out.append((default_schema, _unquote(m["only"])))
        else:
            out.append((_unquote(m["schema"]), _unquote(m["table"])))
    return out


def same_columns(table: Table, names: Sequence[str]) -> bool:
    """Whether a row image with columns ``names`` fits ``table`` (virtual columns are not logged)."""
    return [c.name for c in table.columns if c.name in names or not c.generated] == list(names)


def table_for_image(current: Table, names: Sequence[str], *known: Table | None) -> Table | None:
    """``current`` with the columns ``names`` (a row image's, in order) plus the generated columns
    of the first of ``known`` (the newest); each type from ``current``, then ``known`` in order.
    None when a name has no known type."""
    if same_columns(current, names):
        return current
    pool = [current, *(k for k in known if k is not None)]
    columns = []
    for name in names:
        column = next((c for t in pool if (c := t.column(name)) is not None), None)
        if column is None:
            return None
        columns.append(column)
    newest = next((k for k in known if k is not None), current)
    columns += [c for c in newest.columns if c.generated and c.name not in names]
    columns = [dataclasses.replace(c, ordinal=i) for i, c in enumerate(columns, start=1)]
    names = [c.name for c in columns]
    key = tuple(k for k in current.primary_key if k in names)
    return dataclasses.replace(current, columns=tuple(columns), primary_key=key)


def table_to_json(table: Table) -> dict[str, Any]:
    """A definition as plain JSON (kept with the CDC checkpoint: the lake's schema of the table)."""
    return dataclasses.asdict(table)


def table_from_json(doc: dict[str, Any]) -> Table:
    columns = tuple(Column(**{**c, "dms_type": DmsType(**c["dms_type"])}) for c in doc["columns"])
    return Table(
        **{
            **doc,
            "columns": columns,
            "primary_key": tuple(doc.get("primary_key", ())),
            "unique_keys": {k: tuple(v) for k, v in doc.get("unique_keys", {}).items()},
            "partitions": tuple(doc.get("partitions", ())),
        }
    )


def _split_names(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == "`":
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name
