"""Transformation rules: their shape, and what they do to one source table's names and columns.

Semantics (reference/dms.md §1.2): one action per object, the lower ``rule-id`` wins; masking rules
are exempt and apply on top; ``include-column`` turns a table into "only the included columns";
added columns come after the source columns. Column names holding ``#``, ``\\``, ``/`` or ``-`` take
no transformation (DMS's rule), and LOB columns can only be removed or kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dersonlake.dms_types import DMS_TYPE_NAMES, DmsType, arrow_type
from dersonlake.errors import BadInput
from dersonlake.mapping.expressions import Expression, parse_expression
from dersonlake.mapping.shape import (
    check_keys,
    child,
    expect_list,
    expect_object,
    get_enum,
    get_name,
    get_str,
    to_int,
)
from dersonlake.mapping.wildcards import check_pattern, is_wildcard, matches
from dersonlake.sources import Column, Table

_STC = ("schema", "table", "column")
NAMING = (
    "rename",
    "convert-lowercase",
    "convert-uppercase",
    "add-prefix",
    "remove-prefix",
    "replace-prefix",
    "add-suffix",
    "remove-suffix",
    "replace-suffix",
)
MASKING = ("data-masking-digits-mask", "data-masking-digits-randomize", "data-masking-hash-mask")
# action -> (targets it applies to, keys it needs, keys it may have)
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "rename": (_STC, ("value",), ()),
    "convert-lowercase": (_STC, (), ()),
    "convert-uppercase": (_STC, (), ()),
    "add-prefix": (_STC, ("value",), ()),
    "remove-prefix": (_STC, ("value",), ()),
    "replace-prefix": (_STC, ("value", "old-value"), ()),
    "add-suffix": (_STC, ("value",), ()),
    "remove-suffix": (_STC, ("value",), ()),
    "replace-suffix": (_STC, ("value", "old-value"), ()),
    "remove-column": (("column",), (), ()),
    "include-column": (("column",), (), ()),
    "add-column": (("column",), ("value", "data-type"), ("expression",)),
    "change-data-type": (("column",), ("data-type",), ()),
    "define-primary-key": (("table",), ("primary-key-def",), ()),
    "add-before-image-columns": (("column",), (), ("before-image-def",)),
    "data-masking-digits-mask": (("column",), ("value",), ()),
    "data-masking-digits-randomize": (("column",), (), ()),
    "data-masking-hash-mask": (("column",), (), ()),
}
TARGETS = ("schema", "table", "column")
_OPTIONAL_KEYS = ("value", "old-value", "expression", "data-type", "primary-key-def", "before-image-def")
_NO_TRANSFORM_CHARS = set("#\\/-")


@dataclass(frozen=True)
class DataTypeSpec:
    """A ``data-type`` object: a DMS type name with its optional length, precision and scale."""

    type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    def dms_type(self) -> DmsType:
        return DmsType(self.type, self.length, self.precision, self.scale)


@dataclass(frozen=True)
class PrimaryKeyDef:
    name: str
    origin: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class BeforeImageDef:
    column_prefix: str = "BI_"
    column_suffix: str = ""
    column_filter: str = "pk-only"


@dataclass(frozen=True)
class TransformationRule:
    """One transformation rule; ``path`` is its place in the file (``rules[4]``)."""

    rule_id: int
    rule_name: str
    path: str
    target: str
    action: str
    schema: str
    table: str | None = None
    column: str | None = None
    data_type_locator: str | None = None
    value: str | None = None
    old_value: str | None = None
    expression: Expression | None = None
    data_type: DataTypeSpec | None = None
    primary_key: PrimaryKeyDef | None = None
    before_image: BeforeImageDef | None = None

    def matches_table(self, schema: str, table: str) -> bool:
        return matches(self.schema, schema) and (self.table is None or matches(self.table, table))

    def matches_column(self, table: Table, column: Column) -> bool:
        if not self.matches_table(table.schema, table.name):
            return False
        if self.column is not None and not matches(self.column, column.name):
            return False
        return self.data_type_locator is None or self.data_type_locator == column.dms_type.name


@dataclass(frozen=True)
class Mask:
    """A masking mark on an output column: ``kind`` is digits-mask, digits-randomize or hash-mask."""

    kind: str
    char: str | None
    rule_id: int


@dataclass(frozen=True)
class OutputColumn:
    """One column of the lake table: from ``source`` (a source column) or from ``expression``."""

    name: str
    dms_type: DmsType
    source: str | None = None
    source_type: DmsType | None = None
    expression: Expression | None = None
    nullable: bool = True
    mask: Mask | None = None
    rule_ids: tuple[int, ...] = ()

    @property
    def arrow_type(self) -> Any:
        return arrow_type(self.dms_type)


def parse_transformation(obj: dict[str, Any], path: str, rule_id: int, rule_name: str) -> TransformationRule:
    """Validate one transformation rule (the common keys are already checked by the caller)."""
    if obj.get("rule-target") in ("table-tablespace", "index-tablespace"):
        raise BadInput(
            "tablespace targets are for Oracle sources only",
            path=child(path, "rule-target"),
            value=obj["rule-target"],
            allowed=TARGETS,
        )
    target = get_enum(obj, "rule-target", path, TARGETS)
    if obj.get("rule-action") == "exclude-column":
        raise BadInput(
            "DMS has no exclude-column",
            path=child(path, "rule-action"),
            value="exclude-column",
            hint="use rule-action remove-column",
        )
    action = get_enum(obj, "rule-action", path, tuple(ACTIONS))
    assert target is not None and action is not None
    targets, needs, may = ACTIONS[action]
    if target not in targets:
        raise BadInput(
            f"rule-action {action!r} does not apply to rule-target {target!r}",
            path=child(path, "rule-target"),
            value=target,
            allowed=targets,
        )
    for key in _OPTIONAL_KEYS:
        if key in obj and key not in needs and key not in may:
            raise BadInput(
                f"{key!r} is not used by rule-action {action!r}", path=child(path, key), value=obj[key]
            )
    for key in needs:
        if key not in obj:
            raise BadInput(f"rule-action {action!r} needs {key!r}", path=path)
    schema, table, column, dtype_loc = _parse_locator(
        obj.get("object-locator"), child(path, "object-locator"), target, action
    )
    value = get_str(obj, "value", path)
    if action == "data-masking-digits-mask" and (value is None or len(value) != 1):
        raise BadInput("the mask must be exactly one character", path=child(path, "value"), value=value)
    if action == "rename" and value == "":
        raise BadInput("the new name must not be empty", path=child(path, "value"), value=value)
    expression = (
        parse_expression(obj["expression"], child(path, "expression")) if "expression" in obj else None
    )
    data_type = _parse_data_type(obj["data-type"], child(path, "data-type")) if "data-type" in obj else None
    pk = (
        _parse_pk(obj["primary-key-def"], child(path, "primary-key-def"))
        if "primary-key-def" in obj
        else None
    )
    if pk is not None and (is_wildcard(schema) or table is None or is_wildcard(table)):
        raise BadInput(
            "define-primary-key needs an exact schema and table name",
            path=child(path, "object-locator"),
            value=f"{schema}.{table}",
            hint="wildcards are not allowed with define-primary-key",
        )
    before = None
    if action == "add-before-image-columns":
        before = _parse_before_image(obj.get("before-image-def", {}), child(path, "before-image-def"))
    return TransformationRule(
        rule_id,
        rule_name,
        path,
        target,
        action,
        schema,
        table,
        column,
        dtype_loc,
        value,
        get_str(obj, "old-value", path),
        expression,
        data_type,
        pk,
        before,
    )


def _parse_locator(
    raw: Any, path: str, target: str, action: str
) -> tuple[str, str | None, str | None, str | None]:
    obj = expect_object(raw, path, "an object-locator object")
    allowed = ["schema-name", "table-name"] + (["column-name", "data-type"] if target == "column" else [])
    for key in obj:
        if key in ("table-tablespace-name", "index-tablespace-name"):
            raise BadInput(
                "tablespace locators are for Oracle sources only", path=child(path, key), value=key
            )
    needs_column = target == "column" and action not in ("add-column", "add-before-image-columns")
    required = ["schema-name"] + (["table-name"] if target != "schema" else [])
    if needs_column and "data-type" not in obj:
        required.append("column-name")
    check_keys(obj, path, allowed, required)
    schema = get_name(obj, "schema-name", path)
    table = get_name(obj, "table-name", path, required=False) if target != "schema" else None
    column = get_name(obj, "column-name", path, required=False)
    for key in ("schema-name", "table-name", "column-name"):
        if isinstance(obj.get(key), str):
            check_pattern(obj[key], child(path, key))
    dtype = None
    if "data-type" in obj:
        dtype = obj["data-type"]
        if not isinstance(dtype, str) or dtype.lower() not in DMS_TYPE_NAMES:
            raise BadInput(
                "is not a DMS data type", path=child(path, "data-type"), value=dtype, allowed=DMS_TYPE_NAMES
            )
        dtype = dtype.lower()
        if column not in (None, "%"):
            raise BadInput(
                "a data-type locator needs column-name '%' (or none)",
                path=child(path, "column-name"),
                value=column,
            )
        column = None
    assert schema is not None
    return schema, table, column, dtype


def _parse_data_type(raw: Any, path: str) -> DataTypeSpec:
    obj = expect_object(raw, path, "a data-type object")
    check_keys(obj, path, ("type", "length", "precision", "scale"), ("type",))
    name = obj["type"]
    if not isinstance(name, str) or name.lower() not in DMS_TYPE_NAMES:
        raise BadInput("is not a DMS data type", path=child(path, "type"), value=name, allowed=DMS_TYPE_NAMES)

    def num(key: str, maximum: int) -> int | None:
        if obj.get(key) in (None, ""):
            return None
        return to_int(obj[key], child(path, key), minimum=0, maximum=maximum)

    spec = DataTypeSpec(name.lower(), num("length", 2**31 - 1), num("precision", 76), num("scale", 76))
    if spec.precision is not None and spec.scale is not None and spec.scale > spec.precision:
        raise BadInput("scale must not exceed precision", path=child(path, "scale"), value=obj["scale"])
    return spec


def _parse_pk(raw: Any, path: str) -> PrimaryKeyDef:
    obj = expect_object(raw, path, "a primary-key-def object")
    check_keys(obj, path, ("name", "origin", "columns"), ("name", "columns"))
    name = get_name(obj, "name", path)
    origin = get_enum(
        obj, "origin", path, ("primary-key", "unique-index"), required=False, default="primary-key"
    )
    cpath = child(path, "columns")
    columns = expect_list(obj["columns"], cpath, non_empty=True)
    for i, col in enumerate(columns):
        if not isinstance(col, str) or not col:
            raise BadInput("must be a column name", path=child(cpath, i), value=col)
        if "%" in col:
            raise BadInput("define-primary-key needs exact column names", path=child(cpath, i), value=col)
    if len(set(columns)) != len(columns):
        raise BadInput("a key column is listed twice", path=cpath, value=columns)
    assert name is not None and origin is not None
    return PrimaryKeyDef(name, origin, tuple(columns))


def _parse_before_image(raw: Any, path: str) -> BeforeImageDef:
    obj = expect_object(raw, path, "a before-image-def object")
    check_keys(obj, path, ("column-prefix", "column-suffix", "column-filter"))
    return BeforeImageDef(
        get_str(obj, "column-prefix", path) or "BI_",
        get_str(obj, "column-suffix", path) or "",
        get_enum(obj, "column-filter", path, ("pk-only", "non-lob", "all"), required=False, default="pk-only")
        or "",
    )


def apply_naming(rule: TransformationRule, name: str) -> str:
    """The new name ``rule`` gives ``name``; a prefix or suffix rule that does not fit leaves it alone."""
    action, value, old = rule.action, rule.value or "", rule.old_value or ""
    if action == "rename":
        return value
    if action == "convert-lowercase":
        return name.lower()
    if action == "convert-uppercase":
        return name.upper()
    if action == "add-prefix":
        return value + name
    if action == "add-suffix":
        return name + value
    if action == "remove-prefix":
        return name[len(value) :] if value and name.startswith(value) else name
    if action == "remove-suffix":
        return name[: -len(value)] if value and name.endswith(value) else name
    if action == "replace-prefix":
        return value + name[len(old) :] if name.startswith(old) else name
    if action == "replace-suffix":
        return name[: len(name) - len(old)] + value if name.endswith(old) else name
    return name


def winner(rules: Sequence[TransformationRule]) -> TransformationRule | None:
    """The rule that acts on an object when several match: the lowest rule-id."""
    return min(rules, key=lambda r: r.rule_id) if rules else None


def schema_output(rules: Sequence[TransformationRule], schema: str) -> tuple[str, TransformationRule | None]:
    rule = winner(
        [r for r in rules if r.target == "schema" and r.action in NAMING and matches(r.schema, schema)]
    )
    return (apply_naming(rule, schema) if rule else schema), rule


def table_output(
    rules: Sequence[TransformationRule], schema: str, table: str
) -> tuple[str, TransformationRule | None]:
    rule = winner(
        [r for r in rules if r.target == "table" and r.action in NAMING and r.matches_table(schema, table)]
    )
    return (apply_naming(rule, table) if rule else table), rule


def primary_key_rule(rules: Sequence[TransformationRule], table: Table) -> TransformationRule | None:
    return winner(
        [r for r in rules if r.action == "define-primary-key" and r.matches_table(table.schema, table.name)]
    )


def output_columns(rules: Sequence[TransformationRule], table: Table) -> tuple[OutputColumn, ...]:
    """The lake columns of ``table``: kept source columns in ordinal order, then added columns.

    Per column the lowest-id matching rule among renames, case, prefix/suffix, remove-column,
    include-column and change-data-type acts; masking applies on top. Once any include-column rule
    matches the table, a column survives only if some include-column rule matches it too (whichever
    rule won its action), which is how "repeat the rule once per column" reads in the DMS guide.
    """
    column_rules = [r for r in rules if r.target == "column" and r.matches_table(table.schema, table.name)]
    acting = [
        r
        for r in column_rules
        if r.action in NAMING or r.action in ("remove-column", "include-column", "change-data-type")
    ]
    include_mode = any(r.action == "include-column" for r in column_rules)
    out: list[OutputColumn] = []
    for col in sorted(table.columns, key=lambda c: c.ordinal):
        hits = [r for r in acting if r.matches_column(table, col) and _may_touch(r, col)]
        rule = winner(hits)
        included = any(r.action == "include-column" for r in hits)
        if (rule is not None and rule.action == "remove-column") or (include_mode and not included):
            continue
        name, dms_type, rule_ids = col.name, col.dms_type, ()
        if rule is not None and rule.action in NAMING:
            name = apply_naming(rule, col.name)
        if rule is not None and rule.action == "change-data-type":
            assert rule.data_type is not None
            dms_type = rule.data_type.dms_type()
        if rule is not None:
            rule_ids = (rule.rule_id,)
        mask_rule = winner([r for r in column_rules if r.action in MASKING and r.matches_column(table, col)])
        mask = None
        if mask_rule is not None:
            mask = Mask(mask_rule.action.removeprefix("data-masking-"), mask_rule.value, mask_rule.rule_id)
            rule_ids += (mask_rule.rule_id,)
            if dms_type.name not in ("string", "wstring", "clob", "nclob"):
                dms_type = DmsType("string")
        out.append(OutputColumn(name, dms_type, col.name, col.dms_type, None, col.nullable, mask, rule_ids))
    _check_unique(out, table, column_rules)
    for rule in sorted((r for r in column_rules if r.action == "add-column"), key=lambda r: r.rule_id):
        assert rule.value is not None and rule.data_type is not None
        if any(c.name == rule.value for c in out):
            raise BadInput(
                f"add-column: table {table.qualified} already has a column with this name",
                path=child(rule.path, "value"),
                value=rule.value,
            )
        if rule.expression is not None:
            _check_refs(rule, table)
        out.append(
            OutputColumn(
                rule.value,
                rule.data_type.dms_type(),
                None,
                None,
                rule.expression,
                True,
                None,
                (rule.rule_id,),
            )
        )
    return tuple(out)


def _may_touch(rule: TransformationRule, col: Column) -> bool:
    """DMS leaves alone columns with ``# \\ / -`` in their names, and LOBs may only be removed or kept.

    A wildcard rule silently passes over such a column; a rule that names the column exactly is a mistake
    the user must hear about.
    """
    if rule.action in ("remove-column", "include-column"):
        return True
    exact = rule.column is not None and not is_wildcard(rule.column)
    if _NO_TRANSFORM_CHARS & set(col.name):
        if exact:
            raise BadInput(
                "DMS applies no transformation to a column whose name holds '#', '\\', '/' or '-'",
                path=child(child(rule.path, "object-locator"), "column-name"),
                value=col.name,
            )
        return False
    if col.dms_type.is_lob:
        if exact:
            raise BadInput(
                f"column {col.name!r} is a LOB ({col.dms_type}); LOB columns can only be removed or included",
                path=child(rule.path, "rule-action"),
                value=rule.action,
                allowed=("remove-column", "include-column"),
            )
        return False
    return True


def _check_unique(out: Sequence[OutputColumn], table: Table, rules: Sequence[TransformationRule]) -> None:
    seen: dict[str, OutputColumn] = {}
    for col in out:
        if col.name in seen:
            culprit = next((r for r in rules if r.rule_id in col.rule_ids), None)
            raise BadInput(
                f"columns {seen[col.name].source!r} and {col.source!r} of {table.qualified} would both be "
                f"named {col.name!r}",
                path=culprit.path if culprit else "rules",
                value=col.name,
            )
        seen[col.name] = col


def _check_refs(rule: TransformationRule, table: Table) -> None:
    assert rule.expression is not None
    names = [c.name for c in table.columns]
    for ref in rule.expression.columns:
        if ref not in names:
            raise BadInput(
                f"the expression refers to a column that {table.qualified} does not have",
                path=child(rule.path, "expression"),
                value="$" + ref,
                allowed=names,
            )
