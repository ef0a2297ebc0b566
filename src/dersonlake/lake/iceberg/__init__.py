"""Current-state Apache Iceberg (v2) tables beside the DMS files: one per source table.

``CurrentStateTable`` applies a full load and batches of changes (merge-on-read: data files plus
position-delete files written here, pyiceberg having no delete-file writer), ``catalog`` says which
catalog holds them. Read them with any Iceberg reader; ``docs/iceberg.md`` tells how.
"""

from dersonlake.lake.iceberg.catalog import catalog_properties, configured, index_dir, open_catalog, publish
from dersonlake.lake.iceberg.table import PREFIX, CurrentStateTable, TableSpec
from dersonlake.lake.iceberg.types import UTC_TIMESTAMP, WKB, UnsupportedColumn

__all__ = [
    "PREFIX",
    "UTC_TIMESTAMP",
    "WKB",
    "CurrentStateTable",
    "TableSpec",
    "UnsupportedColumn",
    "catalog_properties",
    "configured",
    "index_dir",
    "open_catalog",
    "publish",
]
