"""What an AWS reviewer checks, asserted on the offline plan (issue 17, item 6): the lake bucket's
defaults, the DMS S3 role's trust, the KMS keys the root passes on, the Lambda's DMS actions scoped
by the owner tag, and validation of the root variables."""

from __future__ import annotations

import json

import pytest

from tests.infra import tf
from tests.infra.iam_eval import Request, decide
from tests.infra.offline_plan import (
    ACCOUNT,
    KMS,
    KMS_SECRETS,
    KMS_TOPIC,
    plan_small_root,
    policy_of,
    resources,
)

pytestmark = pytest.mark.skipif(tf.terraform_bin() is None, reason="no terraform binary on PATH")

BUCKET = "module.lake_bucket[0]"
DMS = f"arn:aws:dms:sa-east-1:{ACCOUNT}"


def values(plan, address):
    return resources(plan)[address]["values"]


def test_lake_bucket_aborts_incomplete_uploads_and_is_versioned_and_keyed(plan):
    (rule,) = [
        r
        for r in values(plan, f"{BUCKET}.aws_s3_bucket_lifecycle_configuration.this")["rule"]
        if r["id"].startswith("abort")
    ]
    assert (
        rule["status"] == "Enabled"
        and rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 2
    )
    assert (
        values(plan, f"{BUCKET}.aws_s3_bucket_versioning.this")["versioning_configuration"][0]["status"]
        == "Enabled"
    )
    (sse,) = values(plan, f"{BUCKET}.aws_s3_bucket_server_side_encryption_configuration.this")["rule"]
    assert sse["bucket_key_enabled"] is True
    assert sse["apply_server_side_encryption_by_default"][0] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": KMS,
    }


def test_lake_bucket_refuses_plain_http(plan):
    policy = policy_of(plan, f"{BUCKET}.aws_s3_bucket_policy.tls_only")
    obj = "arn:aws:s3:::derson-lake-test/dms/dersonLake/shop/orders/LOAD00000001.parquet"
    for action, resource in (
        ("s3:GetObject", obj),
        ("s3:PutObject", obj),
        ("s3:ListBucket", "arn:aws:s3:::derson-lake-test"),
    ):
        assert decide(policy, Request(action, resource, {"aws:SecureTransport": "false"})) == "ExplicitDeny"
        assert decide(policy, Request(action, resource, {"aws:SecureTransport": "true"})) == "ImplicitDeny"


def test_dms_s3_role_trusts_dms_for_this_account_only(plan):
    roles = {
        v["name"]: json.loads(v["assume_role_policy"])
        for a, v in ((a, r["values"]) for a, r in resources(plan).items() if r["type"] == "aws_iam_role")
    }
    trust = roles["derson-lake-dms-s3-target"]
    assume = Request("sts:AssumeRole", "arn:aws:iam::123456789012:role/derson-lake-dms-s3-target")
    mine = Request(assume.action, assume.resource, {"aws:SourceAccount": ACCOUNT})
    other = Request(assume.action, assume.resource, {"aws:SourceAccount": "999999999999"})
    assert decide(trust, mine) == "Allow"
    assert decide(trust, other) == "ImplicitDeny" and decide(trust, assume) == "ImplicitDeny"


def test_root_passes_the_kms_keys_on(plan):
    secrets = policy_of(plan, "module.iam.aws_iam_role_policy.dms_secrets")
    decrypt = Request(
        "kms:Decrypt", KMS_SECRETS, {"kms:ViaService": "secretsmanager.sa-east-1.amazonaws.com"}
    )
    assert decide(secrets, decrypt) == "Allow"
    states = policy_of(plan, "module.iam.aws_iam_role_policy.states")
    assert decide(states, Request("kms:GenerateDataKey", KMS_TOPIC)) == "Allow"
    (topic,) = [r["values"] for r in resources(plan).values() if r["type"] == "aws_sns_topic"]
    assert topic["kms_master_key_id"] == KMS_TOPIC


def test_standing_tasks_carry_the_owner_tag_the_lambda_is_scoped_by(plan):
    tasks = [r["values"] for r in resources(plan).values() if r["type"] == "aws_dms_replication_task"]
    assert sorted(t["tags"]["derson-lake:owner"] for t in tasks) == ["allSettings", "dersonLake"]


IAM_ROOT = """
module "iam" {{
  source                      = "{module}"
  account_id                  = "{account}"
  region                      = "sa-east-1"
  lake_bucket_name            = "derson-lake-test"
  lake_prefixes               = ["dms/dersonLake"]
  source_secret_arns          = ["arn:aws:secretsmanager:sa-east-1:{account}:secret:s-AbCdEf"]
  dms_endpoint_arns           = ["{dms}:endpoint:SRC", "{dms}:endpoint:TGT"]
  replication_subnet_group_id = "derson-lake-replication"
  owner_names                 = ["dersonLake", "sales"]
  lambda_function_name        = "DMS-intake"
  error_topic_arn             = "arn:aws:sns:sa-east-1:{account}:derson-lake-errors"
}}
"""


