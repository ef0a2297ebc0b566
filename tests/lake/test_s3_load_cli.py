"""``derson-lake load`` on an S3 lake whose endpoint fails for real (tests/fault_proxy.py in front of
moto): one line and exit 1 when S3 stays down, never a traceback; ``--resume`` afterwards ends in
the same lake a fault-free load writes; ``--resume`` reloads tables whose objects were deleted."""

from __future__ import annotations

import re
import uuid

import pytest

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.lake.reader import read_files
from dersonlake.lake.storage import LocalStorage, S3Storage
from tests.cli.test_load_cli import cli
from tests.fault_proxy import fault_proxy
from tests.replication.conftest import write_owner

# A short RecoverableError* policy: one restart of a unit, one second apart.
QUICK_RETRIES = {
    "ErrorBehavior": {
        "RecoverableErrorCount": 1,
        "RecoverableErrorInterval": 1,
        "RecoverableErrorThrottling": False,
    }
}
PARQUET = normalize_s3_settings({"DataFormat": "parquet"})


def lake_keys(storage) -> list[str]:
    return [o.key for o in storage.list("shop")]


def assert_same_lake(remote: S3Storage, local: LocalStorage) -> None:
    assert lake_keys(remote) == lake_keys(local)
    for key in lake_keys(local):
        assert read_files(remote, [key], PARQUET).equals(read_files(local, [key], PARQUET)), key


@pytest.fixture
def bucket(s3):
    name = f"lake-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def reference(sandbox, tmp_path_factory):
    """The lake a fault-free load of the same owner writes to a local folder."""
    home = tmp_path_factory.mktemp("reference")
    write_owner(home, sandbox, settings=QUICK_RETRIES)
    done = cli(home, "load", "acme")
    assert done.returncode == 0, done.stderr
    return LocalStorage(home / "lake")


def no_traceback(*outputs: str) -> None:
    for text in outputs:
        assert "Traceback" not in text and "botocore.exceptions" not in text, text[-3000:]


def test_s3_down_mid_load_is_one_line_exit_1_then_resume_makes_the_exact_lake(
    sandbox, s3, bucket, reference, tmp_path, monkeypatch
):
    with fault_proxy(s3.url) as proxy:
        write_owner(
            tmp_path,
            sandbox,
            uri=f"s3://{bucket}/raw",
            target={"endpoint_url": proxy.url, "region": s3.region},
            settings=QUICK_RETRIES,
        )
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        proxy.cut_after(40_000, stay_down=True)  # after the first objects, mid-request
        failed = cli(tmp_path, "load", "acme")
        assert proxy.resets >= 1
        assert failed.returncode == 1, failed.stderr[-3000:]
        no_traceback(failed.stdout, failed.stderr)
        assert re.search(
            rf"WARNING.*S3 endpoint {re.escape(proxy.url)}: \w+ failed .*; attempt 1 of 5", failed.stderr
        )
        assert f"lost connection to the S3 endpoint {proxy.url}" in failed.stderr

        proxy.up()
        resumed = cli(tmp_path, "load", "acme", "--resume")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        no_traceback(resumed.stdout, resumed.stderr)
        assert "6 table(s) loaded" in resumed.stdout

    remote = S3Storage(bucket, "raw", endpoint_url=s3.url, region=s3.region, staging_dir=tmp_path / "st")
    assert_same_lake(remote, reference)
    assert s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_resume_reloads_tables_whose_objects_are_gone(sandbox, s3, bucket, reference, tmp_path, monkeypatch):
    write_owner(
        tmp_path,
        sandbox,
        uri=f"s3://{bucket}/raw",
        target={"endpoint_url": s3.url, "region": s3.region},
        settings=QUICK_RETRIES,
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert cli(tmp_path, "load", "acme").returncode == 0
    remote = S3Storage(bucket, "raw", endpoint_url=s3.url, region=s3.region, staging_dir=tmp_path / "st")
    gone = [k for k in lake_keys(remote) if k.startswith(("shop/orders/", "shop/customers/"))]
    assert gone
    remote.delete(gone)  # the bucket emptied by hand between runs, for two tables

    resumed = cli(tmp_path, "load", "acme", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    no_traceback(resumed.stdout, resumed.stderr)
    assert re.search(
        r"shop\.orders: \d+ object\(s\) recorded as loaded are missing from the lake", resumed.stderr
    )
    assert_same_lake(remote, reference)


DELTA_TABLE = "s3_fault_items"


@pytest.fixture
def delta_items(admin):
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{DELTA_TABLE}")
        cur.execute(f"CREATE TABLE shop.{DELTA_TABLE} (id INT PRIMARY KEY, qty INT)")
    yield
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{DELTA_TABLE}")


def test_delta_with_s3_down_is_one_line_exit_1_and_the_next_delta_catches_up(
    sandbox, shop_params, s3, bucket, admin, delta_items, tmp_path, monkeypatch
):
    """The issue's crash: ``load --delta`` while S3 is unreachable longer than botocore's retries."""
    from dersonlake.sources.mysql.binlog_position import current_position
    from tests.cli.stream_helpers import mapping

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    def insert(*ids: int) -> None:
        with admin.cursor() as cur:
            for i in ids:
                cur.execute(f"INSERT INTO shop.{DELTA_TABLE} VALUES (%s, %s)", (i, i * 10))

    with fault_proxy(s3.url) as proxy:
        folder = write_owner(
            tmp_path,
            sandbox,
            uri=f"s3://{bucket}/raw",
            target={"endpoint_url": proxy.url, "region": s3.region},
            mapping=mapping(DELTA_TABLE),
            s3={"DataFormat": "parquet", "CdcMaxBatchInterval": 1},
            settings=QUICK_RETRIES,
        )
        yaml_file = folder / "owner.yaml"
        yaml_file.write_text(
            yaml_file.read_text().replace("migration_type: full-load", "migration_type: cdc")
        )
        start = str(current_position(shop_params))
        insert(1, 2)
        first = cli(tmp_path, "load", "acme", "--delta", "--cdc-start-position", start)
        assert first.returncode == 0, first.stderr[-3000:]

        insert(3, 4)
        proxy.down()
        failed = cli(tmp_path, "load", "acme", "--delta")
        assert failed.returncode == 1, failed.stderr[-3000:]
        no_traceback(failed.stdout, failed.stderr)
        assert f"lost connection to the S3 endpoint {proxy.url}" in failed.stderr
        assert re.search(rf"WARNING.*S3 endpoint {re.escape(proxy.url)}: .*attempt \d of 5", failed.stderr)

        proxy.up()
        insert(5)
        caught_up = cli(tmp_path, "load", "acme", "--delta")
        assert caught_up.returncode == 0, caught_up.stderr[-3000:]
        no_traceback(caught_up.stdout, caught_up.stderr)
        shown = cli(tmp_path, "lake", "show", "acme", f"shop.{DELTA_TABLE}", "--format", "csv")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.splitlines() == ["id,qty", "1,10", "2,20", "3,30", "4,40", "5,50"]
