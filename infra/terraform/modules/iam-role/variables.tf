variable "name_prefix" {
  description = "Prefix of every role and policy name, e.g. derson-lake."
  type        = string
  default     = "derson-lake"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters of letters, digits and +=,.@_-."
  }
}

variable "account_id" {
  description = "AWS account id the resources live in (used to build ARNs)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region the resources live in (used to build ARNs)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as sa-east-1."
  }
}

variable "partition" {
  description = "AWS partition: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "create_dms_service_roles" {
  description = "Create the account-wide roles DMS looks up by name: dms-vpc-role and dms-cloudwatch-logs-role. Set false when the account already has them (they are one per account)."
  type        = bool
  default     = true
}

variable "lake_bucket_name" {
  description = "Name of the lake bucket DMS writes to."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.lake_bucket_name))
    error_message = "lake_bucket_name must be a valid S3 bucket name."
  }
}

variable "lake_prefixes" {
  description = "Folders in the lake bucket DMS may write to (one per owner target; no leading or trailing slash; empty string for the whole bucket)."
  type        = list(string)

  validation {
    condition     = length(var.lake_prefixes) > 0 && alltrue([for p in var.lake_prefixes : !startswith(p, "/") && !endswith(p, "/") && !strcontains(p, "*")])
    error_message = "lake_prefixes needs at least one folder, without leading or trailing slashes or wildcards."
  }
}

variable "lake_kms_key_arns" {
  description = "KMS keys that encrypt the lake bucket (SSE-KMS); DMS and the Glue crawler get encrypt/decrypt on them. Empty for SSE-S3."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.lake_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "lake_kms_key_arns must be KMS key ARNs."
  }
}

variable "source_secret_arns" {
  description = "Secrets Manager ARNs of the owners' source credentials; DMS reads them through the secrets role."
  type        = list(string)

  validation {
    condition     = length(var.source_secret_arns) > 0 && alltrue([for s in var.source_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", s))])
    error_message = "source_secret_arns needs at least one Secrets Manager secret ARN."
  }
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys that encrypt the source secrets (kms:Decrypt for DMS). Empty for the AWS-managed key."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.secrets_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "secrets_kms_key_arns must be KMS key ARNs."
  }
}

variable "dms_endpoint_arns" {
  description = "ARNs of the owners' DMS endpoints (source and target); the Lambda creates tasks between them."
  type        = list(string)

  validation {
    condition     = alltrue([for e in var.dms_endpoint_arns : can(regex("^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:endpoint:.+$", e))])
    error_message = "dms_endpoint_arns must be DMS endpoint ARNs."
  }
}

variable "owner_names" {
  description = "The deployment's owners: the Lambda may create, start, stop and delete only DMS instances and tasks tagged derson-lake:owner = one of them."
  type        = list(string)

  validation {
    condition     = length(var.owner_names) > 0 && alltrue([for o in var.owner_names : can(regex("^[A-Za-z][A-Za-z0-9_-]{0,62}$", o))])
    error_message = "owner_names needs at least one owner name (a letter, then up to 62 letters, digits, hyphens and underscores)."
  }
}

variable "replication_subnet_group_id" {
  description = "Identifier of the replication subnet group the Lambda creates instances in."
  type        = string
}

variable "lambda_function_name" {
  description = "Name of the DMS-intake Lambda function (its ARN and log group are built from it)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_function_name))
    error_message = "lambda_function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "lambda_secret_arn" {
  description = "The one Secrets Manager secret the Lambda may read (e.g. the credentials for its source pre-checks); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.lambda_secret_arn))
    error_message = "lambda_secret_arn must be a Secrets Manager secret ARN or null."
  }
}

variable "state_machine_prefix" {
  description = "Prefix of the three state machine names (<prefix>derson-Main, <prefix>DMS-Handler, <prefix>DMS-ErrorHandling); empty for the seed's names."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{0,40}$", var.state_machine_prefix))
    error_message = "state_machine_prefix must be at most 40 letters, digits, hyphens or underscores."
  }
}

variable "error_topic_arn" {
  description = "ARN of the SNS topic DMS-ErrorHandling publishes to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.error_topic_arn))
    error_message = "error_topic_arn must be an SNS topic ARN."
  }
}

variable "error_topic_kms_key_arn" {
  description = "KMS key of an encrypted error topic (Step Functions needs kms:GenerateDataKey and kms:Decrypt on it); null when unencrypted."
  type        = string
  default     = null

  validation {
    condition     = var.error_topic_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.error_topic_kms_key_arn))
    error_message = "error_topic_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "create_glue_role" {
  description = "Create a role for a Glue crawler that catalogs the lake prefixes into glue_database_name."
  type        = bool
  default     = false
}

variable "glue_catalog_generation" {
  description = "Owners set the S3 setting GlueCatalogGeneration: give the DMS S3 role the Glue Data Catalog permissions it needs."
  type        = bool
  default     = false
}

variable "glue_database_name" {
  description = "Glue database the crawler (and GlueCatalogGeneration) write tables to."
  type        = string
  default     = "derson_lake"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database_name))
    error_message = "glue_database_name must be lower-case letters, digits and underscores."
  }
}

variable "tags" {
  description = "Tags added to every role."
  type        = map(string)
  default     = {}
}

variable "iceberg_function_name" {
  description = "Name of the DMS-iceberg Lambda function (DMS-Handler's Iceberg step; its ARN and log group are built from it)."
  type        = string
  default     = "DMS-iceberg"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.iceberg_function_name))
    error_message = "iceberg_function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "iceberg_lake_prefixes" {
  description = "Lake folders of the owners that keep Iceberg tables (target.tables: iceberg); empty: no DMS-iceberg role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.iceberg_lake_prefixes : !startswith(p, "/") && !endswith(p, "/") && !strcontains(p, "*")])
    error_message = "iceberg_lake_prefixes are folders without leading or trailing slashes or wildcards."
  }
}

variable "iceberg_namespaces" {
  description = "Glue databases that hold the owners' Iceberg tables (one per target schema)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for n in var.iceberg_namespaces : can(regex("^[a-z0-9_]{1,255}$", n))])
    error_message = "iceberg_namespaces must be Glue database names: 1-255 lower-case letters, digits and underscores."
  }
}
