"""Reading the lake back: LOAD and CDC objects into Arrow tables.

Parquet files carry their schema. CSV files (as DMS writes them) do not, so reading one needs the
table's schema: the values are parsed back by type (hex for binary, ``1``/``0`` for booleans,
``CsvNullValue`` for NULL, ``""`` for an empty string).
"""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dersonlake.config import S3Settings
from dersonlake.lake.storage import Storage


def read_object(storage: Storage, key: str, s3: S3Settings, schema: pa.Schema | None = None) -> pa.Table:
    """One lake object as a table; ``schema`` (the file's columns) is required for CSV."""
    data = storage.read_bytes(key)
    if key.endswith(".parquet"):
        return pq.read_table(pa.BufferReader(data))
    if schema is None:
        raise ValueError(f"reading the CSV object {key} needs the table's schema")
    return parse_csv(gzip.decompress(data) if key.endswith(".gz") else data, schema, s3)


def parse_csv(data: bytes, schema: pa.Schema, s3: S3Settings) -> pa.Table:
    if len(s3.CsvDelimiter) != 1 or s3.CsvRowDelimiter not in ("\n", "\r\n"):
        raise ValueError(
            "reading back CSV supports one-character delimiters and \\n or \\r\\n row delimiters"
        )
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(
            column_names=None if s3.AddColumnName else schema.names,
            skip_rows=0,
            use_threads=False,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=s3.CsvDelimiter, newlines_in_values=True, quote_char='"' if s3.Rfc4180 else False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: pa.string() for f in schema},
            null_values=[s3.CsvNullValue],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return pa.table([_from_text(table.column(f.name), f.type) for f in schema], schema=schema)


def _from_text(column: pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    values = column.combine_chunks()
    if pa.types.is_string(target):
        return values
    if pa.types.is_boolean(target):
        return pc.equal(values, "1")
    if pa.types.is_binary(target):
        return pa.array([None if v is None else bytes.fromhex(v) for v in values.to_pylist()], target)
    return values.cast(target)


def read_files(
    storage: Storage, keys: list[str], s3: S3Settings, schema: pa.Schema | None = None
) -> pa.Table:
    """Several objects of one table, concatenated in the order given."""
    tables = [read_object(storage, k, s3, schema) for k in keys]
    if not tables:
        return (schema or pa.schema([])).empty_table()
    return pa.concat_tables(tables, promote_options="permissive")
