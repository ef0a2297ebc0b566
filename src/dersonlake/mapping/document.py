"""A DMS table-mapping document (``{"rules": [...]}``): raw JSON to typed, validated rules.

Only the document's shape is checked here (keys, enums, types, the rules DMS states without
looking at a database); what needs the source catalog (does the filter column exist?) waits for
``plan.resolve``. Every problem is one ``BadInput`` naming the file, the JSON path and the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dersonlake.errors import BadInput
from dersonlake.mapping.filters import Filter, parse_filters
from dersonlake.mapping.post_processing import PostProcessingRule, parse_post_processing
from dersonlake.mapping.shape import check_keys, child, expect_list, expect_object, get_enum, get_name, to_int
from dersonlake.mapping.table_settings import TableSettingsRule, parse_table_settings
from dersonlake.mapping.transformations import TransformationRule, parse_transformation
from dersonlake.mapping.wildcards import check_pattern, is_wildcard, matches

RULE_TYPES = ("selection", "transformation", "table-settings", "post-processing")
SELECTION_ACTIONS = ("include", "exclude", "explicit")
TABLE_TYPES = ("table", "view", "all")
MAX_LOAD_ORDER = 2_147_483_647
_COMMON = ("rule-type", "rule-id", "rule-name")
_KEYS = {
    "selection": (*_COMMON, "rule-action", "object-locator", "load-order", "filters"),
    "transformation": (
        *_COMMON,
        "rule-target",
        "rule-action",
        "object-locator",
        "value",
        "old-value",
        "expression",
        "data-type",
        "primary-key-def",
        "before-image-def",
    ),
    "table-settings": (*_COMMON, "object-locator", "parallel-load", "lob-settings"),
    "post-processing": (*_COMMON, "rule-action", "object-locator", "tag-set"),
}
_REQUIRED = {
    "selection": (*_COMMON, "rule-action", "object-locator"),
    "transformation": (*_COMMON, "rule-target", "rule-action", "object-locator"),
    "table-settings": (*_COMMON, "object-locator"),
    "post-processing": (*_COMMON, "rule-action", "object-locator", "tag-set"),
}


@dataclass(frozen=True)
class SelectionRule:
    """Selects tables: ``action`` include/exclude/explicit over ``schema``.``table`` patterns."""

    rule_id: int
    rule_name: str
    path: str
    action: str
    schema: str
    table: str
    table_type: str = "table"
    load_order: int = 0
    filters: tuple[Filter, ...] = ()

    def matches(self, schema: str, table: str, kind: str) -> bool:
        """Whether the rule names this table or view; explicit names are compared literally."""
        if self.table_type != "all" and self.table_type != kind:
            return False
        if self.action == "explicit":
            return self.schema == schema and self.table == table
        return matches(self.schema, schema) and matches(self.table, table)


@dataclass(frozen=True)
class Mapping:
    """A validated table-mapping document; ``file`` is where it came from (for later error messages)."""

    selections: tuple[SelectionRule, ...]
    transformations: tuple[TransformationRule, ...] = ()
    table_settings: tuple[TableSettingsRule, ...] = ()
    post_processing: tuple[PostProcessingRule, ...] = ()
    file: str | None = None
    document: MappingABC[str, Any] | None = None


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a table-mapping JSON file."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read the table-mapping file: {exc.strerror or exc}", file=file) from None
    return parse_mapping(text, file=file)


def parse_mapping(doc: str | bytes | MappingABC[str, Any], *, file: str | None = None) -> Mapping:
    """Validate a table-mapping document given as JSON text or as an already-decoded dict."""
    try:
        if isinstance(doc, str | bytes):
            try:
                doc = json.loads(doc)
            except json.JSONDecodeError as exc:
                raise BadInput(
                    f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from None
        return _parse(doc, file)
    except BadInput as err:
        raise err.located(file=file) from None


def _parse(doc: Any, file: str | None) -> Mapping:
    root = expect_object(doc, "", "a JSON object with a 'rules' array")
    check_keys(root, "", ("rules",), ("rules",))
    rules = expect_list(root["rules"], "rules", non_empty=True)
    selections: list[SelectionRule] = []
    transformations: list[TransformationRule] = []
    settings: list[TableSettingsRule] = []
    posts: list[PostProcessingRule] = []
    ids: dict[int, str] = {}
    names: dict[str, str] = {}
    for i, raw in enumerate(rules):
        path = child("rules", i)
        obj = expect_object(raw, path, "a rule object")
        if obj.get("rule-type") == "object-mapping":
            raise BadInput(
                "object-mapping rules are for DynamoDB, Kinesis and Kafka targets only",
                path=child(path, "rule-type"),
                value="object-mapping",
                allowed=RULE_TYPES,
            )
        rtype = get_enum(obj, "rule-type", path, RULE_TYPES)
        assert rtype is not None
        check_keys(obj, path, _KEYS[rtype], _REQUIRED[rtype])
        rule_id = to_int(obj["rule-id"], child(path, "rule-id"), minimum=1, maximum=MAX_LOAD_ORDER)
        if rule_id in ids:
            raise BadInput(
                f"duplicate rule-id (also used by {ids[rule_id]})",
                path=child(path, "rule-id"),
                value=obj["rule-id"],
            )
        ids[rule_id] = path
        rule_name = obj["rule-name"]
        if isinstance(rule_name, bool) or not isinstance(rule_name, str | int) or str(rule_name) == "":
            raise BadInput("must be a non-empty string", path=child(path, "rule-name"), value=rule_name)
        rule_name = str(rule_name)
        if rule_name in names:
            raise BadInput(
                f"duplicate rule-name (also used by {names[rule_name]})",
                path=child(path, "rule-name"),
                value=rule_name,
            )
        names[rule_name] = path
        if rtype == "selection":
            selections.append(_parse_selection(obj, path, rule_id, rule_name))
        elif rtype == "transformation":
            transformations.append(parse_transformation(obj, path, rule_id, rule_name))
        elif rtype == "table-settings":
            settings.append(parse_table_settings(obj, path, rule_id, rule_name))
        else:
            posts.append(parse_post_processing(obj, path, rule_id, rule_name, len(posts)))
    if not selections:
        raise BadInput(
            "a table mapping needs at least one selection rule",
            path="rules",
            hint='add {"rule-type": "selection", "rule-action": "include", ...}',
        )
    return Mapping(tuple(selections), tuple(transformations), tuple(settings), tuple(posts), file, root)


def _parse_selection(obj: dict[str, Any], path: str, rule_id: int, rule_name: str) -> SelectionRule:
    action = get_enum(obj, "rule-action", path, SELECTION_ACTIONS)
    lpath = child(path, "object-locator")
    loc = expect_object(obj["object-locator"], lpath, "an object-locator object")
    check_keys(loc, lpath, ("schema-name", "table-name", "table-type"), ("schema-name", "table-name"))
    schema, table = get_name(loc, "schema-name", lpath), get_name(loc, "table-name", lpath)
    assert action is not None and schema is not None and table is not None
    table_type = get_enum(loc, "table-type", lpath, TABLE_TYPES, required=False, default="table") or "table"
    for key, name in (("schema-name", schema), ("table-name", table)):
        check_pattern(name, child(lpath, key))
        if action == "explicit" and is_wildcard(name):
            raise BadInput(
                "an explicit rule selects exactly one table: no wildcards",
                path=child(lpath, key),
                value=name,
                hint="use rule-action include to select by pattern",
            )
    load_order = 0
    if "load-order" in obj:
        load_order = to_int(obj["load-order"], child(path, "load-order"), minimum=0, maximum=MAX_LOAD_ORDER)
    filters: tuple[Filter, ...] = ()
    if "filters" in obj:
        fpath = child(path, "filters")
        filters = parse_filters(obj["filters"], fpath)
        if filters and action != "include":
            raise BadInput(
                f"filters apply only to rule-action include, not {action!r}",
                path=fpath,
                hint="move the filters to an include rule that names the table exactly",
            )
        for key, name in (("schema-name", schema), ("table-name", table)):
            if filters and is_wildcard(name):
                raise BadInput(
                    "a rule with filters needs an exact schema and table name",
                    path=child(lpath, key),
                    value=name,
                    hint="add a separate include rule naming the table exactly and put the filters there",
                )
    return SelectionRule(rule_id, rule_name, path, action, schema, table, table_type, load_order, filters)
