"""Where each live row of a table is: primary key -> (data file, row position), as one sorted key
array per data file (numpy, memory-mapped) and a log of the positions deleted since.

Position deletes need the file and position of the row a change replaces. Reading the key columns
of every data file would cost the table's size on every batch; a B-tree of every key (the SQLite
index this replaces) costs the table's size too, in another way: at 10M rows its random lookups,
deletes and inserts touched pages all over a table-sized tree, ~300 ms per 10,000 keys. Here a
batch costs a binary search per changed key in each data file's sorted keys (the files' arrays are
written once, when the file is added, and only read after), plus writing the batch's own new keys
and deleted positions: it grows with the batch, not with the table.

The index is a cache of one snapshot (``snapshot_id``): ``index.json`` names the snapshot it
describes and is replaced (write, then rename) only after the Iceberg commit it describes, every
other file it names being written before it under a new name. When it is missing, unreadable, of
another version or describes another snapshot (a crash between the two commits, a table written
by someone else) the caller rebuilds it from the table, so it can never be the reason for a wrong
table, only for a slower batch.

Keys: a single integer column is its own code (int64, exact). Any other key (several columns,
text, decimals, dates, unsigned BIGINT) is the ``repr`` of its Python values, which is the same for
the same Arrow values whichever file they come from; its code is a 64-bit hash of that text, and
the text itself, stored beside the codes, settles every hash match (a collision costs a compare,
never a wrong row).

The folder (``<namespace>.<table>.keys/``):

    index.json      version, snapshot, generation, the files (path, id, rows), the delete log
    <id>.k.npy      the file's key codes, sorted
    <id>.p.npy      the row position in the data file of each sorted code
    <id>.r.arrow    the keys' text in the same order (keys that are not one integer column)
    d-<uuid>.npy    positions deleted by one commit: (file id, position) pairs
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger("dersonlake.ICEBERG")

VERSION = 2  # 1 was an SQLite file (<namespace>.<table>.keys.sqlite), removed when met
DOC = "index.json"
LOG_SEGMENTS = 32  # delete-log files before they are merged into one

_INTS = (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32())


@dataclass(frozen=True)
class Keys:
    """The keys of some rows, in row order: ``codes`` (int64) and, for keys that are not one
    integer column, their text (``reprs``), which the codes hash."""

    codes: np.ndarray
    reprs: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def filter(self, mask: np.ndarray) -> Keys:
        reprs = None if self.reprs is None else self.reprs.filter(pa.array(mask))
        return Keys(self.codes[mask], reprs)


def row_keys(rows: pa.Table, key: Sequence[str]) -> Keys:
    """The ``Keys`` of ``rows`` for its ``key`` columns (see the module doc)."""
    if len(key) == 1 and rows.schema.field(key[0]).type in _INTS:
        column = rows.column(key[0]).cast(pa.int64())
        return Keys(column.to_numpy().astype(np.int64, copy=False))
    columns = [rows.column(k).to_pylist() for k in key]
    texts = [repr(t) for t in zip(*columns, strict=True)]
    codes = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little", signed=True)
            for t in texts
        ),
        dtype=np.int64,
        count=len(texts),
    )
    return Keys(codes, pa.array(texts, pa.string()))


def _hash(text: bytes):
    return hashlib.blake2b(text, digest_size=8)


@dataclass
class _File:
    """One data file's sorted keys (memory-mapped) and which of its positions are deleted."""

    id: int
    path: str
    rows: int
    codes: np.ndarray
    positions: np.ndarray
    reprs: pa.Array | None
    deleted: np.ndarray  # bool per position, in memory (rebuilt from the delete log on load)


@dataclass(frozen=True)
class Located:
    """Rows found live for some keys: their data files' ids and paths, and positions."""

    file_ids: np.ndarray
    positions: np.ndarray
    paths: list[str]

    def __len__(self) -> int:
        return len(self.positions)


_OPEN: dict[Path, KeyIndex] = {}
_OPEN_LOCK = threading.Lock()


