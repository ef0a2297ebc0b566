"""DMS replication subnet groups (Create/Describe/Modify/DeleteReplicationSubnetGroup).

A subnet group here is a record: the server has no VPC, so the subnets are described back as given,
each in an Availability Zone of the region (``<region>a``, ``<region>b``, ... in order) and the
group in a VPC named after it. Instances may name it (``ReplicationSubnetGroupIdentifier``) and a
group used by an instance cannot be deleted, as on AWS. The Terraform deployment's
``dms-instance`` module makes one (the Lambda's per-run instances live in it).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from dersonlake.api.dms_tags import Tags
from dersonlake.api.protocol import ApiError
from dersonlake.replication import ReplicationStore

Params = dict[str, Any]
_SUBNET_GROUP_ID = re.compile(r"^[A-Za-z0-9._ -]{1,255}$")


class SubnetGroups:
    def __init__(self, store: ReplicationStore, region: str, account: str, tags: Tags) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.tags = tags

    def exists(self, identifier: str) -> bool:
        return self._group(identifier) is not None

    def subnet_group_arn(self, identifier: str) -> str:
        return f"arn:aws:dms:{self.region}:{self.account}:subgrp:{identifier}"

    def create_replication_subnet_group(self, p: Params) -> dict[str, Any]:
        identifier = p["ReplicationSubnetGroupIdentifier"].lower()
        if not _SUBNET_GROUP_ID.match(identifier) or identifier == "default":
            raise ApiError(
                "InvalidParameterValueException",
                "ReplicationSubnetGroupIdentifier must be at most 255 letters, digits, periods, "
                "underscores, spaces or hyphens, and not 'default'",
            )
        if self._group(identifier) is not None:
            raise ApiError(
                "ResourceAlreadyExistsFault", f"Replication subnet group {identifier} already exists"
            )
        subnets = self._subnets(p["SubnetIds"])
        self.store.insert_subnet_group(
            identifier, p["ReplicationSubnetGroupDescription"], json.dumps(subnets)
        )
        self.tags.put(self.subnet_group_arn(identifier), p.get("Tags", []))
        return {"ReplicationSubnetGroup": self.describe_group(identifier)}

    def modify_replication_subnet_group(self, p: Params) -> dict[str, Any]:
        identifier = self._known_group(p["ReplicationSubnetGroupIdentifier"])
        subnets = json.dumps(self._subnets(p["SubnetIds"]))
        self.store.update_subnet_group(identifier, p.get("ReplicationSubnetGroupDescription"), subnets)
        return {"ReplicationSubnetGroup": self.describe_group(identifier)}

    def describe_replication_subnet_groups(self, p: Params) -> dict[str, Any]:
        names = self.store.subnet_group_names()
        for f in p.get("Filters", []):
            if f["Name"] != "replication-subnet-group-id":
                raise ApiError(
                    "InvalidParameterValueException",
                    f"Invalid filter name {f['Name']!r}; allowed: replication-subnet-group-id",
                )
            wanted = {v.lower() for v in f["Values"]}
            names = [n for n in names if n in wanted]
        if not names:
            raise ApiError("ResourceNotFoundFault", "No replication subnet groups found matching filters")
        return {"ReplicationSubnetGroups": [self.describe_group(n) for n in names]}

    def delete_replication_subnet_group(self, p: Params) -> dict[str, Any]:
        identifier = self._known_group(p["ReplicationSubnetGroupIdentifier"])
        for row in self.store.instances():
            if json.loads(row["params"]).get("ReplicationSubnetGroupIdentifier") == identifier:
                raise ApiError(
                    "InvalidResourceStateFault",
                    f"Replication subnet group {identifier} is used by replication instance "
                    f"{row['identifier']}",
                )
        self.store.delete_subnet_group(identifier)
        self.tags.drop(self.subnet_group_arn(identifier))
        return {}

    def describe_group(self, identifier: str) -> dict[str, Any]:
        row = self._group(identifier)
        if row is None:
            raise ApiError("ResourceNotFoundFault", f"Replication subnet group not found: {identifier}")
        subnets = json.loads(row["subnet_ids"])
        return {
            "ReplicationSubnetGroupIdentifier": row["identifier"],
            "ReplicationSubnetGroupDescription": row["description"],
            "VpcId": "vpc-" + hashlib.sha256(row["identifier"].encode()).hexdigest()[:17],
            "SubnetGroupStatus": "Complete",
            "Subnets": [
                {
                    "SubnetIdentifier": subnet,
                    "SubnetAvailabilityZone": {"Name": f"{self.region}{'abcdef'[i % 6]}"},
                    "SubnetStatus": "Active",
                }
                for i, subnet in enumerate(subnets)
            ],
            "SupportedNetworkTypes": ["IPV4"],
        }

    def _subnets(self, subnet_ids: list[str]) -> list[str]:
        if len(subnet_ids) < 2:
            raise ApiError(
                "InvalidParameterValueException",
                "The replication subnet group needs subnets in at least two Availability Zones",
            )
        return list(dict.fromkeys(subnet_ids))

    def _group(self, identifier: str) -> Any:
        return self.store.subnet_group(identifier.lower())

    def _known_group(self, identifier: str) -> str:
        if self._group(identifier) is None:
            raise ApiError("ResourceNotFoundFault", f"Replication subnet group not found: {identifier}")
        return identifier.lower()
