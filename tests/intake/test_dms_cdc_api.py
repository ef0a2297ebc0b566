"""A ``cdc`` replication task through the local DMS API with boto3: StartReplicationTask with
CdcStartPosition streams changes into the lake until StopReplicationTask (Stop Reason NORMAL), and
bad CDC options are InvalidParameterValueException."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from dersonlake.sources.mysql.binlog_position import current_position
from tests.cli.stream_helpers import mapping, source_rows, wait_for
from tests.intake.test_dms_api import FAST, make_endpoints, make_instance
from tests.replication.conftest import write_owner

TABLE = "api_items"


@pytest.fixture
def api_items(admin):
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")
        cur.execute(f"CREATE TABLE shop.{TABLE} (id INT PRIMARY KEY, name VARCHAR(20), qty INT)")
    yield
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")


def lake_rows(root):
    from dersonlake.config.s3_settings import normalize_s3_settings
    from dersonlake.lake.current_state import current_state
    from dersonlake.lake.storage import open_storage

    storage = open_storage(str(root / "lake"))
    if not list(storage.list(f"shop/{TABLE}")):
        return []
    state = current_state(storage, "shop", TABLE, ["id"], normalize_s3_settings({"DataFormat": "parquet"}))
    return sorted(state.select(["id", "name", "qty"]).to_pylist(), key=lambda r: r["id"])


def test_a_cdc_task_streams_from_its_start_position_until_stopped(
    dms, owners_root, sandbox, shop_params, admin, api_items
):
    write_owner(
        owners_root,
        sandbox,
        name="acme",
        mapping=mapping(TABLE),
        s3={"DataFormat": "parquet", "CdcMaxBatchInterval": 1},
    )
    instance = make_instance(dms)
    source, target = make_endpoints(dms)
    arn = dms.create_replication_task(
        ReplicationTaskIdentifier="derson-acme-cdc",
        SourceEndpointArn=source["EndpointArn"],
        TargetEndpointArn=target["EndpointArn"],
        ReplicationInstanceArn=instance["ReplicationInstanceArn"],
        MigrationType="cdc",
        TableMappings=json.dumps(mapping(TABLE)),
        Tags=[{"Key": "derson-lake:owner", "Value": "acme"}],
    )["ReplicationTask"]["ReplicationTaskArn"]
    flt = [{"Name": "replication-task-arn", "Values": [arn]}]
    dms.get_waiter("replication_task_ready").wait(Filters=flt, WaiterConfig=FAST)
    dms.describe_replication_instances()  # the instance becomes available
    with pytest.raises(ClientError, match="not a CDC stop position"):
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication", CdcStopPosition="soon"
        )
    start = str(current_position(shop_params))
    with admin.cursor() as cur:
        cur.execute(f"INSERT INTO shop.{TABLE} VALUES (1, 'one', 1)")  # after the start position
    dms.start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="start-replication", CdcStartPosition=start
    )
    with admin.cursor() as cur:
        cur.execute(f"INSERT INTO shop.{TABLE} VALUES (2, 'two', 2)")
        cur.execute(f"UPDATE shop.{TABLE} SET qty = 10 WHERE id = 1")
    wait_for(lambda: lake_rows(owners_root) == source_rows(admin, TABLE) != [], "the changes in the lake")
    (running,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
    assert running["Status"] == "running" and running["CdcStartPosition"] == start
    dms.stop_replication_task(ReplicationTaskArn=arn)
    dms.get_waiter("replication_task_stopped").wait(Filters=flt, WaiterConfig=FAST)
    (done,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
    assert done["StopReason"] == "Stop Reason NORMAL", done
    assert done["RecoveryCheckpoint"]
    assert not any("LOAD" in p.name for p in (owners_root / "lake").rglob("*"))  # cdc: no full load
