# A Derson Lake Lambda: DMS-intake (a zip: the dersonlake package, Python 3.12) or DMS-iceberg (a
# container image: pyarrow and pyiceberg exceed the 250 MB unzipped limit of a zip), with its own log
# group and a retention (created first, so Lambda does not create one that keeps logs forever).

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  description   = var.description
  role          = var.role_arn

  package_type     = var.package_type
  filename         = var.package_type == "Zip" ? var.zip_path : null
  source_code_hash = var.package_type == "Zip" ? filebase64sha256(var.zip_path) : null
  handler          = var.package_type == "Zip" ? var.handler : null
  runtime          = var.package_type == "Zip" ? var.runtime : null
  image_uri        = var.package_type == "Image" ? var.image_uri : null
  architectures    = [var.architecture]

  # An image's handler, as its CMD: explicit, so a rebuilt image with another CMD still runs this one.
  dynamic "image_config" {
    for_each = var.package_type == "Image" && length(var.image_command) > 0 ? [1] : []
    content {
      command = var.image_command
    }
  }

  timeout                        = var.timeout
  memory_size                    = var.memory_size
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = var.environment
  }

  logging_config {
    log_format = var.log_format
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.package_type == "Zip" ? var.zip_path != null : var.image_uri != null
      error_message = "package_type Zip needs zip_path (make lambda-zip); package_type Image needs image_uri (make iceberg-image, pushed to ECR)."
    }
  }
}
