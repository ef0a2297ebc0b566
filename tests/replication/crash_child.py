"""``derson-lake`` in a child process that SIGKILLs itself right after its N-th CDC file commit.

Random kills rarely land in the few milliseconds between a CDC file's commit and the checkpoint
that covers it, yet that is the instant crash safety is about. The kill is real (SIGKILL, no
cleanup); only its timing is steered, by wrapping the storage's commit in this test-only launcher
(``DERSON_CRASH_AFTER_CDC_FILES=N python tests/replication/crash_child.py load ...``).
"""

from __future__ import annotations

import os
import runpy
import signal
import sys

from dersonlake.lake import layout, storage


def main() -> None:
    after = int(os.environ["DERSON_CRASH_AFTER_CDC_FILES"])
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
    sys.argv = ["derson-lake", *sys.argv[1:]]
    runpy.run_module("dersonlake", run_name="__main__")


if __name__ == "__main__":
    main()
