# A replication task on a standing instance, with the owner's table mappings and the fully merged
# task settings. jsonencode(jsondecode(...)) puts both documents in one canonical form (sorted keys,
# no whitespace), so a reformatted mapping.json is not a change, and the settings Terraform sends
# are the whole document DMS stores: no perpetual diff.

locals {
  settings = jsondecode(var.task_settings)

  # DMS returns keys it refuses on input: Logging.CloudWatchLogGroup and CloudWatchLogStream are
  # read-only, and EnableLogContext is only accepted beside EnableLogging = true. Drop exactly those
  # and send everything else of the merged document.
  logging = {
    for k, v in local.settings.Logging : k => v
    if !contains(["CloudWatchLogGroup", "CloudWatchLogStream"], k) && !(k == "EnableLogContext" && !try(local.settings.Logging.EnableLogging, false))
  }
  task_settings = merge(local.settings, { Logging = local.logging })
}

resource "aws_dms_replication_task" "this" {
  replication_task_id      = var.task_id
  migration_type           = var.migration_type
  replication_instance_arn = var.replication_instance_arn
  source_endpoint_arn      = var.source_endpoint_arn
  target_endpoint_arn      = var.target_endpoint_arn

  table_mappings            = jsonencode(jsondecode(var.table_mappings))
  replication_task_settings = jsonencode(local.task_settings)

  start_replication_task = var.start_replication_task
  cdc_start_position     = var.migration_type == "full-load" ? null : var.cdc_start_position

  tags = var.tags
}
