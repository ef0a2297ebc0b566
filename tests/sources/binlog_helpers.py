"""Helpers of the binlog tests: the ``cdc_t`` tables and a ``Cdc`` handle on the session sandbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dersonlake.sandbox import Sandbox
from dersonlake.sources.catalog import Table
from dersonlake.sources.mysql import discover_catalog
from dersonlake.sources.mysql.binlog import BinlogPosition, BinlogReader, Transaction, current_position
from dersonlake.sources.mysql.connection import ConnectionParams

SCHEMA = "cdc_t"
TABLES = {
    "items": "id INT NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT NULL",
    "notes": "id INT NOT NULL PRIMARY KEY, body MEDIUMTEXT NULL",
    "ignored": "id INT NOT NULL PRIMARY KEY",
}


@dataclass
class Cdc:
    """The session sandbox seen by a binlog test: run SQL as root, read back as the replica user."""

    sandbox: Sandbox
    params: ConnectionParams

    def sql(self, *statements: str) -> None:
        """Each statement on its own (autocommit, UTC, permissive sql_mode)."""
        with self.sandbox.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
            for statement in statements:
                cur.execute(statement)

    def txn(self, *statements: str, rollback: bool = False) -> None:
        """The statements as one transaction (committed unless ``rollback``)."""
        self.sql("BEGIN", *statements, "ROLLBACK" if rollback else "COMMIT")

    def position(self) -> BinlogPosition:
        return current_position(self.params)

    def table(self, name: str) -> Table:
        table = discover_catalog(self.params, [SCHEMA]).table(SCHEMA, name)
        assert table is not None, name
        return table

    def read(
        self,
        start: BinlogPosition,
        tables: Sequence[str] = ("items", "notes"),
        stop: BinlogPosition | None = None,
    ) -> list[Transaction]:
        reader = BinlogReader(self.params, [(SCHEMA, t) for t in tables], start, stop=stop)
        return list(reader.transactions())
