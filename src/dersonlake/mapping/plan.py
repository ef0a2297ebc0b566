"""The load plan: a mapping and task settings resolved against a source catalog.

``resolve`` answers, for one task, every question the engine asks before it reads a row: which
tables, in what order, under which lake names, with which columns and types, which rows (WHERE
with bound parameters), in which segments, with which LOB handling and S3 tags. It reads nothing
from the database: the catalog is given, so the same plan can be checked offline (``owners check``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from dersonlake.errors import BadInput
from dersonlake.mapping.document import Mapping, SelectionRule
from dersonlake.mapping.filters import Filter, column_kind, filters_sql, row_passes
from dersonlake.mapping.post_processing import tags_for
from dersonlake.mapping.shape import child
from dersonlake.mapping.table_settings import (
    LobSettings,
    ParallelLoad,
    Segment,
    TableSettingsRule,
    check_against,
    segments,
)
from dersonlake.mapping.task_settings import TaskSettings, default_task_settings
from dersonlake.mapping.transformations import (
    OutputColumn,
    output_columns,
    primary_key_rule,
    schema_output,
    table_output,
)
from dersonlake.mapping.wildcards import is_wildcard
from dersonlake.sources import Catalog, Table


@dataclass(frozen=True)
class LobHandling:
    """What happens to LOB columns (JSON, MEDIUMTEXT, LONGTEXT, MEDIUMBLOB, LONGBLOB, ...).

    ``mode`` is ``limited`` (truncate at ``max_size_kb``, warn), ``drop`` (SupportLobs false: the
    columns are not in ``columns`` at all) or ``full`` (FullLobMode, which S3 does not support: we
    read LOBs whole). ``table_settings`` is the rule's own ``lob-settings``, which DMS applies only to
    database targets; it is kept for display.
    """

    mode: str
    max_size_kb: int
    columns: tuple[str, ...]
    table_settings: LobSettings | None = None


@dataclass(frozen=True)
class TablePlan:
    """One table of the task, fully resolved."""

    source_schema: str
    source_table: str
    target_schema: str
    target_table: str
    kind: str
    load_order: int
    columns: tuple[OutputColumn, ...]
    source_columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    source_key_columns: tuple[str, ...]
    key_origin: str
    where: str
    params: tuple[str, ...]
    filters: tuple[Filter, ...]
    parallel_load: ParallelLoad | None
    segments: tuple[Segment, ...]
    lob: LobHandling
    tags: tuple[tuple[str, str], ...]
    selected_by: tuple[int, ...] = ()
    # column -> filters.column_kind, so the CDC row test compares like MySQL where that is exact
    filter_kinds: tuple[tuple[str, str], ...] = ()

    @property
    def source(self) -> str:
        return f"{self.source_schema}.{self.source_table}"

    @property
    def target(self) -> str:
        return f"{self.target_schema}.{self.target_table}"

    def column(self, name: str) -> OutputColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def passes(self, row: dict[str, Any]) -> bool:
        """Whether a CDC row image (source column -> value) belongs to this table's selection."""
        return row_passes(self.filters, row, dict(self.filter_kinds))

    def select_sql(self) -> tuple[str, tuple[str, ...]]:
        """A whole-table SELECT of ``source_columns`` with the filter, for readers that need no segments."""
        cols = ", ".join(_q(c) for c in self.source_columns)
        sql = f"SELECT {cols} FROM {_q(self.source_schema)}.{_q(self.source_table)}"
        return (sql + f" WHERE {self.where}" if self.where else sql), self.params


@dataclass(frozen=True)
class Plan:
    tables: tuple[TablePlan, ...]
    settings: TaskSettings
    warnings: tuple[str, ...] = field(default=())

    def table(self, schema: str, name: str) -> TablePlan | None:
        return next((t for t in self.tables if t.source_schema == schema and t.source_table == name), None)


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def resolve(
    mapping: Mapping,
    catalog: Catalog,
    settings: TaskSettings | None = None,
    *,
    migration_type: str = "full-load",
    file: str | None = None,
) -> Plan:
    """The plan for ``mapping`` over ``catalog``; catalog-dependent mistakes raise one BadInput.

    ``file`` (default: the mapping's own) names the mapping file in errors. With ``migration_type``
    ``cdc`` views are left out, since DMS loads views only in full-load tasks.
    """
    settings = settings or default_task_settings()
    try:
        return _resolve(mapping, catalog, settings, migration_type)
    except BadInput as err:
        raise err.located(file=file or mapping.file) from None


