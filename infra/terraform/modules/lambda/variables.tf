variable "function_name" {
  description = "Name of the Lambda function (the seed's DMS-intake)."
  type        = string
  default     = "DMS-intake"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = "Derson Lake DMS-intake: creates, starts, watches and deletes DMS instances and tasks for an owner."
}

variable "package_type" {
  description = "Zip (zip_path, handler, runtime) or Image (image_uri: a container image in ECR whose CMD is the handler)."
  type        = string
  default     = "Zip"

  validation {
    condition     = contains(["Zip", "Image"], var.package_type)
    error_message = "package_type must be Zip or Image."
  }
}

variable "zip_path" {
  description = "With package_type Zip: path of the deployment package (a zip with the dersonlake package and its dependencies, built by `make lambda-zip`)."
  type        = string
  default     = null

  validation {
    condition     = var.zip_path == null || (endswith(coalesce(var.zip_path, "-"), ".zip") && fileexists(coalesce(var.zip_path, "-")))
    error_message = "zip_path must name an existing .zip file; build the package first (make lambda-zip)."
  }
}

variable "image_uri" {
  description = "With package_type Image: the image in ECR, <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest> (make iceberg-image builds it)."
  type        = string
  default     = null

  validation {
    condition     = var.image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", coalesce(var.image_uri, "-")))
    error_message = "image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (or @sha256:<digest>)."
  }
}

variable "image_command" {
  description = "With package_type Image: the command (the handler, e.g. [\"package.module.function\"]) overriding the image's CMD; [] keeps the CMD."
  type        = list(string)
  default     = []
}

variable "handler" {
  description = "Handler of the function, module path and function name."
  type        = string
  default     = "dersonlake.intake.lambda_function.lambda_handler"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "handler must look like package.module.function."
  }
}

variable "runtime" {
  description = "Python runtime of the function."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13 (the package needs Python 3.11+; 3.12 is the tested runtime)."
  }
}

variable "architecture" {
  description = "Instruction set of the function: x86_64 or arm64 (the zip's native wheels must match)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "role_arn" {
  description = "ARN of the execution role (the iam-role module's lambda_role_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN."
  }
}

variable "timeout" {
  description = "Timeout of one invocation in seconds (each step is a few DMS API calls)."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be an integer between 1 and 900 seconds."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be an integer between 128 and 10240 MB."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 for none (the account's unreserved pool)."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 or a non-negative integer."
  }
}

variable "environment" {
  description = "Environment variables of the function (no secrets: those stay in Secrets Manager)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(jsonencode(var.environment)) <= 4096
    error_message = "environment must fit in Lambda's 4 KB limit."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "log_format" {
  description = "Log format of the function: Text or JSON."
  type        = string
  default     = "JSON"

  validation {
    condition     = contains(["Text", "JSON"], var.log_format)
    error_message = "log_format must be Text or JSON."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: PassThrough or Active (Active also needs xray permissions on the role)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "subnet_ids" {
  description = "Subnets to run the function in (it only calls AWS APIs, so none by default)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the function when subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to the function and its log group."
  type        = map(string)
  default     = {}
}
