"""A pyiceberg ``Transaction`` that computes its pending metadata once, not at every access.

pyiceberg 0.12's ``Transaction.table_metadata`` applies the staged updates to the table's metadata
and returns a *deep copy* of the result at every access; one commit of ours reads it about twenty
times (its snapshot producer asks for the schema, the spec, the properties, the refs, the
snapshot ids one access each), and the copy grows with the metadata (every kept snapshot and its
summary): measured at ~22 ms of a ~80 ms batch with a handful of snapshots, the largest fixed cost
of a commit after the key index. The metadata models are frozen (pydantic ``frozen=True``) and
every change pyiceberg makes builds new ones (``model_copy(update=...)``), so one copy per
(base metadata, staged updates) serves every reader alike.

This leans on two private attributes, ``_table`` and ``_updates`` (a tuple replaced, never
mutated, at each ``_stage``); pyiceberg is pinned (pyproject.toml) and
``tests/lake/test_iceberg_internals.py`` fails loudly when either changes shape.
"""

from __future__ import annotations

from pyiceberg.table import Table, Transaction
from pyiceberg.table.metadata import TableMetadata


class CachedTransaction(Transaction):
    """``Transaction`` whose ``table_metadata`` is recomputed only when the base or the staged
    updates change (by identity)."""

    _cached: tuple[object, object, TableMetadata] | None = None

    @property
    def table_metadata(self) -> TableMetadata:
        base, updates = self._table.metadata, self._updates
        cached = self._cached
        if cached is not None and cached[0] is base and cached[1] is updates:
            return cached[2]
        metadata = super().table_metadata
        self._cached = (base, updates, metadata)
        return metadata


def transaction(table: Table) -> Transaction:
    """A new transaction on ``table`` (what ``table.transaction()`` returns, with the cache)."""
    return CachedTransaction(table)
