"""Least privilege: every IAM policy document names its actions (no "*" in an action) and scopes
its resources to ARNs. Resource "*" is allowed only where AWS requires it, listed below with the
reason; an exception nobody uses any more fails too, so the list stays true."""

from __future__ import annotations

import re

from tests.infra import tf

# (policy document, statement sid) -> (the actions, why they need Resource "*")
RESOURCE_STAR_EXCEPTIONS = {
    ("lambda", "DescribeDmsResources"): (
        {"dms:DescribeReplicationInstances", "dms:DescribeReplicationTasks"},
        "DMS Describe* calls support no resource-level permissions (Service Authorization Reference: "
        "no resource type for these actions)",
    ),
    ("states", "DeliverExecutionLogs"): (
        {
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
        },
        "Step Functions execution logging: the CloudWatch Logs vended-delivery APIs take no resource "
        "ARN (AWS's Step Functions logging guide uses Resource *)",
    ),
    ("states", "XRayTracing"): (
        {
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
        },
        "X-Ray trace and sampling APIs support no resource-level permissions",
    ),
}

# AWS managed policies attached as-is: DMS looks these two roles up by name and AWS maintains them.
MANAGED_POLICIES = {
    "AmazonDMSVPCManagementRole": "dms-vpc-role: DMS manages the instances' network interfaces",
    "AmazonDMSCloudWatchLogsRole": "dms-cloudwatch-logs-role: DMS writes task logs",
}


def _policy_documents(hcl):
    """(file, document name, statements) of every aws_iam_policy_document, dynamic ones included."""
    for path in tf.tf_files():
        for block in hcl(path).get("data", []):
            for name, body in block.get("aws_iam_policy_document", {}).items():
                statements = list(body.get("statement", []))
                for dyn in body.get("dynamic", []):
                    if "statement" in dyn:
                        content = dyn["statement"]["content"]
                        statements += content if isinstance(content, list) else [content]
                yield path, name, [_normalise(st) for st in statements]


def _normalise(statement):
    """A list-valued expression (resources = var.arns) parses as one string: make it a list."""
    st = dict(statement)
    for key in ("actions", "resources"):
        if isinstance(st.get(key), str):
            st[key] = [st[key]]
    return st


def _is_trust(statement) -> bool:
    return set(statement.get("actions", [])) <= {"sts:AssumeRole"} and bool(statement.get("principals"))


def test_there_are_policy_documents_to_check(hcl):
    names = {name for _, name, _ in _policy_documents(hcl)}
    assert {"dms_s3", "dms_secrets", "lambda", "states", "glue"} <= names


def test_no_wildcard_action(hcl):
    bad = []
    for path, name, statements in _policy_documents(hcl):
        for st in statements:
            assert st.get("effect", "Allow") in ("Allow", "Deny")
            assert "not_actions" not in st and "not_resources" not in st, f"{name}: NotAction/NotResource"
            if st.get("effect", "Allow") == "Allow":  # a Deny of s3:* (TLS only) takes, never gives
                bad += [f"{path.name}:{name}:{st.get('sid')}: {a}" for a in st.get("actions", []) if "*" in a]
            assert st.get("actions"), f"{name}:{st.get('sid')}: no actions"
    assert not bad, "actions must be named, not wildcards:\n" + "\n".join(bad)


def test_resources_are_scoped(hcl):
    used, bad = set(), []
    for path, name, statements in _policy_documents(hcl):
        for st in statements:
            sid = st.get("sid")
            assert sid, f"{path.name}:{name}: every statement needs a sid (the exception list names it)"
            if _is_trust(st):
                assert "resources" not in st
                continue
            resources = st.get("resources")
            assert resources, f"{name}:{sid}: no resources"
            for r in resources:
                if r == "*":
                    key = (name, sid)
                    if key not in RESOURCE_STAR_EXCEPTIONS:
                        bad.append(f"{path.name}:{name}:{sid}: Resource * is not a listed exception")
                        continue
                    allowed, _why = RESOURCE_STAR_EXCEPTIONS[key]
                    extra = set(st["actions"]) - allowed
                    if extra:
                        bad.append(f"{name}:{sid}: {sorted(extra)} ride on a Resource * exception")
                    used.add(key)
                elif not (r.startswith(("arn:", "${local.", "${var.", "${statement.value")) or "${" in r):
                    bad.append(f"{name}:{sid}: {r!r} is not an ARN")
                elif re.fullmatch(r"arn:[^:]*:[^:]*:\*?:\*?:\*", r):
                    bad.append(f"{name}:{sid}: {r!r} is unscoped")
    assert not bad, "\n".join(bad)
    assert used == set(RESOURCE_STAR_EXCEPTIONS), f"stale exceptions: {set(RESOURCE_STAR_EXCEPTIONS) - used}"


def test_every_role_policy_comes_from_a_checked_document(hcl):
    """No hand-written JSON policy escapes the checks above."""
    for path in tf.tf_files():
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"^\s*(policy|assume_role_policy|inline_policy)\s*=\s*(.+)$", text, re.M):
            assert m.group(2).startswith("data.aws_iam_policy_document."), f"{path}: {m.group(0).strip()}"
        assert 'aws_iam_policy"' not in text.replace("aws_iam_policy_document", ""), (
            f"{path}: standalone aws_iam_policy"
        )


def test_managed_policies_are_the_dms_service_roles_only(hcl):
    attached = []
    for path in tf.tf_files():
        for block in hcl(path).get("resource", []):
            for body in block.get("aws_iam_role_policy_attachment", {}).values():
                attached.append(body["policy_arn"].rsplit("/", 1)[-1])
    assert sorted(attached) == sorted(MANAGED_POLICIES)


def test_dms_service_roles_have_the_names_dms_requires(hcl):
    roles = {}
    for block in hcl(tf.MODULES / "iam-role" / "main.tf")["resource"]:
        for key, body in block.get("aws_iam_role", {}).items():
            roles[key] = body["name"]
    assert roles["dms_vpc"] == "dms-vpc-role"
    assert roles["dms_cloudwatch_logs"] == "dms-cloudwatch-logs-role"


def test_step_functions_can_do_what_the_pipelines_need(hcl):
    """.sync:2 needs StartExecution + DescribeExecution + StopExecution + the EventBridge rule."""
    for _path, name, statements in _policy_documents(hcl):
        if name != "states":
            continue
        actions = {a for st in statements for a in st["actions"]}
        assert {
            "lambda:InvokeFunction",
            "states:StartExecution",
            "states:DescribeExecution",
            "states:StopExecution",
            "events:PutTargets",
            "events:PutRule",
            "events:DescribeRule",
            "sns:Publish",
        } <= actions
        rule = next(st for st in statements if st["sid"] == "SyncExecutionRule")
        assert rule["resources"][0].endswith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
        return
    raise AssertionError("no states policy document")
