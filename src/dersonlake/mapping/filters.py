"""Source filters of selection rules: parsing, the SQL WHERE they become, and the same test on a row.

Semantics (reference/dms.md §1.1): filters of one rule are ANDed, the conditions inside one filter
are ORed, a filter holds at most one negative condition (``noteq``, ``notbetween``, ``notnull``),
``ste`` is ``lte``, ``between`` is inclusive. Values are *always* bound as ``%s`` parameters, never
pasted into SQL. The row test (for CDC row images) compares the way SQLite does, which is what DMS
documents: dates as ``YYYY-MM-DD`` text, timestamps as ``YYYY-MM-DD HH:MM:SS`` text, numbers as numbers.
"""

from __future__ import annotations

import datetime as dt
import decimal
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


def row_passes(filters: Sequence[Filter], row: Mapping[str, Any]) -> bool:
    """True when the row image ``row`` (source column name -> Python value) passes every filter.

    A NULL column fails every comparison but ``null``, like the SQL WHERE; so a row the snapshot
    would skip is also skipped in CDC.
    """
    return all(any(condition_holds(cond, row.get(flt.column)) for cond in flt.conditions) for flt in filters)


def condition_holds(cond: Condition, value: Any) -> bool:
    if cond.operator == "null":
        return value is None
    if cond.operator == "notnull":
        return value is not None
    if value is None:
        return False
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
