"""The DMS-iceberg Lambda (``lambda_function.lambda_handler``), the same code on AWS and locally.

DMS-Handler calls it once the replication task has stopped (step ``update_iceberg_tables``, the
pipelines' payload: ``owner``, ``step``, ``delta``, ``instance``, ``task``, ``execution_id``). It
brings each of the owner's Iceberg tables up to the DMS files the run wrote
(``replication.iceberg_catchup``) and returns what it did, per table.

* An owner without ``target.tables: iceberg`` returns ``{"IcebergTables": "none"}`` before
  pyarrow or pyiceberg is imported: the step costs one short invocation.
* The lake is where the owner's target endpoint writes: Terraform's ``DERSON_LAKES`` on AWS (as
  for the CDC checkpoint), else owner.yaml's ``target``. On AWS the catalog defaults to ``glue``
  (the Glue databases Terraform creates); ``AWS_ENDPOINT_URL_S3`` points the Iceberg files at an
  S3-compatible endpoint, as boto3 itself reads it.
* Errors are exceptions; the pipelines' Catch sends them to DMS-ErrorHandling. A retried step
  applies nothing twice (the snapshot summary records the last DMS file applied).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from dersonlake.config import Owner, load_owner

log = logging.getLogger("dersonlake.ICEBERG")

STEP = "update_iceberg_tables"


class MissingOwner(Exception):
    """The payload has no ``owner`` (named as DMS-intake's, for the pipelines' Catch)."""


class UnknownStep(Exception):
    """The payload's ``step`` is not ``update_iceberg_tables``."""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    owner_name = event.get("owner")
    if not owner_name or not isinstance(owner_name, str):
        raise MissingOwner("the payload has no owner")
    if event.get("step") != STEP:
        raise UnknownStep(f"unknown step {event.get('step')!r}; DMS-iceberg runs {STEP!r} only")
    owner = load_owner(owner_name, os.environ.get("DERSON_OWNERS_DIR"))
    if owner.target.tables != "iceberg":
        return {"IcebergTables": "none", "owner": owner_name}
    result = update_iceberg_tables(owner)
    log.info("owner=%s step=%s result=%s", owner_name, STEP, result)
    return result


def update_iceberg_tables(owner: Owner) -> dict[str, Any]:
    """Catch the owner's Iceberg tables up with its lake; the step's result."""
    from dersonlake.lake import catalog_properties, open_storage, publish
    from dersonlake.replication import catch_up

    uri, endpoint_url, region, on_aws = lake_of(owner)
    catalog = owner.target.catalog or ("glue" if on_aws else None)
    props = catalog_properties(uri, catalog=catalog, endpoint_url=endpoint_url, region=region)
    storage = open_storage(uri, endpoint_url=endpoint_url, region=region)
    publish(storage, props)  # what `lake catalog` and every other writer read
    done = catch_up(storage, owner.target.s3, owner.target.keys, owner.target.column_types)
    return {"IcebergTables": "updated", "owner": owner.name, "lake": uri, **done.to_json()}


def lake_of(owner: Owner) -> tuple[str, str | None, str | None, bool]:
    """``(uri, endpoint_url, region, on_aws)`` of the lake the owner's task writes."""
    lakes = json.loads(os.environ.get("DERSON_LAKES") or "{}")
    if owner.name in lakes:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
        return lakes[owner.name], endpoint, region, True
    t = owner.target
    return (t.uri if t.is_s3 else t.folder), t.endpoint_url, t.region, False
