"""lake layer: the DMS-shaped files in a lake (local directory or S3) and the Iceberg tables beside them.

What other layers use (tests may reach inside; other layers may not):

* ``Storage`` / ``StoredObject`` / ``open_storage``: the lake's object store (staged writes, atomic
  commits), local or S3.
* ``layout``: where DMS puts full-load and CDC files (``table_prefix``, ``load_key``, ``CDC_NAME``).
* ``dms_columns``: the columns DMS adds to each file (``LOAD`` / ``CDC`` schemas, ``decorate``).
* ``ObjectWriter`` / ``CommittedFile``: full-load files written and committed one by one;
  ``CdcTableWriter``: a table's CDC files, rolled over like DMS.
* ``list_tables`` / ``count_rows`` / ``read_object``: what the lake holds, read back.
* ``FSP_KEY`` / ``csv_bytes`` / ``csv_header``: the file formats as ``lake`` shows them.
* ``open_catalog`` / ``catalog_properties`` / ``configured`` / ``index_dir`` / ``publish`` /
  ``CONFIG_KEY`` / ``CurrentStateTable`` / ``TableSpec`` / ``UTC_TIMESTAMP`` / ``WKB``: the
  current-state Iceberg tables and their catalog.

Allowed surface submodule: ``dersonlake.lake.current_state`` (its function ``current_state`` shares
the module's name, so a lazy re-export here would be shadowed by the submodule once imported).

Only ``storage`` and ``layout`` load with the package: the rest imports pyarrow or pyiceberg, so it
is loaded on first use (PEP 562 ``__getattr__`` over ``_LAZY``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dersonlake.lake import layout
from dersonlake.lake.storage import Storage, StoredObject, open_storage
from dersonlake.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from dersonlake.lake import dms_columns
    from dersonlake.lake.cdc_writer import CdcTableWriter
    from dersonlake.lake.formats import FSP_KEY, csv_bytes, csv_header
    from dersonlake.lake.iceberg import (
        UTC_TIMESTAMP,
        WKB,
        CurrentStateTable,
        TableSpec,
        catalog_properties,
        configured,
        index_dir,
        open_catalog,
        publish,
    )
    from dersonlake.lake.iceberg.catalog import CONFIG_KEY
    from dersonlake.lake.inventory import count_rows, list_tables
    from dersonlake.lake.reader import read_object
    from dersonlake.lake.writer import CommittedFile, ObjectWriter

_LAZY = {
    "dms_columns": "dersonlake.lake.dms_columns",
    "CdcTableWriter": "dersonlake.lake.cdc_writer",
    "FSP_KEY": "dersonlake.lake.formats",
    "csv_bytes": "dersonlake.lake.formats",
    "csv_header": "dersonlake.lake.formats",
    "UTC_TIMESTAMP": "dersonlake.lake.iceberg",
    "WKB": "dersonlake.lake.iceberg",
    "CurrentStateTable": "dersonlake.lake.iceberg",
    "TableSpec": "dersonlake.lake.iceberg",
    "catalog_properties": "dersonlake.lake.iceberg",
    "configured": "dersonlake.lake.iceberg",
    "index_dir": "dersonlake.lake.iceberg",
    "open_catalog": "dersonlake.lake.iceberg",
    "publish": "dersonlake.lake.iceberg",
    "CONFIG_KEY": "dersonlake.lake.iceberg.catalog",
    "count_rows": "dersonlake.lake.inventory",
    "list_tables": "dersonlake.lake.inventory",
    "read_object": "dersonlake.lake.reader",
    "CommittedFile": "dersonlake.lake.writer",
    "ObjectWriter": "dersonlake.lake.writer",
}

__all__ = [
    "CONFIG_KEY",
    "FSP_KEY",
    "UTC_TIMESTAMP",
    "WKB",
    "CdcTableWriter",
    "CommittedFile",
    "CurrentStateTable",
    "ObjectWriter",
    "Storage",
    "StoredObject",
    "TableSpec",
    "catalog_properties",
    "configured",
    "count_rows",
    "csv_bytes",
    "csv_header",
    "dms_columns",
    "index_dir",
    "layout",
    "list_tables",
    "open_catalog",
    "open_storage",
    "publish",
    "read_object",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
