# --- Where -------------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "sa-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as sa-east-1."
  }
}

variable "account_id" {
  description = "AWS account id; null asks STS (aws_caller_identity). Setting it skips that one lookup; a plan still needs AWS credentials (see `make plan-offline` for a plan without AWS)."
  type        = string
  default     = null

  validation {
    condition     = var.account_id == null || can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits or null."
  }
}

variable "name_prefix" {
  description = "Prefix of the names of roles, topic, subnet group, endpoints; also the value of the derson-lake tag."
  type        = string
  default     = "derson-lake"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,23}$", var.name_prefix))
    error_message = "name_prefix must start with a lower-case letter and have at most 24 lower-case letters, digits and hyphens."
  }
}

variable "tags" {
  description = "Tags added to every resource (beside derson-lake = name_prefix)."
  type        = map(string)
  default     = {}
}

# --- Owners ------------------------------------------------------------------------------------

variable "owners" {
  description = <<-EOT
    The owners to deploy, by name. Each needs owners/<name>.json (written from owners/<name>/ by
    `make tf-owners`) for the mappings, settings and S3 settings, plus what only AWS knows:
    source.secret_arn (a Secrets Manager secret with host, port, username and password, the host
    as the replication instance reaches it), optionally ssl_mode, certificate_arn and
    extra_connection_attributes, and bucket_folder (default: the owner's s3:// folder, else
    dms/<name>).
  EOT
  type = map(object({
    source = object({
      secret_arn                  = string
      ssl_mode                    = optional(string, "require")
      certificate_arn             = optional(string)
      extra_connection_attributes = optional(string, "")
    })
    bucket_folder = optional(string)
  }))

  validation {
    condition     = length(var.owners) > 0 && alltrue([for k, _ in var.owners : can(regex("^[A-Za-z][A-Za-z0-9_-]{0,62}$", k))])
    error_message = "owners needs at least one owner; names start with a letter and have at most 63 letters, digits, hyphens and underscores."
  }
}

variable "owners_dir" {
  description = "Folder of the owners/<name>.json files; null for infra/terraform/owners."
  type        = string
  default     = null
}

# --- The lake ----------------------------------------------------------------------------------

variable "lake_bucket_name" {
  description = "Bucket of the lake."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.lake_bucket_name))
    error_message = "lake_bucket_name must be a valid S3 bucket name."
  }
}

variable "create_lake_bucket" {
  description = "Create the lake bucket (private, encrypted). False when it exists already."
  type        = bool
  default     = false
}

variable "lake_kms_key_arn" {
  description = "KMS key of an SSE-KMS lake bucket (DMS gets GenerateDataKey/Decrypt on it); null for SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.lake_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.lake_kms_key_arn))
    error_message = "lake_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "lake_bucket_versioning" {
  description = "With create_lake_bucket: keep earlier versions of overwritten and deleted objects (non-current versions expire after 30 days)."
  type        = bool
  default     = false
}

# --- Network and replication instances ---------------------------------------------------------

variable "subnet_ids" {
  description = "Private subnets (two or more Availability Zones) for the replication subnet group."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two subnets in two Availability Zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the replication instances (egress to the sources and to S3)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.security_group_ids : can(regex("^sg-[0-9a-f]{8}([0-9a-f]{9})?$", g))])
    error_message = "security_group_ids must be security group ids such as sg-0123456789abcdef0."
  }
}

variable "replication_instance_class" {
  description = "Class of the replication instances (per run, or the standing one)."
  type        = string
  default     = "dms.t3.medium"

  validation {
    condition     = can(regex("^dms\\.[a-z][a-z0-9]*\\.[a-z0-9]+$", var.replication_instance_class))
    error_message = "replication_instance_class must look like dms.t3.medium."
  }
}

variable "replication_allocated_storage" {
  description = "Storage of the replication instances in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.replication_allocated_storage >= 5 && var.replication_allocated_storage <= 6144
    error_message = "replication_allocated_storage must be between 5 and 6144 GiB."
  }
}

variable "replication_engine_version" {
  description = "DMS engine version of the replication instances; null for the default."
  type        = string
  default     = null
}

variable "replication_multi_az" {
  description = "Multi-AZ replication instances (doubles the instance cost)."
  type        = bool
  default     = false
}

variable "replication_publicly_accessible" {
  description = "Public IPs for the replication instances (off: reach the sources through the VPC)."
  type        = bool
  default     = false
}

variable "standing_replication" {
  description = "Also create a standing replication instance and one replication task per owner with Terraform (billed every hour). False (default): the DMS-intake Lambda creates and deletes them per run."
  type        = bool
  default     = false
}

variable "create_dms_service_roles" {
  description = "Create dms-vpc-role and dms-cloudwatch-logs-role (one per account; false when they exist)."
  type        = bool
  default     = true
}

