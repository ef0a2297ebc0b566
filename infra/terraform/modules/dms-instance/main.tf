# The replication subnet group (always: the DMS-intake Lambda creates its per-run instances in it)
# and, optionally, a standing replication instance. A standing instance bills every hour whether or
# not a task runs (reference/dms.md section 6); the default is the Lambda's create-run-delete cycle.
#
# AWS creates a replication subnet group only when the account has the IAM role "dms-vpc-role"
# (the iam-role module makes it): callers add depends_on on that role.

resource "aws_dms_replication_subnet_group" "this" {
  replication_subnet_group_id          = var.name
  replication_subnet_group_description = "Derson Lake replication subnet group ${var.name}"
  subnet_ids                           = var.subnet_ids
  tags                                 = var.tags
}

resource "aws_dms_replication_instance" "this" {
  count = var.create_instance ? 1 : 0

  replication_instance_id     = var.name
  replication_instance_class  = var.instance_class
  allocated_storage           = var.allocated_storage
  engine_version              = var.engine_version
  multi_az                    = var.multi_az
  availability_zone           = var.multi_az ? null : var.availability_zone
  publicly_accessible         = var.publicly_accessible
  replication_subnet_group_id = aws_dms_replication_subnet_group.this.id
  vpc_security_group_ids      = var.vpc_security_group_ids
  kms_key_arn                 = var.kms_key_arn
  network_type                = var.network_type

  auto_minor_version_upgrade   = var.auto_minor_version_upgrade
  preferred_maintenance_window = var.preferred_maintenance_window
  apply_immediately            = true

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !(var.multi_az && var.availability_zone != null)
      error_message = "availability_zone must be null for a Multi-AZ instance."
    }
  }
}
