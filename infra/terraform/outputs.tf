output "account_id" {
  description = "Account the deployment lives in."
  value       = local.account_id
}

output "state_machine_arns" {
  description = "ARNs of derson-Main, DMS-Handler and DMS-ErrorHandling."
  value = {
    main           = module.pipeline_main.arn
    handler        = module.pipeline_handler.arn
    error_handling = module.pipeline_error_handling.arn
  }
}

output "start_commands" {
  description = "One `aws stepfunctions start-execution` command per owner."
  value = {
    for name, _ in local.owners : name => "aws stepfunctions start-execution --state-machine-arn '${module.pipeline_main.arn}' --input '${jsonencode({ owner = name })}'"
  }
}

output "intake_function_arn" {
  description = "ARN of the DMS-intake Lambda."
  value       = module.intake.function_arn
}

output "iceberg" {
  description = "The owners' Iceberg tables on AWS: the DMS-iceberg Lambda (null without Iceberg owners) and the Glue databases Terraform created (their namespaces)."
  value = {
    function_arn   = one(module.iceberg[*].function_arn)
    glue_databases = length(module.iceberg_catalog) > 0 ? module.iceberg_catalog[0].database_names : []
  }
}

output "endpoints" {
  description = "Source and target endpoint ARNs per owner."
  value = {
    for name, m in module.endpoints : name => { source = m.source_endpoint_arn, target = m.target_endpoint_arn }
  }
}

output "replication_subnet_group_id" {
  description = "Subnet group of the replication instances."
  value       = module.replication.subnet_group_id
}

output "standing_replication_instance_arn" {
  description = "ARN of the standing replication instance (null unless standing_replication)."
  value       = module.replication.replication_instance_arn
}

output "replication_task_arns" {
  description = "Standing replication tasks per owner (empty unless standing_replication)."
  value       = { for name, m in module.tasks : name => m.replication_task_arn }
}

output "error_topic_arn" {
  description = "SNS topic DMS-ErrorHandling publishes to."
  value       = aws_sns_topic.errors.arn
}

output "role_arns" {
  description = "Roles created by the iam-role module."
  value = {
    dms_s3         = module.iam.dms_s3_role_arn
    dms_secrets    = module.iam.dms_secrets_role_arn
    lambda         = module.iam.lambda_role_arn
    step_functions = module.iam.states_role_arn
    glue           = module.iam.glue_role_arn
  }
}

output "schedule_arns" {
  description = "EventBridge Scheduler schedule per owner (owners with schedule: in owner.yaml)."
  value       = module.schedule.schedule_arns
}

output "alarm_names" {
  description = "CloudWatch alarms to the error topic (empty unless create_alarms)."
  value       = try(module.alarms[0].alarm_names, [])
}

output "lakes" {
  description = "Each owner's lake, s3://<bucket>/<folder> of its target endpoint; its CDC checkpoint is <lake>/_derson-lake/checkpoints/<owner>.json (the Lambda's DERSON_LAKES)."
  value       = local.lakes
}
