# The roles of a Derson Lake deployment, least privilege: every action is named, every resource is
# an ARN built from the deployment's names. The few statements with Resource "*" are actions that
# support no resource-level permissions (tests/infra/test_iam.py lists them with the reason).

locals {
  arn_prefix = "arn:${var.partition}"
  dms_arn    = "${local.arn_prefix}:dms:${var.region}:${var.account_id}"
  states_arn = "${local.arn_prefix}:states:${var.region}:${var.account_id}"

  lake_bucket_arn  = "${local.arn_prefix}:s3:::${var.lake_bucket_name}"
  lake_object_arns = [for p in var.lake_prefixes : p == "" ? "${local.lake_bucket_arn}/*" : "${local.lake_bucket_arn}/${p}/*"]
  lake_list_prefixes = distinct(flatten([
    for p in var.lake_prefixes : p == "" ? ["*"] : [p, "${p}/*"]
  ]))
  # Where DMS-intake keeps each owner's CDC checkpoint (docs/aws.md): <folder>/_derson-lake/checkpoints/
  checkpoint_prefixes = [for p in var.lake_prefixes : p == "" ? "_derson-lake/checkpoints/" : "${p}/_derson-lake/checkpoints/"]

  lambda_function_arn  = "${local.arn_prefix}:lambda:${var.region}:${var.account_id}:function:${var.lambda_function_name}"
  lambda_log_group_arn = "${local.arn_prefix}:logs:${var.region}:${var.account_id}:log-group:/aws/lambda/${var.lambda_function_name}"

  handler_name        = "${var.state_machine_prefix}DMS-Handler"
  error_handling_name = "${var.state_machine_prefix}DMS-ErrorHandling"

  glue_catalog_arn = "${local.arn_prefix}:glue:${var.region}:${var.account_id}:catalog"

  # DMS-iceberg (docs/iceberg.md, "On AWS"): reads the DMS files of the owners with Iceberg tables,
  # writes only under <folder>/_derson-lake/iceberg/ (the warehouse) and <folder>/_derson-lake/iceberg.json.
  iceberg_enabled       = length(var.iceberg_lake_prefixes) > 0
  iceberg_function_arn  = "${local.arn_prefix}:lambda:${var.region}:${var.account_id}:function:${var.iceberg_function_name}"
  iceberg_log_group_arn = "${local.arn_prefix}:logs:${var.region}:${var.account_id}:log-group:/aws/lambda/${var.iceberg_function_name}"
  iceberg_roots         = [for p in var.iceberg_lake_prefixes : p == "" ? "" : "${p}/"]

  # The tag DMS-intake puts on the instances and tasks it creates (dersonlake.intake.dms.OWNER_TAG).
  owner_tag = "derson-lake:owner"

  dms_service_principal = "dms.amazonaws.com"
  # DMS assumes the Secrets Manager access role through the regional principal.
  dms_regional_principal = "dms.${var.region}.amazonaws.com"
}

# --- Trust policies ---------------------------------------------------------------------------

data "aws_iam_policy_document" "trust_dms" {
  statement {
    sid     = "DmsAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.dms_service_principal]
    }
  }
}

