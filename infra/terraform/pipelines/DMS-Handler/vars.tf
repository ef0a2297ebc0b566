variable "region" {
  description = "AWS region of the state machines (fills $${region})."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as sa-east-1."
  }
}

variable "account_id" {
  description = "AWS account id (fills $${account_id})."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "state_machine_prefix" {
  description = "Prefix of the three state machine names (fills $${state_machine_prefix}); empty for the seed's names."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{0,40}$", var.state_machine_prefix))
    error_message = "state_machine_prefix must be at most 40 letters, digits, hyphens or underscores."
  }
}

variable "intake_function_arn" {
  description = "ARN of the DMS-intake Lambda (fills $${intake_function_arn})."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.intake_function_arn))
    error_message = "intake_function_arn must be a Lambda function ARN."
  }
}

variable "iceberg_function_arn" {
  description = "ARN of the Lambda of the Iceberg step (fills $${iceberg_function_arn}): DMS-iceberg, or DMS-intake when no owner keeps Iceberg tables (it answers the step at once). Only DMS-Handler uses it."
  type        = string
  default     = null

  validation {
    condition     = var.iceberg_function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", coalesce(var.iceberg_function_arn, "-")))
    error_message = "iceberg_function_arn must be a Lambda function ARN."
  }
}

variable "error_topic_arn" {
  description = "ARN of the SNS topic for pipeline errors (fills $${error_topic_arn})."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.error_topic_arn))
    error_message = "error_topic_arn must be an SNS topic ARN."
  }
}

variable "role_arn" {
  description = "ARN of the role the state machine runs as (the iam-role module's states_role_arn)."
  type        = string
}

variable "log_level" {
  description = "Execution logging level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"
}

variable "include_execution_data" {
  description = "Include execution input and output in the logs."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the state machine's log group in days."
  type        = number
  default     = 30
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
