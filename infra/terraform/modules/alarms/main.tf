# The alarms that say a lake stopped being current, all to the error topic (whose e-mail
# subscription the root module makes): derson-Main's failed, timed-out and aborted executions, the
# DMS-intake Lambda's errors and throttles, DMS replication-task failure events (an EventBridge rule),
# and "the lake is stale": no derson-Main execution succeeded for N schedule periods.

locals {
  machine_alarms = {
    "executions-failed"    = { metric = "ExecutionsFailed", what = "a derson-Main execution failed" }
    "executions-timed-out" = { metric = "ExecutionsTimedOut", what = "a derson-Main execution timed out" }
    "executions-aborted"   = { metric = "ExecutionsAborted", what = "a derson-Main execution was aborted" }
  }
  lambda_alarms = {
    "intake-errors"    = { metric = "Errors", what = "the DMS-intake Lambda raised errors" }
    "intake-throttles" = { metric = "Throttles", what = "the DMS-intake Lambda was throttled" }
  }
  actions = [var.topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "machine" {
  for_each = local.machine_alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "derson-lake: ${each.value.what} (docs/monitoring.md)"
  namespace           = "AWS/States"
  metric_name         = each.value.metric
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "lambda" {
  for_each = local.lambda_alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "derson-lake: ${each.value.what} (docs/monitoring.md)"
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = var.function_name }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# Stale lake: derson-Main's ExecutionsSucceeded, summed per schedule period, below 1 for N periods in
# a row; no data at all (no run, or only failures) counts as breaching. Step Functions publishes the
# metric, so it still works when the Lambda or the pipeline is what broke (docs/aws.md).
resource "aws_cloudwatch_metric_alarm" "stale" {
  count = var.stale_period_seconds == null ? 0 : 1

  alarm_name          = "${var.name_prefix}-lake-stale"
  alarm_description   = "derson-lake: no derson-Main run succeeded for ${var.stale_evaluation_periods} period(s) of ${var.stale_period_seconds} s: the lake is stale"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsSucceeded"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = var.stale_period_seconds
  evaluation_periods  = var.stale_evaluation_periods
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_event_rule" "dms_task_failed" {
  name        = "${var.name_prefix}-dms-task-failed"
  description = "derson-lake: a DMS replication task failed"
  event_pattern = jsonencode({
    source        = ["aws.dms"]
    "detail-type" = ["DMS Replication Task State Change"]
    detail        = { eventType = ["REPLICATION_TASK_FAILED"] }
  })
}

resource "aws_cloudwatch_event_target" "dms_task_failed" {
  rule      = aws_cloudwatch_event_rule.dms_task_failed.name
  target_id = "error-topic"
  arn       = var.topic_arn
}

# EventBridge publishes to the topic only when its policy lets it (for this rule only); the account
# itself (DMS-ErrorHandling's role, CloudWatch alarms) keeps the default rights.
data "aws_iam_policy_document" "topic" {
  statement {
    sid = "AccountOwner"
    actions = [
      "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
      "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
    ]
    resources = [var.topic_arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceOwner"
      values   = [var.account_id]
    }
  }
  statement {
    sid       = "DmsTaskFailedRule"
    actions   = ["sns:Publish"]
    resources = [var.topic_arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.dms_task_failed.arn]
    }
  }
}

resource "aws_sns_topic_policy" "errors" {
  arn    = var.topic_arn
  policy = data.aws_iam_policy_document.topic.json
}
