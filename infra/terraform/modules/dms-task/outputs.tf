output "replication_task_arn" {
  description = "ARN of the replication task."
  value       = aws_dms_replication_task.this.replication_task_arn
}

output "replication_task_id" {
  description = "Identifier of the replication task."
  value       = aws_dms_replication_task.this.replication_task_id
}
