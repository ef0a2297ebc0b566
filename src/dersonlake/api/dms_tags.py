"""DMS resource tags (AddTagsToResource, RemoveTagsFromResource, ListTagsForResource), kept in the
replication store beside the resources they belong to.

Tags matter to real clients: the Terraform AWS provider reads every DMS resource's tags after each
create and on every refresh, and writes them with AddTagsToResource / RemoveTagsFromResource. As on
AWS, tagging an ARN that names no resource is ``ResourceNotFoundFault``, keys are unique per
resource (a second AddTagsToResource with the same key replaces the value) and deleting a resource
drops its tags.
"""

from __future__ import annotations

from typing import Any

from dersonlake.api.protocol import ApiError
from dersonlake.replication import ReplicationStore

Params = dict[str, Any]
SCHEMA = """
CREATE TABLE IF NOT EXISTS resource_tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);
"""
# The tables whose ARNs can carry tags (subnet groups have ARNs built from their identifier).
TAGGABLE = (("endpoints", "arn"), ("instances", "arn"), ("tasks", "arn"))


class Tags:
    """Tags by resource ARN. ``groups`` (set by the API) says whether a subnet group exists."""

    def __init__(self, store: ReplicationStore, region: str, account: str) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.groups: Any = None
        with store.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    # -- tags --------------------------------------------------------------------------------------
    def add_tags_to_resource(self, p: Params) -> dict[str, Any]:
        arn = self._existing(p["ResourceArn"])
        self.put(arn, p.get("Tags", []))
        return {}

    def remove_tags_from_resource(self, p: Params) -> dict[str, Any]:
        arn = self._existing(p["ResourceArn"])
        with self.store.transaction() as db:
            for key in p["TagKeys"]:
                db.execute("DELETE FROM resource_tags WHERE arn = ? AND key = ?", (arn, key))
        return {}

    def list_tags_for_resource(self, p: Params) -> dict[str, Any]:
        arns = [p["ResourceArn"]] if p.get("ResourceArn") else list(p.get("ResourceArnList") or [])
        if not arns:
            raise ApiError("InvalidParameterValueException", "ResourceArn or ResourceArnList is required")
        out = []
        for arn in arns:
            self._existing(arn)
            out += [{"Key": k, "Value": v, "ResourceArn": arn} for k, v in self.of(arn).items()]
        return {"TagList": out}

    def put(self, arn: str, tags: list[dict[str, Any]]) -> None:
        with self.store.transaction() as db:
            for tag in tags:
                key = tag.get("Key")
                if not key:
                    raise ApiError("InvalidParameterValueException", "Tag keys must not be empty")
                db.execute(
                    "INSERT OR REPLACE INTO resource_tags VALUES (?, ?, ?)",
                    (arn, key, tag.get("Value") or ""),
                )

    def of(self, arn: str) -> dict[str, str]:
        rows = self.store.query("SELECT key, value FROM resource_tags WHERE arn = ? ORDER BY key", (arn,))
        return {r["key"]: r["value"] for r in rows}

    def drop(self, arn: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM resource_tags WHERE arn = ?", (arn,))

    def _existing(self, arn: str) -> str:
        for table, column in TAGGABLE:
            if self.store.query(f"SELECT 1 FROM {table} WHERE {column} = ?", (arn,)):
                return arn
        prefix = f"arn:aws:dms:{self.region}:{self.account}:subgrp:"
        if arn.startswith(prefix) and self.groups is not None and self.groups.exists(arn[len(prefix) :]):
            return arn
        raise ApiError("ResourceNotFoundFault", f"Resource not found: {arn}")
