"""Source filters of selection rules: parsing, the SQL WHERE they become, and the same test on a row.

Semantics (reference/dms.md §1.1): filters of one rule are ANDed, the conditions inside one filter
are ORed, a filter holds at most one negative condition (``noteq``, ``notbetween``, ``notnull``),
``ste`` is ``lte``, ``between`` is inclusive. Values are *always* bound as ``%s`` parameters, never
pasted into SQL. The row test (for CDC row images) compares the way SQLite does, which is what DMS
documents: dates as ``YYYY-MM-DD`` text, timestamps as ``YYYY-MM-DD HH:MM:SS`` text, numbers as numbers.

Where MySQL's own comparison (what the full load's WHERE does) differs and can be copied exactly and
cheaply, the row test copies it, given the column's kind (``column_kind``; docs/cdc.md "Filters"):
a date-only value against DATETIME/TIMESTAMP means midnight; TIME compares as a signed duration;
YEAR reads a 1-2 digit value as 2000-2069 / 1970-1999; BIT compares as an unsigned number; text in
a PAD SPACE collation ignores trailing spaces. Case- and accent-insensitive collations are not
copied (their weights are Unicode collation tables): plan resolution warns about those instead.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dersonlake.errors import BadInput
from dersonlake.mapping.shape import (
    check_keys,
    child,
    expect_list,
    expect_object,
    get_enum,
    get_name,
    type_name,
)

OPERATORS = ("eq", "noteq", "lte", "ste", "gte", "between", "notbetween", "null", "notnull")
NEGATIVE = frozenset({"noteq", "notbetween", "notnull"})
_ONE_VALUE = frozenset({"eq", "noteq", "lte", "ste", "gte"})
_TWO_VALUES = frozenset({"between", "notbetween"})
_SQL = {"eq": "=", "noteq": "<>", "lte": "<=", "ste": "<=", "gte": ">="}


@dataclass(frozen=True)
class Condition:
    """One ``filter-conditions`` entry; ``values`` has 0, 1 or 2 strings depending on the operator."""

    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filter:
    """One ``filters`` entry: ``column`` satisfies any of ``conditions``. ``path`` locates it in the file."""

    column: str
    conditions: tuple[Condition, ...]
    path: str = ""


def parse_filters(raw: Any, path: str) -> tuple[Filter, ...]:
    """Validate a ``filters`` array (shape only; the column is checked against the catalog later)."""
    items = expect_list(raw, path)
    return tuple(_parse_filter(item, child(path, i)) for i, item in enumerate(items))


def _parse_filter(raw: Any, path: str) -> Filter:
    obj = expect_object(raw, path, "a filter object")
    check_keys(
        obj, path, ("filter-type", "column-name", "filter-conditions"), ("column-name", "filter-conditions")
    )
    get_enum(obj, "filter-type", path, ("source",), required=False)
    column = get_name(obj, "column-name", path)
    assert column is not None
    if "%" in column:
        raise BadInput(
            "a filter needs an exact column name",
            path=child(path, "column-name"),
            value=column,
            hint="wildcards are not allowed in filters",
        )
    cpath = child(path, "filter-conditions")
    items = expect_list(obj["filter-conditions"], cpath, non_empty=True)
    conditions = tuple(_parse_condition(item, child(cpath, i)) for i, item in enumerate(items))
    negatives = [i for i, c in enumerate(conditions) if c.operator in NEGATIVE]
    if len(negatives) > 1:
        raise BadInput(
            "a filter may hold at most one negative condition (noteq, notbetween, notnull)",
            path=child(child(cpath, negatives[1]), "filter-operator"),
            value=conditions[negatives[1]].operator,
            hint="conditions inside one filter are ORed; put each negative condition in its own filter to "
            "AND them",
        )
    return Filter(column, conditions, path)


def _parse_condition(raw: Any, path: str) -> Condition:
    obj = expect_object(raw, path, "a filter condition object")
    check_keys(obj, path, ("filter-operator", "value", "start-value", "end-value"), ("filter-operator",))
    operator = get_enum(obj, "filter-operator", path, OPERATORS)
    assert operator is not None
    if operator in _ONE_VALUE:
        wanted = ("value",)
    elif operator in _TWO_VALUES:
        wanted = ("start-value", "end-value")
    else:
        wanted = ()
    for key in ("value", "start-value", "end-value"):
        if key in obj and key not in wanted:
            raise BadInput(
                f"operator {operator!r} takes no {key!r}",
                path=child(path, key),
                value=obj[key],
                allowed=wanted or None,
                hint=None if wanted else "null and notnull take no value",
            )
    values = []
    for key in wanted:
        if key not in obj:
            raise BadInput(f"operator {operator!r} needs {key!r}", path=path, allowed=wanted)
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadInput(
                f"must be a string or a number, not {type_name(value)}", path=child(path, key), value=value
            )
        values.append(str(value))
    return Condition(operator, tuple(values))


def quote_ident(name: str) -> str:
    """A MySQL identifier in backticks, with backticks inside it doubled."""
    return "`" + name.replace("`", "``") + "`"


def condition_sql(column: str, cond: Condition) -> tuple[str, list[str]]:
    """The SQL of one condition with ``%s`` placeholders, and its parameters."""
    col = quote_ident(column)
    if cond.operator in _SQL:
        return f"{col} {_SQL[cond.operator]} %s", [cond.values[0]]
    if cond.operator == "between":
        return f"{col} BETWEEN %s AND %s", list(cond.values)
    if cond.operator == "notbetween":
        return f"{col} NOT BETWEEN %s AND %s", list(cond.values)
    if cond.operator == "null":
        return f"{col} IS NULL", []
    return f"{col} IS NOT NULL", []


def filters_sql(filters: Sequence[Filter]) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause (without the keyword) of ANDed filters of ORed conditions; ``""`` for none."""
    parts: list[str] = []
    params: list[str] = []
    for flt in filters:
        ors: list[str] = []
        for cond in flt.conditions:
            sql, ps = condition_sql(flt.column, cond)
            ors.append(sql)
            params.extend(ps)
        parts.append(ors[0] if len(ors) == 1 else "(" + " OR ".join(ors) + ")")
    return " AND ".join(parts), tuple(params)


