output "dms_vpc_role_arn" {
  description = "ARN of dms-vpc-role (null when create_dms_service_roles is false)."
  value       = one(aws_iam_role.dms_vpc[*].arn)
}

output "dms_cloudwatch_logs_role_arn" {
  description = "ARN of dms-cloudwatch-logs-role (null when create_dms_service_roles is false)."
  value       = one(aws_iam_role.dms_cloudwatch_logs[*].arn)
}

output "dms_service_roles_ready" {
  description = "Depend on this before creating a replication subnet group: the policy attachment of dms-vpc-role (empty list when the account already had the roles)."
  value       = aws_iam_role_policy_attachment.dms_vpc[*].id
}

output "dms_s3_role_arn" {
  description = "ARN of the role the S3 target endpoints use to write the lake."
  value       = aws_iam_role.dms_s3.arn
}

output "dms_secrets_role_arn" {
  description = "ARN of the role the source endpoints use to read their Secrets Manager secret."
  value       = aws_iam_role.dms_secrets.arn
}

output "lambda_role_arn" {
  description = "ARN of the DMS-intake Lambda's execution role."
  value       = aws_iam_role.lambda.arn
}

output "states_role_arn" {
  description = "ARN of the role the three state machines run as."
  value       = aws_iam_role.states.arn
}

output "glue_role_arn" {
  description = "ARN of the Glue crawler role (null unless create_glue_role)."
  value       = one(aws_iam_role.glue[*].arn)
}

output "iceberg_role_arn" {
  description = "ARN of the DMS-iceberg Lambda's execution role (null when no owner keeps Iceberg tables)."
  value       = one(aws_iam_role.iceberg[*].arn)
}
