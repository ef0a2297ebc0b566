variable "task_id" {
  description = "Replication task identifier."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z](-?[A-Za-z0-9])*$", var.task_id)) && length(var.task_id) <= 255
    error_message = "task_id must start with a letter, contain only letters, digits and single hyphens, not end with a hyphen, and be at most 255 characters."
  }
}

variable "migration_type" {
  description = "full-load, cdc or full-load-and-cdc (the owner's migration_type)."
  type        = string
  default     = "full-load-and-cdc"

  validation {
    condition     = contains(["full-load", "cdc", "full-load-and-cdc"], var.migration_type)
    error_message = "migration_type must be full-load, cdc or full-load-and-cdc."
  }
}

variable "replication_instance_arn" {
  description = "ARN of the replication instance that runs the task."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:rep:.+$", var.replication_instance_arn))
    error_message = "replication_instance_arn must be a DMS replication instance ARN (arn:aws:dms:<region>:<account>:rep:<id>)."
  }
}

variable "source_endpoint_arn" {
  description = "ARN of the source endpoint (dms-endpoint module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:endpoint:.+$", var.source_endpoint_arn))
    error_message = "source_endpoint_arn must be a DMS endpoint ARN."
  }
}

variable "target_endpoint_arn" {
  description = "ARN of the S3 target endpoint (dms-endpoint module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:endpoint:.+$", var.target_endpoint_arn))
    error_message = "target_endpoint_arn must be a DMS endpoint ARN."
  }
}

variable "table_mappings" {
  description = "The owner's table-mapping document (mapping.json) as a JSON string."
  type        = string

  validation {
    condition     = can(jsondecode(var.table_mappings).rules) && length(try(jsondecode(var.table_mappings).rules, [])) > 0
    error_message = "table_mappings must be a JSON object with a non-empty \"rules\" array."
  }
}

variable "task_settings" {
  description = <<-EOT
    The FULLY MERGED task-settings document as a JSON string: the owner's task_settings.json merged
    over DMS's defaults (parse_task_settings(...).to_json(), written by scripts/terraform_owners.py).
    DMS returns the merged document on read, so sending a partial one makes Terraform show a diff on
    every plan (reference/dms.md section 6).
  EOT
  type        = string

  validation {
    condition     = can(jsondecode(var.task_settings).TargetMetadata) && can(jsondecode(var.task_settings).FullLoadSettings) && can(jsondecode(var.task_settings).Logging) && can(jsondecode(var.task_settings).ErrorBehavior)
    error_message = "task_settings must be the fully merged settings document (with TargetMetadata, FullLoadSettings, Logging and ErrorBehavior), not a partial one."
  }
}

variable "start_replication_task" {
  description = "Start the task after creating it (and keep it running). False leaves starting to the pipelines."
  type        = bool
  default     = false
}

variable "cdc_start_position" {
  description = "CDC start position for a cdc task (e.g. mysql-bin-changelog.000024:373); null to start now."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the task."
  type        = map(string)
  default     = {}
}
