"""Owner files: the sample owner loads; every malformed owner.yaml gets one precise message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dersonlake.config import list_owners, load_owner
from dersonlake.errors import BadInput

REPO = Path(__file__).resolve().parents[2]
MAPPING = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "a",
                     "object-locator": {"schema-name": "shop", "table-name": "%"}, "rule-action": "include"}]}  # fmt: skip

GOOD = """
source:
  engine: mysql
  host: db.internal
  user: repl
  password_env: SHOP_DB_PASSWORD
  databases: [shop]
target:
  uri: s3://my-lake/raw/mysql
  region: sa-east-1
  s3_settings:
    dataFormat: PARQUET
    parquetVersion: PARQUET_2_0
    CompressionType: GZIP
    cdcMaxBatchInterval: "30"
"""


def write_owner(root: Path, yaml_text: str, mapping: object = MAPPING, name: str = "acme") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "owner.yaml").write_text(yaml_text)
    (folder / "mapping.json").write_text(mapping if isinstance(mapping, str) else json.dumps(mapping))
    return folder


def test_sample_owner_loads_and_points_at_sandbox_and_local_lake():
    owner = load_owner("dersonLake", REPO / "owners")
    assert owner.source.sandbox and owner.source.databases == ("shop",)
    assert not owner.target.is_s3 and owner.target.folder.endswith("/lake")
    assert owner.target.s3.DataFormat == "parquet" and owner.target.s3.extension == "parquet"
    assert "dersonLake" in list_owners(REPO / "owners")


def test_both_spellings_normalize_to_the_api_form(tmp_path):
    write_owner(tmp_path, GOOD)
    owner = load_owner("acme", tmp_path)
    s3 = owner.target.s3
    assert (s3.DataFormat, s3.ParquetVersion, s3.CompressionType) == ("parquet", "parquet-2-0", "gzip")
    assert s3.CdcMaxBatchInterval == 30 and s3.RowGroupLength == 10000  # given, and DMS default
    assert owner.target.bucket == "my-lake" and owner.target.folder == "raw/mysql"
    assert owner.migration_type == "full-load-and-cdc"


def test_password_comes_from_the_environment_and_never_from_repr(tmp_path, monkeypatch):
    write_owner(tmp_path, GOOD)
    monkeypatch.setenv("SHOP_DB_PASSWORD", "s3cr3t-value")
    owner = load_owner("acme", tmp_path)
    assert owner.source.password() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(owner)


def test_unset_password_variable_is_bad_input(tmp_path, monkeypatch):
    write_owner(tmp_path, GOOD)
    monkeypatch.delenv("SHOP_DB_PASSWORD", raising=False)
    with pytest.raises(
        BadInput, match=r"source.password_env: environment variable SHOP_DB_PASSWORD is not set"
    ):
        load_owner("acme", tmp_path).source.password()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("databases: [shop]", "databases: [shop]\n  pasword_env: X"),
         r"owner.yaml: source.pasword_env: unknown key \(got 'pasword_env'\); did you mean 'password_env'\?"),
        (("password_env: SHOP_DB_PASSWORD", "password: hunter2"),
         r"source.password: passwords are never written in owner.yaml. Use password_env"),
        (("engine: mysql", "engine: postgres"),
         r"source.engine: not a supported source engine \(got 'postgres'\); allowed: mysql, mariadb, aurora"),
        (("dataFormat: PARQUET", "dataFormat: PARQET"),
         r"target.s3_settings.dataFormat: not a valid DataFormat \(got 'PARQET'\); did you mean 'parquet'\?"),
        (("dataFormat: PARQUET", "DataFormats: csv"),
         r"target.s3_settings.DataFormats: unknown S3 setting \(got 'DataFormats'\); did you mean 'DataFormat'\?"),
        (('cdcMaxBatchInterval: "30"', "cdcMaxBatchInterval: soon"),
         r"target.s3_settings.cdcMaxBatchInterval: expected an integer \(got 'soon'\)"),
        (('cdcMaxBatchInterval: "30"', "MaxFileSize: 0"),
         r"target.s3_settings.MaxFileSize: MaxFileSize is in KB, from 1 to 1048576 \(got 0\)"),
        (('cdcMaxBatchInterval: "30"', "CdcInsertsOnly: true\n    CdcInsertsAndUpdates: true"),
         r"CdcInsertsOnly and CdcInsertsAndUpdates cannot both be true"),
        (('cdcMaxBatchInterval: "30"', "BucketName: other"),
         r"target.s3_settings.BucketName: BucketName comes from the target URI. Set target.uri"),
        (("uri: s3://my-lake/raw/mysql", "uri: gs://bucket/x"),
         r"target.uri: unsupported lake URI scheme \(got 'gs://bucket/x'\)"),
        (("  host: db.internal\n", ""), r"source.host: required key is missing. Or set sandbox: true"),
        (("source:", "migration_type: cdc-only\nsource:"),
         r"migration_type: not a valid migration type \(got 'cdc-only'\); allowed: full-load, cdc, full-load-and-cdc"),
        (("  region: sa-east-1", "  region: [sa-east-1"), r"owner.yaml: not valid YAML: .* at line \d+, column \d+"),
        (("  region: sa-east-1", "  region: sa-east-1\n  keys: [id]"),
         r"target.keys: target.keys must be a mapping of schema.table to a list of key columns"),
        (("  region: sa-east-1", "  region: sa-east-1\n  keys: {orders: [id]}"),
         r"target.keys.orders: a key needs its table as schema.table \(the names in the lake\)"),
        (("  region: sa-east-1", "  region: sa-east-1\n  keys: {shop.orders: id}"),
         r"target.keys.shop.orders: a table's key is a list of column names"),
        (("  region: sa-east-1", "  region: sa-east-1\n  column_types: {shop.orders.at: timestamp}"),
         r"target.column_types.shop.orders.at: not a column type \(got 'timestamp'\); .*timestamptz, wkb"),
        (("  region: sa-east-1", "  region: sa-east-1\n  column_types: {orders.at: wkb}"),
         r"target.column_types.orders.at: a column type needs its column as schema.table.column"),
    ],
)  # fmt: skip
def test_malformed_owner_yaml_names_file_path_value_and_fix(tmp_path, change, expected):
    old, new = change
    assert old in GOOD  # a replacement that does not apply must not pass silently
    write_owner(tmp_path, GOOD.replace(old, new))
    with pytest.raises(BadInput, match=expected) as info:
        load_owner("acme", tmp_path)
    assert info.value.exit_code == 2
    assert "acme/owner.yaml" in str(info.value)


def test_keys_and_column_types_for_the_iceberg_step_on_aws(tmp_path):
    extra = "\n  keys: {shop.orders: [id], shop.log: []}\n  column_types: {shop.orders.at: timestamptz}"
    write_owner(tmp_path, GOOD.replace("  region: sa-east-1", "  region: sa-east-1" + extra))
    target = load_owner("acme", tmp_path).target
    assert target.keys == {"shop.orders": ("id",), "shop.log": ()}
    assert target.column_types == {"shop.orders.at": "timestamptz"}


def test_mapping_json_syntax_error_names_line_and_column(tmp_path):
    write_owner(tmp_path, GOOD, mapping='{"rules": [\n  {"rule-type": "selection",}\n]}')
    with pytest.raises(BadInput, match=r"mapping.json: not valid JSON: .* at line 2, column 29"):
        load_owner("acme", tmp_path)


def test_unknown_owner_lists_the_known_ones(tmp_path):
    write_owner(tmp_path, GOOD, name="acme")
    with pytest.raises(BadInput, match=r"unknown owner 'acm'.*did you mean 'acme'\?"):
        load_owner("acm", tmp_path)


def test_packaged_s3_settings_model_equals_botocores():
    """The shipped S3Settings shape is botocore's; regenerate with `python -m dersonlake.config.s3_settings`."""
    from dersonlake.config.s3_settings import MODEL_FILE, extract_model

    assert json.loads(MODEL_FILE.read_text())["members"] == extract_model()["members"]
