# Scheduled delta runs and alarms (docs/schedule.md, docs/aws.md "Schedules and alarms"): kept in
# this file, beside main.tf; their variables and outputs are in variables.tf and outputs.tf.

locals {
  # derson-Main's ARN, built from the names as the iam-role module builds its ARNs: known at plan
  # time, so the role's policy and the alarms' dimensions can be reviewed (and tested) in a plan.
  main_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.state_machine_prefix}derson-Main"
  # owners/<name>.json carries schedule: (null when the owner has none; absent in older files).
  owner_schedules = {
    for name, f in local.owner_files : name => f.schedule if try(f.schedule, null) != null
  }
  # The stale-lake alarm counts in the shortest period of the enabled schedules (a multiple of 60,
  # at most a day) and takes the owners' smallest stale_after_periods, so no owner goes stale unseen.
  stale_schedules = {
    for name, s in local.owner_schedules : name => s
    if s.enabled && try(s.period_seconds, null) != null && try(s.stale_after_periods, 3) > 0
  }
  stale_period = length(local.stale_schedules) == 0 ? null : min(86400, max(60, 60 * ceil(min([for s in values(local.stale_schedules) : s.period_seconds]...) / 60)))
  stale_periods = length(local.stale_schedules) == 0 ? 1 : max(1, min(
    min([for s in values(local.stale_schedules) : try(s.stale_after_periods, 3)]...),
    floor(86400 / local.stale_period),
  ))
}

module "schedule" {
  source = "./modules/schedule"

  name_prefix       = var.name_prefix
  account_id        = local.account_id
  state_machine_arn = local.main_arn
  schedules = var.create_schedules ? {
    for name, s in local.owner_schedules : name => {
      expression              = s.expression
      timezone                = s.timezone
      flexible_window_minutes = s.flexible_window_minutes
      enabled                 = s.enabled
    }
  } : {}
}

module "alarms" {
  source = "./modules/alarms"
  count  = var.create_alarms ? 1 : 0

  name_prefix              = var.name_prefix
  account_id               = local.account_id
  topic_arn                = aws_sns_topic.errors.arn
  state_machine_arn        = local.main_arn
  function_name            = module.intake.function_name
  period_seconds           = var.alarm_period_seconds
  stale_period_seconds     = local.stale_period
  stale_evaluation_periods = local.stale_periods
}
