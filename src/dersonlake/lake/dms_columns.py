"""The columns DMS puts before the data: ``Op`` and ``TimestampColumnName`` (dms.md §3.3).

Which of them a file gets depends on the phase and on the settings matrix; column order is
``[Op], [timestamp], source columns, added columns``. Keeping the matrix in one place means full
load and CDC cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from dersonlake.config import S3Settings

LOAD = "load"
CDC = "cdc"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # yyyy-MM-dd HH:mm:ss.SSSSSS


def has_op(settings: S3Settings, phase: str) -> bool:
    """Whether files of ``phase`` carry the Op column.

    Full load: only with IncludeOpForFullLoad. CDC: always, except with CdcInsertsOnly or
    CdcInsertsAndUpdates, where it follows IncludeOpForFullLoad (the docs' prose; dms.md §7.3).
    """
    if phase == LOAD:
        return bool(settings.IncludeOpForFullLoad)
    if settings.CdcInsertsOnly or settings.CdcInsertsAndUpdates:
        return bool(settings.IncludeOpForFullLoad)
    return True


def cdc_operations(settings: S3Settings) -> frozenset[str]:
    """Which change operations CDC files keep."""
    if settings.CdcInsertsOnly:
        return frozenset("I")
    if settings.CdcInsertsAndUpdates:
        return frozenset("IU")
    return frozenset("IUD")


def file_schema(data: pa.Schema, settings: S3Settings, phase: str) -> pa.Schema:
    """The schema of the files of one table: the DMS columns, then ``data``."""
    fields = []
    if has_op(settings, phase):
        fields.append(pa.field("Op", pa.string()))
    if settings.TimestampColumnName:
        fields.append(pa.field(settings.TimestampColumnName, pa.string()))
    return pa.schema(fields + list(data))


def decorate(
    batch: pa.RecordBatch,
    settings: S3Settings,
    phase: str,
    *,
    ops: pa.Array | str = "I",
    timestamps: pa.Array | datetime | None = None,
) -> pa.RecordBatch:
    """``batch`` with the DMS columns in front. ``ops`` and ``timestamps`` are per-row arrays
    (CDC) or one value for the batch (full load: ``I`` and the transfer or task-start time)."""
    n = batch.num_rows
    arrays: list[pa.Array] = []
    if has_op(settings, phase):
        arrays.append(ops if isinstance(ops, pa.Array) else pa.array([ops] * n, pa.string()))
    if settings.TimestampColumnName:
        if isinstance(timestamps, pa.Array):
            arrays.append(timestamps)
        else:
            value = (timestamps or datetime.now()).strftime(TIMESTAMP_FORMAT)
            arrays.append(pa.array([value] * n, pa.string()))
    schema = file_schema(batch.schema, settings, phase)
    return pa.RecordBatch.from_arrays(arrays + list(batch.columns), schema=schema)
