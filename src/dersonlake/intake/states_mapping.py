"""The seven steps of the pipelines' Lambda contract (infra/terraform/pipelines/README.md), by name,
and the eighth's stand-in (``update_iceberg_tables``, see ``update_iceberg_tables`` below).

Each takes the owner's ``Dms`` and the payload and returns exactly what DMS-Handler reads:
``ReplicationInstanceArn``/``ReplicationInstanceStatus`` for the instance steps,
``ReplicationTaskArn``/``Status``/``StopReason`` for the task steps, any object for the deletes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dersonlake.intake.dms import Dms, instance_result, task_result
from dersonlake.intake.errors import IcebergNotDeployed, error_class
from dersonlake.intake.overlap import refuse_overlap

Event = dict[str, Any]


def _arn(event: Event, part: str, key: str) -> str | None:
    value = event.get(part)
    return value.get(key) if isinstance(value, dict) else None


def create_instance(dms: Dms, event: Event) -> dict[str, Any]:
    refuse_overlap(dms.owner, event.get("execution_id"))  # before anything of the owner is touched
    return instance_result(dms.create_instance(delta=bool(event.get("delta"))))


def check_instance_status(dms: Dms, event: Event) -> dict[str, Any]:
    arn = _arn(event, "instance", "ReplicationInstanceArn")
    found = dms.find_instance(arn) if arn else dms.find_instance()
    if found is None:
        raise error_class("ResourceNotFoundFault")(
            "ResourceNotFoundFault", f"no replication instance {arn or dms.instance_id}"
        )
    return instance_result(found)


def create_replication_task(dms: Dms, event: Event) -> dict[str, Any]:
    instance = _arn(event, "instance", "ReplicationInstanceArn")
    return task_result(dms.create_task(instance, delta=bool(event.get("delta"))))


def start_replication_task(dms: Dms, event: Event) -> dict[str, Any]:
    return task_result(dms.start_task(_arn(event, "task", "ReplicationTaskArn")))


def check_replication_task_status(dms: Dms, event: Event) -> dict[str, Any]:
    arn = _arn(event, "task", "ReplicationTaskArn")
    found = dms.find_task(arn) if arn else dms.find_task()
    if found is None:
        raise error_class("ResourceNotFoundFault")(
            "ResourceNotFoundFault", f"no replication task {arn or dms.task_id}"
        )
    result = task_result(found)
    if result["Status"] in ("stopped", "failed"):  # the run's totals, before the task is deleted
        result.update(dms.run_totals(result["ReplicationTaskArn"]))
    return result


def delete_task(dms: Dms, event: Event) -> dict[str, Any]:
    return dms.delete_task(_arn(event, "task", "ReplicationTaskArn"))


def delete_instance(dms: Dms, event: Event) -> dict[str, Any]:
    return dms.delete_instance(_arn(event, "instance", "ReplicationInstanceArn"))


def update_iceberg_tables(dms: Dms, event: Event) -> dict[str, Any]:
    """DMS-Handler's Iceberg step when no owner of the deployment keeps Iceberg tables: Terraform then
    points ``${iceberg_function_arn}`` here (no container image to build or pay for), and an owner
    without ``target.tables: iceberg`` has nothing to update. The real step is the DMS-iceberg
    Lambda (``dersonlake.iceberg_step``), which needs pyarrow and pyiceberg, too big for this zip."""
    owner = dms.owner_config()
    if owner.target.tables != "iceberg":
        return {"IcebergTables": "none", "owner": owner.name}
    raise IcebergNotDeployed(
        f"owner {owner.name} keeps Iceberg tables (target.tables: iceberg) but the pipeline called "
        "DMS-intake for them: deploy the DMS-iceberg function (Terraform: iceberg_image_uri, "
        "make tf-owners; docs/iceberg.md, On AWS)"
    )


STEPS: dict[str, Callable[[Dms, Event], dict[str, Any]]] = {
    "create_instance": create_instance,
    "check_instance_status": check_instance_status,
    "create_replication_task": create_replication_task,
    "start_replication_task": start_replication_task,
    "check_replication_task_status": check_replication_task_status,
    "delete_task": delete_task,
    "delete_instance": delete_instance,
    "update_iceberg_tables": update_iceberg_tables,
}
