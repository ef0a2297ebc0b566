"""Position deletes applied at the speed of the rows, for pyiceberg reads in this process.

pyiceberg 0.12 applies a data file's position deletes by building every row position of each
record batch as a Python ``range`` turned into an Arrow array (``_combine_positional_deletes``),
then ``is_in`` against the deleted positions: ~0.15 s per million rows of any file that has even
one delete, more than reading the file itself (0.12 s): a table whose big files carry a few
deletes reads 2.5x slower than after compaction, whatever the share deleted (measured in
docs/iceberg.md, "Cost"; upstream: apache/iceberg-python#1271, open, "optimize
``_combine_positional_deletes``", a regression of removing numpy from pyiceberg).

``install()`` replaces that one function, for pyiceberg readers in this process, by a boolean mask
over the batch's positions (numpy): the same result (the kept positions, relative to the batch's
start, as int64), at memory speed. Readers in other processes (Spark, Trino, DuckDB, Athena, plain
pyiceberg) are not affected; the table is the same for all of them. pyiceberg is pinned
(pyproject.toml) and ``tests/lake/test_iceberg_internals.py`` checks the replaced function's
signature and that both give the same positions.
"""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pyiceberg.io.pyarrow as pyiceberg_arrow

_original = pyiceberg_arrow._combine_positional_deletes
_lock = threading.Lock()


def combine_positional_deletes(
    positional_deletes: list[pa.ChunkedArray], start_index: int, end_index: int
) -> pa.Array:
    """The positions in ``[start_index, end_index)`` not in ``positional_deletes``, minus
    ``start_index`` (pyiceberg's ``_combine_positional_deletes``, vectorized)."""
    keep = np.ones(end_index - start_index, dtype=bool)
    for deletes in positional_deletes:
        for chunk in deletes.chunks:
            positions = chunk.to_numpy(zero_copy_only=False)
            inside = positions[(positions >= start_index) & (positions < end_index)]
            keep[inside - start_index] = False
    return pa.array(np.flatnonzero(keep).astype(np.int64), pa.int64())


def install() -> None:
    """Use ``combine_positional_deletes`` for pyiceberg reads in this process (idempotent)."""
    with _lock:
        pyiceberg_arrow._combine_positional_deletes = combine_positional_deletes


def original():
    """pyiceberg's own function (the tests compare the two)."""
    return _original
