# Derson Lake on AWS: the owners' DMS endpoints, the roles, the DMS-intake Lambda, the three state
# machines and the error topic. By default no replication instance exists between runs: the
# DMS-Handler pipeline has the Lambda create one, run the owner's task, and delete both.

data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

data "aws_partition" "current" {}

locals {
  account_id = coalesce(var.account_id, one(data.aws_caller_identity.current[*].account_id))
  partition  = data.aws_partition.current.partition
  region     = var.aws_region
  owners_dir = coalesce(var.owners_dir, "${path.module}/owners")

  # owners/<name>.json: the merged task settings, table mappings and S3 settings of each owner.
  owner_files = { for name, _ in var.owners : name => jsondecode(file("${local.owners_dir}/${name}.json")) }

  owners = {
    for name, cfg in var.owners : name => {
      engine         = local.owner_files[name].engine
      migration_type = local.owner_files[name].migration_type
      table_mappings = local.owner_files[name].table_mappings
      task_settings  = local.owner_files[name].task_settings
      s3_settings    = local.owner_files[name].s3_settings
      bucket_folder  = coalesce(cfg.bucket_folder, local.owner_files[name].bucket_folder, "dms/${name}")
      source         = cfg.source
    }
  }

  subnet_group_id     = "${var.name_prefix}-replication"
  error_topic_name    = "${var.name_prefix}-errors"
  error_topic_arn     = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.error_topic_name}"
  intake_function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.lambda_function_name}"
  # s3://<bucket>/<folder> of each owner's target endpoint: its lake, where its checkpoint lives.
  lakes = { for name, o in local.owners : name => "s3://${var.lake_bucket_name}/${o.bucket_folder}" }
  # The tag DMS-intake puts on what it creates (dersonlake.intake.dms.OWNER_TAG); the IAM policy
  # lets the Lambda control only DMS resources with it, Terraform's standing tasks included.
  owner_tag = "derson-lake:owner"

  glue_catalog_enabled = anytrue([for o in local.owners : try(o.s3_settings.glue_catalog_generation, false)])

  # Owners with target.tables: iceberg (owners/<name>.json "iceberg"): the DMS-iceberg Lambda brings
  # their Iceberg tables up to each run's files; Glue databases for the namespaces of those whose
  # catalog is Glue (each database belongs to one owner: the module refuses a shared one).
  iceberg_owners = { for name, f in local.owner_files : name => f.iceberg if try(f.iceberg, null) != null }
  iceberg_namespaces = {
    for pair in flatten([
      for name, i in local.iceberg_owners : [for ns in i.namespaces : { ns = ns, owner = name }] if i.catalog == "glue"
    ]) : pair.ns => pair.owner...
  }
  # Without Iceberg owners the step calls DMS-intake, which answers it at once (no image to build).
  iceberg_function_arn = (
    length(local.iceberg_owners) > 0
    ? "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.iceberg_function_name}"
    : local.intake_function_arn
  )
}

# --- The lake bucket (optional) ----------------------------------------------------------------

module "lake_bucket" {
  source = "./modules/lake-bucket"
  count  = var.create_lake_bucket ? 1 : 0

  name        = var.lake_bucket_name
  partition   = local.partition
  kms_key_arn = var.lake_kms_key_arn
  versioning  = var.lake_bucket_versioning
}

# The bucket's resources lived in this file before the lake-bucket module: keep them in the state.
moved {
  from = aws_s3_bucket.lake[0]
  to   = module.lake_bucket[0].aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_public_access_block.lake[0]
  to   = module.lake_bucket[0].aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.lake[0]
  to   = module.lake_bucket[0].aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.lake[0]
  to   = module.lake_bucket[0].aws_s3_bucket_server_side_encryption_configuration.this
}

# --- Roles -------------------------------------------------------------------------------------

module "iam" {
  source = "./modules/iam-role"

  name_prefix              = var.name_prefix
  account_id               = local.account_id
  region                   = local.region
  partition                = local.partition
  create_dms_service_roles = var.create_dms_service_roles

  lake_bucket_name  = var.lake_bucket_name
  lake_prefixes     = distinct([for o in local.owners : o.bucket_folder])
  lake_kms_key_arns = var.lake_kms_key_arn == null ? [] : [var.lake_kms_key_arn]

