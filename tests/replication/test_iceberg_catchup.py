"""The DMS-iceberg Lambda (DMS-Handler's ``update_iceberg_tables`` step), run for real.

A lake is written WITHOUT Iceberg (a full load and a delta run against the session MariaDB: the DMS
files alone, as AWS DMS leaves them); then the owner opts in and the handler builds every Iceberg
table from the files. Each table, read with plain pyiceberg, equals the source; a second call
commits nothing (the snapshot summaries record the last DMS file applied). Once the owner keeps
Iceberg tables, the local engine applies every commit itself and the step finds nothing new.
"""

from __future__ import annotations

import contextlib

import boto3
import pytest
from pyiceberg.catalog import load_catalog

from dersonlake.config import load_owner
from dersonlake.iceberg_step.lambda_function import STEP, lambda_handler
from dersonlake.lake import configured, open_storage, publish
from dersonlake.replication import status
from dersonlake.sources.mysql.binlog_position import current_position
from tests.replication.conftest import write_owner
from tests.replication.test_iceberg_tables import MAPPING, S3, delta, execute, ice_tables, items, lines

__all__ = ["ice_tables"]  # the fixture, shared

KEYS = {"shop.ice_items": ["id"], "shop.ice_lines": ["order_id", "line"], "shop.ice_nokey": []}
ICEBERG = {"tables": "iceberg", "keys": KEYS, "column_types": {"shop.ice_items.at": "timestamptz"}}
CHANGES = (
    "UPDATE shop.ice_items SET name = 'uno', qty = 9.99 WHERE id = 1",
    "DELETE FROM shop.ice_items WHERE id = 2",
    "INSERT INTO shop.ice_items VALUES (4, 'four', 4.25, 44, '2026-02-02 02:02:02.000002')",
    "UPDATE shop.ice_lines SET line = 9 WHERE order_id = 1 AND line = 2",
    "INSERT INTO shop.ice_lines VALUES (3, 1, 'd')",
    "UPDATE shop.ice_items SET id = 30 WHERE id = 3",  # a primary-key update
)


def step(owner: str = "acme") -> dict:
    return lambda_handler({"owner": owner, "step": STEP, "delta": True, "instance": {}, "task": {}}, None)


def snapshots(catalog, name: str) -> list[dict]:
    return [dict(s.summary.additional_properties) for s in catalog.load_table(name).snapshots()]


def read(catalog, name: str, key: list[str]) -> list[dict]:
    return catalog.load_table(name).scan().to_arrow().sort_by([(k, "ascending") for k in key]).to_pylist()


@pytest.fixture
def owners_env(load_owner_once, monkeypatch):
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(load_owner_once.root / "owners"))
    monkeypatch.delenv("DERSON_LAKES", raising=False)
    return load_owner_once


def test_the_step_builds_each_iceberg_table_from_a_lake_written_without_iceberg(
    owners_env, ice_tables, admin
):
    load = owners_env
    loaded = load(mapping=MAPPING, s3=S3)  # no target.tables: the DMS files alone
    start = current_position(loaded.run.source())
    execute(admin, *CHANGES)
    delta(loaded, start)
    assert configured(loaded.storage) is None

    assert step() == {"IcebergTables": "none", "owner": "acme"}  # not opted in: a no-op

    write_owner(load.root, load.sandbox, mapping=MAPPING, s3=S3, target=ICEBERG)
    first = step()
    assert first["IcebergTables"] == "updated"
    assert set(first["loaded"]) == {"shop.ice_items", "shop.ice_lines"}
    assert set(first["applied"]) == {"shop.ice_items", "shop.ice_lines"}  # the delta's CDC files
    assert "shop.ice_nokey" in first["skipped"] and "shop.type_zoo" in first["skipped"]

    catalog = load_catalog("derson", **configured(loaded.storage))
    assert read(catalog, "shop.ice_items", ["id"]) == items(admin)
    assert read(catalog, "shop.ice_lines", ["order_id", "line"]) == lines(admin)
    ops = [s["dersonlake.op"] for s in snapshots(catalog, "shop.ice_items")]
    assert ops == ["full-load", "cdc"]

    before = {n: snapshots(catalog, n) for n in ("shop.ice_items", "shop.ice_lines")}
    second = step()  # a retried step, or the next run over the same files
    assert second["commits"] == 0 and second["loaded"] == {} and second["applied"] == {}
    assert {n: snapshots(catalog, n) for n in before} == before

    # opted in, the engine applies each commit itself: the step then finds nothing new
    execute(admin, "UPDATE shop.ice_items SET name = 'eins' WHERE id = 1", "DELETE FROM shop.ice_lines")
    delta(loaded)
    engine_made = {n: snapshots(catalog, n) for n in before}
    assert len(engine_made["shop.ice_items"]) == len(before["shop.ice_items"]) + 1
    third = step()
    assert third["commits"] == 0
    assert {n: snapshots(catalog, n) for n in before} == engine_made
    assert read(catalog, "shop.ice_items", ["id"]) == items(admin)
    assert read(catalog, "shop.ice_lines", ["order_id", "line"]) == lines(admin) == []