KINDS = ("datetime", "time", "year", "bit", "padspace", "")


def column_kind(data_type: str, charset: str | None, collation: str | None) -> str:
    """How the row test compares a column (``KINDS``), from its MySQL type and collation."""
    t = data_type.lower()
    if t in ("datetime", "timestamp"):
        return "datetime"
    if t in ("time", "year", "bit"):
        return t
    text_types = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")
    if t in text_types and charset and charset != "binary" and "nopad" not in (collation or "").lower():
        # MariaDB's collations are PAD SPACE unless named _nopad_; MySQL 8's utf8mb4_0900_* are NO PAD.
        return "" if "_0900_" in (collation or "") else "padspace"
    return ""


def row_passes(
    filters: Sequence[Filter], row: Mapping[str, Any], kinds: Mapping[str, str] | None = None
) -> bool:
    """True when the row image ``row`` (source column name -> Python value) passes every filter.

    A NULL column fails every comparison but ``null``, like the SQL WHERE; so a row the snapshot
    would skip is also skipped in CDC. ``kinds``: column -> ``column_kind`` (default: none).
    """
    kinds = kinds or {}
    return all(
        any(condition_holds(cond, row.get(flt.column), kinds.get(flt.column, "")) for cond in flt.conditions)
        for flt in filters
    )


def condition_holds(cond: Condition, value: Any, kind: str = "") -> bool:
    if cond.operator == "null":
        return value is None
    if cond.operator == "notnull":
        return value is not None
    if value is None:
        return False
    mysql = _mysql_pair(kind, value, cond.values)
    if mysql is not None:
        left, rights = mysql
    else:
        left = _sqlite_value(value)
        rights = [_coerce_like(left, v) for v in cond.values]
    if any(r is None for r in rights):
        return False
    try:
        if cond.operator == "eq":
            return left == rights[0]
        if cond.operator == "noteq":
            return left != rights[0]
        if cond.operator in ("lte", "ste"):
            return left <= rights[0]
        if cond.operator == "gte":
            return left >= rights[0]
        inside = rights[0] <= left <= rights[1]
    except TypeError:
        return False
    return inside if cond.operator == "between" else not inside


