"""CSV and Parquet as DMS writes them: quoting, NULLs, datetimes, Op column, Parquet knobs."""

from __future__ import annotations

import gzip
from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.lake import dms_columns
from dersonlake.lake.formats import FSP_KEY, csv_bytes, open_file

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32()),
        pa.field("name", pa.string()),
        pa.field("amount", pa.decimal128(12, 2)),
        pa.field("created", pa.timestamp("us"), metadata={FSP_KEY: b"0"}),
        pa.field("precise", pa.timestamp("us"), metadata={FSP_KEY: b"6"}),
        pa.field("flag", pa.bool_()),
        pa.field("raw", pa.binary()),
        pa.field("day", pa.date32()),
    ]
)
ROWS = {
    "id": [1, 2, 3],
    "name": ["plain", 'say "hi", ok', None],
    "amount": [Decimal("12.30"), Decimal("-0.05"), None],
    "created": [datetime(2024, 1, 2, 3, 4, 5), None, datetime(2024, 1, 2, 3, 4, 6)],
    "precise": [datetime(2024, 1, 2, 3, 4, 5, 123456), None, None],
    "flag": [True, False, None],
    "raw": [b"\x00\xff", None, b""],
    "day": [datetime(2024, 2, 29).date(), None, None],
}


def batch():
    return pa.RecordBatch.from_pydict(ROWS, schema=SCHEMA)


def test_csv_defaults_quote_only_when_needed_and_write_null_as_empty():
    text = csv_bytes(batch(), normalize_s3_settings({})).decode()
    assert text.splitlines() == [
        "1,plain,12.30,2024-01-02 03:04:05,2024-01-02 03:04:05.123456,1,00FF,2024-02-29",
        '2,"say ""hi"", ok",-0.05,,,0,,',
        '3,,,2024-01-02 03:04:06,,,"",',  # NULLs are empty fields; the empty binary is ""
    ]


def test_csv_empty_string_is_quoted_so_it_differs_from_null():
    b = pa.RecordBatch.from_pydict({"s": ["", None, "x"]})
    assert csv_bytes(b, normalize_s3_settings({})).decode() == '""\n\nx\n'
    assert csv_bytes(b, normalize_s3_settings({"CsvNullValue": "NULL"})).decode() == "\nNULL\nx\n"


def test_csv_options_delimiter_row_delimiter_null_value_and_no_rfc4180():
    s = normalize_s3_settings(
        {"CsvDelimiter": "|", "CsvRowDelimiter": "\r\n", "CsvNullValue": "NULL", "Rfc4180": False}
    )
    text = csv_bytes(batch(), s).decode()
    assert text.split("\r\n")[1] == '2|say "hi", ok|-0.05|NULL|NULL|0|NULL|NULL'
    assert text.endswith("\r\n")


def test_csv_header_in_every_file_and_gzip(tmp_path):
    s = normalize_s3_settings({"AddColumnName": True, "CompressionType": "GZIP"})
    path = tmp_path / "f.csv.gz"
    f = open_file(path, SCHEMA, s)
    f.write(batch())
    f.close()
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert lines[0] == "id,name,amount,created,precise,flag,raw,day"
    assert len(lines) == 4


def test_parquet_knobs_version_compression_row_groups_statistics_millis(tmp_path):
    s = normalize_s3_settings(
        {
            "DataFormat": "parquet",
            "ParquetVersion": "PARQUET_2_0",
            "CompressionType": "gzip",
            "RowGroupLength": 2,
            "EnableStatistics": False,
            "ParquetTimestampInMillisecond": True,
        }
    )
    path = tmp_path / "f.parquet"
    f = open_file(path, SCHEMA, s)
    f.write(batch())
    f.write(batch())
    f.close()
    meta = pq.ParquetFile(path).metadata
    assert meta.format_version == "2.6"
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2, 2, 2]
    assert meta.row_group(0).column(0).compression == "GZIP"
    assert not meta.row_group(0).column(0).is_stats_set
    table = pq.read_table(path)
    assert table.schema.field("precise").type == pa.timestamp("ms")
    assert table.column("amount").type == pa.decimal128(12, 2)
    assert table.column("amount").to_pylist()[:2] == [Decimal("12.30"), Decimal("-0.05")]


def test_parquet_defaults_are_uncompressed_version_1(tmp_path):
    s = normalize_s3_settings({"DataFormat": "parquet"})
    path = tmp_path / "f.parquet"
    f = open_file(path, SCHEMA, s)
    f.write(batch())
    f.close()
    meta = pq.ParquetFile(path).metadata
    assert meta.format_version == "1.0"
    assert meta.row_group(0).column(0).compression == "UNCOMPRESSED"
    assert pq.read_table(path).schema.field("precise").type == pa.timestamp("us")


@pytest.mark.parametrize(
    ("settings", "load_op", "cdc_op", "cdc_ops"),
    [
        ({}, False, True, "IUD"),
        ({"IncludeOpForFullLoad": True}, True, True, "IUD"),
        ({"CdcInsertsOnly": True}, False, False, "I"),
        ({"CdcInsertsOnly": True, "IncludeOpForFullLoad": True}, True, True, "I"),
        ({"CdcInsertsAndUpdates": True}, False, False, "IU"),
        ({"CdcInsertsAndUpdates": True, "IncludeOpForFullLoad": True}, True, True, "IU"),
    ],
)
def test_op_column_matrix(settings, load_op, cdc_op, cdc_ops):
    s = normalize_s3_settings(settings)
    assert dms_columns.has_op(s, dms_columns.LOAD) is load_op
    assert dms_columns.has_op(s, dms_columns.CDC) is cdc_op
    assert dms_columns.cdc_operations(s) == frozenset(cdc_ops)


def test_decorate_puts_op_then_timestamp_then_data():
    s = normalize_s3_settings({"IncludeOpForFullLoad": True, "TimestampColumnName": "ts"})
    out = dms_columns.decorate(batch(), s, dms_columns.LOAD, timestamps=datetime(2024, 1, 1, 0, 0, 0, 5))
    assert out.schema.names[:3] == ["Op", "ts", "id"]
    assert out.column(0).to_pylist() == ["I", "I", "I"]
    assert out.column(1).to_pylist()[0] == "2024-01-01 00:00:00.000005"


def test_dictionary_only_for_columns_whose_values_repeat(tmp_path):
    from dersonlake.lake.formats import dictionary_columns

    n = 1000
    sample = pa.RecordBatch.from_pydict(
        {
            "id": list(range(n)),
            "status": ["paid", "new"] * (n // 2),
            "hash": [f"{i:032x}" for i in range(n)],
            "flag": [True] * n,
        }
    )
    assert dictionary_columns(sample) == ["status", "flag"]
    path = tmp_path / "f.parquet"
    f = open_file(path, sample.schema, normalize_s3_settings({"DataFormat": "parquet"}))
    f.write(sample)
    f.close()
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(4)}
    assert "RLE_DICTIONARY" in encodings["status"] or "PLAIN_DICTIONARY" in encodings["status"]
    assert not any("DICTIONARY" in e for e in encodings["hash"])
    assert pq.read_table(path).equals(pa.Table.from_batches([sample]))


def test_empty_parquet_file_is_still_valid(tmp_path):
    path = tmp_path / "f.parquet"
    f = open_file(path, SCHEMA, normalize_s3_settings({"DataFormat": "parquet"}))
    f.close()
    assert pq.read_table(path).num_rows == 0
