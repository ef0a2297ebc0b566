# DMS-Handler: Runs one owner's DMS cycle through the DMS-intake Lambda; on failure starts DMS-ErrorHandling.
# The definition is ./states.json; templatefile fills its placeholders (see ../README.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

module "state_machine" {
  source = "../../modules/step-function"

  name            = "${var.state_machine_prefix}DMS-Handler"
  definition_file = "${path.module}/states.json"
  role_arn        = var.role_arn
  template_vars = {
    region               = var.region
    account_id           = var.account_id
    state_machine_prefix = var.state_machine_prefix
    intake_function_arn  = var.intake_function_arn
    iceberg_function_arn = var.iceberg_function_arn
    error_topic_arn      = var.error_topic_arn
  }

  log_level              = var.log_level
  include_execution_data = var.include_execution_data
  log_retention_days     = var.log_retention_days
  tracing_enabled        = var.tracing_enabled
  tags                   = var.tags
}

output "arn" {
  description = "ARN of the DMS-Handler state machine."
  value       = module.state_machine.arn
}

output "name" {
  description = "Name of the DMS-Handler state machine."
  value       = module.state_machine.name
}
