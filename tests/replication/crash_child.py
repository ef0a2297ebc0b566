"""``derson-lake`` in a child process that SIGKILLs itself right after its N-th CDC file commit.

Random kills rarely land in the few milliseconds between a CDC file's commit and the checkpoint
that covers it, yet that is the instant crash safety is about. The kill is real (SIGKILL, no
cleanup); only its timing is steered, by wrapping the storage's commit in this test-only launcher
(``DERSON_CRASH_AFTER_CDC_FILES=N python tests/replication/crash_child.py load ...``).

``DERSON_CRASH_AFTER_ICEBERG_BATCHES=N`` instead kills it right after the N-th CDC batch reached the
Iceberg tables (``iceberg_sync.batch_committed`` returned), before the checkpoint covering it: the
instant a batch could be applied twice.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys

from dersonlake.lake import layout, storage
from dersonlake.replication import iceberg_sync


def main() -> None:
    if "DERSON_CRASH_AFTER_ICEBERG_BATCHES" in os.environ:
        _die_after_iceberg_batches(int(os.environ["DERSON_CRASH_AFTER_ICEBERG_BATCHES"]))
    else:
        _die_after_cdc_files(int(os.environ["DERSON_CRASH_AFTER_CDC_FILES"]))
    sys.argv = ["derson-lake", *sys.argv[1:]]
    runpy.run_module("dersonlake", run_name="__main__")


def _die_after_iceberg_batches(after: int) -> None:
    batch_committed = iceberg_sync.batch_committed
    seen = 0

    def commit_then_die(storage_, s3, tables, keys, position) -> None:
        nonlocal seen
        batch_committed(storage_, s3, tables, keys, position)
        if keys:  # a batch with files (a checkpoint without changes reaches no table)
            seen += 1
            if seen >= after:
                os.kill(os.getpid(), signal.SIGKILL)

    iceberg_sync.batch_committed = commit_then_die  # type: ignore[assignment]


def _die_after_cdc_files(after: int) -> None:
    commit = storage.LocalStorage.commit
    seen = 0

    def commit_then_die(self: storage.LocalStorage, staged, key: str) -> None:
        nonlocal seen
        commit(self, staged, key)
        if layout.CDC_NAME.match(key.rsplit("/", 1)[-1]):
            seen += 1
            if seen >= after:
                os.kill(os.getpid(), signal.SIGKILL)

    storage.LocalStorage.commit = commit_then_die  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
