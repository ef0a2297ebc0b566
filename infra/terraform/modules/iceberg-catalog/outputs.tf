output "database_names" {
  description = "Names of the Glue databases (the Iceberg namespaces)."
  value       = sort([for d in aws_glue_catalog_database.this : d.name])
}

output "database_arns" {
  description = "Glue database name => ARN."
  value       = { for n, d in aws_glue_catalog_database.this : n => d.arn }
}
