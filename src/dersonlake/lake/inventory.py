"""What is in the lake: per table, its LOAD and CDC files, bytes, rows and last change.

Row counts come from Parquet footers (no data read) or from parsing CSV (quoted line breaks are
handled, so the count is exact). This is what ``derson-lake lake tables`` and the demo print.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dersonlake.lake import layout
from dersonlake.lake.storage import Storage, StoredObject


@dataclass
class TableFiles:
    schema: str
    table: str
    load_files: list[StoredObject] = field(default_factory=list)
    cdc_files: list[StoredObject] = field(default_factory=list)

    @property
    def files(self) -> list[StoredObject]:
        return self.load_files + self.cdc_files

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def last_file(self) -> str | None:
        """The newest CDC file if any, else the last LOAD file (names sort in write order)."""
        if self.cdc_files:
            return max(self.cdc_files, key=lambda f: f.key.rsplit("/", 1)[1]).key
        return self.load_files[-1].key if self.load_files else None


def list_tables(storage: Storage, prefix: str = "") -> list[TableFiles]:
    """Group the lake's objects by ``schema/table`` (segment and date-partition folders included)."""
    tables: dict[tuple[str, str], TableFiles] = {}
    for obj in storage.list(prefix):
        parts = obj.key.split("/")
        if len(parts) < 3:
            continue
        name = parts[-1]
        kind = "load" if layout.LOAD_NAME.match(name) else "cdc" if layout.CDC_NAME.match(name) else None
        if kind is None:  # not a data file (e.g. the intake's _derson-lake/checkpoints/<owner>.json)
            continue
        entry = tables.setdefault((parts[0], parts[1]), TableFiles(parts[0], parts[1]))
        (entry.load_files if kind == "load" else entry.cdc_files).append(obj)
    for entry in tables.values():
        entry.cdc_files.sort(key=lambda f: f.key.rsplit("/", 1)[1])
    return sorted(tables.values(), key=lambda t: (t.schema, t.table))


def count_rows(storage: Storage, obj: StoredObject, *, csv_header: bool = False, delimiter: str = ",") -> int:
    data = storage.read_bytes(obj.key)
    if obj.key.endswith(".parquet"):
        return pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
    if obj.key.endswith(".gz"):
        data = gzip.decompress(data)
    if not data:
        return 0
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(autogenerate_column_names=not csv_header, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=delimiter[:1], newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    return table.num_rows
