output "schedule_arns" {
  description = "Schedule ARN per owner."
  value       = { for owner, s in aws_scheduler_schedule.owner : owner => s.arn }
}

output "role_arn" {
  description = "The role EventBridge Scheduler assumes (null without schedules)."
  value       = one(aws_iam_role.scheduler[*].arn)
}