def _resolve(mapping: Mapping, catalog: Catalog, settings: TaskSettings, migration_type: str) -> Plan:
    warnings: list[str] = []
    chosen = _select(mapping.selections, catalog, settings, warnings)
    if migration_type == "cdc":
        for t, _ in [c for c in chosen if c[0].kind == "view"]:
            warnings.append(f"{t.qualified} is a view: views are loaded only by full-load tasks; skipped")
        chosen = [c for c in chosen if c[0].kind != "view"]
    if not chosen and settings.fail_on_no_tables_captured:
        raise BadInput(
            "the selection rules match no table in the source",
            path="rules",
            hint="check schema and table names (they are case-sensitive), or set "
            "ErrorBehavior.FailOnNoTablesCaptured false",
        )
    plans = [_table_plan(mapping, table, rules, settings, warnings) for table, rules in chosen]
    _check_targets(mapping, plans)
    _note_unused(mapping, catalog, warnings)
    for rule in mapping.transformations:
        if rule.action == "add-before-image-columns":
            warnings.append(
                f"{rule.path}: add-before-image-columns is for Kinesis and Kafka targets; no effect on S3"
            )
    plans.sort(key=lambda p: (-p.load_order, p.source_schema, p.source_table))
    return Plan(tuple(plans), settings, tuple(warnings))


def _select(
    selections: tuple[SelectionRule, ...], catalog: Catalog, settings: TaskSettings, warnings: list[str]
) -> list[tuple[Table, list[SelectionRule]]]:
    positive = [r for r in selections if r.action in ("include", "explicit")]
    excludes = [r for r in selections if r.action == "exclude"]
    for rule in positive:
        if not any(rule.matches(t.schema, t.name, t.kind) for t in catalog.tables):
            where = f"{rule.schema}.{rule.table}"
            if settings.fail_on_no_tables_captured:
                # Offer only objects of the rule's table-type; when the name is there as the other kind,
                # say so instead (a did-you-mean would suggest some other object of the wrong kind).
                names = [t.qualified for t in catalog.tables if rule.table_type in ("all", t.kind)]
                other = next(
                    (t for t in catalog.tables if rule.matches(t.schema, t.name, rule.table_type)), None
                )
                kinds = _kind_words(rule.table_type)
                allowed = names or [f"(the source has no {kinds}s)"]
                hint = "or set ErrorBehavior.FailOnNoTablesCaptured false"
                if other is not None:
                    kind, allowed = other.kind, None
                    hint = f"{other.qualified} is a {kind}: set table-type to {kind!r} or 'all', {hint}"
                raise BadInput(
                    f"selection rule {rule.rule_name!r} matches no {kinds} in the source",
                    path=child(rule.path, "object-locator"),
                    value=where,
                    allowed=allowed,
                    hint=hint,
                )
            warnings.append(f"{rule.path}: selection rule {rule.rule_name!r} matches nothing ({where})")
    chosen = []
    for table in catalog.tables:
        hits = [r for r in positive if r.matches(table.schema, table.name, table.kind)]
        if hits and not any(r.matches(table.schema, table.name, table.kind) for r in excludes):
            chosen.append((table, hits))
    return chosen


def _kind_words(table_type: str) -> str:
    return {"table": "table", "view": "view", "all": "table or view"}[table_type]


