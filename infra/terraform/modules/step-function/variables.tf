variable "name" {
  description = "Name of the state machine."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1-80 letters, digits, hyphens or underscores."
  }
}

variable "definition_file" {
  description = "Path of the ASL definition (a pipelines/<name>/states.json) rendered with templatefile."
  type        = string

  validation {
    condition     = fileexists(var.definition_file)
    error_message = "definition_file must name an existing states.json."
  }
}

variable "template_vars" {
  description = "Values of the definition's placeholders: region, account_id, state_machine_prefix, intake_function_arn, error_topic_arn (see pipelines/README.md)."
  type        = map(string)
}

variable "role_arn" {
  description = "ARN of the role the state machine runs as (the iam-role module's states_role_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN."
  }
}

variable "type" {
  description = "STANDARD (the pipelines wait for hours on DMS) or EXPRESS."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.type)
    error_message = "type must be STANDARD or EXPRESS."
  }
}

variable "log_level" {
  description = "Execution logging level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "include_execution_data" {
  description = "Include execution input and output in the logs."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the state machine's CloudWatch log group in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "tracing_enabled" {
  description = "Send X-Ray traces."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to the state machine and its log group."
  type        = map(string)
  default     = {}
}
