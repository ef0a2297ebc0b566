"""``derson-lake lake catalog|compact|show`` on an owner with ``target.tables: iceberg``, as a user
runs them (the CLI spawned as ``python -m dersonlake``), and the owner.yaml errors."""

from __future__ import annotations

import json

from pyiceberg.catalog import load_catalog

from dersonlake.config import load_owner
from tests.cli.test_load_cli import cli
from tests.replication.conftest import write_owner

ITEMS = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "c",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "customers"},
        }
    ]
}


def test_catalog_show_and_compact_from_the_command_line(sandbox, admin, tmp_path):
    write_owner(tmp_path, sandbox, mapping=ITEMS, target={"tables": "iceberg"})
    loaded = cli(tmp_path, "load", "acme")
    assert loaded.returncode == 0, loaded.stderr
    printed = cli(tmp_path, "lake", "catalog", "acme")
    assert printed.returncode == 0, printed.stderr
    props = json.loads(printed.stdout)
    assert props["type"] == "sql" and props["warehouse"].startswith(f"file://{tmp_path / 'lake'}")
    table = load_catalog("derson", **props).load_table("shop.customers")
    with admin.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM shop.customers")
        (count,) = cur.fetchone()
    assert table.scan().to_arrow().num_rows == count

    shown = cli(tmp_path, "lake", "show", "acme", "shop.customers", "--limit", "1")
    assert shown.returncode == 0, shown.stderr
    assert f"({count:,} rows, 1 shown)" in shown.stdout

    compacted = cli(tmp_path, "lake", "compact", "acme", "shop.customers")
    assert compacted.returncode == 0, compacted.stderr
    assert "shop.customers" in compacted.stdout and f"{count:,} rows rewritten" in compacted.stdout
    table = load_catalog("derson", **props).load_table("shop.customers")
    assert table.scan().to_arrow().num_rows == count and len(table.snapshots()) == 1


def test_commands_on_an_owner_without_iceberg_tables_say_how_to_opt_in(sandbox, tmp_path):
    write_owner(tmp_path, sandbox, mapping=ITEMS)
    for command in ("catalog", "compact"):
        out = cli(tmp_path, "lake", command, "acme")
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert "owner acme keeps no Iceberg tables" in out.stderr and "target.tables" in out.stderr


def test_owner_yaml_errors_name_the_key_and_the_fix(sandbox, tmp_path):
    write_owner(tmp_path, sandbox, target={"tables": "delta"})
    out = cli(tmp_path, "owners", "check", "acme")
    assert out.returncode == 2 and "target.tables" in out.stderr and "iceberg" in out.stderr
    write_owner(tmp_path, sandbox, uri="s3://bucket/lake", target={"tables": "iceberg"})
    out = cli(tmp_path, "owners", "check", "acme")
    assert out.returncode == 2 and "target.catalog" in out.stderr and "glue" in out.stderr
    write_owner(tmp_path, sandbox, uri="s3://bucket/lake", target={"tables": "iceberg", "catalog": "glue"})
    owner = load_owner("acme", tmp_path / "owners")
    assert (owner.target.tables, owner.target.catalog) == ("iceberg", "glue")
