"""``derson-lake lake show --format csv`` writes what the lake's own CSV files hold (DMS's encoding:
binary as uppercase hex, the owner's quoting and NULLs), whole or not at all (issue 17, item 7:
binary columns crashed with ``ArrowInvalid: Invalid UTF8 payload`` and left a partial file)."""

from __future__ import annotations

from tests.cli.test_load_cli import cli
from tests.replication.conftest import write_owner

ZOO = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "z",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "type_zoo"},
        }
    ]
}


def test_show_csv_of_binary_columns_equals_the_lakes_csv_file(sandbox, tmp_path):
    write_owner(tmp_path, sandbox, mapping=ZOO, s3={"DataFormat": "csv", "AddColumnName": True})
    loaded = cli(tmp_path, "load", "acme")
    assert loaded.returncode == 0, loaded.stderr
    (load_file,) = (tmp_path / "lake" / "shop" / "type_zoo").glob("LOAD*.csv")
    out = tmp_path / "zoo.csv"
    shown = cli(tmp_path, "lake", "show", "acme", "shop.type_zoo", "--format", "csv", "--out", str(out))
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr
    lake_lines = load_file.read_bytes().splitlines()
    shown_lines = out.read_bytes().splitlines()
    assert shown_lines[0] == lake_lines[0]  # the same header
    assert sorted(shown_lines[1:]) == sorted(lake_lines[1:])  # the same rows, byte for byte
    assert b"FFFFFFFF" in out.read_bytes()  # BINARY(4) 0xFFFFFFFF as DMS writes it
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".zoo.csv")] == []

    to_stdout = cli(tmp_path, "lake", "show", "acme", "shop.type_zoo", "--format", "csv")
    assert to_stdout.returncode == 0 and to_stdout.stdout.encode().splitlines() == shown_lines


def test_show_csv_into_a_missing_folder_is_exit_2_and_writes_nothing(sandbox, tmp_path):
    write_owner(tmp_path, sandbox, mapping=ZOO, s3={"DataFormat": "parquet"})
    assert cli(tmp_path, "load", "acme").returncode == 0
    out = tmp_path / "nowhere" / "zoo.csv"
    shown = cli(tmp_path, "lake", "show", "acme", "shop.type_zoo", "--format", "csv", "--out", str(out))
    assert shown.returncode == 2 and "--out" in shown.stderr and "Traceback" not in shown.stderr
    assert not (tmp_path / "nowhere").exists()