def _table_plan(
    mapping: Mapping, table: Table, rules: list[SelectionRule], settings: TaskSettings, warnings: list[str]
) -> TablePlan:
    filters = tuple(f for r in sorted(rules, key=lambda r: r.rule_id) for f in r.filters)
    kinds: dict[str, str] = {}
    for flt in filters:
        _check_filter(flt, table)
        col = table.column(flt.column)
        assert col is not None
        kinds[flt.column] = column_kind(col.data_type, col.charset, col.collation)
        warning = _collation_warning(flt, table, col.collation)
        if warning:
            warnings.append(warning)
    where, params = filters_sql(filters)
    target_schema, _ = schema_output(mapping.transformations, table.schema)
    target_table, _ = table_output(mapping.transformations, table.schema, table.name)
    columns = output_columns(mapping.transformations, table)
    lob_cols = tuple(c.name for c in columns if c.source is not None and c.dms_type.is_lob)
    if not settings.support_lobs:
        columns = tuple(
            c for c in columns if not (c.source is not None and c.source_type and c.source_type.is_lob)
        )
    ts_rule = _table_settings_for(mapping.table_settings, table)
    lob = LobHandling(
        # S3 has no lookup-based full LOB mode; with limited mode off we read LOBs whole (lossless).
        "drop"
        if not settings.support_lobs
        else ("limited" if settings.limited_size_lob_mode and not settings.full_lob_mode else "full"),
        settings.lob_max_size_kb,
        lob_cols,
        ts_rule.lob_settings if ts_rule else None,
    )
    key_src, key_origin = _key(mapping, table)
    by_source = {c.source: c.name for c in columns if c.source is not None}
    key_out = tuple(by_source[k] for k in key_src if k in by_source)
    if len(key_out) != len(key_src):
        key_out = ()
    pl = ts_rule.parallel_load if ts_rule else None
    if ts_rule is not None:
        check_against(ts_rule, table)
    segs, seg_warnings = segments(pl, table, where, params)
    warnings.extend(seg_warnings)
    needed = set(by_source)
    for col in columns:
        if col.expression is not None:
            needed.update(col.expression.columns)
    source_columns = tuple(c.name for c in sorted(table.columns, key=lambda c: c.ordinal) if c.name in needed)
    return TablePlan(
        table.schema,
        table.name,
        target_schema,
        target_table,
        table.kind,
        max(r.load_order for r in rules),
        columns,
        source_columns,
        key_out,
        key_src,
        key_origin,
        where,
        params,
        filters,
        pl,
        segs,
        lob,
        tags_for(mapping.post_processing, table.schema, table.name),
        tuple(r.rule_id for r in rules),
        tuple(sorted(kinds.items())),
    )


def _collation_warning(flt: Filter, table: Table, collation: str | None) -> str | None:
    """Why the full load and CDC can keep different rows for this filter, or None.

    The full load's WHERE compares text by the column's collation; a case- or accent-insensitive one
    (``_ci`` / ``_ai``, e.g. ``'PAID' = 'paid'``, ``'Muller' = 'Müller'``) follows Unicode collation
    weights that the CDC row test does not copy, so it compares exactly (code points).
    """
    if not collation or flt.column is None:
        return None
    low = collation.lower()
    if not (low.endswith("_ci") or "_ai_" in low or low.endswith("_ai")):
        return None
    if all(c.operator in ("null", "notnull") for c in flt.conditions):
        return None
    return (
        f"{flt.path}: filter on {table.qualified}.{flt.column} (collation {collation}): the full load "
        "compares case- and accent-insensitively (MySQL), CDC row images exactly, so they can select "
        "different rows (e.g. 'PAID' vs 'paid'); use values exactly as stored, or a _bin collation"
    )


def _check_filter(flt: Filter, table: Table) -> None:
    col = table.column(flt.column)
    if col is None:
        raise BadInput(
            f"{table.qualified} has no such column",
            path=child(flt.path, "column-name"),
            value=flt.column,
            allowed=[c.name for c in table.columns],
        )
    if col.dms_type.is_lob:
        raise BadInput(
            f"filters must not be applied to LOB columns ({flt.column} is {col.dms_type})",
            path=child(flt.path, "column-name"),
            value=flt.column,
        )
    if col.dms_type.name in _NUMERIC:
        # MySQL reads 'abc' as 0 and '1,000' as 1 (with a warning only), so the snapshot would keep
        # other rows than the CDC row test, which finds such a value comparable with no number.
        for i, cond in enumerate(flt.conditions):
            keys = ("value",) if len(cond.values) == 1 else ("start-value", "end-value")
            for key, value in zip(keys, cond.values, strict=False):
                if not _is_number(value):
                    raise BadInput(
                        f"{flt.column} is {col.dms_type}, so the filter value must be a number",
                        path=child(child(child(flt.path, "filter-conditions"), i), key),
                        value=value,
                        hint="write it without thousands separators or units, e.g. 1000 or 12.50",
                    )


_NUMERIC = frozenset(
    {"int1", "int2", "int4", "int8", "uint1", "uint2", "uint4", "uint8", "numeric", "real4", "real8"}
)


def _is_number(text: str) -> bool:
    try:
        return Decimal(text.strip()).is_finite()
    except InvalidOperation:
        return False


