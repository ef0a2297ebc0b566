# One state machine from a pipelines/<name>/states.json: templatefile fills the ARNs, a log group
# (under /aws/vendedlogs/, which keeps the Logs resource policy small) receives the execution logs,
# and X-Ray tracing is on by default.

locals {
  definition = templatefile(var.definition_file, var.template_vars)
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name     = var.name
  type     = var.type
  role_arn = var.role_arn

  # Canonical JSON: whitespace in states.json is not a change.
  definition = jsonencode(jsondecode(local.definition))

  logging_configuration {
    level                  = var.log_level
    include_execution_data = var.include_execution_data
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = can(jsondecode(local.definition).StartAt)
      error_message = "${var.definition_file} does not render to an ASL JSON document with StartAt."
    }
  }
}
