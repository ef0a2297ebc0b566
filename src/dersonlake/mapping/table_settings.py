"""Table-settings rules: ``parallel-load`` (how one table's full load is split) and ``lob-settings``.

Range segments follow DMS (reference/dms.md §1.4): boundaries are exclusive upper bounds compared as
tuples, N boundaries give N+1 segments, and the S3 layout is a folder per named segment or a
``SEGMENT<k>_`` file prefix without names. Unlike DMS, which silently drops rows whose range column
is NULL, we add one more segment for exactly those rows, so a parallel load loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dersonlake.errors import BadInput
from dersonlake.mapping.filters import quote_ident
from dersonlake.mapping.shape import (
    check_keys,
    child,
    expect_list,
    expect_object,
    get_enum,
    get_name,
    to_int,
    type_name,
)
from dersonlake.mapping.wildcards import is_wildcard
from dersonlake.sources import Table

PARALLEL_TYPES = ("partitions-auto", "partitions-list", "ranges", "none")
LOB_MODES = ("limited", "unlimited", "none")
NULL_SEGMENT = "NULLS"
_NOT_FOR_MYSQL = {
    "subpartitions-auto": "subpartitions-auto is for Oracle sources only",
    "number-of-partitions": "number-of-partitions is for MongoDB and DocumentDB sources only",
    "collection-count-from-metadata": "collection-count-from-metadata is for MongoDB and DocumentDB only",
    "max-records-skip-per-page": "max-records-skip-per-page is for MongoDB and DocumentDB only",
    "batch-size": "batch-size is for MongoDB and DocumentDB only",
    "subpartitions": "subpartitions are for Oracle sources only",
}
_RANGE_FORBIDDEN = frozenset({"real4", "real8", "blob", "clob", "nclob"})


@dataclass(frozen=True)
class ParallelLoad:
    type: str
    columns: tuple[str, ...] = ()
    boundaries: tuple[tuple[str, ...], ...] = ()
    segment_names: tuple[str, ...] = ()
    partitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LobSettings:
    mode: str = "limited"
    bulk_max_size_kb: int | None = None


@dataclass(frozen=True)
class TableSettingsRule:
    rule_id: int
    rule_name: str
    path: str
    schema: str
    table: str
    parallel_load: ParallelLoad | None = None
    lob_settings: LobSettings | None = None


@dataclass(frozen=True)
class Segment:
    """One unit of a table's full load. Files go to ``<schema>/<table>/<folder>/`` when ``folder`` is set,
    and are named ``<file_prefix>LOAD00000001...``; ``where``/``params`` select its rows (``""`` = all);
    ``partition`` names a source partition to read (``PARTITION (p)``)."""

    name: str
    folder: str | None
    file_prefix: str
    where: str
    params: tuple[str, ...]
    partition: str | None = None


def parse_table_settings(obj: dict[str, Any], path: str, rule_id: int, rule_name: str) -> TableSettingsRule:
    lpath = child(path, "object-locator")
    loc = expect_object(obj.get("object-locator"), lpath, "an object-locator object")
    check_keys(loc, lpath, ("schema-name", "table-name"), ("schema-name", "table-name"))
    schema, table = get_name(loc, "schema-name", lpath), get_name(loc, "table-name", lpath)
    assert schema is not None and table is not None
    for key, name in (("schema-name", schema), ("table-name", table)):
        if is_wildcard(name):
            raise BadInput(
                "Exact schema and table name required when using table settings rule",
                path=child(lpath, key),
                value=name,
            )
    pl = (
        _parse_parallel(obj["parallel-load"], child(path, "parallel-load"))
        if "parallel-load" in obj
        else None
    )
    lob = _parse_lob(obj["lob-settings"], child(path, "lob-settings")) if "lob-settings" in obj else None
    return TableSettingsRule(rule_id, rule_name, path, schema, table, pl, lob)


def _parse_parallel(raw: Any, path: str) -> ParallelLoad:
    obj = expect_object(raw, path, "a parallel-load object")
    for key, why in _NOT_FOR_MYSQL.items():
        if key in obj or obj.get("type") == key:
            raise BadInput(
                why,
                path=child(path, key if key in obj else "type"),
                value=obj.get(key, key),
                allowed=PARALLEL_TYPES if key not in obj else None,
            )
    check_keys(obj, path, ("type", "columns", "boundaries", "segment-names", "partitions"), ("type",))
    kind = get_enum(obj, "type", path, PARALLEL_TYPES)
    uses = {"ranges": ("columns", "boundaries", "segment-names"), "partitions-list": ("partitions",)}.get(
        kind or "", ()
    )
    for key in ("columns", "boundaries", "segment-names", "partitions"):
        if key in obj and key not in uses:
            raise BadInput(
                f"{key!r} is not used by parallel-load type {kind!r}", path=child(path, key), value=obj[key]
            )
    if kind == "partitions-list":
        return ParallelLoad(kind, partitions=_names(obj, "partitions", path))
    if kind != "ranges":
        return ParallelLoad(kind or "none")
    columns = _names(obj, "columns", path)
    if len(columns) > 10:
        raise BadInput("ranges take at most 10 columns", path=child(path, "columns"), value=len(columns))
    bpath = child(path, "boundaries")
    if "boundaries" not in obj:
        raise BadInput("parallel-load type 'ranges' needs 'boundaries'", path=path)
    bounds = []
    for i, bound in enumerate(expect_list(obj["boundaries"], bpath, non_empty=True)):
        values = expect_list(bound, child(bpath, i), non_empty=True)
        if len(values) > len(columns):
            raise BadInput(
                f"a boundary has more values than there are columns ({len(columns)})",
                path=child(bpath, i),
                value=values,
            )
        for j, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise BadInput(
                    f"must be a string or a number, not {type_name(v)}",
                    path=child(child(bpath, i), j),
                    value=v,
                )
        bounds.append(tuple(str(v) for v in values))
    names: tuple[str, ...] = ()
    if "segment-names" in obj:
        names = _names(obj, "segment-names", path)
        if len(names) != len(bounds) + 1:
            raise BadInput(
                f"{len(bounds)} boundaries make {len(bounds) + 1} segments, so segment-names needs "
                f"{len(bounds) + 1} names",
                path=child(path, "segment-names"),
                value=list(names),
            )
        if NULL_SEGMENT in names:
            raise BadInput(
                f"{NULL_SEGMENT!r} is reserved for the segment of rows with NULL range columns",
                path=child(path, "segment-names"),
                value=NULL_SEGMENT,
            )
    return ParallelLoad("ranges", columns, tuple(bounds), names)


def _names(obj: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    if key not in obj:
        raise BadInput(f"missing required key {key!r}", path=path)
    kpath = child(path, key)
    items = expect_list(obj[key], kpath, non_empty=True)
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise BadInput("must be a non-empty string", path=child(kpath, i), value=item)
    if len(set(items)) != len(items):
        raise BadInput("a name is listed twice", path=kpath, value=items)
    return tuple(items)


def _parse_lob(raw: Any, path: str) -> LobSettings:
    obj = expect_object(raw, path, "a lob-settings object")
    check_keys(obj, path, ("mode", "bulk-max-size"))
    mode = get_enum(obj, "mode", path, LOB_MODES, required=False, default="limited")
    size = (
        to_int(obj["bulk-max-size"], child(path, "bulk-max-size"), minimum=0)
        if "bulk-max-size" in obj
        else None
    )
    return LobSettings(mode or "limited", size)


def check_against(rule: TableSettingsRule, table: Table) -> None:
    """The catalog checks: range columns exist and may be ranged, listed partitions exist."""
    pl = rule.parallel_load
    if pl is None:
        return
    ppath = child(rule.path, "parallel-load")
    names = [c.name for c in table.columns]
    for i, name in enumerate(pl.columns):
        col = table.column(name)
        if col is None:
            raise BadInput(
                f"{table.qualified} has no such column",
                path=child(child(ppath, "columns"), i),
                value=name,
                allowed=names,
            )
        if col.dms_type.name in _RANGE_FORBIDDEN:
            raise BadInput(
                f"column {name!r} is {col.dms_type}; ranges may not use DOUBLE, FLOAT or LOB columns",
                path=child(child(ppath, "columns"), i),
                value=name,
            )
    for i, part in enumerate(pl.partitions):
        if part not in table.partitions:
            raise BadInput(
                f"{table.qualified} has no such partition",
                path=child(child(ppath, "partitions"), i),
                value=part,
                allowed=table.partitions or ("(the table is not partitioned)",),
            )


def segments(
    pl: ParallelLoad | None, table: Table, where: str, params: Sequence[str]
) -> tuple[tuple[Segment, ...], list[str]]:
    """The segments of a table's load, each already ANDed with the table's filter; plus warnings."""
    if pl is None or pl.type == "none":
        return (), []
    if pl.type in ("partitions-auto", "partitions-list"):
        parts = pl.partitions if pl.type == "partitions-list" else table.partitions
        if not parts:
            return (), [f"{table.qualified}: parallel-load partitions-auto, but the table has no partitions"]
        return tuple(Segment(p, p, "", where, tuple(params), p) for p in parts), []
    return _range_segments(pl, where, tuple(params)), []


def _range_segments(pl: ParallelLoad, where: str, params: tuple[str, ...]) -> tuple[Segment, ...]:
    cols = [quote_ident(c) for c in pl.columns]
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    out: list[Segment] = []
    previous: tuple[str, ...] | None = None
    count = len(pl.boundaries) + 1
    for k in range(count):
        bound = pl.boundaries[k] if k < len(pl.boundaries) else None
        parts: list[str] = [not_null]
        ps: list[str] = []
        if previous is not None:
            sql, p = _tuple_compare(cols, previous, strict=False, below=False)
            parts.append(sql)
            ps += p
        if bound is not None:
            sql, p = _tuple_compare(cols, bound, strict=True, below=True)
            parts.append(sql)
            ps += p
        out.append(_segment(pl, k, _and(where, " AND ".join(parts)), params + tuple(ps)))
        previous = bound
    nulls = "(" + " OR ".join(f"{c} IS NULL" for c in cols) + ")" if len(cols) > 1 else f"{cols[0]} IS NULL"
    out.append(_segment(pl, count, _and(where, nulls), params))
    return tuple(out)


def _segment(pl: ParallelLoad, k: int, where: str, params: tuple[str, ...]) -> Segment:
    if pl.segment_names:
        name = pl.segment_names[k] if k < len(pl.segment_names) else NULL_SEGMENT
        return Segment(name, name, "", where, params)
    return Segment(f"SEGMENT{k + 1}", None, f"SEGMENT{k + 1}_", where, params)


def _tuple_compare(
    cols: list[str], bound: tuple[str, ...], *, strict: bool, below: bool
) -> tuple[str, list[str]]:
    """``(c1, c2, ...) < bound`` (below, strict) or ``>= bound`` expanded into ORs of ANDs, so MySQL can
    use an index on the leading column; a bound shorter than the column list compares its prefix."""
    op_last = ("<" if strict else "<=") if below else (">" if strict else ">=")
    op_mid = "<" if below else ">"
    ors: list[str] = []
    params: list[str] = []
    n = len(bound)
    for i in range(n):
        terms = [f"{cols[j]} = %s" for j in range(i)]
        params += list(bound[:i])
        terms.append(f"{cols[i]} {op_last if i == n - 1 else op_mid} %s")
        params.append(bound[i])
        ors.append(" AND ".join(terms) if len(terms) == 1 else "(" + " AND ".join(terms) + ")")
    return ("(" + " OR ".join(ors) + ")" if len(ors) > 1 else ors[0]), params


def _and(a: str, b: str) -> str:
    """Two conditions ANDed; ``filters_sql`` keeps every OR inside parentheses, so no wrapping is needed."""
    return f"{a} AND {b}" if a else b
