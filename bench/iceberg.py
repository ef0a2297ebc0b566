"""Iceberg benchmark: what keeping a current-state Iceberg table costs next to the DMS CDC files.

For each table size in ``--sizes`` (default 1M and 10M rows of a 6-column table: int key, text,
DECIMAL(12,2), BIGINT UNSIGNED, TIMESTAMP, INT) the table is written once as a full load, then
``--batches`` batches of ``--changes`` mixed changes (1/4 inserts of new keys, 1/2 updates, 1/4
deletes of random existing keys, each batch its own keys) are timed, per batch:

  cdc-files   the batch written as DMS CDC files: CdcTableWriter.add + flush (Parquet, local disk)
  iceberg     the same batch applied to the Iceberg table as derson-lake does it: the CDC file
              read back, last image per key, one data file + one position-delete file, one commit
              (median over the batches; the target is <= 2x cdc-files; the mean, p90 and max
              show what the folds add, amortized)

then reads of the whole current state (pyiceberg ``scan().to_arrow()``):

  read-100    after the batches (the base files, the batch files since the last fold, the
              delete files), median of three reads
  read-plain  read-100 with pyiceberg's own position-delete code (``lake/iceberg/fast_deletes.py``
              replaces it in derson-lake's process; other pyiceberg readers have this one)
  read-comp   right after ``compact`` (target: read-100 <= 2x read-comp), median of three
  compact     the compaction itself

and, for the smallest size only, pyiceberg's own ``upsert`` of one batch (copy-on-write: every
data file holding a changed key is rewritten) as the reference this design replaces.

  python bench/iceberg.py [--sizes 1000000,10000000] [--changes 10000] [--batches 100] [--fold-at N]
                          [--rewrite-share S] [--json FILE]

Data is generated with pyarrow (no source database: the apply is what is measured) into a
temporary folder, removed at the end. Timings are never tests; the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pyarrow as pa  # noqa: E402

from dersonlake.config.s3_settings import normalize_s3_settings  # noqa: E402
from dersonlake.lake.cdc_writer import CdcTableWriter  # noqa: E402
from dersonlake.lake.iceberg import UTC_TIMESTAMP, CurrentStateTable, TableSpec  # noqa: E402
from dersonlake.lake.iceberg.catalog import catalog_properties, open_catalog  # noqa: E402
from dersonlake.lake.reader import read_object  # noqa: E402
from dersonlake.lake.storage import LocalStorage  # noqa: E402

LAKE = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("name", pa.string()),
        pa.field("qty", pa.decimal128(12, 2)),
        pa.field("big", pa.uint64()),
        pa.field("at", pa.timestamp("us")),
        pa.field("n", pa.int32()),
    ]
)
CHUNK = 1_000_000


def rows(ids: list[int], tag: int) -> pa.Table:
    base = datetime(2026, 1, 1)
    return pa.table(
        [
            pa.array(ids, pa.int64()),
            pa.array([f"name-{i}-{tag}" for i in ids]),
            pa.array([Decimal(i % 100000) / 100 for i in ids], pa.decimal128(12, 2)),
            pa.array([(i * 2654435761) % 2**64 for i in ids], pa.uint64()),
            pa.array([base] * len(ids), pa.timestamp("us")),
            pa.array([tag] * len(ids), pa.int32()),
        ],
        schema=LAKE,
    )


def batch(
    rng: random.Random, live: set[int], next_id: list[int], n: int, tag: int
) -> tuple[pa.Table, list[str]]:
    """``n`` mixed changes on distinct keys: inserts of new keys, updates and deletes of live ones."""
    inserts = n // 4
    touched = rng.sample(
        sorted(live) if len(live) < 50_000 else list(_sample_live(rng, live, n)), n - inserts
    )
    new = list(range(next_id[0], next_id[0] + inserts))
    next_id[0] += inserts
    updates, deletes = touched[: (n - inserts) * 2 // 3], touched[(n - inserts) * 2 // 3 :]
    ids = new + updates + deletes
    ops = ["I"] * len(new) + ["U"] * len(updates) + ["D"] * len(deletes)
    live.update(new)
    live.difference_update(deletes)
    return rows(ids, tag), ops


def _sample_live(rng: random.Random, live: set[int], n: int):
    """Distinct live keys, drawn by rejection (the live set is nearly the whole id range)."""
    top = max(live)
    out: set[int] = set()
    while len(out) < n:
        k = rng.randrange(top + 1)
        if k in live:
            out.add(k)
    return out


def read_median(table: CurrentStateTable, plain: bool = False) -> tuple[float, pa.Table]:
    """The median of three reads of the whole current state (the machine may be shared);
    ``plain``: with pyiceberg's own position-delete code, as a reader in another process has it."""
    import pyiceberg.io.pyarrow as pyiceberg_arrow

    from dersonlake.lake.iceberg import fast_deletes

    if plain:
        pyiceberg_arrow._combine_positional_deletes = fast_deletes.original()
    try:
        runs = [timed(table.read) for _ in range(3)]
    finally:
        fast_deletes.install()
    return statistics.median(t for t, _ in runs), runs[-1][1]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_size(size: int, changes: int, batches: int, work: Path, upsert: bool) -> dict:
    lake = work / f"lake-{size}"
    storage = LocalStorage(lake)
    s3 = normalize_s3_settings({"DataFormat": "parquet"}, file="bench", path="s3")
    catalog = open_catalog(catalog_properties(str(lake)))
    spec = TableSpec("bench", f"t{size}", ("id",), {"at": UTC_TIMESTAMP})
    table = CurrentStateTable(catalog, spec, lake / "_derson-lake/iceberg/index")
    load, _ = timed(
        lambda: table.replace(
            LAKE, (rows(list(range(s, min(s + CHUNK, size))), 0) for s in range(0, size, CHUNK)), {}
        )
    )
    print(f"{size:>11,} rows: full load into Iceberg {load:.1f} s", flush=True)
    writer = CdcTableWriter(storage, s3, "bench", f"t{size}", LAKE)
    rng = random.Random(size)
    live, next_id = set(range(size)), [size]
    cdc_times, ice_times = [], []
    now = datetime.now(UTC)
    for b in range(batches):
        data, ops = batch(rng, live, next_id, changes, b + 1)
        start = time.perf_counter()
        writer.add(data.combine_chunks().to_batches()[0], ops, [now] * len(ops))
        key = writer.flush()[-1].key
        t_cdc = time.perf_counter() - start

        start = time.perf_counter()
        part = read_object(storage, key, s3)
        part = part.drop_columns([c for c in part.schema.names if c == s3.TimestampColumnName])
        table.apply(part, {"dersonlake.op": "cdc", "dersonlake.binlog-position": f"bench.000001:{b}"})
        t_ice = time.perf_counter() - start
        cdc_times.append(t_cdc)
        ice_times.append(t_ice)
        if b in (0, batches - 1):
            print(
                f"   batch {b + 1:>3}: cdc-files {t_cdc * 1000:7.1f} ms   iceberg {t_ice * 1000:7.1f} ms",
                flush=True,
            )
    read_100, state = read_median(table)
    assert state.num_rows == len(live), (state.num_rows, len(live))
    read_plain, _ = read_median(table, plain=True)
    compact, _ = timed(lambda: table.compact())
    read_comp, state2 = read_median(table)
    assert state2.num_rows == len(live)
    result = {
        "rows": size,
        "changes_per_batch": changes,
        "batches": batches,
        "full_load_s": round(load, 2),
        "cdc_files_ms_median": round(statistics.median(cdc_times) * 1000, 1),
        "iceberg_ms_median": round(statistics.median(ice_times) * 1000, 1),
        "iceberg_ms_p90": round(sorted(ice_times)[int(len(ice_times) * 0.9)] * 1000, 1),
        "iceberg_ms_mean": round(statistics.mean(ice_times) * 1000, 1),
        "iceberg_ms_max": round(max(ice_times) * 1000, 1),
        "cdc_files_ms_mean": round(statistics.mean(cdc_times) * 1000, 1),
        "apply_ratio": round(statistics.median(ice_times) / statistics.median(cdc_times), 2),
        "read_after_batches_s": round(read_100, 2),
        "read_after_batches_plain_pyiceberg_s": round(read_plain, 2),
        "compact_s": round(compact, 2),
        "read_after_compaction_s": round(read_comp, 2),
        "read_ratio": round(read_100 / read_comp, 2),
    }
    if upsert:
        result["pyiceberg_upsert_s"] = round(pyiceberg_upsert(catalog, spec, rng, live, next_id, changes), 2)
    print(
        f"   median: cdc-files {result['cdc_files_ms_median']} ms, iceberg {result['iceberg_ms_median']} ms "
        f"(x{result['apply_ratio']}); read after {batches} batches {read_100:.2f} s, after compaction "
        f"{read_comp:.2f} s (x{result['read_ratio']}); compaction {compact:.1f} s",
        flush=True,
    )
    return result


