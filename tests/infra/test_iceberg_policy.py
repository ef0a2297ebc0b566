"""The deployed DMS-iceberg Lambda can do its job and no more: the role Terraform plans allows the
requests the real handler makes, and refuses writes to the DMS files and the checkpoints.

The lake is the one the plan hands the function (``DERSON_LAKES``), on S3 and Glue on loopback
(moto, which enforces no IAM), holding DMS files as DMS writes them (a LOAD file and a CDC file
with ``Op``, written here with pyarrow: no source). The real handler builds the Iceberg table in
Glue; every boto3 request (the lake's listing and reads, ``iceberg.json``, every Glue call
pyiceberg makes) is recorded and judged against the planned policy by ``iam_eval``. pyiceberg
writes its files through pyarrow's own S3 client, which nothing here can hook: every object it
left under the warehouse is judged instead (put, read and delete of each).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from dersonlake.iceberg_step.lambda_function import STEP, lambda_handler
from tests.infra import tf
from tests.infra.iam_eval import Request, decide
from tests.infra.offline_plan import policy_of, resources
from tests.infra.test_checkpoint_policy import as_iam

pytestmark = pytest.mark.skipif(tf.terraform_bin() is None, reason="no terraform binary on PATH")

POLICY = "module.iam.aws_iam_role_policy.iceberg[0]"
BUCKET = "derson-lake-test"
ACCOUNT, REGION = "123456789012", "sa-east-1"  # the offline plan's


def glue_as_iam(operation: str, params: dict[str, Any]) -> list[Request]:
    """Glue authorizes a table call on the catalog, the database and the table ARNs."""
    base = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    db = params.get("DatabaseName")
    table = params.get("Name") or (params.get("TableInput") or {}).get("Name")
    arns = [f"{base}:catalog"]
    if db:
        arns.append(f"{base}:database/{db}")
    if db and table and operation != "GetDatabase":
        arns.append(f"{base}:table/{db}/{table}")
    if operation == "GetTables":
        arns.append(f"{base}:table/{db}/*")
    return [Request(f"glue:{operation}", arn) for arn in arns]


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.fixture
def recorded(monkeypatch):
    """Every S3 and Glue request of boto3 clients (the default session's, and pyiceberg's own
    sessions), as (service, operation, params)."""
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.service_model.service_name, model.name, dict(params)))

    class Recording(boto3.session.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.events.register("before-parameter-build.s3", record)
            self.events.register("before-parameter-build.glue", record)

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", Recording())
    monkeypatch.setattr(boto3, "Session", Recording)
    monkeypatch.setattr(boto3.session, "Session", Recording)
    import pyiceberg.catalog.glue as glue_catalog

    monkeypatch.setattr(glue_catalog.boto3, "Session", Recording)
    return calls


def test_the_handler_requests_are_what_the_planned_iceberg_policy_allows(
    plan, s3, recorded, monkeypatch, tmp_path
):
    policy = policy_of(plan, POLICY)
    fn = resources(plan)["module.iceberg[0].aws_lambda_function.this"]
    lakes = json.loads(fn["values"]["environment"][0]["variables"]["DERSON_LAKES"])
    assert lakes == {"dersonLake": f"s3://{BUCKET}/dms/dersonLake"}
    folder = "dms/dersonLake"

    client = boto3.client("s3", endpoint_url=s3.url, region_name=s3.region)
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=BUCKET)
    glue = boto3.client("glue", endpoint_url=s3.url, region_name=s3.region)
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": "shop"})  # Terraform's iceberg-catalog module
    at = pa.array([dt.datetime(2026, 12, 6, 0, 0)], pa.timestamp("us"))
    load = pa.table({"Op": ["I", "I"], "ingested_at": pa.concat_arrays([at, at]), "id": pa.array([1, 2], pa.int64()),
                     "name": ["one", "two"]})  # fmt: skip
    cdc = pa.table({"Op": ["U", "D", "I"], "ingested_at": pa.concat_arrays([at, at, at]),
                    "id": pa.array([1, 2, 3], pa.int64()), "name": ["uno", "two", "three"]})  # fmt: skip
    client.put_object(Bucket=BUCKET, Key=f"{folder}/shop/orders/LOAD00000001.parquet", Body=parquet(load))
    client.put_object(
        Bucket=BUCKET, Key=f"{folder}/shop/orders/20261206-000100000.parquet", Body=parquet(cdc)
    )

    owners_dir = tmp_path / "owners"  # the image's owners: the repo's dersonLake, with its key declared
    shutil.copytree(tf.REPO / "owners" / "dersonLake", owners_dir / "dersonLake")
    owner_yaml = owners_dir / "dersonLake" / "owner.yaml"
    doc = yaml.safe_load(owner_yaml.read_text())
    doc["target"]["keys"] = {"shop.orders": ["id"]}
    owner_yaml.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(owners_dir))
    monkeypatch.setenv("DERSON_LAKES", json.dumps(lakes))
    monkeypatch.setenv("DERSON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", s3.url)
    monkeypatch.setenv("AWS_REGION", s3.region)
    recorded.clear()

    done = lambda_handler({"owner": "dersonLake", "step": STEP}, None)
    assert done["loaded"] == {"shop.orders": 2} and done["applied"] == {"shop.orders": 3}
    assert lambda_handler({"owner": "dersonLake", "step": STEP}, None)["commits"] == 0

    s3_calls = [as_iam(op, p) for service, op, p in recorded if service == "s3"]
    glue_calls = [r for service, op, p in recorded if service == "glue" for r in glue_as_iam(op, p)]
    # CreateDatabase too: the table code creates a missing namespace (AlreadyExists for Terraform's)
    assert {r.action for r in glue_calls} >= {
        "glue:CreateDatabase",
        "glue:CreateTable",
        "glue:GetTable",
        "glue:UpdateTable",
    }
    assert {r.action for r in s3_calls} >= {"s3:ListBucket", "s3:GetObject", "s3:PutObject"}
    warehouse = client.list_objects_v2(Bucket=BUCKET, Prefix=f"{folder}/_derson-lake/iceberg/")["Contents"]
    assert warehouse  # data, delete, manifest and metadata files
    written = [
        Request(action, f"arn:aws:s3:::{BUCKET}/{o['Key']}")
        for o in warehouse
        for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
    ]
    denied = [str(r) for r in s3_calls + glue_calls + written if decide(policy, r) != "Allow"]
    assert denied == [], f"the planned policy denies the handler's requests: {denied}"


def test_the_iceberg_role_cannot_touch_dms_files_checkpoints_or_other_databases(plan):
    policy = policy_of(plan, POLICY)
    lake = f"arn:aws:s3:::{BUCKET}/dms/dersonLake"
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    for request in (
        Request("s3:PutObject", f"{lake}/shop/orders/LOAD00000001.parquet"),
        Request("s3:DeleteObject", f"{lake}/shop/orders/20261206-000100000.parquet"),
        Request("s3:PutObject", f"{lake}/_derson-lake/checkpoints/dersonLake.json"),
        Request("s3:GetObject", f"arn:aws:s3:::{BUCKET}/raw/sales/sales/orders/LOAD00000001.parquet"),
        Request("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": "raw/sales/"}),
        Request("glue:CreateTable", f"{glue}:table/sales/orders"),
        Request("glue:DeleteDatabase", f"{glue}:database/shop"),
        Request("glue:CreateDatabase", f"{glue}:database/other"),
    ):
        assert decide(policy, request) == "ImplicitDeny", request
