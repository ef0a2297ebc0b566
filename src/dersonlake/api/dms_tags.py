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


class Tags:
    """Tags by resource ARN. ``groups`` (set by the API) says whether a subnet group exists."""

    def __init__(self, store: ReplicationStore, region: str, account: str) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.groups: Any = None

    # -- tags --------------------------------------------------------------------------------------
    def add_tags_to_resource(self, p: Params) -> dict[str, Any]:
        arn = self._existing(p["ResourceArn"])
        self.put(arn, p.get("Tags", []))
        return {}

    def remove_tags_from_resource(self, p: Params) -> dict[str, Any]:
        arn = self._existing(p["ResourceArn"])
        self.store.remove_tags(arn, list(p["TagKeys"]))
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
        if any(not tag.get("Key") for tag in tags):  # checked first: no tag of a bad list is kept
            raise ApiError("InvalidParameterValueException", "Tag keys must not be empty")
        self.store.put_tags(arn, [(tag["Key"], tag.get("Value") or "") for tag in tags])

    def of(self, arn: str) -> dict[str, str]:
        return self.store.tags(arn)

    def drop(self, arn: str) -> None:
        self.store.drop_tags(arn)

    def _existing(self, arn: str) -> str:
        if self.store.has_resource(arn):  # an endpoint, instance or task
            return arn
        prefix = f"arn:aws:dms:{self.region}:{self.account}:subgrp:"
        if arn.startswith(prefix) and self.groups is not None and self.groups.exists(arn[len(prefix) :]):
            return arn
        raise ApiError("ResourceNotFoundFault", f"Resource not found: {arn}")
