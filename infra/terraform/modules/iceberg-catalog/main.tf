# One Glue database per Iceberg namespace (= target schema) of the owners that keep Iceberg tables.

resource "aws_glue_catalog_database" "this" {
  for_each = var.namespaces

  name        = each.key
  description = "Derson Lake current-state Iceberg tables of owner ${join(", ", each.value)} (docs/iceberg.md)"
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = length(each.value) == 1
      error_message = "Glue database ${each.key} would hold the Iceberg tables of owners ${join(" and ", each.value)}: two owners cannot share a target schema in one catalog (rename one owner's schema with a mapping rule)."
    }
  }
}