# The lake role only: DMS assumes it for this account's endpoints (confused deputy). The two
# account-wide service roles above keep the trust policy AWS documents for them.
data "aws_iam_policy_document" "trust_dms_s3" {
  statement {
    sid     = "DmsAssumesRoleForThisAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.dms_service_principal]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "trust_dms_secrets" {
  statement {
    sid     = "DmsAssumesRoleForSecrets"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.dms_regional_principal, local.dms_service_principal]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "trust_lambda" {
  statement {
    sid     = "LambdaAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "trust_states" {
  statement {
    sid     = "StepFunctionsAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "trust_glue" {
  statement {
    sid     = "GlueAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

# --- DMS: the two account-wide roles DMS looks up by name --------------------------------------

resource "aws_iam_role" "dms_vpc" {
  count              = var.create_dms_service_roles ? 1 : 0
  name               = "dms-vpc-role"
  description        = "DMS manages the network interfaces of replication instances (name required by DMS)."
  assume_role_policy = data.aws_iam_policy_document.trust_dms.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "dms_vpc" {
  count      = var.create_dms_service_roles ? 1 : 0
  role       = aws_iam_role.dms_vpc[0].name
  policy_arn = "${local.arn_prefix}:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
}

resource "aws_iam_role" "dms_cloudwatch_logs" {
  count              = var.create_dms_service_roles ? 1 : 0
  name               = "dms-cloudwatch-logs-role"
  description        = "DMS writes replication task logs to CloudWatch Logs (name required by DMS)."
  assume_role_policy = data.aws_iam_policy_document.trust_dms.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "dms_cloudwatch_logs" {
  count      = var.create_dms_service_roles ? 1 : 0
  role       = aws_iam_role.dms_cloudwatch_logs[0].name
  policy_arn = "${local.arn_prefix}:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole"
}

# --- DMS: write to the lake prefixes (the S3 target endpoint's service access role) -------------

data "aws_iam_policy_document" "dms_s3" {
  statement {
    sid       = "WriteLakeObjects"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"]
    resources = local.lake_object_arns
  }

  statement {
    sid       = "ListLakePrefixes"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.lake_list_prefixes
    }
  }

  dynamic "statement" {
    for_each = length(var.lake_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "UseLakeKmsKey"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = var.lake_kms_key_arns
    }
  }

  dynamic "statement" {
    for_each = var.glue_catalog_generation ? [1] : []
    content {
      sid    = "GlueCatalogGeneration"
      effect = "Allow"
      actions = [
        "glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable",
        "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition",
      ]
      resources = [
        local.glue_catalog_arn,
        "${local.arn_prefix}:glue:${var.region}:${var.account_id}:database/*",
        "${local.arn_prefix}:glue:${var.region}:${var.account_id}:table/*/*",
      ]
    }
  }
}

resource "aws_iam_role" "dms_s3" {
  name               = "${var.name_prefix}-dms-s3-target"
  description        = "DMS writes the lake: the S3 target endpoints' service access role."
  assume_role_policy = data.aws_iam_policy_document.trust_dms_s3.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "dms_s3" {
  name   = "write-lake"
  role   = aws_iam_role.dms_s3.id
  policy = data.aws_iam_policy_document.dms_s3.json
}

# --- Secrets Manager: DMS reads the source credentials -----------------------------------------

data "aws_iam_policy_document" "dms_secrets" {
  statement {
    sid       = "ReadSourceSecrets"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = var.source_secret_arns
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptSourceSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${var.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "dms_secrets" {
  name               = "${var.name_prefix}-dms-secrets"
  description        = "DMS reads the source endpoints' credentials from Secrets Manager."
  assume_role_policy = data.aws_iam_policy_document.trust_dms_secrets.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "dms_secrets" {
  name   = "read-source-secrets"
  role   = aws_iam_role.dms_secrets.id
  policy = data.aws_iam_policy_document.dms_secrets.json
}

# --- Lambda (DMS-intake): DMS control, its logs, one secret ------------------------------------

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.lambda_log_group_arn}:*"]
  }

  # The Lambda tags what it creates with derson-lake:owner = <owner> (dersonlake/intake/dms.py,
  # OWNER_TAG): it may create only so-tagged instances and tasks, and start, stop and delete only
  # instances and tasks that carry the tag of one of the deployment's owners (Terraform's standing
  # tasks carry the same tag). DMS ARNs end in a random id, so names cannot scope them; tags do.
  statement {
    sid    = "CreateOwnersReplication"
    effect = "Allow"
    actions = [
      "dms:CreateReplicationInstance", "dms:CreateReplicationTask", "dms:AddTagsToResource",
    ]
    resources = concat([
      "${local.dms_arn}:rep:*",
      "${local.dms_arn}:task:*",
      "${local.dms_arn}:subgrp:${var.replication_subnet_group_id}",
    ], var.dms_endpoint_arns)
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.owner_tag}"
      values   = var.owner_names
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = [local.owner_tag]
    }
  }

  statement {
    sid    = "ControlOwnersReplication"
    effect = "Allow"
    actions = [
      "dms:DeleteReplicationInstance", "dms:StartReplicationTask", "dms:StopReplicationTask",
      "dms:DeleteReplicationTask", "dms:DescribeTableStatistics", "dms:ListTagsForResource",
    ]
    resources = ["${local.dms_arn}:rep:*", "${local.dms_arn}:task:*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.owner_tag}"
      values   = var.owner_names
    }
  }

  statement {
    sid    = "DescribeDmsResources"
    effect = "Allow"
    # DescribeReplicationInstances and DescribeReplicationTasks support no resource-level permissions.
    actions   = ["dms:DescribeReplicationInstances", "dms:DescribeReplicationTasks"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.lambda_secret_arn == null ? [] : [var.lambda_secret_arn]
    content {
      sid       = "ReadOneSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

# Where the Lambda keeps each owner's CDC checkpoint: <lake>/_derson-lake/checkpoints/<owner>.json,
# <lake> being the s3://<bucket>/<folder> its target endpoint writes (docs/aws.md, "Where the
# checkpoint lives"). A document of its own, with no ARN known only after apply, so `terraform plan`
# renders it and tests/infra/test_checkpoint_policy.py evaluates it against the intake's requests.
data "aws_iam_policy_document" "lambda_checkpoints" {
  statement {
    # One run per owner (src/dersonlake/intake/overlap.py): DMS-Handler's first step looks for
    # another RUNNING execution of the same owner before it touches the owner's resources.
    sid       = "FindOverlappingRuns"
    effect    = "Allow"
    actions   = ["states:ListExecutions"]
    resources = ["${local.states_arn}:stateMachine:${local.handler_name}"]
  }

  statement {
    sid       = "ReadOverlappingRuns"
    effect    = "Allow"
    actions   = ["states:DescribeExecution"]
    resources = ["${local.states_arn}:execution:${local.handler_name}:*"]
  }

  statement {
    sid       = "KeepCdcCheckpoints"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for p in local.checkpoint_prefixes : "${local.lake_bucket_arn}/${p}*"]
  }

  statement {
    sid    = "FindCdcCheckpoints"
    effect = "Allow"
    # The intake lists the checkpoint's own key before reading it (checkpoints.py), so a missing
    # checkpoint is an empty listing rather than the AccessDenied S3 answers a GetObject of a
    # missing key without ListBucket.
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in local.checkpoint_prefixes : "${p}*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.lake_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "CheckpointsInEncryptedLake"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = var.lake_kms_key_arns
    }
  }

}

resource "aws_iam_role" "lambda" {
  name               = "${var.name_prefix}-dms-intake"
  description        = "The DMS-intake Lambda: creates, starts, watches and deletes DMS instances and tasks."
  assume_role_policy = data.aws_iam_policy_document.trust_lambda.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "lambda" {
  name   = "dms-control"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

resource "aws_iam_role_policy" "lambda_checkpoints" {
  name   = "cdc-checkpoints"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda_checkpoints.json
}

# --- Lambda (DMS-iceberg): the owners' DMS files in, their Iceberg tables and Glue tables out ---

data "aws_iam_policy_document" "iceberg" {
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.iceberg_log_group_arn}:*"]
  }

  statement {
    sid       = "ReadLakeFiles"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [for r in local.iceberg_roots : "${local.lake_bucket_arn}/${r}*"]
  }

  statement {
    sid     = "ListLakeFiles"
    effect  = "Allow"
    actions = ["s3:ListBucket"]
    # one listing of the lake folder finds each table's LOAD and CDC files
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = distinct(flatten([for r in local.iceberg_roots : r == "" ? ["*"] : [r, "${r}*"]]))
    }
  }

  statement {
    sid     = "WriteIcebergTables"
    effect  = "Allow"
    actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = flatten([for r in local.iceberg_roots : [
      "${local.lake_bucket_arn}/${r}_derson-lake/iceberg/*",
      "${local.lake_bucket_arn}/${r}_derson-lake/iceberg.json",
    ]])
  }

  statement {
    sid    = "KeepGlueTables"
    effect = "Allow"
    # CreateDatabase on its own namespaces only: a new table's namespace is created when missing
    # (lake/iceberg/table.py), which for Terraform's databases answers AlreadyExists, not AccessDenied.
    actions = [
      "glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
      "glue:UpdateTable", "glue:DeleteTable",
    ]
    resources = concat([local.glue_catalog_arn], flatten([for n in var.iceberg_namespaces : [
      "${local.arn_prefix}:glue:${var.region}:${var.account_id}:database/${n}",
      "${local.arn_prefix}:glue:${var.region}:${var.account_id}:table/${n}/*",
    ]]))
  }

  dynamic "statement" {
    for_each = length(var.lake_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "IcebergInEncryptedLake"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = var.lake_kms_key_arns
    }
  }
}

resource "aws_iam_role" "iceberg" {
  count              = local.iceberg_enabled ? 1 : 0
  name               = "${var.name_prefix}-dms-iceberg"
  description        = "The DMS-iceberg Lambda: applies the owners' DMS files to their Iceberg tables after each run."
  assume_role_policy = data.aws_iam_policy_document.trust_lambda.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "iceberg" {
  count  = local.iceberg_enabled ? 1 : 0
  name   = "iceberg-tables"
  role   = aws_iam_role.iceberg[0].id
  policy = data.aws_iam_policy_document.iceberg.json
}

# --- Step Functions: invoke the Lambda, run the nested pipelines, notify -----------------------

data "aws_iam_policy_document" "states" {
  statement {
    sid       = "InvokeIntakeLambda"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.lambda_function_arn, "${local.lambda_function_arn}:*"]
  }

  dynamic "statement" {
    for_each = local.iceberg_enabled ? [1] : []
    content {
      sid       = "InvokeIcebergLambda"
      effect    = "Allow"
      actions   = ["lambda:InvokeFunction"]
      resources = [local.iceberg_function_arn, "${local.iceberg_function_arn}:*"]
    }
  }

  statement {
    sid     = "StartNestedExecutions"
    effect  = "Allow"
    actions = ["states:StartExecution"]
    resources = [
      "${local.states_arn}:stateMachine:${local.handler_name}",
      "${local.states_arn}:stateMachine:${local.error_handling_name}",
    ]
  }

  statement {
    sid     = "WatchNestedExecutions"
    effect  = "Allow"
    actions = ["states:DescribeExecution", "states:StopExecution"]
    resources = [
      "${local.states_arn}:execution:${local.handler_name}:*",
      "${local.states_arn}:execution:${local.error_handling_name}:*",
    ]
  }

  statement {
    # startExecution.sync waits for the child through this managed EventBridge rule.
    sid       = "SyncExecutionRule"
    effect    = "Allow"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["${local.arn_prefix}:events:${var.region}:${var.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
  }

  statement {
    sid       = "PublishErrors"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [var.error_topic_arn]
  }

  dynamic "statement" {
    for_each = var.error_topic_kms_key_arn == null ? [] : [var.error_topic_kms_key_arn]
    content {
      sid       = "EncryptedErrorTopic"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }

  statement {
    sid    = "DeliverExecutionLogs"
    effect = "Allow"
    # CloudWatch Logs delivery for Step Functions supports no resource-level permissions.
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "XRayTracing"
    effect = "Allow"
    # X-Ray trace and sampling APIs support no resource-level permissions.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "states" {
  name               = "${var.name_prefix}-step-functions"
  description        = "The derson-Main, DMS-Handler and DMS-ErrorHandling state machines."
  assume_role_policy = data.aws_iam_policy_document.trust_states.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "states" {
  name   = "run-pipelines"
  role   = aws_iam_role.states.id
  policy = data.aws_iam_policy_document.states.json
}

# --- Glue: a crawler that catalogs the lake (optional) ----------------------------------------

data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "ReadLakeObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = local.lake_object_arns
  }

  statement {
    sid       = "ListLakePrefixes"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.lake_list_prefixes
    }
  }

  statement {
    sid    = "WriteCatalog"
    effect = "Allow"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
      "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:BatchCreatePartition",
      "glue:CreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition",
    ]
    resources = [
      local.glue_catalog_arn,
      "${local.arn_prefix}:glue:${var.region}:${var.account_id}:database/${var.glue_database_name}",
      "${local.arn_prefix}:glue:${var.region}:${var.account_id}:table/${var.glue_database_name}/*",
    ]
  }

  statement {
    sid       = "CrawlerLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.arn_prefix}:logs:${var.region}:${var.account_id}:log-group:/aws-glue/crawlers:*"]
  }

  dynamic "statement" {
    for_each = length(var.lake_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptLake"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = var.lake_kms_key_arns
    }
  }
}

resource "aws_iam_role" "glue" {
  count              = var.create_glue_role ? 1 : 0
  name               = "${var.name_prefix}-glue-crawler"
  description        = "A Glue crawler catalogs the lake prefixes."
  assume_role_policy = data.aws_iam_policy_document.trust_glue.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "glue" {
  count  = var.create_glue_role ? 1 : 0
  name   = "catalog-lake"
  role   = aws_iam_role.glue[0].id
  policy = data.aws_iam_policy_document.glue.json
}
