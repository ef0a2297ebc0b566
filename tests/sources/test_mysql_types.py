"""MySQL -> DMS -> Arrow, table-driven against the real seeded ``shop.type_zoo`` (dms.md §3.4)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from dersonlake.dms_types import DmsType
from dersonlake.sandbox.seed import TYPE_ZOO_COLUMNS
from dersonlake.sources.mysql import arrow_schema, column_arrow_type, discover_catalog, dms_type_for
from dersonlake.sources.mysql.types import UnmappedType, enum_values

D = DmsType
# column -> (DMS type, Arrow type). Every column of shop.type_zoo must be listed (checked below).
TYPE_ZOO_EXPECTED: dict[str, tuple[DmsType, pa.DataType]] = {
    "id": (D("int4"), pa.int32()),
    "c_tinyint": (D("int1"), pa.int8()),
    "c_tinyint_u": (D("uint1"), pa.uint8()),
    "c_smallint": (D("int2"), pa.int16()),
    "c_smallint_u": (D("uint2"), pa.uint16()),
    "c_mediumint": (D("int4"), pa.int32()),
    "c_mediumint_u": (D("uint4"), pa.uint32()),
    "c_int": (D("int4"), pa.int32()),
    "c_int_u": (D("uint4"), pa.uint32()),
    "c_bigint": (D("int8"), pa.int64()),
    "c_bigint_u": (D("uint8"), pa.uint64()),
    "c_decimal": (D("numeric", precision=12, scale=2), pa.decimal128(12, 2)),
    "c_decimal_wide": (D("numeric", precision=38, scale=10), pa.decimal128(38, 10)),
    "c_decimal_int": (D("numeric", precision=10, scale=0), pa.decimal128(10, 0)),
    "c_float": (D("real8"), pa.float64()),
    "c_double": (D("real8"), pa.float64()),
    "c_bit1": (D("boolean"), pa.bool_()),
    "c_bit12": (D("bytes", length=2), pa.binary()),
    "c_bit64": (D("bytes", length=8), pa.binary()),
    "c_char": (D("wstring", length=10), pa.string()),
    "c_varchar": (D("wstring", length=100), pa.string()),
    "c_tinytext": (D("wstring", length=255), pa.string()),
    "c_text": (D("wstring", length=65535), pa.string()),
    "c_mediumtext": (D("nclob"), pa.string()),
    "c_longtext": (D("nclob"), pa.string()),
    "c_binary": (D("bytes", length=4), pa.binary()),
    "c_varbinary": (D("bytes", length=16), pa.binary()),
    "c_tinyblob": (D("bytes", length=255), pa.binary()),
    "c_blob": (D("bytes", length=65535), pa.binary()),
    "c_mediumblob": (D("blob"), pa.binary()),
    "c_longblob": (D("blob"), pa.binary()),
    "c_json": (D("clob"), pa.string()),
    "c_enum": (D("wstring", length=9), pa.string()),  # 'cancelled'
    "c_set": (D("wstring", length=8), pa.string()),  # 'a,bb,ccc'
    "c_date": (D("date"), pa.date32()),
    "c_datetime": (D("datetime"), pa.timestamp("us")),
    "c_datetime6": (D("datetime"), pa.timestamp("us")),
    "c_timestamp": (D("datetime"), pa.timestamp("us")),
    "c_time": (D("string", length=10), pa.string()),  # '-838:59:59'
    "c_time6": (D("string", length=17), pa.string()),  # '-838:59:59.000000'
    "c_year": (D("int2"), pa.int16()),
    "c_point": (D("blob"), pa.binary()),
}


@pytest.fixture(scope="module")
def type_zoo(shop_params):
    return discover_catalog(shop_params).table("shop", "type_zoo")


def test_expectations_cover_every_type_zoo_column(type_zoo) -> None:
    assert (
        list(TYPE_ZOO_EXPECTED)
        == [name for name, _ in TYPE_ZOO_COLUMNS]
        == [c.name for c in type_zoo.columns]
    )


@pytest.mark.parametrize("name", list(TYPE_ZOO_EXPECTED))
def test_type_zoo_column(type_zoo, name: str) -> None:
    column = type_zoo.column(name)
    dms, arrow = TYPE_ZOO_EXPECTED[name]
    assert column.dms_type == dms, column.column_type
    assert column_arrow_type(column) == arrow


def test_lobs_are_the_dms_lob_types(type_zoo) -> None:
    lobs = {c.name for c in type_zoo.columns if c.dms_type.is_lob}
    assert lobs == {"c_mediumtext", "c_longtext", "c_mediumblob", "c_longblob", "c_json", "c_point"}


def test_arrow_schema_keeps_order_and_nullability(type_zoo) -> None:
    schema = arrow_schema(type_zoo)
    assert schema.names == list(TYPE_ZOO_EXPECTED)
    assert not schema.field("id").nullable and schema.field("c_int").nullable
    assert schema.field("c_bigint_u").type == pa.uint64()


@pytest.mark.parametrize(
    ("data_type", "column_type", "kwargs", "expected"),
    [
        ("int", "int(10) unsigned zerofill", {}, D("uint4")),
        ("integer", "integer", {}, D("int4")),
        ("decimal", "decimal(65,30)", {}, D("numeric", precision=65, scale=30)),
        ("decimal", "decimal(10,0)", {"precision": 10, "scale": 0}, D("numeric", precision=10, scale=0)),
        ("json", "json", {}, D("clob")),  # MySQL reports JSON as json
        ("geometry", "geometry", {}, D("blob")),
        ("multipolygon", "multipolygon", {}, D("blob")),
        ("bit", "bit(9)", {}, D("bytes", length=2)),
        ("bit", "bit(8)", {}, D("bytes", length=1)),
        ("binary", "binary(1)", {"char_length": 1}, D("bytes", length=1)),
        ("varchar", "varchar(255)", {"char_length": 255}, D("wstring", length=255)),
        ("enum", "enum('','it''s','x')", {}, D("wstring", length=4)),
        ("set", "set('one')", {}, D("wstring", length=3)),
        ("time", "time(3)", {}, D("string", length=14)),
        ("year", "year(4)", {}, D("int2")),
        ("float", "float(7,3)", {}, D("real8")),
        ("uuid", "uuid", {}, D("wstring", length=36)),
    ],
)
def test_dms_type_for_raw_types(data_type, column_type, kwargs, expected) -> None:
    assert dms_type_for(data_type, column_type, **kwargs) == expected


def test_wide_decimal_gets_decimal256() -> None:
    from dersonlake.dms_types import arrow_type

    assert arrow_type(dms_type_for("decimal", "decimal(65,30)")) == pa.decimal256(65, 30)


def test_enum_values_unquote() -> None:
    assert enum_values("enum('a','it''s','c,d')") == ("a", "it's", "c,d")


def test_unknown_type_is_reported() -> None:
    with pytest.raises(UnmappedType, match="vector"):
        dms_type_for("vector", "vector(3)")


def test_time_text_matches_the_servers_own_text(shop_params) -> None:
    from dersonlake.sources.mysql.connection import connect
    from dersonlake.sources.mysql.types import time_text

    with connect(shop_params, database="shop") as conn, conn.cursor() as cur:
        cur.execute("SELECT c_time, CAST(c_time AS CHAR), c_time6, CAST(c_time6 AS CHAR) FROM type_zoo")
        rows = cur.fetchall()
    for t0, t0_text, t6, t6_text in rows:
        assert time_text(t0, 0) == t0_text
        assert time_text(t6, 6) == t6_text
    assert time_text(dt.timedelta(hours=-1, milliseconds=-250), 3) == "-01:00:00.250"


def test_bit_value_from_every_driver_shape() -> None:
    from dersonlake.sources.mysql.types import bit_value

    assert bit_value(b"\x0f\xff", 12) == bit_value("111111111111", 12) == bit_value(4095, 12) == b"\x0f\xff"
    assert bit_value(b"\x01", 1) is True and bit_value("0", 1) is False and bit_value(None, 1) is None
    assert bit_value("1", 64) == b"\x00" * 7 + b"\x01"


def test_zero_dates_become_null() -> None:
    from dersonlake.sources.mysql.types import zero_date_to_none

    assert zero_date_to_none("0000-00-00") is None and zero_date_to_none("2024-00-10 00:00:00") is None
    assert zero_date_to_none(dt.date(2024, 2, 29)) == dt.date(2024, 2, 29)
