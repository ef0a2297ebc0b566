"""A full load from a server without a binlog (a full-load-only source) still works: its chunks are
read without snapshot positions, so a later CDC handoff drops no change (DMS's behaviour)."""

from __future__ import annotations

from dersonlake.sources.mysql.catalog import discover_catalog
from dersonlake.sources.mysql.snapshot import SnapshotQuery, read_batches


def test_chunks_read_without_a_binlog_carry_no_snapshot_position(sandbox_factory):
    box = sandbox_factory("nobinlog", server_args=["--skip-log-bin"])
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE nb")
        cur.execute("CREATE TABLE nb.t (id INT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO nb.t VALUES (1, 1), (2, 2), (3, 3)")
    params = box.params(["nb"])  # over TCP: the replication user (root is reachable by socket only)
    table = discover_catalog(params, ["nb"]).table("nb", "t")
    query = SnapshotQuery(table=table, columns=list(table.columns), key=("id",), mark_snapshot=True)
    marks = []
    rows = [
        r for b in read_batches(params, query, chunk_rows=2, on_snapshot=marks.append) for r in b.to_pylist()
    ]
    assert rows == [{"id": 1, "v": 1}, {"id": 2, "v": 2}, {"id": 3, "v": 3}]
    assert marks == []
