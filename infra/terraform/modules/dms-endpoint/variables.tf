variable "name" {
  description = "Endpoint identifier prefix; the endpoints are <name>-source and <name>-target."
  type        = string

  validation {
    # DMS: letters, digits and hyphens; starts with a letter; no trailing or double hyphen; <= 255.
    condition     = can(regex("^[A-Za-z](-?[A-Za-z0-9])*$", var.name)) && length(var.name) <= 248
    error_message = "name must start with a letter, contain only letters, digits and single hyphens, not end with a hyphen, and be at most 248 characters."
  }
}

variable "source_engine" {
  description = "Source engine: mysql, mariadb or aurora (Aurora MySQL)."
  type        = string
  default     = "mysql"

  validation {
    condition     = contains(["mysql", "mariadb", "aurora"], var.source_engine)
    error_message = "source_engine must be mysql, mariadb or aurora."
  }
}

variable "secret_arn" {
  description = "ARN of the Secrets Manager secret with the source connection: JSON with host, port, username and password (the form DMS reads; the host as the replication instance reaches it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.secret_arn))
    error_message = "secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "secrets_access_role_arn" {
  description = "ARN of the IAM role DMS assumes to read secret_arn (the iam-role module's dms_secrets_role_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.secrets_access_role_arn))
    error_message = "secrets_access_role_arn must be an IAM role ARN."
  }
}

variable "ssl_mode" {
  description = "SSL mode of the source connection: none, require, verify-ca or verify-full (the last two need certificate_arn)."
  type        = string
  default     = "require"

  validation {
    condition     = contains(["none", "require", "verify-ca", "verify-full"], var.ssl_mode)
    error_message = "ssl_mode must be none, require, verify-ca or verify-full."
  }
}

variable "certificate_arn" {
  description = "ARN of a DMS certificate (the source's CA) for ssl_mode verify-ca or verify-full; null otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:cert:.+$", var.certificate_arn))
    error_message = "certificate_arn must be a DMS certificate ARN (arn:aws:dms:<region>:<account>:cert:<id>)."
  }
}

variable "extra_connection_attributes" {
  description = "Extra connection attributes of the MySQL source, e.g. \"eventsPollInterval=5;serverTimezone=UTC\" (reference/dms.md section 4.1)."
  type        = string
  default     = ""
}

variable "bucket_name" {
  description = "Lake bucket the S3 target endpoint writes to."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "bucket_folder" {
  description = "Folder inside the bucket (no leading or trailing slash); objects go to <bucket_folder>/<schema>/<table>/. Empty for the bucket root."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.bucket_folder, "/") && !endswith(var.bucket_folder, "/")
    error_message = "bucket_folder must not start or end with a slash."
  }
}

variable "service_access_role_arn" {
  description = "ARN of the IAM role DMS assumes to write to the lake (the iam-role module's dms_s3_role_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.service_access_role_arn))
    error_message = "service_access_role_arn must be an IAM role ARN."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN that encrypts the endpoints' connection parameters; null for the DMS default key."
  type        = string
  default     = null
}

