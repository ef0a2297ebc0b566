"""S3 failures caused for real (tests/fault_proxy.py resets the TCP connections to the moto endpoint
mid-upload): short outages are retried and said in a WARNING, long ones end in one
``OperationFailed`` line, and no multipart upload is left billing."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from boto3.s3.transfer import TransferConfig

from dersonlake.errors import OperationFailed
from dersonlake.lake.storage import S3Storage
from tests.fault_proxy import fault_proxy

MIB = 1024 * 1024
SMALL_PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)


@pytest.fixture
def bucket(s3):
    name = f"faults-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def proxy(s3):
    with fault_proxy(s3.url) as p:
        yield p


def storage_via(proxy, s3, bucket, tmp_path) -> S3Storage:
    store = S3Storage(bucket, "raw", endpoint_url=proxy.url, region=s3.region, staging_dir=tmp_path / "stage")
    store.transfer = SMALL_PARTS
    return store


def staged(store: S3Storage, key: str, size: int) -> tuple:
    path = store.stage(key)
    data = os.urandom(size)
    path.write_bytes(data)
    return path, data


def uploads(s3, bucket) -> list:
    return s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_a_cut_mid_upload_is_retried_with_a_warning_and_the_object_is_whole(
    s3, bucket, proxy, tmp_path, caplog
):
    store = storage_via(proxy, s3, bucket, tmp_path)
    path, data = staged(store, "shop/orders/LOAD00000001.parquet", 12 * MIB)  # three parts
    proxy.cut_after(7 * MIB)  # in the second part
    with caplog.at_level(logging.WARNING, logger="dersonlake.STORAGE"):
        store.commit(path, "shop/orders/LOAD00000001.parquet")
    assert proxy.resets >= 1
    body = s3.client().get_object(Bucket=bucket, Key="raw/shop/orders/LOAD00000001.parquet")["Body"].read()
    assert body == data
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(proxy.url in w and "attempt 1 of 5" in w for w in warnings), warnings
    assert uploads(s3, bucket) == []


def test_an_endpoint_that_stays_down_is_one_clear_error_and_leaves_no_upload(s3, bucket, proxy, tmp_path):
    store = storage_via(proxy, s3, bucket, tmp_path)
    path, _ = staged(store, "shop/orders/LOAD00000001.parquet", 12 * MIB)
    proxy.cut_after(7 * MIB, stay_down=True)  # the upload is started, then the link is gone
    started = time.monotonic()
    with pytest.raises(OperationFailed) as info:
        store.commit(path, "shop/orders/LOAD00000001.parquet")
    message = str(info.value)
    assert message.startswith(f"lost connection to the S3 endpoint {proxy.url} while uploading")
    assert "\n" not in message and not path.exists()
    assert time.monotonic() - started < 120
    assert len(uploads(s3, bucket)) == 1  # the abort could not reach S3 either: the parts bill...

    proxy.up()  # ...until the next run opens the lake and aborts what is older than itself
    later = storage_via(proxy, s3, bucket, tmp_path)
    assert later.clean_staging("shop/orders") == 1
    assert uploads(s3, bucket) == []


def test_a_killed_writer_leaves_an_upload_the_next_run_aborts(s3, bucket, proxy, tmp_path):
    """SIGKILL during a multipart upload (slowed by the proxy so the kill lands mid-upload)."""
    script = textwrap.dedent(
        f"""
        import os, sys
        from boto3.s3.transfer import TransferConfig
        from dersonlake.lake.storage import S3Storage
        store = S3Storage({bucket!r}, "raw", endpoint_url={proxy.url!r}, region="us-east-1")
        store.transfer = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20,
                                        max_concurrency=1)
        path = store.stage("shop/t/LOAD00000001.csv")
        path.write_bytes(os.urandom(30 * 2**20))
        print("uploading", flush=True)
        store.commit(path, "shop/t/LOAD00000001.csv")
        """
    )
    env = {**os.environ, "DERSON_HOME": str(tmp_path / ".derson")}
    proxy.delay(0.02)
    child = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "uploading"
        deadline = time.monotonic() + 60
        while not uploads(s3, bucket) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    proxy.up()
    assert len(uploads(s3, bucket)) == 1
    assert "raw/shop/t/LOAD00000001.csv" not in [
        o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    ]
    later = storage_via(proxy, s3, bucket, tmp_path)
    later.stale_margin = 0  # the kill was a second ago; a real next run comes later than that
    assert later.clean_staging("shop/t") == 1
    assert uploads(s3, bucket) == []


def test_delete_objects_per_key_errors_fail_the_delete(s3, bucket, tmp_path):
    """S3 answers DeleteObjects with 200 and per-key ``Errors`` (e.g. AccessDenied under a Deny
    policy, or an object lock). moto enforces neither on an unversioned delete, so this one fault is
    injected into the parsed answer (botocore's after-call event); the request itself is real."""
    store = S3Storage(bucket, "raw", endpoint_url=s3.url, region=s3.region, staging_dir=tmp_path)
    for key in ("shop/t/a.csv", "shop/t/b.csv"):
        s3.client().put_object(Bucket=bucket, Key=f"raw/{key}", Body=b"x")

    def refuse_one(parsed, **_):
        parsed["Errors"] = [{"Key": "raw/shop/t/b.csv", "Code": "AccessDenied", "Message": "Access Denied"}]

    store.client.meta.events.register("after-call.s3.DeleteObjects", refuse_one)
    with pytest.raises(
        OperationFailed, match=r"S3 did not delete 1 of 2 object\(s\) .*raw/shop/t/b.csv: AccessDenied"
    ):
        store.delete(["shop/t/a.csv", "shop/t/b.csv"])


def test_reads_and_listings_through_a_dead_endpoint_are_our_error(s3, bucket, proxy, tmp_path):
    store = storage_via(proxy, s3, bucket, tmp_path)
    s3.client().put_object(Bucket=bucket, Key="raw/shop/t/a.csv", Body=b"x")
    proxy.down()
    for call in (
        lambda: store.list("shop/t"),
        lambda: store.read_bytes("shop/t/a.csv"),
        lambda: store.delete(["x"]),
    ):
        with pytest.raises(OperationFailed, match=r"^lost connection to the S3 endpoint"):
            call()