class KeyIndex:
    """The key index of one Iceberg table (a folder of its own, see the module doc).

    ``KeyIndex.open(folder)`` keeps the loaded index in the process between batches and reloads it
    only when ``index.json`` was rewritten by another process."""

    @classmethod
    def open(cls, folder: Path) -> KeyIndex:
        with _OPEN_LOCK:
            index = _OPEN.get(folder)
            if index is None:
                index = _OPEN[folder] = cls(folder)
        index._sync()
        return index

    @classmethod
    def forget(cls, folder: Path) -> None:
        """Delete the index (its table was dropped or created anew)."""
        with _OPEN_LOCK:
            index = _OPEN.pop(folder, None)
        if index is not None:
            index._reset()
        shutil.rmtree(folder, ignore_errors=True)
        _remove_version_1(folder)

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._reset()
        _remove_version_1(folder)

    def _reset(self) -> None:
        self.snapshot_id: int | None = None
        self._generation: str | None = None
        self._files: dict[int, _File] = {}
        self._log: list[str] = []
        self._next_id = 1

    # -- loading --------------------------------------------------------------------------------

    def _sync(self) -> None:
        """Match the folder: reload when another process rewrote it, forget it when unreadable."""
        try:
            doc = json.loads((self.folder / DOC).read_text())
            if doc.get("version") != VERSION:
                raise ValueError(f"version {doc.get('version')}")
        except (OSError, ValueError) as e:
            if self._generation is not None or not isinstance(e, FileNotFoundError):
                log.info("%s: key index unusable (%s): it will be rebuilt", self.folder.name, e)
            self._reset()
            return
        if doc["generation"] == self._generation:
            return
        try:
            self._load(doc)
        except (OSError, ValueError, KeyError, pa.ArrowException) as e:
            log.info("%s: key index unreadable (%s): it will be rebuilt", self.folder.name, e)
            self._reset()

    def _load(self, doc: dict) -> None:
        self._reset()
        files = {}
        for entry in doc["files"]:
            f = self._open_file(entry["id"], entry["path"], entry["rows"], entry["keyed"])
            files[f.id] = f
        for name in doc["log"]:
            pairs = np.load(self.folder / name)
            for fid in np.unique(pairs[:, 0]):
                if int(fid) in files:
                    files[int(fid)].deleted[pairs[pairs[:, 0] == fid, 1]] = True
        self._files = files
        self._log = list(doc["log"])
        self._next_id = doc["next_id"]
        self.snapshot_id = doc["snapshot"]
        self._generation = doc["generation"]

    def _open_file(self, fid: int, path: str, rows: int, keyed: bool) -> _File:
        codes = np.load(self.folder / f"{fid}.k.npy", mmap_mode="r")
        positions = np.load(self.folder / f"{fid}.p.npy", mmap_mode="r")
        if len(codes) != rows or len(positions) != rows:
            raise ValueError(f"{fid}: {len(codes)} codes for {rows} rows")
        reprs = None
        if keyed:
            with pa.memory_map(str(self.folder / f"{fid}.r.arrow")) as source:
                reprs = pa.ipc.open_file(source).read_all().column(0).combine_chunks()
        return _File(fid, path, rows, codes, positions, reprs, np.zeros(rows, dtype=bool))

    # -- lookups --------------------------------------------------------------------------------

    def locate(self, keys: Keys) -> Located:
        """The live row (data file, position) of each of ``keys`` that has one."""
        ids, positions, paths = [], [], []
        for f in self._files.values():
            found = _search(f, keys)
            found = found[~f.deleted[found]]
            if len(found):
                ids.append(np.full(len(found), f.id, dtype=np.int64))
                positions.append(found)
                paths.extend([f.path] * len(found))
        if not positions:
            return Located(np.zeros(0, np.int64), np.zeros(0, np.int64), [])
        return Located(np.concatenate(ids), np.concatenate(positions), paths)

    def paths(self) -> list[str]:
        return [f.path for f in self._files.values()]

    # -- writing --------------------------------------------------------------------------------

    def stage(self, path: str, keys: Keys, deleted: np.ndarray | None = None) -> _File:
        """Write the sorted keys of data file ``path`` (not yet part of the index: ``commit`` adds
        it); ``deleted``: positions already deleted in it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fid = self._next_id
        self._next_id += 1
        order = np.argsort(keys.codes, kind="stable")
        np.save(self.folder / f"{fid}.k.npy", keys.codes[order])
        np.save(self.folder / f"{fid}.p.npy", order.astype(np.int32))
        if keys.reprs is not None:
            sorted_reprs = keys.reprs.take(pa.array(order))
            target = str(self.folder / f"{fid}.r.arrow")
            schema = pa.schema([("r", pa.string())])
            with pa.OSFile(target, "wb") as sink, pa.ipc.new_file(sink, schema) as out:
                out.write_table(pa.table([sorted_reprs], names=["r"]))
        f = self._open_file(fid, path, len(keys), keys.reprs is not None)
        if deleted is not None and len(deleted):
            f.deleted[deleted] = True
        return f

    def commit(
        self,
        snapshot_id: int | None,
        *,
        deleted: Located | None = None,
        added: Iterable[_File] = (),
        dropped: Iterable[str] = (),
        fresh: bool = False,
    ) -> None:
        """Record what the Iceberg commit of ``snapshot_id`` did: rows ``deleted``, data files
        ``added`` (staged) and ``dropped``; ``fresh``: the added files are the whole table. Any
        failure leaves the index to be rebuilt, never half-updated."""
        try:
            self._commit(snapshot_id, deleted, list(added), set(dropped), fresh)
        except BaseException:
            with contextlib.suppress(OSError):
                (self.folder / DOC).unlink()
            self._reset()
            raise

    def _commit(
        self,
        snapshot_id: int | None,
        deleted: Located | None,
        added: list[_File],
        dropped: set[str],
        fresh: bool,
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        files = {} if fresh else {i: f for i, f in self._files.items() if f.path not in dropped}
        files.update((f.id, f) for f in added)
        log_names = [] if fresh else list(self._log)
        if deleted is not None and len(deleted):
            for fid, pos in zip(*_by_file(deleted), strict=True):
                if fid in files:
                    files[fid].deleted[pos] = True
            log_names.append(self._write_log(np.stack([deleted.file_ids, deleted.positions], axis=1)))
        if len(log_names) > LOG_SEGMENTS:
            log_names = [self._write_log(_all_deleted(files))]
        generation = uuid.uuid4().hex
        doc = {
            "version": VERSION,
            "snapshot": snapshot_id,
            "generation": generation,
            "next_id": self._next_id,
            "files": [
                {"id": f.id, "path": f.path, "rows": f.rows, "keyed": f.reprs is not None}
                for f in files.values()
            ],
            "log": log_names,
        }
        tmp = self.folder / f"{DOC}.{generation}.tmp"
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.folder / DOC)
        self._files, self._log, self.snapshot_id, self._generation = files, log_names, snapshot_id, generation
        self._sweep()

    def _write_log(self, pairs: np.ndarray) -> str:
        name = f"d-{uuid.uuid4().hex}.npy"
        np.save(self.folder / name, pairs.astype(np.int64))
        return name

    def _sweep(self) -> None:
        """Delete the files the index no longer names (dropped data files, merged logs, staged
        files of a batch that failed)."""
        keep = {DOC, *self._log}
        for f in self._files.values():
            keep.update({f"{f.id}.k.npy", f"{f.id}.p.npy", f"{f.id}.r.arrow"})
        for entry in os.scandir(self.folder):
            if entry.name not in keep and not entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _search(f: _File, keys: Keys) -> np.ndarray:
    """The positions in ``f`` of rows whose key is one of ``keys`` (deleted ones included)."""
    if f.rows == 0 or not len(keys):
        return np.zeros(0, np.int64)
    if keys.reprs is None:  # integer keys: unique codes, one candidate each
        at = np.searchsorted(f.codes, keys.codes, "left")
        inside = at < f.rows
        at = at[inside]
        at = at[f.codes[at] == keys.codes[inside]]
        return np.asarray(f.positions[at], dtype=np.int64)
    left = np.searchsorted(f.codes, keys.codes, "left")
    count = np.searchsorted(f.codes, keys.codes, "right") - left
    which = np.repeat(np.arange(len(keys)), count)  # every (key, candidate) pair of equal hashes
    if not len(which):
        return np.zeros(0, np.int64)
    offset = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    at = np.repeat(left, count) + offset
    same = pc.equal(f.reprs.take(pa.array(at)), keys.reprs.take(pa.array(which)))
    at = at[same.to_numpy(zero_copy_only=False)]
    return np.asarray(f.positions[at], dtype=np.int64)


def _by_file(located: Located) -> tuple[list[int], list[np.ndarray]]:
    ids = np.unique(located.file_ids)
    return [int(i) for i in ids], [located.positions[located.file_ids == i] for i in ids]


def _all_deleted(files: dict[int, _File]) -> np.ndarray:
    parts = [
        np.stack([np.full(n, f.id), np.nonzero(f.deleted)[0]], axis=1)
        for f in files.values()
        if (n := int(f.deleted.sum()))
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


def _remove_version_1(folder: Path) -> None:
    """The SQLite index of derson-lake before the sorted arrays: a cache, deleted when met."""
    base = folder.with_name(folder.name.removesuffix(".keys") + ".keys.sqlite")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)