def test_a_reload_replaces_the_table_and_the_step_is_then_current(owners_env, ice_tables, admin):
    load = owners_env
    loaded = load(mapping=MAPPING, s3=S3)
    write_owner(load.root, load.sandbox, mapping=MAPPING, s3=S3, target=ICEBERG)
    assert set(step()["loaded"]) == {"shop.ice_items", "shop.ice_lines"}
    execute(admin, "DELETE FROM shop.ice_items WHERE id = 3")
    publish(loaded.storage, None)  # opted out while it reloads: the DMS files alone
    load(mapping=MAPPING, s3=S3, start_type=status.RELOAD_TARGET)
    write_owner(load.root, load.sandbox, mapping=MAPPING, s3=S3, target=ICEBERG)
    again = step()
    assert set(again["loaded"]) == {"shop.ice_items", "shop.ice_lines"}  # LOAD files newer than the snapshot
    catalog = load_catalog("derson", **configured(loaded.storage))
    assert read(catalog, "shop.ice_items", ["id"]) == items(admin)
    assert step()["commits"] == 0


def test_on_aws_the_step_writes_glue_tables_in_the_lake_terraform_hands_it(
    owners_env, ice_tables, admin, s3, monkeypatch
):
    """DERSON_LAKES names the S3 lake (as Terraform sets it), the catalog defaults to Glue; moto's
    server plays S3 and Glue (its Glue keeps pyiceberg's table parameters and versions)."""
    load = owners_env
    bucket = "ice-aws"
    s3.client().create_bucket(Bucket=bucket)
    uri = f"s3://{bucket}/dms/acme"
    loaded = load(mapping=MAPPING, s3=S3, uri=uri, target={"endpoint_url": s3.url, "region": s3.region})
    start = current_position(loaded.run.source())
    execute(admin, *CHANGES)
    delta(loaded, start)
    # the owner deployed: a local target.uri in owner.yaml, the lake from Terraform's environment
    write_owner(load.root, load.sandbox, mapping=MAPPING, s3=S3, target=ICEBERG)
    owner = load_owner("acme", load.root / "owners")
    assert not owner.target.is_s3
    monkeypatch.setenv("DERSON_LAKES", f'{{"acme": "{uri}"}}')
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", s3.url)
    monkeypatch.setenv("AWS_REGION", s3.region)
    glue = boto3.client("glue", endpoint_url=s3.url, region_name=s3.region)
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):  # the session's moto is shared
        glue.create_database(DatabaseInput={"Name": "shop"})  # Terraform's aws_glue_catalog_database

    done = step()
    assert set(done["loaded"]) == {"shop.ice_items", "shop.ice_lines"}
    storage = open_storage(uri, endpoint_url=s3.url, region=s3.region)
    props = configured(storage)
    assert props["type"] == "glue" and props["warehouse"] == f"{uri}/_derson-lake/iceberg/warehouse"
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="shop")["TableList"]}
    assert {"ice_items", "ice_lines"} <= set(tables)  # (other tests' tables may share moto's Glue)
    assert all(tables[n]["Parameters"]["table_type"].upper() == "ICEBERG" for n in ("ice_items", "ice_lines"))
    catalog = load_catalog("derson", **{**props, "glue.endpoint": s3.url})
    assert read(catalog, "shop.ice_items", ["id"]) == items(admin)
    assert read(catalog, "shop.ice_lines", ["order_id", "line"]) == lines(admin)
    assert step()["commits"] == 0


def test_cdc_files_older_than_a_load_are_never_applied_over_it(tmp_path, monkeypatch):
    """DMS files written by hand, as DMS leaves them with TargetTablePrepMode DO_NOTHING: a CDC file
    from before the load (its change is in the LOAD file already), the LOAD file, then a CDC file of
    the next run. The stale change is not applied over the load, now or in a later run."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    lake = tmp_path / "lake"
    folder = lake / "shop" / "orders"
    folder.mkdir(parents=True)
    (tmp_path / "owners" / "acme").mkdir(parents=True)
    owner = {
        "source": {"engine": "mariadb", "sandbox": True, "databases": ["shop"]},
        "target": {"uri": str(lake), "s3_settings": {"DataFormat": "parquet"}, "tables": "iceberg",
                   "keys": {"shop.orders": ["id"]}},
    }  # fmt: skip
    (tmp_path / "owners" / "acme" / "owner.yaml").write_text(yaml.safe_dump(owner))
    (tmp_path / "owners" / "acme" / "mapping.json").write_text('{"rules": []}')
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(tmp_path / "owners"))
    monkeypatch.delenv("DERSON_LAKES", raising=False)

    def write(name: str, rows: dict, mtime: float) -> None:
        pq.write_table(pa.table(rows), folder / name)
        os.utime(folder / name, (mtime, mtime))

    ids = lambda *v: pa.array(v, pa.int64())  # noqa: E731
    write("20261201-000000000.parquet", {"Op": ["U"], "id": ids(1), "name": ["stale"]}, 1_000)
    write("LOAD00000001.parquet", {"id": ids(1, 2), "name": ["fresh", "two"]}, 2_000)
    first = step()
    assert first["loaded"] == {"shop.orders": 2} and first["applied"] == {}
    catalog = load_catalog("derson", **configured(open_storage(str(lake))))
    assert read(catalog, "shop.orders", ["id"]) == [{"id": 1, "name": "fresh"}, {"id": 2, "name": "two"}]
    assert step()["commits"] == 0  # the stale file stays behind the recorded last file

    write("20261206-000000000.parquet", {"Op": ["D", "I"], "id": ids(2, 3), "name": ["two", "three"]}, 3_000)
    assert step()["applied"] == {"shop.orders": 2}
    assert read(catalog, "shop.orders", ["id"]) == [{"id": 1, "name": "fresh"}, {"id": 3, "name": "three"}]