def _sqlite_value(value: Any) -> Any:
    """The value as SQLite would hold it: numbers stay numbers, dates and times become ISO text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}" if value.microsecond else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # MySQL TIME comes back as a timedelta from most drivers
        # Whole microseconds, not total_seconds(): that float truncated TIME(6) fractions and turned
        # -1.5 s into '-00:00:01'. The text is MySQL's: [-]HH:MM:SS[.ffffff].
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        sign = "-" if micros < 0 else ""
        seconds, fraction = divmod(abs(micros), 1_000_000)
        text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        return text + (f".{fraction:06d}" if fraction else "")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _coerce_like(left: Any, text: str) -> Any:
    """The filter value converted the way SQLite's numeric affinity converts text next to a number.

    Text that does not read as a number compared with a number: SQLite orders every number before
    every text, so equality fails; we report that as "not comparable" (None) which fails the test.
    """
    if isinstance(left, str):
        return text
    try:
        if isinstance(left, decimal.Decimal):
            return decimal.Decimal(text.strip())
        if isinstance(left, int):
            try:
                return int(text.strip())
            except ValueError:
                pass
        return float(text.strip())
    except (ValueError, decimal.InvalidOperation):
        return None


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_TEXT = re.compile(r"(-?)(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")


def _mysql_pair(kind: str, value: Any, texts: Sequence[str]) -> tuple[Any, list[Any]] | None:
    """(row value, filter values) compared the way MySQL compares them for this column kind, or
    None to fall back to the SQLite-like comparison (the value's form is not one we copy exactly)."""
    if kind == "datetime":
        left = _sqlite_value(value)
        if not isinstance(left, str):
            return None
        # MySQL turns the constant '2024-01-14' into 2024-01-14 00:00:00 next to a DATETIME.
        return left, [f"{t} 00:00:00" if _DATE_ONLY.fullmatch(t.strip()) else t for t in texts]
    if kind == "time":
        micros = [_time_micros(v) for v in (value, *texts)]
        return None if any(m is None for m in micros) else (micros[0], micros[1:])
    if kind == "year" and isinstance(value, int) and not isinstance(value, bool):
        years = [_year(t) for t in texts]
        return None if any(y is None for y in years) else (value, years)
    if kind == "bit":
        if isinstance(value, bool | int):
            left = int(value)
        elif isinstance(value, bytes | bytearray):
            left = int.from_bytes(value, "big")
        else:
            return None
        if not all(t.strip().isdigit() for t in texts):
            return None
        return left, [int(t) for t in texts]
    if kind == "padspace" and isinstance(value, str):
        return value.rstrip(" "), [t.rstrip(" ") for t in texts]
    return None


def _time_micros(value: Any) -> int | None:
    """A TIME as signed microseconds: a ``timedelta`` (driver) or ``[-]H:MM:SS[.f]`` text (CDC)."""
    if isinstance(value, dt.timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    match = _TIME_TEXT.fullmatch(str(value).strip())
    if not match:
        return None
    sign, h, m, s, frac = match.groups()
    micros = ((int(h) * 60 + int(m)) * 60 + int(s)) * 1_000_000 + int((frac or "").ljust(6, "0"))
    return -micros if sign else micros


def _year(text: str) -> int | None:
    """MySQL's reading of a string as YEAR: 1-2 digits are 2000-2069 / 1970-1999, 4 digits as is."""
    t = text.strip()
    if not t.isdigit() or len(t) not in (1, 2, 4):
        return None
    n = int(t)
    if len(t) == 4:
        return n
    return 2000 + n if n < 70 else 1900 + n
