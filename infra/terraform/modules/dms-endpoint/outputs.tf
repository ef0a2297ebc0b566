output "source_endpoint_arn" {
  description = "ARN of the source (MySQL/MariaDB/Aurora) endpoint."
  value       = aws_dms_endpoint.source.endpoint_arn
}

output "target_endpoint_arn" {
  description = "ARN of the S3 target endpoint."
  value       = aws_dms_s3_endpoint.target.endpoint_arn
}

output "source_endpoint_id" {
  description = "Identifier of the source endpoint."
  value       = aws_dms_endpoint.source.endpoint_id
}

output "target_endpoint_id" {
  description = "Identifier of the S3 target endpoint."
  value       = aws_dms_s3_endpoint.target.endpoint_id
}
