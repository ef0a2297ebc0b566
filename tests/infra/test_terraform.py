"""terraform init (from the local provider mirror) + validate + an offline plan of the root module.

The provider mirror comes from $DERSON_TF_PLUGIN_MIRROR (or a well-known folder, see tf.find_mirror).
Without a terraform binary these tests are skipped; with terraform but no mirror they FAIL and say
which variable to set, so a CI machine that lost its mirror does not pass silently.

The plan runs with fake credentials and the provider's skip_* flags, on a copy of infra/terraform.
One thing needs the network even in a plan: provider 5.x calls ValidateStateMachineDefinition for a
state machine whose definition is known. The copy's step-function module therefore gets an override
that makes the definition unknown until apply; the definitions are checked by our ASL engine
(test_pipelines.py) and rendered by Terraform's own templatefile here instead.
"""

from __future__ import annotations

import json

import pytest

from dersonlake.mapping.task_settings import DEFAULTS
from dersonlake.states import load_definition
from tests.infra import tf
from tests.infra.conftest import ICEBERG_IMAGE
from tests.infra.offline_plan import ACCOUNT, SECRET

pytestmark = pytest.mark.skipif(
    tf.terraform_bin() is None, reason="no terraform binary on PATH: init/validate/plan not run"
)


def _resources(plan):
    """address -> planned values of every resource, modules included."""
    out = {}

    def walk(module):
        for r in module.get("resources", []):
            out[r["address"]] = r
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return out


def _of_type(plan, type_):
    return {a: r["values"] for a, r in _resources(plan).items() if r["type"] == type_}


def test_mirror_is_found_or_named(monkeypatch, tmp_path):
    """An env var pointing nowhere useful is reported, naming the variable and the layout."""
    monkeypatch.setenv(tf.MIRROR_ENV, str(tmp_path))
    path, how = tf.find_mirror()
    assert path is None
    assert tf.MIRROR_ENV in how and "hashicorp/aws" in how


def test_validate(workdir):
    proc = tf.run_tf(["validate", "-no-color"], cwd=workdir)
    assert "Success" in proc.stdout


def test_plan_creates_the_deployment(plan):
    changes = [c for c in plan["resource_changes"] if c["mode"] == "managed"]
    assert changes and all(c["change"]["actions"] == ["create"] for c in changes)
    types = {}
    for c in changes:
        types[c["type"]] = types.get(c["type"], 0) + 1
    assert types["aws_dms_endpoint"] == 2 and types["aws_dms_s3_endpoint"] == 2
    assert types["aws_dms_replication_task"] == 2
    assert types["aws_dms_replication_instance"] == 1 and types["aws_dms_replication_subnet_group"] == 1
    assert types["aws_sfn_state_machine"] == 3
    assert types["aws_lambda_function"] == 2  # DMS-intake, and DMS-iceberg (dersonLake keeps Iceberg tables)
    assert types["aws_cloudwatch_log_group"] == 5
    assert types["aws_sns_topic"] == 1 and types["aws_sns_topic_subscription"] == 1
    assert types["aws_iam_role"] == 9  # 7 + the Scheduler's (modules/schedule) + DMS-iceberg's
    assert types["aws_glue_catalog_database"] == 1


def test_source_endpoints_read_secrets_manager(plan):
    for values in _of_type(plan, "aws_dms_endpoint").values():
        assert values["endpoint_type"] == "source"
        assert values["secrets_manager_arn"] == SECRET
        assert values.get("password") is None and values.get("username") is None
    engines = {v["endpoint_id"]: v["engine_name"] for v in _of_type(plan, "aws_dms_endpoint").values()}
    assert engines == {"derson-lake-dersonlake-source": "mariadb", "derson-lake-allsettings-source": "aurora"}


