"""The pyiceberg internals derson-lake leans on, pinned: when pyiceberg changes them, this fails
first and names what moved (instead of a slower or a wrong commit somewhere else).

* ``lake/iceberg/transaction.py`` caches ``Transaction.table_metadata`` keyed on ``_table`` and
  ``_updates`` (a tuple replaced, never mutated).
* ``lake/iceberg/snapshot.py`` subclasses ``_FastAppendFiles`` and overrides ``_manifests``,
  ``_existing_manifests`` and ``_summary``, reading ``_added_data_files``, ``_snapshot_id``,
  ``_compression``.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
from pyiceberg.table import Transaction
from pyiceberg.table.update.snapshot import _FastAppendFiles, _SnapshotProducer
from pyiceberg.types import LongType

from dersonlake.lake.iceberg import CurrentStateTable, TableSpec, catalog_properties, open_catalog
from dersonlake.lake.iceberg.transaction import transaction

ROOT = Path(__file__).resolve().parents[2]


def test_pyiceberg_is_the_pinned_version():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in deps if d.startswith("pyiceberg")]
    assert version("pyiceberg") == pin.split("==")[1], "pyiceberg moved: re-check the internals below"


def test_the_transaction_internals_the_metadata_cache_reads_are_there():
    assert isinstance(inspect.getattr_static(Transaction, "table_metadata"), property)
    source = inspect.getsource(Transaction)
    assert "self._updates += updates" in source, "staging no longer replaces the _updates tuple"
    assert "update_table_metadata(self._table.metadata, self._updates)" in source


def test_the_snapshot_producer_internals_our_producers_override_are_there():
    for name in (
        "_manifests",
        "_existing_manifests",
        "_summary",
        "new_manifest_output",
        "new_manifest_writer",
    ):
        assert hasattr(_FastAppendFiles, name), name
    init = inspect.getsource(_SnapshotProducer.__init__)
    for attribute in ("self._added_data_files", "self._snapshot_id", "self._compression"):
        assert attribute in init, attribute


def test_the_cached_metadata_follows_staged_updates(tmp_path):
    catalog = open_catalog(catalog_properties(str(tmp_path / "lake")))
    schema = pa.schema([pa.field("id", pa.int64()), pa.field("s", pa.string())])
    t = CurrentStateTable(catalog, TableSpec("shop", "t", ("id",)), tmp_path / "index")
    t.replace(schema, [pa.table([[1], ["a"]], schema=schema)], {})
    txn = transaction(t.table())
    first = txn.table_metadata
    assert txn.table_metadata is first  # one copy while nothing is staged
    with txn.update_schema() as update:
        update.add_column("n", LongType())
    staged = txn.table_metadata
    assert staged is not first and "n" in [f.name for f in staged.schema().fields]
    # what pyiceberg itself computes; each computation stamps its own last-updated-ms (the catalog
    # stamps the committed metadata again), so that field alone may differ by a millisecond
    recomputed = Transaction.table_metadata.fget(txn)
    assert staged.model_copy(update={"last_updated_ms": 0}) == recomputed.model_copy(
        update={"last_updated_ms": 0}
    )


def test_the_fast_position_deletes_give_pyiceberg_s_own_positions():
    import random

    import pyiceberg.io.pyarrow as pyiceberg_arrow

    from dersonlake.lake.iceberg import fast_deletes

    original = fast_deletes.original()
    assert inspect.signature(original) == inspect.signature(fast_deletes.combine_positional_deletes)
    assert "_combine_positional_deletes(positional_deletes, current_index" in inspect.getsource(
        pyiceberg_arrow._task_to_record_batches
    ), "pyiceberg no longer calls the function install() replaces"
    rng = random.Random(3)
    for start, end in [(0, 1000), (4096, 8192), (10, 11)]:
        deletes = [
            pa.chunked_array([sorted(rng.sample(range(0, 9000), 300)), [start, end - 1, end]], pa.int64())
            for _ in range(2)
        ]
        got = fast_deletes.combine_positional_deletes(deletes, start, end)
        assert got.equals(original(deletes, start, end))
        assert got.type == pa.int64()
