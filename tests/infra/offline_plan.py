"""The offline plan of the root module the infra tests share: the recipe of
``scripts/terraform_offline_plan.py`` (``make plan-offline``), with two owners and every optional
part on, and helpers to read plans and to plan small roots (a module with known inputs)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from tests.infra import tf


def offline_script():
    """scripts/terraform_offline_plan.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "terraform_offline_plan", tf.REPO / "scripts" / "terraform_offline_plan.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:sa-east-1:{ACCOUNT}:secret:derson-lake/shop-AbCdEf"
KMS = f"arn:aws:kms:sa-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
KMS_SECRETS = f"arn:aws:kms:sa-east-1:{ACCOUNT}:key/22222222-2222-3333-4444-555555555555"
KMS_TOPIC = f"arn:aws:kms:sa-east-1:{ACCOUNT}:key/33333333-2222-3333-4444-555555555555"

# A second owner that uses most S3 settings, in the docs' spelling, and logging on.
ALL_SETTINGS_OWNER = f"""
source:
  engine: aurora
  host: db
  user: repl
  password_env: X
  databases: [sales]
target:
  uri: s3://derson-lake-test/raw/sales
  s3_settings:
    dataFormat: PARQUET
    compressionType: GZIP
    parquetVersion: PARQUET_2_0
    encodingType: RLE_DICTIONARY
    dictPageSizeLimit: 2097152
    rowGroupLength: 20000
    dataPageSize: 2097152
    enableStatistics: true
    parquetTimestampInMillisecond: true
    includeOpForFullLoad: true
    cdcInsertsAndUpdates: true
    timestampColumnName: ingested_at
    useTaskStartTimeForFullLoadTimestamp: true
    maxFileSize: 65536
    cdcMaxBatchInterval: 300
    cdcMinFileSize: 64000
    datePartitionEnabled: true
    datePartitionSequence: YYYYMMDDHH
    datePartitionDelimiter: DASH
    datePartitionTimezone: America/Sao_Paulo
    encryptionMode: SSE_KMS
    serverSideEncryptionKmsKeyId: {KMS}
    cannedAclForObjects: BUCKET_OWNER_FULL_CONTROL
    expectedBucketOwner: "{ACCOUNT}"
    glueCatalogGeneration: true
migration_type: full-load
"""
ALL_SETTINGS_TASK = {
    "Logging": {"EnableLogging": True, "EnableLogContext": True},
    "FullLoadSettings": {"MaxFullLoadSubTasks": 16},
}


def resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> planned resource of every resource, modules included."""
    out = {}

    def walk(module):
        for r in module.get("resources", []):
            out[r["address"]] = r
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return out


def policy_of(plan: dict[str, Any], address: str) -> dict[str, Any]:
    """The rendered JSON document of the ``aws_iam_role_policy`` / ``aws_s3_bucket_policy`` at ``address``."""
    values = resources(plan)[address]["values"]
    if "policy" not in values:
        raise AssertionError(f"{address}: its policy is not known at plan time")
    return json.loads(values["policy"])


def plan_small_root(root: Path, main_tf: str, mirror: Path, *, expect_ok: bool = True):
    """Write ``main_tf`` (plus the offline provider) into ``root``, init and plan it; the plan JSON,
    or the failed plan's output when ``expect_ok`` is False."""
    script = offline_script()
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.tf").write_text(main_tf)
    (root / "provider.tf").write_text(script.OFFLINE_PROVIDER)
    tf.run_tf(["init", "-backend=false", "-input=false", f"-plugin-dir={mirror}"], cwd=root, timeout=180)
    proc = tf.run_tf(
        ["plan", "-input=false", "-refresh=false", "-lock=false", "-no-color", "-out=small.tfplan"],
        cwd=root,
        check=expect_ok,
    )
    if not expect_ok:
        return proc
    return json.loads(tf.run_tf(["show", "-json", "small.tfplan"], cwd=root).stdout)
