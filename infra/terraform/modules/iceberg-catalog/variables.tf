variable "namespaces" {
  description = "Glue database name => the owners whose Iceberg tables it holds (exactly one each)."
  type        = map(list(string))

  validation {
    condition     = alltrue([for n, _ in var.namespaces : can(regex("^[a-z0-9_]{1,255}$", n))])
    error_message = "namespace names must be Glue database names: 1-255 lower-case letters, digits and underscores (a target schema with upper-case letters needs a rename rule to lower case)."
  }
}

variable "tags" {
  description = "Tags added to every database."
  type        = map(string)
  default     = {}
}
