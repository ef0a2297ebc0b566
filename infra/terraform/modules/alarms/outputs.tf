output "alarm_names" {
  description = "Every CloudWatch alarm of the module."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.machine : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.lambda : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.stale : a.alarm_name],
  )
}

output "dms_task_failed_rule_arn" {
  description = "The EventBridge rule on DMS replication-task failure events."
  value       = aws_cloudwatch_event_rule.dms_task_failed.arn
}
