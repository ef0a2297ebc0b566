"""The deployed Lambda can keep its CDC checkpoint: the IAM policy Terraform renders allows exactly
the S3 requests the intake makes (issue 17, item 1).

The checkpoint lives at ``<lake>/_derson-lake/checkpoints/<owner>.json``, ``<lake>`` being the
``s3://<bucket>/<folder>`` the owner's DMS target endpoint writes (docs/aws.md). The offline plan
renders the Lambda's ``cdc-checkpoints`` policy and the ``lakes`` it hands the Lambda
(``DERSON_LAKES``); the real intake code then saves, reads and clears each owner's checkpoint
against S3 on loopback (moto, which enforces no IAM), every request it sends is recorded from
botocore, and each is judged against the planned policy by ``iam_eval``. The sample owner's
``target.uri`` is ``./lake``: before the fix the intake wrote under that local path (read-only
``/var/task`` on Lambda) and the requests had nothing to match.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from dersonlake.config import load_owner
from dersonlake.intake.checkpoints import CheckpointStore, checkpoint_key
from dersonlake.intake.dms import Dms
from tests.infra import tf
from tests.infra.iam_eval import Request, decide
from tests.infra.offline_plan import policy_of

pytestmark = pytest.mark.skipif(tf.terraform_bin() is None, reason="no terraform binary on PATH")

CHECKPOINTS = "module.iam.aws_iam_role_policy.lambda_checkpoints"


def as_iam(operation: str, params: dict[str, Any]) -> Request:
    """The IAM action, resource and condition keys S3 authorizes a request by."""
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if operation in ("ListObjectsV2", "ListObjects"):
        return Request("s3:ListBucket", bucket, {"s3:prefix": params.get("Prefix", "")})
    objects = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject"}
    objects["DeleteObject"] = "s3:DeleteObject"
    if operation not in objects:
        raise AssertionError(f"the intake sent {operation}, which this test cannot map to IAM: add it")
    return Request(objects[operation], f"{bucket}/{params['Key']}")


@pytest.fixture
def recorded(monkeypatch):
    """Every S3 request boto3 clients made from the default session send, as (operation, params)."""
    session = boto3.Session()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    session.events.register("before-parameter-build.s3", record)
    return calls


# -- the evaluator, on answers known from AWS's documentation ------------------------------------


def test_evaluator_known_answers():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/raw/*"},
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": "arn:aws:s3:::b",
                "Condition": {"StringLike": {"s3:prefix": ["raw/*"]}},
            },
            {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/raw/secret*"},
        ]
    }
    assert decide(policy, Request("s3:getobject", "arn:aws:s3:::b/raw/x.parquet")) == "Allow"
    assert decide(policy, Request("s3:GetObject", "arn:aws:s3:::b/other/x")) == "ImplicitDeny"
    assert decide(policy, Request("s3:GetObject", "arn:aws:s3:::b/raw/secret.json")) == "ExplicitDeny"
    assert decide(policy, Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "raw/t/"})) == "Allow"
    assert decide(policy, Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "x/"})) == "ImplicitDeny"
    # a condition on a key the request lacks fails: a listing without a prefix is not allowed
    assert decide(policy, Request("s3:ListBucket", "arn:aws:s3:::b")) == "ImplicitDeny"
    tagged = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dms:StartReplicationTask",
                "Resource": "arn:aws:dms:*:*:task:*",
                "Condition": {"StringEquals": {"aws:ResourceTag/derson-lake:owner": ["a", "b"]}},
            }
        ]
    }
    task = "arn:aws:dms:sa-east-1:123456789012:task:XYZ"
    assert decide(
        tagged, Request("dms:StartReplicationTask", task, {"aws:ResourceTag/derson-lake:owner": "b"})
    ) == ("Allow")
    assert decide(tagged, Request("dms:StartReplicationTask", task, {"aws:ResourceTag/other": "b"})) == (
        "ImplicitDeny"
    )
    with pytest.raises(ValueError, match="NumericLessThan"):
        decide(
            {"Statement": [{**tagged["Statement"][0], "Condition": {"NumericLessThan": {"k": "1"}}}]},
            Request("dms:StartReplicationTask", task, {"k": "0"}),
        )


# -- the planned policy against the intake's real requests ---------------------------------------


def test_lambda_env_and_output_carry_the_same_lakes(hcl):
    """DERSON_LAKES and the `lakes` output are both local.lakes, built from the bucket and folder
    that module.endpoints (the S3 target) and module.iam (lake_prefixes) get."""
    main = (tf.TF_ROOT / "main.tf").read_text()
    assert re.search(
        r"DERSON_LAKES\s*=\s*jsonencode\(\{ for name, o in local.owners : name => local.lakes\[name\] \}\)",
        main,
    )
    assert re.search(
        r'lakes\s*=\s*\{ for name, o in local.owners : name => "s3://\$\{var.lake_bucket_name\}/\$\{o.bucket_folder\}" \}',
        main,
    )
    assert "bucket_name             = var.lake_bucket_name" in main
    assert "bucket_folder           = each.value.bucket_folder" in main
    assert "lake_prefixes     = distinct([for o in local.owners : o.bucket_folder])" in main
    outputs = (tf.TF_ROOT / "outputs.tf").read_text()
    assert re.search(r'output "lakes" \{[^}]*value\s*=\s*local.lakes', outputs)


def test_intake_checkpoint_requests_are_what_the_planned_policy_allows(
    plan, workdir, s3, recorded, monkeypatch, tmp_path
):
    policy = policy_of(plan, CHECKPOINTS)
    lakes = plan["planned_values"]["outputs"]["lakes"]["value"]
    assert lakes == {
        "dersonLake": "s3://derson-lake-test/dms/dersonLake",
        "allSettings": "s3://derson-lake-test/raw/sales",
    }
    client = boto3.Session().client("s3", endpoint_url=s3.url, region_name=s3.region)  # not recorded
    client.create_bucket(Bucket="derson-lake-test")

    owners_dir = tmp_path / "owners"  # the Lambda package's owners: the repo's plus allSettings
    for src in (tf.REPO / "owners" / "dersonLake", workdir.parent / "owners-src" / "allSettings"):
        dest = owners_dir / src.name
        dest.mkdir(parents=True)
        for f in src.iterdir():
            (dest / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(owners_dir))
    monkeypatch.setenv("DERSON_LAKES", json.dumps(lakes))  # as the Lambda's environment has it
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)  # boto3 reads it: S3 on loopback
    monkeypatch.setenv("AWS_REGION", s3.region)

    for name in lakes:
        owner = load_owner(name, owners_dir)
        store = CheckpointStore(owner, Dms(name).lake(owner))
        assert store.load() is None  # no checkpoint yet: an empty listing, not AccessDenied
        store.save("mysql-bin.000003:4711", "arn:aws:dms:sa-east-1:123456789012:task:T")
        assert store.load()["RecoveryCheckpoint"] == "mysql-bin.000003:4711"
        folder = lakes[name].split("/", 3)[3]
        expected = checkpoint_key(folder, name)
        assert store.location == f"s3://derson-lake-test/{expected}"
        assert client.get_object(Bucket="derson-lake-test", Key=expected)["Body"].read()
        store.clear()

    assert {op for op, _ in recorded} >= {"ListObjectsV2", "GetObject", "PutObject", "DeleteObject"}
    denied = [str(as_iam(op, p)) for op, p in recorded if decide(policy, as_iam(op, p)) != "Allow"]
    assert denied == [], f"the planned policy denies the intake's requests: {denied}"


def test_a_checkpoint_outside_the_lake_is_denied(plan):
    """The policy is not open-ended: another folder, another bucket, a data file are refused."""
    policy = policy_of(plan, CHECKPOINTS)
    for request in (
        Request(
            "s3:PutObject", "arn:aws:s3:::derson-lake-test/lake/_derson-lake/checkpoints/dersonLake.json"
        ),
        Request("s3:PutObject", "arn:aws:s3:::other-bucket/dms/dersonLake/_derson-lake/checkpoints/x.json"),
        Request(
            "s3:PutObject", "arn:aws:s3:::derson-lake-test/dms/dersonLake/shop/orders/LOAD00000001.parquet"
        ),
        Request("s3:ListBucket", "arn:aws:s3:::derson-lake-test", {"s3:prefix": "dms/dersonLake/shop/"}),
    ):
        assert decide(policy, request) == "ImplicitDeny", request


def test_checkpoint_location_rule_is_the_one_documented():
    doc = (tf.REPO / "docs" / "aws.md").read_text()
    assert "<lake>/_derson-lake/checkpoints/<owner>.json" in doc
    assert checkpoint_key("raw/shop", "acme") == "raw/shop/_derson-lake/checkpoints/acme.json"
    assert checkpoint_key("", "acme") == "_derson-lake/checkpoints/acme.json"
    assert Path(checkpoint_key("/raw/", "a")).as_posix() == "raw/_derson-lake/checkpoints/a.json"
