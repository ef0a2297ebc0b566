# One owner's pair of DMS endpoints: the MySQL/MariaDB/Aurora source (credentials from Secrets
# Manager) and the S3 target with the owner's S3Settings. The replication instance and task are
# created per run by the DMS-intake Lambda (or by the dms-instance and dms-task modules).

locals {
  s3 = var.s3_settings

  # Spell the enums the way the provider validates them, whichever spelling the owner used
  # (API: parquet-2-0, sse-s3; docs: PARQUET_2_0, SSE_S3).
  compression_type         = local.s3.compression_type == null ? null : upper(local.s3.compression_type)
  data_format              = local.s3.data_format == null ? null : lower(local.s3.data_format)
  parquet_version          = local.s3.parquet_version == null ? null : replace(lower(local.s3.parquet_version), "_", "-")
  encoding_type            = local.s3.encoding_type == null ? null : replace(lower(local.s3.encoding_type), "_", "-")
  encryption_mode          = local.s3.encryption_mode == null ? null : replace(upper(local.s3.encryption_mode), "-", "_")
  date_partition_sequence  = local.s3.date_partition_sequence == null ? null : upper(local.s3.date_partition_sequence)
  date_partition_delimiter = local.s3.date_partition_delimiter == null ? null : upper(local.s3.date_partition_delimiter)
  canned_acl_for_objects   = local.s3.canned_acl_for_objects == null ? null : replace(lower(local.s3.canned_acl_for_objects), "_", "-")
}

resource "aws_dms_endpoint" "source" {
  endpoint_id   = "${var.name}-source"
  endpoint_type = "source"
  engine_name   = var.source_engine

  # Host, port, username and password stay in Secrets Manager; DMS reads them with this role
  # (the provider does not allow server_name or port beside secrets_manager_arn).
  secrets_manager_arn             = var.secret_arn
  secrets_manager_access_role_arn = var.secrets_access_role_arn

  ssl_mode                    = var.ssl_mode
  certificate_arn             = var.certificate_arn
  extra_connection_attributes = var.extra_connection_attributes
  kms_key_arn                 = var.kms_key_arn

  tags = var.tags
}

resource "aws_dms_s3_endpoint" "target" {
  endpoint_id             = "${var.name}-target"
  endpoint_type           = "target"
  bucket_name             = var.bucket_name
  bucket_folder           = var.bucket_folder == "" ? null : var.bucket_folder
  service_access_role_arn = var.service_access_role_arn
  kms_key_arn             = var.kms_key_arn

  # Format and compression
  data_format                      = local.data_format
  compression_type                 = local.compression_type
  parquet_version                  = local.parquet_version
  encoding_type                    = local.encoding_type
  dict_page_size_limit             = local.s3.dict_page_size_limit
  row_group_length                 = local.s3.row_group_length
  data_page_size                   = local.s3.data_page_size
  enable_statistics                = local.s3.enable_statistics
  parquet_timestamp_in_millisecond = local.s3.parquet_timestamp_in_millisecond

  # The Op column and the timestamp column
  include_op_for_full_load                    = local.s3.include_op_for_full_load
  cdc_inserts_only                            = local.s3.cdc_inserts_only
  cdc_inserts_and_updates                     = local.s3.cdc_inserts_and_updates
  timestamp_column_name                       = local.s3.timestamp_column_name
  use_task_start_time_for_full_load_timestamp = local.s3.use_task_start_time_for_full_load_timestamp

  # File sizes and CDC batching
  max_file_size          = local.s3.max_file_size
  cdc_max_batch_interval = local.s3.cdc_max_batch_interval
  cdc_min_file_size      = local.s3.cdc_min_file_size

  # Partitioning
  date_partition_enabled   = local.s3.date_partition_enabled
  date_partition_sequence  = local.date_partition_sequence
  date_partition_delimiter = local.date_partition_delimiter
  date_partition_timezone  = local.s3.date_partition_timezone
  preserve_transactions    = local.s3.preserve_transactions
  cdc_path                 = local.s3.cdc_path

  # CSV
  csv_delimiter                  = local.s3.csv_delimiter
  csv_row_delimiter              = local.s3.csv_row_delimiter
  csv_null_value                 = local.s3.csv_null_value
  add_column_name                = local.s3.add_column_name
  rfc_4180                       = local.s3.rfc_4180
  add_trailing_padding_character = local.s3.add_trailing_padding_character
  use_csv_no_sup_value           = local.s3.use_csv_no_sup_value
  csv_no_sup_value               = local.s3.csv_no_sup_value

  # Encryption, ownership and the Glue catalog
  encryption_mode                   = local.encryption_mode
  server_side_encryption_kms_key_id = local.s3.server_side_encryption_kms_key_id
  canned_acl_for_objects            = local.canned_acl_for_objects
  expected_bucket_owner             = local.s3.expected_bucket_owner
  glue_catalog_generation           = local.s3.glue_catalog_generation

  tags = var.tags
}
