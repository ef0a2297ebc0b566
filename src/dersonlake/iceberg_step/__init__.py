"""The DMS-iceberg Lambda: DMS-Handler's ``update_iceberg_tables`` step (docs/iceberg.md, "On AWS").

What other layers use: nothing; the pipelines call ``lambda_function.lambda_handler`` (AWS Lambda's
container image, or ``derson-lake serve``, which registers it as ``DMS-iceberg``).
"""

__all__: list[str] = []