def pyiceberg_upsert(catalog, spec: TableSpec, rng, live, next_id, changes: int) -> float:
    """pyiceberg's own upsert of one batch's inserts and updates (it has no delete-by-key in upsert)."""
    from dersonlake.lake.iceberg.types import conform

    table = catalog.load_table(spec.identifier)
    data, ops = batch(rng, live, next_id, changes, 999)
    keep = pa.array([o != "D" for o in ops])
    arrow = conform(data.filter(keep), table.schema(), spec.hints)
    took, _ = timed(lambda: table.upsert(arrow, join_cols=["id"]))
    print(f"   pyiceberg upsert of {arrow.num_rows:,} rows (copy-on-write): {took:.1f} s", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--fold-at", type=int, help="delete files that trigger a fold (default: as shipped)")
    parser.add_argument(
        "--rewrite-share", type=float, help="deleted share making a fold rewrite a file (default: as shipped)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.fold_at is not None:
        from dersonlake.lake.iceberg import table as iceberg_table

        iceberg_table.FOLD_AT = args.fold_at
    if args.rewrite_share is not None:
        from dersonlake.lake.iceberg import table as iceberg_table

        iceberg_table.REWRITE_SHARE = args.rewrite_share
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-iceberg-"))
    try:
        results = [run_size(s, args.changes, args.batches, work, upsert=s == min(sizes)) for s in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {"machine": platform.platform(), "python": platform.python_version(), "results": results}
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2))
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
