# One EventBridge Scheduler schedule per owner, starting derson-Main with the same input the local
# scheduler uses ({"owner": X, "delta": true}), and the one role Scheduler assumes to do it: it may
# call states:StartExecution on derson-Main and nothing else.

locals {
  # Schedule names: letters, digits, - _ . (64 at most); owner names are at most 63 characters.
  names = { for owner, _ in var.schedules : owner => substr("${var.name_prefix}-${owner}", 0, 64) }
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "SchedulerOfThisAccount"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "start_main" {
  statement {
    sid       = "StartDersonMainOnly"
    actions   = ["states:StartExecution"]
    resources = [var.state_machine_arn]
  }
}

resource "aws_iam_role" "scheduler" {
  count              = length(var.schedules) > 0 ? 1 : 0
  name               = "${var.name_prefix}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "start_main" {
  count  = length(var.schedules) > 0 ? 1 : 0
  name   = "start-derson-main"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.start_main.json
}

resource "aws_scheduler_schedule" "owner" {
  for_each = var.schedules

  name                         = local.names[each.key]
  group_name                   = "default"
  description                  = "derson-lake: delta run of owner ${each.key} (owners/${each.key}/owner.yaml schedule:)"
  schedule_expression          = each.value.expression
  schedule_expression_timezone = each.value.timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode                      = each.value.flexible_window_minutes > 0 ? "FLEXIBLE" : "OFF"
    maximum_window_in_minutes = each.value.flexible_window_minutes > 0 ? each.value.flexible_window_minutes : null
  }

  target {
    arn      = var.state_machine_arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = jsonencode({ owner = each.key, delta = true })
  }

  depends_on = [aws_iam_role_policy.start_main]
}
