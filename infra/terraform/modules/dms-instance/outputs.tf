output "subnet_group_id" {
  description = "Identifier of the replication subnet group (the DMS-intake Lambda creates its instances in it)."
  value       = aws_dms_replication_subnet_group.this.id
}

output "replication_instance_arn" {
  description = "ARN of the standing replication instance, or null when create_instance is false."
  value       = one(aws_dms_replication_instance.this[*].replication_instance_arn)
}

output "replication_instance_id" {
  description = "Identifier of the standing replication instance, or null when create_instance is false."
  value       = one(aws_dms_replication_instance.this[*].replication_instance_id)
}