# --- Lambda ------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Deployment package of the DMS-intake Lambda (make lambda-zip)."
  type        = string
  default     = "../../build/dms-intake.zip"
}

variable "lambda_function_name" {
  description = "Name of the DMS-intake Lambda."
  type        = string
  default     = "DMS-intake"
}

variable "lambda_timeout" {
  description = "Timeout of one DMS-intake invocation in seconds."
  type        = number
  default     = 120
}

variable "lambda_memory_size" {
  description = "Memory of the DMS-intake Lambda in MB."
  type        = number
  default     = 512
}

# --- Iceberg tables (owners with target.tables: iceberg; docs/iceberg.md, "On AWS") -------------

variable "iceberg_image_uri" {
  description = "The DMS-iceberg container image in ECR (make iceberg-image, then push it); required when an owner keeps Iceberg tables, ignored otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.iceberg_image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", coalesce(var.iceberg_image_uri, "-")))
    error_message = "iceberg_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (or @sha256:<digest>)."
  }
}

variable "iceberg_function_name" {
  description = "Name of the DMS-iceberg Lambda (DMS-Handler's Iceberg step)."
  type        = string
  default     = "DMS-iceberg"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.iceberg_function_name))
    error_message = "iceberg_function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "iceberg_timeout" {
  description = "Timeout of one DMS-iceberg invocation in seconds (Lambda's maximum, 900, by default: a full load's replace reads every LOAD file)."
  type        = number
  default     = 900

  validation {
    condition     = var.iceberg_timeout >= 60 && var.iceberg_timeout <= 900 && floor(var.iceberg_timeout) == var.iceberg_timeout
    error_message = "iceberg_timeout must be an integer between 60 and 900 seconds."
  }
}

variable "iceberg_memory_size" {
  description = "Memory of the DMS-iceberg Lambda in MB (CPU grows with it; a batch's changes are held in memory)."
  type        = number
  default     = 3008

  validation {
    condition     = var.iceberg_memory_size >= 512 && var.iceberg_memory_size <= 10240 && floor(var.iceberg_memory_size) == var.iceberg_memory_size
    error_message = "iceberg_memory_size must be an integer between 512 and 10240 MB."
  }
}

variable "lambda_secret_arn" {
  description = "The one secret the Lambda may read (e.g. source credentials for pre-checks); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.lambda_secret_arn))
    error_message = "lambda_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or null."
  }
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys that encrypt the owners' source secrets: DMS gets kms:Decrypt on them (through Secrets Manager only). Empty for the AWS-managed key."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.secrets_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "secrets_kms_key_arns must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "lambda_owners_dir" {
  description = "Where the Lambda finds owners/<owner>/ inside its package (DERSON_OWNERS_DIR)."
  type        = string
  default     = "/var/task/owners"
}

# --- Pipelines and notifications ---------------------------------------------------------------

variable "state_machine_prefix" {
  description = "Prefix of the state machine names; empty for derson-Main, DMS-Handler, DMS-ErrorHandling."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{0,40}$", var.state_machine_prefix))
    error_message = "state_machine_prefix must be at most 40 letters, digits, hyphens or underscores."
  }
}

variable "pipeline_log_level" {
  description = "Execution logging level of the state machines: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.pipeline_log_level)
    error_message = "pipeline_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "pipeline_tracing" {
  description = "X-Ray tracing of the state machines."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the Lambda's and the state machines' log groups in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "error_topic_kms_key_arn" {
  description = "KMS key that encrypts the error topic (SNS server-side encryption); the Step Functions role gets kms:GenerateDataKey and kms:Decrypt on it. null: unencrypted."
  type        = string
  default     = null

  validation {
    condition     = var.error_topic_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.error_topic_kms_key_arn))
    error_message = "error_topic_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "error_email" {
  description = "E-mail address subscribed to the error topic (confirm the subscription e-mail); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.error_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.error_email))
    error_message = "error_email must be an e-mail address or null."
  }
}

# --- Glue --------------------------------------------------------------------------------------

variable "create_glue_role" {
  description = "Create a role for a Glue crawler over the lake folders."
  type        = bool
  default     = false
}

variable "glue_database_name" {
  description = "Glue database the crawler writes to."
  type        = string
  default     = "derson_lake"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database_name))
    error_message = "glue_database_name must be 1-255 lower-case letters, digits and underscores."
  }
}

# --- Schedules and alarms (schedules.tf) -------------------------------------------------------

variable "create_schedules" {
  description = "Create an EventBridge Scheduler schedule for each owner whose owner.yaml has schedule:."
  type        = bool
  default     = true
}

variable "create_alarms" {
  description = "Create the CloudWatch alarms and the DMS task-failure rule (to the error topic)."
  type        = bool
  default     = true
}

variable "alarm_period_seconds" {
  description = "Period of the failure alarms (derson-Main executions, the Lambda's errors and throttles)."
  type        = number
  default     = 300
}