  source_secret_arns   = distinct([for o in local.owners : o.source.secret_arn])
  secrets_kms_key_arns = var.secrets_kms_key_arns
  dms_endpoint_arns = flatten([
    for m in module.endpoints : [m.source_endpoint_arn, m.target_endpoint_arn]
  ])
  replication_subnet_group_id = local.subnet_group_id
  owner_names                 = keys(local.owners)

  lambda_function_name    = var.lambda_function_name
  lambda_secret_arn       = var.lambda_secret_arn
  state_machine_prefix    = var.state_machine_prefix
  error_topic_arn         = local.error_topic_arn
  error_topic_kms_key_arn = var.error_topic_kms_key_arn

  glue_catalog_generation = local.glue_catalog_enabled
  create_glue_role        = var.create_glue_role
  glue_database_name      = var.glue_database_name

  iceberg_function_name = var.iceberg_function_name
  iceberg_lake_prefixes = distinct([for name, _ in local.iceberg_owners : local.owners[name].bucket_folder])
  iceberg_namespaces    = keys(local.iceberg_namespaces)
}

# --- DMS ---------------------------------------------------------------------------------------

module "endpoints" {
  source   = "./modules/dms-endpoint"
  for_each = local.owners

  name          = "${var.name_prefix}-${lower(replace(each.key, "_", "-"))}"
  source_engine = each.value.engine

  secret_arn                  = each.value.source.secret_arn
  secrets_access_role_arn     = module.iam.dms_secrets_role_arn
  ssl_mode                    = each.value.source.ssl_mode
  certificate_arn             = each.value.source.certificate_arn
  extra_connection_attributes = each.value.source.extra_connection_attributes

  bucket_name             = var.lake_bucket_name
  bucket_folder           = each.value.bucket_folder
  service_access_role_arn = module.iam.dms_s3_role_arn
  s3_settings             = each.value.s3_settings

  tags = { (local.owner_tag) = each.key }
}

module "replication" {
  source = "./modules/dms-instance"

  name                   = local.subnet_group_id
  create_instance        = var.standing_replication
  subnet_ids             = var.subnet_ids
  vpc_security_group_ids = var.security_group_ids
  instance_class         = var.replication_instance_class
  allocated_storage      = var.replication_allocated_storage
  engine_version         = var.replication_engine_version
  multi_az               = var.replication_multi_az
  publicly_accessible    = var.replication_publicly_accessible

  # AWS creates a replication subnet group only once dms-vpc-role exists.
  depends_on = [module.iam.dms_service_roles_ready]
}

module "tasks" {
  source   = "./modules/dms-task"
  for_each = var.standing_replication ? local.owners : {}

  task_id                  = "${var.name_prefix}-${lower(replace(each.key, "_", "-"))}"
  migration_type           = each.value.migration_type
  replication_instance_arn = module.replication.replication_instance_arn
  source_endpoint_arn      = module.endpoints[each.key].source_endpoint_arn
  target_endpoint_arn      = module.endpoints[each.key].target_endpoint_arn
  table_mappings           = jsonencode(each.value.table_mappings)
  # The fully merged document (owners/<name>.json), so DMS's read-back matches: no drift.
  task_settings = jsonencode(each.value.task_settings)

  tags = { (local.owner_tag) = each.key }
}

# --- Errors: the topic DMS-ErrorHandling publishes to ------------------------------------------

resource "aws_sns_topic" "errors" {
  name              = local.error_topic_name
  kms_master_key_id = var.error_topic_kms_key_arn
}

resource "aws_sns_topic_subscription" "error_email" {
  count     = var.error_email == null ? 0 : 1
  topic_arn = aws_sns_topic.errors.arn
  protocol  = "email"
  endpoint  = var.error_email
}

# --- The DMS-intake Lambda ---------------------------------------------------------------------

module "intake" {
  source = "./modules/lambda"

  function_name      = var.lambda_function_name
  zip_path           = var.lambda_zip_path
  role_arn           = module.iam.lambda_role_arn
  timeout            = var.lambda_timeout
  memory_size        = var.lambda_memory_size
  log_retention_days = var.log_retention_days

