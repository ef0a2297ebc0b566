"""MySQL/MariaDB source: connection parameters, catalog discovery, type mapping, preflight."""

from __future__ import annotations

from dersonlake.sources.mysql.catalog import discover_catalog, read_catalog
from dersonlake.sources.mysql.connection import ConnectionParams, connect
from dersonlake.sources.mysql.preflight import Finding, preflight, require_ready
from dersonlake.sources.mysql.types import arrow_schema, column_arrow_type, dms_type_for

__all__ = [
    "ConnectionParams",
    "Finding",
    "arrow_schema",
    "column_arrow_type",
    "connect",
    "discover_catalog",
    "dms_type_for",
    "preflight",
    "read_catalog",
    "require_ready",
]