def test_s3_endpoints_carry_the_owners_settings(plan):
    by_id = {v["endpoint_id"]: v for v in _of_type(plan, "aws_dms_s3_endpoint").values()}
    sample = by_id["derson-lake-dersonlake-target"]
    assert sample["data_format"] == "parquet" and sample["parquet_version"] == "parquet-2-0"
    assert sample["include_op_for_full_load"] is True and sample["timestamp_column_name"] == "ingested_at"
    assert sample["cdc_max_batch_interval"] == 5
    assert sample["bucket_folder"] == "dms/dersonLake"
    full = by_id["derson-lake-allsettings-target"]
    assert full["bucket_folder"] == "raw/sales"
    assert full["compression_type"] == "GZIP" and full["encryption_mode"] == "SSE_KMS"
    # The provider stores these two enums lower-cased; DMS accepts either.
    assert full["date_partition_enabled"] is True and full["date_partition_sequence"].upper() == "YYYYMMDDHH"
    assert full["date_partition_delimiter"].upper() == "DASH"
    assert full["date_partition_timezone"] == "America/Sao_Paulo"
    assert full["cdc_min_file_size"] == 64000 and full["max_file_size"] == 65536
    assert full["canned_acl_for_objects"] == "bucket-owner-full-control"
    assert full["glue_catalog_generation"] is True and full["cdc_inserts_and_updates"] is True


def test_tasks_send_the_fully_merged_settings(plan, workdir):
    tasks = {v["replication_task_id"]: v for v in _of_type(plan, "aws_dms_replication_task").values()}
    for task_id, owner in (
        ("derson-lake-dersonlake", "dersonLake"),
        ("derson-lake-allsettings", "allSettings"),
    ):
        sent = json.loads(tasks[task_id]["replication_task_settings"])
        merged = json.loads((workdir.parent / "owners" / f"{owner}.json").read_text())["task_settings"]
        assert set(sent) == set(DEFAULTS)
        for section, body in merged.items():
            if section != "Logging":
                assert sent[section] == body, section
        dropped = set(merged["Logging"]) - set(sent["Logging"])
        assert dropped <= {"CloudWatchLogGroup", "CloudWatchLogStream", "EnableLogContext"}
    full = json.loads(tasks["derson-lake-allsettings"]["replication_task_settings"])
    assert (
        full["Logging"]["EnableLogContext"] is True and full["FullLoadSettings"]["MaxFullLoadSubTasks"] == 16
    )
    assert tasks["derson-lake-allsettings"]["migration_type"] == "full-load"
    assert (
        json.loads(tasks["derson-lake-dersonlake"]["table_mappings"])["rules"][0]["rule-type"] == "selection"
    )
    assert tasks["derson-lake-dersonlake"]["start_replication_task"] is False


def test_instance_is_private_and_single_az(plan):
    (instance,) = _of_type(plan, "aws_dms_replication_instance").values()
    assert instance["publicly_accessible"] is False and instance["multi_az"] is False
    assert instance["replication_instance_class"] == "dms.t3.medium"
    assert instance["vpc_security_group_ids"] == ["sg-0123456789abcdef0"]


def test_lambda_function(plan):
    (fn,) = [f for f in _of_type(plan, "aws_lambda_function").values() if f["function_name"] == "DMS-intake"]
    assert fn["handler"] == "dersonlake.intake.lambda_function.lambda_handler"
    assert fn["runtime"] == "python3.12"
    assert fn["function_name"] == "DMS-intake" and fn["timeout"] == 120
    assert fn["memory_size"] == 512 and fn["architectures"] == ["x86_64"]
    assert fn["logging_config"][0]["log_group"] == "/aws/lambda/DMS-intake"
    groups = {v["name"]: v["retention_in_days"] for v in _of_type(plan, "aws_cloudwatch_log_group").values()}
    assert groups["/aws/lambda/DMS-intake"] == 30


def test_iceberg_owners_get_a_glue_database_and_the_dms_iceberg_image_function(plan):
    """dersonLake keeps Iceberg tables (target.tables: iceberg): its namespace (the target schema
    ``shop``) becomes a Glue database, the DMS-iceberg Lambda runs the container image with the
    owner's lake, and DMS-Handler's Iceberg step calls it."""
    (db,) = _of_type(plan, "aws_glue_catalog_database").values()
    assert db["name"] == "shop" and "dersonLake" in db["description"]
    (fn,) = [f for f in _of_type(plan, "aws_lambda_function").values() if f["function_name"] == "DMS-iceberg"]
    assert fn["package_type"] == "Image" and fn["image_uri"] == ICEBERG_IMAGE
    assert fn.get("handler") is None and fn.get("runtime") is None and fn["timeout"] == 900
    env = fn["environment"][0]["variables"]
    assert json.loads(env["DERSON_LAKES"]) == {"dersonLake": "s3://derson-lake-test/dms/dersonLake"}
    assert env["DERSON_HOME"].startswith("/tmp/")
    roles = {v["name"] for v in _of_type(plan, "aws_iam_role").values()}
    assert "derson-lake-dms-iceberg" in roles