  # The contract with dersonlake.intake (docs/aws.md, "The Lambda's environment").
  environment = {
    DERSON_OWNERS_DIR                      = var.lambda_owners_dir
    DERSON_RESOURCE_PREFIX                 = var.name_prefix
    DERSON_REPLICATION_SUBNET_GROUP        = module.replication.subnet_group_id
    DERSON_REPLICATION_SECURITY_GROUPS     = join(",", var.security_group_ids)
    DERSON_REPLICATION_INSTANCE_CLASS      = var.replication_instance_class
    DERSON_REPLICATION_ALLOCATED_STORAGE   = tostring(var.replication_allocated_storage)
    DERSON_REPLICATION_ENGINE_VERSION      = coalesce(var.replication_engine_version, "default")
    DERSON_REPLICATION_MULTI_AZ            = tostring(var.replication_multi_az)
    DERSON_REPLICATION_PUBLICLY_ACCESSIBLE = tostring(var.replication_publicly_accessible)
    DERSON_STANDING_REPLICATION            = tostring(var.standing_replication)
    DERSON_ENDPOINTS = jsonencode({
      for name, m in module.endpoints : name => { source = m.source_endpoint_arn, target = m.target_endpoint_arn }
    })
    # Where each owner's target endpoint writes (the same bucket and folder as module.endpoints and
    # the IAM policy's lake prefixes): the Lambda keeps the CDC checkpoint there (docs/aws.md).
    DERSON_LAKES = jsonencode({ for name, o in local.owners : name => local.lakes[name] })
  }
}

# --- Iceberg tables: the Glue databases and the DMS-iceberg Lambda (docs/iceberg.md) ------------

module "iceberg_catalog" {
  source = "./modules/iceberg-catalog"
  count  = length(local.iceberg_namespaces) > 0 ? 1 : 0

  namespaces = local.iceberg_namespaces
}

module "iceberg" {
  source = "./modules/lambda"
  count  = length(local.iceberg_owners) > 0 ? 1 : 0

  function_name      = var.iceberg_function_name
  description        = "Derson Lake DMS-iceberg: applies an owner's new DMS files to its Iceberg tables after each run."
  package_type       = "Image"
  image_uri          = var.iceberg_image_uri
  image_command      = ["dersonlake.iceberg_step.lambda_function.lambda_handler"]
  role_arn           = module.iam.iceberg_role_arn
  timeout            = var.iceberg_timeout
  memory_size        = var.iceberg_memory_size
  log_retention_days = var.log_retention_days

  # The contract with dersonlake.iceberg_step (docs/iceberg.md, "On AWS").
  environment = {
    DERSON_OWNERS_DIR = var.lambda_owners_dir
    # the lakes of the owners with Iceberg tables, as DMS-intake gets them (DERSON_LAKES)
    DERSON_LAKES = jsonencode({ for name, _ in local.iceberg_owners : name => local.lakes[name] })
    # the key indexes (a cache, rebuilt when missing) live in the function's /tmp
    DERSON_HOME = "/tmp/derson-lake"
  }
}

# --- The pipelines -----------------------------------------------------------------------------

module "pipeline_error_handling" {
  source = "./pipelines/DMS-ErrorHandling"

  region               = local.region
  account_id           = local.account_id
  state_machine_prefix = var.state_machine_prefix
  intake_function_arn  = local.intake_function_arn
  error_topic_arn      = aws_sns_topic.errors.arn
  role_arn             = module.iam.states_role_arn
  log_level            = var.pipeline_log_level
  log_retention_days   = var.log_retention_days
  tracing_enabled      = var.pipeline_tracing
}

module "pipeline_handler" {
  source = "./pipelines/DMS-Handler"

  region               = local.region
  account_id           = local.account_id
  state_machine_prefix = var.state_machine_prefix
  intake_function_arn  = module.intake.function_arn
  iceberg_function_arn = length(module.iceberg) > 0 ? module.iceberg[0].function_arn : local.iceberg_function_arn
  error_topic_arn      = aws_sns_topic.errors.arn
  role_arn             = module.iam.states_role_arn
  log_level            = var.pipeline_log_level
  log_retention_days   = var.log_retention_days
  tracing_enabled      = var.pipeline_tracing

  depends_on = [module.pipeline_error_handling]
}

module "pipeline_main" {
  source = "./pipelines/derson-Main"

  region               = local.region
  account_id           = local.account_id
  state_machine_prefix = var.state_machine_prefix
  intake_function_arn  = module.intake.function_arn
  error_topic_arn      = aws_sns_topic.errors.arn
  role_arn             = module.iam.states_role_arn
  log_level            = var.pipeline_log_level
  log_retention_days   = var.log_retention_days
  tracing_enabled      = var.pipeline_tracing

  depends_on = [module.pipeline_handler]
}