@pytest.fixture(scope="module")
def lambda_policy(mirror, tmp_path_factory):
    """The Lambda's DMS policy, rendered by a plan of the iam-role module with known endpoint ARNs
    (in the root plan they are known only after apply)."""
    root = tmp_path_factory.mktemp("iam-only")
    main = IAM_ROOT.format(module=tf.MODULES / "iam-role", account=ACCOUNT, dms=DMS)
    plan = plan_small_root(root, main, mirror)
    return policy_of(plan, "module.iam.aws_iam_role_policy.lambda")


@pytest.mark.parametrize(
    ("action", "resource", "context", "expected"),
    [
        (
            "dms:CreateReplicationInstance",
            f"{DMS}:rep:NEW",
            {"aws:RequestTag/derson-lake:owner": "dersonLake", "aws:TagKeys": ["derson-lake:owner"]},
            "Allow",
        ),
        ("dms:CreateReplicationInstance", f"{DMS}:rep:NEW", {}, "ImplicitDeny"),
        (
            "dms:CreateReplicationInstance",
            f"{DMS}:rep:NEW",
            {"aws:RequestTag/derson-lake:owner": "intruder", "aws:TagKeys": ["derson-lake:owner"]},
            "ImplicitDeny",
        ),
        (
            "dms:CreateReplicationTask",
            f"{DMS}:endpoint:SRC",
            {"aws:RequestTag/derson-lake:owner": "sales", "aws:TagKeys": ["derson-lake:owner"]},
            "Allow",
        ),
        (
            "dms:CreateReplicationTask",
            f"{DMS}:endpoint:ELSEWHERE",
            {"aws:RequestTag/derson-lake:owner": "sales", "aws:TagKeys": ["derson-lake:owner"]},
            "ImplicitDeny",
        ),
        (
            "dms:StartReplicationTask",
            f"{DMS}:task:T1",
            {"aws:ResourceTag/derson-lake:owner": "dersonLake"},
            "Allow",
        ),
        ("dms:StartReplicationTask", f"{DMS}:task:T1", {}, "ImplicitDeny"),
        (
            "dms:StopReplicationTask",
            f"{DMS}:task:T1",
            {"aws:ResourceTag/derson-lake:owner": "other"},
            "ImplicitDeny",
        ),
        (
            "dms:DeleteReplicationTask",
            f"{DMS}:task:T1",
            {"aws:ResourceTag/team": "dersonLake"},
            "ImplicitDeny",
        ),
        (
            "dms:DeleteReplicationInstance",
            f"{DMS}:rep:R1",
            {"aws:ResourceTag/derson-lake:owner": "sales"},
            "Allow",
        ),
        ("dms:DeleteReplicationInstance", f"{DMS}:rep:SOMEONE-ELSES", {}, "ImplicitDeny"),
    ],
)
def test_lambda_controls_only_dms_resources_tagged_with_an_owner(
    lambda_policy, action, resource, context, expected
):
    assert decide(lambda_policy, Request(action, resource, context)) == expected


def test_intake_tags_what_it_creates_with_the_key_the_policy_checks():
    from dersonlake.intake.dms import OWNER_TAG

    assert OWNER_TAG == "derson-lake:owner"
    assert f'owner_tag = "{OWNER_TAG}"' in (tf.MODULES / "iam-role" / "main.tf").read_text()
    assert f'owner_tag = "{OWNER_TAG}"' in (tf.TF_ROOT / "main.tf").read_text()


BAD_ROOT_VALUES = {
    "security_group_ids": '["default"]',
    "lake_kms_key_arn": "alias/my-key",
    "lambda_secret_arn": "derson-lake/shop",
    "glue_database_name": "Derson-Lake",
    "log_retention_days": "31",
    "secrets_kms_key_arns": '["alias/secrets"]',
    "error_topic_kms_key_arn": "alias/topic",
}


def test_root_variables_reject_bad_values_naming_each(workdir):
    args = [f"-var={k}={v}" for k, v in BAD_ROOT_VALUES.items()]
    proc = tf.run_tf(
        ["plan", "-input=false", "-refresh=false", "-lock=false", "-no-color", *args],
        cwd=workdir,
        check=False,
    )
    assert proc.returncode != 0
    out = " ".join((proc.stdout + proc.stderr).split())
    for name in BAD_ROOT_VALUES:
        assert f"{name} must be" in out, f"no validation error for {name}:\n{out[-3000:]}"
