"""Object names exactly as AWS DMS writes them to S3 (``reference/dms.md`` §3.2, §1.4).

Full load: ``<folder>/<schema>/<table>/LOAD00000001.parquet`` with an 8-digit uppercase hex counter
per table (and per segment); named parallel-load segments get a sub-folder, unnamed ones a
``SEGMENT<k>_`` prefix. CDC: ``<schema>/<table>[/<date partition>]/YYYYMMDD-HHMMSSmmm.<ext>``, named
by time so names sort in write order.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LOAD_NAME = re.compile(r"^(?:SEGMENT(\d+)_)?LOAD([0-9A-F]{8})\.")
CDC_NAME = re.compile(r"^(\d{8}-\d{9})\.")


def table_prefix(schema: str, table: str) -> str:
    """Key prefix of a table's objects, relative to the lake root (BucketFolder)."""
    return f"{schema}/{table}"


def load_key(
    schema: str, table: str, counter: int, extension: str, *, folder: str | None = None, prefix: str = ""
) -> str:
    """``schema/table[/folder]/[prefix]LOADnnnnnnnn.ext``: ``folder`` is a named segment or partition,
    ``prefix`` the ``SEGMENTk_`` of an unnamed range segment."""
    if not 1 <= counter <= 0xFFFFFFFF:
        raise ValueError(f"LOAD counter out of range: {counter}")
    base = table_prefix(schema, table) + (f"/{folder}" if folder else "")
    return f"{base}/{prefix}LOAD{counter:08X}.{extension}"


def cdc_file_stem(when: datetime, tz: str = "UTC") -> str:
    """``YYYYMMDD-HHMMSSmmm`` of ``when`` (an aware datetime) in ``tz`` (DatePartitionTimezone)."""
    local = when.astimezone(ZoneInfo(tz))
    return local.strftime("%Y%m%d-%H%M%S") + f"{local.microsecond // 1000:03d}"


def next_cdc_stem(when: datetime, previous: str | None, tz: str = "UTC") -> str:
    """A CDC file stem strictly greater than ``previous``: bump by 1 ms on a collision (dms.md §7.2)."""
    stem = cdc_file_stem(when, tz)
    while previous is not None and stem <= previous:
        when = when + timedelta(milliseconds=1)
        stem = cdc_file_stem(when, tz)
    return stem


_SEQUENCES = {
    "YYYYMMDD": ("%Y", "%m", "%d"),
    "YYYYMMDDHH": ("%Y", "%m", "%d", "%H"),
    "YYYYMM": ("%Y", "%m"),
    "MMYYYYDD": ("%m", "%Y", "%d"),
    "DDMMYYYY": ("%d", "%m", "%Y"),
}
_DELIMITERS = {"SLASH": "/", "UNDERSCORE": "_", "DASH": "-", "NONE": ""}


def date_partition(commit_time: datetime, sequence: str, delimiter: str, tz: str = "UTC") -> str:
    """The date folder of a CDC file (``DatePartitionSequence`` / ``Delimiter`` / ``Timezone``)."""
    local = commit_time.astimezone(ZoneInfo(tz))
    return _DELIMITERS[delimiter].join(local.strftime(part) for part in _SEQUENCES[sequence])


def cdc_key(schema: str, table: str, stem: str, extension: str, partition: str | None = None) -> str:
    folder = table_prefix(schema, table) + (f"/{partition}" if partition else "")
    return f"{folder}/{stem}.{extension}"
