"""The lake page's Iceberg columns: per table, the current-state table's row count, the source's row
count beside it, and the binlog position the current snapshot covers.

Counting a table means reading its files' footers and delete files (``DataScan.count``); a snapshot
never changes, so a count is remembered by (catalog URI, table, snapshot id) and a live page that
refreshes every few seconds reads a table again only after a commit. The source's counts are a
``SELECT COUNT(*)`` per table, exact (``information_schema``'s estimate would not let a reader
compare the two numbers), and only for owners that keep Iceberg tables.
"""

from __future__ import annotations

import threading
from typing import Any

from dersonlake.replication import OPERATION, POSITION


class IcebergCounts:
    """Row counts of Iceberg snapshots, remembered by (catalog URI, table, snapshot id)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def count(self, uri: str, name: str, table: Any) -> int:
        snapshot = table.current_snapshot()
        if snapshot is None:
            return 0
        key = (uri, name, snapshot.snapshot_id)
        with self._lock:
            if key in self._known:
                return self._known[key]
        n = table.scan().count()
        with self._lock:
            self._known[key] = n
        return n


def iceberg_columns(run: Any, counts: IcebergCounts) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Per lake table name (``schema.table``): ``icebergRows`` (None: no Iceberg table, e.g. no key),
    ``sourceRows`` and ``position``; and an error text when the catalog or the source cannot be
    read (the page shows it and the file columns still)."""
    from pyiceberg.exceptions import NoSuchTableError

    from dersonlake.errors import BadInput, OperationFailed
    from dersonlake.lake import open_catalog
    from dersonlake.sources import connect

    props = run.iceberg_catalog()
    out: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    try:
        plan = run.plan(run.catalog())
        tables = [(t.target_schema, t.target_table, t.source_schema, t.source_table) for t in plan.tables]
    except (BadInput, OperationFailed, OSError) as exc:
        return out, f"the source cannot be read ({exc}): no Iceberg columns"
    catalog = open_catalog(props)
    uri = props.get("uri", "")
    for schema, table, *_ in tables:
        name = f"{schema}.{table}"
        entry: dict[str, Any] = {"icebergRows": None, "sourceRows": None, "position": None}
        out[name] = entry
        try:
            ice = catalog.load_table((schema, table))
        except NoSuchTableError:
            continue  # a table without a key (docs/iceberg.md) or not loaded yet
        except Exception as exc:  # a catalog that cannot be opened: say so, keep the page
            errors.append(f"{name}: {exc}")
            continue
        entry["icebergRows"] = counts.count(uri, name, ice)
        entry["position"] = _position(ice)
    try:
        conn = connect(run.source())
        try:
            with conn.cursor() as cur:
                for schema, table, source_schema, source_table in tables:
                    cur.execute(f"SELECT COUNT(*) FROM `{source_schema}`.`{source_table}`")
                    out[f"{schema}.{table}"]["sourceRows"] = cur.fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:  # the source is down or refuses: the Iceberg side stays
        errors.append(f"source rows: {exc}")
    return out, "; ".join(errors) or None


def _position(table: Any) -> str | None:
    """The binlog position the current snapshot records (a full load records none: 'full load')."""
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return None
    props = snapshot.summary.additional_properties
    return props.get(POSITION) or props.get(OPERATION)
