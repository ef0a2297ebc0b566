"""Post-processing ``add-tag`` rules: S3 object tags for the files of each table (reference/dms.md §1.5).

Each table takes the tag set of its single best-matching rule (an exact name beats a wildcard; among
equals the first rule in the file wins), with ``${schema-name}`` and ``${table-name}`` replaced by
the *source* schema and table names, in keys and values alike.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    get_str,
)
from dersonlake.mapping.wildcards import check_pattern, exactness, matches

MAX_TAGS = 10  # S3's limit per object


@dataclass(frozen=True)
class PostProcessingRule:
    rule_id: int
    rule_name: str
    path: str
    order: int
    schema: str
    table: str
    tags: tuple[tuple[str, str], ...]

    def score(self, schema: str, table: str) -> int | None:
        """How well the rule fits a table (higher is better), or None when it does not match."""
        if not (matches(self.schema, schema) and matches(self.table, table)):
            return None
        return exactness(self.schema, schema) * 3 + exactness(self.table, table)


def parse_post_processing(
    obj: dict[str, Any], path: str, rule_id: int, rule_name: str, order: int
) -> PostProcessingRule:
    get_enum(obj, "rule-action", path, ("add-tag",))
    lpath = child(path, "object-locator")
    loc = expect_object(obj.get("object-locator"), lpath, "an object-locator object")
    check_keys(loc, lpath, ("schema-name", "table-name"), ("schema-name", "table-name"))
    schema, table = get_name(loc, "schema-name", lpath), get_name(loc, "table-name", lpath)
    assert schema is not None and table is not None
    check_pattern(schema, child(lpath, "schema-name"))
    check_pattern(table, child(lpath, "table-name"))
    tpath = child(path, "tag-set")
    if "tag-set" not in obj:
        raise BadInput("missing required key 'tag-set'", path=path)
    items = expect_list(obj["tag-set"], tpath, non_empty=True)
    if len(items) > MAX_TAGS:
        raise BadInput(f"S3 allows at most {MAX_TAGS} tags per object", path=tpath, value=len(items))
    tags = []
    for i, item in enumerate(items):
        ipath = child(tpath, i)
        tag = expect_object(item, ipath, "a tag object")
        check_keys(tag, ipath, ("key", "value"), ("key", "value"))
        key, value = get_str(tag, "key", ipath, required=True), get_str(tag, "value", ipath, required=True)
        assert key is not None and value is not None
        if not key or len(key) > 128:
            raise BadInput("a tag key must have 1 to 128 characters", path=child(ipath, "key"), value=key)
        if len(value) > 256:
            raise BadInput(
                "a tag value must have at most 256 characters", path=child(ipath, "value"), value=value
            )
        tags.append((key, value))
    keys = [k for k, _ in tags]
    if len(set(keys)) != len(keys):
        raise BadInput("a tag key is listed twice", path=tpath, value=keys)
    assert schema is not None and table is not None
    return PostProcessingRule(rule_id, rule_name, path, order, schema, table, tuple(tags))


def tags_for(rules: Sequence[PostProcessingRule], schema: str, table: str) -> tuple[tuple[str, str], ...]:
    """The substituted tag set of the best-matching rule, or ``()``."""
    scored = [(s, -r.order, r) for r in rules if (s := r.score(schema, table)) is not None]
    if not scored:
        return ()
    best = max(scored, key=lambda t: (t[0], t[1]))[2]
    return tuple((_subst(k, schema, table), _subst(v, schema, table)) for k, v in best.tags)


def _subst(text: str, schema: str, table: str) -> str:
    return text.replace("${schema-name}", schema).replace("${table-name}", table)
