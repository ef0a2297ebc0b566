variable "name" {
  description = "Identifier of the replication subnet group and (when create_instance) the replication instance."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z](-?[A-Za-z0-9])*$", var.name)) && length(var.name) <= 63
    error_message = "name must start with a letter, contain only letters, digits and single hyphens, not end with a hyphen, and be at most 63 characters."
  }
}

variable "create_instance" {
  description = "Create a standing replication instance. Leave false when the DMS-intake Lambda creates one per run (no idle instance billing); the subnet group is created either way."
  type        = bool
  default     = false
}

variable "subnet_ids" {
  description = "Private subnets of the replication subnet group; DMS needs at least two, in two Availability Zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least two subnet ids (subnet-...) in two Availability Zones."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups of the replication instance; they must allow egress to the source database port and to S3."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "vpc_security_group_ids must be security group ids (sg-...)."
  }
}

variable "instance_class" {
  description = "Replication instance class, e.g. dms.t3.medium or dms.c5.large."
  type        = string
  default     = "dms.t3.medium"

  validation {
    condition     = can(regex("^dms\\.[a-z][a-z0-9]*\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like dms.<family>.<size>, e.g. dms.t3.medium."
  }
}

variable "allocated_storage" {
  description = "Storage of the replication instance in GiB (logs and cached changes)."
  type        = number
  default     = 50

  validation {
    condition     = var.allocated_storage >= 5 && var.allocated_storage <= 6144 && floor(var.allocated_storage) == var.allocated_storage
    error_message = "allocated_storage must be an integer between 5 and 6144 GiB."
  }
}

variable "engine_version" {
  description = "DMS engine version, e.g. 3.5.4; null for the current default."
  type        = string
  default     = null

  validation {
    condition     = var.engine_version == null || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must look like 3.5.4."
  }
}

variable "multi_az" {
  description = "Multi-AZ replication instance (a standby in another AZ; doubles the instance cost)."
  type        = bool
  default     = false
}

variable "availability_zone" {
  description = "Availability Zone of a single-AZ instance; null lets DMS choose. Must be null when multi_az."
  type        = string
  default     = null
}

variable "publicly_accessible" {
  description = "Give the replication instance a public IP. Off by default: reach the source through the VPC."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key ARN for the instance storage; null for the DMS default key."
  type        = string
  default     = null
}

variable "network_type" {
  description = "IPV4 or DUAL (dual-stack)."
  type        = string
  default     = "IPV4"

  validation {
    condition     = contains(["IPV4", "DUAL"], var.network_type)
    error_message = "network_type must be IPV4 or DUAL."
  }
}

variable "auto_minor_version_upgrade" {
  description = "Apply minor engine upgrades in the maintenance window."
  type        = bool
  default     = true
}

variable "preferred_maintenance_window" {
  description = "Weekly maintenance window in UTC (ddd:hh24:mi-ddd:hh24:mi); null lets DMS choose."
  type        = string
  default     = null

  validation {
    condition     = var.preferred_maintenance_window == null || can(regex("^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$", var.preferred_maintenance_window))
    error_message = "preferred_maintenance_window must look like sun:04:00-sun:04:30."
  }
}

variable "tags" {
  description = "Tags added to the subnet group and the instance."
  type        = map(string)
  default     = {}
}
