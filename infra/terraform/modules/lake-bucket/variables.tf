variable "name" {
  description = "Name of the lake bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name."
  }
}

variable "partition" {
  description = "AWS partition of the bucket's ARN: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS (with an S3 Bucket Key); null for SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "versioning" {
  description = "Keep earlier versions of overwritten and deleted objects (recovery from mistakes; costs storage)."
  type        = bool
  default     = false
}

variable "versioning_was_enabled" {
  description = "Set true after turning versioning off on a bucket that had it: S3 can only suspend it then."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "With versioning: delete non-current versions this many days after they were replaced; null keeps them."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days == null || try(var.noncurrent_version_expiration_days >= 1, false)
    error_message = "noncurrent_version_expiration_days must be 1 or more, or null."
  }
}

variable "abort_incomplete_multipart_days" {
  description = "Abort multipart uploads not completed this many days after they started (their parts bill until then)."
  type        = number
  default     = 2

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1 && floor(var.abort_incomplete_multipart_days) == var.abort_incomplete_multipart_days
    error_message = "abort_incomplete_multipart_days must be a whole number of days, 1 or more."
  }
}

variable "tags" {
  description = "Tags of the bucket."
  type        = map(string)
  default     = {}
}
