"""The two kinds of files an Iceberg table of ours holds: data files and position-delete files.

pyiceberg writes data files but has no writer for delete files (it reads them), so both are written
here with pyarrow, as the spec lays them out (Iceberg spec v2, "Position Delete Files"): a Parquet
file of ``file_path`` (field id 2147483546) and ``pos`` (2147483545), sorted by path then position,
whose ``file_path`` bounds let readers skip it for data files it does not touch.
"""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.conversions import to_bytes
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import parquet_file_to_data_file
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.typedef import Record
from pyiceberg.types import LongType, StringType

PATH_ID = 2147483546
POS_ID = 2147483545
_DELETE_SCHEMA = pa.schema(
    [
        pa.field(
            "file_path", pa.string(), nullable=False, metadata={b"PARQUET:field_id": str(PATH_ID).encode()}
        ),
        pa.field("pos", pa.int64(), nullable=False, metadata={b"PARQUET:field_id": str(POS_ID).encode()}),
    ]
)


def _new_path(metadata: TableMetadata, kind: str) -> str:
    return f"{metadata.location.rstrip('/')}/data/{kind}-{uuid.uuid4()}.parquet"


def _array(values, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(type_)
    return pa.array(values, type_)


def _sorted_deletes(paths: pa.Array | pa.ChunkedArray, positions: pa.Array | pa.ChunkedArray) -> pa.Table:
    """The (path, position) pairs sorted as the spec asks, by path then position: through one
    int64 key per pair (the path's rank, the position), since sorting the path strings themselves
    cost most of a fold. The paths come back dictionary-encoded (written as such, not copied)."""
    encoded = pc.dictionary_encode(paths)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = (
            encoded.unify_dictionaries().combine_chunks() if encoded.num_chunks else pa.array([], pa.string())
        )
    if not len(encoded):
        return pa.table([pa.array([], pa.string()), pa.array([], pa.int64())], schema=_DELETE_SCHEMA)
    names = encoded.dictionary
    rank = np.empty(len(names), np.int64)
    rank[pc.sort_indices(names).to_numpy()] = np.arange(len(names))
    pos = positions.to_numpy() if isinstance(positions, pa.Array) else positions.combine_chunks().to_numpy()
    key = (rank[encoded.indices.to_numpy(zero_copy_only=False)] << 40) | pos
    order = np.argsort(key, kind="stable")
    sorted_paths = pa.DictionaryArray.from_arrays(pa.array(np.asarray(encoded.indices)[order]), names)
    schema = _DELETE_SCHEMA.set(0, _DELETE_SCHEMA.field(0).with_type(sorted_paths.type))
    return pa.table([sorted_paths, pa.array(pos[order], pa.int64())], schema=schema)


def write_data_file(io: FileIO, metadata: TableMetadata, rows: pa.Table) -> DataFile:
    """``rows`` (already conformed to the table schema, with field ids) as a new data file."""
    path = _new_path(metadata, "data")
    with io.new_output(path).create(overwrite=False) as out:
        pq.write_table(rows, out, compression="zstd", write_statistics=True)
    return parquet_file_to_data_file(io, metadata, path)


def write_position_deletes(io: FileIO, metadata: TableMetadata, paths, positions) -> DataFile:
    """A position-delete file deleting row ``positions[i]`` of data file ``paths[i]`` (lists,
    numpy or Arrow arrays)."""
    deletes = _sorted_deletes(_array(paths, pa.string()), _array(positions, pa.int64()))
    path = _new_path(metadata, "deletes")
    output = io.new_output(path)
    with output.create(overwrite=False) as out:
        # the paths stay dictionary-encoded (a few distinct values); the file holds the spec's plain
        # string column (no Arrow schema stored: every reader, pyarrow too, reads ``string``)
        pq.write_table(deletes, out, compression="zstd", store_schema=False)
    first, last = deletes["file_path"][0].as_py(), deletes["file_path"][-1].as_py()
    bounds = pc.min_max(deletes["pos"])
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=Record(),
        record_count=deletes.num_rows,
        file_size_in_bytes=len(io.new_input(path)),
        column_sizes=None,
        value_counts={PATH_ID: deletes.num_rows, POS_ID: deletes.num_rows},
        null_value_counts={PATH_ID: 0, POS_ID: 0},
        nan_value_counts=None,
        lower_bounds={PATH_ID: to_bytes(StringType(), first), POS_ID: to_bytes(LongType(), low)},
        upper_bounds={PATH_ID: to_bytes(StringType(), last), POS_ID: to_bytes(LongType(), high)},
        key_metadata=None,
        split_offsets=None,
        equality_ids=None,
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
    )
