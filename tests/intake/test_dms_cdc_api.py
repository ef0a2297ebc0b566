"""CDC start points through the local DMS API with boto3: a ``cdc`` task started with a
CdcStartPosition in DMS's ``checkpoint:`` form, a MariaDB GTID, or a CdcStartTime captures exactly
the changes after that point and stops at its CdcStopPosition (STOPPED_AT_SERVER_TIME)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from dersonlake.sources.mysql.binlog_position import current_position
from tests.cli.stream_helpers import mapping
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


def cdc_ids(root) -> list[int]:
    from dersonlake.config.s3_settings import normalize_s3_settings
    from dersonlake.lake.reader import read_files
    from dersonlake.lake.storage import open_storage

    storage = open_storage(str(root / "lake"))
    keys = sorted(o.key for o in storage.list(f"shop/{TABLE}") if "LOAD" not in o.key)
    table = read_files(storage, keys, normalize_s3_settings({"DataFormat": "parquet"}))
    return table.column("id").to_pylist() if keys else []


@pytest.mark.parametrize("form", ["checkpoint", "gtid", "time"])
def test_a_cdc_task_starts_at_any_start_form_and_stops_at_its_stop_position(
    dms, owners_root, sandbox, shop_params, admin, api_items, form
):
    write_owner(owners_root, sandbox, name="acme", mapping=mapping(TABLE), s3={"DataFormat": "parquet"})
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
    with admin.cursor() as cur:
        cur.execute(f"INSERT INTO shop.{TABLE} VALUES (1, 'before', 1)")  # before the start point
        cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        gtid = cur.fetchone()[0]
    position = str(current_position(shop_params))
    now = time.time()
    time.sleep(int(now) + 1.05 - now)  # binlog times are whole seconds
    start_time = dt.datetime.fromtimestamp(int(now) + 1, dt.UTC)
    with admin.cursor() as cur:
        cur.execute(f"INSERT INTO shop.{TABLE} VALUES (2, 'after', 2)")
        cur.execute(f"UPDATE shop.{TABLE} SET qty = 10 WHERE id = 1")
    start = {
        "checkpoint": {
            "CdcStartPosition": f"checkpoint:V1#27#{position}:-1:2002:677883278264080:{position}#0#0#*#0#93"
        },
        "gtid": {"CdcStartPosition": gtid},
        "time": {"CdcStartTime": start_time},
    }[form]
    stop_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="start-replication",
        CdcStopPosition=f"server_time:{stop_at:%Y-%m-%dT%H:%M:%S}",
        **start,
    )
    dms.get_waiter("replication_task_stopped").wait(Filters=flt, WaiterConfig=FAST)
    (done,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
    assert done["StopReason"] == "Stop Reason STOPPED_AT_SERVER_TIME", done
    assert cdc_ids(owners_root) == [2, 1]  # the insert after the start point, then the update
