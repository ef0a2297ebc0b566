variable "name_prefix" {
  description = "Prefix of the alarm and rule names."
  type        = string
}

variable "account_id" {
  description = "Account of the error topic (its policy's owner statement)."
  type        = string
}

variable "topic_arn" {
  description = "The error topic every alarm and the rule notify (alarm and OK)."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of derson-Main (dimension StateMachineArn)."
  type        = string
}

variable "function_name" {
  description = "Name of the DMS-intake Lambda (dimension FunctionName)."
  type        = string
}

variable "period_seconds" {
  description = "Period of the failure alarms: one failure within it is an alarm."
  type        = number
  default     = 300
}

variable "stale_period_seconds" {
  description = "The schedule period the stale-lake alarm counts in (a multiple of 60); null: no stale alarm."
  type        = number
  default     = null

  validation {
    condition     = var.stale_period_seconds == null || (var.stale_period_seconds >= 60 && var.stale_period_seconds <= 86400 && var.stale_period_seconds % 60 == 0)
    error_message = "stale_period_seconds must be a multiple of 60 between 60 and 86400, or null."
  }
}

variable "stale_evaluation_periods" {
  description = "Periods in a row without a successful derson-Main execution that make the lake stale."
  type        = number
  default     = 3
}
