terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # exact: the deployment plans with the provider it was tested with (tests/infra, the local
      # mirror's 5.100.0) until `make tf-lock` (network) commits .terraform.lock.hcl for every
      # platform; the modules keep a range so they can be reused under another root
      version = "5.100.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ "derson-lake" = var.name_prefix }, var.tags)
  }
}
