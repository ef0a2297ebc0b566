"""Object names as DMS writes them (dms.md §3.2, §1.4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dersonlake.lake import layout


@pytest.mark.parametrize(
    ("counter", "ext", "folder", "prefix", "expected"),
    [
        (1, "parquet", None, "", "shop/orders/LOAD00000001.parquet"),
        (10, "csv", None, "", "shop/orders/LOAD0000000A.csv"),
        (16, "csv.gz", None, "", "shop/orders/LOAD00000010.csv.gz"),
        (255, "csv", "s1", "", "shop/orders/s1/LOAD000000FF.csv"),
        (2, "csv", None, "SEGMENT3_", "shop/orders/SEGMENT3_LOAD00000002.csv"),
    ],
)
def test_load_keys_use_uppercase_hex_counter_and_segment_forms(counter, ext, folder, prefix, expected):
    assert layout.load_key("shop", "orders", counter, ext, folder=folder, prefix=prefix) == expected


def test_cdc_names_are_millisecond_stamps_strictly_increasing():
    t = datetime(2022, 10, 23, 1, 38, 30, 913_456, tzinfo=UTC)
    assert layout.cdc_file_stem(t) == "20221023-013830913"
    assert layout.next_cdc_stem(t, "20221023-013830913") == "20221023-013830914"
    assert layout.next_cdc_stem(t, "20221023-013830999") == "20221023-013831000"
    assert layout.cdc_file_stem(t, "America/Sao_Paulo") == "20221022-223830913"


@pytest.mark.parametrize(
    ("sequence", "delimiter", "expected"),
    [
        ("YYYYMMDD", "SLASH", "2024/05/17"),
        ("YYYYMMDD", "DASH", "2024-05-17"),
        ("YYYYMMDD", "NONE", "20240517"),
        ("YYYYMMDDHH", "UNDERSCORE", "2024_05_17_23"),
        ("YYYYMM", "SLASH", "2024/05"),
        ("MMYYYYDD", "SLASH", "05/2024/17"),
        ("DDMMYYYY", "DASH", "17-05-2024"),
    ],
)
def test_date_partition_folders(sequence, delimiter, expected):
    t = datetime(2024, 5, 17, 23, 5, tzinfo=UTC)
    assert layout.date_partition(t, sequence, delimiter) == expected


def test_date_partition_uses_the_configured_timezone():
    t = datetime(2024, 5, 17, 1, 0, tzinfo=UTC)
    assert layout.date_partition(t, "YYYYMMDD", "SLASH", "America/Sao_Paulo") == "2024/05/16"
