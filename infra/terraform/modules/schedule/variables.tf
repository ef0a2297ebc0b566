variable "name_prefix" {
  description = "Prefix of the role and schedule names."
  type        = string
}

variable "account_id" {
  description = "Account whose Scheduler may assume the role (aws:SourceAccount)."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of derson-Main, the schedules' target and the only machine the role may start."
  type        = string
}

variable "schedules" {
  description = "Owner -> the schedule: of its owner.yaml, as scripts/terraform_owners.py writes it."
  type = map(object({
    expression              = string
    timezone                = optional(string, "UTC")
    flexible_window_minutes = optional(number, 0)
    enabled                 = optional(bool, true)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^(rate|cron|at)\\(.+\\)$", s.expression))])
    error_message = "Each schedule expression must be rate(...), cron(...) or at(...), as EventBridge Scheduler takes it."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.flexible_window_minutes >= 0 && s.flexible_window_minutes <= 1440])
    error_message = "flexible_window_minutes must be 0 (off) or 1-1440."
  }
}