variable "s3_settings" {
  description = <<-EOT
    DMS S3 target settings (reference/dms.md section 3.1) in the provider's snake_case names, e.g.
    { data_format = "parquet", parquet_version = "parquet-2-0", include_op_for_full_load = true }.
    Unset attributes keep DMS's defaults. scripts/terraform_owners.py writes these from the owner's
    owner.yaml (target.s3_settings) into infra/terraform/owners/<owner>.json.
  EOT
  type = object({
    data_format                                 = optional(string)
    compression_type                            = optional(string)
    parquet_version                             = optional(string)
    encoding_type                               = optional(string)
    dict_page_size_limit                        = optional(number)
    row_group_length                            = optional(number)
    data_page_size                              = optional(number)
    enable_statistics                           = optional(bool)
    parquet_timestamp_in_millisecond            = optional(bool)
    include_op_for_full_load                    = optional(bool)
    cdc_inserts_only                            = optional(bool)
    cdc_inserts_and_updates                     = optional(bool)
    timestamp_column_name                       = optional(string)
    use_task_start_time_for_full_load_timestamp = optional(bool)
    max_file_size                               = optional(number)
    cdc_max_batch_interval                      = optional(number)
    cdc_min_file_size                           = optional(number)
    date_partition_enabled                      = optional(bool)
    date_partition_sequence                     = optional(string)
    date_partition_delimiter                    = optional(string)
    date_partition_timezone                     = optional(string)
    preserve_transactions                       = optional(bool)
    cdc_path                                    = optional(string)
    csv_delimiter                               = optional(string)
    csv_row_delimiter                           = optional(string)
    csv_null_value                              = optional(string)
    add_column_name                             = optional(bool)
    rfc_4180                                    = optional(bool)
    add_trailing_padding_character              = optional(bool)
    use_csv_no_sup_value                        = optional(bool)
    csv_no_sup_value                            = optional(string)
    encryption_mode                             = optional(string)
    server_side_encryption_kms_key_id           = optional(string)
    canned_acl_for_objects                      = optional(string)
    expected_bucket_owner                       = optional(string)
    glue_catalog_generation                     = optional(bool)
  })
  default = {}

  validation {
    condition     = var.s3_settings.data_format == null || contains(["csv", "parquet"], lower(coalesce(var.s3_settings.data_format, "csv")))
    error_message = "s3_settings.data_format must be csv or parquet."
  }
  validation {
    condition     = var.s3_settings.compression_type == null || contains(["none", "gzip"], lower(coalesce(var.s3_settings.compression_type, "none")))
    error_message = "s3_settings.compression_type must be NONE or GZIP."
  }
  validation {
    condition     = var.s3_settings.parquet_version == null || contains(["parquet-1-0", "parquet-2-0"], replace(lower(coalesce(var.s3_settings.parquet_version, "parquet-1-0")), "_", "-"))
    error_message = "s3_settings.parquet_version must be parquet-1-0 or parquet-2-0."
  }
  validation {
    condition     = var.s3_settings.encoding_type == null || contains(["plain", "plain-dictionary", "rle-dictionary"], replace(lower(coalesce(var.s3_settings.encoding_type, "plain")), "_", "-"))
    error_message = "s3_settings.encoding_type must be plain, plain-dictionary or rle-dictionary."
  }
  validation {
    condition     = var.s3_settings.encryption_mode == null || contains(["sse-s3", "sse-kms"], replace(lower(coalesce(var.s3_settings.encryption_mode, "sse-s3")), "_", "-"))
    error_message = "s3_settings.encryption_mode must be SSE_S3 or SSE_KMS."
  }
  validation {
    condition     = var.s3_settings.date_partition_sequence == null || contains(["YYYYMMDD", "YYYYMMDDHH", "YYYYMM", "MMYYYYDD", "DDMMYYYY"], upper(coalesce(var.s3_settings.date_partition_sequence, "YYYYMMDD")))
    error_message = "s3_settings.date_partition_sequence must be YYYYMMDD, YYYYMMDDHH, YYYYMM, MMYYYYDD or DDMMYYYY."
  }
  validation {
    condition     = var.s3_settings.date_partition_delimiter == null || contains(["SLASH", "UNDERSCORE", "DASH", "NONE"], upper(coalesce(var.s3_settings.date_partition_delimiter, "SLASH")))
    error_message = "s3_settings.date_partition_delimiter must be SLASH, UNDERSCORE, DASH or NONE."
  }
  validation {
    condition     = var.s3_settings.max_file_size == null || (coalesce(var.s3_settings.max_file_size, 1) >= 1 && coalesce(var.s3_settings.max_file_size, 1) <= 1048576)
    error_message = "s3_settings.max_file_size is in KB and must be between 1 and 1048576 (1 GB)."
  }
  validation {
    condition     = !(coalesce(var.s3_settings.cdc_inserts_only, false) && coalesce(var.s3_settings.cdc_inserts_and_updates, false))
    error_message = "s3_settings.cdc_inserts_only and cdc_inserts_and_updates are mutually exclusive."
  }
  validation {
    condition     = !coalesce(var.s3_settings.preserve_transactions, false) || (var.s3_settings.cdc_path != null && var.s3_settings.cdc_path != "")
    error_message = "s3_settings.preserve_transactions needs cdc_path."
  }
}

variable "tags" {
  description = "Tags added to both endpoints."
  type        = map(string)
  default     = {}
}