def test_state_machines_log_and_trace(plan):
    machines = _of_type(plan, "aws_sfn_state_machine")
    assert sorted(v["name"] for v in machines.values()) == ["DMS-ErrorHandling", "DMS-Handler", "derson-Main"]
    for values in machines.values():
        assert values["type"] == "STANDARD"
        assert values["logging_configuration"][0]["level"] == "ERROR"
        assert values["tracing_configuration"][0]["enabled"] is True


def test_error_topic_and_email(plan):
    (sub,) = _of_type(plan, "aws_sns_topic_subscription").values()
    assert sub["protocol"] == "email" and sub["endpoint"] == "ops@example.com"
    (topic,) = _of_type(plan, "aws_sns_topic").values()
    assert topic["name"] == "derson-lake-errors"


def test_terraform_templatefile_renders_what_our_engine_accepts(tmp_path):
    """The same states.json through Terraform's own templatefile (no init needed for console)."""
    values = ", ".join(f'{k} = "{v}"' for k, v in tf.SAMPLE_VALUES.items())
    items = ", ".join(
        f'"{p}" = templatefile("{tf.PIPELINES / p / "states.json"}", {{{values}}})' for p in tf.PIPELINE_NAMES
    )
    expr = "jsonencode({" + items + "})"
    proc = tf.run_tf(["console"], cwd=tmp_path, stdin=expr)
    rendered = json.loads(json.loads(proc.stdout))
    for name in tf.PIPELINE_NAMES:
        ours = tf.render_states((tf.PIPELINES / name / "states.json").read_text())
        assert json.loads(rendered[name]) == json.loads(ours), name
        load_definition(rendered[name], file=name)


def test_an_iceberg_owner_without_an_image_fails_the_plan_and_says_what_to_build(plan, workdir, tmp_path):
    """dersonLake keeps Iceberg tables: planning without iceberg_image_uri stops at the DMS-iceberg
    function, naming the variable's fix (make iceberg-image), before anything is created."""
    override = tmp_path / "no-image.tfvars.json"
    override.write_text(json.dumps({"iceberg_image_uri": None}))
    failed = tf.run_tf(
        ["plan", "-input=false", "-refresh=false", "-lock=false", "-no-color", f"-var-file={override}"],
        cwd=workdir,
        check=False,
    )
    assert failed.returncode != 0
    assert "package_type Image needs image_uri (make iceberg-image, pushed to ECR)" in " ".join(
        failed.stderr.split()
    ), failed.stderr[-2000:]


def test_without_iceberg_owners_nothing_of_it_is_planned(plan, workdir, tmp_path):
    """Only allSettings (no target.tables: iceberg): no image needed, no function, role or Glue
    database; the Iceberg step then calls DMS-intake (which answers it at once), so the state
    machines may invoke DMS-intake only."""
    override = tmp_path / "no-iceberg.tfvars.json"
    owners = {"allSettings": {"source": {"secret_arn": SECRET, "ssl_mode": "none"}}}
    # create_alarms off: with no scheduled owner the alarms module's stale_period_seconds validation
    # fails on null (Terraform's || does not short-circuit), a gap of its own, outside this test
    override.write_text(json.dumps({"iceberg_image_uri": None, "owners": owners, "create_alarms": False}))
    tf.run_tf(
        [
            "plan",
            "-input=false",
            "-refresh=false",
            "-lock=false",
            f"-var-file={override}",
            "-out=no-iceberg.tfplan",
        ],
        cwd=workdir,
    )
    shown = json.loads(tf.run_tf(["show", "-json", "no-iceberg.tfplan"], cwd=workdir).stdout)
    types = [r["type"] for r in _resources(shown).values()]
    assert types.count("aws_lambda_function") == 1 and "aws_glue_catalog_database" not in types
    assert "module.iam.aws_iam_role.iceberg[0]" not in _resources(shown)
    states = json.loads(_resources(shown)["module.iam.aws_iam_role_policy.states"]["values"]["policy"])
    invoked = [sorted(s["Resource"]) for s in states["Statement"] if s["Action"] == "lambda:InvokeFunction"]
    intake = f"arn:aws:lambda:sa-east-1:{ACCOUNT}:function:DMS-intake"
    assert invoked == [[intake, f"{intake}:*"]]