def _table_settings_for(rules: tuple[TableSettingsRule, ...], table: Table) -> TableSettingsRule | None:
    hits = [r for r in rules if r.schema == table.schema and r.table == table.name]
    return min(hits, key=lambda r: r.rule_id) if hits else None


def _key(mapping: Mapping, table: Table) -> tuple[tuple[str, ...], str]:
    """The source key columns and where they come from: define-primary-key, the PK, a unique key, none."""
    rule = primary_key_rule(mapping.transformations, table)
    if rule is not None and rule.primary_key is not None:
        names = [c.name for c in table.columns]
        for i, col in enumerate(rule.primary_key.columns):
            if col not in names:
                raise BadInput(
                    f"{table.qualified} has no such column",
                    path=child(child(child(rule.path, "primary-key-def"), "columns"), i),
                    value=col,
                    allowed=names,
                )
        return rule.primary_key.columns, "define-primary-key"
    if table.primary_key:
        return table.primary_key, "primary-key"
    for name in sorted(table.unique_keys):
        cols = table.unique_keys[name]
        if all(not (c := table.column(n)) or not c.nullable for n in cols):
            return cols, f"unique-index {name}"
    return (), "none"


def _check_targets(mapping: Mapping, plans: list[TablePlan]) -> None:
    seen: dict[tuple[str, str], TablePlan] = {}
    for plan in plans:
        key = (plan.target_schema, plan.target_table)
        if key in seen:
            other = seen[key]
            _, rule = table_output(mapping.transformations, plan.source_schema, plan.source_table)
            if rule is None:
                _, rule = schema_output(mapping.transformations, plan.source_schema)
            raise BadInput(
                f"two source tables, {other.source} and {plan.source}, would both be written to "
                f"{plan.target}",
                path=rule.path if rule else "rules",
                value=plan.target,
                hint="DMS cannot map two source tables to one target table; change the renaming rules",
            )
        seen[key] = plan


def _note_unused(mapping: Mapping, catalog: Catalog, warnings: list[str]) -> None:
    for ts in mapping.table_settings:
        if catalog.table(ts.schema, ts.table) is None:
            warnings.append(
                f"{ts.path}: table-settings for {ts.schema}.{ts.table}, which the source does not have"
            )
    for rule in mapping.transformations:
        exact = not is_wildcard(rule.schema) and (rule.table is None or not is_wildcard(rule.table))
        if exact and not any(rule.matches_table(t.schema, t.name) for t in catalog.tables):
            warnings.append(f"{rule.path}: transformation {rule.rule_name!r} matches no table")


def render(plan: Plan) -> str:
    """A readable description of the plan, for ``owners check``: tables in load order, lake names,
    columns with DMS and Arrow types, filters with their values, segments, keys, tags."""
    lines: list[str] = []
    for n, t in enumerate(plan.tables, 1):
        kind = " (view)" if t.kind == "view" else ""
        lines.append(f"{n}. {t.source} -> {t.target}{kind}  load-order {t.load_order}")
        lines.append(f"   key: {', '.join(t.key_columns) or '(none)'}  [{t.key_origin}]")
        if t.where:
            lines.append(f"   where: {t.where}")
            lines.append(f"   params: {list(t.params)}")
        width = max((len(c.name) for c in t.columns), default=4)
        for c in t.columns:
            what = f"= {c.expression.text}" if c.expression else f"<- {c.source}"
            extra = f"  [mask {c.mask.kind}]" if c.mask else ""
            if c.source_type is not None and c.source_type != c.dms_type and not c.mask:
                extra += f"  [was {c.source_type}]"
            lines.append(f"   {c.name:<{width}}  {c.dms_type!s:<14} {c.arrow_type!s:<22} {what}{extra}")
        if t.segments:
            lines.append(f"   parallel-load {t.parallel_load.type if t.parallel_load else ''}:")
            for s in t.segments:
                place = f"{s.folder}/" if s.folder else f"{s.file_prefix}LOAD..."
                cond = s.where or "(all rows)"
                lines.append(f"     {s.name:<10} {place:<18} {cond}  {list(s.params)}")
        if t.lob.columns:
            lines.append(f"   LOBs ({t.lob.mode}, {t.lob.max_size_kb} KB): {', '.join(t.lob.columns)}")
        if t.tags:
            lines.append("   tags: " + ", ".join(f"{k}={v}" for k, v in t.tags))
    if not plan.tables:
        lines.append("(no tables selected)")
    for w in plan.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
